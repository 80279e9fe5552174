"""The strategies construct what they promise: exact spectra, ranks, shapes and conditioning."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dlcore.data import SCHEMES, enumerate_batches
from tests.support.strategies import (
    MAX_PATHS,
    adam_betas,
    batch_schedules,
    enumerable_setups,
    gapped_problems,
    gradient_values,
    lipschitz_sine_targets,
    log_uniform,
    mlps,
    orthogonal,
    pwl_functions,
    rectangular_gram_problems,
    regression_problems,
    seeds,
    sine_sums,
    sine_targets,
)


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


# ---- the chapter strategies --------------------------------------------------------------------
# Each checks the docstring of its strategy: shapes, ranges, and the bound or gap it constructs.
# Where a bound is checked on floats, its rounding allowance is derived in a comment.

EPS = float(np.finfo(np.float64).eps)


@given(betas=adam_betas())
def test_adam_betas_put_the_slower_average_second(betas):
    b1, b2 = betas
    assert 0.0 <= b1 <= 0.95
    assert max(b1, 0.9) <= b2 < 1.0


@given(g=gradient_values)
def test_gradient_values_square_to_normal_float32(g):
    assert g == 0.0 or 1e-6 <= abs(g) <= 1e6
    if g != 0.0:
        sq = np.float32(g) * np.float32(g)
        assert np.finfo(np.float32).tiny <= sq < np.inf


@given(data=st.data(), n=st.integers(1, 12))
def test_batch_schedules_index_the_rows(data, n):
    schedule = data.draw(batch_schedules(n))
    assert 1 <= len(schedule) <= 25
    for batch in schedule:
        assert 1 <= len(batch) <= n
        assert all(0 <= i < n for i in batch)


@given(setup=enumerable_setups())
def test_enumerable_setups_enumerate_at_most_max_paths(setup):
    scheme, n, b = setup
    assert scheme in SCHEMES
    assert b >= 1 and (scheme == "with" or b <= n)
    batches = enumerate_batches(n, b, scheme=scheme)
    assert 1 <= len(batches) <= MAX_PATHS


@given(
    net=mlps(d0=(1, 3), width=(2, 5), depth=(1, 3), n=(2, 6), activations=("relu", "tanh")),
)
def test_mlps_have_the_drawn_sizes(net):
    sizes, activation, params, X, y = net
    L = len(sizes) - 1
    assert 1 <= L <= 3 and 1 <= sizes[0] <= 3 and sizes[-1] == 1
    assert all(2 <= w <= 5 for w in sizes[1:-1])
    assert activation in ("relu", "tanh")
    assert sorted(params) == sorted([f"{k}{ell}" for ell in range(1, L + 1) for k in "Wb"])
    for ell in range(1, L + 1):
        assert params[f"W{ell}"].shape == (sizes[ell - 1], sizes[ell])
        assert params[f"b{ell}"].shape == (sizes[ell],)
    assert 2 <= X.shape[0] <= 6 and X.shape == (X.shape[0], sizes[0]) and y.shape == (X.shape[0],)
    assert all(np.all(np.isfinite(v)) for v in [*params.values(), X, y])


X_GRID = np.linspace(-10.0, 10.0, 2001)
H = 1e-2
# |f_computed(x) - f(x)| on the grid (|x| <= 10 + H): each of the <= 3 terms' argument
# omega x + phi (|.| <= 5 * 10.01 + 2 pi < 57) rounds by 2 eps 57 (product, sum), sin adds eps,
# and the sum of <= 3 terms adds 3 eps per unit of |a_j| <= 2.
F_ROUNDING = 3 * 2 * (2 * 57 + 4) * EPS


@given(target=sine_sums())
def test_sine_sums_have_the_drawn_terms(target):
    f, a, w = target
    assert 1 <= len(a) == len(w) <= 3
    assert np.all((0.1 <= np.abs(a)) & (np.abs(a) <= 2)) and np.all((0.1 <= w) & (w <= 5))
    assert f(X_GRID).shape == X_GRID.shape


@given(target=sine_targets())
def test_sine_targets_bound_the_curvature(target):
    f, M = target
    assert 0.1 * 0.1**2 <= M <= 3 * 2 * 5**2  # sum |a| w^2 over the ranges of sine_sums
    # The second difference is f'' averaged over [x - H, x + H], so |D2| <= M exactly; its three
    # values each err by <= F_ROUNDING, so D2 errs by <= 4 F_ROUNDING / H^2, plus 3 eps M for the
    # subtractions and the division.
    d2 = (f(X_GRID + H) - 2 * f(X_GRID) + f(X_GRID - H)) / H**2
    assert np.max(np.abs(d2)) <= M * (1 + 3 * EPS) + 4 * F_ROUNDING / H**2


@given(target=lipschitz_sine_targets())
def test_lipschitz_sine_targets_bound_the_slope(target):
    f, L = target
    assert 0.1 * 0.1 <= L <= 3 * 2 * 5  # sum |a| w over the ranges of sine_sums
    # |f(x + H) - f(x)| <= L H exactly; the two values err by <= F_ROUNDING each, the subtraction
    # by eps of the difference.
    assert np.max(np.abs(f(X_GRID + H) - f(X_GRID))) <= L * H * (1 + EPS) + 2 * F_ROUNDING


@given(fn=pwl_functions(k=(1, 12)))
def test_pwl_functions_have_ordered_separated_knots(fn):
    knots, slopes, c = fn
    k = len(knots)
    assert 1 <= k <= 12 and slopes.shape == (k + 1,)
    assert -5 <= knots[0] <= 5 and -5 <= c <= 5 and np.all(np.abs(slopes) <= 5)
    # knots = t_1 + cumsum(gaps): each knot rounds by eps |knot| after the cumulative sum's
    # k eps |cumsum| (cumsum <= knots[-1] + 5), so a difference of two knots is below its gap by
    # at most 2 (k + 1) eps (|knots[-1]| + 5)
    rounding = 2 * (k + 1) * EPS * (abs(float(knots[-1])) + 5.0)
    assert np.all(np.diff(knots) >= 1e-3 - rounding)


@given(drawn=rectangular_gram_problems())
def test_rectangular_gram_problems_are_rectangular_with_lam_near_sigma_r(drawn):
    problem, lam = drawn
    assert problem.n != problem.d
    assert problem.cond <= 10.0 * (1 + 4 * EPS)  # the drawn cond, exp(log) rounded
    # lam = ratio * sigma_r^2: two roundings (square, product) and one in the division
    ratio = lam / problem.sigma_min**2
    assert 0.1 * (1 - 4 * EPS) <= ratio <= 10.0 * (1 + 4 * EPS)


@given(drawn=gapped_problems())
def test_gapped_problems_avoid_the_gap(drawn):
    problem, X, s, lam, gamma = drawn
    assert 10.0 <= gamma <= 1e4
    assert np.all(np.diff(s) <= 0) and np.all(s > 0) and len(s) == problem.rank
    # Each s_i^2 is computed from s_k^2 / gamma, sqrt and a product and quotient: within 8 eps of
    # its side of the gap.
    above, below = s**2 >= gamma * lam * (1 - 8 * EPS), s**2 <= lam / gamma * (1 + 8 * EPS)
    assert np.all(above | below)
    sv = np.linalg.svd(X, compute_uv=False)
    # as in test_problem_has_its_drawn_spectrum: the SVD of U diag(s) V^T recovers s
    tol = 64 * max(problem.n, problem.d) * EPS * float(s[0])
    assert np.allclose(sv[: problem.rank], s, rtol=0, atol=tol)
