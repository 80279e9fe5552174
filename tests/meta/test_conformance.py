"""The conformance runner (`tools/conformance.py`) and its plugin, without a full run.

The report logic runs on a small fake claim report: statuses, the feedback a failed claim
carries (statement, lecture source, assertion, example, replay commands), the table, the
infrastructure each claim rests on. One subprocess run of two test functions on a copy of dlcore
missing one function shows that the missing name is stubbed and reported as not-implemented by
the claim that uses it, while an unrelated claim passes (the missing function does not cascade).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spec.registry import load

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import conformance  # noqa: E402
import conformance_plugin  # noqa: E402

FAILED = {
    "test": "tests/claims/test_ridge.py::test_x[numpy-float64]",
    "function": "test_x",
    "backend": "numpy-float64",
    "outcome": "failed",
    "message": "AssertionError: w vs oracle relative error 1e-01 > tolerance 1e-15",
    "example": "Falsifying example: test_x(\n    lam=0.5,\n)",
    "reproduce": "HYPOTHESIS_PROFILE=conformance python -m pytest 'tests/claims/...'",
}
PASSED = {"test": "t::a", "function": "a", "backend": "numpy-float64", "outcome": "passed"}
NOT_IMPL = {**FAILED, "message": "NotImplementedError: dlcore.linear.ridge is not implemented"}


def _raw(**claims: list[dict]) -> dict:
    return {
        "created": "2026-01-01T00:00:00+00:00",
        "profile": "conformance",
        "seed": None,
        "claims": {
            cid: {"chapter": cid.split(".")[0], "results": results}
            for cid, results in claims.items()
        },
    }


def _ids(n: int) -> list[str]:
    return sorted(load())[:n]


def test_classify_never_calls_not_implemented_failed():
    assert conformance.classify([PASSED]) == "passed"
    assert conformance.classify([PASSED, NOT_IMPL]) == "not-implemented"
    assert conformance.classify([NOT_IMPL, FAILED]) == "failed"
    assert conformance.classify([{**PASSED, "outcome": "skipped"}]) == "skipped"
    assert conformance.classify([]) == "skipped"


def test_a_failed_claim_carries_what_a_student_needs(tmp_path):
    bad, ok, todo = _ids(3)
    report = conformance.conformance_report(
        _raw(**{bad: [FAILED, PASSED], ok: [PASSED], todo: [NOT_IMPL]}),
        tmp_path,
        seed=123,
        examples=7,
        rests={bad: ["_fused", "backend"]},
    )
    assert report["summary"] == {"failed": 1, "passed": 1, "not-implemented": 1}
    assert report["examples"] == 7 and report["digest"]
    c = report["claims"][bad]
    claim = load()[bad]
    assert (c["statement"], c["source"], c["title"]) == (claim.statement, claim.source, claim.title)
    assert c["rests_on"] == ["_fused", "backend"]
    t = next(t for t in c["tests"] if t["outcome"] == "failed")
    assert t["message"] == FAILED["message"] and t["example"] == FAILED["example"]
    # the replay commands name the implementation, the budget, the seed and the one test
    for key in ("reproduce", "reproduce_pytest"):
        assert str(tmp_path) in t[key] and FAILED["test"] in t[key]
    assert "--seed 123 --examples 7 -- -n 0" in t["reproduce"]
    assert "DLCORE_CONFORMANCE_EXAMPLES=7" in t["reproduce_pytest"]
    assert "--hypothesis-seed=123" in t["reproduce_pytest"]
    text = conformance.format_table(report)
    for needle in (
        f"FAILED {bad}",
        claim.statement.strip().splitlines()[0],
        claim.source,
        FAILED["message"],
        "lam=0.5",
        t["reproduce"],
        t["reproduce_pytest"],
        "dlcore/_fused.py: 1 claim(s), failed: " + bad,
    ):
        assert needle in text, needle
    assert f"FAILED {todo}" not in text  # not-implemented is never reported as failed


def test_the_default_budget_is_the_plugins():
    assert conformance.EXAMPLES == conformance_plugin._examples == 30 or (
        "DLCORE_CONFORMANCE_EXAMPLES" in os.environ
    )


def test_files_after_the_separator_replace_the_claims_folder(tmp_path):
    whole = conformance.pytest_command(tmp_path, ["-k", "ridge"], None)
    assert "tests/claims" in whole and whole[whole.index("-n") + 1]
    one = conformance.pytest_command(tmp_path, ["-n", "0", "tests/claims/test_ridge.py"], 5)
    assert "tests/claims" not in one and "--hypothesis-seed=5" in one
    assert one.count("-n") == 1 and f"pythonpath={tmp_path} ." in one


def test_infrastructure_map_follows_the_imports():
    rests = conformance.infrastructure_map()
    assert set(rests) == set(load())
    # Adam reaches the fused optimizer step through dlcore.optim; a closed-form ridge does not.
    assert "_fused" in rests["adaptive.adam-update"]
    assert any(cid.startswith("ridge.") and "_fused" not in r for cid, r in rests.items())
    assert all(set(r) <= {"backend", "_fused"} for r in rests.values())


def test_fill_missing_stubs_module_and_names(tmp_path, monkeypatch):
    pkg = tmp_path / "dlcore"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "linear.py").write_text("def ridge(X, y, lam):\n    return 1\n")
    saved = {k: v for k, v in sys.modules.items() if k == "dlcore" or k.startswith("dlcore.")}
    for k in saved:
        del sys.modules[k]
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        filled = conformance_plugin.fill_missing(
            {"linear": ["ridge", "ridge_dual"], "optim": ["adam"]}
        )
        assert filled == ["dlcore.linear.ridge_dual", "dlcore.optim", "dlcore.optim.adam"]
        import dlcore.linear
        import dlcore.optim

        assert dlcore.linear.ridge(0, 0, 0) == 1
        for fn in (dlcore.linear.ridge_dual, dlcore.optim.adam):
            with pytest.raises(NotImplementedError, match="missing from the implementation"):
                fn()
    finally:
        for k in [k for k in sys.modules if k == "dlcore" or k.startswith("dlcore.")]:
            del sys.modules[k]
        sys.modules.update(saved)


def _without(source: str, name: str) -> str:
    """`source` without the function `name` (and its decorators) and without it in `__all__`."""
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    lines = source.splitlines(keepends=True)
    start = min([fn.lineno] + [d.lineno for d in fn.decorator_list]) - 1
    return "".join(lines[:start] + lines[fn.end_lineno :]).replace(f'"{name}",', "")


def test_one_missing_function_does_not_cascade(tmp_path):
    """A copy of dlcore without `ridge_dual`: the claim whose test calls it is not-implemented,
    a claim of the same test file that does not call it passes, and the run exits 0."""
    shutil.copytree(ROOT / "dlcore", tmp_path / "dlcore", ignore=shutil.ignore_patterns("__py*"))
    linear = tmp_path / "dlcore" / "linear.py"
    linear.write_text(_without(linear.read_text(encoding="utf-8"), "ridge_dual"), "utf-8")
    out = tmp_path / "report.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    argv = [
        sys.executable, "tools/conformance.py", str(tmp_path), "--examples", "2",
        "--report", str(out), "--", "-n", "0", "-k",
        "test_primal_equals_dual or test_gram_matrix_holds_inner_products",
        "tests/claims/test_kernels.py",
    ]  # fmt: skip
    run = subprocess.run(
        argv,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    statuses = {cid: c["status"] for cid, c in report["claims"].items()}
    assert statuses == {
        "kernels.primal-equals-dual": "not-implemented",
        "kernels.gram-matrix-of-inner-products": "passed",
    }, statuses
    assert "dlcore.linear.ridge_dual" in run.stdout


def test_the_skeleton_ships_the_infrastructure_whole_and_marked(tmp_path):
    import skeleton

    skeleton.write_skeleton(tmp_path)
    for name in skeleton.INFRASTRUCTURE:
        text = (tmp_path / "dlcore" / name).read_text(encoding="utf-8")
        original = (ROOT / "dlcore" / name).read_text(encoding="utf-8")
        assert text == skeleton.INFRASTRUCTURE_HEADER + original
    stub = (tmp_path / "dlcore" / "linear.py").read_text(encoding="utf-8")
    assert "raise NotImplementedError('dlcore.linear.ridge is not implemented yet')" in stub
    with pytest.raises(FileExistsError):
        skeleton.write_skeleton(tmp_path)


def test_the_skeleton_command_line_takes_help_and_refuses_options(tmp_path, monkeypatch, capsys):
    """`--help` prints the usage and writes nothing; an option where DIR goes is refused (it used
    to become the output folder)."""
    import skeleton

    monkeypatch.chdir(tmp_path)
    assert skeleton.main(["--help"]) == 0
    assert "python tools/skeleton.py DIR" in capsys.readouterr().out
    assert skeleton.main(["--out"]) == 2
    assert skeleton.main([]) == 2
    assert list(tmp_path.iterdir()) == []
