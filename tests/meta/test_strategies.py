"""The strategies construct what they promise: exact spectra, ranks, shapes and conditioning."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.support.strategies import log_uniform, orthogonal, regression_problems, seeds


@given(problem=regression_problems(rank="any", max_cond=1e3))
def test_problem_has_its_drawn_spectrum(problem):
    s = np.linalg.svd(problem.X, compute_uv=False)
    tol = 64 * max(problem.n, problem.d) * np.finfo(float).eps * problem.sigma_max
    assert np.allclose(s[: problem.rank], problem.svals, rtol=0, atol=tol)
    assert np.all(s[problem.rank :] <= tol)
    assert 1 <= problem.cond <= 1e3 * (1 + 1e-12)
    assert np.all(np.diff(problem.svals) <= 0)


@given(problem=regression_problems(n=(2, 10), d=(2, 10), rank="deficient"))
def test_deficient_problems_are_rank_deficient(problem):
    assert problem.rank < min(problem.n, problem.d)
    assert np.linalg.matrix_rank(problem.X) == problem.rank


@given(problem=regression_problems(shape="wide"), other=regression_problems(shape="tall"))
def test_shapes(problem, other):
    assert problem.d > problem.n and other.n > other.d


@given(k=st.integers(1, 20), seed=seeds)
def test_orthogonal_is_orthogonal(k, seed):
    Q = orthogonal(k, np.random.default_rng(seed))
    assert np.allclose(Q.T @ Q, np.eye(k), atol=32 * k * np.finfo(float).eps)


@given(x=log_uniform(1e-3, 1e3))
def test_log_uniform_stays_in_range(x):
    assert 1e-3 <= x <= 1e3
