"""Chapter implicit-bias: which minimizer GD and SGD select."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlcore.losses import minibatch_grad, squared_loss_grad
from dlcore.optim import adam, gd, sgd
from dlcore.train import run
from tests.support.backends import backend_params
from tests.support.claims import claim
from tests.support.strategies import regression_problems, seeds
from tests.support.tolerances import assert_close, tolerance

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


@st.composite
def batch_schedules(draw, n: int):
    """A sequence of minibatches (index lists, repeats allowed), drawn so failures replay."""
    steps = draw(st.integers(1, 25))
    return [draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n)) for _ in range(steps)]


@claim(SPAN)
@pytest.mark.parametrize("backend", backend_params())
@given(data=st.data(), problem=wide, c=st.floats(0.05, 0.95), from_zero=st.booleans(), seed=seeds)
def test_sgd_iterates_keep_their_null_space_component(backend, data, problem, c, from_zero, seed):
    """Run SGD on a drawn batch schedule and check P_null w_t = P_null w_0 at every step.

    The step is c / (n * 2 sigma_max^2), stable for every minibatch. Each step adds one rounding
    of the iterate (relative eps), so the tolerance's work factor is d * T.
    """
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
    work = problem.d * len(schedule)
    for t, p in enumerate(traj):
        w = backend.to_numpy(p["w"])
        assert_close(
            P @ w, P @ w0, claim=SPAN, backend=backend, scale=scale, dim=work, what=f"P_null w_{t}"
        )
    # The full batch gives exactly the GD gradient.
    w = backend.asarray(rng.standard_normal(problem.d))
    full = minibatch_grad(w, X, y, list(range(problem.n)))
    assert_close(
        full,
        squared_loss_grad(w, X, y),
        claim=SPAN,
        backend=backend,
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
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w0 = {"w": backend.asarray(np.zeros(problem.d))}
    (w1, _) = run(adam(lr), lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}, w0, 1)
    g = -2 * problem.X.T @ problem.y
    P = null_projector(problem)
    predicted = lr * float(np.linalg.norm(P @ np.sign(g)))
    observed = float(np.linalg.norm(P @ backend.to_numpy(w1["w"])))
    assert observed >= 0.5 * predicted
    # The span test's own tolerance for this comparison, exceeded by orders of magnitude.
    assert observed > 1e6 * tolerance(backend.eps, kind="invariant", dim=problem.d) * lr


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


@claim(MIN_NORM)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide, c=st.floats(0.2, 1.8))
def test_gd_from_zero_converges_to_min_norm(backend, problem, c):
    """GD from 0 with lr = c / lambda_max, 0 < c < 2, reaches X^+ y.

    Steps: until rho^T <= eps / 10, with rho = max_i |1 - lr lambda_i| over the row space. Per-step
    rounding is amplified by at most 1 / (1 - rho), the condition number used for the tolerance.
    """
    wT, rho, _ = _gd_run(backend, problem, np.zeros(problem.d), c, backend.eps / 10)
    cond = max(problem.cond**2, 1 / (1 - rho))
    assert_close(
        wT, pinv_solution(problem), claim=MIN_NORM, backend=backend, cond=cond, what="w_T vs X^+ y"
    )


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
    """From a random w0, GD reaches X^+ y + P_null w0, the interpolant nearest to w0."""
    w0 = np.random.default_rng(seed).standard_normal(problem.d)
    wT, rho, _ = _gd_run(backend, problem, w0, c, backend.eps / 10)
    nearest = pinv_solution(problem) + null_projector(problem) @ w0
    cond = max(problem.cond**2, 1 / (1 - rho))
    assert_close(
        wT, nearest, claim=NEAREST, backend=backend, cond=cond, what="w_T vs X^+ y + P_null w0"
    )
    # It is the nearest interpolant: the correction w_T - w0 lies in the row space.
    assert_close(
        null_projector(problem) @ (wT - w0),
        np.zeros(problem.d),
        claim=NEAREST,
        backend=backend,
        cond=cond,
        scale=float(np.linalg.norm(w0)),
        what="P_null (w_T - w0)",
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
