"""The tolerance helper: its formula, and a failure message that names everything."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tests.support.backends import BACKENDS
from tests.support.tolerances import KIND_FACTOR, Check, assert_close, tolerance

ID = "kernels.primal-equals-dual"


def test_tolerance_formula():
    eps = np.finfo(np.float32).eps
    assert (
        tolerance(eps, kind="identity", cond=10.0, dim=3)
        == KIND_FACTOR["identity"] * 3 * eps * 10.0
    )


@pytest.mark.parametrize("bad", [dict(cond=0.5), dict(dim=0), dict(kind="guess")])
def test_tolerance_rejects_nonsense(bad):
    args = dict(kind="identity", cond=1.0, dim=1) | bad
    with pytest.raises(ValueError):
        tolerance(1e-16, **args)


def test_failure_message_names_claim_backend_dtype_errors_and_cond():
    b = BACKENDS[1]  # numpy float32
    with pytest.raises(AssertionError) as err:
        assert_close(np.ones(3) * (1 + 1e-3), np.ones(3), claim=ID, backend=b, cond=7.0, what="w")
    msg = str(err.value)
    for part in (ID, "numpy-float32", "float32", "relative error", "tolerance", "cond 7.000e+00"):
        assert part in msg


def test_passes_within_and_fails_just_outside():
    b = BACKENDS[0]
    tol = tolerance(b.eps, kind="identity", dim=4)
    e = np.array([1.0, 0.0, 0.0, 0.0])
    assert_close(e + np.array([0.5 * tol, 0, 0, 0]), e, claim=ID, backend=b, kind="identity")
    with pytest.raises(AssertionError):
        assert_close(e + np.array([2 * tol, 0, 0, 0]), e, claim=ID, backend=b, kind="identity")


def test_nan_never_passes():
    with pytest.raises(AssertionError):
        assert_close(np.array([np.nan]), np.array([1.0]), claim=ID, backend=BACKENDS[0], cond=1e30)


def test_check_binds_claim_and_backend():
    b = BACKENDS[1]
    check = Check(ID, b)
    assert check.tolerance(kind="bound", dim=3, cond=2.0) == tolerance(
        b.eps, kind="bound", dim=3, cond=2.0
    )
    e = np.array([1.0, 2.0])
    assert check.assert_close(e, e) == 0.0
    with pytest.raises(AssertionError, match="numpy-float32"):
        check.assert_close(e * 1.1, e)


def test_entrywise_checks_each_entry_against_the_model():
    check = Check(ID, BACKENDS[0])
    tol = check.tolerance(kind="identity", dim=2)
    e = np.array([1.0, 1e-6, 0.0])
    # relative to each entry: the small entry is held to its own size, a 0 must be met exactly
    check.assert_entrywise(e * (1 + 0.5 * tol), e, kind="identity", dim=2)
    with pytest.raises(AssertionError, match="relative to each entry"):
        check.assert_entrywise(e + np.array([0, 2 * tol * 1e-6, 0]), e, kind="identity", dim=2)
    with pytest.raises(AssertionError):
        check.assert_entrywise(e + np.array([0, 0, 1e-300]), e, kind="identity", dim=2)
    # with a scale: absolute, tol * scale per entry
    check.assert_entrywise(e + 0.9 * tol * 3.0, e, kind="identity", dim=2, scale=3.0)
    with pytest.raises(AssertionError):
        check.assert_entrywise(e + 1.1 * tol * 3.0, e, kind="identity", dim=2, scale=3.0)
    with pytest.raises(AssertionError):
        check.assert_entrywise(np.array([np.nan]), np.array([1.0]), kind="identity", cond=1e30)


def test_one_sided_bounds_allow_rounding_only():
    check = Check(ID, BACKENDS[0])
    tol = check.tolerance(kind="bound", dim=4)
    bound = np.array([2.0, -3.0])
    assert check.assert_at_most(bound - 1.0, bound, kind="bound", dim=4) <= 0
    check.assert_at_most(bound + 0.9 * tol * np.abs(bound), bound, kind="bound", dim=4)
    with pytest.raises(AssertionError, match="exceeds its bound"):
        check.assert_at_most(bound + 1.1 * tol * np.abs(bound), bound, kind="bound", dim=4)
    check.assert_at_least(bound - 0.9 * tol * np.abs(bound), bound, kind="bound", dim=4)
    with pytest.raises(AssertionError):
        check.assert_at_least(bound - 1.1 * tol * np.abs(bound), bound, kind="bound", dim=4)
    # a scale per entry
    check.assert_at_most(bound + 0.9 * tol * np.array([1.0, 5.0]), bound, kind="bound", dim=4,
                         scale=np.array([1.0, 5.0]))  # fmt: skip
    with pytest.raises(AssertionError):
        check.assert_at_most(bound + 1.1 * tol * np.array([1.0, 5.0]), bound, kind="bound", dim=4,
                             scale=np.array([1.0, 6.0]))  # fmt: skip
    # a scalar bound for every entry, and an absolute scale
    check.assert_at_least(np.array([1.0, 5.0]), 1.0 - 0.5 * tol, kind="bound", dim=4, scale=1.0)
    with pytest.raises(AssertionError):
        check.assert_at_most(np.array([np.nan]), 1.0, kind="bound", cond=1e30)


# Literal constants that look like slacks but are not tolerances, each with its reason. Keyed by
# (file, the start of the comparison's source as `ast.unparse` writes it).
NOT_SLACKS = {
    ("test_gradient_descent.py", "np.linalg.norm(g) < 1e-13"): "the Newton oracle's stopping rule",
    ("test_gradient_descent.py", "s < 1e-12"): "the Newton oracle's line-search floor",
    (
        "test_gradient_descent.py",
        "closest >= 1e-06 * star",
    ): "constructs the start: its orbit keeps this far from 0 (the claim's assumption)",
    (
        "test_momentum.py",
        "np.linalg.norm(p['w']) > 1e-08",
    ): "the claim's target |e_T| <= 1e-8 |e_0|",
    (
        "test_sgd.py",
        "dist[-1] <= 1e-06",
    ): "the claim's target 1e-6 |e_0|, plus the model's rounding",
    ("test_sgd.py", "math.sqrt(loss) <= problem.sigma_max * (1e-06"): "the same target, as a loss",
    ("test_sgd.py", "math.isclose((10000 - 32) / 9999, 0.9969"): "the lecture's number to 4 places",
    ("test_sgd.py", "math.isclose((10 - 5) / 9, 0.556"): "the lecture's number to 3 places",
    (
        "test_safeguards.py",
        "a_held < 1e-10",
    ): "selects inputs where the naive form fails (a << eps)",
}


def _slack_candidates(path: Path) -> list[tuple[int, str]]:
    """Comparisons (and isclose/approx/allclose calls) holding a float literal below 1e-3 or
    within 1% of 1: the shape of a guessed slack (`x <= y * (1 + 1e-9)`, `0.99 * bound`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        call = isinstance(node, ast.Call) and (
            getattr(node.func, "attr", getattr(node.func, "id", ""))
            in ("isclose", "approx", "allclose", "assert_allclose")
        )
        keyword = isinstance(node, ast.Call) and any(
            k.arg in ("atol", "rtol", "abs_tol", "rel_tol")
            and any(isinstance(c, ast.Constant) and c.value for c in ast.walk(k.value))
            for k in node.keywords
        )
        if keyword:
            found.append((node.lineno, ast.unparse(node)))
            continue
        if not (isinstance(node, ast.Compare) or call):
            continue
        for c in ast.walk(node):
            v = c.value if isinstance(c, ast.Constant) else None
            if isinstance(v, float) and (0 < abs(v) < 1e-3 or (0.99 <= abs(v) <= 1.01 and v != 1)):
                found.append((node.lineno, ast.unparse(node)))
                break
    return found


def test_no_raw_slack_constants():
    """Every tolerance in the claim and API tests goes through the model (`Check`, `tolerance`):
    no comparison states a guessed slack. The exceptions are targets, stopping rules and printed
    decimals, listed in NOT_SLACKS with their reasons."""
    root = Path(__file__).resolve().parents[1]
    bad, used = [], set()
    for path in sorted([*root.glob("claims/*.py"), *root.glob("api/*.py")]):
        for line, src in _slack_candidates(path):
            key = next((k for k in NOT_SLACKS if k[0] == path.name and src.startswith(k[1])), None)
            if key is None:
                bad.append(f"{path.relative_to(root)}:{line}: {src[:100]}")
            used.add(key)
    assert not bad, (
        "raw slack constants (use Check.assert_at_most/at_least/tolerance):\n" + "\n".join(bad)
    )
    assert set(NOT_SLACKS) <= used, f"stale NOT_SLACKS entries: {set(NOT_SLACKS) - used}"


def test_slack_scan_finds_a_planted_slack(tmp_path):
    """The scan is not vacuous: it flags the shapes it is meant to find, and only those."""
    f = tmp_path / "t.py"
    f.write_text(
        "def t(a, b):\n    assert a <= b * (1 + 1e-9)\n    assert a >= 0.99 * b\n"
        "    assert a <= b + 0.5\n    np.testing.assert_allclose(a, b, rtol=1e-6)\n"
        "    np.testing.assert_allclose(a, b, rtol=0, atol=tol)\n"
    )
    assert [line for line, _ in _slack_candidates(f)] == [2, 3, 5]
