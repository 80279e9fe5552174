"""The random-seed sweep (`tools/sweep.py`) fails when any test fails, not only a claim test.

Its per-claim numbers come from the claim report, which records claim tests only; a failure of
any other test (`tests/api`, `tests/meta`) is read from pytest's own summary in the run's log.
Before, a sweep of `tests/api` with a failing test printed "failures by test: none" and exited 0.
These tests run the sweep's logic on fake runs (no pytest subprocess).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import sweep  # noqa: E402

LOG = """\
........F..E.....                                                       [100%]
=========================== short test summary info ============================
FAILED tests/api/test_contract.py::test_x[numpy] - AssertionError: 1 != 2
ERROR tests/api/test_contract.py::test_y - ValueError: bad fixture
1 failed, 15 passed, 174 skipped, 1 error in 3.21s
"""


def test_log_outcomes_reads_pytests_counts_and_failed_lines() -> None:
    counts, failed = sweep.log_outcomes(LOG)
    assert counts == {"passed": 15, "failed": 1, "error": 1}
    assert failed == [
        {"test": "tests/api/test_contract.py::test_x[numpy]", "message": "AssertionError: 1 != 2"},
        {"test": "tests/api/test_contract.py::test_y", "message": "ValueError: bad fixture"},
    ]
    assert sweep.log_outcomes("12288 passed, 174 deselected in 30.11s\n") == (
        {"passed": 12288, "failed": 0, "error": 0},
        [],
    )


def _run(seed: int, rc: int, log: str) -> dict[str, Any]:
    tests, failed = sweep.log_outcomes(log)
    return {"seed": seed, "returncode": rc, "wall_s": 1.0, "claims": {}, "tests": tests,
            "failed_tests": failed}  # fmt: skip


def _sweep(
    runs: dict[int, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> tuple[int, str]:
    """The sweep's exit status and output over these fake runs (seed: run), writing its summary
    under `tmp_path`, not the repository's `build/`."""
    monkeypatch.setattr(sweep, "run_one", lambda seed, args: runs[seed])
    monkeypatch.setattr(sweep, "ROOT", tmp_path)
    monkeypatch.setattr(sweep, "OUT", tmp_path / "build" / "sweep")
    (tmp_path / "build").mkdir()
    status = sweep.main(["--seeds", ",".join(map(str, runs)), "tests/api"])
    return status, capsys.readouterr().out


Fixtures = tuple[pytest.MonkeyPatch, pytest.CaptureFixture[str], Path]


@pytest.fixture
def fixtures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Fixtures:
    return monkeypatch, capsys, tmp_path


def test_a_failing_test_without_a_claim_fails_the_sweep(fixtures: Fixtures) -> None:
    status, out = _sweep({1: _run(1, 1, LOG), 2: _run(2, 0, "16 passed in 1.00s\n")}, *fixtures)
    assert status == 1
    assert "seed 1: tests 15 passed, 2 failed" in out
    assert "tests/api/test_contract.py::test_x[numpy]  " in out  # in the table of failures
    assert "--hypothesis-seed=1" in out  # and its replay command
    assert "failures by test: none" not in out


def test_a_run_that_exits_1_with_no_failure_found_is_a_crash(fixtures: Fixtures) -> None:
    status, out = _sweep({3: _run(3, 1, "garbled\n")}, *fixtures)
    assert status == 1
    assert "runs that did not finish normally (see their logs): [3]" in out


def test_a_clean_sweep_passes(fixtures: Fixtures) -> None:
    status, out = _sweep(
        {4: _run(4, 0, "16 passed in 1.0s\n"), 5: _run(5, 0, "16 passed in 1.0s\n")}, *fixtures
    )
    assert status == 0
    assert "failures by test: none" in out
