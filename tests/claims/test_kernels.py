"""Chapter kernels: the dual view of ridge."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlcore.kernels import kernel_ridge, linear_kernel
from dlcore.linear import ridge, ridge_dual
from tests.support.backends import backend_params
from tests.support.claims import claim
from tests.support.strategies import log_uniform, regression_problems
from tests.support.tolerances import assert_close

ID = "kernels.primal-equals-dual"


def _svd_ridge(problem, lam: float, Y: np.ndarray) -> np.ndarray:
    """The oracle: sum_i sigma_i / (sigma_i^2 + lam) (u_i^T y) v_i, in float64 from the known SVD."""
    r, s = problem.rank, problem.svals
    coef_times_uty = ((s / (s**2 + lam)) * (problem.U[:, :r].T @ Y).T).T
    return problem.V[:, :r] @ coef_times_uty


@claim(ID)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 12), rank="any"),
    lam=log_uniform(1e-3, 1e3),
    m=st.sampled_from([None, 1, 3]),
)
def test_primal_equals_dual(backend, problem, lam, m):
    """Primal solve, dual solve via kernel_ridge on the linear kernel, and the SVD oracle agree.

    Any shape (n < d, n = d, n > d) and any rank; targets plain or batched. Both systems have
    condition number at most kappa = (sigma_max^2 + lam) / lam. A backward-stable solve errs by
    about eps * (kappa * |w| + |X| |y| / |A|): the second term is the rounding of X^T y (or of
    X^T alpha), which matters when y is nearly orthogonal to the column space and w is tiny.
    """
    rng = np.random.default_rng(problem.seed)
    Y = problem.y if m is None else rng.standard_normal((problem.n, m))
    X, y = backend.asarray(problem.X), backend.asarray(Y)
    primal = ridge(X, y, lam)
    dual = X.T @ kernel_ridge(linear_kernel(X, X), y, lam)
    cond = (problem.sigma_max**2 + lam) / lam
    oracle = _svd_ridge(problem, lam, Y)
    scale = np.linalg.norm(oracle) + problem.sigma_max * np.linalg.norm(Y) / (
        problem.sigma_max**2 + lam
    )
    assert tuple(primal.shape) == tuple(dual.shape) == (problem.d, *Y.shape[1:])
    assert_close(
        primal, dual, claim=ID, backend=backend, cond=cond, scale=scale, what="primal vs dual"
    )
    assert_close(
        dual,
        ridge_dual(X, y, lam),
        claim=ID,
        backend=backend,
        cond=cond,
        scale=scale,
        kind="identity",
        what="kernel_ridge vs ridge_dual",
    )
    assert_close(
        primal,
        oracle,
        claim=ID,
        backend=backend,
        cond=cond,
        scale=scale,
        what="primal vs SVD formula",
    )


@claim(ID, breaks="lambda = 0 with d > n")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(1, 8), d=(2, 12), shape="wide"))
def test_primal_form_undefined_without_regularisation(backend, problem):
    """With lam = 0 and d > n, X^T X is singular: the primal form does not exist, the dual does.

    The primal solve refuses (its d x d matrix has rank n < d), while the dual form at lam = 0 is
    the minimum-norm interpolant X^+ y, so the identity cannot hold for lam = 0.
    """
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    gram = problem.X.T @ problem.X
    assert np.linalg.matrix_rank(gram) == problem.n < problem.d
    with pytest.raises(ValueError, match="singular"):
        ridge(X, y, 0.0)
    pinv_y = problem.V[:, : problem.rank] @ (
        (problem.U[:, : problem.rank].T @ problem.y) / problem.svals
    )
    assert_close(
        ridge_dual(X, y, 0.0),
        pinv_y,
        claim=ID,
        backend=backend,
        cond=problem.cond**2,
        what="dual at lam=0 vs X^+ y",
    )
