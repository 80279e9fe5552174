"""Benchmarks: dlcore against reference implementations (`nox -s bench`).

Each `benchmarks/bench_<topic>.py` defines `cases(quick: bool) -> list[Case]`. `python -m
benchmarks.run` times every case, prints a table and writes `build/benchmarks.json`, which the
documentation page `benchmarks.md` renders. Performance is measured here, never in tests.
"""
