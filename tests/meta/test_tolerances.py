"""The tolerance helper: its formula, and a failure message that names everything."""

from __future__ import annotations

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
