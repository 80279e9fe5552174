"""The false-failure budget of the statistical tests: per example, per test, per run of the suite.

A statistical test is a test function in tests/claims/test_*.py that references `FALSE_FAILURE`,
calls a `*_band(` helper (directly or through a module-level helper of its file that does), or
checks a claim of kind "statistical" (`spec.registry.load()`). The files are parsed, not
imported. For each one this checks the docstring (it states its false-failure probability and no
longer quotes the old per-example 1e-6 as one) and the premises of `MAX_EXAMPLES_PER_TEST`
(parametrized over the backends only, at most `MAX_EXPLICIT_EXAMPLES` `@example` rows, no
`@settings(max_examples=...)` above the largest profile); and for the whole suite, that the
union bound count * MAX_EXAMPLES_PER_TEST * FALSE_FAILURE stays within SUITE_FALSE_FAILURE.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import settings

from spec.registry import load
from tests.support.backends import BACKENDS
from tests.support.stats import (
    FALSE_FAILURE,
    MAX_EXAMPLES_PER_TEST,
    MAX_EXPLICIT_EXAMPLES,
    MAX_STATISTICAL_TESTS,
    SUITE_FALSE_FAILURE,
)

CLAIMS_DIR = Path(__file__).resolve().parents[1] / "claims"
PROFILES = ("dev", "ci", "thorough")
PHRASE = "false-failure probability"
BAND_CALL = re.compile(r"\b\w*_band\(")
# "1e-6" quoted as a probability: near "probability", "w.p.", "budget", "band", or followed by
# "split", "in all", "each", "per run"/"per example".
STALE = re.compile(
    r"(probabilit\w*|w\.p\.|budget|band)[^.;]{0,60}?\b1e-0?6\b"
    r"|\b1e-0?6\b[^.;]{0,30}?(split|in all|each\b|per run|per example|probabilit)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StatTest:
    path: str
    name: str
    lineno: int
    doc: str
    examples: int
    parametrized: tuple[str, ...]
    max_examples: tuple[ast.expr, ...]


def _constants(tree: ast.Module) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            out.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return out


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return None


def _uses_stats(src: str) -> bool:
    return "FALSE_FAILURE" in src or BAND_CALL.search(src) is not None


def statistical_tests(text: str, path: str, kinds: dict[str, str]) -> list[StatTest]:
    """The statistical test functions of one test module's source `text`."""
    tree = ast.parse(text)
    names = _constants(tree)
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    helpers = {
        f.name
        for f in funcs
        if not f.name.startswith("test_") and _uses_stats(ast.get_source_segment(text, f) or "")
    }
    out = []
    for f in funcs:
        if not f.name.startswith("test_"):
            continue
        src = ast.get_source_segment(text, f) or ""
        claim_kinds, examples, params, limits = set(), 0, [], []
        for d in f.decorator_list:
            name = _call_name(d)
            if name == "claim" and d.args:
                a = d.args[0]
                cid = a.value if isinstance(a, ast.Constant) else names.get(getattr(a, "id", ""))
                claim_kinds.add(kinds.get(cid or "", ""))
            elif name == "example":
                examples += 1
            elif name == "parametrize" and d.args:
                params.append(
                    ast.literal_eval(d.args[0]) if isinstance(d.args[0], ast.Constant) else "?"
                )
            elif name == "settings":
                limits += [k.value for k in d.keywords if k.arg == "max_examples"]
        calls = {_call_name(n) for n in ast.walk(f)}
        if "statistical" in claim_kinds or _uses_stats(src) or calls & helpers:
            out.append(
                StatTest(
                    path,
                    f.name,
                    f.lineno,
                    ast.get_docstring(f) or "",
                    examples,
                    tuple(params),
                    tuple(limits),
                )
            )
    return out


def _largest_profile() -> int:
    return max(settings.get_profile(p).max_examples for p in PROFILES)


def _max_examples(expr: ast.expr, largest: int) -> int | None:
    """Value of a `@settings(max_examples=...)` expression when the profile runs `largest`."""
    fake = SimpleNamespace(default=SimpleNamespace(max_examples=largest))
    try:
        code = compile(ast.Expression(expr), "<settings>", "eval")
        return int(eval(code, {"__builtins__": {}}, {"max": max, "min": min, "settings": fake}))
    except Exception:  # anything not evaluable here is reported as a problem
        return None


def problems(tests: list[StatTest], largest: int) -> list[str]:
    """What is wrong with the docstrings and the budget premises of `tests`."""
    out = []
    for t in tests:
        where = f"{t.path}::{t.name} (line {t.lineno})"
        doc = " ".join(t.doc.split())
        if PHRASE not in doc.lower():
            out.append(f"{where}: docstring does not state its {PHRASE}")
        if (m := STALE.search(doc)) is not None:
            out.append(f"{where}: docstring still quotes 1e-6 as a probability: {m.group(0)!r}")
        if t.examples > MAX_EXPLICIT_EXAMPLES:
            out.append(f"{where}: {t.examples} @example rows > {MAX_EXPLICIT_EXAMPLES}")
        if any(p != "backend" for p in t.parametrized):
            out.append(f"{where}: parametrized over {t.parametrized}, not the backends only")
        for expr in t.max_examples:
            n = _max_examples(expr, largest)
            if n is None or n > largest:
                out.append(
                    f"{where}: @settings(max_examples={ast.unparse(expr)}) exceeds {largest}"
                )
    return out


def _all_statistical_tests() -> list[StatTest]:
    kinds = {cid: c.kind for cid, c in load().items()}
    return [
        t
        for path in sorted(CLAIMS_DIR.glob("test_*.py"))
        for t in statistical_tests(path.read_text(encoding="utf-8"), path.name, kinds)
    ]


def test_constants_follow_their_derivation():
    assert MAX_EXAMPLES_PER_TEST >= len(BACKENDS) * (_largest_profile() + MAX_EXPLICIT_EXAMPLES)
    assert FALSE_FAILURE <= SUITE_FALSE_FAILURE / (MAX_STATISTICAL_TESTS * MAX_EXAMPLES_PER_TEST)
    assert SUITE_FALSE_FAILURE <= 1e-6


def test_every_statistical_test_states_its_false_failure_probability():
    found = problems(_all_statistical_tests(), _largest_profile())
    assert not found, "\n".join(found)


def test_suite_false_failure_probability_is_within_budget():
    tests = _all_statistical_tests()
    assert len(tests) >= 30, "the finder lost the statistical tests"
    assert len(tests) <= MAX_STATISTICAL_TESTS, len(tests)
    assert len(tests) * MAX_EXAMPLES_PER_TEST * FALSE_FAILURE <= SUITE_FALSE_FAILURE


SYNTHETIC = '''
X = "ch.stat"

def helper(p):
    return hoeffding_band(10, p)

@claim(X)
@pytest.mark.parametrize("backend", backend_params())
def test_no_phrase(backend):
    """Within the band."""

@claim("ch.det")
def test_by_helper():
    """Within the band of helper (false-failure probability FALSE_FAILURE per example)."""
    helper(1)

@claim("ch.det")
@pytest.mark.parametrize("n", [1, 2])
@settings(max_examples=max(2, settings.default.max_examples * 2))
def test_stale(n):
    """Bands (false-failure probability 1e-6 in all, split over three events)."""
    return FALSE_FAILURE

@claim("ch.det")
def test_old_wp():
    """Within the band (w.p. >= 1 - 1e-6); false-failure probability FALSE_FAILURE."""
    return FALSE_FAILURE

@claim("ch.det")
def test_deterministic():
    """No randomness, no band: not statistical."""
'''


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("test_no_phrase", "does not state"),
        ("test_stale", "still quotes 1e-6"),
        ("test_stale", "not the backends only"),
        ("test_stale", "max_examples"),
        ("test_old_wp", "still quotes 1e-6"),
    ],
)
def test_the_checks_can_fail(name, message):
    kinds = {"ch.stat": "statistical", "ch.det": "identity"}
    tests = statistical_tests(SYNTHETIC, "synthetic.py", kinds)
    assert {t.name for t in tests} == {
        "test_no_phrase",
        "test_by_helper",
        "test_stale",
        "test_old_wp",
    }
    found = problems(tests, 300)
    assert any(name in p and message in p for p in found), found
    assert not any("test_by_helper" in p for p in found), found


@pytest.mark.parametrize(
    "doc",
    [
        "false-failure probability <= FALSE_FAILURE per example; ||e_T|| <= 1e-6 ||e_0||.",
        "Deterministic given the fit: false-failure probability 0. Steps within 1e-6.",
    ],
)
def test_unrelated_1e_6_is_not_flagged(doc):
    t = StatTest("x.py", "test_x", 1, doc, 0, ("backend",), ())
    assert problems([t], 300) == []
