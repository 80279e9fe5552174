"""Chapter ridge: least squares, ridge regression and its SVD filter factors."""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlcore.backend import device_of
from dlcore.kernels import kernel_ridge, linear_kernel
from dlcore.linear import (
    augment_ridge_features,
    augment_ridge_rows,
    min_norm_solution,
    ridge,
    ridge_dual,
    ridge_filter_factors,
    ridge_grad,
    ridge_objective,
    ridge_svd,
    row_space_projector,
)
from dlcore.losses import squared_loss, squared_loss_grad
from dlcore.optim import coupled_weight_decay, gd
from dlcore.train import run
from tests.support.backends import HOST, backend_params, eigvalsh64
from tests.support.claims import claim, clause
from tests.support.stats import FALSE_FAILURE
from tests.support.strategies import (
    gapped_problems,
    log_uniform,
    make_problem,
    rectangular_gram_problems,
    regression_problems,
    seeds,
)
from tests.support.tolerances import Check, tolerance

CLOSED = "ridge.closed-form-and-well-posedness"
FILTER = "ridge.svd-filter-factor-form"
DECAY = "ridge.gd-on-ridge-is-weight-decay"

any_problem = regression_problems(n=(1, 12), d=(1, 12), rank="any")


def svd_ridge(problem, lam: float, Y: np.ndarray | None = None) -> np.ndarray:
    """The oracle sum_i sigma_i / (sigma_i^2 + lam) v_i (u_i^T y), float64 from the known SVD."""
    Y = problem.y if Y is None else Y
    r, s = problem.rank, problem.svals
    return problem.V[:, :r] @ ((s / (s**2 + lam)) * (problem.U[:, :r].T @ Y).T).T


def ridge_cond(problem, lam: float) -> float:
    """Condition number of X^T X + lam I (and of X X^T + lam I) over the drawn spectrum."""
    return (problem.sigma_max**2 + lam) / lam


def ridge_scale(problem, lam: float, Y: np.ndarray) -> float:
    """|w| plus the rounding floor of X^T y: sigma_max |y| / (sigma_max^2 + lam)."""
    w = svd_ridge(problem, lam, Y)
    return float(
        np.linalg.norm(w) + problem.sigma_max * np.linalg.norm(Y) / (problem.sigma_max**2 + lam)
    )


# ---- ridge.closed-form-and-well-posedness ------------------------------------------------------


@claim(CLOSED)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=log_uniform(1e-3, 1e3), seed=seeds)
def test_ridge_closed_form_is_the_unique_minimizer(backend, problem, lam, seed):
    """The d x d solve equals the SVD formula, the gradient vanishes there, and the gap is exact.

    The solve is backward stable on a system of condition kappa = (sigma_max^2 + lam) / lam, so
    w errs by eps * kappa relative to `ridge_scale`. The gradient at the computed w is a residual
    of a backward-stable solve: of order eps times |A| |w| + |X| |y| (no kappa). The gap identity
    is a difference of two objective values, so it loses eps * (J(w) + J(w + delta)) to
    cancellation, plus |delta| times the gradient's rounding.
    """
    check = Check(CLOSED, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w = ridge(X, y, lam)
    assert tuple(w.shape) == (problem.d,)
    cond, scale = ridge_cond(problem, lam), ridge_scale(problem, lam, problem.y)
    with clause("a"):
        check.assert_close(
            w,
            svd_ridge(problem, lam),
            cond=cond,
            scale=scale,
            what="ridge vs SVD formula",
        )
    s2 = problem.sigma_max**2 + lam
    w_np = backend.to_numpy(w)
    grad_scale = 2 * (s2 * np.linalg.norm(w_np) + problem.sigma_max * np.linalg.norm(problem.y))
    delta = np.random.default_rng(seed).standard_normal(problem.d) * (1 + np.linalg.norm(w_np))
    with clause("b"):
        check.assert_close(
            ridge_grad(w, X, y, lam),
            np.zeros(problem.d),
            scale=grad_scale,
            dim=problem.n + problem.d,
            what="grad J at w_lam",
        )
        # the gradient formula itself, at p = w + delta against float64 NumPy: the same rounding
        # model as at w (products of length n and d, |2 X^T (X p - y) + 2 lam p| <= grad scale at p)
        p = w_np + delta
        check.assert_close(
            ridge_grad(backend.asarray(p), X, y, lam),
            2 * problem.X.T @ (problem.X @ p - problem.y) + 2 * lam * p,
            scale=2 * (s2 * np.linalg.norm(p) + problem.sigma_max * np.linalg.norm(problem.y)),
            dim=problem.n + problem.d,
            what="grad J vs 2 X^T (X w - y) + 2 lam w",
        )
    J0 = float(backend.to_numpy(ridge_objective(w, X, y, lam)))
    J1 = float(backend.to_numpy(ridge_objective(backend.asarray(w_np + delta), X, y, lam)))
    gap = float(np.linalg.norm(problem.X @ delta) ** 2 + lam * np.linalg.norm(delta) ** 2)
    # the exact gap, positive for delta != 0, makes w_lam the unique minimizer (clause a)
    with clause("a", "c"):
        assert gap > 0
        check.assert_close(
            np.array(J1 - J0),
            np.array(gap),
            scale=J0 + J1 + grad_scale * float(np.linalg.norm(delta)),
            dim=problem.n + problem.d,
            what="J(w + delta) - J(w)",
        )


def gram_cond(problem, lam: float, k: int) -> float:
    """The claimed condition number of the k x k Gram + lam I (k = d or n), from the drawn spectrum:
    (sigma_max^2 + lam) / (sigma_r^2 + lam) when k = r, else (sigma_max^2 + lam) / lam."""
    top = problem.sigma_max**2 + lam
    return top / (problem.sigma_min**2 + lam) if k == problem.rank else top / lam


def gram_cond_dim(problem, k: int) -> int:
    """Error terms in the condition number of the k x k Gram + lam I formed in the backend dtype.

    The Gram's entries are inner products of length m (n for X^T X, d for X X^T), so its error
    E has |E| <= m u |X|^T |X| entrywise and |E|_2 <= m u |X|_F^2 <= m u r sigma_max^2
    (u = eps / 2). Casting X to the dtype moves X^T X by <= 2 u sigma_max |X|_F <= eps r
    sigma_max^2; rounding lam and adding it, <= 2 eps lam; np.linalg.cond (float64 SVD), <= k eps |A|.
    So each eigenvalue moves by delta <= ((m + 1) r + k + 2) eps |A| with |A| = sigma_max^2 + lam
    (Weyl), and kappa = |A| / lambda_min by at most 2 delta / lambda_min = 2 dim eps kappa
    relative (first order): within the identity tolerance 4 dim eps kappa.
    """
    m = problem.n if k == problem.d else problem.d
    return (m + 1) * problem.rank + k + 2


@claim(CLOSED)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=log_uniform(1e-3, 1e3))
def test_ridge_gram_spectra_are_shifted_by_lambda(backend, problem, lam):
    """eigvalsh of X^T X + lam I and X X^T + lam I against sigma_i^2 + lam and lam (d - r, n - r),
    and NumPy's condition number (np.linalg.cond, float64 SVD of the backend's matrix) against
    the claimed one, `gram_cond` (tolerance derived in `gram_cond_dim`).

    Weyl's inequality: a backward-stable symmetric eigensolver errs by dim * eps * |A|, with
    |A| = sigma_max^2 + lam; so the comparison is absolute at that scale (cond 1).
    """
    check = Check(CLOSED, backend)
    xp = backend.xp
    X = backend.asarray(problem.X)
    s2 = problem.svals**2 + lam
    top = problem.sigma_max**2 + lam
    for k, gram in ((problem.d, X.T @ X), (problem.n, X @ X.T)):
        A = gram + lam * xp.eye(k, dtype=X.dtype, device=device_of(X))
        got = np.sort(eigvalsh64(backend, A))
        expected = np.sort(np.concatenate([s2, np.full(k - problem.rank, lam)]))
        with clause("d", "e"):  # d: the d x d matrix (first pass), e: the n x n one (second)
            check.assert_close(
                got,
                expected,
                scale=top * math.sqrt(k),
                dim=problem.n + problem.d,
                what=f"spectrum of the {k}x{k} Gram + lam I",
            )
        with clause("f"):
            assert got[0] >= lam - 8 * (problem.n + problem.d) * backend.eps * top
        kappa = gram_cond(problem, lam, k)
        got_cond = float(np.linalg.cond(backend.to_numpy(A)))
        with clause("g"):
            assert_gram_cond(backend, problem, k, got_cond, kappa)
        with clause("h"):
            # the computed condition number is kappa within 2 dim eps kappa (`gram_cond_dim`), so
            # below the bound within the identity tolerance at cond top / lam
            bound_tol = check.tolerance(
                kind="identity", cond=top / lam, dim=gram_cond_dim(problem, k)
            )
            assert kappa <= top / lam
            assert got_cond <= top / lam * (1 + bound_tol)
            if k > min(problem.n, problem.d):  # the larger matrix when n != d attains the bound
                assert kappa == top / lam
                assert_gram_cond(backend, problem, k, got_cond, top / lam)


def assert_gram_cond(backend, problem, k: int, got: float, kappa: float) -> None:
    """The computed condition number of the k x k Gram + lam I is `kappa` within the bound of
    `gram_cond_dim` (relative, at conditioning kappa)."""
    check = Check(CLOSED, backend)
    check.assert_close(
        np.array(got),
        np.array(kappa),
        cond=kappa,
        dim=gram_cond_dim(problem, k),
        what=f"condition number of the {k}x{k} Gram + lam I",
    )


@claim(CLOSED, breaks="n != d: the old cond (s_max^2 + lam) / (s_min^2 + lam) for both Grams")
@pytest.mark.parametrize("backend", backend_params())
@given(drawn=rectangular_gram_problems())
# The example: the singular values of np.random.default_rng(0).standard_normal((3, 6))
# (condition numbers depend on nothing else), lam = 0.5: the 6 x 6 matrix has condition 17.83,
# the old wording said 7.33 (the 3 x 3 one's, which is right for that one).
@example(
    drawn=(
        make_problem(
            n=3, d=6, svals=[2.9007860396897676, 2.182636791349277, 0.846249297313636], seed=0
        ),
        0.5,
    )
)
def test_old_gram_condition_number_fails_when_n_differs_from_d(backend, drawn):
    """The larger Gram + lam I (size max(n, d) > r) has the eigenvalue lam, so its condition
    number (np.linalg.cond) is (sigma_max^2 + lam) / lam, as the statement now says, and differs
    from the old (sigma_max^2 + lam) / (sigma_min^2 + lam) by more than the rounding can explain.
    Here kappa = 1 + cond(X)^2 / ratio <= 1001, so the relative tolerance 4 dim eps kappa (dim <= 73,
    `gram_cond_dim`) is below 0.035 in float32, while the old formula lies below kappa by
    kappa / (1 + ratio) >= kappa / 11: more than twice the tolerance."""
    check = Check(CLOSED, backend)
    problem, lam = drawn
    xp = backend.xp
    X = backend.asarray(problem.X)
    k = max(problem.n, problem.d)
    gram = X.T @ X if k == problem.d else X @ X.T
    A = gram + lam * xp.eye(k, dtype=X.dtype, device=device_of(X))
    got = float(np.linalg.cond(backend.to_numpy(A)))
    top = problem.sigma_max**2 + lam
    kappa, old = top / lam, top / (problem.sigma_min**2 + lam)
    assert gram_cond(problem, lam, k) == kappa
    assert_gram_cond(backend, problem, k, got, kappa)
    tol = check.tolerance(kind="identity", cond=kappa, dim=gram_cond_dim(problem, k))
    assert abs(got - old) > tol * kappa, "the old formula is not violated beyond rounding"


@claim(CLOSED)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=log_uniform(1e-3, 1e3), m=st.sampled_from([None, 1, 3]))
def test_ridge_matches_sklearn(backend, problem, lam, m):
    """Differential check: sklearn's Ridge(alpha=lam, fit_intercept=False) in float64.

    scikit-learn minimises ||y - Xw||^2 + alpha ||w||^2 (no 1/n), so alpha = lam exactly. Its
    coef_ has shape (m, d) for m targets; dlcore returns (d, m). Error model as in the first test.
    """
    check = Check(CLOSED, backend)
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(problem.seed)
    Y = problem.y if m is None else rng.standard_normal((problem.n, m))
    w = ridge(backend.asarray(problem.X), backend.asarray(Y), lam)
    ref = Ridge(alpha=lam, fit_intercept=False, solver="cholesky").fit(problem.X, Y).coef_
    ref = ref if m is None else np.reshape(ref, (m, problem.d)).T
    with clause("i"):
        assert tuple(w.shape) == ref.shape
        check.assert_close(
            w,
            ref,
            kind="equivalence",
            cond=ridge_cond(problem, lam),
            scale=ridge_scale(problem, lam, Y),
            what="dlcore ridge vs sklearn Ridge",
        )


@claim(CLOSED, breaks="lambda = 0 with d > n")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(1, 8), d=(2, 12), shape="wide"), seed=seeds)
def test_least_squares_without_ridge_has_many_minimizers(backend, problem, seed):
    """With lam = 0 and d > n, X^T X is singular: ridge refuses, and minimizers are not unique.

    From the minimum-norm solution w, a null-space step z of norm 1 leaves J unchanged: the
    difference is only the cancellation error eps * J (J ~ 0 here, so scale 1 + |w|^2).
    """
    check = Check(CLOSED, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    with pytest.raises(ValueError, match="singular"):
        ridge(X, y, 0.0)
    b = np.random.default_rng(seed).standard_normal(problem.d - problem.rank)
    z = problem.V[:, problem.rank :] @ (b / np.linalg.norm(b))
    w = svd_ridge(problem, 0.0)
    J0 = float(backend.to_numpy(ridge_objective(backend.asarray(w), X, y, 0.0)))
    J1 = float(backend.to_numpy(ridge_objective(backend.asarray(w + z), X, y, 0.0)))
    scale = (problem.sigma_max * (1 + np.linalg.norm(w)) + np.linalg.norm(problem.y)) ** 2
    check.assert_close(
        np.array(J1),
        np.array(J0),
        scale=scale,
        dim=problem.n + problem.d,
        what="J(w + z) vs J(w), z in null(X)",
    )
    # z = V_0 b / |b| has norm 1 up to (d + 2) u (a length-d product with orthonormal columns);
    # (w + z) - w rounds each entry by u (|w_i| + |z_i|) twice: 2 u (|w| + 1) sqrt(d) more
    moved = float(np.linalg.norm((w + z) - w))
    d = problem.d
    eps = float(np.finfo(np.float64).eps)
    assert abs(moved - 1.0) <= eps * ((float(np.linalg.norm(w)) + 1) * math.sqrt(d) + d + 2)


# ---- ridge.svd-filter-factor-form --------------------------------------------------------------


@claim(FILTER)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=log_uniform(1e-3, 1e3), m=st.sampled_from([None, 2]))
def test_ridge_coordinates_are_filtered_least_squares(backend, problem, lam, m):
    """V^T w_lam = (sigma_i y~_i / (sigma_i^2 + lam), then zeros), by three routes.

    ridge_svd (thin SVD), ridge (d x d primal) and ridge_dual (n x n) all agree with the known-SVD
    coordinates, and the filter factors times the OLS coordinates y~_i / sigma_i give the same
    numbers. Each route is backward stable on a problem of condition (sigma_max^2 + lam) / lam.
    """
    check = Check(FILTER, backend)
    rng = np.random.default_rng(problem.seed)
    Y = problem.y if m is None else rng.standard_normal((problem.n, m))
    X, y = backend.asarray(problem.X), backend.asarray(Y)
    r, s = problem.rank, problem.svals
    yt = problem.U.T @ Y
    coords = np.zeros((problem.d, *Y.shape[1:]))
    coords[:r] = ((s / (s**2 + lam)) * yt[:r].T).T
    phi = backend.to_numpy(ridge_filter_factors(backend.asarray(s.copy()), lam))
    with clause("b"):
        check.assert_close(phi, s**2 / (s**2 + lam), what="filter factors")
        check.assert_close(
            ((phi / s) * yt[:r].T).T,
            coords[:r],
            what="phi_i * (y~_i / sigma_i)",
        )
    cond, scale = ridge_cond(problem, lam), ridge_scale(problem, lam, Y)
    # a: each route has the claimed coordinates (zeros past r: in row(X)); c: so they agree
    with clause("a", "c"):
        for name, w in (
            ("ridge_svd", ridge_svd(X, y, lam)),
            ("ridge", ridge(X, y, lam)),
            ("ridge_dual", ridge_dual(X, y, lam)),
        ):
            assert tuple(w.shape) == (problem.d, *Y.shape[1:])
            check.assert_close(
                problem.V.T @ backend.to_numpy(w),
                coords,
                cond=cond,
                scale=scale,
                what=f"V^T {name}",
            )


@claim(FILTER)
@pytest.mark.parametrize("backend", backend_params())
@given(
    sigma=log_uniform(1e-3, 1e3),
    lam=log_uniform(1e-3, 1e3),
    size=log_uniform(1e-2, 1e2),
    sign=st.sampled_from([-1.0, 1.0]),
)
def test_scalar_ridge_minimizer(backend, sigma, lam, size, sign):
    """The scalar problem (sigma w - y)^2 + lam w^2 is minimised at sigma y / (sigma^2 + lam).

    Exact in rational arithmetic: J(w* + h) - J(w*) = (sigma^2 + lam) h^2 > 0 for every h.
    Checked through ridge on the 1 x 1 matrix [sigma] (cond (sigma^2 + lam) / lam).
    """
    check = Check(FILTER, backend)
    y = sign * size
    X, Y = backend.asarray([[sigma]]), backend.asarray([y])
    w = ridge(X, Y, lam)
    expected = np.array([sigma * y / (sigma**2 + lam)])
    with clause("a"):
        check.assert_close(
            w,
            expected,
            cond=(sigma**2 + lam) / lam,
            scale=abs(expected[0]) + sigma * abs(y) / (sigma**2 + lam),
            what="scalar ridge",
        )


# ---- ridge.gd-on-ridge-is-weight-decay --------------------------------------------------------

decay_products = st.one_of(st.floats(0.05, 0.95), st.floats(1.05, 1.95))


@claim(DECAY)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=log_uniform(1e-2, 1e2), c=st.floats(0.05, 1.95), seed=seeds)
def test_gd_step_on_ridge_is_decay_plus_least_squares_step(backend, problem, lam, c, seed):
    """One GD step on J equals (1 - 2 eta lam) w + 2 eta X^T (y - X w), and the pull is inward.

    eta = c / (2 (sigma_max^2 + lam)) is a stable step. Both sides are a handful of flops on
    vectors of size |w| + 2 eta (sigma_max^2 |w| + sigma_max |y|): the comparison scale.
    """
    check = Check(DECAY, backend)
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(problem.d)
    X, y, w = backend.asarray(problem.X), backend.asarray(problem.y), backend.asarray(w0)
    eta = c / (2 * (problem.sigma_max**2 + lam))
    (w1, _) = run(gd(eta), lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)}, {"w": w}, 1)
    decayed = (1 - 2 * eta * lam) * w + 2 * eta * (X.T @ (y - X @ w))
    scale = float(
        np.linalg.norm(w0) * (1 + 2 * eta * (problem.sigma_max**2 + lam))
        + 2 * eta * problem.sigma_max * np.linalg.norm(problem.y)
    )
    with clause("a"):
        check.assert_close(
            w1["w"],
            decayed,
            scale=scale,
            dim=problem.n + problem.d,
            what="GD step vs weight-decay form",
        )
    zero = backend.asarray(np.zeros_like(problem.X))
    pull = ridge_grad(w, zero, backend.asarray(np.zeros(problem.n)), lam)
    inner = float(backend.to_numpy(backend.xp.sum(-pull * w)))
    with clause("b"):
        assert inner < 0
        check.assert_close(
            np.array(inner),
            np.array(-2 * lam * w0 @ w0),
            dim=problem.d,
            what="<-grad R(w), w> vs -2 lam |w|^2",
        )


@claim(DECAY)
@pytest.mark.parametrize("backend", backend_params())
@given(
    d=st.integers(1, 8),
    lam=log_uniform(1e-2, 1e2),
    c=decay_products,
    steps=st.integers(1, 50),
    seed=seeds,
)
def test_weight_decay_alone_is_geometric(backend, d, lam, c, steps, seed):
    """With X = 0, GD gives w_T = (1 - c)^T w0 with c = 2 eta lam: positive, or alternating.

    Each step computes w - eta (2 lam w): for c near 1 this cancels, losing eps / |1 - c| of
    relative accuracy per step; over T steps the relative error is T eps / |1 - c| (the cond).
    T is capped where |1 - c|^T reaches 1e-20, well above float32's normal range.
    """
    check = Check(DECAY, backend)
    steps = min(steps, max(1, math.floor(math.log(1e-20) / math.log(abs(1 - c)))))
    w0 = np.random.default_rng(seed).standard_normal(d)
    eta = c / (2 * lam)
    X, y = backend.asarray(np.zeros((3, d))), backend.asarray(np.zeros(3))
    wT, traj = run(
        gd(eta),
        lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)},
        {"w": backend.asarray(w0)},
        steps,
        record_every=1,
    )
    with clause("c"):
        check.assert_close(
            wT["w"],
            (1 - c) ** steps * w0,
            cond=max(1.0, 1 / abs(1 - c)),
            dim=steps + d,
            what="w_T vs (1 - 2 eta lam)^T w0",
        )
    signs = [np.sign(backend.to_numpy(p["w"]) @ w0) for p in traj[1:]]
    expected = [1.0 if c < 1 else (-1.0) ** (t + 1) for t in range(len(signs))]
    with clause("e"):
        assert signs == expected
    norms = [np.linalg.norm(backend.to_numpy(p["w"])) for p in traj]
    with clause("d"):  # the "if" half: 0 < 2 eta lam < 2 decays, strictly at every step
        assert all(b < a for a, b in itertools.pairwise(norms))


@claim(DECAY)
@pytest.mark.parametrize("backend", backend_params())
@given(
    d=st.integers(1, 8),
    lam=log_uniform(1e-2, 1e2),
    c=st.one_of(st.floats(0.05, 1.95), st.just(2.0), st.floats(2.05, 3.0)),
    seed=seeds,
)
def test_weight_decay_alone_decays_iff_the_product_is_below_two(backend, d, lam, c, seed):
    """With X = 0, |w_T| / |w0| = q^T, q = |1 - c|, c = 2 eta lam: it falls below 1e-3 iff c < 2.

    T is the first step with q^T <= 1e-3 (c < 2; T = 1 when q = 0), with q^T >= 1e3 (c > 2), or
    20 at c = 2, where |w_T| = |w0| for every T. A step w - eta (2 lam w) rounds 2 lam w, the
    product with eta and the difference: an absolute error <= (2 c + q) u |w_t| <= 5 u |w_t|
    (c < 3). For q < 1 these errors are damped, so |w_T| is within 5 T u |w0| of q^T |w0|; for
    q >= 1 each is relative 5 u / q <= 5 u to w_{t+1}, so |w_T| is q^T |w0| to relative 5 T u.
    Both are below the equivalence tolerance 8 (T + d) eps (absolute, resp. relative), far inside
    the factor-1e3 margins.
    """
    check = Check(DECAY, backend)
    q = abs(1 - c)
    if q == 0:
        steps = 1
    elif q == 1:
        steps = 20
    else:
        steps = max(1, math.ceil(math.log(1e-3 if q < 1 else 1e3) / math.log(q)))
    w0 = np.random.default_rng(seed).standard_normal(d)
    X, y = backend.asarray(np.zeros((3, d))), backend.asarray(np.zeros(3))
    wT, _ = run(
        gd(c / (2 * lam)),
        lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)},
        {"w": backend.asarray(w0)},
        steps,
    )
    ratio = float(np.linalg.norm(backend.to_numpy(wT["w"])) / np.linalg.norm(w0))
    slack = check.tolerance(kind="equivalence", dim=steps + d)
    with clause("d"):  # decays (to 1e-3 in T steps) iff c < 2; at and past 2 it does not
        if c < 2:
            assert ratio <= 1e-3 + slack
        else:
            assert ratio >= 1 - slack
    if c > 2:
        with clause("f"):
            assert ratio >= 1e3 * (1 - slack)


@claim(DECAY, breaks="2 eta lam > 2 (step past the stability bound)")
@pytest.mark.parametrize("backend", backend_params())
@given(d=st.integers(1, 8), lam=log_uniform(1e-2, 1e2), c=st.floats(2.05, 3.0), seed=seeds)
def test_weight_decay_past_the_bound_diverges(backend, d, lam, c, seed):
    """With c = 2 eta lam > 2 the factor |1 - c| > 1: |w_T| = |1 - c|^T |w0| grows without bound.

    T is the first step with |1 - c|^T >= 1e3. Relative error T eps (no cancellation: |1 - c| > 1).
    """
    check = Check(DECAY, backend)
    w0 = np.random.default_rng(seed).standard_normal(d)
    steps = math.ceil(math.log(1e3) / math.log(c - 1))
    X, y = backend.asarray(np.zeros((3, d))), backend.asarray(np.zeros(3))
    wT, _ = run(
        gd(c / (2 * lam)),
        lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)},
        {"w": backend.asarray(w0)},
        steps,
    )
    check.assert_close(
        wT["w"],
        (1 - c) ** steps * w0,
        dim=steps + d,
        what="w_T vs (1 - c)^T w0",
    )
    # |1 - c|^T >= 1e3 by the choice of T (up to the rounding of its logarithms, two operations),
    # and the run errs by (T + d) eps relative, as above
    check.assert_at_least(
        np.linalg.norm(backend.to_numpy(wT["w"])),
        1e3 * np.linalg.norm(w0),
        dim=steps + d + 2,
        what="|w_T| >= 1e3 |w0|",
    )
    # the boundary 2 eta lam = 2 ("iff" in the statement): w_t = (-1)^t w0 never decays. The
    # rounded factor is 1 - 2 (1 + 3 u) per step, so |w_T| / |w0| is 1 to within 6 T u = 3 T eps.
    w2, _ = run(
        gd(1 / lam),
        lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)},
        {"w": backend.asarray(w0)},
        steps,
    )
    check.assert_close(
        w2["w"],
        (-1.0) ** steps * w0,
        dim=steps + d,
        what="w_T vs (-1)^T w0 at 2 eta lam = 2",
    )


# ---- ridge.ols-closed-form-and-projection ------------------------------------------------------

OLS = "ridge.ols-closed-form-and-projection"
tall = regression_problems(n=(2, 12), d=(1, 8), shape="tall")


@claim(OLS)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=tall)
@example(problem=make_problem(n=4, d=3, svals=[1.0, 1.0, 0.4216965], seed=2949123723))
def test_ols_residual_is_orthogonal_and_fit_is_a_projection(backend, problem):
    """ridge(X, y, 0) (the normal equations, condition cond(X)^2) equals the SVD solution; its
    residual is orthogonal to col(X); P = (X^T)^+ X^T = X X^+ is a symmetric idempotent; and
    |y|^2 = |Py|^2 + |y - Py|^2 (checked in float64 from the backend's P).
    """
    check = Check(OLS, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w = ridge(X, y, 0.0)
    ref = svd_ridge(problem, 0.0)
    cond2 = problem.cond**2
    s = problem.sigma_max
    w_norm = float(np.linalg.norm(ref))
    # Normal equations: forming X^T y errs by (n + d) eps s |y| absolutely, which
    # (X^T X)^{-1} maps to (n + d) eps cond^2 |y| / s; forming X^T X adds (n + d) eps cond^2 |w|.
    with clause("a"):
        check.assert_close(
            w,
            ref,
            cond=cond2,
            scale=w_norm + float(np.linalg.norm(problem.y)) / s,
            dim=problem.n + problem.d,
            what="normal equations vs SVD",
        )
    with clause("b"):
        check.assert_close(
            X.T @ (y - X @ w),
            np.zeros(problem.d),
            cond=cond2,
            scale=s * np.linalg.norm(problem.y) + s**2 * w_norm,
            dim=problem.n + problem.d,
            what="X^T (y - X w)",
        )
    # P~ = pinv(X^T) X^T from a backward-stable SVD: its column space is off by an angle of at
    # most (n + d) eps cond(X), so E = P~ - P has |E|_F <= (n + d) eps cond |P|_F, |P|_F = sqrt(d),
    # plus the product's d eps cond. P~^2 - P~ = PE + EP + E^2 - E is at most 3 |E| plus the
    # square's own n eps |P|^2: dim 4 (n + d). P~^T - P~ = E^T - E: dim 2 (n + d). Pythagoras:
    # |P~y|^2 + |y - P~y|^2 - |y|^2 = 2 y^T (P~^T P~ - P~) y is at most 6 |E| |y|^2 plus the three
    # norms' n eps |y|^2: dim 7 (n + d), relative to |y|^2. (Sweep seed 543738929 found dim n too
    # small for P^2 at n = 4, d = 3.)
    nd = problem.n + problem.d
    P = backend.to_numpy(row_space_projector(X.T))
    fit = P @ problem.y
    with clause("c"):
        check.assert_close(
            P @ P,
            P,
            cond=problem.cond,
            scale=math.sqrt(problem.d),
            dim=4 * nd,
            what="P^2 vs P",
        )
        check.assert_close(
            P.T,
            P,
            cond=problem.cond,
            scale=math.sqrt(problem.d),
            dim=2 * nd,
            what="P^T vs P",
        )
        # The fit X w is P y: X w errs by s times w's error above, <= 4 nd eps cond^2 (s |w| + |y|),
        # and P y by |E| |y| <= nd eps cond sqrt(d) |y|; the two computations add (equivalence).
        check.assert_close(
            problem.X @ backend.to_numpy(w),
            fit,
            kind="equivalence",
            cond=cond2,
            scale=s * w_norm + float(np.linalg.norm(problem.y)) * (1 + math.sqrt(problem.d)),
            dim=nd,
            what="X w vs P y",
        )
    with clause("d"):
        check.assert_close(
            np.array(fit @ fit + (problem.y - fit) @ (problem.y - fit)),
            np.array(problem.y @ problem.y),
            cond=problem.cond,
            dim=7 * nd,
            what="Pythagoras",
        )


@claim(OLS, breaks="X without full column rank")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(3, 12), d=(2, 8), shape="tall", rank="deficient"))
def test_ols_normal_equations_singular_without_full_rank(backend, problem):
    """With rank X < d, X^T X is singular: the closed form is refused (many solutions exist)."""
    with pytest.raises(ValueError, match="singular"):
        ridge(backend.asarray(problem.X), backend.asarray(problem.y), 0.0)


# ---- ridge.fake-data-points-give-ridge --------------------------------------------------------

FAKE_ROWS = "ridge.fake-data-points-give-ridge"


@claim(FAKE_ROWS)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=log_uniform(1e-3, 1e3), seed=seeds)
@example(  # float32, dim d = 1: 9.995e-07 > 9.546e-07 (counterexamples ledger)
    problem=make_problem(n=1, d=1, svals=[1.0], seed=0), lam=999.9999999999998, seed=0
)
def test_fake_rows_turn_least_squares_into_ridge(backend, problem, lam, seed):
    """Least squares on [X; sqrt(lam) I], [y; 0] equals ridge; the objectives agree at a random w.

    X_a^T X_a = X^T X + lam I, so the augmented normal equations have the ridge condition number.
    Terms: ridge(X_a, y_a, 0) is a Householder QR of the (n + d) x d matrix X_a and Q^T y_a, inner
    products over n + d rows, then a d x d triangular solve (d <= n + d); on top, casting X and y
    to the dtype and rounding sqrt(lam) perturb the data by u each. So the comparison counts
    dim = n + d, as the objective check below does; the former default dim d (the length of w)
    missed the n rows: the example above, n = d = 1, lam = 1e3, err 16.8 u against 16 u.
    """
    check = Check(FAKE_ROWS, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    Xa, ya = augment_ridge_rows(X, y, lam)
    assert tuple(Xa.shape) == (problem.n + problem.d, problem.d)
    # X_a^T X_a = X^T X + lam I and X_a^T y_a = X^T y, formed on the backend: inner products of
    # length n + d, so entrywise errors <= (n + d) u |a_i| |a_j| (and |a_i| |y|), plus the
    # rounding of X, y and sqrt(lam) to the dtype (u each, squared: 2 u): in norm at most
    # (n + d + 2) eps |X_a|_F^2 and (n + d + 2) eps |X_a|_F |y|, |X_a|_F^2 = sum sigma_i^2 + d lam.
    nd2 = problem.n + problem.d + 2
    fro2 = float(np.sum(problem.svals**2)) + problem.d * lam
    with clause("b"):
        check.assert_close(
            Xa.T @ Xa,
            problem.X.T @ problem.X + lam * np.eye(problem.d),
            kind="identity",
            scale=fro2,
            dim=nd2,
            what="X_a^T X_a vs X^T X + lam I",
        )
    with clause("c"):
        check.assert_close(
            Xa.T @ ya,
            problem.X.T @ problem.y,
            kind="identity",
            scale=math.sqrt(fro2) * float(np.linalg.norm(problem.y)),
            dim=nd2,
            what="X_a^T y_a vs X^T y",
        )
    # full column rank: sigma_min(X_a)^2 = lambda_min(X^T X + lam I) >= lam, far above rank's cutoff
    with clause("d"):
        assert int(np.linalg.matrix_rank(backend.to_numpy(Xa))) == problem.d
    cond, scale = ridge_cond(problem, lam), ridge_scale(problem, lam, problem.y)
    with clause("e"):
        check.assert_close(
            ridge(Xa, ya, 0.0),
            svd_ridge(problem, lam),
            cond=cond,
            dim=problem.n + problem.d,
            scale=scale,
            what="OLS on augmented data vs ridge",
        )
    w = backend.asarray(np.random.default_rng(seed).standard_normal(problem.d))
    with clause("a"):
        check.assert_close(
            ridge_objective(w, Xa, ya, 0.0),
            ridge_objective(w, X, y, lam),
            dim=problem.n + problem.d,
            what="augmented loss vs ridge objective",
        )


@claim(FAKE_ROWS, breaks="lambda = 0 with d > n")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(1, 8), d=(2, 10), shape="wide"))
def test_no_fake_rows_no_unique_solution(backend, problem):
    """With lam = 0 the fake rows are zero and X_a has rank n < d: least squares is not unique."""
    Xa, ya = augment_ridge_rows(backend.asarray(problem.X), backend.asarray(problem.y), 0.0)
    with pytest.raises(ValueError, match="singular"):
        ridge(Xa, ya, 0.0)


# ---- ridge.fake-features-min-norm-gives-ridge -------------------------------------------------

FAKE_COLS = "ridge.fake-features-min-norm-gives-ridge"


@claim(FAKE_COLS)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=log_uniform(1e-3, 1e3))
def test_fake_features_min_norm_solution_contains_ridge(backend, problem, lam):
    """X_f = [X, sqrt(lam) I_n] has X_f X_f^T = X X^T + lam I (full rank n), so its minimum-norm
    solution interpolates; its first d entries are ridge, the rest (y - X w_lam) / sqrt(lam).
    pinv of X_f has condition sqrt((sigma_max^2 + lam) / lam); the ridge condition bounds both.
    """
    check = Check(FAKE_COLS, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    Xf = augment_ridge_features(X, lam)
    assert tuple(Xf.shape) == (problem.n, problem.d + problem.n)
    with clause("a"):
        assert int(np.linalg.matrix_rank(backend.to_numpy(Xf))) == problem.n
    z = min_norm_solution(Xf, y)
    cond, scale = ridge_cond(problem, lam), ridge_scale(problem, lam, problem.y)
    w_ref = svd_ridge(problem, lam)
    zeta_ref = (problem.y - problem.X @ w_ref) / math.sqrt(lam)
    z_np = backend.to_numpy(z)
    with clause("b"):
        check.assert_close(
            z_np[: problem.d],
            w_ref,
            cond=cond,
            scale=scale,
            dim=problem.n + problem.d,
            what="first block vs ridge",
        )
    zeta_scale = float(np.linalg.norm(zeta_ref)) + float(np.linalg.norm(problem.y)) / math.sqrt(lam)
    # zeta's closed form sqrt(lam) (X X^T + lam I)^{-1} y, a float64 host solve of the ridge
    # condition number: a second computation, so the equivalence constant.
    zeta_dual = math.sqrt(lam) * np.linalg.solve(
        problem.X @ problem.X.T + lam * np.eye(problem.n), problem.y
    )
    with clause("c"):
        check.assert_close(
            z_np[problem.d :],
            zeta_ref,
            cond=cond,
            scale=zeta_scale,
            dim=problem.n + problem.d,
            what="fake-feature block vs residual / sqrt(lam)",
        )
        check.assert_close(
            z_np[problem.d :],
            zeta_dual,
            kind="equivalence",
            cond=cond,
            scale=zeta_scale,
            dim=problem.n + problem.d,
            what="fake-feature block vs sqrt(lam) (X X^T + lam I)^{-1} y",
        )
    with clause("a"):  # the exact solution exists: the minimum-norm one solves X_f z = y
        check.assert_close(
            Xf @ z,
            problem.y,
            cond=cond,
            dim=problem.n + problem.d,
            what="X_f z vs y",
        )


@claim(FAKE_COLS, breaks="lambda = 0 with rank-deficient X")
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(problem=regression_problems(n=(2, 10), d=(2, 10), rank="deficient"))
def test_without_fake_features_the_system_is_unsolvable(backend, problem):
    """With lam = 0 and rank X < n, X_f = [X, 0] has rank < n: no exact solution exists, and the
    least-squares residual is |U_0^T y| > 0. float64 only: rounding the drawn X to float32 perturbs
    its zero singular values to ~1e-8, above numerical-rank thresholds, so the rank deficiency
    itself does not survive the cast."""
    check = Check(FAKE_COLS, backend)
    Xf = augment_ridge_features(backend.asarray(problem.X), 0.0)
    assert int(np.linalg.matrix_rank(backend.to_numpy(Xf))) < problem.n
    z = backend.to_numpy(min_norm_solution(Xf, backend.asarray(problem.y)))
    residual = float(
        np.linalg.norm(
            np.concatenate([problem.X, np.zeros((problem.n, problem.n))], 1) @ z - problem.y
        )
    )
    outside = float(np.linalg.norm(problem.U[:, problem.rank :].T @ problem.y))
    check.assert_close(
        np.array(residual),
        np.array(outside),
        cond=problem.cond**2,
        scale=float(np.linalg.norm(problem.y)),
        what="residual",
    )
    assert outside > 0


# ---- ridge.filter-factor-is-a-smoothed-step ---------------------------------------------------

STEP = "ridge.filter-factor-is-a-smoothed-step"


@claim(STEP)
@pytest.mark.parametrize("backend", backend_params())
@given(lam=log_uniform(1e-4, 1e4), seed=seeds)
def test_filter_factor_is_a_logistic_step(backend, lam, seed):
    """On 32 sigmas log-uniform in [1e-4, 1e4]: phi (dlcore, on the backend) equals
    sigmoid(log sigma^2 - log lam) and sigma / (sigma + lam / sigma) (the ratio w~ridge / w~OLS
    of the form y~ / (sigma + lam / sigma)), elementwise (identity tolerance), and obeys the ratio
    and step-deviation bounds (exact inequalities in float64, and on dlcore's phi).

    Rounding (u = eps / 2 per operation): dlcore rounds sigma and lam to the backend, squares, adds
    and divides, <= 6 u_b relative (phi's relative condition in sigma^2 is lam / (sigma^2 + lam)
    <= 1). The sigma / (sigma + lam / sigma) oracle adds <= 3 u_64. The sigmoid oracle evaluates
    t = log sigma^2 - log lam with an absolute error dt <= u_64 (1 + Lam),
    Lam = |log sigma^2| + |log lam| + |t| (two logs, the rounded square, the subtraction), which exp
    turns into a relative error dt and 1 / (1 + e^-t) scales by 1 - s: it errs by
    <= u_64 (4 + (1 - s) Lam). The sweep found this oracle term (up to Lam ~ 40 at sigma ~ 5e-3,
    lam = 1e4: ratio 0.82 with cond 1). So cond = 1 + (1 - s) Lam r / 2, r = eps_64 / eps_b, and the
    total error is <= eps_b (3 + 2 r + (cond - 1)) <= 5 cond eps_b against the tolerance
    4 x 4 x cond eps_b: the ratio cannot exceed 5 / 16 for any sigma, lam.
    """
    check = Check(STEP, backend)
    sig = np.exp(np.random.default_rng(seed).uniform(np.log(1e-4), np.log(1e4), 32))
    phi = backend.to_numpy(ridge_filter_factors(backend.asarray(sig), lam))
    t = np.log(sig**2) - np.log(lam)
    sigmoid = 1 / (1 + np.exp(-t))
    lam_t = np.abs(np.log(sig**2)) + abs(math.log(lam)) + np.abs(t)
    r64 = float(np.finfo(np.float64).eps) / backend.eps
    sig_cond = 1 + (1 - sigmoid) * lam_t * r64 / 2
    with clause("d"):
        for k in range(len(sig)):
            check.assert_close(
                np.array(phi[k]),
                np.array(sigmoid[k]),
                dim=4,
                cond=float(sig_cond[k]),
                what=f"phi vs sigmoid at sigma={sig[k]:.3g}",
            )
    # w~ridge = phi y~ / sigma (`ridge.svd-filter-factor-form`), so w~ridge = y~ / (sigma + lam /
    # sigma) is phi = sigma / (sigma + lam / sigma)
    form = sig / (sig + lam / sig)
    with clause("a"):
        for k in range(len(sig)):
            check.assert_close(
                np.array(phi[k]),
                np.array(form[k]),
                dim=4,
                what=f"phi vs sigma / (sigma + lam / sigma) at sigma={sig[k]:.3g}",
            )
    # The exact deviations, written without cancellation: 1 - phi = lam / (sigma^2 + lam) and
    # phi = sigma^2 / (sigma^2 + lam); their bounds, and the distance to the hard step.
    below, above = lam / (sig**2 + lam), sig**2 / (sig**2 + lam)
    with clause("b"):
        assert np.all(below <= lam / sig**2)
        check.assert_close(phi, above, dim=4, what="phi vs sigma^2/(sigma^2+lam)")
        # |phi - 1| = lam / (sigma^2 + lam), from dlcore's phi: 1 - phi cancels, so compare
        # absolutely: phi errs by <= 6 u_b, the subtraction adds u_b, `below` u_64 (<= 4 eps_b
        # per entry, so <= 4 eps_b sqrt(32) in norm: scale sqrt(32), dim 1).
        check.assert_close(
            1 - phi,
            below,
            scale=math.sqrt(len(sig)),
            dim=1,
            what="1 - phi vs lam / (sigma^2 + lam)",
        )
    with clause("c"):
        assert np.all(above <= sig**2 / lam)
        # w~ridge / (sigma y~ / lam) = (phi y~ / sigma) / (sigma y~ / lam) = phi lam / sigma^2,
        # from dlcore's phi: it is <= 1 and errs by <= 6 u_b + 2 u_64 <= 4 eps_b absolutely; the
        # subtraction of 1 adds <= u_64 and `above` <= 2 u_64, so <= 4.5 eps_b per entry,
        # <= 4.5 eps_b sqrt(32) in norm (tolerance 8 eps_b sqrt(32): scale sqrt(32), dim 2).
        check.assert_close(
            np.abs(phi * lam / sig**2 - 1),
            above,
            scale=math.sqrt(len(sig)),
            dim=2,
            what="|w~ridge / (sigma y~ / lam) - 1| vs sigma^2 / (sigma^2 + lam)",
        )
    step = (sig**2 > lam).astype(float)
    bound = np.minimum(lam / sig**2, sig**2 / lam)
    with clause("e"):
        assert np.all(np.where(sig**2 > lam, below, above) <= bound)
        # on dlcore's phi: it errs by <= 6 u_b = 3 eps_b absolutely (phi <= 1)
        check.assert_at_most(np.abs(phi - step), bound, kind="identity", scale=1.0)


# ---- ridge.regularization-path-monotonicity ---------------------------------------------------

PATH = "ridge.regularization-path-monotonicity"


@claim(PATH)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 12), rank="any", max_cond=1e6),
    lam=log_uniform(1e-3, 1e3),
    ratio=log_uniform(1.01, 100.0),
)
def test_ridge_norm_bound_and_monotone_path(backend, problem, lam, ratio):
    """|w_lam| <= |y| / (2 sqrt(lam)) whatever the conditioning; |w| falls and the residual grows
    from lam to lam2 = ratio * lam. Each computed quantity carries the rounding of a solve with
    condition (sigma_max^2 + lam) / lam, which is added to the exact inequality as slack.
    """
    check = Check(PATH, backend)
    host_check = Check(PATH, HOST)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    lam2 = ratio * lam
    w1, w2 = ridge(X, y, lam), ridge(X, y, lam2)
    n1, n2 = (float(np.linalg.norm(backend.to_numpy(w))) for w in (w1, w2))
    slack1 = check.tolerance(
        kind="bound", cond=ridge_cond(problem, lam), dim=problem.n + problem.d
    ) * ridge_scale(problem, lam, problem.y)
    slack2 = check.tolerance(
        kind="bound", cond=ridge_cond(problem, lam2), dim=problem.n + problem.d
    ) * ridge_scale(problem, lam2, problem.y)
    ynorm = float(np.linalg.norm(problem.y))
    r1, r2 = (float(np.linalg.norm(problem.X @ backend.to_numpy(w) - problem.y)) for w in (w1, w2))
    s = problem.sigma_max
    # the exact values, from the SVD, obey the same inequalities with no slack (float64: sums of
    # at most n + d terms, relative rounding <= (n + d) eps_64, within bound's 8 x (n + d) x eps)
    e1, e2 = svd_ridge(problem, lam), svd_ridge(problem, lam2)
    nd = problem.n + problem.d
    with clause("a"):
        assert n1 <= ynorm / (2 * math.sqrt(lam)) + slack1
        host_check.assert_at_most(
            np.linalg.norm(e1), ynorm / (2 * math.sqrt(lam)), kind="bound", dim=nd
        )
    with clause("d"):
        assert n1 >= n2 - slack1 - slack2
        host_check.assert_at_least(np.linalg.norm(e1), np.linalg.norm(e2), kind="bound", dim=nd)
    with clause("e"):
        assert r1 <= r2 + s * (slack1 + slack2)
    # the weak bound's chain lam |w|^2 <= J(w) <= J(0) = |y|^2, at the exact w (float64, three
    # terms of relative rounding (n + d) eps each: within bound's 8 x (n + d) x eps)
    J1 = float(np.linalg.norm(problem.X @ e1 - problem.y) ** 2 + lam * e1 @ e1)
    with clause("c"):
        host_check.assert_at_most(lam * (e1 @ e1), J1, kind="bound", dim=nd)
        host_check.assert_at_most(J1, ynorm**2, kind="bound", dim=nd)
        assert n1 <= ynorm / math.sqrt(lam) + slack1
    # the strong bound is sharp: X = [sqrt(lam)], y = [|y|] gives w = |y| / (2 sqrt(lam)) exactly
    # (a 1 x 1 solve of condition (lam + lam) / lam = 2)
    sharp = ridge(backend.asarray([[math.sqrt(lam)]]), backend.asarray([ynorm]), lam)
    with clause("b"):
        check.assert_close(
            sharp,
            np.array([ynorm / (2 * math.sqrt(lam))]),
            kind="identity",
            cond=2.0,
            dim=2,
            what="|w| at sigma = sqrt(lam) vs |y| / (2 sqrt(lam))",
        )


# ---- ridge.lambda-limits ----------------------------------------------------------------------

LIMITS = "ridge.lambda-limits"


@claim(LIMITS)
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(
    problem=regression_problems(n=(1, 12), d=(1, 12), rank="any", max_cond=10.0),
    small=log_uniform(1e-6, 1e-1),
    large=log_uniform(1e2, 1e8),
)
def test_ridge_limits_in_lambda(backend, problem, small, large):
    """X of any shape and rank. lam = small * sigma_max^2: |w_lam - X^+ y| <= lam |y| / sigma_r^3,
    the dual coefficients contain P_perp y / lam (so their norm is >= |P_perp y| / lam, and stays
    below |y| / sigma_r^2 when rank X = n, where P_perp = 0), and
    X^T alpha = w_lam stays below |X^+ y|. lam = large * sigma_max^2:
    |lam w_lam - X^T y| <= sigma_max^3 |y| / lam for both forms. Slack: the rounding of a solve of
    condition (sigma_max^2 + lam) / lam (primal, dual) at the scale of the compared quantity.
    float64 only: at lam = 1e-6 sigma_max^2 that condition (1e6) leaves float32 nothing to check.
    """
    check = Check(LIMITS, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    ynorm = float(np.linalg.norm(problem.y))
    s_max, s_r = problem.sigma_max, problem.sigma_min
    pinv_y = svd_ridge(problem, 0.0)
    lam = small * s_max**2
    dim = problem.n + problem.d
    slack = check.tolerance(kind="convergence", cond=ridge_cond(problem, lam), dim=dim)
    w = backend.to_numpy(ridge(X, y, lam))
    with clause("a"):
        assert np.linalg.norm(w - pinv_y) <= lam * ynorm / s_r**3 + slack * np.linalg.norm(pinv_y)
    alpha = backend.to_numpy(kernel_ridge(linear_kernel(X, X), y, lam))
    U0 = problem.U[:, problem.rank :]
    outside = float(np.linalg.norm(U0.T @ problem.y))
    with clause("b"):
        assert np.linalg.norm(alpha) >= outside / lam * (1 - slack)
        if problem.rank == problem.n:  # P_perp y = 0: no blow-up, |alpha| <= |y| / sigma_r^2
            assert np.linalg.norm(alpha) <= ynorm / s_r**2 * (1 + slack)
        # alpha contains P_perp y / lam exactly: its null(X^T) part, from a solve of the ridge
        # condition, errs by slack relative to |alpha| <= |y| / lam
        check.assert_close(
            U0.T @ alpha,
            U0.T @ problem.y / lam,
            cond=ridge_cond(problem, lam),
            scale=ynorm / lam,
            dim=dim,
            what="null(X^T) part of alpha vs P_perp y / lam",
        )
    w_dual = problem.X.T @ alpha
    with clause("c"):
        assert np.linalg.norm(w_dual) <= np.linalg.norm(pinv_y) + slack * (
            np.linalg.norm(pinv_y) + s_max * np.linalg.norm(alpha)
        )
        # and X^T alpha is the ridge solution (same slack: X^T maps alpha's error by <= s_max)
        check.assert_close(
            w_dual,
            svd_ridge(problem, lam),
            cond=ridge_cond(problem, lam),
            scale=float(np.linalg.norm(pinv_y) + s_max * np.linalg.norm(alpha)),
            dim=dim,
            what="X^T alpha vs w_lam",
        )
    lam = large * s_max**2
    slack = check.tolerance(kind="convergence", cond=ridge_cond(problem, lam), dim=dim)
    Xty = problem.X.T @ problem.y
    with clause("d"):
        for name, wl in (("primal", ridge(X, y, lam)), ("dual", ridge_dual(X, y, lam))):
            gap = np.linalg.norm(lam * backend.to_numpy(wl) - Xty)
            assert gap <= s_max**3 * ynorm / lam + slack * np.linalg.norm(Xty), name


# ---- ridge.regularizer-keeps-expressivity -----------------------------------------------------

EXPRESS = "ridge.regularizer-keeps-expressivity"


@claim(EXPRESS)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 10), rank="full", shape="tall"),
    lam=log_uniform(1e-3, 1e2),
    seed=seeds,
)
def test_every_weight_vector_is_a_ridge_solution(backend, problem, lam, seed):
    """y = X (X^T X)^{-1} (X^T X + lam I) w* = sum_i u_i (sigma_i^2 + lam) / sigma_i (v_i^T w*),
    built in float64 from the known SVD; ridge(X, y, lam) recovers w* (ridge condition number)."""
    check = Check(EXPRESS, backend)
    w_star = np.random.default_rng(seed).standard_normal(problem.d)
    s = problem.svals
    y = problem.U[:, : problem.d] @ ((s**2 + lam) / s * (problem.V.T @ w_star))
    w = ridge(backend.asarray(problem.X), backend.asarray(y), lam)
    with clause("a"):
        check.assert_close(
            w,
            w_star,
            cond=ridge_cond(problem, lam),
            scale=float(np.linalg.norm(w_star))
            + s[0] * float(np.linalg.norm(y)) / (s[0] ** 2 + lam),
            what="ridge(X, y(w*), lam) vs w*",
        )


@claim(EXPRESS, breaks="X without full column rank")
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 8), d=(2, 10), shape="wide"),
    lam=log_uniform(1e-3, 1e2),
    miss=st.floats(0.1, 2.0),
    seed=seeds,
)
# sweep seed 101: a 1e-3 relative margin (a guess) was below float32 rounding at kappa ~ 500
@example(
    problem=make_problem(n=2, d=3, svals=[0.5, 0.5], seed=0),
    lam=1e-3,
    miss=0.1,
    seed=0,
)
# CI seed 32105091: the float64 test-side rounding of w* = V z and of |w - w*| (one ulp of 1.0)
# was not in the bound
@example(
    problem=make_problem(n=1, d=5, svals=[1.0], seed=0),
    lam=100.0,
    miss=1.0,
    seed=7,
)
def test_ridge_cannot_reach_the_null_space(backend, problem, lam, miss, seed):
    """For wide X every ridge solution lies in row(X): a target w* misses by |P_null w*| > 0.

    w* has a row-space part drawn from `seed` and a null-space part of norm `miss` (constructed,
    not filtered). The labels are those for which the ridge solution is exactly P_row w*. The
    computed w has a null-space component only from rounding: the d x d solve is backward stable
    at kappa = (sigma_max^2 + lam) / lam, so |P_null w| <= tol * |w| with the same bound as the
    closed form (`ridge_cond`, `ridge_scale`). Hence |w - w*| >= miss - tol |w| > 0: no labels
    reach w*. The test side computes w* = V z and |w - w*| in float64: V is orthogonal to
    d eps, each entry of V z is a d-term sum (error <= d eps |z|) and the norm of the difference
    adds d + 1 roundings, so the computed distance differs from the exact one by at most
    4 d eps_64 (|z| + |w|), which the lower bound also subtracts.
    """
    check = Check(EXPRESS, backend)
    rng = np.random.default_rng(seed)
    r, s = problem.rank, problem.svals
    z = rng.standard_normal(problem.d)
    z[r:] *= miss / np.linalg.norm(z[r:])
    w_star = problem.V @ z
    y = problem.U[:, :r] @ ((s**2 + lam) / s * z[:r])
    w = backend.to_numpy(ridge(backend.asarray(problem.X), backend.asarray(y), lam))
    scale = ridge_scale(problem, lam, y)
    check.assert_close(
        problem.V[:, r:].T @ w,
        np.zeros(problem.d - r),
        cond=ridge_cond(problem, lam),
        dim=problem.d,
        scale=scale,
        what="null-space component of the ridge solution",
    )
    rounding = check.tolerance(kind="identity", cond=ridge_cond(problem, lam), dim=problem.d)
    oracle = 4 * problem.d * np.finfo(np.float64).eps * (np.linalg.norm(z) + np.linalg.norm(w))
    assert rounding * scale + oracle < miss, "the miss must exceed what rounding can explain"
    assert np.linalg.norm(w - w_star) >= miss - rounding * scale - oracle


# ---- ridge.loss-normalization-rescales-lambda -------------------------------------------------

NORMALIZE = "ridge.loss-normalization-rescales-lambda"


@claim(NORMALIZE)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=log_uniform(1e-3, 1e2), c=st.floats(0.1, 1.9), seed=seeds)
def test_mean_and_half_losses_only_rescale_lambda_and_eta(backend, problem, lam, c, seed):
    """Closed form: ridge(X / sqrt(n), y / sqrt(n), lam) (the mean loss) = ridge(X, y, n lam).
    GD: 5 steps of eta on the mean loss = 5 steps of eta / n on the sum loss with n lam; and eta on
    the half loss = eta / 2 on the full loss. Each step is stable, so rounding adds up (dim 5 (n + d)).
    """
    check = Check(NORMALIZE, backend)
    n = problem.n
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    Xm, ym = backend.asarray(problem.X / math.sqrt(n)), backend.asarray(problem.y / math.sqrt(n))
    mean_cond = (problem.sigma_max**2 / n + lam) / lam
    with clause("a"):
        check.assert_close(
            ridge(Xm, ym, lam),
            svd_ridge(problem, n * lam),
            cond=mean_cond,
            scale=ridge_scale(problem, n * lam, problem.y),
            what="mean-loss ridge vs n lam",
        )
    w0 = {"w": backend.asarray(np.random.default_rng(seed).standard_normal(problem.d))}
    eta = c / (2 * (problem.sigma_max**2 / n + lam))
    a, _ = run(gd(eta), lambda p, t: {"w": ridge_grad(p["w"], Xm, ym, lam)}, w0, 5)
    b, _ = run(gd(eta / n), lambda p, t: {"w": ridge_grad(p["w"], X, y, n * lam)}, w0, 5)
    scale = float(np.linalg.norm(backend.to_numpy(w0["w"]))) + float(
        np.linalg.norm(svd_ridge(problem, n * lam))
    )
    with clause("b"):
        check.assert_close(
            a["w"],
            b["w"],
            scale=scale,
            dim=5 * (problem.n + problem.d),
            what="GD on mean loss vs sum loss",
        )
    Xh, yh = backend.asarray(problem.X / math.sqrt(2)), backend.asarray(problem.y / math.sqrt(2))
    eta = c / (2 * problem.sigma_max**2)
    a, _ = run(gd(2 * eta), lambda p, t: {"w": ridge_grad(p["w"], Xh, yh, 0.0)}, w0, 5)
    b, _ = run(gd(eta), lambda p, t: {"w": ridge_grad(p["w"], X, y, 0.0)}, w0, 5)
    scale = (
        float(np.linalg.norm(backend.to_numpy(w0["w"])))
        + float(np.linalg.norm(problem.y)) / problem.sigma_min
    )
    with clause("c"):
        check.assert_close(
            a["w"],
            b["w"],
            scale=scale,
            dim=5 * (problem.n + problem.d),
            what="GD on half loss vs full loss",
        )


# ---- ridge.svd-coordinates-preserve-the-problem -----------------------------------------------

COORDS = "ridge.svd-coordinates-preserve-the-problem"


@claim(COORDS)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 12), rank="any"),
    lam=log_uniform(1e-3, 1e3),
    seed=seeds,
)
def test_svd_coordinates_preserve_the_problem(backend, problem, lam, seed):
    """The backend's full SVD: U, V orthogonal, U Sigma V^T = X, sigma descending, #{sigma > tol} =
    rank (tol = the rounding floor 8 (n + d) eps sigma_max); the objective is the same in rotated
    coordinates; and V ridge(Sigma, U^T y, lam) = ridge(X, y, lam) (ridge condition number).
    """
    check = Check(COORDS, backend)
    xp = backend.xp
    n, d = problem.n, problem.d
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    U, s, Vt = xp.linalg.svd(X, full_matrices=True)
    U_np, s_np, V_np = backend.to_numpy(U), backend.to_numpy(s), backend.to_numpy(Vt).T
    dim = n + d
    Sigma = np.zeros((n, d))
    Sigma[np.arange(min(n, d)), np.arange(min(n, d))] = s_np
    with clause("a"):
        assert U_np.shape == (n, n) and V_np.shape == (d, d) and s_np.shape == (min(n, d),)
        check.assert_close(
            U_np.T @ U_np,
            np.eye(n),
            scale=math.sqrt(n),
            dim=dim,
            what="U^T U",
        )
        check.assert_close(
            V_np.T @ V_np,
            np.eye(d),
            scale=math.sqrt(d),
            dim=dim,
            what="V^T V",
        )
        check.assert_close(
            U_np @ Sigma @ V_np.T,
            problem.X,
            scale=problem.sigma_max * math.sqrt(problem.rank),
            dim=dim,
            what="U Sigma V^T vs X",
        )
        assert np.all(s_np >= 0) and np.all(np.diff(s_np) <= 0)
    floor = check.tolerance(kind="invariant", dim=dim) * problem.sigma_max
    with clause("b"):
        assert int(np.sum(s_np > floor)) == problem.rank
    w = np.random.default_rng(seed).standard_normal(d)
    S, yt = backend.asarray(Sigma), U.T @ y
    with clause("c"):
        check.assert_close(
            ridge_objective(backend.asarray(V_np.T @ w), S, yt, lam),
            ridge_objective(backend.asarray(w), X, y, lam),
            dim=dim,
            what="objective in (w~, y~) vs (w, y)",
        )
    with clause("d"):
        check.assert_close(
            Vt.T @ ridge(S, yt, lam),
            svd_ridge(problem, lam),
            cond=ridge_cond(problem, lam),
            scale=ridge_scale(problem, lam, problem.y),
            dim=dim,
            what="V ridge(Sigma, y~) vs ridge(X, y)",
        )


# ---- ridge.ols-in-svd-coordinates -------------------------------------------------------------

OLS_SVD = "ridge.ols-in-svd-coordinates"


@claim(OLS_SVD)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(1, 12), d=(1, 12), rank="any", max_cond=1e2))
def test_least_squares_in_svd_coordinates(backend, problem):
    """min_norm_solution in V coordinates is (y~_i / sigma_i for i <= r, then 0), and its loss is
    sum_{i > r} y~_i^2. Least-squares perturbation theory: error eps (cond |w| + cond^2 |r| / sigma_max).
    """
    check = Check(OLS_SVD, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w = min_norm_solution(X, y)
    r = problem.rank
    yt = problem.U.T @ problem.y
    coords = np.zeros(problem.d)
    coords[:r] = yt[:r] / problem.svals
    resid = float(np.linalg.norm(yt[r:]))
    scale = float(np.linalg.norm(coords)) + resid / problem.sigma_min
    with clause("a"):
        check.assert_close(
            problem.V.T @ backend.to_numpy(w),
            coords,
            cond=problem.cond**2,
            scale=scale,
            dim=problem.n + problem.d,
            what="V^T X^+ y",
        )
    with clause("b"):
        check.assert_close(
            squared_loss(w, X, y),
            np.array(resid**2),
            cond=problem.cond**2,
            scale=float(problem.y @ problem.y),
            dim=problem.n + problem.d,
            what="min loss vs sum_{i>r} y~_i^2",
        )


# ---- ridge.ols-blows-up-small-singular-directions ---------------------------------------------

BLOWUP = "ridge.ols-blows-up-small-singular-directions"


@claim(BLOWUP)
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(problem=regression_problems(n=(2, 12), d=(2, 12), max_cond=1e6), seed=seeds)
def test_least_squares_gain_is_one_over_sigma(backend, problem, seed):
    """|X^+ y| >= |u_r^T y| / sigma_r, and a label perturbation e moves V^T X^+ y by u_i^T e / sigma_i.

    Condition numbers up to 1e6 (the point of the claim): float64 only, since a float32 pinv at
    cond 1e6 has no correct digits left. Tolerance cond^2 as for least squares.
    """
    check = Check(BLOWUP, backend)
    X = backend.asarray(problem.X)
    r = problem.rank
    w = backend.to_numpy(min_norm_solution(X, backend.asarray(problem.y)))
    floor = abs(problem.U[:, r - 1] @ problem.y) / problem.sigma_min
    slack = check.tolerance(kind="bound", cond=problem.cond**2, dim=problem.n + problem.d)
    with clause("a"):
        assert np.linalg.norm(w) >= floor * (1 - slack)
    e = np.random.default_rng(seed).standard_normal(problem.n)
    w2 = backend.to_numpy(min_norm_solution(X, backend.asarray(problem.y + e)))
    expected = np.zeros(problem.d)
    expected[:r] = (problem.U[:, :r].T @ e) / problem.svals
    scale = float(np.linalg.norm(expected) + np.linalg.norm(w) + np.linalg.norm(w2))
    with clause("b"):
        check.assert_close(
            problem.V.T @ (w2 - w),
            expected,
            cond=problem.cond**2,
            scale=scale,
            dim=problem.n + problem.d,
            what="V^T (w(y + e) - w(y)) vs e~_i / sigma_i",
        )


@claim(BLOWUP, breaks="lambda > 0")
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(
        n=(2, 12), d=(2, 12), rank="full", max_cond=1e6, sigma_max=(1.0, 1.0)
    ),
    lam=log_uniform(1e-2, 1.0),
)
def test_ridge_caps_the_gain(backend, problem, lam):
    """For y = u_r the least-squares weights have norm 1 / sigma_r; ridge's are at most
    1 / (2 sqrt(lam)), however small sigma_r (slack: the ridge solve's rounding)."""
    check = Check(BLOWUP, backend)
    y = problem.U[:, problem.rank - 1]
    w = backend.to_numpy(ridge(backend.asarray(problem.X), backend.asarray(y), lam))
    slack = check.tolerance(kind="bound", cond=ridge_cond(problem, lam), dim=problem.n + problem.d)
    assert np.linalg.norm(w) <= 1 / (2 * math.sqrt(lam)) + slack * (1 / math.sqrt(lam))
    check.assert_close(
        w,
        svd_ridge(problem, lam, y),
        kind="identity",
        cond=ridge_cond(problem, lam),
        scale=ridge_scale(problem, lam, y),
        what="ridge vs SVD",
    )


# ---- ridge.gd-with-weight-decay-converges-to-ridge --------------------------------------------

GD_RIDGE = "ridge.gd-with-weight-decay-converges-to-ridge"
gd_problems = regression_problems(
    n=(1, 8), d=(1, 8), rank="any", max_cond=10.0, sigma_max=(0.5, 1.0)
)


CAP = 1500
"""Most GD steps per example in the weight-decay convergence test (about 0.3 s on array_api_strict)."""


def _ridge_rho(problem, lam: float, eta: float) -> float:
    sig2 = problem.svals**2
    if problem.rank < problem.d:
        sig2 = np.append(sig2, 0.0)
    return float(np.max(np.abs(1 - 2 * eta * (sig2 + lam))))


@claim(GD_RIDGE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=gd_problems,
    lam=log_uniform(0.1, 10.0),
    c=st.one_of(st.floats(0.3, 1.7), st.floats(0.0, 2.0, exclude_min=True, exclude_max=True)),
    seed=seeds,
)
# sweep seed 543738929: rho = 0 (one mode, c = 1) made the step count take log 0
@example(problem=make_problem(n=1, d=1, svals=[1.0], seed=0), lam=0.1, c=1.0, seed=0)
# a tiny c: eta (sigma^2 + lam) is below rounding, rho rounds to 1 (found while widening c)
# c so small that eta rounds to 0 (CI, float32): eta is kept at the smallest positive float
@example(problem=make_problem(n=1, d=1, svals=[1.0], seed=0), lam=0.1, c=5e-324, seed=0)
@example(
    problem=make_problem(n=1, d=1, svals=[1.0], seed=0), lam=0.1, c=4.442017550277801e-212, seed=0
)
def test_gd_with_weight_decay_converges_to_ridge(backend, problem, lam, c, seed):
    """eta = c / lambda_max, lambda_max = 2 (sigma_max^2 + lam). The error contracts at least by
    rho per step (checked at every recorded step, slack: rounding), the sigma = 0 part decays
    exactly as (1 - 2 eta lam)^t, and after rho^T <= eps / 10 steps w_T = w_lam (per-step rounding
    amplified by 1 / (1 - rho)). rho = 0 (c = 1 on a one-mode problem) reaches w_lam in one step.
    c covers the whole stable range (0, 2): near its ends rho is within c lambda_min / lambda_max
    of 1 and reaching w_lam would take up to ~1e6 steps, so the run stops after `CAP` steps; then
    the contraction bound (b) at every recorded step, with (a), is what shows convergence, and
    w_T = w_lam is asserted only when the predicted count fits.

    Null part: X^T r has no null-space component, so only rounding enters it: per step at most
    n sqrt(r) eps |X| |r| (the product X^T r) times 2 eta <= 1.7 / sigma_max^2, with
    |r| <= sigma_max |w| + |y|, plus eps |w|. |decay| <= 1 never amplifies it, so after t steps
    the error is at most t (n + d) eps (|w0| + |w_lam| + |y| / sigma_max) times a constant below
    the convergence kind's 16 (n sqrt(r) <= 3.5 n).
    """
    check = Check(GD_RIDGE, backend)
    eta = max(c / (2 * (problem.sigma_max**2 + lam)), float(np.nextafter(0.0, 1.0)))  # eta > 0
    top = 2 * (Fraction(float(np.max(problem.svals))) ** 2 + Fraction(lam))  # lambda_max, exact
    while Fraction(eta) * top >= 2:  # keep the float eta inside the assumption eta < 2/lambda_max
        eta = float(np.nextafter(eta, 0.0))
    rho = _ridge_rho(problem, lam, eta)
    if rho == 0:
        needed = 1
    elif rho < 1:
        needed = max(1, math.ceil(math.log(backend.eps / 10) / math.log(rho)))
    else:  # a tiny c: 1 - 2 eta (sigma^2 + lam) rounds to 1 in float64, though it is below 1
        needed = CAP + 1
    steps = min(needed, CAP)
    w0 = np.random.default_rng(seed).standard_normal(problem.d)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    every = max(1, steps // 8)
    wT, traj = run(
        gd(eta),
        lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)},
        {"w": backend.asarray(w0)},
        steps,
        record_every=every,
    )
    target = svd_ridge(problem, lam)
    # The error recursion w_1 - w_lam = (I - 2 eta (X^T X + lam I)) (w_0 - w_lam), one step against
    # the float64 right-hand side: the step's rounding is a handful of flops on vectors of size
    # |w0| (1 + 2 eta (sigma_max^2 + lam)) + 2 eta sigma_max |y| (as in the weight-decay test).
    (w1, _) = run(
        gd(eta), lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)}, {"w": backend.asarray(w0)}, 1
    )
    M = np.eye(problem.d) - 2 * eta * (problem.X.T @ problem.X + lam * np.eye(problem.d))
    with clause("a"):
        check.assert_close(
            backend.to_numpy(w1["w"]) - target,
            M @ (w0 - target),
            kind="identity",
            scale=float(
                np.linalg.norm(w0) * (1 + 2 * eta * (problem.sigma_max**2 + lam))
                + 2 * eta * problem.sigma_max * np.linalg.norm(problem.y)
            ),
            dim=problem.n + problem.d,
            what="w_1 - w_lam vs (I - 2 eta (X^T X + lam I)) (w_0 - w_lam)",
        )
    # per-step rounding, never amplified (every |factor| <= 1), piles up over at most
    # min(steps, 1 / (1 - rho)) steps before the contraction forgets it
    amplification = steps if rho >= 1 else min(steps, 1 / (1 - rho))
    cond = max(ridge_cond(problem, lam), amplification)
    # rho < 1 for every eta in (0, 2 / lambda_max), decided exactly (rationals) from the floats
    factors = [
        abs(1 - 2 * Fraction(eta) * (Fraction(float(s)) ** 2 + Fraction(lam)))
        for s in problem.svals
    ]
    if problem.rank < problem.d:
        factors.append(abs(1 - 2 * Fraction(eta) * Fraction(lam)))
    with clause("b", "c"):  # from a random start, with eta = c / lambda_max, c in (0, 2)
        assert max(factors) < 1
    if steps == needed:
        with clause("c"):
            check.assert_close(
                wT["w"],
                target,
                cond=cond,
                scale=ridge_scale(problem, lam, problem.y) + float(np.linalg.norm(w0)),
                what="w_T vs w_lam",
            )
    e0 = float(np.linalg.norm(w0 - target))
    slack = check.tolerance(kind="convergence", cond=cond, dim=problem.n + problem.d)
    V0 = problem.V[:, problem.rank :]
    decay = 1 - 2 * eta * lam
    for k, p in enumerate(traj):
        t = min(k * every, steps)
        w = backend.to_numpy(p["w"])
        with clause("b"):
            assert np.linalg.norm(w - target) <= rho**t * e0 + slack * (e0 + np.linalg.norm(target))
        if problem.rank < problem.d:
            with clause("d"):
                check.assert_close(
                    V0.T @ w,
                    decay**t * (V0.T @ w0),
                    scale=float(
                        np.linalg.norm(w0)
                        + np.linalg.norm(target)
                        + np.linalg.norm(problem.y) / problem.sigma_max
                    ),
                    dim=(t + 1) * (problem.n + problem.d),
                    what=f"null part at t={t}",
                )


@claim(GD_RIDGE, breaks="step past 2 / lambda_max")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=gd_problems, lam=log_uniform(0.1, 10.0), c=st.floats(2.1, 2.5), seed=seeds)
def test_gd_on_ridge_past_the_bound_diverges(backend, problem, lam, c, seed):
    """With eta = c / lambda_max, c > 2, the top mode of the error grows by |1 - c| per step: from
    an error along v_1 of norm 1, after T steps with |1 - c|^T >= 1e3 it is 1e3 (relative rounding T eps)."""
    check = Check(GD_RIDGE, backend)
    eta = c / (2 * (problem.sigma_max**2 + lam))
    steps = math.ceil(math.log(1e3) / math.log(c - 1))
    target = svd_ridge(problem, lam)
    w0 = target + problem.V[:, 0]
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    wT, _ = run(
        gd(eta),
        lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)},
        {"w": backend.asarray(w0)},
        steps,
    )
    err = backend.to_numpy(wT["w"]) - target
    check.assert_close(
        err,
        (1 - c) ** steps * problem.V[:, 0],
        cond=ridge_cond(problem, lam),
        dim=steps * (problem.n + problem.d),
        scale=abs(1 - c) ** steps + float(np.linalg.norm(target)),
        what="error along v_1",
    )
    assert np.linalg.norm(err) >= 0.5e3


# ---- ridge.weight-decay-double-counting -------------------------------------------------------

DOUBLE = "ridge.weight-decay-double-counting"


@claim(DOUBLE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=any_problem,
    lam=log_uniform(1e-2, 10.0),
    wd=log_uniform(1e-2, 10.0),
    c=st.floats(0.1, 1.9),
    seed=seeds,
)
def test_coupled_weight_decay_is_the_ridge_term(backend, problem, lam, wd, c, seed):
    """20 GD steps with coupled weight decay wd on ||Xw - y||^2 equal 20 GD steps on ridge with
    lam = wd / 2; with a ridge term lam as well, the fixed point is w(lam + wd / 2), and w(lam) is
    moved by exactly eta * wd * w(lam). Oracle: torch.optim.SGD(weight_decay=wd) in float64.
    """
    check = Check(DOUBLE, backend)
    import torch

    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w0_np = np.random.default_rng(seed).standard_normal(problem.d)
    w0 = {"w": backend.asarray(w0_np)}
    eta = c / (2 * (problem.sigma_max**2 + lam + wd / 2))
    a, _ = run(
        coupled_weight_decay(gd(eta), wd),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        w0,
        20,
    )
    b, _ = run(gd(eta), lambda p, t: {"w": ridge_grad(p["w"], X, y, wd / 2)}, w0, 20)
    scale = float(np.linalg.norm(w0_np) + np.linalg.norm(svd_ridge(problem, wd / 2)))
    dim = 20 * (problem.n + problem.d)
    with clause("a"):
        check.assert_close(
            a["w"],
            b["w"],
            scale=scale,
            dim=dim,
            what="GD + weight decay vs GD on ridge(wd / 2)",
        )
    wt = torch.tensor(w0_np, requires_grad=True)
    opt = torch.optim.SGD([wt], lr=eta, weight_decay=wd)
    Xt, yt = torch.tensor(problem.X), torch.tensor(problem.y)
    for _ in range(20):
        opt.zero_grad()
        ((Xt @ wt - yt) ** 2).sum().backward()
        opt.step()
    with clause("a"):
        check.assert_close(
            a["w"],
            wt.detach().numpy(),
            scale=scale,
            dim=dim,
            what="dlcore vs torch.optim.SGD(weight_decay)",
        )
    both = coupled_weight_decay(gd(eta), wd)
    state = both.init({"w": X[0, :]})
    eff = backend.asarray(svd_ridge(problem, lam + wd / 2))
    upd, _ = both.update({"w": ridge_grad(eff, X, y, lam)}, state, {"w": eff})
    eff_scale = ridge_scale(problem, lam + wd / 2, problem.y)
    with clause("c"):
        check.assert_close(
            upd["w"],
            np.zeros(problem.d),
            cond=ridge_cond(problem, lam + wd / 2),
            scale=eta * 2 * (problem.sigma_max**2 + lam + wd) * eff_scale,
            dim=problem.n + problem.d,
            what="step at w(lam + wd/2)",
        )
    # a ridge term lam plus weight decay wd has the iterates of GD on ridge(lam + wd / 2)
    a, _ = run(both, lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)}, w0, 20)
    b, _ = run(gd(eta), lambda p, t: {"w": ridge_grad(p["w"], X, y, lam + wd / 2)}, w0, 20)
    with clause("b"):
        check.assert_close(
            a["w"],
            b["w"],
            scale=float(np.linalg.norm(w0_np) + np.linalg.norm(svd_ridge(problem, lam + wd / 2))),
            dim=dim,
            what="GD on ridge(lam) + weight decay vs GD on ridge(lam + wd / 2)",
        )
    plain = svd_ridge(problem, lam)
    upd, _ = both.update(
        {"w": ridge_grad(backend.asarray(plain), X, y, lam)}, state, {"w": backend.asarray(plain)}
    )
    with clause("c"):  # w(lam) is not a fixed point: the step there is -eta wd w(lam)
        check.assert_close(
            upd["w"],
            -eta * wd * plain,
            cond=ridge_cond(problem, lam),
            scale=eta
            * 2
            * (problem.sigma_max**2 + lam + wd)
            * ridge_scale(problem, lam, problem.y),
            dim=problem.n + problem.d,
            what="step at w(lam) vs -eta wd w(lam)",
        )


# ---- ridge.ols-is-gaussian-mle, ridge.ridge-is-gaussian-map, ridge.gaussian-map-is-posterior-mean

MLE = "ridge.ols-is-gaussian-mle"
MAP = "ridge.ridge-is-gaussian-map"
POSTERIOR = "ridge.gaussian-map-is-posterior-mean"


def _gauss_nll(r: np.ndarray, var: float) -> float:
    """-log N(r; 0, var I) = -sum_i log N(r_i; 0, var), via scipy (an independent oracle)."""
    from scipy.stats import norm

    return -float(np.sum(norm.logpdf(r, scale=math.sqrt(var))))


@claim(MLE)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=tall, sigma=log_uniform(0.1, 10.0), seed=seeds)
def test_least_squares_is_the_gaussian_mle(backend, problem, sigma, seed):
    """The Gaussian NLL minus |y - Xw|^2 / (2 sigma^2) (dlcore's objective) is the same constant
    n/2 log(2 pi sigma^2) at three random w, and the NLL rises from the OLS solution by exactly
    |X delta|^2 / (2 sigma^2). Scales: the NLL values themselves (cancellation in the differences).

    The rise is a difference of two host NLLs at the computed w_hat, so its error has three parts,
    each O((n + d) eps cond) times a term of the scale:
    - each NLL sums n logpdf terms, rounded relative to the sum of their magnitudes
      |r|^2 / (2 sigma^2) + |const| (not |NLL|: const < 0 for sigma^2 < 1 / (2 pi) cancels), and
      its residual r = y - X w rounds entrywise relative to |y| + |X||w| <= m, which enters |r|^2
      as 2 |r| m;
    - w_hat (QR, backward stable) misses the exact minimizer by e with |X e| <= (n + d) eps cond |y|
      (fitted values of a perturbed problem), so the rise has the linear term
      -<X delta, y - X w_hat> / sigma^2 = <X delta, X e> / sigma^2, at most |X delta| |y| / sigma^2
      times that: the term the sweep found missing (ratio 0.82 at sigma = 0.1, where 1 / sigma^2 =
      100 magnifies it; make_problem(n=2, d=1, svals=[0.5], seed=0), seed 0).
    """
    check = Check(MLE, backend)
    rng = np.random.default_rng(seed)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    const = problem.n / 2 * math.log(2 * math.pi * sigma**2)
    for _ in range(3):
        w = rng.standard_normal(problem.d)
        nll = _gauss_nll(problem.y - problem.X @ w, sigma**2)
        J = float(backend.to_numpy(ridge_objective(backend.asarray(w), X, y, 0.0)))
        with clause("a"):
            check.assert_close(
                np.array(nll - J / (2 * sigma**2)),
                np.array(const),
                scale=abs(nll) + abs(const),
                dim=problem.n + problem.d,
                what="NLL - J / (2 sigma^2)",
            )
    w_hat = backend.to_numpy(ridge(X, y, 0.0))
    delta = rng.standard_normal(problem.d)
    rise = _gauss_nll(problem.y - problem.X @ (w_hat + delta), sigma**2) - _gauss_nll(
        problem.y - problem.X @ w_hat, sigma**2
    )
    m = np.linalg.norm(problem.y) + np.linalg.norm(problem.X) * (
        np.linalg.norm(w_hat) + np.linalg.norm(delta)
    )
    nll_scale = sum(
        (r @ r + 2 * np.linalg.norm(r) * m) / (2 * sigma**2) + abs(const)
        for r in (problem.y - problem.X @ w_hat, problem.y - problem.X @ (w_hat + delta))
    )
    Xd = np.linalg.norm(problem.X @ delta)
    # b: the rise from the least-squares solution w_hat is |X delta|^2 / (2 sigma^2) > 0 (full
    # column rank), so w_hat is the maximum-likelihood estimate; c: that rise, exactly
    with clause("b", "c"):
        check.assert_close(
            np.array(rise),
            np.array(Xd**2 / (2 * sigma**2)),
            cond=problem.cond**2,
            scale=Xd**2 / (2 * sigma**2) + nll_scale + Xd * np.linalg.norm(problem.y) / sigma**2,
            dim=problem.n + problem.d,
            what="NLL(w + delta) - NLL(w)",
        )


@claim(MAP)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, sigma=log_uniform(0.1, 10.0), tau=log_uniform(0.1, 10.0), seed=seeds)
def test_ridge_is_the_gaussian_map(backend, problem, sigma, tau, seed):
    """-log likelihood - log prior (scipy) equals ridge_objective(w, lam = sigma^2 / tau^2) / (2 sigma^2)
    plus a constant independent of w (checked at three w), and the ridge solution at that lam has
    the lowest negative log posterior against random perturbations (the gap is the exact
    (|X delta|^2 + lam |delta|^2) / (2 sigma^2))."""
    check = Check(MAP, backend)
    rng = np.random.default_rng(seed)
    lam = sigma**2 / tau**2
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    const = problem.n / 2 * math.log(2 * math.pi * sigma**2) + problem.d / 2 * math.log(
        2 * math.pi * tau**2
    )
    for _ in range(3):
        w = rng.standard_normal(problem.d)
        post = _gauss_nll(problem.y - problem.X @ w, sigma**2) + _gauss_nll(w, tau**2)
        J = float(backend.to_numpy(ridge_objective(backend.asarray(w), X, y, lam)))
        with clause("a"):
            check.assert_close(
                np.array(post - J / (2 * sigma**2)),
                np.array(const),
                scale=abs(post) + abs(const),
                dim=problem.n + problem.d,
                what="-log posterior - J / (2 sigma^2)",
            )
    w_hat = backend.to_numpy(ridge(X, y, lam))
    base = _gauss_nll(problem.y - problem.X @ w_hat, sigma**2) + _gauss_nll(w_hat, tau**2)
    delta = rng.standard_normal(problem.d)
    moved = _gauss_nll(problem.y - problem.X @ (w_hat + delta), sigma**2) + _gauss_nll(
        w_hat + delta, tau**2
    )
    gap = (np.linalg.norm(problem.X @ delta) ** 2 + lam * delta @ delta) / (2 * sigma**2)
    with clause("b"):  # the gap is > 0 for delta != 0: the ridge solution is the MAP estimate
        assert gap > 0
        check.assert_close(
            np.array(moved - base),
            np.array(gap),
            cond=ridge_cond(problem, lam),
            scale=gap + abs(base) + abs(const),
            dim=problem.n + problem.d,
            what="posterior gap at the ridge solution",
        )


@claim(POSTERIOR)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, sigma=log_uniform(0.1, 10.0), tau=log_uniform(0.1, 10.0))
def test_dual_ridge_is_gaussian_conditioning(backend, problem, sigma, tau):
    """Sigma_wy Sigma_yy^{-1} y (the covariance blocks checked against the linear map in
    test_gaussian_posterior_mean_is_the_map_and_the_linear_mmse; float64 solve) equals ridge_dual
    with lam = sigma^2 / tau^2 (condition of Sigma_yy: (tau^2 sigma_max^2 + sigma^2) / sigma^2)."""
    check = Check(POSTERIOR, backend)
    lam = sigma**2 / tau**2
    S_wy = tau**2 * problem.X.T
    S_yy = tau**2 * problem.X @ problem.X.T + sigma**2 * np.eye(problem.n)
    mean = S_wy @ np.linalg.solve(S_yy, problem.y)
    got = ridge_dual(backend.asarray(problem.X), backend.asarray(problem.y), lam)
    with clause("b"):
        check.assert_close(
            got,
            mean,
            cond=ridge_cond(problem, lam),
            scale=ridge_scale(problem, lam, problem.y),
            what="ridge_dual vs E[w | y]",
        )


@claim(POSTERIOR)
@given(problem=any_problem, sigma=log_uniform(0.1, 10.0), tau=log_uniform(0.1, 10.0), seed=seeds)
@example(  # lstsq's residual term, 55 eps relative (counterexamples ledger)
    problem=make_problem(n=1, d=1, svals=[0.5], seed=0),
    sigma=10.0,
    tau=0.10000000000000002,
    seed=0,
)
def test_gaussian_posterior_mean_is_the_map_and_the_linear_mmse(problem, sigma, tau, seed):
    """Float64, test-side only (no dlcore code), false-failure probability 0 (exact identities).

    (1) The covariance A diag(tau^2 I_d, sigma^2 I_n) A^T of (w, y) = A (w, eps),
    A = [[I, 0], [X, I]], has the blocks tau^2 X^T and tau^2 X X^T + sigma^2 I: each entry is a sum
    of at most d + 1 products, so both sides round within (d + 2) eps of the entrywise magnitudes,
    whose Frobenius norm is at most tau^2 |X|_F^2 + sigma^2 sqrt(n) + tau^2 |X|_F.
    (2) MAP = posterior mean: the minimiser of |y - Xw|^2 / (2 sigma^2) + |w|^2 / (2 tau^2) (lstsq
    on the rows [X / sigma; I / tau] against [y / sigma; 0]) equals Sigma_wy Sigma_yy^{-1} y; two
    independent solves of the ridge problem with lam = sigma^2 / tau^2, condition
    (sigma_max^2 + lam) / lam, scale ridge_scale.
    (3) Orthogonality: with K = Sigma_wy Sigma_yy^{-1}, the cross-covariance E[(w - K y) y^T] =
    [I - K X, -K] diag(tau^2 I, sigma^2 I) [X, I]^T, from the linear map, is 0: products of at
    most n + d terms, scale tau^2 |X|_F + |K|_F (tau^2 |X|_F^2 + sigma^2 sqrt(n)) (the solve's
    backward error |K Sigma_yy - Sigma_wy| <= n eps |K| |Sigma_yy| is of the same form).
    (4) Hence E|w - K' y|^2 = E|w - K y|^2 + tr(D Sigma_yy D^T), D = K' - K, for a random D: the
    mean squared errors are traces of B diag(tau^2 I, sigma^2 I) B^T, B = [I - K' X, -K'], each a
    sum of (n + d)^2 products rounded relative to tau^2 |I - K'X|_F^2 + sigma^2 |K'|_F^2, plus
    the cross term 2 tr(D (K Sigma_yy - Sigma_wy)^T) <= 2 |D|_F n eps |K|_F |Sigma_yy|_F.
    """
    rng = np.random.default_rng(seed)
    X, y, n, d = problem.X, problem.y, problem.n, problem.d
    eps = np.finfo(np.float64).eps
    lam = sigma**2 / tau**2
    prior = np.diag(np.r_[np.full(d, tau**2), np.full(n, sigma**2)])
    A = np.block([[np.eye(d), np.zeros((d, n))], [X, np.eye(n)]])
    C = A @ prior @ A.T
    S_wy, S_yy = C[:d, d:], C[d:, d:]
    nX = np.linalg.norm(X)
    cov_scale = tau**2 * nX**2 + sigma**2 * math.sqrt(n) + tau**2 * nX
    tol = tolerance(eps, kind="identity", dim=d + 2) * cov_scale
    with clause("a"):
        assert np.linalg.norm(S_wy - tau**2 * X.T) <= tol
        assert np.linalg.norm(S_yy - (tau**2 * X @ X.T + sigma**2 * np.eye(n))) <= tol

    mean = S_wy @ np.linalg.solve(S_yy, y)
    rows = np.vstack([X / sigma, np.eye(d) / tau])
    w_map = np.linalg.lstsq(rows, np.r_[y / sigma, np.zeros(d)], rcond=None)[0]
    err = np.linalg.norm(w_map - mean)
    # lstsq solves an inconsistent system: its relative error is bounded by
    # eps (kappa + kappa^2 |r| / (|rows| |w|)) (least-squares perturbation theory, Golub & Van
    # Loan 5.3), kappa the condition number of `rows`, r its residual. The residual term is what
    # the ridge condition number alone missed (n = d = 1, lam = 1e4: |r| / (|rows| |w|) ~ 200).
    s_rows = np.linalg.svd(rows, compute_uv=False)
    kappa = s_rows[0] / s_rows[-1]
    resid = np.linalg.norm(rows @ w_map - np.r_[y / sigma, np.zeros(d)])
    ls_term = kappa**2 * resid / (s_rows[0] * max(np.linalg.norm(w_map), np.finfo(float).tiny))
    with clause("c"):
        assert err <= tolerance(
            eps, kind="equivalence", cond=ridge_cond(problem, lam) + ls_term, dim=n + d
        ) * ridge_scale(problem, lam, y)

    K = np.linalg.solve(S_yy, S_wy.T).T
    nK, nS = np.linalg.norm(K), np.linalg.norm(S_yy)
    cross = np.hstack([np.eye(d) - K @ X, -K]) @ prior @ np.hstack([X, np.eye(n)]).T
    orth_scale = tau**2 * nX + nK * (tau**2 * nX**2 + sigma**2 * math.sqrt(n))
    with clause("d"):
        assert np.linalg.norm(cross) <= tolerance(eps, kind="identity", dim=n + d) * orth_scale

    def mse(M: np.ndarray) -> float:
        B = np.hstack([np.eye(d) - M @ X, -M])
        return float(np.trace(B @ prior @ B.T))

    D = rng.standard_normal((d, n))
    K2 = K + D
    excess = float(np.trace(D @ S_yy @ D.T))
    mse_scale = (
        sum(
            tau**2 * np.linalg.norm(np.eye(d) - M @ X) ** 2 + sigma**2 * np.linalg.norm(M) ** 2
            for M in (K, K2)
        )
        + excess
        + 2 * np.linalg.norm(D) * nK * nS
    )
    with clause("e"):
        assert (
            abs(mse(K2) - (mse(K) + excess))
            <= tolerance(eps, kind="identity", dim=(n + d) ** 2) * mse_scale
        )


# ---- ridge.ridge-versus-truncated-svd ---------------------------------------------------------

TSVD = "ridge.ridge-versus-truncated-svd"


@claim(TSVD)
@pytest.mark.parametrize("backend", backend_params())
@given(drawn=gapped_problems())
def test_ridge_is_close_to_truncated_svd_across_a_gap(backend, drawn):
    """In V coordinates, |ridge_i - tsvd_i| <= |y~_i / sigma_i| / gamma (exact, plus the ridge
    solve's rounding at condition (sigma_max^2 + lam) / lam)."""
    check = Check(TSVD, backend)
    problem, X_np, s, lam, gamma = drawn
    r = problem.rank
    yt = problem.U[:, :r].T @ problem.y
    tsvd = np.where(s**2 > lam, yt / s, 0.0)
    w = backend.to_numpy(ridge(backend.asarray(X_np), backend.asarray(problem.y), lam))
    coords = problem.V[:, :r].T @ w
    cond = (s[0] ** 2 + lam) / lam
    scale = float(
        np.linalg.norm(s / (s**2 + lam) * yt) + s[0] * np.linalg.norm(problem.y) / (s[0] ** 2 + lam)
    )
    slack = check.tolerance(kind="bound", cond=cond, dim=problem.n + problem.d) * scale
    with clause("a"):
        assert np.all(np.abs(coords - tsvd) <= np.abs(yt / s) / gamma + slack)


def _expected_error(estimator, sigma: float, w_star: float, noise: float) -> float:
    """E|w_hat - w*|^2 for the linear estimator y -> estimator(y) on X = [[sigma]], y = sigma w* + e,
    e ~ N(0, noise^2): bias^2 + noise^2 * gain^2 (exact for a linear map)."""
    gain = estimator(1.0)
    return (estimator(sigma * w_star) - w_star) ** 2 + noise**2 * gain**2


@claim(TSVD)
@pytest.mark.parametrize("backend", backend_params())
@given(lam=log_uniform(1e-2, 1e2), noise=log_uniform(1e-2, 1e1), w_star=log_uniform(0.1, 10.0))
def test_neither_ridge_nor_truncated_svd_wins_uniformly(backend, lam, noise, w_star):
    """One coordinate with sigma^2 = lam / 2 (dropped by TSVD). The exact expected errors, with
    dlcore's ridge as the estimator: with w* = 0, TSVD's is 0 < ridge's; with noise^2 below
    5/2 lam w*^2 (here at most 0.99^2 of it, so 2/9 noise^2 / lam <= 0.98 * 5/9 w*^2), ridge's
    4/9 w*^2 + 2/9 noise^2 / lam is below TSVD's w*^2, by at least 0.01 w*^2: far more than the
    rounding of the 1 x 1 ridge solves (relative 4 dim eps cond, cond = 3/2)."""
    check = Check(TSVD, backend)
    sigma = math.sqrt(lam / 2)
    X = backend.asarray([[sigma]])

    def ridge_est(v: float) -> float:
        return float(backend.to_numpy(ridge(X, backend.asarray([v]), lam))[0])

    def tsvd_est(v: float) -> float:
        return 0.0

    noise_only = _expected_error(ridge_est, sigma, 0.0, noise)
    with clause("b"):
        assert _expected_error(tsvd_est, sigma, 0.0, noise) == 0.0 < noise_only
    small_noise = min(noise, 0.99 * math.sqrt(2.5 * lam) * w_star)
    ridge_err = _expected_error(ridge_est, sigma, w_star, small_noise)
    tsvd_err = _expected_error(tsvd_est, sigma, w_star, small_noise)
    exact = 4 / 9 * w_star**2 + 2 / 9 * small_noise**2 / lam
    with clause("c"):
        assert small_noise**2 < 2.5 * lam * w_star**2
        assert ridge_err < tsvd_err
        check.assert_close(
            np.array(ridge_err),
            np.array(exact),
            kind="identity",
            dim=4,
            what="ridge expected error vs 4/9 w*^2 + 2/9 noise^2 / lam",
        )


# ---- ridge.closed-form-is-differentiable ------------------------------------------------------

DIFF = "ridge.closed-form-is-differentiable"
torch_backends = [p for p in backend_params() if p.values[0].library == "torch"]


@claim(DIFF)
@pytest.mark.parametrize("backend", torch_backends)
@given(problem=any_problem, lam=log_uniform(1e-2, 1e2), seed=seeds)
def test_ridge_is_a_differentiable_layer(backend, problem, lam, seed):
    """torch.autograd.functional.jacobian of y -> ridge(X, y, lam) equals (X^T X + lam I)^{-1} X^T
    (the SVD form V diag(sigma / (sigma^2 + lam)) U^T, float64); in float64, autograd's derivative
    of X -> ridge(X, y, lam) along a drawn direction E (|E|_2 = 1) agrees with the central
    difference (w(X + hE) - w(X - hE)) / 2h, within a derived bound.

    The bound. Along X(t) = X + tE, A(t) = X(t)^T X(t) + lam I >= lam I, so |A(t)^{-1}| <= m = 1/lam
    for every t, and |w(t)| <= w0 = |y| / (2 sqrt(lam)) (as sigma / (sigma^2 + lam) <= 1/(2 sqrt
    lam)). With dA = E^T X(t) + X(t)^T E, d2A = 2 E^T E, d3A = 0, b = X(t)^T y, db = E^T y and
    d2b = 0, differentiating A w = b three times gives A dw = db - dA w, A d2w = -2 dA dw - d2A w
    and A d3w = -3 dA d2w - 3 d2A dw, so for |t| <= h <= 1, with P = 2(|X| + 1) >= |dA| and
    Q = 2 >= |d2A|: |dw| <= w1 = m(|y| + P w0), |d2w| <= w2 = m(2P w1 + Q w0) and
    |d3w| <= w3 = m(3P w2 + 3Q w1). Taylor's remainder of the central difference is at most
    h^2 w3 / 6. Each evaluation of w errs by at most tol S, with tol the model's gradient
    tolerance for condition kappa(A) and S = |w| + sigma_max |y| / (sigma_max^2 + lam)
    (`ridge_scale`), so the difference adds 2 tol S / 2h; autograd's derivative (solves with A)
    errs by at most tol w1. h = (3 tol S / w3)^(1/3) balances the two terms. A wrong derivative
    is off by order |dw|, far above the bound.
    """
    check = Check(DIFF, backend)
    import torch

    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    J = torch.autograd.functional.jacobian(lambda v: ridge(X, v, lam), y)
    r, s = problem.rank, problem.svals
    op = problem.V[:, :r] @ np.diag(s / (s**2 + lam)) @ problem.U[:, :r].T
    cond = ridge_cond(problem, lam)
    with clause("a"):
        check.assert_close(
            J,
            op,
            cond=cond,
            scale=float(np.linalg.norm(op)) + problem.sigma_max / (problem.sigma_max**2 + lam),
            what="d w / d y vs (X^T X + lam I)^{-1} X^T",
        )
    if backend.dtype_name != "float64":
        return
    E = np.random.default_rng(seed).standard_normal(problem.X.shape)
    E /= np.linalg.norm(E, 2)
    m, ny = 1 / lam, float(np.linalg.norm(problem.y))
    w0, P, Q = ny / (2 * math.sqrt(lam)), 2 * (problem.sigma_max + 1), 2.0
    w1 = m * (ny + P * w0)
    w2 = m * (2 * P * w1 + Q * w0)
    w3 = m * (3 * P * w2 + 3 * Q * w1)
    tol = check.tolerance(cond=cond, dim=sum(problem.X.shape))
    S = ridge_scale(problem, lam, problem.y)
    h = (3 * tol * S / w3) ** (1 / 3)
    Et = backend.asarray(E)
    _, along = torch.autograd.functional.jvp(lambda A: ridge(A, y, lam), (X,), (Et,))
    central = (ridge(X + h * Et, y, lam) - ridge(X - h * Et, y, lam)) / (2 * h)
    with clause("b"):
        assert h <= 1
        check.assert_at_most(
            float(torch.linalg.vector_norm(along - central)),
            h * h * w3 / 6 + tol * S / h + tol * w1,
            what="|autograd dw/dX [E] - central difference| vs h^2 w3/6 + tol S/h + tol w1",
        )


# ---- remarks: light checks --------------------------------------------------------------------

L2 = "ridge.svd-story-is-l2-specific"
SPECTRA = "ridge.natural-data-spectra-span-decades"


@claim(L2)
@pytest.mark.parametrize("backend", backend_params())
@given(d=st.integers(2, 10), seed=seeds)
def test_only_the_two_norm_is_rotation_invariant(backend, d, seed):
    """For a Haar-random orthogonal V and Gaussian w: |V w|_2 = |w|_2 to rounding, while |V w|_1
    differs from |w|_1 (for d >= 2 equality is a measure-zero event)."""
    check = Check(L2, backend)
    from tests.support.strategies import orthogonal

    rng = np.random.default_rng(seed)
    V, w = orthogonal(d, rng), rng.standard_normal(d)
    xp = backend.xp
    Vw = backend.asarray(V) @ backend.asarray(w)
    with clause("a"):
        check.assert_close(
            xp.sqrt(xp.sum(Vw * Vw)),
            np.array(np.linalg.norm(w)),
            kind="invariant",
            dim=d,
            what="|V w|_2 vs |w|_2",
        )
    exact_l1 = float(np.abs(V @ w).sum())
    check.assert_close(
        xp.sum(xp.abs(Vw)),
        np.array(exact_l1),
        kind="invariant",
        dim=d,
        what="|V w|_1 vs its float64 value",
    )
    # In float64 the 1-norm changed by more than the rounding of the two 1-norms (2 d terms:
    # tolerance(invariant, dim 2 d) of |w|_1 <= 2e-13 |w|_1 at d <= 10). The difference is a
    # continuous random variable with a bounded density on the scale |w|_1 (a density argument),
    # so it falls below that with probability of order 1e-13: the false-failure probability.
    rounding = Check(L2, HOST).tolerance(kind="invariant", dim=2 * d) * np.abs(w).sum()
    with clause("b"):
        assert abs(exact_l1 - np.abs(w).sum()) > rounding


@functools.cache
def _digits_spectrum() -> tuple[tuple[int, int], np.ndarray]:
    """Shape and singular values above the rounding floor of sklearn's bundled digits data."""
    from sklearn.datasets import load_digits

    X = load_digits().data
    s = np.linalg.svd(X, compute_uv=False)
    return X.shape, s[s > s[0] * X.shape[1] * np.finfo(float).eps]


@claim(SPECTRA)
@given(seed=seeds)
def test_digits_spectrum_spans_more_decades_than_gaussian(seed):
    """sklearn's bundled digits (offline, n x d = 1797 x 64): the singular values of a same-shape
    standard Gaussian G all lie in [sqrt n - sqrt d - t, sqrt n + sqrt d + t] with probability at
    least 1 - 2 exp(-t^2 / 2) (Davidson-Szarek, two one-sided tails); t = sqrt(2 log(2 /
    FALSE_FAILURE)) = 7.53 makes the false-failure probability FALSE_FAILURE per example (asserted).
    The float64 SVD moves each singular value by at most dim eps |G| (Weyl), added as slack. Then
    log10(sigma_max / sigma_min) of the digits, over singular values above the rounding floor
    (3.4 decades), exceeds that of G (at most log10(57.9 / 26.9) = 0.33) by at least one decade."""
    host_check = Check(SPECTRA, HOST)
    (n, d), s = _digits_spectrum()
    t = math.sqrt(2 * math.log(2 / FALSE_FAILURE))
    assert 2 * math.exp(-t * t / 2) <= FALSE_FAILURE
    g = np.linalg.svd(np.random.default_rng(seed).standard_normal((n, d)), compute_uv=False)
    hi, lo = math.sqrt(n) + math.sqrt(d) + t, math.sqrt(n) - math.sqrt(d) - t
    slack = host_check.tolerance(kind="bound", dim=n) * hi
    with clause("a"):
        assert lo - slack <= g[-1] and g[0] <= hi + slack
    with clause("b"):
        assert np.log10(s[0] / s[-1]) >= np.log10(g[0] / g[-1]) + 1


# ---- ridge.random-features-approximate-ridge --------------------------------------------------

RANDOM_FEATURES = "ridge.random-features-approximate-ridge"


@claim(RANDOM_FEATURES)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 6), d=(1, 6), rank="any", max_cond=10.0),
    lam=log_uniform(0.1, 10.0),
    k=st.sampled_from([1000, 4000, 16000]),
    seed=seeds,
)
@example(problem=make_problem(n=1, d=1, svals=[0.5], seed=0), lam=10.0, k=4000, seed=0)
def test_random_fake_features_approximate_ridge(backend, problem, lam, k, seed):
    """Exact: min_norm_solution([X, F], y)[:d] = X^T (X X^T + F F^T)^{-1} y (dual solve via
    kernel_ridge; condition (sigma_max^2 + |FF^T|) / lambda_min(FF^T)).

    Statistical: by Davidson-Szarek the singular values of G = F sqrt(k / lam) lie in
    [sqrt k - sqrt n - t, sqrt k + sqrt n + t] with probability >= 1 - 2 exp(-t^2 / 2). With t = 8
    that fails with probability 2 e^-32 = 2.5e-14 per example: false-failure probability below
    FALSE_FAILURE per example (asserted). On that event |FF^T - lam I| <= lam (2 delta + delta^2),
    delta = (sqrt n + 8) / sqrt k (< 0.34 for these n, k): checked on the float64 FF^T, whose
    entries are k-term sums, so |fl(FF^T) - FF^T|_2 <= k u |F|_F^2 (Cauchy-Schwarz) plus the
    eigensolver's n eps |FF^T|, within the statistical tolerance at dim k + n, scale |F|_F^2.
    Deterministic: with the actual |Delta| < lam,
    |w_k - w_lam| <= sigma_max |y| |Delta| / (lam (lam - |Delta|)), increasing in |Delta|, hence also
    with |Delta| replaced by the event's bound.
    """
    host_check = Check(RANDOM_FEATURES, HOST)
    check = Check(RANDOM_FEATURES, backend)
    rng = np.random.default_rng(seed)
    F = rng.standard_normal((problem.n, k)) * math.sqrt(lam / k)
    t = 8.0
    assert 2 * math.exp(-t * t / 2) <= FALSE_FAILURE
    delta = (math.sqrt(problem.n) + t) / math.sqrt(k)
    dev = lam * (2 * delta + delta**2)
    assert dev < lam
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    Xf = backend.xp.concat([X, backend.asarray(F)], axis=1)
    z = min_norm_solution(Xf, y)
    FFt = F @ F.T
    K = problem.X @ problem.X.T + FFt
    lo = float(np.linalg.eigvalsh(FFt)[0])
    cond = (problem.sigma_max**2 + float(np.linalg.norm(FFt, 2))) / lo
    exact = problem.X.T @ np.linalg.solve(K, problem.y)
    scale = float(np.linalg.norm(exact)) + problem.sigma_max * float(np.linalg.norm(problem.y)) / lo
    w_k = backend.to_numpy(z)[: problem.d]
    with clause("a"):
        check.assert_close(
            w_k,
            exact,
            kind="identity",
            cond=cond,
            scale=scale,
            # the SVD of the n x (d + k) matrix [X, F] sums inner products of length d + k (its
            # backward error grows with the row length), so d + k terms, not d (sweep seed
            # 2314299965: k = 4000 in float32 exceeded dim n + d)
            dim=problem.n + problem.d + k,
            what="first block of [X, F]^+ y",
        )
        dual = backend.to_numpy(X.T @ kernel_ridge(backend.asarray(K), y, 0.0))
        check.assert_close(
            dual,
            exact,
            kind="identity",
            cond=cond,
            scale=scale,
            dim=problem.n + problem.d,
            what="dual form X^T (XX^T + FF^T)^{-1} y",
        )
    fro2 = float(np.sum(F * F))
    delta_norm = float(np.linalg.norm(FFt - lam * np.eye(problem.n), 2))
    delta_hi = delta_norm + host_check.tolerance(kind="statistical", dim=k + problem.n) * fro2
    with clause("b"):
        assert (
            delta_norm <= dev + host_check.tolerance(kind="statistical", dim=k + problem.n) * fro2
        )
    w_lam = svd_ridge(problem, lam)
    # the computed w_k is within the identity tolerance of the exact one (checked above, dim
    # n + d + k); w_lam (float64, from the known SVD) adds far less
    slack = check.tolerance(kind="statistical", cond=cond, dim=problem.n + problem.d + k) * scale
    gap = float(np.linalg.norm(w_k - w_lam))
    ynorm = float(np.linalg.norm(problem.y))
    with clause("c"):
        assert delta_hi < lam
        assert gap <= problem.sigma_max * ynorm * delta_hi / (lam * (lam - delta_hi)) + slack
    bound = problem.sigma_max * ynorm * dev / (lam * (lam - dev))
    with clause("d"):
        assert gap <= bound + slack
