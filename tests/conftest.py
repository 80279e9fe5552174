"""Hypothesis profiles, markers and the claim report plugin.

Profiles (pick one with `HYPOTHESIS_PROFILE`; `CI` set selects `ci`):

- `dev`: quick local runs, random seeds, example database on.
- `ci`: Hypothesis's built-in CI profile (derandomized, no database, statistics blob printed)
  plus `deadline=None`; the budget `nox -s tests` is held to.
- `thorough`: every backend at the full, larger example count; for nightly or pre-release runs.

torch runs in most tests, so no profile has a deadline. `DLCORE_HYPOTHESIS_DB=none` turns the
example database off in any profile (the sweep sets it, so that every run searches afresh).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.support.report"]

settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile(
    "ci",
    settings.get_profile("ci"),
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
if os.environ.get("DLCORE_HYPOTHESIS_DB") == "none":
    settings.register_profile(_PROFILE, settings.get_profile(_PROFILE), database=None)
settings.load_profile(_PROFILE)


def pytest_configure(config) -> None:
    for line in (
        "claim(id, breaks=None): the test checks spec claim `id` (or its breaking case)",
        "cuda: runs on a CUDA device; skipped where none is present",
        "statistical: a statistical claim; its docstring states the false-failure probability",
        'slow: long-running (selected out with -m "not slow")',
    ):
        config.addinivalue_line("markers", line)
