"""The counterexample ledger (`docs/data/counterexamples.toml`) is in step with the tests.

Every entry names a known claim and an existing test function that carries that claim and at
least one `@example(...)` (the pinned counterexample), and says what found it, the cause and the
fix. The checks run on the real ledger and on broken copies, so they cannot pass vacuously.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from spec.registry import find_claim_refs, load

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "docs" / "data" / "counterexamples.toml"
FIELDS = ("claim", "test", "found", "example", "cause", "fix")


def _pinned_functions(path: Path) -> set[str]:
    """Test functions in `path` that carry an `@example(...)` decorator."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                f = dec.func if isinstance(dec, ast.Call) else None
                if isinstance(f, ast.Name) and f.id == "example":
                    out.add(node.name)
    return out


def ledger_problems(entries: list[dict]) -> list[str]:
    claims = load()
    refs = find_claim_refs(ROOT / "tests" / "claims")
    problems = []
    for i, e in enumerate(entries):
        missing = [k for k in FIELDS if not str(e.get(k, "")).strip()]
        if missing:
            problems.append(f"entry {i}: missing {missing}")
            continue
        if e["claim"] not in claims:
            problems.append(f"entry {i}: unknown claim {e['claim']!r}")
        path, _, func = e["test"].partition("::")
        file = ROOT / path
        if not file.is_file():
            problems.append(f"entry {i}: no file {path}")
            continue
        if func not in _pinned_functions(file):
            problems.append(f"entry {i}: {func} has no @example in {path}")
        if not any(r.function == func and r.claim_id == e["claim"] for r in refs):
            problems.append(f"entry {i}: {func} does not carry @claim({e['claim']!r})")
    return problems


def _entries() -> list[dict]:
    return tomllib.loads(LEDGER.read_text(encoding="utf-8"))["counterexample"]


def test_ledger_is_in_step_with_the_tests():
    assert _entries(), "the ledger is empty"
    assert ledger_problems(_entries()) == []


def test_ledger_check_finds_breakage():
    good = _entries()[0]
    assert ledger_problems([{**good, "claim": "no.such-claim"}])
    assert ledger_problems([{**good, "test": good["test"] + "_gone"}])
    assert ledger_problems([{**good, "cause": ""}])
    assert ledger_problems([{**good, "test": "tests/claims/test_ridge.py::test_nothing"}])
