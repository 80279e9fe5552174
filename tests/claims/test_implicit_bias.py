"""Chapter implicit-bias: which minimizer GD and SGD select."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlcore.linear import min_norm_solution, null_space_projector, ridge_dual
from dlcore.losses import minibatch_grad, squared_loss, squared_loss_grad
from dlcore.mlp import init_mlp, param_jacobian
from dlcore.optim import adam, ema_momentum, gd, sgd
from dlcore.train import run
from tests.support.backends import HOST, backend_params, eigvalsh64
from tests.support.claims import claim, clause
from tests.support.stats import FALSE_FAILURE
from tests.support.strategies import (
    batch_schedules,
    log_uniform,
    make_problem,
    regression_problems,
    seeds,
)
from tests.support.tolerances import Check, tolerance

SPAN = "implicit-bias.sgd-iterates-stay-in-data-span"
MIN_NORM = "implicit-bias.gd-from-zero-converges-to-min-norm"
NEAREST = "implicit-bias.gd-converges-to-nearest-minimizer"

# Wide problems with a modest spectrum, so GD converges in a few thousand steps at most.
wide = regression_problems(n=(1, 6), d=(2, 10), shape="wide", max_cond=3.0, sigma_max=(0.5, 1.0))


def null_projector(problem) -> np.ndarray:
    """P_null = V_0 V_0^T from the known SVD (exact oracle, float64)."""
    V0 = problem.V[:, problem.rank :]
    return V0 @ V0.T


def pinv_solution(problem) -> np.ndarray:
    r = problem.rank
    return problem.V[:, :r] @ ((problem.U[:, :r].T @ problem.y) / problem.svals)


@claim(SPAN)
@pytest.mark.parametrize("backend", backend_params())
@given(data=st.data(), problem=wide, c=st.floats(0.05, 4.0), from_zero=st.booleans(), seed=seeds)
def test_sgd_iterates_keep_their_null_space_component(backend, data, problem, c, from_zero, seed):
    """Run SGD on a drawn batch schedule and check P_null w_t = P_null w_0 at every step.

    The step is c / (n * 2 sigma_max^2): stable for every minibatch for c < 1, and past the
    stability limit up to c = 4 ("every step size": the invariant needs no stability). Each step
    adds one rounding of the iterate and of the update, whose row-space factor
    lr (n / b) 2 X_B^T X_B is at most c, so the tolerance's work factor is d * T * max(1, c),
    at the scale of the largest iterate.

    The increments themselves: a minibatch gradient 2 (n / b) X_B^T (X_B w - y_B) at a random w
    rounds its residual (d terms) and its product (b <= n terms), so its null-space part is at
    most (n + d) eps times 2 (n / b) sigma_max (sigma_max |w| + |y|) <= 2 n sigma_max (...),
    the invariant tolerance at that scale. The full batch is GD's gradient (one identity).
    """
    check = Check(SPAN, backend)
    schedule = data.draw(batch_schedules(problem.n))
    rng = np.random.default_rng(seed)
    w0 = np.zeros(problem.d) if from_zero else rng.standard_normal(problem.d)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    lr = c / (problem.n * 2 * problem.sigma_max**2)

    def grad_fn(p, t):
        return {"w": minibatch_grad(p["w"], X, y, schedule[t])}

    _, traj = run(sgd(lr), grad_fn, {"w": backend.asarray(w0)}, len(schedule), record_every=1)
    P = null_projector(problem)
    scale = max(float(np.linalg.norm(backend.to_numpy(p["w"]))) for p in traj)
    work = problem.d * len(schedule) * max(1.0, c)
    for t, p in enumerate(traj):
        w = backend.to_numpy(p["w"])
        with clause("b"):
            check.assert_close(
                P @ w,
                P @ w0,
                scale=scale,
                dim=work,
                what=f"P_null w_{t}",
            )
        if from_zero:
            # w_t = X^T beta_t: the float64 least-squares coefficients reproduce w_t (an lstsq of
            # condition cond(X) adds (n + d) eps64 cond |w|, far below the backend's tolerance).
            beta = np.linalg.lstsq(problem.X.T, w, rcond=None)[0]
            with clause("c"):
                check.assert_close(
                    problem.X.T @ beta,
                    w,
                    cond=problem.cond,
                    scale=scale,
                    dim=work + problem.n + problem.d,
                    what=f"X^T beta_{t} vs w_{t}",
                )
    # The increments: a random minibatch (the schedule's first) and the full batch (GD).
    w = rng.standard_normal(problem.d)
    wb = backend.asarray(w)
    full = minibatch_grad(wb, X, y, list(range(problem.n)))
    grad_scale = 2 * problem.n * problem.sigma_max * (
        problem.sigma_max * np.linalg.norm(w)
    ) + 2 * problem.n * problem.sigma_max * np.linalg.norm(problem.y)
    with clause("a"):
        for name, g in (
            ("minibatch", minibatch_grad(wb, X, y, schedule[0])),
            ("GD", squared_loss_grad(wb, X, y)),
        ):
            check.assert_close(
                P @ backend.to_numpy(g),
                np.zeros(problem.d),
                scale=float(grad_scale),
                dim=problem.n + problem.d,
                what=f"P_null of the {name} gradient",
            )
        check.assert_close(
            full,
            squared_loss_grad(wb, X, y),
            kind="identity",
            dim=problem.n * problem.d,
            what="full-batch SGD gradient vs GD gradient",
        )


@claim(SPAN, breaks="Adam instead of GD/SGD")
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(problem=wide, lr=st.floats(1e-3, 1e-1))
def test_adam_leaves_the_data_span(backend, problem, lr):
    """Adam's first step from zero is -lr * g / (|g| + eps) per coordinate, not a multiple of g.

    Its null-space component is lr * ||P_null sign(g)||, which is nonzero unless the sign vector
    of the gradient lies in the row space (a measure-zero event for a random rotation V). The
    span claim's tolerance is exceeded by many orders of magnitude.
    """
    check = Check(SPAN, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w0 = {"w": backend.asarray(np.zeros(problem.d))}
    (w1, _) = run(adam(lr), lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}, w0, 1)
    g = -2 * problem.X.T @ problem.y
    P = null_projector(problem)
    predicted = lr * float(np.linalg.norm(P @ np.sign(g)))
    observed = float(np.linalg.norm(P @ backend.to_numpy(w1["w"])))
    assert observed >= 0.5 * predicted
    # The span test's own tolerance for this comparison, exceeded by orders of magnitude.
    assert observed > 1e6 * check.tolerance(kind="invariant", dim=problem.d) * lr


def _steps_to(rho: float, target: float) -> int:
    """Smallest T >= 1 with rho^T <= target (contraction, rho < 1) or rho^T >= target (growth)."""
    if rho == 0.0 or (rho < 1) == (rho <= target):
        return 1
    return max(1, math.ceil(math.log(target) / math.log(rho)))


def _gd_run(backend, problem, w0: np.ndarray, c: float, target: float):
    """GD with lr = c / lambda_max from w0, run until the slowest row-space mode is below target."""
    lam = 2 * problem.svals**2  # Hessian eigenvalues of ||Xw - y||^2 on the row space
    lr = c / lam[0]
    rho = float(np.max(np.abs(1 - lr * lam)))
    steps = _steps_to(rho, target)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    wT, _ = run(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": backend.asarray(w0)},
        steps,
    )
    return backend.to_numpy(wT["w"]), rho, steps


def _contraction(problem, c: float) -> tuple[float, float, int]:
    """(lr, rho, k) for lr = c / lambda_max: rho = max_i |1 - 2 lr s_i^2|, attained at mode k.

    The test's own float64 computation from the known spectrum (independent of dlcore).
    """
    lr = c / (2 * problem.sigma_max**2)
    factors = np.abs(1 - 2 * lr * problem.svals**2)
    k = int(np.argmax(factors))
    return lr, float(factors[k]), k


def _gd_errors(backend, problem, y: np.ndarray, lr: float, steps: int):
    """(|w_t - X^+ y| for t = 0..steps, [w_0..w_T]): GD from 0 on ||X w - y||^2, X^+ y by SVD."""
    X, yb = backend.asarray(problem.X), backend.asarray(y)
    _, traj = run(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, yb)},
        {"w": backend.asarray(np.zeros(problem.d))},
        steps,
        record_every=1,
    )
    r = problem.rank
    ref = problem.V[:, :r] @ ((problem.U[:, :r].T @ y) / problem.svals)
    ws = [backend.to_numpy(p["w"]) for p in traj]
    return np.array([np.linalg.norm(w - ref) for w in ws]), ws


def _rate_slack(backend, problem, rho: float) -> float:
    """Absolute slack, relative to |X^+ y|, on |w_t - X^+ y| (see the MIN_NORM tests).

    Each GD step rounds the update 2 lr X^T (X w - y) over n + d terms, at most (n + d) eps
    (|w_t| + 2 lr sigma_max |y|) <= 3 (n + d) eps |X^+ y| (|w_t| <= 2 |X^+ y| and
    2 lr sigma_max^2 < 2, |y| <= sigma_max |X^+ y| for consistent y); the error dynamics carries
    each rounding with factor at most rho per step, so the sum is at most 1 / (1 - rho) times
    one step. Rounding X and y to the backend's dtype moves X^+ y by at most cond(X)^2 eps. So
    the slack is the convergence tolerance with dim n + d and cond max(cond^2, 1 / (1 - rho)).
    """
    cond = max(problem.cond**2, 1 / (1 - rho))
    return tolerance(backend.eps, kind="convergence", cond=cond, dim=problem.n + problem.d)


@claim(MIN_NORM)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, c=st.floats(0.2, 1.8))
def test_gd_from_zero_converges_to_min_norm(backend, problem, c):
    """GD from 0 with lr = c / lambda_max, 0 < c < 2, reaches X^+ y = X^T (X X^T)^{-1} y, within
    rho^t |X^+ y| at every step t.

    rho = max_i |1 - lr lambda_i| over the row space, computed here from the known spectrum.
    Steps: until rho^T <= eps / 10. Per-step rounding is amplified by at most 1 / (1 - rho), the
    condition number used for the tolerance (`_rate_slack`).

    Mode by mode: the exact error is e_t = V_r diag(f_i^t) V_r^T e_0 with f_i = 1 - 2 lr s_i^2 and
    e_0 = -X^+ y. The computed trajectory differs from it by the accumulated rounding that
    `_rate_slack` bounds, plus the effect of rounding X to the backend's dtype on the factors:
    |d(M^t)| <= t rho^(t - 1) |dM| <= |dM| / (1 - rho) with |dM| = 2 lr |d(X^T X)| <= 4 eps, which
    the same slack (factor 16, dim n + d >= 3, cond >= 1 / (1 - rho)) covers.
    """
    check = Check(MIN_NORM, backend)
    lr, rho, _ = _contraction(problem, c)
    errors, ws = _gd_errors(backend, problem, problem.y, lr, _steps_to(rho, backend.eps / 10))
    wT = ws[-1]
    cond = max(problem.cond**2, 1 / (1 - rho))
    ref = pinv_solution(problem)
    with clause("a"):
        check.assert_close(wT, ref, cond=cond, what="w_T vs X^+ y")
    # The dual (row-space) form of the same point, float64 on the host: X^T (X X^T)^{-1} y.
    dual = problem.X.T @ np.linalg.solve(problem.X @ problem.X.T, problem.y)
    with clause("b"):
        check.assert_close(wT, dual, cond=cond, what="w_T vs X^T(XX^T)^-1 y")
    e0 = errors[0]
    slack = _rate_slack(backend, problem, rho)
    r = problem.rank
    factors = 1 - 2 * lr * problem.svals**2
    coords0 = problem.V[:, :r].T @ (-ref)
    with clause("c"):
        for t, w in enumerate(ws):
            exact = problem.V[:, :r] @ (factors**t * coords0)
            gap = float(np.linalg.norm((w - ref) - exact))
            assert gap <= slack * e0, f"w_{t} - X^+ y is not the modes times (1 - 2 lr s_i^2)^t"
    # The rate: |w_t - X^+ y| <= rho^t |X^+ y| at every t.
    with clause("d"):
        for t, err in enumerate(errors):
            assert err <= (rho**t + slack) * e0, f"|w_{t} - X^+ y| = {err:.3e} > rho^t |X^+ y|"


@claim(MIN_NORM)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, c=st.floats(0.05, 1.95), eps_target=log_uniform(1e-4, 1e-1))
@example(  # sigma = (1, 0.9), eta = 0.95: the sigma_max mode is the slowest (rho = 0.9)
    problem=make_problem(n=2, d=3, svals=[1.0, 0.9], seed=0), c=1.9, eps_target=1e-4
)
def test_gd_slowest_mode_attains_the_rate(backend, problem, c, eps_target):
    """With y along the slowest mode k (y = U_k), the error is exactly rho^t |X^+ y|, so the count
    T = ceil(log(1 / eps) / log(1 / rho)) is attained: |w_{T-1} - X^+ y| > eps |X^+ y| >=
    |w_T - X^+ y|. The sigma_min mode is the slowest iff lr <= 1 / (s_max^2 + s_min^2), and there
    T <= log(1 / eps) / (2 lr s_min^2); otherwise the sigma_max mode is.

    eps >= 1e-4 keeps rho^t above rounding; the slack is `_rate_slack`. T - 1 steps must leave
    the error above eps: rho^(T-1) > eps by the definition of T, by a margin the slack is checked
    against before the comparison is made.
    """
    host_check = Check(MIN_NORM, HOST)
    lr, rho, k = _contraction(problem, c)
    s_max, s_min = problem.sigma_max, problem.sigma_min
    # rho is the max over modes, so equality with one mode's factor makes that mode the slowest.
    # Both sides are the same three float64 roundings of 1 - 2 lr s^2, of size <= 2 (4 eps covers
    # them, absolutely below 1 and relatively above).
    if lr <= 1 / (s_max**2 + s_min**2):
        with clause("g"):
            slowest = 1 - 2 * lr * s_min**2
            host_check.assert_entrywise(rho, slowest, kind="identity", scale=max(1.0, slowest))
    else:
        with clause("g", "i"):
            slowest = 2 * lr * s_max**2 - 1
            host_check.assert_entrywise(rho, slowest, kind="identity", scale=max(1.0, slowest))
            # ... and the sigma_min mode is not the slowest: its factor is smaller (up to the
            # same roundings), since lr (s_max^2 + s_min^2) > 1.
            host_check.assert_at_most(1 - 2 * lr * s_min**2, rho, kind="identity", scale=1.0)
    T = _steps_to(rho, eps_target)
    if lr <= 1 / (s_max**2 + s_min**2) and rho > 0:
        # log(1 / rho) >= 1 - rho = 2 lr s_min^2, so the exact count is at most the old formula's.
        with clause("h"):
            assert T <= max(1, math.ceil(math.log(1 / eps_target) / (2 * lr * s_min**2)))
    errors, _ = _gd_errors(backend, problem, problem.U[:, k], lr, T)
    e0 = errors[0]
    slack = _rate_slack(backend, problem, rho)
    with clause("e"):
        for t, err in enumerate(errors):
            assert abs(err - rho**t * e0) <= slack * e0, f"|w_{t} - X^+ y| != rho^{t} |X^+ y|"
    with clause("f"):
        assert errors[T] <= (eps_target + slack) * e0
        if T >= 2 and rho ** (T - 1) - eps_target > slack:
            assert errors[T - 1] > eps_target * e0


def _sigma_example(backend):
    """sigma = (1, 0.9), eta = 0.95 < 1 / sigma_max^2 = 1, y along the sigma_max mode, eps = 1e-2.

    The factors are |1 - 1.9| = 0.9 for sigma_max and |1 - 1.539| = 0.539 for sigma_min, so
    sigma_max's mode is the slowest. The sigma_min formula's ceil(log(100) / (2 * 0.95 * 0.81)) = 3
    steps leave the error at 0.9^3 = 0.729 of its start; ceil(log(100) / log(1 / 0.9)) = 44 is
    needed and attained (0.9^43 = 1.078e-2 > 1e-2 >= 0.9^44 = 9.70e-3). The margins, 7.8e-4 and
    3.0e-4, exceed the slack (`_rate_slack`: 16 x 5 x eps x 10 = 9.5e-5 in float32).
    Returns (factors, old count, new count, errors |w_t - X^+ y| for t <= 44, slack).
    """
    X = np.array([[1.0, 0.0, 0.0], [0.0, 0.9, 0.0]])
    problem = make_problem(n=2, d=3, svals=[1.0, 0.9], seed=0)
    problem = dataclasses.replace(problem, X=X, U=np.eye(2), V=np.eye(3), y=np.array([1.0, 0.0]))
    eta, eps_target = 0.95, 1e-2
    factors = np.abs(1 - 2 * eta * problem.svals**2)
    old = math.ceil(math.log(1 / eps_target) / (2 * eta * problem.sigma_min**2))
    new = math.ceil(math.log(1 / eps_target) / math.log(1 / float(factors.max())))
    errors, _ = _gd_errors(backend, problem, problem.y, eta, max(old, new))
    slack = _rate_slack(backend, problem, float(factors.max()))
    assert slack < 0.1 * eps_target
    return factors, old, new, errors, slack


@claim(MIN_NORM)
@pytest.mark.parametrize("backend", backend_params())
def test_sigma_max_mode_example_takes_44_steps(backend):
    """The statement's example (`_sigma_example`): rho = 0.9 from the sigma_max mode, and
    eps = 1e-2 takes 44 steps, where the sigma_min formula says 3."""
    host_check = Check(MIN_NORM, HOST)
    factors, old, new, errors, slack = _sigma_example(backend)
    with clause("j"):
        assert factors[0] > factors[1]  # the sigma_min mode is not the slowest
        # |1 - fl(2 fl(0.95))|: 0.95 rounds by u, the rest is exact (Sterbenz): 1.1 eps of 0.9
        host_check.assert_entrywise(float(factors.max()), 0.9, kind="identity")
        assert (old, new) == (3, 44)
        assert errors[new - 1] > (1e-2 + slack) * errors[0]  # 44 steps are needed ...
        assert errors[new] <= (1e-2 - slack) * errors[0]  # ... and enough


@claim(
    MIN_NORM,
    breaks="old wording: the slowest mode is sigma_min's, log(1/eps)/(2 eta s_min^2) steps",
)
@pytest.mark.parametrize("backend", backend_params())
def test_sigma_min_is_not_always_the_slowest_mode(backend):
    """In the example of `_sigma_example`, the old count, 3 steps, leaves the error at 0.729 of its
    start, far from eps = 1e-2."""
    factors, old, _, errors, slack = _sigma_example(backend)
    assert factors[0] > factors[1]  # the sigma_min mode is not the slowest
    assert old == 3
    assert errors[old] > (0.729 - slack) * errors[0]  # old count: far from eps


@claim(MIN_NORM, breaks="start away from zero")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, c=st.floats(0.2, 1.8), seed=seeds, size=st.floats(0.5, 2.0))
def test_gd_from_elsewhere_misses_min_norm(backend, problem, c, seed, size):
    """From w0 with a null-space part of norm `size`, GD ends that far from X^+ y, with a larger norm."""
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(problem.d - problem.rank)
    row_part = problem.V[:, : problem.rank] @ rng.standard_normal(problem.rank)
    w0 = problem.V[:, problem.rank :] @ (size * b / np.linalg.norm(b)) + row_part
    wT, _, _ = _gd_run(backend, problem, w0, c, backend.eps / 10)
    gap = float(np.linalg.norm(wT - pinv_solution(problem)))
    assert abs(gap - size) <= 1e-2 * size
    assert np.linalg.norm(wT) > np.linalg.norm(pinv_solution(problem))


@claim(NEAREST)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, c=st.floats(0.2, 1.8), seed=seeds)
def test_gd_converges_to_nearest_minimizer(backend, problem, c, seed):
    """From a random w0, GD reaches X^+ y + P_null w0, the interpolant nearest to w0.

    Nearest: the projection of w0 onto the affine set {X w = y} is w0 + X^+ (y - X w0) (float64
    oracle through the known SVD, a different formula from X^+ y + P_null w0), and w_T - w0 is
    orthogonal to null(X), the set's direction. The null-space part of w_T is that of w0.
    """
    check = Check(NEAREST, backend)
    w0 = np.random.default_rng(seed).standard_normal(problem.d)
    wT, rho, _ = _gd_run(backend, problem, w0, c, backend.eps / 10)
    P = null_projector(problem)
    nearest = pinv_solution(problem) + P @ w0
    cond = max(problem.cond**2, 1 / (1 - rho))
    with clause("a"):
        check.assert_close(wT, nearest, cond=cond, what="w_T vs X^+ y + P_null w0")
    r = problem.rank
    resid0 = problem.y - problem.X @ w0
    projection = w0 + problem.V[:, :r] @ ((problem.U[:, :r].T @ resid0) / problem.svals)
    with clause("b"):
        check.assert_close(
            wT,
            projection,
            cond=cond,
            what="w_T vs w0 + X^+ (y - X w0)",
        )
        # The correction w_T - w0 lies in the row space: orthogonal to the set of minimizers.
        check.assert_close(
            P @ (wT - w0),
            np.zeros(problem.d),
            cond=cond,
            scale=float(np.linalg.norm(w0)),
            what="P_null (w_T - w0)",
        )
    with clause("c"):
        check.assert_close(
            P @ wT,
            P @ w0,
            cond=cond,
            scale=float(np.linalg.norm(w0)),
            what="P_null w_T vs P_null w0",
        )


@claim(NEAREST, breaks="step past the stability bound 2 / lambda_max")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, c=st.floats(2.05, 2.5), seed=seeds, top=st.floats(0.5, 1.0))
def test_gd_past_the_bound_diverges(backend, problem, c, seed, top):
    """With lr = c / lambda_max, c > 2, the top mode grows by |1 - c| > 1 per step.

    The start has a top-mode error `top`; after T steps with |1 - c|^T >= 1e6 the error is at
    least 1e6 * top minus rounding, so GD reaches no minimizer.
    """
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(problem.rank)
    a[1:] /= max(1.0, float(np.linalg.norm(a[1:])))
    a[0] = top
    limit = pinv_solution(problem) + null_projector(problem) @ rng.standard_normal(problem.d)
    w0 = limit + problem.V[:, : problem.rank] @ a
    steps = _steps_to(abs(1 - c), 1e6)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    wT, _ = run(
        gd(c / (2 * problem.sigma_max**2)),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": backend.asarray(w0)},
        steps,
    )
    err = float(np.linalg.norm(backend.to_numpy(wT["w"]) - limit))
    assert err >= 0.5 * top * abs(1 - c) ** steps
    assert err >= 1e5 * np.linalg.norm(a)


MANY = "implicit-bias.infinitely-many-global-minimizers"
MN = "implicit-bias.min-norm-solution"
DIFFER = "implicit-bias.interpolants-differ-off-training-data"
SGD_LIMIT = "implicit-bias.sgd-limit-is-min-norm"
ADAM = "implicit-bias.adam-leaves-the-data-span"

wide_any = regression_problems(n=(1, 6), d=(2, 10), shape="wide")
# SGD runs one example per step: fewer rows and a step near the per-example optimum keep it short.
wide_sgd = regression_problems(n=(1, 4), d=(2, 8), shape="wide", max_cond=3.0, sigma_max=(0.5, 1.0))


def _null_part(problem, seed: int, size: float = 1.0) -> np.ndarray:
    """A null-space vector of norm `size`, from the known SVD."""
    b = np.random.default_rng(seed).standard_normal(problem.d - problem.rank)
    return problem.V[:, problem.rank :] @ (size * b / np.linalg.norm(b))


@claim(MANY)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide_any, seed=seeds, size=log_uniform(1e-2, 1e2))
def test_wide_least_squares_has_an_affine_set_of_minimizers(backend, problem, seed, size):
    """A^+ y + P_null z has zero loss for every z, and 2 A^T A has exactly d - n zero eigenvalues.

    The residual of A^+ y (computed by pinv, condition cond(A)) and of the null step (a projector
    applied to z) is compared at the scale sigma_max (|A^+ y| + |z|) + |y|. The Hessian's spectrum
    is compared, Weyl-style, at the absolute scale 2 sigma_max^2 against {0 (d - n times), 2 s_i^2}.
    The half-pipe (w1 - c)^2 = |[1 0] w - c|^2 is checked on the line w1 = c.

    The dimension of the set: the computed P_null = I - A^+ A has eigenvalues within |dP|_2 of the
    exact ones, 1 (d - n times) and 0 (n times). |dP|_2 <= (n + d + b) eps kappa_F with b <= 64
    the SVD's backward-error constant (see test_tall_full_rank_least_squares_has_one_minimizer)
    and kappa_F = |A|_F |A^+|_F <= n cond <= 6e3 here, under 0.1 even in float32 (asserted), so counting
    the eigenvalues above 1/2 is exact.
    """
    check = Check(MANY, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w = min_norm_solution(X, y)
    z = backend.asarray(np.random.default_rng(seed).standard_normal(problem.d) * size)
    P = null_space_projector(X)
    w2 = w + P @ z
    scale = problem.sigma_max * (np.linalg.norm(backend.to_numpy(w)) + size * math.sqrt(problem.d))
    scale += float(np.linalg.norm(problem.y))

    def check_interpolates(v, name):
        check.assert_close(
            X @ v,
            problem.y,
            cond=problem.cond,
            scale=scale,
            dim=problem.n + problem.d,
            what=f"A ({name}) vs y",
        )

    with clause("c"):
        check_interpolates(w, "A^+ y")
    with clause("d"):
        check_interpolates(w2, "A^+ y + P_null z")
    Ph = backend.to_numpy(P).astype(np.float64)
    bound = (problem.n + problem.d + 64) * backend.eps * problem.n * problem.cond
    assert bound < 0.1
    with clause("d"):
        assert int(np.sum(np.linalg.eigvalsh((Ph + Ph.T) / 2) > 0.5)) == problem.d - problem.n
    H = 2 * (X.T @ X)
    eig = np.sort(eigvalsh64(backend, H))
    expected = np.sort(np.concatenate([np.zeros(problem.d - problem.n), 2 * problem.svals**2]))
    top = 2 * problem.sigma_max**2
    with clause("e"):
        check.assert_close(
            eig,
            expected,
            scale=top * math.sqrt(problem.d),
            dim=problem.n + problem.d,
            what="spectrum of 2 A^T A",
        )
    c = float(problem.y[0])
    half = backend.asarray([[1.0, 0.0]])
    # The half-pipe's Hessian 2 [1 0]^T [1 0] = diag(2, 0), PSD and singular (exact: 0s and 1s).
    with clause("a"):
        hess = backend.to_numpy(2 * (half.T @ half))
        assert np.array_equal(hess, np.diag([2.0, 0.0]))
        assert np.all(np.linalg.eigvalsh(hess) >= 0) and np.linalg.matrix_rank(hess) == 1
    # Its minimizers: zero loss on the whole line w1 = c, positive loss off it ((c + s - c)^2
    # with s = size >= 1e-2 is far above the rounding of c + s).
    with clause("b"):
        for w2_ in (-size, 0.0, size):
            loss = squared_loss(backend.asarray([c, w2_]), half, backend.asarray([c]))
            assert float(backend.to_numpy(loss)) == 0.0
            off = squared_loss(backend.asarray([c + size, w2_]), half, backend.asarray([c]))
            assert float(backend.to_numpy(off)) > 0.0


@claim(MANY, breaks="full column rank (strictly convex)")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(2, 10), d=(1, 6), shape="tall"), seed=seeds)
@example(
    problem=make_problem(
        n=4,
        d=3,
        svals=[1.6931495842502113, 1.6931495842502113, 0.009791864229253244],
        seed=1779845082,
    ),
    seed=0,
)
def test_tall_full_rank_least_squares_has_one_minimizer(backend, problem, seed):
    """With full column rank every step away from the minimizer raises the loss by |A z|^2 >= s_min^2.

    The null-space projector is (numerically) zero, and the loss gap equals |A z|^2 (cancellation
    error eps * (L(w) + L(w + z))).

    P = I - Z A with Z = pinv(A) through the SVD. In Frobenius norm, to first order: the SVD is
    exact for A + E with |E|_F = b eps |A|_F, and (A + E)^+ A - I = -(A + E)^+ E (full column
    rank), at most b eps |A^+|_2 |A|_F; forming Z = V S^-1 U^T rounds each entry over d terms, at
    most d eps |A^+|_F, times |A|_2 in Z A; the product Z A rounds each entry over n terms, at most
    n eps || |Z| |A| ||_F <= n eps |A^+|_F |A|_F. So the error is <~ (n + d + b) eps kappa_F with
    kappa_F = |A|_F |A^+|_F (>= cond(A) and >= d): the Frobenius condition number, not cond(A)
    (the sweep's ratio 0.85 at d = 4, cond 1.1, kappa_F 4.0, where the error, 45 eps, is the
    same in the 2-norm). LAPACK bounds b only by an unspecified "modest p(n, d)", and it is not
    a few units: numpy's SVD (gesdd) has b = 32 at n = 4, d = 3 with a repeated top singular
    value and cond 173 (the pinned example, error 7.8e3 eps = 1.14 x the (n + d) tolerance;
    LAPACK's gesvd gives b = 2 there, torch's SVD 36 eps in P). So b is measured a posteriori on
    the backend's own SVD (the factorisation its pinv uses), reconstructed in float64 on the
    host (which adds <= d to b), and counted in dim.
    """
    check = Check(MANY, backend)
    host_check = Check(MANY, HOST)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    P = null_space_projector(X)
    # max: kappa_F >= cond(A) exactly, but rounds to 1 - eps at d = 1.
    kappa_f = max(
        problem.cond,
        math.sqrt(float(np.sum(problem.svals**2)) * float(np.sum(problem.svals**-2.0))),
    )
    Xh = backend.to_numpy(X)
    Uh, Sh, Vh = (backend.to_numpy(f) for f in backend.xp.linalg.svd(X, full_matrices=False))
    b = float(np.linalg.norm(Xh - (Uh * Sh) @ Vh)) / (backend.eps * float(np.linalg.norm(Xh)))
    check.assert_close(
        P,
        np.zeros((problem.d, problem.d)),
        cond=kappa_f,
        scale=1.0,
        dim=problem.n + problem.d + math.ceil(b),
        what="P_null of a full-column-rank A",
    )
    z = np.random.default_rng(seed).standard_normal(problem.d)
    z /= np.linalg.norm(z)
    w = backend.to_numpy(min_norm_solution(X, y))
    L0 = float(backend.to_numpy(squared_loss(backend.asarray(w), X, y)))
    L1 = float(backend.to_numpy(squared_loss(backend.asarray(w + z), X, y)))
    gap = float(np.linalg.norm(problem.X @ z) ** 2)
    # ||X z||^2 >= sigma_min^2 for |z| = 1, up to rounding: X = U diag(s) V^T moves sigma_min by
    # (n + d) u sigma_max, X z and the norms add (n + d + 2) u: relatively 2 (n + d + 2) u cond,
    # within bound's 8 x (n + d) x eps x cond
    host_check.assert_at_least(
        gap, problem.sigma_min**2, kind="bound", dim=problem.n + problem.d, cond=problem.cond
    )
    check.assert_close(
        np.array(L1 - L0),
        np.array(gap),
        cond=problem.cond,
        scale=L0 + L1 + problem.sigma_max * np.linalg.norm(w),
        dim=problem.n + problem.d,
        what="L(w + z) - L(w)",
    )


@claim(MN)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, seed=seeds, size=log_uniform(1e-2, 1e2))
@example(
    problem=make_problem(n=4, d=5, svals=[1.0, 0.98215711, 0.98087373, 0.97457995], seed=148749),
    seed=0,
    size=0.01,
)
@example(  # float64 Pythagoras check at dim 1: 1.006e-15 > 8.9e-16 (counterexamples ledger)
    problem=make_problem(n=1, d=4, svals=[0.998046875], seed=4), seed=1415, size=56.234132519035015
)
def test_min_norm_solution_is_the_dual_form_at_zero(backend, problem, seed, size):
    """min_norm_solution (pinv) = ridge_dual at lam = 0 = SVD oracle; it interpolates, has no
    null-space part, and w + z is longer by exactly |z|^2 (Pythagoras).

    Both routes solve a problem of condition cond(A)^2 (A A^T); the SVD oracle is exact float64.
    Dimensions: the SVD (or the n x n solve) of an n x d matrix has backward error of order
    max(n, d) eps and the products add d eps, so every comparison counts n + d terms. The residual
    A w - y = A dw carries sigma_max |dw| <= (n + d) eps cond^2 |y| (|w| <= |y| / sigma_min);
    sweep seed 2555910415 found dim n (the default, the length of y) too small at n = 4, d = 5.

    Pythagoras is checked on the float64 oracle (ref, z), whatever the backend, so at HOST
    eps (unit roundoff u = eps / 2). Each squared norm of a d-vector (d squares, d - 1 additions,
    sqrt, squaring; ref + z adds one rounding per entry) is within (d + 6) u, the two sides together
    (2 d + 12) u of |ref|^2 + |z|^2. The cross term 2 <ref, z> / (|ref|^2 + |z|^2) <= cos(ref, z)
    is at most the rounding of the two products V_r c and V_0 b (r + (d - r) = d terms: d u) plus
    the orthogonality defect ||V^T V - I||_2 of the QR-built oracle V, measured (up to ~6 d u).
    Total (3 d + 12) u + defect = 4 (identity) x eps x dim with dim = (3 d + 12) / 8 + defect /
    (4 eps). The former dim 1 (the default for a scalar) was too small: the example above.
    """
    check = Check(MN, backend)
    host_check = Check(MN, HOST)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w = min_norm_solution(X, y)
    ref = pinv_solution(problem)
    cond = problem.cond**2
    nd = problem.n + problem.d
    with clause("a"):
        check.assert_close(w, ref, cond=cond, dim=nd, what="pinv route vs SVD")
        check.assert_close(
            ridge_dual(X, y, 0.0),
            ref,
            cond=cond,
            dim=nd,
            what="A^T (A A^T)^{-1} y vs SVD",
        )
    with clause("b"):
        check.assert_close(X @ w, problem.y, cond=cond, dim=nd, what="A w vs y")
    with clause("c"):
        check.assert_close(
            null_projector(problem) @ backend.to_numpy(w),
            np.zeros(problem.d),
            cond=cond,
            dim=nd,
            scale=float(np.linalg.norm(ref)),
            what="P_null w",
        )
    z = _null_part(problem, seed, size)
    defect = float(np.linalg.norm(problem.V.T @ problem.V - np.eye(problem.d), 2))
    with clause("d"):
        host_check.assert_close(
            np.array(np.linalg.norm(ref + z) ** 2),
            np.array(np.linalg.norm(ref) ** 2 + size**2),
            dim=(3 * problem.d + 12) / 8 + defect / (4 * HOST.eps),
            what="|w + z|^2 vs |w|^2 + |z|^2 (float64 oracle)",
        )
        assert size > 0  # so w + z is strictly longer


@claim(MN, breaks="A without full row rank")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(2, 6), d=(3, 10), shape="wide", rank="deficient"))
def test_rank_deficient_rows_have_no_dual_formula(backend, problem):
    """With rank A < n, A A^T is singular: the dual formula at lam = 0 is refused, and A^+ y no
    longer interpolates: its residual is the part of y outside col(A), |U_0^T y| > 0."""
    check = Check(MN, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    with pytest.raises(ValueError, match="singular"):
        ridge_dual(X, y, 0.0)
    residual = float(
        np.linalg.norm(problem.X @ backend.to_numpy(min_norm_solution(X, y)) - problem.y)
    )
    outside = float(np.linalg.norm(problem.U[:, problem.rank :].T @ problem.y))
    check.assert_close(
        np.array(residual),
        np.array(outside),
        cond=problem.cond**2,
        scale=float(np.linalg.norm(problem.y)),
        what="|A A^+ y - y| vs |U_0^T y|",
    )
    assert outside > 0


@claim(DIFFER)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, seed=seeds, size=log_uniform(1e-1, 1e1))
def test_interpolants_differ_off_the_training_data(backend, problem, seed, size):
    """w = A^+ y and w' = w + z (z in null(A), |z| = size) predict the same on the training rows,
    and differ at a Gaussian test point x by exactly x^T z.

    x is drawn from a stream independent of z's (`_null_part` uses default_rng(seed), whose first
    draws x would share), so x^T z / |z| is standard normal and |x^T z| > FALSE_FAILURE |z| fails
    with probability <= 2 * 0.4 * FALSE_FAILURE (the density of N(0, 1) is below 0.4):
    false-failure probability <= FALSE_FAILURE per example. The float64 dot product errs by
    about d eps |x| |z|, far below that threshold.
    """
    check = Check(DIFFER, backend)
    rng = np.random.default_rng([seed, 1])
    z = _null_part(problem, seed, size)
    x = rng.standard_normal(problem.d)
    X = backend.asarray(problem.X)
    w = min_norm_solution(X, backend.asarray(problem.y))
    w2 = w + backend.asarray(z)
    scale = problem.sigma_max * (float(np.linalg.norm(backend.to_numpy(w))) + size)
    with clause("a"):
        check.assert_close(
            X @ w,
            X @ w2,
            scale=scale,
            dim=problem.n + problem.d,
            what="training predictions of w vs w'",
        )
    exact = float(x @ z)
    with clause("c"):
        assert abs(exact) > FALSE_FAILURE * size
    xb = backend.asarray(x)
    diff = backend.to_numpy(backend.xp.sum(xb * w2) - backend.xp.sum(xb * w))
    with clause("b"):
        check.assert_close(
            diff,
            np.array(exact),
            scale=float(np.linalg.norm(x)) * (float(np.linalg.norm(backend.to_numpy(w))) + size),
            dim=problem.d,
            what="x^T w' - x^T w vs x^T z",
        )


@claim(DIFFER, breaks="test point in the row space")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, seed=seeds, size=log_uniform(1e-1, 1e1))
def test_interpolants_agree_on_the_row_space(backend, problem, seed, size):
    """A test point x = A^T c has no null-space component: x^T z = c^T A z = 0, so every
    interpolant predicts the same there."""
    check = Check(DIFFER, backend)
    rng = np.random.default_rng(seed)
    z = _null_part(problem, seed, size)
    x = problem.X.T @ rng.standard_normal(problem.n)
    X = backend.asarray(problem.X)
    w = min_norm_solution(X, backend.asarray(problem.y))
    xb = backend.asarray(x)
    diff = backend.to_numpy(backend.xp.sum(xb * (w + backend.asarray(z))) - backend.xp.sum(xb * w))
    check.assert_close(
        diff,
        np.array(0.0),
        scale=float(np.linalg.norm(x)) * (float(np.linalg.norm(backend.to_numpy(w))) + size),
        dim=problem.d,
        what="x^T z for x in row(A)",
    )


def _epoch_steps(problem, lr: float, order: list[int], target: float) -> tuple[int, float]:
    """Epochs T with |M^T| <= target on row(A), M the product of one epoch's single-example steps.

    Each step is w -> (I - lr n 2 a_i a_i^T) w + ...; the error e = w - A^+ y obeys the linear part.
    """
    n, d = problem.n, problem.d
    M = np.eye(d)
    for i in order:
        a = problem.X[i]
        M = (np.eye(d) - lr * n * 2 * np.outer(a, a)) @ M
    Vr = problem.V[:, : problem.rank]
    M = Vr.T @ M @ Vr
    rho = float(np.max(np.abs(np.linalg.eigvals(M))))
    P, T = np.eye(problem.rank), 0
    while np.linalg.norm(P, 2) > target:
        P, T = M @ P, T + 1
    return T, rho


@claim(SGD_LIMIT)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide_sgd, c=st.floats(0.7, 1.3), seed=seeds)
def test_sgd_from_zero_reaches_min_norm(backend, problem, c, seed):
    """SGD with one example per step, in a fixed shuffled order, from 0 reaches A^+ y.

    lr = c / (n 2 max_i |a_i|^2) keeps every single-example step stable (c < 2). The number of
    epochs is computed from the exact epoch matrix on row(A) (no guessing); per-step rounding is
    amplified by at most 1 / (1 - rho) with rho its spectral radius, and by cond(A)^2.
    At every recorded t, w_t is in the row space and |w_t - A^+ y| = |A^+ (A w_t - y)| <=
    |A w_t - y| / sigma_min.
    """
    host_check = Check(SGD_LIMIT, HOST)
    check = Check(SGD_LIMIT, backend)
    order = [int(i) for i in np.random.default_rng(seed).permutation(problem.n)]
    lr = c / (problem.n * 2 * float(np.max(np.sum(problem.X**2, axis=1))))
    epochs, rho = _epoch_steps(problem, lr, order, backend.eps / 10)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    steps = epochs * problem.n
    wT, traj = run(
        sgd(lr),
        lambda p, t: {"w": minibatch_grad(p["w"], X, y, [order[t % problem.n]])},
        {"w": backend.asarray(np.zeros(problem.d))},
        steps,
        record_every=max(1, steps // 10),
    )
    ref = pinv_solution(problem)
    cond = max(problem.cond**2, 1 / (1 - rho))
    # SGD converges (d), and its limit, of zero training loss, is A^+ y (c): the residual at w_T
    # is sigma_max |w_T - A^+ y|, within the same tolerance times sigma_max.
    with clause("c", "d"):
        check.assert_close(
            wT["w"],
            ref,
            cond=cond,
            dim=problem.d * problem.n,
            what="SGD w_T vs A^+ y",
        )
        check.assert_close(
            problem.X @ backend.to_numpy(wT["w"]),
            problem.y,
            cond=cond,
            dim=problem.d * problem.n,
            scale=problem.sigma_max * float(np.linalg.norm(ref)),
            what="training residual of the SGD limit",
        )
    P = null_projector(problem)
    r = problem.rank
    scale = max(float(np.linalg.norm(backend.to_numpy(p["w"]))) for p in traj)
    for p in traj:
        w = backend.to_numpy(p["w"])
        with clause("a"):
            check.assert_close(
                P @ w,
                np.zeros(problem.d),
                kind="invariant",
                scale=scale,
                dim=problem.d * steps,
                what="P_null w_t of SGD from 0",
            )
        bound = np.linalg.norm(problem.X @ w - problem.y) / problem.sigma_min
        slack = check.tolerance(kind="convergence", cond=cond, dim=problem.d * problem.n)
        # The equality |w_t - A^+ y| = |A^+ (A w_t - y)|: the two differ only by the null-space
        # part of w_t (Pythagoras), which is rounding (one per step: invariant, dim d * steps),
        # plus the float64 evaluation of A^+ (A w - y) through the SVD ((n + d) eps64 cond).
        resid = problem.X @ w - problem.y
        pinv_resid = problem.V[:, :r] @ ((problem.U[:, :r].T @ resid) / problem.svals)
        gap = abs(np.linalg.norm(w - ref) - np.linalg.norm(pinv_resid))
        eval_err = host_check.tolerance(
            kind="identity", cond=problem.cond, dim=problem.n + problem.d
        ) * (np.linalg.norm(w) + np.linalg.norm(ref))
        with clause("b"):
            assert gap <= np.linalg.norm(P @ w) + eval_err, "|w_t - A^+ y| != |A^+ (A w_t - y)|"
            assert np.linalg.norm(w - ref) <= bound + slack * np.linalg.norm(ref)


@claim(SGD_LIMIT, breaks="start away from zero")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide_sgd, c=st.floats(0.7, 1.3), seed=seeds, size=st.floats(0.5, 2.0))
def test_sgd_from_elsewhere_keeps_its_null_part(backend, problem, c, seed, size):
    """From w0 with a null-space part of norm `size`, SGD interpolates but ends `size` away from A^+ y.

    Run until the row-space error is below 1e-4 (exact epoch matrix): then |w_T - A^+ y| is within
    1e-4 + rounding of `size`, far from 0; the null part itself is invariant (one rounding per step).
    """
    check = Check(SGD_LIMIT, backend)
    order = [int(i) for i in np.random.default_rng(seed).permutation(problem.n)]
    lr = c / (problem.n * 2 * float(np.max(np.sum(problem.X**2, axis=1))))
    epochs, _ = _epoch_steps(problem, lr, order, 1e-4)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w0 = _null_part(problem, seed, size)
    steps = epochs * problem.n
    wT, _ = run(
        sgd(lr),
        lambda p, t: {"w": minibatch_grad(p["w"], X, y, [order[t % problem.n]])},
        {"w": backend.asarray(w0)},
        steps,
    )
    w = backend.to_numpy(wT["w"])
    check.assert_close(
        null_projector(problem) @ w,
        w0,
        kind="invariant",
        dim=problem.d * steps,
        what="P_null w_T vs w0",
    )
    gap = float(np.linalg.norm(w - pinv_solution(problem)))
    assert abs(gap - size) <= 1e-2 * size


@claim(ADAM)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, lr=log_uniform(1e-3, 1e-1), beta=st.floats(0.1, 1.0), k=st.integers(1, 5))
@example(problem=make_problem(n=6, d=7, svals=[0.5] * 6, seed=12524), lr=1e-3, beta=1.0, k=1)
def test_momentum_keeps_the_span_and_adam_leaves_it(backend, problem, lr, beta, k):
    """Momentum (EMA form) from 0: P_null w_t = 0 at every step. Adam from 0: after k steps the
    null-space part is nonzero (at step 1 exactly lr |P_null(g / (|g| + eps))|), and GD from there
    converges to A^+ y + P_null w_k, strictly longer than A^+ y.

    Tolerances: invariant work factor d * T for momentum (one rounding per step); the GD tail as in
    test_gd_converges_to_nearest_minimizer.
    """
    check = Check(ADAM, backend)
    host_check = Check(ADAM, HOST)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    P = null_projector(problem)
    grad = lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}  # noqa: E731
    zero = {"w": backend.asarray(np.zeros(problem.d))}
    m_lr = 1 / (2 * problem.sigma_max**2)
    _, traj = run(ema_momentum(m_lr, beta), grad, zero, 20, record_every=1)
    scale = max(float(np.linalg.norm(backend.to_numpy(p["w"]))) for p in traj)
    with clause("a"):
        for t, p in enumerate(traj):
            check.assert_close(
                P @ backend.to_numpy(p["w"]),
                np.zeros(problem.d),
                scale=scale,
                dim=problem.d * 20,
                what=f"momentum P_null w_{t}",
            )
    w1, _ = run(adam(lr), grad, zero, 1)
    g = -2 * problem.X.T @ problem.y
    unit = g / (np.abs(g) + 1e-8)
    first = lr * float(np.linalg.norm(P @ unit))
    # The null part is a small projection of a step of size lr |unit|: each entry of w_1 rounds
    # a few times relative to lr (m, v, sqrt, division), so the error is d eps lr |unit|, not
    # relative to |P_null w_1| (sweep seed 3037788760: |P_null w_1| = 6.6e-6 with lr |unit| ~
    # 1e-2). The backend's gradient differs from the float64 oracle's by dg <= 2 (n + 1) eps
    # |X|^T |y| per entry, and unit_i moves by dg_i * 1e-8 / (|g_i| + 1e-8)^2 (its derivative).
    # The vector P_null w_1 is compared, not only its norm: the bound above is on the error of
    # w_1 itself, and P_null is a contraction.
    dg = 2 * (problem.n + 1) * backend.eps * (np.abs(problem.X).T @ np.abs(problem.y))
    d_unit = dg * 1e-8 / (np.abs(g) + 1e-8) ** 2
    with clause("b"):
        check.assert_close(
            P @ backend.to_numpy(w1["w"]),
            -lr * (P @ unit),
            dim=problem.d,
            scale=lr * float(np.linalg.norm(unit) + np.linalg.norm(d_unit)),
            what="P_null w_1 of Adam vs -lr P_null(g / (|g| + eps))",
        )
        assert first > 0
    wk, _ = run(adam(lr), grad, zero, k)
    wk_np = backend.to_numpy(wk["w"])
    # P_null w_k as V_0 (V_0^T w_k), so that A^+ y = V_r c and it have the structure of the
    # Pythagoras check in test_min_norm_solution_is_the_dual_form_at_zero.
    V0 = problem.V[:, problem.rank :]
    null_k = V0 @ (V0.T @ wk_np)
    wT, rho, _ = _gd_run(backend, problem, wk_np, 1.0, backend.eps / 10)
    ref = pinv_solution(problem)
    target = ref + null_k
    with clause("c"):
        check.assert_close(
            wT,
            target,
            cond=max(problem.cond**2, 1 / (1 - rho)),
            what="Adam then GD vs A^+ y + P_null w_k",
        )
    # Pythagoras in float64 (V_r c + V_0 b, as in the min-norm test: (3 d + 12) u plus the
    # orthogonality defect of V), and the null part is nonzero, so the limit is strictly longer.
    defect = float(np.linalg.norm(problem.V.T @ problem.V - np.eye(problem.d), 2))
    with clause("d"):
        host_check.assert_close(
            np.array(np.linalg.norm(target) ** 2),
            np.array(np.linalg.norm(ref) ** 2 + np.linalg.norm(null_k) ** 2),
            kind="identity",
            dim=(3 * problem.d + 12) / 8 + defect / (4 * HOST.eps),
            what="|A^+ y + P_null w_k|^2 vs |A^+ y|^2 + |P_null w_k|^2 (float64)",
        )
        assert np.linalg.norm(null_k) > 0


@claim(ADAM, breaks="row space aligned with the coordinate axes")
@pytest.mark.parametrize("backend", backend_params())
@given(
    n=st.integers(1, 5),
    extra=st.integers(1, 5),
    lr=log_uniform(1e-3, 1e-1),
    seed=seeds,
    steps=st.integers(1, 30),
)
def test_adam_keeps_the_span_of_axis_aligned_data(backend, n, extra, lr, seed, steps):
    """If A = [B, 0] touches only the first n coordinates, Adam's gradient, moments and update are
    exactly 0 on the other coordinates, so its iterates stay in row(A) = span(e_1..e_n)."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n)) + 3 * np.eye(n)
    A = np.concatenate([B, np.zeros((n, extra))], axis=1)
    X, y = backend.asarray(A), backend.asarray(rng.standard_normal(n))
    wT, _ = run(
        adam(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": backend.asarray(np.zeros(n + extra))},
        steps,
    )
    assert np.all(backend.to_numpy(wT["w"])[n:] == 0.0)
    assert np.linalg.norm(backend.to_numpy(wT["w"])[:n]) > 0


WIDE_NET = "implicit-bias.overparameterized-models-are-locally-wide"
CHOICE = "implicit-bias.optimizer-choice-shapes-solution"


@claim(WIDE_NET)
@pytest.mark.parametrize("backend", backend_params())
@given(
    d0=st.integers(1, 4),
    h=st.integers(2, 8),
    m=st.integers(1, 20),
    activation=st.sampled_from(["relu", "tanh"]),
    seed=seeds,
)
# CI sweep seed 4132611193 (torch float32): torch's float32 eigvalsh returned NaN for two
# eigenvalues of this finite rank-1 43 x 43 matrix; the eigenvalues are now taken in float64
@example(d0=4, h=7, m=1, activation="relu", seed=162)
def test_overparameterized_net_has_flat_directions(backend, d0, h, m, activation, seed):
    """The n x p parameter Jacobian of a one-hidden-layer net has rank <= n, so at least p - n
    eigenvalues of 2 J^T J vanish. For ReLU, each hidden unit's rescaling direction
    r_j = (w_j, b_j, -v_j) has J r_j = 0, so at least max(p - n, h) vanish.

    n = min(m, p - 1) training points (every n in [1, min(p - 1, 20)] is reached). J^T J is formed
    by the backend in its dtype: by Weyl the eigenvalues of the formed matrix lie within
    8 (n + p) eps |J|^2 of the exact ones, p - n of which are exactly 0; that is the threshold.
    The eigenvalues of the formed matrix are the test's oracle and are computed by NumPy in
    float64 (torch's float32 eigvalsh returned NaN on a finite rank-1 matrix, seed 4132611193).

    ReLU: (J r_j)_a = v_j 1[z_aj > 0] (x_a . w_j + b_j) - v_j relu(z_aj), zero up to the rounding
    of z_aj (d0 + 1 terms) and of the products in J (one each): at most (d0 + 2) eps |J_a| |r_j|
    per row (Cauchy-Schwarz), plus the host's float64 matvec (p terms); so |J r_j| / |r_j| is
    checked against the bound tolerance with dim d0 + 2 + p at scale |J|_F. The r_j have disjoint
    supports, so Q = [r_j / |r_j|] is orthonormal and J_e = J (I - Q Q^T) has rank <= min(n, p - h)
    exactly; |2 J^T J - 2 J_e^T J_e| <= 2 (2 |J| delta + delta^2) with delta = |J Q|_2 (measured),
    which Weyl adds to the threshold.
    """
    check = Check(WIDE_NET, backend)
    p = d0 * h + h + h + 1
    n = min(m, p - 1)
    rng = np.random.default_rng(seed)
    X = backend.asarray(rng.standard_normal((n, d0)))
    params = init_mlp([d0, h, 1], rng=rng, like=X)
    params["b1"] = backend.asarray(rng.standard_normal(h))  # any theta, not only zero biases
    J = param_jacobian(params, X, activation=activation)
    eig = eigvalsh64(backend, 2 * (J.T @ J))
    Jh = backend.to_numpy(J).astype(np.float64)
    norm_J = float(np.linalg.norm(Jh, 2))
    top = 2 * norm_J**2
    threshold = check.tolerance(kind="bound", dim=n + p) * max(top, 1e-300)
    flat = int(np.sum(np.abs(eig) <= threshold))
    with clause("a"):
        assert tuple(J.shape) == (n, p)
        assert flat >= p - n, f"{flat} flat directions < p - n = {p - n}"
    if activation != "relu":
        return
    # Rescaling directions in flatten_params order (W1 row-major, b1, W2 row-major, b2).
    W1, b1, W2 = (backend.to_numpy(params[k]).astype(np.float64) for k in ("W1", "b1", "W2"))
    R = np.zeros((p, h))
    for j in range(h):
        R[[i * h + j for i in range(d0)], j] = W1[:, j]
        R[d0 * h + j, j] = b1[j]
        R[d0 * h + h + j, j] = -W2[j, 0]
    Q = R / np.linalg.norm(R, axis=0)
    JQ = Jh @ Q
    with clause("b"):
        for j in range(h):
            check.assert_close(
                JQ[:, j],
                np.zeros(n),
                scale=float(np.linalg.norm(Jh)),
                dim=d0 + 2 + p,
                what=f"J r_{j} / |r_{j}| (ReLU rescaling of unit {j})",
            )
    delta = float(np.linalg.norm(JQ, 2))
    relu_threshold = threshold + 2 * (2 * norm_J * delta + delta**2)
    flat = int(np.sum(np.abs(eig) <= relu_threshold))
    with clause("c"):
        # Independent: nonzero columns with disjoint supports, so Q^T Q = I exactly up to the
        # rounding of the normalisation (h entries of one rounding each).
        assert np.all(np.linalg.norm(R, axis=0) > 0)
        assert np.max(np.abs(Q.T @ Q - np.eye(h))) <= 4 * p * HOST.eps
        assert flat >= max(p - n, h), f"{flat} flat directions < max(p - n, h) = {max(p - n, h)}"


@claim(CHOICE)
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(problem=wide, seed=seeds)
def test_gd_and_adam_pick_different_interpolants(backend, problem, seed):
    """Light check of the remark: GD from zero reaches A^+ y; after 10 Adam steps and then GD to
    convergence, the interpolant reached is A^+ y plus Adam's null-space part, which is nonzero."""
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    grad = lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}  # noqa: E731
    w_adam, _ = run(adam(0.05), grad, {"w": backend.asarray(np.zeros(problem.d))}, 10)
    null = null_projector(problem) @ backend.to_numpy(w_adam["w"])
    w_gd, _, _ = _gd_run(backend, problem, np.zeros(problem.d), 1.0, backend.eps / 10)
    w_after, _, _ = _gd_run(backend, problem, backend.to_numpy(w_adam["w"]), 1.0, backend.eps / 10)
    ref = pinv_solution(problem)
    assert np.linalg.norm(null) > 0
    assert np.linalg.norm(w_gd - ref) < 0.01 * np.linalg.norm(null)
    assert np.linalg.norm(w_after - (ref + null)) < 0.01 * np.linalg.norm(null)
