"""Chapter gradient-descent: GD on quadratics as a linear dynamical system."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dlcore.data import separable_dataset
from dlcore.dynamics import (
    gd_filter_factors,
    gd_max_stable_lr,
    gd_mode_factor,
    gd_steps_to_tolerance,
)
from dlcore.linear import ridge, ridge_filter_factors, ridge_grad
from dlcore.losses import empirical_risk, empirical_risk_grad, squared_loss, squared_loss_grad
from dlcore.optim import gd
from dlcore.train import best_checkpoint, run, train
from tests.support.backends import backend_params
from tests.support.claims import claim
from tests.support.strategies import log_uniform, orthogonal, regression_problems, seeds
from tests.support.tolerances import assert_close, record_ratio, tolerance

MODES = "gradient-descent.per-mode-linear-dynamics"
STAB = "gradient-descent.step-size-stability-bound"
ORDER = "gradient-descent.ordered-fit-largest-singular-directions-first"

any_problem = regression_problems(n=(1, 8), d=(1, 8), rank="any", max_cond=10.0)
tall = regression_problems(n=(3, 9), d=(1, 6), shape="tall", max_cond=3.0, sigma_max=(0.5, 1.5))
ridge_lams = st.one_of(st.just(0.0), log_uniform(1e-2, 1.0))


def steps_to(rho: float, target: float) -> int:
    """Smallest T >= 1 with rho^T <= target (rho < 1) or rho^T >= target (rho > 1)."""
    if rho == 0.0 or (rho < 1) == (rho <= target):
        return 1
    return max(1, math.ceil(math.log(target) / math.log(rho)))


def svd_coordinates(problem, lam: float):
    """Full-length singular values (zeros padded), U^T y, and the minimizer in V coordinates."""
    s = np.zeros(problem.d)
    s[: problem.rank] = problem.svals
    yt = problem.U.T @ problem.y
    w_star = np.zeros(problem.d)
    k = problem.rank
    w_star[:k] = problem.svals * yt[:k] / (problem.svals**2 + lam)
    return s, yt, w_star


def gd_trajectory(backend, problem, lam: float, lr: float, w0: np.ndarray, steps: int):
    """dlcore GD on ||Xw - y||^2 + lam ||w||^2 (ridge_grad; lam = 0 is least squares)."""
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    if lam > 0:
        grad = lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)}  # noqa: E731
    else:
        grad = lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}  # noqa: E731
    _, traj = run(gd(lr), grad, {"w": backend.asarray(w0)}, steps, record_every=1)
    return np.array([backend.to_numpy(p["w"]) for p in traj])


@claim(MODES)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=any_problem,
    lam=ridge_lams,
    c=st.floats(0.05, 1.95),
    steps=st.integers(1, 40),
    seed=seeds,
)
def test_gd_modes_follow_the_scalar_recursions(backend, problem, lam, c, steps, seed):
    """Rotate dlcore's GD iterates by V^T and compare every step with the per-mode closed form.

    lr = c / lambda_max with c in (0, 2), so every factor |1 - lr lambda_i| <= 1: a rounding error
    made at one step is never amplified later. Each step perturbs the iterate by about
    (n + d) eps relative to the scale of the iterates, and lr * ||H|| <= 2 multiplies the input
    rounding of X; the error after t steps is then at most 2 t (n + d) eps * scale (dim = (n+d) T,
    cond = 2).
    """
    s, _, w_star_t = svd_coordinates(problem, lam)
    lam_max = 2 * (problem.sigma_max**2 + lam)
    lr = c / lam_max
    w0 = np.random.default_rng(seed).standard_normal(problem.d)
    traj = gd_trajectory(backend, problem, lam, lr, w0, steps)
    factors = 1 - 2 * lr * (s**2 + lam)
    w0_t = problem.V.T @ w0
    scale = max(np.linalg.norm(traj, axis=1).max(), np.linalg.norm(w_star_t), 1e-300)
    for t in range(steps + 1):
        predicted = w_star_t + factors**t * (w0_t - w_star_t)
        assert_close(
            problem.V.T @ traj[t],
            predicted,
            claim=MODES,
            backend=backend,
            cond=2.0,
            dim=(problem.n + problem.d) * max(t, 1),
            scale=scale,
            what=f"V^T w_{t} vs per-mode closed form",
        )
    # The matrix form e_t = (I - lr H)^t e_0 and dlcore's per-mode factor agree with the modes.
    H = 2 * (problem.X.T @ problem.X + lam * np.eye(problem.d))
    e0 = w0 - problem.V @ w_star_t
    assert_close(
        np.linalg.matrix_power(np.eye(problem.d) - lr * H, steps) @ e0 + problem.V @ w_star_t,
        traj[steps],
        claim=MODES,
        backend=backend,
        cond=2.0,
        dim=(problem.n + problem.d) * steps,
        scale=scale,
        what="(I - lr H)^T e_0",
    )
    for lam_i, f in zip(2 * (s**2 + lam), factors, strict=True):
        assert gd_mode_factor(lam_i, lr) == pytest.approx(f, rel=0, abs=4 * np.finfo(float).eps)


@claim(MODES)
@pytest.mark.parametrize("backend", backend_params())
@given(
    a=st.one_of(st.floats(0.05, 0.95), st.floats(1.05, 1.95), st.floats(2.05, 3.0)),
    sigma=log_uniform(0.1, 10.0),
    e0=st.floats(0.5, 2.0),
    sign=st.sampled_from([-1.0, 1.0]),
)
def test_sign_alternates_iff_step_times_curvature_exceeds_one(backend, a, sigma, e0, sign):
    """One mode (X = [[sigma]], y = 0, so w* = 0): GD with lr * lambda = a, lambda = 2 sigma^2.

    The error keeps its sign for a < 1 and flips it every step for a > 1, decaying for a < 2 and
    growing for a > 2 (the corrected C-A36). The run stops while |e_t| >= |e_0| sqrt(eps), so signs
    are far above rounding; |e_t| is compared with |1 - a|^t |e_0| along the way.
    """
    lam = 2 * sigma**2
    rho = abs(1 - a)
    steps = min(60, steps_to(rho, math.sqrt(backend.eps) if rho < 1 else 1e6))
    X, y = backend.asarray(np.array([[sigma]])), backend.asarray(np.zeros(1))
    _, traj = run(
        gd(a / lam),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": backend.asarray(np.array([sign * e0]))},
        steps,
        record_every=1,
    )
    e = np.array([backend.to_numpy(p["w"])[0] for p in traj])
    flips = np.sign(e[1:]) != np.sign(e[:-1])
    assert flips.all() if a > 1 else not flips.any(), f"a = {a}: signs {np.sign(e)}"
    assert_close(
        np.abs(e),
        rho ** np.arange(steps + 1) * e0,
        claim=MODES,
        backend=backend,
        cond=2.0,
        dim=steps + 1,
        what="|e_t| vs |1 - a|^t |e_0|",
    )


@claim(STAB)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=tall, lam=ridge_lams, c=st.floats(0.05, 0.95), seed=seeds)
def test_gd_below_the_bound_contracts_at_rate_rho(backend, problem, lam, c, seed):
    """lr = c * 2 / lambda_max, c in [0.05, 0.95] (a 5% margin from the bound).

    H = 2 (X^T X + lam I) is positive definite (tall, full column rank). T is the number of steps
    with rho^T <= 1e-3, rho = max_i |1 - lr lambda_i|. Checks ||e_t|| <= rho^t ||e_0|| at every t,
    with rounding amplified by at most 1 / (1 - rho) (cond) over (n + d)-term products (dim).
    Also: dlcore's gd_max_stable_lr(lambda_max) is the lecture's 1 / (sigma_max^2 + lam).
    """
    lam_max = 2 * (problem.sigma_max**2 + lam)
    assert_close(
        gd_max_stable_lr(lam_max),
        1 / (problem.sigma_max**2 + lam),
        claim=STAB,
        backend=backend,
        kind="identity",
        what="2 / lambda_max vs 1 / (sigma_max^2 + lam)",
    )
    lr = c * gd_max_stable_lr(lam_max)
    lams = 2 * (problem.svals**2 + lam)
    rho = float(np.max(np.abs(1 - lr * lams)))
    steps = steps_to(rho, 1e-3)
    _, _, w_star_t = svd_coordinates(problem, lam)
    w_star = problem.V @ w_star_t
    w0 = w_star + np.random.default_rng(seed).standard_normal(problem.d)
    traj = gd_trajectory(backend, problem, lam, lr, w0, steps)
    err = np.linalg.norm(traj - w_star, axis=1)
    e0 = float(np.linalg.norm(w0 - w_star))
    scale = max(np.linalg.norm(traj, axis=1).max(), 1.0)
    tol = tolerance(backend.eps, kind="bound", cond=1 / (1 - rho), dim=problem.n + problem.d)
    excess = err - rho ** np.arange(steps + 1) * e0
    assert excess.max() <= tol * scale, (
        f"claim {STAB} [{backend}]: ||e_t|| exceeds rho^t ||e_0|| by {excess.max():.3e} "
        f"> {tol * scale:.3e} (rho = {rho:.4f}, T = {steps})"
    )
    assert err[-1] <= 1e-3 * e0 + tol * scale


@claim(STAB, breaks="step past the bound, eta > 2 / lambda_max")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=tall, lam=ridge_lams, c=st.floats(1.05, 1.5), seed=seeds, top=st.floats(0.5, 1.0))
def test_gd_past_the_bound_oscillates_away(backend, problem, lam, c, seed, top):
    """lr = c * 2 / lambda_max with c in [1.05, 1.5]: the top mode's factor is 1 - 2c < -1.

    The start has top-mode component `top` (constructed, not assumed). T is the number of steps
    with |1 - 2c|^T >= 1e6. The top component must flip sign at every step and reach at least
    half its predicted size |1 - 2c|^T * top, so GD reaches no minimizer.
    """
    lam_max = 2 * (problem.sigma_max**2 + lam)
    lr = c * gd_max_stable_lr(lam_max)
    growth = abs(1 - lr * lam_max)
    steps = steps_to(growth, 1e6)
    _, _, w_star_t = svd_coordinates(problem, lam)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(problem.d)
    a[1:] /= max(1.0, float(np.linalg.norm(a[1:])))
    a[0] = top
    w_star = problem.V @ w_star_t
    traj = gd_trajectory(backend, problem, lam, lr, w_star + problem.V @ a, steps)
    top_component = (traj - w_star) @ problem.V[:, 0]
    assert (np.sign(top_component[1:]) == -np.sign(top_component[:-1])).all()
    assert abs(top_component[-1]) >= 0.5 * top * growth**steps
    assert np.linalg.norm(traj[-1] - w_star) >= 0.5e6 * top


def nested_problem(problem, seed):
    """The drawn problem with y replaced so that every U^T y coordinate is at least 0.5 in size."""
    rng = np.random.default_rng(seed)
    yt = rng.choice([-1.0, 1.0], problem.n) * rng.uniform(0.5, 1.5, problem.n)
    return problem.U @ yt


@claim(ORDER)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 8), d=(1, 8), rank="any", max_cond=10.0),
    c=st.floats(0.05, 1.0),
    steps=st.integers(1, 60),
    seed=seeds,
)
def test_gd_fits_strong_directions_first(backend, problem, c, steps, seed):
    """GD from 0 with lr = c / lambda_max, c <= 1 (monotone range), against the filter p_i(t).

    dlcore's iterates in V coordinates must equal p_i(t) U^T y / sigma_i (tolerance as in the
    per-mode test: factors in [0, 1], so rounding adds up linearly, dim = (n + d) T). Then, on
    dlcore's filter: p in [0, 1], nondecreasing in t and in sigma; steps-to-tolerance nonincreasing
    in sigma (the erratum); the separation bound; ||w_t|| nondecreasing and <= ||X^+ y|| up to
    the same rounding.
    """
    X = problem.X
    y = nested_problem(problem, seed)
    lr = c / (2 * problem.sigma_max**2)
    Xb, yb = backend.asarray(X), backend.asarray(y)
    _, traj = run(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], Xb, yb)},
        {"w": backend.asarray(np.zeros(problem.d))},
        steps,
        record_every=1,
    )
    W = np.array([backend.to_numpy(p["w"]) for p in traj])
    r, s = problem.rank, problem.svals
    yt = (problem.U.T @ y)[:r]
    pinv = problem.V[:, :r] @ (yt / s)
    scale = float(np.linalg.norm(pinv))
    for t in range(steps + 1):
        p = gd_filter_factors(s, lr, t)
        assert_close(
            W[t],
            problem.V[:, :r] @ (p * yt / s),
            claim=ORDER,
            backend=backend,
            cond=1.0,
            dim=(problem.n + problem.d) * max(t, 1),
            scale=scale,
            what=f"w_{t} vs filter form",
        )
    P = np.array([gd_filter_factors(s, lr, t) for t in range(steps + 1)])  # (T+1, r)
    assert ((P >= 0) & (P <= 1)).all()
    assert (np.diff(P, axis=0) >= 0).all(), "p_i(t) must be nondecreasing in t"
    assert (np.diff(P, axis=1) <= 0).all(), "p_i(t) must be nonincreasing down the spectrum"
    counts = [gd_steps_to_tolerance(2 * si**2, lr, 1e-3) for si in s]
    assert counts == sorted(counts), f"steps to 1e-3 must grow as sigma shrinks: {counts}"
    eps_sep = 1e-3
    t_star = gd_steps_to_tolerance(2 * s[0] ** 2, lr, eps_sep)
    p_star = gd_filter_factors(s, lr, t_star)
    bound = (s**2 / s[0] ** 2) * math.log(1 / eps_sep) + 2 * lr * s**2
    assert (p_star <= bound * (1 + 1e-12)).all()
    norms = np.linalg.norm(W, axis=1)
    tol = tolerance(backend.eps, kind="bound", dim=(problem.n + problem.d) * steps) * scale
    assert (np.diff(norms) >= -tol).all(), "||w_t|| must be nondecreasing"
    assert norms.max() <= scale + tol


@claim(ORDER, breaks="medium step, 1 / lambda_max < eta < 2 / lambda_max")
@pytest.mark.parametrize("backend", backend_params())
@given(lr=log_uniform(0.1, 10.0), seed=seeds)
def test_medium_step_fits_a_middle_direction_first(backend, lr, seed):
    """sigma^2 = (0.95, 0.7, 0.5, 0.1) / lr: factors 1 - 2 lr sigma^2 = (-0.9, -0.4, 0, 0.8).

    Mode 3 is fitted exactly after one step while mode 1 (the strongest) still has residual
    0.9^t: at t = 2 dlcore's GD has p_1 = 0.19 < p_3 = 1, and the steps-to-tolerance order follows
    |factor|, not sigma.
    """
    rng = np.random.default_rng(seed)
    s = np.sqrt(np.array([0.95, 0.7, 0.5, 0.1]) / lr)
    U, V = orthogonal(4, rng), orthogonal(4, rng)
    X = (U * s) @ V.T
    yt = np.ones(4)
    y = U @ yt
    Xb, yb = backend.asarray(X), backend.asarray(y)
    wT, _ = run(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], Xb, yb)},
        {"w": backend.asarray(np.zeros(4))},
        2,
    )
    p = (V.T @ backend.to_numpy(wT["w"])) * s / yt
    assert_close(
        p,
        [0.19, 0.84, 1.0, 0.36],
        claim=ORDER,
        backend=backend,
        cond=s[0] / s[-1],
        dim=16,
        what="p(2) at a medium step",
    )
    assert p[0] < p[2] - 0.5
    counts = [gd_steps_to_tolerance(2 * si**2, lr, 1e-3) for si in s]
    assert counts[2] < counts[1] < counts[3] < counts[0]  # by |factor|: 0, 0.4, 0.8, 0.9


FIXED = "gradient-descent.update-rule-and-fixed-points"
TAYLOR = "gradient-descent.first-order-taylor-model"
STEEPEST = "gradient-descent.negative-gradient-is-steepest-descent"
DESCENT = "gradient-descent.descent-lemma"
OLSGRAD = "gradient-descent.ols-gradient-and-step"
REGIMES = "gradient-descent.step-size-regimes"
SIGNATURE = "gradient-descent.oscillation-signature"
CLOSED = "gradient-descent.closed-form-trajectory"
MEDIUM = "gradient-descent.medium-step-reorders-fit"
WEAK = "gradient-descent.weak-directions-barely-fitted"
SANDWICH = "gradient-descent.gd-filter-sandwiched-by-ridge-filter"
ROTATE = "gradient-descent.singular-structure-determines-what-is-learned"
EARLY = "gradient-descent.early-stopping-regularizes"
SLOW = "gradient-descent.too-small-step-is-slow"
KAPPA = "gradient-descent.slow-directions-and-condition-number"


def one_step(backend, grad, w: np.ndarray, lr: float) -> np.ndarray:
    """One dlcore GD step from w with gradient function grad(w_backend)."""
    wT, _ = run(gd(lr), lambda p, t: {"w": grad(p["w"])}, {"w": backend.asarray(w)}, 1)
    return backend.to_numpy(wT["w"])


def residual_scale(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Magnitude of the terms of 2 X^T (Xw - y) before cancellation."""
    return 2 * float(
        np.linalg.norm(X) * (np.linalg.norm(X) * np.linalg.norm(w) + np.linalg.norm(y))
    )


@claim(FIXED)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, lam=ridge_lams, c=st.floats(0.05, 1.95), seed=seeds)
def test_minimizers_are_fixed_points_and_the_step_is_weight_decay(backend, problem, lam, c, seed):
    """At the (ridge or min-norm) minimizer one dlcore GD step moves by lr ||grad|| ~ rounding.

    The gradient there is a cancellation of terms of size residual_scale; lr times that is the
    reference scale (dim = n + d). Elsewhere the ridge step equals (1 - 2 lr lam) w - lr grad D.
    """
    _, _, w_star_t = svd_coordinates(problem, lam)
    w_star = problem.V @ w_star_t
    lr = c / (2 * (problem.sigma_max**2 + lam))
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    grad = (
        (lambda w: ridge_grad(w, X, y, lam)) if lam > 0 else (lambda w: squared_loss_grad(w, X, y))
    )
    moved = one_step(backend, grad, w_star, lr)
    assert_close(
        moved,
        w_star,
        claim=FIXED,
        backend=backend,
        dim=problem.n + problem.d,
        scale=lr * residual_scale(problem.X, problem.y, w_star) + float(np.linalg.norm(w_star)),
        what="one GD step from the minimizer",
    )
    w = np.random.default_rng(seed).standard_normal(problem.d)
    D = 2 * problem.X.T @ (problem.X @ w - problem.y)
    assert_close(
        one_step(backend, lambda v: ridge_grad(v, X, y, max(lam, 1e-3)), w, lr),
        (1 - 2 * lr * max(lam, 1e-3)) * w - lr * D,
        claim=FIXED,
        backend=backend,
        dim=problem.n + problem.d,
        scale=float(np.linalg.norm(w)) + lr * residual_scale(problem.X, problem.y, w),
        what="ridge step vs weight-decay form",
    )
    g = backend.to_numpy(grad(backend.asarray(w)))
    step = one_step(backend, grad, w, lr) - w
    assert_close(
        np.linalg.norm(step),
        lr * np.linalg.norm(g),
        claim=FIXED,
        backend=backend,
        dim=problem.n + problem.d,
        scale=lr * residual_scale(problem.X, problem.y, w) + float(np.linalg.norm(w)),
        what="||w_1 - w_0|| = lr ||grad||",
    )


@claim(TAYLOR)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, eps_=log_uniform(1e-2, 1.0), seed=seeds)
def test_least_squares_taylor_remainder_is_quadratic(backend, problem, eps_, seed):
    """r(eps) = L(w + eps v) - L(w) - eps grad^T v against eps^2 ||Xv||^2, dlcore's loss and grad.

    The difference cancels terms of size L(w + eps v) + L(w) + eps |grad^T v| (the scale), each
    computed with (n + d)-term sums.
    """
    rng = np.random.default_rng(seed)
    w, v = rng.standard_normal(problem.d), rng.standard_normal(problem.d)
    v /= np.linalg.norm(v)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    L0 = float(squared_loss(backend.asarray(w), X, y))
    L1 = float(squared_loss(backend.asarray(w + eps_ * v), X, y))
    gv = float(backend.to_numpy(squared_loss_grad(backend.asarray(w), X, y)) @ v)
    assert_close(
        L1 - L0 - eps_ * gv,
        eps_**2 * float(np.sum((problem.X @ v) ** 2)),
        claim=TAYLOR,
        backend=backend,
        dim=problem.n + problem.d,
        scale=L1 + L0 + eps_ * abs(gv) + eps_ * residual_scale(problem.X, problem.y, w),
        what="Taylor remainder",
    )


@claim(STEEPEST)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, r=log_uniform(1e-3, 1.0), seed=seeds)
def test_negative_gradient_is_steepest(backend, problem, r, seed):
    """Cauchy-Schwarz on dlcore's gradient for 16 random unit directions, equality at -g/||g||,
    and the true loss along -g/||g|| within r^2 sigma_max^2 of every other direction.

    w is drawn with a component off the minimizer set (y - X w has a row-space part of norm >= 1),
    so g != 0 by construction. Slack: (n + d) eps relative to the terms' magnitudes.
    """
    rng = np.random.default_rng(seed)
    r_ = problem.rank
    w = problem.V[:, :r_] @ ((problem.U.T @ problem.y)[:r_] / problem.svals + 1 / problem.svals)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    g = backend.to_numpy(squared_loss_grad(backend.asarray(w), X, y))
    gn = float(np.linalg.norm(g))
    tol = tolerance(backend.eps, kind="bound", dim=problem.n + problem.d) * residual_scale(
        problem.X, problem.y, w
    )
    assert gn > 1e3 * tol
    L_best = float(squared_loss(backend.asarray(w - r * g / gn), X, y))
    scale = float(np.sum((problem.X @ w - problem.y) ** 2)) + 1.0
    for _ in range(16):
        u = rng.standard_normal(problem.d)
        u /= np.linalg.norm(u)
        assert g @ u >= -gn - tol
        L_u = float(squared_loss(backend.asarray(w + r * u), X, y))
        assert L_best <= L_u + r**2 * problem.sigma_max**2 + tol * scale
    assert_close(
        g @ (-g / gn), -gn, claim=STEEPEST, backend=backend, kind="identity", what="g^T(-g/|g|)"
    )


@claim(DESCENT)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, c=st.floats(0.05, 0.95), seed=seeds)
def test_descent_lemma_on_least_squares_and_logistic(backend, problem, c, seed):
    """Least squares: L(w - lr g) = L(w) - lr ||g||^2 + lr^2 ||Xg||^2 (the identity, H = 2X^T X),
    and the descent inequality with beta = 2 sigma_max^2, lr = c 2 / beta.

    Logistic (mean, labels sign(y)): beta <= ||X||^2 / (4n); 30 dlcore GD steps with lr = c 2/beta
    never increase the recorded loss (dlcore.train's per-step record), up to (n + d) eps rounding.
    """
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(problem.d)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    beta = 2 * problem.sigma_max**2
    lr = c * 2 / beta
    g = backend.to_numpy(squared_loss_grad(backend.asarray(w), X, y))
    L0 = float(squared_loss(backend.asarray(w), X, y))
    L1 = float(squared_loss(backend.asarray(w - lr * g), X, y))
    scale = L0 + lr * float(g @ g) + L1 + lr * residual_scale(problem.X, problem.y, w) ** 2
    assert_close(
        L1,
        L0 - lr * float(g @ g) + lr**2 * float(np.sum((problem.X @ g) ** 2)),
        claim=DESCENT,
        backend=backend,
        kind="identity",
        dim=problem.n + problem.d,
        scale=scale,
        what="quadratic descent identity",
    )
    tol = tolerance(backend.eps, kind="bound", dim=problem.n + problem.d) * scale
    assert L1 <= L0 - lr * (1 - beta * lr / 2) * float(g @ g) + tol
    labels = backend.asarray(np.where(problem.y >= 0, 1.0, -1.0))
    beta_log = problem.sigma_max**2 / (4 * problem.n)
    hist = train(
        gd(c * 2 / beta_log),
        lambda p, t: {"w": empirical_risk_grad(p["w"], X, labels, loss="logistic")},
        {"w": backend.asarray(w)},
        30,
        loss_fn=lambda p: empirical_risk(p["w"], X, labels, loss="logistic"),
    )
    losses = np.array([rec.loss for rec in hist.records])
    tol = tolerance(backend.eps, kind="bound", dim=problem.n + problem.d) * (
        losses[0] + float(np.abs(problem.X @ w).max())
    )
    assert (np.diff(losses) <= tol).all(), f"logistic loss increased: {np.diff(losses).max():.3e}"


@claim(OLSGRAD)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, c=st.floats(0.05, 1.95), seed=seeds)
def test_ols_gradient_matches_autograd_and_the_step_adds_xt_residual(backend, problem, c, seed):
    """dlcore's gradient vs torch autograd of ||y - Xw||^2 (float64 oracle), and the GD step vs
    w + 2 lr X^T r; rounding (n + d) eps relative to the terms before cancellation."""
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(seed).standard_normal(problem.d)
    wt = torch.tensor(w, requires_grad=True)
    ((torch.as_tensor(problem.y) - torch.as_tensor(problem.X) @ wt) ** 2).sum().backward()
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    scale = residual_scale(problem.X, problem.y, w)
    assert_close(
        squared_loss_grad(backend.asarray(w), X, y),
        wt.grad.numpy(),
        claim=OLSGRAD,
        backend=backend,
        dim=problem.n + problem.d,
        scale=scale,
        what="gradient vs autograd",
    )
    lr = c / (2 * problem.sigma_max**2)
    r = problem.y - problem.X @ w
    assert_close(
        one_step(backend, lambda v: squared_loss_grad(v, X, y), w, lr),
        w + 2 * lr * problem.X.T @ r,
        claim=OLSGRAD,
        backend=backend,
        dim=problem.n + problem.d,
        scale=float(np.linalg.norm(w)) + lr * scale,
        what="GD step vs w + 2 lr X^T r",
    )


@claim(REGIMES)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(2, 8), d=(2, 6), shape="tall", max_cond=10.0),
    delta=st.floats(0.05, 0.95),
    s=log_uniform(0.1, 10.0),
    seed=seeds,
)
def test_one_step_points_and_mirror_symmetry(backend, problem, delta, s, seed):
    """(i) lr = 1/(2 sigma_j^2): after one step SVD coordinate j is exact. (ii) X = s Q with
    orthonormal columns: one step with lr = 1/(2 s^2) gives the least-squares solution. (iii) a
    1-D mode at lr lambda = 1 +- delta: |e_t| coincide for t <= 20. Rounding: one or a few steps,
    cond = max(1, lr lambda_max) amplifies the input rounding.
    """
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(problem.d)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    j = int(rng.integers(problem.rank))
    lr = 1 / (2 * problem.svals[j] ** 2)
    w1 = one_step(backend, lambda v: squared_loss_grad(v, X, y), w0, lr)
    target_j = (problem.U.T @ problem.y)[j] / problem.svals[j]
    assert_close(
        problem.V[:, j] @ w1,
        target_j,
        claim=REGIMES,
        backend=backend,
        cond=problem.cond**2,
        dim=problem.n + problem.d,
        scale=float(np.linalg.norm(w0))
        + abs(target_j)
        + lr * residual_scale(problem.X, problem.y, w0),
        what=f"coordinate {j} after one step at lr = 1/(2 sigma_j^2)",
    )
    Q = problem.U[:, : problem.d]
    Xq = backend.asarray(s * Q)
    ls = Q.T @ problem.y / s
    w1 = one_step(backend, lambda v: squared_loss_grad(v, Xq, y), w0, 1 / (2 * s**2))
    assert_close(
        w1,
        ls,
        claim=REGIMES,
        backend=backend,
        dim=problem.n + problem.d,
        scale=float(np.linalg.norm(w0)) + float(np.linalg.norm(ls)),
        what="one step for X = sQ",
    )
    Xs, ys = backend.asarray(np.array([[s]])), backend.asarray(np.zeros(1))
    lam = 2 * s**2
    paths = []
    for a in (1 - delta, 1 + delta):
        _, traj = run(
            gd(a / lam),
            lambda p, t: {"w": squared_loss_grad(p["w"], Xs, ys)},
            {"w": backend.asarray(np.ones(1))},
            20,
            record_every=1,
        )
        paths.append(np.abs([backend.to_numpy(p["w"])[0] for p in traj]))
    assert_close(
        paths[1],
        paths[0],
        claim=REGIMES,
        backend=backend,
        cond=2.0,
        dim=4 * 20,
        what="mirror symmetry",
    )


@claim(SIGNATURE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    big=st.floats(1.05, 1.95),
    small=log_uniform(1e-3, 0.5),
    seed=seeds,
)
def test_projected_gradients_alternate_or_drift(backend, big, small, seed):
    """A 2-D quadratic X = R diag(s1, s2), y = 0, lr lambda = (big, small). dlcore's gradients,
    projected on the eigenvectors: the big one alternates every step, the small one keeps its
    sign and changes by lr lambda_small relative per step (rounding 4 eps per step, 12 steps).
    """
    rng = np.random.default_rng(seed)
    R = orthogonal(2, rng)
    lr = 1.0
    s = np.sqrt(np.array([big, small]) / 2)  # lambda_i = 2 s_i^2 = (big, small) / lr
    X, y = backend.asarray((R * s) @ R.T), backend.asarray(np.zeros(2))
    steps = min(12, steps_to(abs(1 - big), 1e3 * backend.eps))  # big mode stays above rounding
    _, traj = run(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": backend.asarray(R @ np.array([1.0, 1.0]))},
        steps,
        record_every=1,
    )
    G = np.array([R.T @ backend.to_numpy(squared_loss_grad(p["w"], X, y)) for p in traj])
    assert (np.sign(G[1:, 0]) == -np.sign(G[:-1, 0])).all()
    assert (np.sign(G[1:, 1]) == np.sign(G[:-1, 1])).all()
    # The small component is read off a gradient dominated by the big one: its rounding is
    # eps ||g_t|| / |g_small(t)|, and the relative drift divides a difference by `small`.
    cond = float(np.max(np.linalg.norm(G, axis=1) / np.abs(G[:, 1]))) / small
    assert_close(
        np.abs(np.diff(G[:, 1])) / np.abs(G[:-1, 1]),
        np.full(steps, small),
        claim=SIGNATURE,
        backend=backend,
        cond=cond,
        dim=4 * steps,
        what="relative drift of the small-mode gradient",
    )


@claim(CLOSED)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, c=st.floats(0.05, 1.95), steps=st.integers(1, 300), seed=seeds)
def test_gd_trajectory_closed_form(backend, problem, c, steps, seed):
    """w_T from dlcore GD against V[(1 - 2 lr s^2)^T (V^T w0 - w_ls) + w_ls] (zero-s coordinates
    kept), c over the whole stable range; rounding adds up linearly (factors <= 1): dim (n + d) T.
    """
    s, _, w_ls = svd_coordinates(problem, 0.0)
    lr = c / (2 * problem.sigma_max**2)
    w0 = np.random.default_rng(seed).standard_normal(problem.d)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    wT, _ = run(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": backend.asarray(w0)},
        steps,
    )
    w0t = problem.V.T @ w0
    closed = np.where(s > 0, w_ls + (1 - 2 * lr * s**2) ** steps * (w0t - w_ls), w0t)
    assert_close(
        problem.V.T @ backend.to_numpy(wT["w"]),
        closed,
        claim=CLOSED,
        backend=backend,
        cond=2.0,
        dim=(problem.n + problem.d) * steps,
        scale=max(float(np.linalg.norm(w0)), float(np.linalg.norm(w_ls)), 1e-300),
        what=f"w_{steps} vs closed form",
    )
    zero = np.zeros(problem.d)
    wT, _ = run(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": backend.asarray(zero)},
        steps,
    )
    p = gd_filter_factors(s, lr, steps)
    assert_close(
        problem.V.T @ backend.to_numpy(wT["w"]),
        p * w_ls,
        claim=CLOSED,
        backend=backend,
        cond=2.0,
        dim=(problem.n + problem.d) * steps,
        scale=max(float(np.linalg.norm(w_ls)), 1e-300),
        what="from 0: filter form",
    )


@claim(MEDIUM)
@pytest.mark.parametrize("backend", backend_params())
@given(lr=log_uniform(0.1, 10.0), seed=seeds, small=st.floats(0.01, 0.2))
def test_medium_step_reorders_and_early_stopping_returns_another_model(backend, lr, seed, small):
    """sigma^2 = (0.95, 0.7, 0.5, 0.1) / lr (factors -0.9, -0.4, 0, 0.8), y-tilde = (s, s, 1, s).

    Mode 1 alternates; steps-to-tolerance follow |factor|. Stopped (dlcore.train records) at the
    first step with training loss <= 0.05, the medium step and a small step (c = 0.5 of
    1/lambda_max) return models with different fit profiles, the medium one with the smaller
    mode-3 error (mode 3 is exact after one medium step).
    """
    rng = np.random.default_rng(seed)
    s = np.sqrt(np.array([0.95, 0.7, 0.5, 0.1]) / lr)
    U, V = orthogonal(4, rng), orthogonal(4, rng)
    yt = np.array([small, small, 1.0, small])
    X, y = backend.asarray((U * s) @ V.T), backend.asarray(U @ yt)
    w_ls = yt / s
    profiles = {}
    for name, step in [("medium", lr), ("small", 0.5 / (2 * s[0] ** 2))]:
        hist = train(
            gd(step),
            lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
            {"w": backend.asarray(np.zeros(4))},
            60,
            loss_fn=lambda p: squared_loss(p["w"], X, y),
            checkpoint_every=1,
        )
        t_stop = next(r.step for r in hist.records if r.loss <= 0.05)
        W = np.array([V.T @ backend.to_numpy(p["w"]) for _, p in hist.checkpoints])
        profiles[name] = W[t_stop] / w_ls
        if name == "medium":
            e1 = W[:6, 0] - w_ls[0]
            assert (np.sign(e1[1:]) == -np.sign(e1[:-1])).all()
    counts = [gd_steps_to_tolerance(2 * si**2, lr, 1e-3) for si in s]
    assert counts[2] < counts[1] < counts[3] < counts[0]
    err3 = {k: abs(1 - v[2]) for k, v in profiles.items()}
    assert err3["medium"] < err3["small"]
    assert np.abs(profiles["medium"] - profiles["small"]).max() > 0.1


@claim(WEAK)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=any_problem, c=st.floats(0.05, 1.0), steps=st.integers(1, 200))
def test_weak_directions_grow_like_an_integrator(backend, problem, c, steps):
    """The three bounds on dlcore's filter (float64, 1e-12 slack) and on dlcore's GD iterates in
    SVD coordinates (rounding dim (n + d) T relative to ||X^+ y||), plus ||w_T|| <= ||X^+ y||.
    """
    s, yt, w_ls = svd_coordinates(problem, 0.0)
    r = problem.rank
    s, yt = s[:r], yt[:r]
    lr = c / (2 * problem.sigma_max**2)
    a = 2 * lr * s**2
    p = gd_filter_factors(s, lr, steps)
    x = a * steps
    slack = 1e-12
    assert (x - x**2 / 2 <= p + slack).all() and (p <= np.minimum(1, x) + slack).all()
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    wT, _ = run(
        gd(lr),
        lambda q, t: {"w": squared_loss_grad(q["w"], X, y)},
        {"w": backend.asarray(np.zeros(problem.d))},
        steps,
    )
    wt = (problem.V.T @ backend.to_numpy(wT["w"]))[:r]
    scale = float(np.linalg.norm(w_ls))
    tol = tolerance(backend.eps, kind="bound", dim=(problem.n + problem.d) * steps) * scale
    assert (np.abs(wt) <= np.minimum(2 * lr * steps * s, 1 / s) * np.abs(yt) + tol).all()
    assert (
        np.abs(wt - 2 * lr * s * yt * steps) <= 2 * lr**2 * s**3 * steps**2 * np.abs(yt) + tol
    ).all()
    assert np.linalg.norm(wt) <= scale + tol


@claim(SANDWICH)
@pytest.mark.parametrize("backend", backend_params())
@given(
    s=st.lists(log_uniform(1e-4, 1.0), min_size=1, max_size=8),
    c=st.floats(0.01, 1.0),
    steps=st.integers(1, 10_000),
)
def test_gd_filter_is_sandwiched_by_the_ridge_filter(backend, s, c, steps):
    """h(lambda_t) <= p(t) <= 2 h(lambda_t) with lambda_t = 1/(2 lr t), lr = c / (2 max s^2), from
    dlcore's two filters (ridge on the backend); slack: the filters' rounding, (steps) eps."""
    sig = np.array(s)
    lr = c / (2 * sig.max() ** 2)
    lam_t = 1 / (2 * lr * steps)
    h = backend.to_numpy(ridge_filter_factors(backend.asarray(sig), lam_t))
    p = gd_filter_factors(sig, lr, steps)
    slack = tolerance(backend.eps, kind="bound", dim=4)
    assert (h <= p * (1 + slack) + slack).all(), (h, p)
    assert (p <= 2 * h * (1 + slack) + slack).all(), (h, p)
    srt = np.sort(sig)
    hs = backend.to_numpy(ridge_filter_factors(backend.asarray(srt), lam_t))
    assert (np.diff(hs) >= -slack).all()
    assert (
        backend.to_numpy(ridge_filter_factors(backend.asarray(sig), 2 * lam_t)) <= h * (1 + slack)
    ).all()


@claim(ROTATE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=any_problem,
    c=st.floats(0.05, 1.95),
    steps=st.integers(1, 50),
    lam=log_uniform(1e-2, 10.0),
    seed=seeds,
)
def test_rotating_the_features_rotates_the_weights(backend, problem, c, steps, lam, seed):
    """GD on X and on XQ (Q Haar orthogonal): X w_t = (XQ) w'_t and w'_t = Q^T w_t; same for
    dlcore's ridge. Rounding: the two runs round differently, (n + d) T eps relative to the scale.
    """
    Q = orthogonal(problem.d, np.random.default_rng(seed))
    lr = c / (2 * problem.sigma_max**2)
    y = backend.asarray(problem.y)
    out = []
    for M in (problem.X, problem.X @ Q):
        Mb = backend.asarray(M)
        wT, _ = run(
            gd(lr),
            lambda p, t, Mb=Mb: {"w": squared_loss_grad(p["w"], Mb, y)},
            {"w": backend.asarray(np.zeros(problem.d))},
            steps,
        )
        out.append((backend.to_numpy(wT["w"]), backend.to_numpy(ridge(Mb, y, lam))))
    (w, wr), (wq, wrq) = out
    scale = float(np.linalg.norm(problem.y)) / problem.sigma_min
    assert_close(
        wq,
        Q.T @ w,
        claim=ROTATE,
        backend=backend,
        cond=2.0,
        dim=(problem.n + problem.d) * steps,
        scale=scale,
        what="w'_t = Q^T w_t",
    )
    assert_close(
        problem.X @ Q @ wq,
        problem.X @ w,
        claim=ROTATE,
        backend=backend,
        cond=2.0,
        dim=(problem.n + problem.d) * steps,
        scale=problem.sigma_max * scale,
        what="predictions",
    )
    assert_close(
        wrq,
        Q.T @ wr,
        claim=ROTATE,
        backend=backend,
        cond=(problem.sigma_max**2 + lam) / lam,
        dim=problem.n + problem.d,
        what="ridge",
    )


@claim(EARLY)
@pytest.mark.parametrize("backend", backend_params())
@given(
    small=log_uniform(0.01, 0.05),
    noise=st.floats(0.05, 0.5),
    every=st.integers(1, 10),
    seed=seeds,
)
def test_early_stopping_beats_the_converged_model(backend, small, noise, every, seed):
    """sigma = (1, 1, small), w* = V(1, 1, 0), y = X w* + noise u_3: the least-squares limit has
    coefficient noise / small on v_3, test error E(w) = ||w - w*||^2 = (noise/small)^2.

    dlcore.train with lr = 0.4 / lambda_max for T steps (top modes within 1e-6): the training loss
    is nonincreasing, ||w_t|| nondecreasing, there are ceil(T/k) + 1 checkpoints, and the checkpoint
    best_checkpoint picks has test error below the converged one (w_3 has grown to at most
    2 lr small^2 T noise/small).
    """
    rng = np.random.default_rng(seed)
    U, V = orthogonal(3, rng), orthogonal(3, rng)
    s = np.array([1.0, 1.0, small])
    w_star = V @ np.array([1.0, 1.0, 0.0])
    Xh = (U * s) @ V.T
    yh = Xh @ w_star + noise * U[:, 2]
    lr = 0.4 / (2 * s[0] ** 2)
    steps = steps_to(1 - 2 * lr, 1e-6)
    X, y = backend.asarray(Xh), backend.asarray(yh)
    hist = train(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": backend.asarray(np.zeros(3))},
        steps,
        loss_fn=lambda p: squared_loss(p["w"], X, y),
        checkpoint_every=every,
    )
    assert len(hist.checkpoints) == -(-steps // every) + 1 and hist.checkpoints[-1][0] == steps
    losses = np.array([r.loss for r in hist.records])
    tol = tolerance(backend.eps, kind="convergence", dim=6 * steps) * (losses[0] + 1.0)
    assert (np.diff(losses) <= tol).all()
    norms = [float(np.linalg.norm(backend.to_numpy(p["w"]))) for _, p in hist.checkpoints]
    assert (np.diff(norms) >= -tol).all()

    def test_error(p):
        return float(np.sum((backend.to_numpy(p["w"]) - w_star) ** 2))

    _, best = best_checkpoint(hist.checkpoints, test_error)
    assert test_error(best) == min(test_error(p) for _, p in hist.checkpoints)
    e_inf = (noise / small) ** 2
    assert test_error(best) < e_inf / 10


@claim(SLOW)
@pytest.mark.parametrize("backend", backend_params())
@given(a=st.floats(0.03, 0.05), eps_=log_uniform(3e-3, 1e-2), s=log_uniform(0.1, 10.0))
def test_halving_a_small_step_doubles_the_steps(backend, a, eps_, s):
    """One mode, lr lambda = a: dlcore GD's first step with |e_t| <= eps is
    T(lr) = ceil(ln eps / ln(1 - a)) (+-1 for rounding at the edge), and T(lr/2)/T(lr) lies
    within 3/T of the exact ratio ln(1 - a)/ln(1 - a/2), itself in [1.97, 2.03] for a <= 0.05.
    """
    lam = 2 * s**2
    X, y = backend.asarray(np.array([[s]])), backend.asarray(np.zeros(1))
    counts = []
    for step in (a, a / 2):
        predicted = gd_steps_to_tolerance(lam, step / lam, eps_)
        _, traj = run(
            gd(step / lam),
            lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
            {"w": backend.asarray(np.ones(1))},
            predicted + 2,
            record_every=1,
        )
        e = np.abs([backend.to_numpy(p["w"])[0] for p in traj])
        hit = int(np.argmax(e <= eps_))
        assert e[hit] <= eps_ and abs(hit - predicted) <= 1
        counts.append(hit)
    exact = math.log1p(-a) / math.log1p(-a / 2)
    assert 1.97 <= exact <= 2.03
    assert abs(counts[1] / counts[0] - exact) <= 3 / counts[0]


@claim(KAPPA)
@given(
    lams=st.lists(log_uniform(1e-3, 1.0), min_size=2, max_size=8),
    c=st.floats(0.05, 1.0),
    delta=st.floats(1e-3, 0.5),
)
def test_condition_number_limits_the_rate(lams, c, delta):
    """On dlcore's mode factors (host floats): steps-to-tolerance monotone in lambda; for every
    stable lr the slowest mode's factor is >= 1 - 2/kappa; eta* = 2/(lam_max + lam_min) gives rate
    (kappa - 1)/(kappa + 1) and any other lr (eta* (1 +- delta)) a larger one."""
    lam = np.sort(np.array(lams))[::-1]
    lam_max, lam_min = lam[0], lam[-1]
    kappa = lam_max / lam_min
    lr = c / lam_max
    counts = [gd_steps_to_tolerance(li, lr, 1e-3) for li in lam]
    assert counts == sorted(counts)
    for frac in (0.1, 0.5, 0.99, 1.5, 1.99):
        eta = frac / lam_max
        assert abs(gd_mode_factor(lam_min, eta)) >= 1 - 2 / kappa - 1e-12
    star = 2 / (lam_max + lam_min)

    def rate(eta):
        return max(abs(gd_mode_factor(lam_min, eta)), abs(gd_mode_factor(lam_max, eta)))

    assert rate(star) == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-12, abs=1e-15)
    assert rate(star * (1 + delta)) > rate(star) and rate(star * (1 - delta)) > rate(star)


CYCLE = "gradient-descent.nonlinear-instabilities"
FLOW = "gradient-descent.gradient-flow-has-no-step-limit"


def cycle_amplitude(eta: float) -> float:
    """The positive root of 2 theta = eta tanh(theta) (eta > 2), by bisection in float64."""
    lo, hi = 1e-12, eta / 2 + 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 2 * mid < eta * math.tanh(mid):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@claim(CYCLE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    eta=st.one_of(st.floats(0.1, 1.9), st.floats(2.2, 5.0)),
    theta0=st.floats(0.05, 5.0),
    sign=st.sampled_from([-1.0, 1.0]),
)
@example(eta=1.0, theta0=0.05, sign=1.0)  # issue 11: log|1 - eta| = log 0 in the step count
def test_log_cosh_gd_converges_or_settles_on_a_two_cycle(backend, eta, theta0, sign):
    """dlcore GD on log cosh (gradient tanh). eta < 2: converges to 0; eta > 2: |theta_t| -> theta*
    and theta_{t+1} = -theta_t.

    Steps. eta < 2: |theta| never grows (tanh(theta)/theta <= 1), reaches |theta| <= 1 within
    (theta0 + 5) / min(eta, 1) steps, and from there contracts by at least
    rho = max(|1 - eta|, |1 - eta tanh(1)|) per step (tanh(theta)/theta lies in [tanh 1, 1] on
    |theta| <= 1), so ceil(log 1e-6 / log rho) more steps reach 1e-6 theta0. At eta = 1 the rate at 0
    is 0 (theta - tanh theta ~ theta^3 / 3) and rho = 1 - tanh 1 still bounds it. eta > 2: the
    same approach phase, an escape from near 0 at rate |1 - eta| > 1 (log(10 / theta0) /
    log|1 - eta| steps), then contractions at the cycle multiplier per two steps. The comparison
    allows the 1e-6 plus rounding."""
    w0 = {"w": backend.asarray(np.array([sign * theta0]))}
    grad = lambda p, t: {"w": backend.xp.tanh(p["w"])}  # noqa: E731
    approach = math.ceil((theta0 + 5) / min(eta, 1.0))
    if eta < 2:
        rho = max(abs(1 - eta), abs(1 - eta * math.tanh(1.0)))
        steps = approach + steps_to(rho, 1e-6)
        wT, _ = run(gd(eta), grad, w0, steps)
        assert abs(float(backend.to_numpy(wT["w"])[0])) <= 1e-6 * theta0 + 16 * backend.eps
        return
    approach += math.ceil(abs(math.log(10 / theta0) / math.log(abs(1 - eta))))
    star = cycle_amplitude(eta)
    mult = (1 - 4 * star / math.sinh(2 * star)) ** 2
    assert mult < 1
    steps = approach + 2 * steps_to(mult, 1e-6)
    _, traj = run(gd(eta), grad, w0, steps + 1, record_every=1)
    last = [float(backend.to_numpy(p["w"])[0]) for p in traj[-2:]]
    tol = (
        1e-6 * (theta0 + star)
        + tolerance(backend.eps, kind="convergence", dim=4, cond=1 / (1 - mult)) * star
    )
    assert abs(abs(last[0]) - star) <= tol and abs(last[1] + last[0]) <= 2 * tol
    assert max(abs(float(backend.to_numpy(p["w"])[0])) for p in traj) <= max(theta0, star) + eta


@claim(FLOW)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=tall, a=st.floats(0.005, 0.01), tau=st.floats(0.2, 0.5), seed=seeds)
def test_gd_tracks_gradient_flow_with_error_linear_in_eta(backend, problem, a, tau, seed):
    """lr = a / lambda_max; k = round(tau / lr) steps. The gap to the closed-form flow
    w* + V exp(-2 S^2 tau) V^T (w0 - w*) is predicted per mode, (1 - lr lam)^k - exp(-lam k lr),
    and halving lr halves it to first order: ratio in [0.45, 0.55] for lr lambda_max <= 0.01.
    The gaps (~1e-3 relative) dwarf the rounding, so float32 is compared at its own tolerance."""
    lam = 2 * problem.svals**2
    w_star = problem.V @ ((problem.U.T @ problem.y)[: problem.rank] / problem.svals)
    w0 = w_star + np.random.default_rng(seed).standard_normal(problem.d)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    gaps = []
    for lr in (a / lam[0], a / (2 * lam[0])):
        k = max(1, round(tau * lam[0] / a)) * (1 if lr == a / lam[0] else 2)
        wT, _ = run(
            gd(lr),
            lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
            {"w": backend.asarray(w0)},
            k,
        )
        e0 = problem.V.T @ (w0 - w_star)
        flow = w_star + problem.V @ (np.exp(-lam * k * lr) * e0)
        gd_closed = w_star + problem.V @ ((1 - lr * lam) ** k * e0)
        assert_close(
            backend.to_numpy(wT["w"]),
            gd_closed,
            claim=FLOW,
            backend=backend,
            cond=2.0,
            dim=(problem.n + problem.d) * k,
            scale=float(np.linalg.norm(w0)),
            what="GD vs its closed form",
        )
        gaps.append(float(np.linalg.norm(gd_closed - flow)))
        assert (
            np.abs(np.exp(-lam * k * lr) * e0) <= np.abs(e0)
        ).all()  # the flow is monotone per mode
    assert 0.45 <= gaps[1] / gaps[0] <= 0.55


LOGDIV = "gradient-descent.logistic-loss-diverges-in-a-controlled-way"
LOG2 = math.log(2.0)


def logistic_horizon(backend) -> int:
    """Steps per run: 10^3 (checkpoints 10, 10^2, 10^3); array_api_strict, a compliance check at
    ~1.4 ms per dlcore step, runs 200."""
    return 200 if backend.library == "array_api_strict" else 1000


def logistic_gd(backend, X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """Every iterate of dlcore GD on the mean logistic loss from 0, as float64 rows (steps + 1, d)."""
    Xb, yb = backend.asarray(X), backend.asarray(y)
    _, traj = run(
        gd(lr),
        lambda p, t: {"w": empirical_risk_grad(p["w"], Xb, yb, loss="logistic")},
        {"w": backend.asarray(np.zeros(X.shape[1]))},
        steps,
        record_every=1,
    )
    return np.array([backend.to_numpy(p["w"]) for p in traj])


def mean_logistic(thetas: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Host float64 oracle: the mean logistic loss of each row of `thetas` (not dlcore's code)."""
    return np.logaddexp(0.0, -(thetas @ (y[:, None] * X).T)).mean(axis=-1)


def mean_logistic_grad(thetas: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Host float64 oracle: the gradient of the mean logistic loss at each row of `thetas`."""
    U = y[:, None] * X
    return -(0.5 * (1 - np.tanh(0.5 * (thetas @ U.T)))) @ U / X.shape[0]


def logistic_loss_envelope(steps: int, n: int, gamma: float, c: float) -> np.ndarray:
    """U_0 = log 2, 1/U_{t+1} = 1/U_t + c gamma^2 phi(n U_t)^2, phi(a) = (1 - e^-a)/a (the spec)."""
    U = np.empty(steps + 1)
    U[0] = LOG2
    for t in range(steps):
        a = n * U[t]
        U[t + 1] = 1 / (1 / U[t] + c * gamma**2 * (-math.expm1(-a) / a) ** 2)
    return U


@claim(LOGDIV)
@pytest.mark.parametrize("backend", backend_params())
@settings(max_examples=max(2, settings.default.max_examples // 10))  # 10^3 dlcore steps each
@given(
    n=st.integers(2, 12),
    d=st.integers(2, 5),
    gamma=log_uniform(0.1, 0.7),
    spread=st.floats(0.0, 1.0),
    a=st.floats(0.1, 0.95),
    seed=seeds,
)
def test_logistic_gd_on_separable_data_diverges_logarithmically(
    backend, n, d, gamma, spread, a, seed
):
    """Separable data with hard margin gamma and SVM direction w* known by construction
    (dlcore.data.separable_dataset), lr = a 2/beta. At every step t <= T, with the loss L_t of the
    iterate evaluated in float64 on the host:

    - L_{t+1} <= L_t and L_t <= U_t (the spec's envelope: descent lemma + ||g|| >= gamma G >=
      gamma L phi(nL)); once n L_t < log 2 the norm never decreases;
    - log(log 2 / (n U_t)) / gamma <= ||theta_t|| <= lr R sum_{k<t} U_k, and the growth over each
      decade <= lr R sum U_k over that decade;
    - <theta_t, w*> >= (gamma / R) ||theta_t||.

    Rounding: a step perturbs the iterate by ~(n + d) eps ||theta||, so the loss by a relative
    (n + d) eps R ||theta|| (|grad L| <= R L); over t steps the envelopes get the relative slack
    tolerance(kind="convergence", dim=(n + d) t, cond=max(1, R max||theta||)), one step's slack
    for the monotonicity checks. In float64 the slack is below 1e-9; in float32 it is < 60%,
    against envelopes ~2x above the observed loss.
    """
    data = separable_dataset(n, d, gamma, rng=np.random.default_rng(seed), spread=spread)
    X, y, w_star = data.X, data.y, data.direction
    R = float(np.linalg.norm(X, axis=1).max())
    beta = float(np.linalg.norm(X, 2)) ** 2 / (4 * n)
    lr = a * 2 / beta
    c = lr * (1 - beta * lr / 2)
    T = logistic_horizon(backend)
    thetas = logistic_gd(backend, X, y, lr, T)
    L = mean_logistic(thetas, X, y)
    norms = np.linalg.norm(thetas, axis=1)
    U = logistic_loss_envelope(T, n, gamma, c)
    cond = max(1.0, R * float(norms.max()))
    step_tol = tolerance(backend.eps, kind="bound", dim=n + d, cond=cond)
    run_tol = tolerance(backend.eps, kind="convergence", dim=(n + d) * T, cond=cond)
    # 1. monotone loss, below the envelope.
    rises = np.diff(L) - step_tol * L[:-1]
    assert (rises <= 0).all(), f"loss rose at t = {int(np.argmax(rises))}: {np.diff(L).max():.3e}"
    excess = L / (U * (1 + run_tol))
    record_ratio(float(excess[1:].max()))  # t = 0 is equality, L_0 = U_0 = log 2
    assert (excess <= 1).all(), (
        f"L_t > U_t at t = {int(np.argmax(excess))}: L/U = {excess.max():.4f} (slack {run_tol:.1e})"
    )
    # 2. the norm between the two derived curves; strictly separated => nondecreasing norm.
    Ub = U * (1 + run_tol)
    live = n * Ub < LOG2
    lower = np.where(live, np.log(LOG2 / (n * np.where(live, Ub, 1.0))) / gamma, 0.0)
    upper = lr * R * np.concatenate([[0.0], np.cumsum(Ub[:-1])])
    below = lower - norms
    assert (below <= 0).all(), (
        f"||theta_t|| below log(log2/(nU_t))/gamma at t = {int(np.argmax(below))}: "
        f"{norms[np.argmax(below)]:.4f} < {lower[np.argmax(below)]:.4f}"
    )
    above = norms - upper * (1 + run_tol)
    assert (above <= 0).all(), f"||theta_t|| above lr R sum U at t = {int(np.argmax(above))}"
    for lo, hi in ((10, 100), (100, 1000)):
        if hi <= T:
            growth = norms[hi] - norms[lo]
            assert growth <= (upper[hi] - upper[lo]) * (1 + run_tol) + step_tol * norms[hi], (
                f"decade {lo}->{hi}: growth {growth:.4f} > {upper[hi] - upper[lo]:.4f}"
            )
    separated = np.flatnonzero(n * L[:-1] < LOG2)
    if separated.size:
        s0 = int(separated[0])
        drops = norms[s0:-1] * (1 - step_tol) - norms[s0 + 1 :]
        assert (drops <= 0).all(), f"||theta|| decreased after separation (t >= {s0})"
    # 3. the cone around the SVM direction.
    gap = (gamma / R) * norms - thetas @ w_star
    assert (gap <= step_tol * norms).all(), f"left the cone at t = {int(np.argmax(gap))}"


def logistic_minimizer(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Host float64 oracle: Newton's method with backtracking on the mean logistic loss (coercive
    and strictly convex data only), to a gradient below 1e-13."""
    theta = np.zeros(X.shape[1])
    for _ in range(200):
        g = mean_logistic_grad(theta, X, y)
        if np.linalg.norm(g) < 1e-13:
            return theta
        m = (y[:, None] * X) @ theta
        w = 0.25 / np.cosh(0.5 * m) ** 2
        step = np.linalg.solve((X.T * w) @ X / X.shape[0], g)
        s, f0 = 1.0, float(mean_logistic(theta, X, y))
        while float(mean_logistic(theta - s * step, X, y)) > f0 - 0.25 * s * float(g @ step):
            s /= 2
            if s < 1e-12:
                return theta
        theta = theta - s * step
    return theta


@claim(LOGDIV, breaks="separability: the support pair repeated with flipped labels")
@pytest.mark.parametrize("backend", backend_params())
@settings(max_examples=max(2, settings.default.max_examples // 10))  # 10^3 dlcore steps each
@given(
    n=st.integers(2, 10),
    gamma=log_uniform(0.1, 0.7),
    spread=st.floats(0.0, 1.0),
    a=st.floats(0.1, 1.0),
    seed=seeds,
)
def test_logistic_gd_on_non_separable_data_converges_to_a_finite_minimizer(
    backend, n, gamma, spread, a, seed
):
    """In d = 2 the support pair u_0 = gamma w* + z, u_1 = gamma w* - z (z != 0) is appended with
    flipped labels: the signed points +-u_0, +-u_1 span the plane positively, so L is coercive,
    strictly convex, and L >= 4 log(2) / (n + 2) > 0 everywhere. GD with lr = a / beta:

    - ||theta_t - theta_hat|| is nonincreasing (GD with lr <= 2/beta is Fejer monotone on a convex
      beta-smooth loss), so ||theta_t|| <= 2 ||theta_hat|| stays bounded: no divergence;
    - ||grad L(theta_T)||^2 <= (L_0 - L_hat) / (c (T + 1)), c = lr (1 - beta lr / 2) (descent
      lemma + the gradient norm is nonincreasing): the gradient vanishes;
    - L(theta_T) - L_hat <= ||theta_hat||^2 / (2 lr T) (convex rate, lr <= 1/beta).

    theta_hat is a float64 Newton oracle; slack as in the separable test (one step's rounding for
    monotonicity, (n + d) T steps' for the rates).
    """
    data = separable_dataset(n, 2, gamma, rng=np.random.default_rng(seed), spread=spread)
    i, j = data.support
    X = np.vstack([data.X, data.X[[i, j]]])
    y = np.concatenate([data.y, -data.y[[i, j]]])
    m = X.shape[0]
    beta = float(np.linalg.norm(X, 2)) ** 2 / (4 * m)
    lr = a / beta
    c = lr * (1 - beta * lr / 2)
    T = logistic_horizon(backend)
    thetas = logistic_gd(backend, X, y, lr, T)
    theta_hat = logistic_minimizer(X, y)
    L = mean_logistic(thetas, X, y)
    L_hat = float(mean_logistic(theta_hat, X, y))
    assert L_hat >= 4 * LOG2 / m * (1 - 1e-12), "the infimum is not 0"
    dist = np.linalg.norm(thetas - theta_hat, axis=1)
    r = float(np.linalg.norm(theta_hat))
    step_tol = tolerance(backend.eps, kind="bound", dim=m + 2, cond=max(1.0, r))
    run_tol = tolerance(backend.eps, kind="convergence", dim=(m + 2) * T, cond=max(1.0, r))
    rises = np.diff(dist) - step_tol * r
    assert (rises <= 0).all(), f"||theta_t - theta_hat|| grew at t = {int(np.argmax(rises))}"
    assert float(np.linalg.norm(thetas, axis=1).max()) <= 2 * r * (1 + step_tol)
    gT = float(np.linalg.norm(mean_logistic_grad(thetas[-1], X, y)))
    rounding_floor = run_tol * beta * r  # a gradient cannot be resolved below ~ beta |d theta|
    assert gT**2 <= (LOG2 - L_hat) / (c * (T + 1)) * (1 + run_tol) + rounding_floor**2, (
        f"||grad L(theta_T)|| = {gT:.3e} > sqrt((L0 - L*) / (c (T + 1)))"
    )
    assert L[-1] - L_hat <= r**2 / (2 * lr * T) * (1 + run_tol) + run_tol * L_hat
