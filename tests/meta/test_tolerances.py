"""The tolerance helper: its formula, and a failure message that names everything."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.backends import BACKENDS
from tests.support.tolerances import KIND_FACTOR, assert_close, tolerance

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
