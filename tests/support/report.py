"""pytest plugin: the claim report.

For every test that carries `@claim`, it records the outcome per backend/dtype, the number of
Hypothesis examples run, and the worst observed error relative to its tolerance. At the end of
the run it writes a JSON report (`build/claims-report.json`, or `$DLCORE_CLAIM_REPORT`) that the
documentation reads, and prints a per-chapter summary table.

A failed test's record keeps what a reader needs to act on it: the assertion message, the
falsifying example Hypothesis printed, and one command that replays it (profile and seed
included). The report's header keeps the tree digest (`tests.support.digest`), the profile, the
seed and the selection, so that `nox -s docs` can reuse a report made from the same tree.

Everything a record holds is attached to the test item's `user_properties`, which pytest-xdist
ships from the workers to the controller, so the report is the same with `-n 2` as without.

It also applies the example budget: the reference combination (NumPy, float64) runs the profile's
`max_examples`, the other combinations the fraction set in `tests.support.backends`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import re
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from spec.registry import CHAPTERS, load
from tests.support import claims, tolerances
from tests.support.backends import EXAMPLE_FRACTION
from tests.support.digest import tree_digest

ROOT = Path(__file__).resolve().parents[2]
_RESULTS: dict[str, dict[str, Any]] = {}


def report_path() -> Path:
    return Path(os.environ.get("DLCORE_CLAIM_REPORT", ROOT / "build" / "claims-report.json"))


def _claim_mark(item: pytest.Item) -> Any:
    return item.get_closest_marker("claim")


def _backend_id(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    b = callspec.params.get("backend") if callspec else None
    return getattr(b, "id", "n/a")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    fn = getattr(item, "obj", None)
    handle = getattr(fn, "hypothesis", None)
    mark = _claim_mark(item)
    claims.begin_test(mark.args[0] if mark is not None else None)
    if handle is None:
        tolerances.reset_observations()
        try:
            return (yield)
        finally:
            if mark is not None:
                _publish(item, examples=1, worst_ratio=_worst(), clauses=claims.clauses_ran())
    # Budget: scale max_examples by the backend's fraction for the active profile.
    profile = settings.get_current_profile_name()
    fraction = EXAMPLE_FRACTION.get(profile, {}).get(_backend_id(item), 1.0)
    old_settings = fn._hypothesis_internal_use_settings
    if fraction < 1.0:
        n = max(2, round(old_settings.max_examples * fraction))
        fn._hypothesis_internal_use_settings = settings(old_settings, max_examples=n)
    inner = handle.inner_test
    count = [0]

    @functools.wraps(inner)
    def counting(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return inner(*args, **kwargs)

    handle.inner_test = counting
    tolerances.reset_observations()
    try:
        return (yield)
    finally:
        handle.inner_test = inner
        fn._hypothesis_internal_use_settings = old_settings
        if mark is not None:
            _publish(item, examples=count[0], worst_ratio=_worst(), clauses=claims.clauses_ran())


def _worst() -> float | None:
    finite = [float(r) for r in tolerances.observations() if r == r]
    return max(finite, default=None)  # a plain float: xdist serializes user_properties


_PROP = "dlcore_claim_record"


def _publish(item: pytest.Item, **fields: Any) -> None:
    """Attach fields of the item's record; the report (here, or on the xdist controller) reads them."""
    item.user_properties.append((_PROP, fields))


def _identity(item: pytest.Item) -> dict[str, Any]:
    marks = list(item.iter_markers("claim"))
    return {
        "claims": [{"id": m.args[0], "breaks": m.kwargs.get("breaks")} for m in marks],
        "function": getattr(item, "originalname", item.name),
        "backend": _backend_id(item),
    }


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _claim_mark(item) is not None:
        _publish(item, **_identity(item))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    props = [v for k, v in getattr(report, "user_properties", ()) if k == _PROP]
    if not props and report.nodeid not in _RESULTS:
        return  # not a claim test
    rec = _RESULTS.setdefault(report.nodeid, {})
    for fields in props:
        rec.update(fields)
    if report.when == "setup" and report.skipped:
        rec["outcome"] = "skipped"
    elif report.when == "call" or (report.when == "setup" and report.failed):
        rec["outcome"] = report.outcome
        rec["duration"] = round(report.duration, 4)
        if report.failed:
            rec.update(failure_details(report))


_E_LINE = re.compile(r"^E(\s.*|)$")


def failure_details(report: pytest.TestReport) -> dict[str, Any]:
    """The assertion message, the falsifying example and the command that replays the failure."""
    text = report.longreprtext or ""
    e_lines = textwrap.dedent(
        "\n".join(m[1] for m in map(_E_LINE.match, text.splitlines()) if m)
    ).splitlines()
    example: list[str] = []
    message: list[str] = []
    mode = "message"
    for line in e_lines:
        if line.startswith(("Falsifying", "Failing test case")):
            mode = "example"
        elif line.startswith(("Explanation:", "You can reproduce", "Unreliable", "@reproduce")):
            mode = "skip"
        if mode == "example":
            example.append(line)
            if line == ")":
                mode = "message"
        elif mode == "message" and not line.startswith(("+", "|")):
            message.append(line)
    msg = "\n".join(message).strip() or "\n".join(text.strip().splitlines()[-3:])
    return {
        "message": msg[-2000:],
        "example": "\n".join(example).strip()[:8000] or None,
        "reproduce": reproduce_command(report.nodeid),
    }


def reproduce_command(nodeid: str) -> str:
    """One command that replays a test under this run's profile and seed (no example database)."""
    return replay_command(nodeid, settings.get_current_profile_name(), _RUN.get("seed"))


def replay_command(nodeid: str, profile: str, seed: Any) -> str:
    """The command that replays `nodeid` under `profile` and `seed` (None: no seed option)."""
    seed_opt = f" --hypothesis-seed={seed}" if seed is not None else ""
    return f"HYPOTHESIS_PROFILE={profile} python -m pytest -p no:cacheprovider '{nodeid}'{seed_opt}"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Register the selected claim tests (after -m / -k deselection) as 'not run' until they run."""
    for item in session.items:
        if _claim_mark(item) is not None:
            _RESULTS[item.nodeid] = {**_identity(item), "outcome": "not run"}


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _environment() -> dict[str, Any]:
    """Versions and the accelerator the run saw, so a recorded report says where it ran."""
    import platform
    import sys

    import hypothesis
    import numpy

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "numpy": numpy.__version__,
        "hypothesis": hypothesis.__version__,
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        env["torch"] = torch.__version__
        if torch.cuda.is_available():
            env["cuda_device"] = torch.cuda.get_device_name(0)
    return env


def claim_status(results: list[dict[str, Any]]) -> str:
    """verified | failed | partial | untested, from the records of one claim's tests."""
    ran = [r for r in results if r.get("outcome") in ("passed", "failed")]
    if any(r["outcome"] == "failed" for r in ran):
        return "failed"
    if not ran:
        return "untested"
    if any(r.get("outcome") == "not run" for r in results):
        return "partial"
    return "verified"


def _per_claim_records() -> list[dict[str, Any]]:
    """One record per (test, claim) pair: a test may carry several @claim marks."""
    out = []
    for nodeid, rec in _RESULTS.items():
        rest = {k: v for k, v in rec.items() if k != "claims"}
        for c in rec.get("claims", ()):
            out.append({"test": nodeid, "claim": c["id"], "breaks": c["breaks"], **rest})
    return out


def build_report() -> dict[str, Any]:
    claims = load()
    per_claim: dict[str, list[dict[str, Any]]] = {}
    for r in _per_claim_records():
        per_claim.setdefault(r.pop("claim"), []).append(r)
    return {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "profile": settings.get_current_profile_name(),
        "seed": _RUN.get("seed"),
        "selection": _RUN.get("selection"),
        "complete": _RUN.get("complete", False),
        "digest": tree_digest(),
        "environment": _environment(),
        "claims": {
            cid: {
                "chapter": claims[cid].chapter,
                "status": claim_status(recs),
                "clauses_ran": clauses_ran(recs),
                "results": recs,
            }
            for cid, recs in per_claim.items()
            if cid in claims
        },
    }


def clauses_ran(recs: list[dict[str, Any]]) -> list[str]:
    """The clauses whose `with clause(...)` blocks some passing, non-breaking test completed."""
    return sorted(
        {
            label
            for r in recs
            if r.get("outcome") == "passed" and r.get("breaks") is None
            for label in r.get("clauses") or ()
        }
    )


def clauses_never_ran(records: list[dict[str, Any]] | None = None) -> list[str]:
    """`id ⟨x⟩` for each clause of a claim whose tests all passed but never ran that clause block.

    A clause block inside a branch that no drawn example takes checks nothing in that run.
    """
    claims = load()
    per_claim: dict[str, list[dict[str, Any]]] = {}
    for r in _per_claim_records() if records is None else records:
        per_claim.setdefault(r["claim"], []).append(r)
    out = []
    for cid, recs in per_claim.items():
        checks = [r for r in recs if r.get("breaks") is None]
        if cid not in claims or not checks or any(r.get("outcome") != "passed" for r in checks):
            continue
        ran = set(clauses_ran(recs))
        out += [f"{cid} ⟨{label}⟩" for label in claims[cid].clauses if label not in ran]
    return out


_T0 = [0.0]


_RUN: dict[str, Any] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    _T0[0] = time.perf_counter()
    config = session.config
    seed = config.getoption("hypothesis_seed", None)
    _RUN["seed"] = None if seed is None else str(seed)
    args = [str(a) for a in config.args]
    keyword = config.getoption("keyword", "") or ""
    marks = config.getoption("markexpr", "") or ""
    _RUN["selection"] = {"args": args, "keyword": keyword, "markexpr": marks}
    # A report covers every claim when the run selected all of tests/claims and deselected none
    # of it by keyword (the `cuda` marker is the only mark expression that keeps it complete).
    claims_dir = (ROOT / "tests" / "claims").resolve()
    whole = [
        (ROOT / a).resolve() in (claims_dir, claims_dir.parent, ROOT) for a in (args or ["tests"])
    ]
    _RUN["complete"] = any(whole) and not keyword and marks in ("", "not cuda")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not any("claims" in r for r in _RESULTS.values()):
        return
    if getattr(session.config, "workerinput", None) is not None:
        return
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_report(), indent=1, sort_keys=False) + "\n", encoding="utf-8")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    recs = [r for r in _per_claim_records() if r.get("outcome") != "not run"]
    if not recs:
        return
    claims = load()
    rows = []
    for chapter in CHAPTERS:
        mine = [r for r in recs if claims[r["claim"]].chapter == chapter]
        if not mine:
            continue
        ids = {r["claim"] for r in mine}
        worst = max(
            (r["worst_ratio"] for r in mine if r.get("worst_ratio") is not None), default=None
        )
        rows.append(
            (
                chapter,
                len(ids),
                len(mine),
                sum(r["outcome"] == "passed" for r in mine),
                sum(r["outcome"] == "failed" for r in mine),
                sum(r["outcome"] == "skipped" for r in mine),
                sum(r.get("examples") or 0 for r in mine),
                "-" if worst is None else f"{worst:.3f}",
                sum(r.get("duration") or 0.0 for r in mine),
            )
        )
    tr = terminalreporter
    never = clauses_never_ran()
    if never:
        tr.write_sep("=", f"{len(never)} clause block(s) never completed in this run")
        for line in never:
            tr.write_line(line)
    tr.write_sep("=", "claims by chapter")
    head = f"{'chapter':<18}{'claims':>7}{'tests':>7}{'passed':>8}{'failed':>8}{'skipped':>8}{'examples':>10}{'worst err/tol':>15}{'time (s)':>10}"
    tr.write_line(head)
    for ch, nc, nt, p, f, s, ex, w, t in rows:
        tr.write_line(f"{ch:<18}{nc:>7}{nt:>7}{p:>8}{f:>8}{s:>8}{ex:>10}{w:>15}{t:>10.1f}")
    tr.write_line(f"claim report: {report_path()}")
