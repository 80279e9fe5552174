"""Chapter sgd: minibatch gradients and constant-step SGD."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction
from itertools import combinations, permutations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlcore.data import SCHEMES, batch_schedule, enumerate_batches, epoch_batches
from dlcore.dynamics import spectral_radius
from dlcore.losses import (
    empirical_risk_grad,
    minibatch_grad,
    per_example_grads,
    squared_loss_grad,
)
from dlcore.optim import sgd
from dlcore.train import run
from tests.support.backends import HOST, backend_params
from tests.support.claims import claim, clause
from tests.support.stats import FALSE_FAILURE
from tests.support.strategies import (
    MAX_PATHS,
    enumerable_setups,
    log_uniform,
    make_problem,
    regression_problems,
    seeds,
)
from tests.support.tolerances import Check

UNBIASED = "sgd.minibatch-gradient-is-unbiased"
INTERP = "sgd.interpolation-constant-step-converges"


def batch_scale(X: np.ndarray, y: np.ndarray, w: np.ndarray, batch: list[int]) -> float:
    """Magnitude of the terms of g_B = (n/b) 2 X_B^T (X_B w - y_B), before cancellation."""
    XB, yB = X[batch], y[batch]
    n, b = X.shape[0], len(batch)
    return (
        (n / b)
        * 2
        * float(np.linalg.norm(XB) * (np.linalg.norm(XB) * np.linalg.norm(w) + np.linalg.norm(yB)))
    )


def exact_mean(backend, X, y, w, batches) -> tuple[np.ndarray, float]:
    """sum_B P(B) g_B(w) with dlcore's minibatch_grad, summed on the host in float64."""
    Xb, yb, wb = backend.asarray(X), backend.asarray(y), backend.asarray(w)
    total = np.zeros(X.shape[1])
    scale = 0.0
    for batch, prob in batches:
        total += prob * backend.to_numpy(minibatch_grad(wb, Xb, yb, batch))
        scale = max(scale, batch_scale(X, y, w, batch))
    return total, scale


@claim(UNBIASED)
@pytest.mark.parametrize("backend", backend_params())
@given(
    setup=enumerable_setups(),
    d=st.integers(1, 4),
    seed=seeds,
)
def test_minibatch_gradient_mean_is_the_full_gradient(backend, setup, d, seed):
    """Enumerate every batch of the sampler with its probability: the exact mean is grad L.

    Schemes: all n^b tuples (with replacement), all C(n, b) subsets (without), the first block
    of all n! permutations (epoch; any block has this law). The mean is summed on the host in
    float64, so the error is each g_B's rounding, (b + d) eps relative to the magnitude of its
    terms before cancellation (`scale`, the largest over the batches).
    """
    check = Check(UNBIASED, backend)
    host_check = Check(UNBIASED, HOST)
    scheme, n, b = setup
    rng = np.random.default_rng(seed)
    X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    batches = enumerate_batches(n, b, scheme=scheme)
    # N probabilities, each rounded once, summed with N - 1 roundings: N eps <= identity's 4 N eps
    host_check.assert_entrywise(
        sum(p for _, p in batches),
        1.0,
        kind="identity",
        dim=len(batches),
        what="sum of the batch probabilities",
    )
    mean, scale = exact_mean(backend, X, y, w, batches)
    Xb, wb = backend.asarray(X), backend.asarray(w)
    with clause("a"):
        check.assert_close(
            mean,
            2 * X.T @ (X @ w - y),
            dim=b + d,
            scale=scale,
            what=f"E g_B over {len(batches)} batches ({scheme}, n={n}, b={b})",
        )
        if scheme == "epoch":  # every full block position has the law of the first block
            first = Counter(tuple(B) for B, _ in batches)
            for k in range(n // b):
                block = Counter(o[k * b : (k + 1) * b] for o in permutations(range(n)))
                assert set(block) == set(first), f"block {k}: other batches"
                assert set(block.values()) == {math.factorial(n) // len(first)}, f"block {k}"
    # The same law with the logistic loss's per-example gradients (labels sign(y)): linearity of
    # expectation, whatever the vectors. Both sides sum the same dlcore values on the host in
    # float64: (len(batches) + n) float64 eps relative to n sum_i ||grad l_i||.
    labels = np.where(y >= 0, 1.0, -1.0)
    G = np.asarray(
        backend.to_numpy(per_example_grads(wb, Xb, backend.asarray(labels), loss="logistic")),
        dtype=np.float64,
    ).reshape(n, d)
    mean_log = sum(p * (n / b) * G[B].sum(axis=0) for B, p in batches)
    with clause("b"):
        assert np.linalg.norm(mean_log - G.sum(axis=0)) <= host_check.tolerance(
            kind="identity", dim=len(batches) + n
        ) * n * float(np.linalg.norm(G, axis=1).sum()), "E g_B for the logistic loss"
    # ... and so is the full batch, which is dlcore's GD gradient.
    yb = backend.asarray(y)
    check.assert_close(
        minibatch_grad(wb, Xb, yb, list(range(n))),
        squared_loss_grad(wb, Xb, yb),
        dim=n + d,
        scale=batch_scale(X, y, w, list(range(n))),
        what="full batch vs GD gradient",
    )


@claim(UNBIASED, breaks="non-uniform sampling without reweighting")
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(
    problem=regression_problems(n=(2, 5), d=(5, 8), rank="full", max_cond=10.0),
    seed=seeds,
)
def test_nonuniform_sampling_biases_the_minibatch_gradient(backend, problem, seed):
    """b = 1 with P(i) = pi_i proportional to i + 1: the exact mean is sum_i pi_i n grad l_i.

    At w = 0 with |y_i| >= 1/2 the bias is X^T v with v_i = 2 (n pi_i - 1)(-y_i); X has full row
    rank, so ||bias|| >= sigma_min ||v|| > 0, and the test checks it is >= 1e6 times the
    unbiasedness tolerance.
    """
    check = Check(UNBIASED, backend)
    rng = np.random.default_rng(seed)
    n, d = problem.n, problem.d
    X = problem.X
    y = rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 1.5, n)
    w = np.zeros(d)
    pi = np.arange(1, n + 1) / (n * (n + 1) / 2)
    mean, scale = exact_mean(backend, X, y, w, [([i], float(pi[i])) for i in range(n)])
    grad = 2 * X.T @ (X @ w - y)
    bias = float(np.linalg.norm(mean - grad))
    v = 2 * (n * pi - 1) * (-y)
    tol = check.tolerance(kind="identity", dim=1 + d) * scale
    # ||X^T v|| >= sigma_min ||v|| exactly. The computed bias errs by the mean's rounding
    # (tolerance(identity, dim 1 + d) * scale), and X, built in float64 from the drawn spectrum,
    # has singular values within d eps sigma_max of the drawn ones: both fit in
    # tolerance(identity, dim 1 + d) * (scale + sigma_max ||v||), as host eps <= backend eps.
    vn = float(np.linalg.norm(v))
    check.assert_at_least(
        bias,
        problem.sigma_min * vn,
        kind="identity",
        dim=1 + d,
        scale=scale + problem.sigma_max * vn,
        what="||bias|| >= sigma_min ||v||",
    )
    assert bias >= 1e6 * tol


def wide_problem():
    """Consistent problems: wide, full row rank, cond <= 2, so randomized Kaczmarz is fast."""
    return regression_problems(n=(1, 4), d=(2, 8), shape="wide", max_cond=2.0)


def _check_gradients_at_ls(G, expected, terms, *, claim, backend):
    """dlcore's per-example gradients at theta_LS equal 2 x_i r_i (rounding: (n + d) eps of the
    terms' magnitudes), and some of them are far from 0: 1e3 x the tolerance of the balance."""
    check = Check(claim, backend)
    n, d = G.shape
    check.assert_close(
        G,
        expected,
        dim=n + d,
        scale=float(np.linalg.norm(terms)),
        what="grad l_i(theta_LS) = 2 x_i r_i",
    )
    assert np.linalg.norm(G, axis=1).max() > 1e3 * check.tolerance(
        kind="identity", dim=n + d
    ) * float(np.linalg.norm(terms)), "some grad l_i(theta_LS) is far from 0"


@claim(INTERP)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=wide_problem(), c=st.floats(0.5, 1.5), seed=seeds)
def test_constant_step_sgd_converges_under_interpolation(backend, problem, c, seed):
    """b = 1 with replacement, lr = c / (2 n max ||x_i||^2) (so 2 lr n ||x_i||^2 <= c < 2).

    Per path: the Kaczmarz identity for the first steps and ||e_{t+1}|| <= ||e_t|| at every step,
    for e_t = w_t - (X^+ y + P_null w_0) and for a second interpolant (plus a null-space vector);
    the same on 20 steps at the edge lr = 1 / (n max ||x_i||^2) (c = 2). Final:
    E||e_T||^2 <= (1 - q)^T ||e_0||^2, so by Markov's
    inequality ||e_T||^2 <= (1 - q)^T ||e_0||^2 / p with probability >= 1 - p, p = FALSE_FAILURE
    (the false-failure probability per example); T is the first step where that bound is <= 1e-12
    ||e_0||^2, i.e. ||e_T|| <= 1e-6 ||e_0||; then the training loss ||X e_T||^2 <= sigma_max^2
    ||e_T||^2 is checked too (evaluated in float64: d eps of ||X|| ||w_T|| + ||y||). Rounding:
    each step adds (n + d) eps relative to the scale, and the steps are non-expansive, so the
    accumulated error is at most T times that (cond = T).
    """
    host_check = Check(INTERP, HOST)
    check = Check(INTERP, backend)
    n, d = problem.n, problem.d
    X, y = problem.X, problem.y
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(d)
    row_norm2 = np.sum(X * X, axis=1)
    lr = c / (2 * n * row_norm2.max())
    q = 2 * lr * (2 - 2 * lr * n * row_norm2.max()) * problem.sigma_min**2
    q = min(q, 1.0)  # q = 1 (n = 1, c = 1): one step lands on the interpolant
    steps = 1 if q == 1.0 else math.ceil(math.log(FALSE_FAILURE * 1e-12) / math.log1p(-q))
    schedule = batch_schedule(n, 1, steps, scheme="with", rng=rng)
    Xb, yb = backend.asarray(X), backend.asarray(y)
    _, traj = run(
        sgd(lr),
        lambda p, t: {"w": minibatch_grad(p["w"], Xb, yb, schedule[t])},
        {"w": backend.asarray(w0)},
        steps,
        record_every=1,
    )
    W = np.array([backend.to_numpy(p["w"]) for p in traj])
    V0 = problem.V[:, problem.rank :]
    target = problem.V[:, : problem.rank] @ ((problem.U.T @ y)[: problem.rank] / problem.svals)
    target = target + V0 @ (V0.T @ w0)
    other = target + V0 @ rng.standard_normal(d - problem.rank)  # another interpolant

    def check_path(W, lr, sched, target, steps):
        """Kaczmarz identity (first 20 steps) and no growth of the distance to `target`."""
        E = W - target
        dist = np.linalg.norm(E, axis=1)
        scale = max(float(np.linalg.norm(W, axis=1).max()), float(np.linalg.norm(target)), 1.0)
        step_tol = check.tolerance(kind="convergence", dim=n + d, cond=2.0) * scale
        for t in range(min(steps, 20)):
            x = X[sched[t][0]]
            predicted = dist[t] ** 2 - 2 * lr * n * (2 - 2 * lr * n * (x @ x)) * (x @ E[t]) ** 2
            assert abs(dist[t + 1] ** 2 - predicted) <= 2 * step_tol * scale, (
                f"Kaczmarz identity, t={t}"
            )
        assert (np.diff(dist) <= step_tol).all(), "distance to the interpolant must not grow"
        return dist, scale

    edge_lr = 1 / (n * row_norm2.max())  # the edge of the bound: still non-expansive
    edge = batch_schedule(n, 1, 20, scheme="with", rng=rng)
    W_edge = sgd_path(backend, X, y, w0, edge_lr, edge)
    with clause("a", "b"):
        dist, scale = check_path(W, lr, schedule, target, steps)
        check_path(W, lr, schedule, other, steps)
        for tgt in (target, other):
            check_path(W_edge, edge_lr, edge, tgt, 20)
    with clause("b"):  # lambda_max(A_i) = 2 n ||x_i||^2 (eigvalsh: d eps of ||A_i||)
        lam = max(float(np.linalg.eigvalsh(2 * n * np.outer(x, x)).max()) for x in X)
        assert abs(2 / lam - edge_lr) <= host_check.tolerance(kind="identity", dim=d) * edge_lr
    rounding = check.tolerance(kind="convergence", dim=n + d, cond=float(steps)) * scale
    with clause("c", "d"):
        assert q > 0
        assert dist[-1] <= 1e-6 * dist[0] + rounding, (
            f"claim {INTERP} [{backend}]: ||e_T|| = {dist[-1]:.3e} after {steps} steps, bound "
            f"1e-6 ||e_0|| + rounding = {1e-6 * dist[0] + rounding:.3e} (q = {q:.4f})"
        )
    loss = float(np.sum((X @ W[-1] - y) ** 2))
    eval_err = host_check.tolerance(kind="identity", dim=d) * (
        float(np.linalg.norm(X)) * float(np.linalg.norm(W[-1])) + float(np.linalg.norm(y))
    )
    with clause("d"):
        assert math.sqrt(loss) <= problem.sigma_max * (1e-6 * dist[0] + rounding) + eval_err


@claim(INTERP)
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(
    problem=regression_problems(n=(3, 8), d=(1, 4), shape="tall", max_cond=2.0),
    c=st.floats(0.5, 1.5),
    noise=st.floats(0.5, 2.0),
    seed=seeds,
)
def test_least_squares_solution_is_not_a_fixed_point_of_sgd(backend, problem, c, noise, seed):
    """y = X theta + nu with nu orthogonal to range(X), ||nu|| = noise: theta_LS = theta.

    No row of X is zero (full column rank, tall), so y not in range(X) gives some row with
    x_i != 0 and r_i = -nu_i != 0; dlcore's per-example gradients at theta_LS are 2 x_i r_i
    (rounding (n + d) eps relative to the terms' magnitudes) and the largest is far above that.
    From w_0 = theta_LS, one SGD step (b = 1, with replacement, same lr as the interpolation test)
    moves by lr n 2 |nu_i| ||x_i||. Enumerating the n equally likely first batches with dlcore
    gives E||e_1||^2 = lr^2 n sum_i ||grad l_i(theta_LS)||^2 exactly, > 0: the distance to theta_LS
    grows from 0, so constant-step SGD cannot converge to it. The predicted value is checked to be
    >= 1e6 times the interpolation test's per-step tolerance.

    Later steps: with g_i = n grad l_i(theta_LS) (sum 0) and e_0 = 0, E e_t = 0 for every t, so
    P_t = E e_t e_t^T obeys P_{t+1} = T(P_t) + lr^2 mean_i g_i g_i^T with T the PSD-preserving
    second-moment operator; from P_0 = 0 induction gives P_{t+1} - P_t = T(P_t - P_{t-1}) >= 0,
    so E||e_t||^2 is nondecreasing and >= E||e_1||^2. Checked over all n^t paths (dlcore runs,
    t <= 3, n^t <= 256): each path's iterate has rounding delta = the interpolation test's
    step tolerance times t (non-expansive steps), so ||e_t||^2 is off by at most
    2 ||e_t|| delta + delta^2 <= 2 (max ||w|| + ||theta||) delta + delta^2 over all paths.
    """
    check = Check(INTERP, backend)
    n, d = problem.n, problem.d
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(d)
    U_perp = problem.U[:, problem.rank :]
    nu = U_perp @ rng.standard_normal(n - problem.rank)
    nu *= noise / np.linalg.norm(nu)
    X = problem.X
    y = X @ theta + nu
    lr = c / (2 * n * np.sum(X * X, axis=1).max())
    Xb, yb = backend.asarray(X), backend.asarray(y)
    sq = []
    for i in range(n):
        w1, _ = run(
            sgd(lr),
            lambda p, t, i=i: {"w": minibatch_grad(p["w"], Xb, yb, [i])},
            {"w": backend.asarray(theta)},
            1,
        )
        sq.append(float(np.sum((backend.to_numpy(w1["w"]) - theta) ** 2)))
    per_example = 2 * X * (-nu)[:, None]  # grad l_i(theta_LS) = 2 x_i (x_i^T theta - y_i)
    predicted = lr**2 * n * float(np.sum(per_example**2))
    scale = max(float(np.linalg.norm(theta)), 1.0)
    terms = 2 * np.abs(X) * (np.abs(X) @ np.abs(theta) + np.abs(y))[:, None]
    G = backend.to_numpy(per_example_grads(backend.asarray(theta), Xb, yb))
    with clause("e"):
        assert (np.linalg.norm(X, axis=1) > 0).all() and np.linalg.norm(nu) > 0
        _check_gradients_at_ls(G, per_example, terms, claim=INTERP, backend=backend)
    with clause("f"):
        check.assert_close(
            np.mean(sq),
            predicted,
            kind="identity",
            dim=n + d,
            scale=predicted + lr**2 * n**2 * scale**2 * float(np.sum(X * X)) * 4,
            what="E||w_1 - theta_LS||^2",
        )
    step_tol = check.tolerance(kind="convergence", dim=n + d, cond=2.0) * scale
    assert math.sqrt(predicted) >= 1e6 * step_tol
    T = min(3, int(math.log(MAX_PATHS) / math.log(n)))
    sq_t, big = path_expectation(
        backend,
        X,
        y,
        theta,
        [lr] * T,
        enumerate_batches(n, 1, scheme="with"),
        lambda path: np.array([float(np.sum((w - theta) ** 2)) for w in path]),
    )
    delta = T * check.tolerance(kind="convergence", dim=n + d, cond=2.0) * max(big, 1.0)
    tol = 2 * (big + float(np.linalg.norm(theta))) * delta + delta**2
    with clause("f"):
        assert (np.diff(sq_t) >= -tol).all(), f"E||e_t||^2 must not decrease: {sq_t}"
        assert (sq_t[1:] >= predicted - tol).all()


@claim(INTERP, breaks="y outside range(X) only through a zero row: theta_LS stays a fixed point")
@pytest.mark.parametrize("backend", backend_params())
def test_a_zero_row_residual_does_not_move_sgd(backend):
    """X = (1, 0)^T, y = (1, 1): y is not in range(X) (residual (0, -1) at theta_LS = 1), so the
    old wording "y not in range(X) => theta_LS is not a fixed point" predicts that SGD leaves
    theta_LS. It does not: the only nonzero residual sits on the zero row, so every per-example
    and minibatch gradient there is exactly 0 (2 x_i r_i with x_i = 0 or r_i = 0), and dlcore SGD
    started at theta_LS stays there; the corrected wording needs some x_i != 0 with r_i != 0,
    which fails here. All values are small integers, so the computations are exact (tolerance of
    one step, dim 4, on the scale 1).
    """
    check = Check(INTERP, backend)
    X, y = np.array([[1.0], [0.0]]), np.array([1.0, 1.0])
    theta_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    r = X @ theta_ls - y
    assert theta_ls[0] == 1.0 and r.tolist() == [0.0, -1.0]  # y is not in range(X)
    assert not any(np.any(X[i] != 0) and r[i] != 0 for i in range(2))  # new hypothesis fails
    Xb, yb, wb = backend.asarray(X), backend.asarray(y), backend.asarray(theta_ls)
    for scheme in ("with", "without"):
        for b in (1, 2):
            for B, _ in enumerate_batches(2, b, scheme=scheme):
                check.assert_close(
                    minibatch_grad(wb, Xb, yb, B),
                    np.zeros(1),
                    dim=4,
                    scale=1.0,
                    what=f"g_B at theta_LS, B = {B}",
                )
    sched = [[0], [1], [1], [0], [1]]  # both examples, in both orders; no randomness needed
    W = sgd_path(backend, X, y, theta_ls, 1 / (2 * 2 * 1.0), sched)
    check.assert_close(
        W,
        np.ones((6, 1)),
        dim=4,
        scale=1.0,
        what="SGD from theta_LS",
    )


DEF = "sgd.minibatch-sgd-definition"
VAR = "sgd.minibatch-variance-shrinks-with-batch-size"
EPOCH = "sgd.epochs-and-shuffling"
MEAN = "sgd.mean-iterate-follows-gd-on-quadratics"
DIVERGE = "sgd.gd-stable-step-can-diverge-under-sgd"
TUG = "sgd.per-example-gradients-vanish-only-at-interpolation"
FLOOR = "sgd.constant-step-noise-floor"
RUNNING = "sgd.running-average-is-sgd-with-step-one-over-k"
EMA = "sgd.constant-step-sgd-is-an-ema"


def sgd_path(backend, X, y, w0, lr, batches) -> np.ndarray:
    """dlcore SGD (lr fixed, or one lr per step) along a given batch sequence; all iterates."""
    Xb, yb = backend.asarray(X), backend.asarray(y)
    params = {"w": backend.asarray(w0)}
    out = [backend.to_numpy(params["w"])]
    lrs = lr if isinstance(lr, (list, np.ndarray)) else [lr] * len(batches)
    for step_lr, batch in zip(lrs, batches, strict=True):
        opt = sgd(float(step_lr))
        updates, _ = opt.update(
            {"w": minibatch_grad(params["w"], Xb, yb, batch)}, opt.init(params), params
        )
        params = {"w": params["w"] + updates["w"]}
        out.append(backend.to_numpy(params["w"]))
    return np.array(out)


@claim(DEF)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 8), d=(1, 5), rank="any", max_cond=10.0),
    c=st.floats(0.1, 1.9),
    b=st.integers(1, 8),
    scheme=st.sampled_from(SCHEMES),
    steps=st.integers(1, 30),
    seed=seeds,
)
def test_full_batch_sgd_is_gd_and_batches_have_size_b(backend, problem, c, b, scheme, steps, seed):
    """b = n without replacement gives dlcore's GD trajectory; every batch has b valid indices.

    The GD and SGD runs perform the same operations in the same order up to the n/b = 1 factor,
    so they agree to (n + d) eps per step (dim = (n + d) T), relative to the iterates' scale.
    """
    check = Check(DEF, backend)
    n = problem.n
    b = min(b, n) if scheme != "with" else b
    if scheme == "epoch":
        b = math.gcd(b, n)  # the epoch schedule needs b | n
    rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
    sched = batch_schedule(n, b, steps, scheme=scheme, rng=rng_a)
    with clause("b"):
        again = batch_schedule(n, b, steps, scheme=scheme, rng=rng_b)
        assert sched == again, "same seed, same batches"
    with clause("a"):
        assert all(len(B) == b and all(0 <= i < n for i in B) for B in sched)
        if scheme == "without":
            assert all(len(set(B)) == b for B in sched)
    lr = c / (2 * problem.sigma_max**2)
    w0 = np.random.default_rng(seed + 1).standard_normal(problem.d)
    full = batch_schedule(n, n, steps, scheme="without", rng=np.random.default_rng(seed))
    with clause("c"):
        assert all(sorted(B) == list(range(n)) for B in full)
    W_sgd = sgd_path(backend, problem.X, problem.y, w0, lr, full)
    Xb, yb = backend.asarray(problem.X), backend.asarray(problem.y)
    _, traj = run(
        sgd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], Xb, yb)},
        {"w": backend.asarray(w0)},
        steps,
        record_every=1,
    )
    W_gd = np.array([backend.to_numpy(p["w"]) for p in traj])
    with clause("d"):
        check.assert_close(
            W_sgd,
            W_gd,
            cond=2.0,
            dim=(n + problem.d) * steps,
            scale=max(float(np.abs(W_gd).max()), 1.0) * math.sqrt(W_gd.size),
            what="SGD(b = n, without) vs GD",
        )


def enumerated_moments(backend, X, y, w, batches):
    """Exact mean and covariance of dlcore's g_B over the enumerated batches (host float64)."""
    Xb, yb, wb = backend.asarray(X), backend.asarray(y), backend.asarray(w)
    G = np.array([backend.to_numpy(minibatch_grad(wb, Xb, yb, B)) for B, _ in batches])
    p = np.array([prob for _, prob in batches])
    mean = p @ G
    return mean, (G - mean).T @ ((G - mean) * p[:, None]), G


@claim(VAR)
@pytest.mark.parametrize("backend", backend_params())
@given(n=st.integers(2, 6), d=st.integers(1, 3), data=st.data(), seed=seeds)
def test_minibatch_covariance_by_enumeration(backend, n, d, data, seed):
    """Cov g_B over all n^b tuples and all C(n, b) subsets against n^2 Sigma / b (x (n-b)/(n-1)).

    Sigma is the population covariance of dlcore's per-example gradients (float64 oracle). The
    covariance is a second moment: its rounding error is 2 (b + d) eps relative to the second
    moment of the terms, the `scale` (max ||g_B||^2 over the batches).
    """
    host_check = Check(VAR, HOST)
    check = Check(VAR, backend)
    b = data.draw(st.integers(1, min(n, int(math.log(MAX_PATHS) / math.log(n)))))
    rng = np.random.default_rng(seed)
    X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    g = 2 * X * (X @ w - y)[:, None]
    Sigma = np.cov(g.T, bias=True).reshape(d, d)
    factor = (n - b) / (n - 1)
    covs, scales = {}, {}
    for scheme in ("with", "without"):
        _, cov, G = enumerated_moments(backend, X, y, w, enumerate_batches(n, b, scheme=scheme))
        covs[scheme], scales[scheme] = cov, float(np.max(np.sum(G * G, axis=1))) + 1e-300
    with clause("a", "c"):
        check.assert_close(
            covs["with"],
            n**2 * Sigma / b,
            dim=2 * (b + d),
            scale=scales["with"],
            what=f"Cov g_B, with replacement, n={n}, b={b}",
        )
    with clause("b", "c"):
        check.assert_close(
            covs["without"],
            n**2 * Sigma / b * factor,
            dim=2 * (b + d),
            scale=scales["without"],
            what=f"Cov g_B, without replacement, n={n}, b={b}",
        )
    # Sigma is PSD and its multipliers 1/k and (n - k) / (k (n - 1)) are nonincreasing in k
    # (exact rational arithmetic), so both covariances are nonincreasing in the PSD order.
    with clause("d"):
        assert np.linalg.eigvalsh(Sigma).min() >= -host_check.tolerance(
            kind="identity", dim=n + d
        ) * float(np.trace(Sigma))
        assert all(Fraction(1, k) > Fraction(1, k + 1) for k in range(1, n))
        assert all(
            Fraction(n - k, k * (n - 1)) >= Fraction(n - k - 1, (k + 1) * (n - 1))
            for k in range(1, n)
        )
    if b == n:  # the finite-population factor is 0: the full batch has no noise
        with clause("e"):
            assert factor == 0
            check.assert_close(
                covs["without"],
                np.zeros((d, d)),
                dim=2 * (b + d),
                scale=scales["without"],
                what="Cov g_B at b = n, without replacement",
            )
    with clause("f"):
        assert 1 - Fraction(n - b, n - 1) == Fraction(b - 1, n - 1)
        assert math.isclose((10_000 - 32) / 9_999, 0.9969, abs_tol=5e-5)
        assert math.isclose((10 - 5) / 9, 0.556, abs_tol=5e-4)


@claim(EPOCH)
@pytest.mark.parametrize("backend", backend_params())
@given(n=st.integers(1, 60), data=st.data(), drop_last=st.booleans(), seed=seeds)
def test_epochs_partition_the_data(backend, n, data, drop_last, seed):
    """Partition, batch count, the gradient-sum identity (b | n) and reshuffling.

    The sum of the epoch's minibatch gradients is compared with (n / b) grad L; both are sums of
    the same n per-example terms, so they agree to (n + d) eps relative to the sum of the terms'
    magnitudes. Reshuffling: two independent uniform orders of n items coincide with probability
    1/n!, checked only where 1/n! <= FALSE_FAILURE (n >= 15): false-failure probability <=
    FALSE_FAILURE per example.
    """
    check = Check(EPOCH, backend)
    host_check = Check(EPOCH, HOST)
    b = data.draw(st.integers(1, n))
    rng = np.random.default_rng(seed)
    epoch = epoch_batches(n, b, rng=rng, drop_last=drop_last)
    flat = [i for B in epoch for i in B]
    if drop_last:
        with clause("b"):
            assert len(set(flat)) == len(flat), "batches must be disjoint"
            assert len(epoch) == n // b and all(len(B) == b for B in epoch)
    else:
        with clause("a"):
            assert len(set(flat)) == len(flat), "batches must be disjoint"
            assert len(epoch) == -(-n // b) and sorted(flat) == list(range(n))
            assert all(len(B) == b for B in epoch[:-1])
            assert len(epoch[-1]) == (b if n % b == 0 else n % b)
    d = 3
    X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    bb = data.draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]))
    Xb, yb, wb = backend.asarray(X), backend.asarray(y), backend.asarray(w)
    total = sum(
        backend.to_numpy(minibatch_grad(wb, Xb, yb, B)) for B in epoch_batches(n, bb, rng=rng)
    )
    terms = 2 * np.abs(X) * (np.abs(X) @ np.abs(w) + np.abs(y))[:, None]
    with clause("c"):
        check.assert_close(
            total,
            (n / bb) * 2 * X.T @ (X @ w - y),
            kind="identity",
            dim=n + d,
            scale=(n / bb) * float(np.linalg.norm(terms.sum(axis=0))),
            what="sum of an epoch's g_B vs (n/b) grad L",
        )
    rng_s = np.random.default_rng(seed)
    fixed = batch_schedule(n, 1, 2 * n, scheme="epoch", rng=rng_s, reshuffle=False)
    with clause("e"):
        assert fixed[:n] == fixed[n:], "without reshuffling the order repeats"
        if math.factorial(n) * FALSE_FAILURE >= 1:  # two uniform orders coincide w.p. 1/n!
            fresh = batch_schedule(n, 1, 2 * n, scheme="epoch", rng=np.random.default_rng(seed))
            assert fresh[:n] != fresh[n:], "reshuffling must change the order"
    # Each block of a uniform permutation is a uniform b-subset (exact, small n).
    if n <= 5:
        with clause("d"):
            law: dict[tuple[int, ...], float] = {}
            for B, p in enumerate_batches(n, b, scheme="epoch"):
                law[tuple(sorted(B))] = law.get(tuple(sorted(B)), 0.0) + p
            # each p sums b! equal rounded terms 1 / perm(n, b): (b! + 1) u of it, and 1 / comb
            # rounds once: within identity's 4 x (b! + 1) x eps
            host_check.assert_entrywise(
                np.array(list(law.values())),
                1 / math.comb(n, b),
                kind="identity",
                dim=math.factorial(b) + 1,
                what="law of a block",
            )
            assert len(law) == math.comb(n, b)
            # ... and so does every full block position k, over all n! equally likely orders
            for k in range(n // b):
                counts = Counter(frozenset(o[k * b : (k + 1) * b]) for o in permutations(range(n)))
                assert len(counts) == math.comb(n, b)
                assert set(counts.values()) == {math.factorial(n) // math.comb(n, b)}


def expected_iterate(backend, X, y, w0, lr, batches, steps):
    """E w_T over all batch sequences (each step independent, law `batches`), by depth-first runs.

    Returns (E w_T, E ||w_T||^2, max ||w_t|| over all nodes) computed with dlcore's minibatch_grad
    and sgd, accumulated on the host in float64.
    """
    Xb, yb = backend.asarray(X), backend.asarray(y)
    opt = sgd(lr)
    mean = np.zeros(X.shape[1])
    second = 0.0
    biggest = 0.0

    def visit(params, prob, depth):
        nonlocal mean, second, biggest
        w = backend.to_numpy(params["w"])
        biggest = max(biggest, float(np.linalg.norm(w)))
        if depth == steps:
            mean += prob * w
            second += prob * float(w @ w)
            return
        for B, p in batches:
            updates, _ = opt.update(
                {"w": minibatch_grad(params["w"], Xb, yb, B)}, opt.init(params), params
            )
            visit({"w": params["w"] + updates["w"]}, prob * p, depth + 1)

    visit({"w": backend.asarray(w0)}, 1.0, 0)
    return mean, second, biggest


@claim(MEAN)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 4), d=(1, 3), rank="any", max_cond=10.0),
    scheme=st.sampled_from(["with", "without"]),
    b=st.integers(1, 2),
    c=st.floats(0.1, 1.9),
    data=st.data(),
    seed=seeds,
)
def test_mean_sgd_iterate_is_the_gd_iterate(backend, problem, scheme, b, c, data, seed):
    """Exact E w_t over every batch sequence (at most 256) against dlcore's GD iterate w_t.

    Every path is a product of t affine steps; rounding is (n + d) eps per step relative to the
    largest iterate on any path (dim = (n + d) t, cond = 1 + max lr ||A_B|| <= 1 + n c bounds the
    amplification of one step's rounding).
    """
    check = Check(MEAN, backend)
    n, d = problem.n, problem.d
    b = min(b, n)
    batches = enumerate_batches(n, b, scheme=scheme)
    max_t = max(1, int(math.log(MAX_PATHS) / math.log(len(batches)))) if len(batches) > 1 else 4
    steps = data.draw(st.integers(1, min(4, max_t)))
    lr = c / (2 * problem.sigma_max**2)
    w0 = np.random.default_rng(seed).standard_normal(d)
    mean, _, biggest = expected_iterate(backend, problem.X, problem.y, w0, lr, batches, steps)
    Xb, yb = backend.asarray(problem.X), backend.asarray(problem.y)
    wT, _ = run(
        sgd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], Xb, yb)},
        {"w": backend.asarray(w0)},
        steps,
    )
    with clause("a"):
        check.assert_close(
            mean,
            backend.to_numpy(wT["w"]),
            cond=(1 + n * c / b) ** steps,
            dim=(n + d) * steps,
            scale=max(biggest, 1.0),
            what=f"E w_{steps} over {len(batches)}^{steps} paths vs GD",
        )


@claim(DIVERGE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    a=log_uniform(0.1, 10.0),
    step=st.floats(1.05, 1.95),
    theta=st.floats(-2.0, 2.0),
    e0=st.floats(0.5, 2.0),
    steps=st.integers(1, 8),
)
def test_gd_stable_step_diverges_in_mean_square_under_sgd(backend, a, step, theta, e0, steps):
    """n = 2, x_1 = 0, x_2 = a, y = X theta; lr = step / lambda_max with lambda_max = 2 a^2.

    lambda_max is the top eigenvalue of the Hessian 2 X^T X (numpy oracle, d eps). dlcore's GD
    error after t steps is (1 - step)^t e_0, and one SGD step from theta + e_0 with batch [0] or
    [1] multiplies the error by 1 or 1 - 2 step (a few operations: dim 4, scale |theta| + e_0).
    Enumerates all 2^t equally likely paths of b = 1 SGD with replacement (dlcore runs): E e_t and
    E e_t^2 match (1 - step)^t e_0 and (1/2 + (1 - 2 step)^2 / 2)^t e_0^2, the latter growing while
    GD's |e_t| shrinks. Each path has |factor| <= 2.9; its rounding is 2 eps per step relative to
    its own size (dim = 2 t), and the second moment doubles that. E log|factor| is the mean of
    the logs of the two measured factors (each off by the one-step tolerance relative to e_0).
    """
    host_check = Check(DIVERGE, HOST)
    check = Check(DIVERGE, backend)
    X, y = np.array([[0.0], [a]]), np.array([0.0, a * theta])
    lr = step / (2 * a**2)
    Xb, yb = backend.asarray(X), backend.asarray(y)
    _, traj = run(
        sgd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], Xb, yb)},
        {"w": backend.asarray(np.array([theta + e0]))},
        steps,
        record_every=1,
    )
    gd_err = np.array([backend.to_numpy(p["w"])[0] for p in traj]) - theta
    with clause("a"):
        lam = float(np.linalg.eigvalsh(2 * X.T @ X).max())
        assert abs(lam - 2 * a**2) <= host_check.tolerance(kind="identity", dim=2) * 2 * a**2
        check.assert_close(
            gd_err,
            (1 - step) ** np.arange(steps + 1) * e0,
            dim=4 * steps,
            scale=(abs(theta) + e0) * math.sqrt(steps + 1),
            what="GD error vs (1 - lr lambda_max)^t e_0",
        )
    one = check.tolerance(kind="identity", dim=4) * (abs(theta) + e0)
    factors = [
        (float(sgd_path(backend, X, y, np.array([theta + e0]), lr, [[i]])[-1, 0]) - theta) / e0
        for i in (0, 1)
    ]
    with clause("b"):
        assert abs(factors[0] - 1) <= one / e0 and abs(factors[1] - (1 - 2 * step)) <= one / e0
    batches = enumerate_batches(2, 1, scheme="with")
    assert [p for _, p in batches] == [0.5, 0.5]
    mean, second, _ = expected_iterate(backend, X, y, np.array([theta + e0]), lr, batches, steps)
    m2 = (0.5 + 0.5 * (1 - 2 * step) ** 2) ** steps * e0**2
    with clause("d"):
        check.assert_close(
            second - 2 * theta * mean[0] + theta**2,
            m2,
            kind="identity",
            dim=4 * steps,
            scale=m2 + theta**2 + abs(theta) * math.sqrt(m2),
            what="E e_t^2",
        )
    with clause("c"):
        check.assert_close(
            mean - theta,
            [(1 - step) ** steps * e0],
            kind="identity",
            dim=2 * steps,
            scale=math.sqrt(m2) + abs(theta),
            what="E e_t (GD's error)",
        )
    with clause("e"):  # |1 - 2 step| >= 1.1 and 1: log is 1-Lipschitz near both factors
        mean_log = 0.5 * (math.log(abs(factors[0])) + math.log(abs(factors[1])))
        assert abs(mean_log - 0.5 * math.log(abs(1 - 2 * step))) <= 10 * one / e0
    with clause("f"):
        assert 0.5 + 0.5 * (1 - 2 * step) ** 2 > 1 > abs(1 - step)  # SGD grows, GD contracts
        assert 0.5 * math.log(abs(1 - 2 * step)) > 0  # almost surely: E log|factor| > 0
        assert abs(gd_err[-1]) < abs(gd_err[0])


@claim(TUG)
@pytest.mark.parametrize("backend", backend_params())
@given(
    tall=regression_problems(n=(3, 10), d=(1, 4), shape="tall", max_cond=10.0),
    wide=regression_problems(n=(1, 5), d=(2, 8), shape="wide", max_cond=10.0),
    noise=st.floats(0.5, 2.0),
    seed=seeds,
)
@example(  # issue 12 sweep, seed 1426498740: n = 1 attains the bound; float32 rounding
    tall=make_problem(n=8, d=1, svals=[1.0], seed=0),
    wide=make_problem(n=1, d=3, svals=[1.0], seed=2550194),
    noise=1.0,
    seed=86,
)
def test_per_example_gradients_balance_at_the_optimum(backend, tall, wide, noise, seed):
    """Tall and noisy: sum_i grad l_i(theta_LS) = 0 but some grad l_i is far from 0.

    Wide and consistent: at every interpolant every enumerated minibatch gradient is 0, and at a
    non-interpolant w = w_hat + X^T u some singleton gradient is at least 2 sigma_min^3 ||u|| /
    sqrt(n) in size. Rounding: (n + d) eps relative to the sum of the terms' magnitudes.
    """
    check = Check(TUG, backend)
    rng = np.random.default_rng(seed)
    n, d = tall.n, tall.d
    theta = rng.standard_normal(d)
    nu = tall.U[:, tall.rank :] @ rng.standard_normal(n - tall.rank)
    nu *= noise / np.linalg.norm(nu)
    y = tall.X @ theta + nu  # theta_LS = theta, residual r = -nu
    Xb, yb = backend.asarray(tall.X), backend.asarray(y)
    G = backend.to_numpy(per_example_grads(backend.asarray(theta), Xb, yb))
    terms = 2 * np.abs(tall.X) * (np.abs(tall.X) @ np.abs(theta) + np.abs(y))[:, None]
    with clause("a"):
        check.assert_close(
            G.sum(axis=0),
            np.zeros(d),
            dim=n + d,
            scale=float(np.linalg.norm(terms.sum(axis=0))),
            what="sum_i grad l_i(theta_LS)",
        )
    with clause("b"):
        _check_gradients_at_ls(G, 2 * tall.X * (-nu)[:, None], terms, claim=TUG, backend=backend)
    # Wide, consistent: interpolants are fixed points of every SGD update.
    n, d = wide.n, wide.d
    V0 = wide.V[:, wide.rank :]
    w_hat = wide.V[:, : wide.rank] @ ((wide.U.T @ wide.y)[: wide.rank] / wide.svals)
    w_hat = w_hat + V0 @ rng.standard_normal(d - wide.rank)
    Xb, yb, wb = backend.asarray(wide.X), backend.asarray(wide.y), backend.asarray(w_hat)
    scale = (
        2
        * n
        * float(np.linalg.norm(wide.X))
        * (
            float(np.linalg.norm(wide.X)) * float(np.linalg.norm(w_hat))
            + float(np.linalg.norm(wide.y))
        )
    )
    # A zero row appended with any target: it is never fit, yet it never moves SGD, so w_hat
    # stays a fixed point of every update (the "for every i with x_i != 0" of the clause).
    X0 = np.vstack([wide.X, np.zeros((1, d))])
    y0 = np.append(wide.y, rng.standard_normal())
    X0b, y0b = backend.asarray(X0), backend.asarray(y0)
    with clause("c"):
        for b in range(1, n + 1):
            for B, _ in enumerate_batches(n, b, scheme="without"):
                check.assert_close(
                    minibatch_grad(wb, Xb, yb, B),
                    np.zeros(d),
                    dim=n + d,
                    scale=scale,
                    what=f"g_B at an interpolant, B = {B}",
                )
        for b in range(1, n + 2):
            for B, _ in enumerate_batches(n + 1, b, scheme="without"):
                check.assert_close(
                    minibatch_grad(wb, X0b, y0b, B),
                    np.zeros(d),
                    dim=n + 1 + d,
                    scale=scale * (n + 1) / n,
                    what=f"g_B with a zero row, B = {B}",
                )
    u = rng.standard_normal(n)
    w = w_hat + wide.X.T @ u
    singles = [backend.to_numpy(minibatch_grad(backend.asarray(w), Xb, yb, [i])) for i in range(n)]
    biggest = max(float(np.linalg.norm(g)) for g in singles)
    x_norms = np.linalg.norm(wide.X, axis=1)
    # Rounding: g_i = 2 x_i (x_i^T w - y_i) is formed from x_i^T w and y_i, which cancel (w is
    # an interpolant plus X^T u), so its error is absolute, (n + d) eps times
    # 2 |x_i| (|x_i| |w| + |y_i|); at n = 1 the bound below is attained exactly.
    rounding = check.tolerance(kind="identity", dim=n + d) * float(
        2 * x_norms.max() * (x_norms.max() * np.linalg.norm(w) + np.abs(wide.y).max())
    )
    with clause("c"):
        assert (
            biggest
            >= 2 * n * wide.sigma_min**2 * float(np.linalg.norm(u)) / math.sqrt(n) * x_norms.min()
            - rounding
        )


@claim(FLOOR)
@pytest.mark.parametrize("backend", backend_params())
@given(
    n=st.integers(2, 3),
    steps=st.integers(1, 5),
    gamma=st.floats(0.1, 1.9),
    seed=seeds,
)
def test_noise_floor_recursion_by_path_enumeration(backend, n, steps, gamma, seed):
    """Mean estimation (X = ones, b = 1 with replacement), lr = gamma / (2 n), from theta_0.

    (a) In general (numpy, random vectors g_i of sum 0, not all 0): for every 1 <= b < m, taking
    i, j with the largest ||g_i - g_j||, a b-subset S with i but not j and S - i + j have sums
    differing by g_i - g_j, so one has norm >= max ||g_i - g_j|| / 2 > 0 (float64 sums of b
    terms: b eps of sum ||g_i||). For dlcore's mean estimation at ybar some singleton gradient is
    at least n max |y_i - y_j| in size, and every b-subset size has one of size (n / b) R.
    (b) E e_t^2 over all n^t paths equals the recursion e' = (1 - gamma)^2 e + gamma^2 sigma^2,
    whose fixed point gamma sigma^2 / (2 - gamma) is positive and increasing in gamma. Rounding:
    each path is a product of t factors |1 - gamma| < 1 plus bounded noise: 2 t eps relative to
    the largest squared iterate (dim = 2 t (n + 1)).
    """
    check = Check(FLOOR, backend)
    host_check = Check(FLOOR, HOST)
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(n)
    y[0] = y[1] + rng.choice([-1, 1]) * rng.uniform(0.5, 2.0)  # not constant
    ybar, sigma2 = float(y.mean()), float(y.var())
    X = np.ones((n, 1))
    Xb, yb = backend.asarray(X), backend.asarray(y)
    m = int(rng.integers(2, 7))
    g = rng.standard_normal((m, int(rng.integers(1, 4))))
    g -= g.mean(axis=0)
    spread = max(float(np.linalg.norm(gi - gj)) for gi in g for gj in g)
    with clause("a"):
        assert spread > 0
        for b in range(1, m):
            sums = [
                float(np.linalg.norm(g[list(S)].sum(axis=0))) for S in combinations(range(m), b)
            ]
            tol = host_check.tolerance(kind="identity", dim=b) * float(
                np.linalg.norm(g, axis=1).sum()
            )
            assert max(sums) >= spread / 2 - tol, f"some {b}-subset sum is nonzero"
    singles = [
        abs(
            float(
                backend.to_numpy(minibatch_grad(backend.asarray(np.array([ybar])), Xb, yb, [i]))[0]
            )
        )
        for i in range(n)
    ]
    # max_i |c - y_i| >= (y_max - y_min) / 2 for every c, so the rounding of ybar does not
    # matter; g_i = 2 n (ybar - y_i) after casting y and ybar (two roundings) and three operations
    # in minibatch_grad: tolerance(identity, dim 5) of the terms' size 2 n (|ybar| + max |y|).
    term = 2 * n * (abs(ybar) + float(np.abs(y).max()))
    with clause("a"):
        check.assert_at_least(
            max(singles), n * (y.max() - y.min()), kind="identity", dim=5, scale=term
        )
    # every 1 <= b < n: swapping one index changes the batch sum by y_max - y_min, so some b-subset
    # has |sum_B (y_i - ybar)| >= (y_max - y_min) / 2, i.e. |g_B| >= (n / b)(y_max - y_min)
    for b in range(2, n):
        batch_grads = [
            abs(
                float(
                    backend.to_numpy(minibatch_grad(backend.asarray(np.array([ybar])), Xb, yb, B))[
                        0
                    ]
                )
            )
            for B, _ in enumerate_batches(n, b, scheme="without")
        ]
        with clause("a"):  # as for singletons, with b terms summed: dim b + 4
            check.assert_at_least(
                max(batch_grads),
                (n / b) * (y.max() - y.min()),
                kind="identity",
                dim=b + 4,
                scale=term,
                what=f"b = {b}",
            )
    theta0 = ybar + rng.uniform(-2, 2)
    lr = gamma / (2 * n)
    mean, second, biggest = expected_iterate(
        backend, X, y, np.array([theta0]), lr, enumerate_batches(n, 1, scheme="with"), steps
    )
    m2 = (theta0 - ybar) ** 2
    for _ in range(steps):
        m2 = (1 - gamma) ** 2 * m2 + gamma**2 * sigma2
    with clause("b"):
        check.assert_close(
            second - 2 * ybar * mean[0] + ybar**2,
            m2,
            dim=2 * steps * (n + 1),
            scale=biggest**2 + ybar**2,
            what="E (theta_t - ybar)^2",
        )
    floor = gamma * sigma2 / (2 - gamma)
    # the recursion is affine with slope (1 - gamma)^2 < 1, so it converges to its fixed point
    with clause("c"):
        assert (1 - gamma) ** 2 < 1
        check.assert_close(
            (1 - gamma) ** 2 * floor + gamma**2 * sigma2,
            floor,
            what="fixed point of the recursion",
        )
    with clause("d"):
        grid = np.linspace(gamma, 1.99, 20)  # steps of >= 0.004: far above float64 rounding
        assert floor > 0 and (np.diff(grid * sigma2 / (2 - grid)) > 0).all()
        # unbounded: at gamma = 2 - 1/k the floor is (2k - 1) sigma^2 >= k sigma^2
        assert all((2 - 1 / k) * sigma2 / (1 / k) >= k * sigma2 for k in (10, 100, 1000))
        # about gamma sigma^2 / 2 for small steps: the ratio is 2 / (2 - gamma) = 1 + O(gamma)
        # the same rounded gamma sigma^2 and 2 - gamma on both sides: the two quotients and the
        # quotient of the ratio, 3 u, within identity's 4 eps
        host_check.assert_entrywise(
            floor / (gamma * sigma2 / 2), 2 / (2 - gamma), kind="identity", what="floor ratio"
        )


def stream_sgd(backend, x: np.ndarray, m0: float, gammas: np.ndarray) -> np.ndarray:
    """SGD on the stream x (X = ones, batch [k] at step k) with dimensionless steps gamma_k."""
    N = len(x)
    return sgd_path(
        backend,
        np.ones((N, 1)),
        x,
        np.array([m0]),
        np.asarray(gammas) / (2 * N),
        [[k] for k in range(N)],
    )[:, 0]


@claim(RUNNING)
@pytest.mark.parametrize("backend", backend_params())
@given(
    x=st.lists(st.floats(-100, 100), min_size=1, max_size=200),
    m0=st.floats(-100, 100),
)
def test_running_average_is_sgd_with_step_one_over_k(backend, x, m0):
    """dlcore SGD with gamma_k = 1/k (lr_k = 1 / (2 N k)) gives mean(x[:k]) at every k.

    Each step rounds once relative to max |x| (the iterates stay in the data's range), and the
    running mean forgets old errors only as (k-1)/k, so the error after k steps is at most
    k eps max |x| (dim = 4 N, the 4 for the residual, scaling and step). For k >= 2 the move is
    at most R / k with R = max x - min x (m_{k-1} lies in the data's range), checked with the
    same tolerance.
    """
    check = Check(RUNNING, backend)
    xs = np.array(x)
    N = len(xs)
    m = stream_sgd(backend, xs, m0, 1 / np.arange(1, N + 1))
    with clause("a", "b"):
        check.assert_close(
            m[1:],
            np.cumsum(xs) / np.arange(1, N + 1),
            dim=4 * N,
            scale=max(float(np.abs(xs).max()), abs(m0), 1.0) * math.sqrt(N),
            what="SGD(1/k) vs running mean",
        )
    moves = np.abs(np.diff(m))
    with clause("c"):
        check.assert_close(
            moves[1:],
            np.abs(xs[1:] - m[1:-1]) / np.arange(2, N + 1),
            dim=4 * N,
            scale=max(float(np.abs(xs).max()), 1.0) * math.sqrt(N),
            what="|m_k - m_{k-1}|",
        )
    tol = (
        check.tolerance(kind="identity", dim=4 * N)
        * math.sqrt(N)
        * max(float(np.abs(xs).max()), 1.0)
    )
    R = float(xs.max() - xs.min())
    with clause("d"):
        assert (moves[1:] <= R / np.arange(2, N + 1) + tol).all()


@claim(EMA)
@pytest.mark.parametrize("backend", backend_params())
@given(
    x=st.lists(st.floats(-100, 100), min_size=1, max_size=100),
    m0=st.floats(-100, 100),
    gamma=st.one_of(st.just(1.0), st.floats(0.01, 1.0)),
)
def test_constant_step_sgd_is_an_ema(backend, x, m0, gamma):
    """dlcore SGD with constant gamma equals the closed-form EMA at every t; the weights are
    nonnegative, geometric with ratio 1 - gamma, and sum to 1 - (1-gamma)^t; every iterate lies
    between min and max of (m_0, x_1, ..., x_t); at gamma = 1, m_t = x_t for every t >= 1.

    Rounding: one relative eps per step on values bounded by max(|x|, |m0|), not amplified
    (|1 - gamma| <= 1): dim = 4 N, relative to that bound times sqrt(N + 1) (the norm over the
    N + 1 iterates). The range check uses the same tolerance: each iterate's error is at most the
    norm's, and the exact closed form lies in the range.
    """
    check = Check(EMA, backend)
    host_check = Check(EMA, HOST)
    xs = np.array(x)
    N = len(xs)
    m = stream_sgd(backend, xs, m0, np.full(N, gamma))
    closed = [
        (1 - gamma) ** t * m0
        + sum(gamma * (1 - gamma) ** (t - s) * xs[s - 1] for s in range(1, t + 1))
        for t in range(N + 1)
    ]
    bound = max(float(np.abs(xs).max()), abs(m0), 1.0)
    scale = bound * math.sqrt(N + 1)
    with clause("a"):
        check.assert_close(m, closed, dim=4 * N, scale=scale, what="SGD vs EMA")
    weights = [gamma * (1 - gamma) ** (N - s) for s in range(1, N + 1)]
    with clause("b"):
        assert all(w >= 0 for w in weights)
        # the same rounded 1 - gamma on both sides: a power (< 1 ulp) and two products each,
        # 6 u relatively, within equivalence's 8 eps
        host_check.assert_entrywise(
            np.array(weights[:-1]),
            (1 - gamma) * np.array(weights[1:]),
            kind="equivalence",
            what="geometric weights",
        )
        # N terms <= 1 summed, and 1 - (1 - gamma)^N: (N + 4) u absolutely <= 4 N eps (N <= 100)
        host_check.assert_entrywise(
            sum(weights), 1 - (1 - gamma) ** N, kind="identity", dim=N, scale=1.0, what="sum"
        )
    tol = check.tolerance(kind="identity", dim=4 * N) * scale
    pool = np.concatenate([[m0], xs])
    with clause("c"):
        for t in range(N + 1):  # a convex combination of m_0, x_1, ..., x_t
            assert pool[: t + 1].min() - tol <= m[t] <= pool[: t + 1].max() + tol, f"t = {t}"
    if gamma == 1.0:
        with clause("d"):
            check.assert_close(m[1:], xs, dim=4, scale=scale, what="gamma = 1")


FAR = "sgd.small-batches-suffice-far-from-optimum"
ROBBINS = "sgd.diminishing-step-size-converges"
WALK = "sgd.oscillation-versus-random-walk"
LMS = "sgd.lms-is-sgd"


def path_expectation(backend, X, y, w0, lrs, batches, f):
    """E f(w_0, ..., w_T) over every batch sequence (T = len(lrs), law `batches` per step), with
    dlcore's sgd and minibatch_grad, accumulated on the host in float64. Returns (E f, max |w|)."""
    Xb, yb = backend.asarray(X), backend.asarray(y)
    total, biggest = 0.0, 0.0

    def visit(params, prob, path):
        nonlocal total, biggest
        w = backend.to_numpy(params["w"])
        biggest = max(biggest, float(np.linalg.norm(w)))
        path = [*path, w]
        if len(path) == len(lrs) + 1:
            total += prob * f(path)
            return
        opt = sgd(float(lrs[len(path) - 1]))
        for B, p in batches:
            upd, _ = opt.update(
                {"w": minibatch_grad(params["w"], Xb, yb, B)}, opt.init(params), params
            )
            visit({"w": params["w"] + upd["w"]}, prob * p, path)

    visit({"w": backend.asarray(w0)}, 1.0, [])
    return total, biggest


@claim(FAR)
@pytest.mark.parametrize("backend", backend_params())
@given(
    y=st.lists(st.floats(-5, 5), min_size=3, max_size=6),
    spread=st.floats(0.1, 5.0),
    delta=log_uniform(1e-2, 1e2),
    side=st.sampled_from([-1.0, 1.0]),
    data=st.data(),
)
def test_far_from_the_optimum_every_batch_points_the_same_way(
    backend, y, spread, delta, side, data
):
    """theta = max y + delta (side = +1) or min y - delta (side = -1): every enumerated minibatch
    gradient (all b-subsets, b < n, and all n^b tuples with replacement where n^b <= 64)
    has the sign of grad L and relative deviation <= (max y - min y) / delta, delta the distance
    from theta to [min y, max y] (on the side -1 the old bound (max y - min y) / (theta - max y)
    is negative, and fails). At theta = ybar, grad L = 0 and the b-subset gradients take both
    signs: with d_i = y_i - ybar (sum 0), the b largest have
    sum = (1/n) sum_{i in top, j not} (d_i - d_j) >= R / n (R = max y - min y; the pair of the
    largest and smallest is among the terms), so some g_B <= -2 R / b, and symmetrically some
    g_B >= 2 R / b. Rounding: a few operations on values of size |theta| + max|y| (at ybar:
    2 max |y|).
    """
    check = Check(FAR, backend)
    ya = np.array(y)
    ya[0] = ya[1] + spread  # not constant, by construction
    n = len(ya)
    b = data.draw(st.integers(1, n - 1))
    X, yb = backend.asarray(np.ones((n, 1))), backend.asarray(ya)
    theta = float(ya.max() + delta) if side > 0 else float(ya.min() - delta)
    full = 2 * n * (theta - ya.mean())
    scale = 2 * n * (abs(theta) + float(np.abs(ya).max()))
    tol = check.tolerance(kind="bound", dim=4) * scale
    batches = enumerate_batches(n, b, scheme="without")
    if n**b <= 64:  # the with-replacement tuples too, where they are few
        batches += enumerate_batches(n, b, scheme="with")
    wt = backend.asarray(np.array([theta]))
    G_far = [float(backend.to_numpy(minibatch_grad(wt, X, yb, B))[0]) for B, _ in batches]
    with clause("a"):
        assert side * full > 0 and all(side * g > 0 for g in G_far)
    with clause("b"):
        for g in G_far:
            assert abs(g - full) <= (ya.max() - ya.min()) / delta * abs(full) + tol
    ybar = backend.asarray(np.array([ya.mean()]))
    G = [
        float(backend.to_numpy(minibatch_grad(ybar, X, yb, B))[0])
        for B, _ in enumerate_batches(n, b, scheme="without")
    ]
    tol0 = check.tolerance(kind="bound", dim=4) * 4 * n * float(np.abs(ya).max())
    R = float(ya.max() - ya.min())
    with clause("c"):
        check.assert_close(
            squared_loss_grad(ybar, X, yb),
            np.zeros(1),
            kind="bound",
            dim=n + 1,
            scale=scale,
            what="grad L at ybar",
        )
        assert max(G) >= 2 * R / b - tol0 and min(G) <= -2 * R / b + tol0
        assert 2 * R / b > 2 * tol0, "design: both signs far above rounding"


@claim(ROBBINS)
@pytest.mark.parametrize("backend", backend_params())
@given(n=st.integers(2, 3), steps=st.integers(1, 5), theta0=st.floats(-5, 5), seed=seeds)
def test_step_one_over_t_has_error_sigma2_over_t(backend, n, steps, theta0, seed):
    """Mean estimation, b = 1 with replacement, lr_t = 1 / (2 n t): over all n^T paths (dlcore
    runs) E (theta_T - ybar)^2 = sigma^2 / T exactly. Rounding: each path averages T samples,
    T eps relative to (max |y|)^2 (dim 4 T). Along a seeded path, theta_t is the mean of the t
    sampled y's (the running-mean test's error model: dim 4 T, relative to max(|y|, |theta_0|)
    times sqrt(T), the norm over the T iterates)."""
    check = Check(ROBBINS, backend)
    y = np.random.default_rng(seed).standard_normal(n)
    lrs = [1 / (2 * n * t) for t in range(1, steps + 1)]
    ybar = float(y.mean())
    sched = batch_schedule(n, 1, steps, scheme="with", rng=np.random.default_rng(seed + 1))
    W = sgd_path(backend, np.ones((n, 1)), y, np.array([theta0]), lrs, sched)[1:, 0]
    with clause("a"):
        sampled = y[[B[0] for B in sched]]
        check.assert_close(
            W,
            np.cumsum(sampled) / np.arange(1, steps + 1),
            dim=4 * steps,
            scale=max(float(np.abs(y).max()), abs(theta0), 1.0) * math.sqrt(steps),
            what="theta_t vs the mean of the sampled y's",
        )
    m2, _ = path_expectation(
        backend,
        np.ones((n, 1)),
        y,
        np.array([theta0]),
        lrs,
        enumerate_batches(n, 1, scheme="with"),
        lambda path: float(path[-1][0] - ybar) ** 2,
    )
    scale = float(np.abs(y).max()) ** 2 + abs(theta0) * float(np.abs(y).max())
    with clause("b"):
        check.assert_close(
            m2,
            float(y.var()) / steps,
            dim=4 * steps,
            scale=scale,
            what="E e_T^2 vs sigma^2 / T",
        )


@claim(WALK)
@pytest.mark.parametrize("backend", backend_params())
@given(
    n=st.integers(2, 3),
    steps=st.integers(1, 5),
    gamma=st.floats(0.05, 0.95),
    theta0=st.floats(-3, 3),
    seed=seeds,
)
def test_sgd_errors_are_positively_correlated_not_alternating(
    backend, n, steps, gamma, theta0, seed
):
    """Mean estimation, b = 1 with replacement, constant gamma: over all n^T paths
    E[e_T e_{T-1}] = (1 - gamma) E[e_{T-1}^2] exactly (AR(1)); contrast: dlcore GD at
    lr lambda = 2 - gamma flips sign every step, and at lr lambda = gamma it is positive and
    decreasing (factor 1 - gamma >= 0.05, far above rounding); both follow (1 - lr lambda)^t
    (dim 4 T, scale 1). One dlcore SGD step from theta_0 with batch [i] gives
    (1 - gamma) e_0 + gamma (y_i - ybar) (a few operations: dim 4, scale |theta_0| + max |y|).
    Rounding of the expectations: T eps relative to the squared scale."""
    host_check = Check(WALK, HOST)
    check = Check(WALK, backend)
    y = np.random.default_rng(seed).standard_normal(n)
    ybar = float(y.mean())
    lrs = [gamma / (2 * n)] * steps
    X = np.ones((n, 1))
    with clause("b"):
        xi = y - ybar
        assert abs(float(xi.mean())) <= host_check.tolerance(kind="identity", dim=2 * n) * float(
            np.abs(y).max()
        ), "xi is centred"
        one_step = [
            sgd_path(backend, X, y, np.array([theta0]), lrs[0], [[i]])[-1, 0] for i in range(n)
        ]
        check.assert_close(
            np.array(one_step) - ybar,
            (1 - gamma) * (theta0 - ybar) + gamma * xi,
            dim=4,
            scale=(abs(theta0) + float(np.abs(y).max())) * math.sqrt(n),
            what="e_1 = (1 - gamma) e_0 + gamma xi",
        )
    batches = enumerate_batches(n, 1, scheme="with")
    args = (backend, X, y, np.array([theta0]), lrs, batches)
    # one enumeration for the three moments: E e_T e_{T-1}, E e_{T-1}^2 and E e_T e_0
    moments, big = path_expectation(
        *args,
        lambda p: (
            (p[-1][0] - ybar) * np.array([p[-2][0] - ybar, 0.0, p[0][0] - ybar])
            + np.array([0.0, float(p[-2][0] - ybar) ** 2, 0.0])
        ),
    )
    cross, prev, far = (float(v) for v in moments)
    scale = (big + abs(ybar)) ** 2
    with clause("c", "d"):
        check.assert_close(
            cross,
            (1 - gamma) * prev,
            dim=4 * steps,
            scale=scale,
            what="E e_T e_{T-1}",
        )
    with clause("e"):  # e_0 is deterministic: E[e_T e_0] = (1 - gamma)^T e_0^2
        check.assert_close(
            far,
            (1 - gamma) ** steps * (theta0 - ybar) ** 2,
            dim=4 * steps,
            scale=scale,
            what="E e_T e_0",
        )
    with clause("d"):  # gamma < 1: the lag-1 covariance (1 - gamma) E e^2 is >= 0
        assert 1 - gamma > 0
        assert cross >= -check.tolerance(kind="identity", dim=4 * steps) * scale
    X1, y1 = backend.asarray(np.ones((1, 1))), backend.asarray(np.zeros(1))
    _, traj = run(
        sgd((2 - gamma) / 2),
        lambda p, t: {"w": squared_loss_grad(p["w"], X1, y1)},
        {"w": backend.asarray(np.array([1.0]))},
        steps,
        record_every=1,
    )
    e = np.array([backend.to_numpy(p["w"])[0] for p in traj])
    ts = np.arange(steps + 1)
    with clause("a"):
        check.assert_close(e, (gamma - 1) ** ts, dim=4 * steps, what="GD, 2 - gamma")
        assert (np.sign(e[1:]) == -np.sign(e[:-1])).all()
    # ... and at lr lambda = gamma in (0, 1) it is monotone: e_t = (1 - gamma)^t > 0, decreasing
    _, traj = run(
        sgd(gamma / 2),
        lambda p, t: {"w": squared_loss_grad(p["w"], X1, y1)},
        {"w": backend.asarray(np.array([1.0]))},
        steps,
        record_every=1,
    )
    e = np.array([backend.to_numpy(p["w"])[0] for p in traj])
    with clause("a"):
        check.assert_close(e, (1 - gamma) ** ts, dim=4 * steps, what="GD, gamma")
        assert (e > 0).all() and (np.diff(e) < 0).all()


@claim(LMS)
@pytest.mark.parametrize("backend", backend_params())
@given(N=st.integers(1, 30), d=st.integers(1, 6), mu=log_uniform(1e-3, 1.0), seed=seeds)
def test_lms_update_is_one_sgd_step(backend, N, d, mu, seed):
    """Along a stream of N samples, dlcore SGD (b = 1, batch [t], lr = mu / (2N)) equals the LMS
    recursion w + mu (y_t - w^T x_t) x_t computed in float64; rounding: d + 2 operations per step
    on values of the scale, accumulated over the N steps (dim (d + 2) N, cond = 1 + mu max |x|^2).

    The LMS increments are also compared with mu times torch autograd of (1/2)(y_t - w^T x_t)^2
    and mu / 2 times autograd of (y_t - w^T x_t)^2 at each LMS iterate w_t (float64 oracle, d + 2
    operations per row relative to mu |x_t| (|x_t| |w_t| + |y_t|) + |w_t| + |w_{t+1}|)."""
    host_check = Check(LMS, HOST)
    check = Check(LMS, backend)
    import torch

    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((N, d)) / math.sqrt(d), rng.standard_normal(N)
    w = np.zeros(d)
    lms = [w]
    for t in range(N):
        w = w + mu * (y[t] - w @ X[t]) * X[t]
        lms.append(w)
    L = np.array(lms)
    Wt = torch.tensor(L[:-1], requires_grad=True)
    resid = torch.as_tensor(y) - (Wt * torch.as_tensor(X)).sum(dim=1)
    (half,) = torch.autograd.grad((0.5 * resid**2).sum(), Wt, retain_graph=True)
    (full,) = torch.autograd.grad((resid**2).sum(), Wt)
    xn = np.linalg.norm(X, axis=1)
    # the increment's terms, plus the rounding of w_{t+1} = w_t + increment (eps |w_{t+1}|) and
    # of the comparison w_t - step * grad (eps |w_t|)
    row_scale = (
        mu * xn * (xn * np.linalg.norm(L[:-1], axis=1) + np.abs(y))
        + np.linalg.norm(L, axis=1)[:-1]
        + np.linalg.norm(L[1:], axis=1)
    )
    tol64 = host_check.tolerance(kind="identity", dim=d + 2)
    with clause("a"):
        err = np.linalg.norm(L[1:] - (L[:-1] - mu * half.numpy()), axis=1)
        assert (err <= tol64 * row_scale).all(), "LMS = SGD on (1/2) r^2 with step mu"
    with clause("b"):
        err = np.linalg.norm(L[1:] - (L[:-1] - mu / 2 * full.numpy()), axis=1)
        assert (err <= tol64 * row_scale).all(), "LMS = SGD on r^2 with step mu / 2"
    W = sgd_path(backend, X, y, np.zeros(d), mu / (2 * N), [[t] for t in range(N)])
    growth = (1 + mu * float(np.max(np.sum(X * X, axis=1)))) ** N
    with clause("c"):
        check.assert_close(
            W,
            L,
            cond=growth,
            dim=(d + 2) * N,
            scale=max(float(np.abs(L).max()), 1.0) * math.sqrt(W.size),
            what="SGD vs LMS",
        )


SECOND = "sgd.second-moment-stability-operator"


@claim(SECOND)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(2, 4), d=(1, 3), shape="tall", max_cond=3.0),
    c=st.floats(0.1, 1.9),
    steps=st.integers(1, 4),
    seed=seeds,
)
def test_second_moment_follows_the_operator(backend, problem, c, steps, seed):
    """E[e_t e_t^T] over all n^t paths of dlcore SGD (b = 1, with replacement) equals T^t(e0 e0^T),
    with T built as the d^2 x d^2 matrix (1/n) sum_i M_i (x) M_i; rho(T) >= rho(I - lr E A)^2 and,
    for lr = c / (2 n max ||x_i||^2) < 1 / (n max ||x_i||^2), rho(T) < 1. Rounding: t steps of
    (n + d) operations on iterates bounded by the largest one (second moments: twice that).

    One dlcore step from theta + e_0 with batch [i] gives M_i e_0 (dim n + d, scale of the
    iterate). T = (1/n) sum_i M_i (x) M_i is symmetric (each M_i is), so ||T^t P_0||_F <=
    rho(T)^t ||P_0||_F; checked on dlcore's E e_t e_t^T with the identity's tolerance. lambda_max
    of A_i (numpy eigvalsh, d eps) is 2 n ||x_i||^2."""
    host_check = Check(SECOND, HOST)
    check = Check(SECOND, backend)
    n, d = problem.n, problem.d
    X = problem.X
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(d)
    y = X @ theta
    lr = c / (2 * n * np.max(np.sum(X * X, axis=1)))
    e0 = rng.standard_normal(d)
    M = [np.eye(d) - lr * 2 * n * np.outer(x, x) for x in X]
    with clause("a"):
        for i in range(n):
            w1 = sgd_path(backend, X, y, theta + e0, lr, [[i]])[-1]
            check.assert_close(
                w1 - theta,
                M[i] @ e0,
                kind="identity",
                dim=n + d,
                scale=float(np.linalg.norm(theta + e0)) + float(np.linalg.norm(theta)),
                what=f"e_1 = (I - lr A_{i}) e_0",
            )
    T = sum(np.kron(m, m) for m in M) / n
    P = np.linalg.matrix_power(T, steps) @ np.outer(e0, e0).ravel()
    batches = enumerate_batches(n, 1, scheme="with")
    E, big = path_expectation(
        backend,
        X,
        y,
        theta + e0,
        [lr] * steps,
        batches,
        lambda p: np.outer(p[-1] - theta, p[-1] - theta),
    )
    e_scale = (big + float(np.linalg.norm(theta))) ** 2
    with clause("b"):
        check.assert_close(
            E.ravel(),
            P,
            kind="identity",
            dim=2 * (n + d) * steps,
            scale=e_scale,
            what="E e_t e_t^T vs T^t(e0 e0^T)",
        )
    rho_T = spectral_radius(T)
    with clause("c"):
        assert np.array_equal(T, T.T), "T is symmetric"
        e_tol = check.tolerance(kind="identity", dim=2 * (n + d) * steps) * e_scale
        assert np.linalg.norm(E) <= rho_T**steps * float(e0 @ e0) + e_tol
    EA = sum(2 * n * np.outer(x, x) for x in X) / n
    with clause("d"):
        # host float64: T's entries are sums of n products of M's entries (|M_ij| <= 1, three
        # operations each) and its eigenvalues carry d^2 eps ||T|| (||T|| <= 1); rho(I - lr EA)
        # carries (n + d) eps and is squared: dim d^2 + 2 (n + d) + 6 on the scale 1
        host_check.assert_at_least(
            rho_T,
            spectral_radius(np.eye(d) - lr * EA) ** 2,
            kind="bound",
            dim=d * d + 2 * (n + d) + 6,
            scale=1.0,
            what="rho(T) >= rho(I - lr E A)^2",
        )
    with clause("e"):
        lam = max(float(np.linalg.eigvalsh(2 * n * np.outer(x, x)).max()) for x in X)
        bound = 1 / (n * np.max(np.sum(X * X, axis=1)))
        assert abs(2 / lam - bound) <= host_check.tolerance(kind="identity", dim=d) * bound
        assert lr < bound and rho_T < 1


# ---- breaking cases (issue 11) ----


@claim(DEF, breaks="the mean-reduced batch gradient (1/b, as for ERM) at the same lr")
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(2, 8), d=(1, 5), rank="any", max_cond=10.0),
    c=st.floats(0.1, 1.9),
    steps=st.integers(1, 30),
    seed=seeds,
)
def test_mean_reduced_full_batch_sgd_is_gd_at_a_smaller_step(backend, problem, c, steps, seed):
    """b = n without replacement, but each step fed dlcore's `empirical_risk_grad` on the batch
    (the mean (1/b) sum of the per-example gradients) instead of the (n/b)-scaled sum.

    y = X theta and w_0 = theta + V_r a with ||a|| = 1 + ||theta||, so grad L(w_0) = 2 V_r S^2 a
    has norm >= 2 sigma_min^2 ||a||. The first update is -(lr / n) grad L(w_0) instead of GD's
    -lr grad L(w_0): relative gap exactly 1 - 1/n >= 1/2. Its rounding is (n + d) eps relative to
    the terms 2 sigma_max (sigma_max ||w_0|| + ||y||) <= 2 sigma_max^2 (2 ||theta|| + ||a||)
    <= 6 sigma_max^2 ||a||, i.e. cond <= 3 cond(X)^2 relative to ||grad L(w_0)||; the test checks
    that the gap minus this rounding exceeds the positive test's tolerance. The whole trajectory
    is GD's at lr / n instead (the scaling only rescales lr), checked with the positive test's
    error model.
    """
    check = Check(DEF, backend)
    n, d, r = problem.n, problem.d, problem.rank
    X = problem.X
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(d)
    y = X @ theta
    a = rng.standard_normal(r)
    a *= (1 + float(np.linalg.norm(theta))) / float(np.linalg.norm(a))
    w0 = theta + problem.V[:, :r] @ a
    lr = c / (2 * problem.sigma_max**2)
    sched = batch_schedule(n, n, steps, scheme="without", rng=rng)
    params = {"w": backend.asarray(w0)}
    opt = sgd(lr)
    W = [w0]
    first = None
    for B in sched:
        g = empirical_risk_grad(params["w"], backend.asarray(X[B]), backend.asarray(y[B]))
        upd, _ = opt.update({"w": g}, opt.init(params), params)
        first = backend.to_numpy(upd["w"]) if first is None else first
        params = {"w": params["w"] + upd["w"]}
        W.append(backend.to_numpy(params["w"]))
    gd_update = -lr * 2 * X.T @ (X @ w0 - y)
    gap = float(np.linalg.norm(first - gd_update)) / float(np.linalg.norm(gd_update))
    rounding = check.tolerance(kind="equivalence", dim=n + d, cond=3 * problem.cond**2)
    assert gap >= (1 - 1 / n) - rounding
    assert (1 - 1 / n) - rounding > check.tolerance(
        kind="equivalence", dim=(n + d) * steps, cond=2.0
    ), "design: the first step alone breaks the positive test's tolerance"
    Xb, yb = backend.asarray(X), backend.asarray(y)
    _, traj = run(
        sgd(lr / n),
        lambda p, t: {"w": squared_loss_grad(p["w"], Xb, yb)},
        {"w": backend.asarray(w0)},
        steps,
        record_every=1,
    )
    W_gd = np.array([backend.to_numpy(p["w"]) for p in traj])
    check.assert_close(
        np.array(W),
        W_gd,
        cond=2.0,
        dim=(n + d) * steps,
        scale=max(float(np.abs(W_gd).max()), 1.0) * math.sqrt(W_gd.size),
        what="SGD(b = n, mean-reduced, lr) vs GD(lr / n)",
    )


@claim(VAR, breaks="non-uniform sampling: importance weights pi_i proportional to |g_i|")
@pytest.mark.parametrize("backend", backend_params())
@given(
    y=st.lists(st.floats(-2, 2), min_size=2, max_size=6),
    spread=st.floats(1.0, 2.0),
    delta=st.floats(0.5, 2.0),
    b=st.integers(1, 2),
)
def test_importance_sampling_removes_the_minibatch_variance(backend, y, spread, delta, b):
    """Mean estimation at theta = max y + delta: every g_i = 2 (theta - y_i) >= 2 delta > 0.

    Draw b indices i.i.d. with P(i) = pi_i = g_i / sum_j g_j and average g_i / pi_i (unbiased):
    every term is exactly S = grad L, so over all n^b enumerated batches the covariance is 0,
    not the uniform-sampling n^2 Sigma / b. Rounding: dlcore's g_i has relative error
    <= 2 eps R / delta (R = |theta| + max |y|, the two inputs' rounding, then an exact
    subtraction), so every estimate is within tol_g = 4 eps (R / delta) S of S and the
    covariance is <= tol_g^2. By construction y_0 - y_1 = spread, so Sigma = 4 var(y) >=
    2 spread^2 / n and n^2 Sigma / b >= 2 n spread^2 / b; the test checks that this minus tol_g^2
    exceeds the positive test's tolerance (dim 2 (b + 1), scale max_B ||n/b sum g||^2 <=
    (2 n (theta - min y))^2), so the uniform-sampling formula fails there.
    """
    check = Check(VAR, backend)
    ya = np.array(y)
    ya[0] = ya[1] + spread  # not constant, by construction
    n = len(ya)
    theta = float(ya.max() + delta)
    X = np.ones((n, 1))
    G = backend.to_numpy(
        per_example_grads(
            backend.asarray(np.array([theta])), backend.asarray(X), backend.asarray(ya)
        )
    )[:, 0]
    g = 2 * (theta - ya)
    S = float(g.sum())
    pi = g / S
    batches = enumerate_batches(n, b, scheme="with")
    est = np.array([np.mean([G[i] / pi[i] for i in B]) for B, _ in batches])
    prob = np.array([np.prod(pi[B]) for B, _ in batches])
    mean = float(prob @ est)
    cov = float(prob @ (est - mean) ** 2)
    R = abs(theta) + float(np.abs(ya).max())
    tol_g = check.tolerance(kind="identity", cond=R / delta) * S
    assert abs(mean - S) <= tol_g, "importance sampling with 1/pi weights stays unbiased"
    assert cov <= tol_g**2
    uniform = n**2 * float(np.var(g)) / b
    # host float64: g_i = 2 (theta - y_i) (theta and y_0 = y_1 + spread rounded) and a variance
    # of n terms: dim 2 n + 6 relative to n^2 max g_i^2 / b <= n^2 (2 R)^2 / b
    var_scale = n**2 * (2 * R) ** 2 / b
    host_check = Check(VAR, HOST)
    host_check.assert_at_least(
        uniform, 2 * n * spread**2 / b, kind="bound", dim=2 * n + 6, scale=var_scale
    )
    var_tol = host_check.tolerance(kind="bound", dim=2 * n + 6) * var_scale
    positive_tol = (
        check.tolerance(kind="identity", dim=2 * (b + 1)) * (2 * n * (theta - float(ya.min()))) ** 2
    )
    assert uniform - cov >= 2 * n * spread**2 / b - var_tol - tol_g**2 > positive_tol


def logistic_path_mean(backend, X, y, w0, lr, batches, steps):
    """E w_T over every batch sequence of b = 1 SGD on the logistic loss with dlcore's
    `per_example_grads` (n-scaled: g_B = (n / b) sum_{i in B} grad l_i) and `sgd`; host float64.
    Returns (E w_T, max |w| over all nodes)."""
    Xb, yb = backend.asarray(X), backend.asarray(y)
    n = X.shape[0]
    opt = sgd(lr)
    mean, biggest = np.zeros(X.shape[1]), 0.0

    def visit(params, prob, depth):
        nonlocal mean, biggest
        w = backend.to_numpy(params["w"])
        biggest = max(biggest, float(np.abs(w).max()))
        if depth == steps:
            mean = mean + prob * w
            return
        G = per_example_grads(params["w"], Xb, yb, loss="logistic")
        for B, p in batches:
            g = G[B[0], :]
            for i in B[1:]:
                g = g + G[i, :]
            upd, _ = opt.update({"w": (n / len(B)) * g}, opt.init(params), params)
            visit({"w": params["w"] + upd["w"]}, prob * p, depth + 1)

    visit({"w": backend.asarray(w0)}, 1.0, 0)
    return mean, biggest


@claim(MEAN, breaks="a non-quadratic loss (logistic): the gradient is not affine")
@pytest.mark.parametrize("backend", backend_params())
@given(
    lr=st.floats(0.5, 1.0),
    s=st.floats(0.25, 1.0),
    side=st.sampled_from([-1.0, 1.0]),
)
def test_mean_sgd_iterate_leaves_gd_on_the_logistic_loss(backend, lr, s, side):
    """n = 2, x_1 = x_2 = 1, y = (+1, -1), logistic loss: grad L(w) = tanh(w / 2) =: f(w).

    b = 1 with replacement from w_0 = side (2 lr + s). Step 1 is exact in mean (unbiased at a
    fixed w_0): w_1 in {c, a} = {w_0 - 2 lr sigma(w_0), w_0 + 2 lr sigma(-w_0)}, equally likely,
    mean m = w_1^GD and half-width (a - c) / 2 = lr. Then
    E w_2 - w_2^GD = lr (f(m) - E f(w_1)), a Jensen gap: with side = +1, c >= s > 0, f is concave
    on [c, a] with |f''| >= kappa = min(|f''(c)|, |f''(a)|) (|f''| = tanh(w/2) sech^2(w/2) / 2 is
    unimodal on w > 0), and Taylor's theorem gives f(m) - E f(w_1) >= kappa lr^2 / 2; f is odd,
    so side = -1 mirrors it. Hence side (E w_2 - w_2^GD) >= kappa lr^3 / 2. Rounding of both
    dlcore runs: 4 operations per step on values <= max |w|, a step map of slope
    <= 1 + 2 lr / 4 <= 1.5 (dim 8, cond 1.5^2); the bound is checked to exceed twice that.
    """
    check = Check(MEAN, backend)
    X, y = np.ones((2, 1)), np.array([1.0, -1.0])
    w0 = side * (2 * lr + s)
    c_end = abs(w0) - 2 * lr / (1 + math.exp(-abs(w0)))
    a_end = abs(w0) + 2 * lr / (1 + math.exp(abs(w0)))
    # c >= s (sigma <= 1) and a - c = 2 lr (sigma(t) + sigma(-t) = 1), in host float64: five
    # operations on values <= |w_0| + 2 lr, tolerance(bound, dim 8) on that scale
    host_check = Check(MEAN, HOST)
    size = abs(w0) + 2 * lr
    host_check.assert_at_least(c_end, s, kind="bound", dim=8, scale=size, what="c >= s")
    host_check.assert_entrywise(
        a_end - c_end, 2 * lr, kind="bound", dim=8, scale=size, what="a - c = 2 lr"
    )

    def curvature(w):
        return 0.5 * math.tanh(w / 2) / math.cosh(w / 2) ** 2

    kappa = min(curvature(c_end), curvature(a_end))
    batches = enumerate_batches(2, 1, scheme="with")
    mean, biggest = logistic_path_mean(backend, X, y, np.array([w0]), lr, batches, 2)
    Xb, yb = backend.asarray(X), backend.asarray(y)
    wT, _ = run(
        sgd(lr),
        lambda p, t: {
            "w": backend.xp.sum(per_example_grads(p["w"], Xb, yb, loss="logistic"), axis=0)
        },
        {"w": backend.asarray(np.array([w0]))},
        2,
    )
    gap = side * float(mean[0] - backend.to_numpy(wT["w"])[0])
    tol = check.tolerance(kind="identity", dim=8, cond=1.5**2) * max(biggest, 1.0)
    assert gap >= kappa * lr**3 / 2 - tol
    assert kappa * lr**3 / 2 > 2 * tol, "design: the Jensen gap is far above rounding"


@claim(MEAN, breaks="the epoch sampler: batches within an epoch are not independent")
@pytest.mark.parametrize("backend", backend_params())
def test_mean_sgd_iterate_leaves_gd_under_the_epoch_sampler(backend):
    """n = 2, b = 1, x = (1, 2), y = 0, w_0 = 1, lr = 0.05, one epoch (t = 2). The epoch sampler's
    law (`enumerate_batches(2, 2, scheme="epoch")`: the orders (0, 1) and (1, 0), each 1/2) gives
    E w_2 = (1 - 4 lr)(1 - 16 lr) = 0.16 from dlcore runs, while dlcore GD gives
    (1 - 10 lr)^2 = 0.25: the old wording ("every sampling scheme") is violated by 36 lr^2 = 0.09,
    and the corrected wording (batches independent across steps) excludes this sampler. Rounding:
    two steps of a few operations on values <= 1 (dim 8, scale 1), far below 0.09, as is the
    positive test's tolerance for this problem.
    """
    check = Check(MEAN, backend)
    X, y, lr = np.array([[1.0], [2.0]]), np.zeros(2), 0.05
    orders = enumerate_batches(2, 2, scheme="epoch")
    assert sorted(tuple(o) for o, _ in orders) == [(0, 1), (1, 0)]
    mean = sum(p * sgd_path(backend, X, y, np.ones(1), lr, [[o[0]], [o[1]]])[-1] for o, p in orders)
    Xb, yb = backend.asarray(X), backend.asarray(y)
    wT, _ = run(
        sgd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], Xb, yb)},
        {"w": backend.asarray(np.ones(1))},
        2,
    )
    gd2 = backend.to_numpy(wT["w"])
    check.assert_close(mean, [(1 - 4 * lr) * (1 - 16 * lr)], dim=8, what="E w_2")
    check.assert_close(gd2, [(1 - 10 * lr) ** 2], dim=8, what="GD w_2")
    tol = check.tolerance(kind="identity", dim=8)
    assert float(gd2[0] - mean[0]) >= 36 * lr**2 - 2 * tol
    # the positive test's tolerance here: c = lr 2 sigma_max^2 = 0.5, cond (1 + n c / b)^t = 4,
    # dim (n + d) t = 6, scale max(max |w|, 1) = 1
    positive_tol = check.tolerance(kind="identity", dim=6, cond=4.0)
    assert 36 * lr**2 - 2 * tol > 1e3 * positive_tol, "design: the gap is far above rounding"


@claim(DIVERGE, breaks="eta lambda_max < 1 (a step below GD's oscillation threshold)")
@pytest.mark.parametrize("backend", backend_params())
@given(
    a=log_uniform(0.1, 10.0),
    step=st.floats(0.05, 0.95),
    theta=st.floats(-2.0, 2.0),
    e0=st.floats(0.5, 2.0),
    steps=st.integers(1, 8),
)
def test_small_step_sgd_converges_in_mean_square(backend, a, step, theta, e0, steps):
    """The positive test's setting with step = lr lambda_max in (0, 1): SGD's factors are 1 and
    1 - 2 step, |1 - 2 step| < 1, so E e_t^2 = q^t e_0^2 with q = 1 - 2 step (1 - step)
    <= 1 - 2 (0.05)(0.95) = 0.905: SGD contracts in mean square (and E log|factor| < 0), it does
    not diverge. E e_t^2 over all 2^t paths of dlcore runs is checked against q^t e_0^2 with the
    positive test's error model, and shown below e_0^2 by more than that tolerance.
    """
    check = Check(DIVERGE, backend)
    X, y = np.array([[0.0], [a]]), np.array([0.0, a * theta])
    lr = step / (2 * a**2)
    batches = enumerate_batches(2, 1, scheme="with")
    mean, second, _ = expected_iterate(backend, X, y, np.array([theta + e0]), lr, batches, steps)
    q = 1 - 2 * step * (1 - step)
    m2 = q**steps * e0**2
    scale = m2 + theta**2 + abs(theta) * math.sqrt(m2)
    check.assert_close(
        second - 2 * theta * mean[0] + theta**2,
        m2,
        kind="identity",
        dim=4 * steps,
        scale=scale,
        what="E e_t^2",
    )
    tol = check.tolerance(kind="identity", dim=4 * steps) * (abs(theta) + e0) ** 2
    assert second - 2 * theta * mean[0] + theta**2 <= m2 + tol < e0**2 - tol
    assert abs(1 - 2 * step) < 1  # every path contracts: E log|factor| < 0, no a.s. divergence


@claim(TUG, breaks="a margin loss (hinge, logistic) instead of least squares")
@pytest.mark.parametrize("backend", backend_params())
@given(
    wide=regression_problems(n=(1, 5), d=(2, 8), shape="wide", max_cond=10.0),
    seed=seeds,
)
def test_margin_losses_decouple_fixed_points_from_interpolation(backend, wide, seed):
    """Wide, full row rank X, labels y = +-1 (seeded), w_hat = X^+ y (so X w_hat = y).

    Hinge at w = 2 w_hat: y_i x_i^T w = 2 > 1 for every i, so every hinge gradient is 0 (every
    SGD update is fixed there), yet x_i^T w - y_i = y_i != 0: dlcore's least-squares singleton
    gradients there are 2 n y_i x_i, of norm >= 2 n sigma_min (||x_i|| >= sigma_min for full row
    rank). Logistic at the interpolant w_hat: grad l_i = -y_i sigma(-1) x_i, of norm
    >= sigma(-1) sigma_min > 0, so an interpolant is not a fixed point. Rounding: x_i^T w is off
    by d eps ||x_i|| ||w|| <= d eps sqrt(n) cond (||w_hat|| <= sqrt(n) / sigma_min), far below the
    hinge's margin 1; row i's error relative to ||x_i|| is then (n + d) eps (1 + 2 sqrt(n) cond)
    (least squares) or (n + d) eps (1 + sqrt(n) cond) (logistic, sigma' <= 1/4 < sigma(-1)), and
    the smallest row norm is checked to exceed twice the whole matrix's tolerance.
    """
    check = Check(TUG, backend)
    n, d = wide.n, wide.d
    rng = np.random.default_rng(seed)
    y = rng.choice([-1.0, 1.0], n)
    X = wide.X
    w_hat = wide.V[:, :n] @ ((wide.U.T @ y) / wide.svals)
    Xb, yb = backend.asarray(X), backend.asarray(y)
    w2 = backend.asarray(2 * w_hat)
    hinge = per_example_grads(w2, Xb, yb, loss="hinge")
    check.assert_close(hinge, np.zeros((n, d)), what="hinge at 2 w_hat")
    root_n = math.sqrt(n)
    for name, got, expected, cond, floor in [
        (
            "least-squares singleton gradients at 2 w_hat",
            np.array([backend.to_numpy(minibatch_grad(w2, Xb, yb, [i])) for i in range(n)]),
            2 * n * y[:, None] * X,
            1 + 2 * root_n * wide.cond,
            2 * n * wide.sigma_min,
        ),
        (
            "logistic gradients at the interpolant w_hat",
            backend.to_numpy(per_example_grads(backend.asarray(w_hat), Xb, yb, loss="logistic")),
            -y[:, None] * X / (1 + math.e),
            1 + root_n * wide.cond,
            wide.sigma_min / (1 + math.e),
        ),
    ]:
        check.assert_close(got, expected, dim=n + d, cond=cond, what=name)
        tol = check.tolerance(kind="identity", dim=n + d, cond=cond)
        tol *= float(np.linalg.norm(expected))
        # X is built in float64 from the drawn spectrum: its sigma_min is within d eps sigma_max
        # of the drawn one, a relative tolerance(identity, dim d, cond) of the floor
        drift = Check(TUG, HOST).tolerance(kind="identity", dim=d, cond=wide.cond)
        assert np.linalg.norm(got, axis=1).min() >= floor * (1 - drift) - tol, name
        assert floor > 2 * tol, f"design: {name} far above rounding"


@claim(FLOOR, breaks="interpolation: y constant (sigma^2 = 0)")
@pytest.mark.parametrize("backend", backend_params())
@given(
    n=st.integers(2, 6),
    level=st.floats(-5.0, 5.0),
    gamma=st.floats(0.1, 1.9),
    e0=st.floats(0.5, 2.0),
    sign=st.sampled_from([-1.0, 1.0]),
    seed=seeds,
)
def test_constant_targets_leave_no_noise_floor(backend, n, level, gamma, e0, sign, seed):
    """y = level * ones, mean estimation, b = 1 with replacement, lr = gamma / (2 n).

    (a) At theta* = level every enumerated minibatch gradient (all b-subsets, 1 <= b < n) is 0,
    so SGD started there never leaves it. (b) From theta_0 = level + sign e0, dlcore's iterates
    along a seeded schedule follow e_t = (1 - gamma)^t e_0 on every path, so E e_t^2 -> 0: no
    floor (gamma sigma^2 / (2 - gamma) = 0). T is the first step with |1 - gamma|^T <= 1e-3
    (<= 66 since |1 - gamma| <= 0.9). Rounding: one eps per step relative to |level| + e0,
    contracted by |1 - gamma| < 1, so it adds up to at most T steps' worth (dim 4 T).
    """
    check = Check(FLOOR, backend)
    y = np.full(n, level)
    X = np.ones((n, 1))
    Xb, yb = backend.asarray(X), backend.asarray(y)
    star = backend.asarray(np.array([level]))
    for b in range(1, n):
        for B, _ in enumerate_batches(n, b, scheme="without"):
            check.assert_close(
                minibatch_grad(star, Xb, yb, B),
                np.zeros(1),
                dim=4,
                scale=4 * n * abs(level),
                what=f"g_B at theta* = level, B = {B}",
            )
    rho = abs(1 - gamma)
    steps = 1 if rho == 0 else max(1, math.ceil(math.log(1e-3) / math.log(rho)))
    sched = batch_schedule(n, 1, steps, scheme="with", rng=np.random.default_rng(seed))
    W = sgd_path(backend, X, y, np.array([level + sign * e0]), gamma / (2 * n), sched)
    scale = abs(level) + e0
    check.assert_close(
        W[:, 0] - level,
        sign * e0 * (1 - gamma) ** np.arange(steps + 1),
        dim=4 * steps,
        scale=scale * math.sqrt(steps + 1),
        what="e_t vs (1 - gamma)^t e_0",
    )
    tol = check.tolerance(kind="identity", dim=4 * steps) * scale * math.sqrt(steps + 1)
    assert abs(W[-1, 0] - level) <= 1e-3 * e0 + tol


@claim(RUNNING, breaks="first step gamma_1 < 1 (gamma_k = 1/(k + 1)): m_0 is not forgotten")
@pytest.mark.parametrize("backend", backend_params())
@given(
    x=st.lists(st.floats(-100, 100), min_size=1, max_size=50),
    far=st.floats(2.0, 10.0),
    sign=st.sampled_from([-1.0, 1.0]),
)
def test_running_average_without_a_unit_first_step_remembers_m0(backend, x, far, sign):
    """gamma_k = 1/(k + 1) (lr_k = 1 / (2 N (k + 1))): m_k = (m_0 + x_1 + ... + x_k) / (k + 1), m_0
    counts as a pseudo-observation. With m_0 = sign far (max |x| + 1), far >= 2,
    |m_N - mean(x)| = |m_0 - mean(x)| / (N + 1) >= (|m_0| - max |x|) / (N + 1) > |m_0| / (2 (N + 1)).
    dlcore's iterates are checked against the pseudo-count formula (positive test's error model),
    and the final gap, relative to |m_0| (the scale), against the positive test's tolerance.
    """
    check = Check(RUNNING, backend)
    xs = np.array(x)
    N = len(xs)
    m0 = sign * far * (float(np.abs(xs).max()) + 1)
    m = stream_sgd(backend, xs, m0, 1 / np.arange(2, N + 2))
    ks = np.arange(1, N + 1)
    check.assert_close(
        m[1:],
        (m0 + np.cumsum(xs)) / (ks + 1),
        dim=4 * N,
        scale=abs(m0) * math.sqrt(N),
        what="SGD(1/(k+1)) vs (m_0 + sum x) / (k + 1)",
    )
    gap = abs(m[-1] - float(xs.mean())) / abs(m0)
    tol = check.tolerance(kind="identity", dim=4 * N) * math.sqrt(N)
    assert gap >= 1 / (2 * (N + 1)) - tol
    assert 1 / (2 * (N + 1)) - tol > tol, "design: the remembered m_0 is far above rounding"


@claim(RUNNING)
@pytest.mark.parametrize("backend", backend_params())
def test_a_new_outlier_moves_the_running_average_more(backend):
    """x = (0, 0, 3), m_0 = 0: dlcore SGD with gamma_k = 1/k moves the average by 0 at k = 2 and by
    1 at k = 3, so a reading of 'less and less' as each move smaller than the one before fails,
    while the bound R / k (R = 3) holds, with equality at k = 3. Small integers and thirds: the
    rounding is the positive test's, dim 4 N, scale max |x| sqrt(N).
    """
    check = Check(RUNNING, backend)
    xs = np.array([0.0, 0.0, 3.0])
    m = stream_sgd(backend, xs, 0.0, 1 / np.arange(1, 4))
    moves = np.abs(np.diff(m))
    tol = check.tolerance(kind="identity", dim=12) * 3.0 * math.sqrt(3)
    with clause("e"):
        check.assert_close(moves, [0.0, 0.0, 1.0], dim=12, scale=3.0)
        assert moves[2] > moves[1] + 2 * tol, "the third move is larger than the second"
    with clause("d"):
        assert (moves[1:] <= 3.0 / np.arange(2, 4) + tol).all()


@claim(EMA, breaks="gamma in (1, 2): an over-relaxed step, weights of alternating sign")
@pytest.mark.parametrize("backend", backend_params())
@given(
    x=st.lists(st.floats(-100, 100), min_size=1, max_size=100),
    gap=st.floats(1.0, 100.0),
    sign=st.sampled_from([-1.0, 1.0]),
    gamma=st.floats(1.05, 1.95),
)
def test_over_relaxed_constant_step_is_not_an_average(backend, x, gap, sign, gamma):
    """gamma in [1.05, 1.95]: the recursion still has the closed form, but the weight on
    x_{t-1} is gamma (1 - gamma) < 0, so m_t is no weighted average. With m_0 = x_1 + sign gap,
    m_1 - x_1 = (1 - gamma)(m_0 - x_1): m_1 overshoots x_1, lying outside [min(m_0, x_1),
    max(m_0, x_1)] by (gamma - 1) gap >= 0.05. Rounding: one step, one eps relative to
    max(|x|, |m_0|) (dim 4), as in the positive test.
    """
    check = Check(EMA, backend)
    xs = np.array(x)
    N = len(xs)
    m0 = xs[0] + sign * gap
    m = stream_sgd(backend, xs, m0, np.full(N, gamma))
    closed = [
        (1 - gamma) ** t * m0
        + sum(gamma * (1 - gamma) ** (t - s) * xs[s - 1] for s in range(1, t + 1))
        for t in range(N + 1)
    ]
    scale = max(float(np.abs(xs).max()), abs(m0), 1.0)
    check.assert_close(
        m,
        closed,
        dim=4 * N,
        scale=scale * math.sqrt(N + 1),
        what="SGD vs closed form",
    )
    overshoot = -sign * (m[1] - xs[0])  # how far m_1 lies beyond x_1, away from m_0
    tol = check.tolerance(kind="identity", dim=4) * scale
    assert overshoot >= (gamma - 1) * gap - tol
    assert (gamma - 1) * gap > 2 * tol, "design: the overshoot is far above rounding"
    if N >= 2:
        assert (
            min(gamma * (1 - gamma) ** (N - s) for s in range(1, N + 1)) <= gamma * (1 - gamma) < 0
        )


@claim(FAR, breaks="y constant: at ybar no minibatch gradient has a sign")
@pytest.mark.parametrize("backend", backend_params())
@given(n=st.integers(2, 6), level=st.floats(-5.0, 5.0), data=st.data())
def test_constant_targets_give_no_sign_at_the_optimum(backend, n, level, data):
    """y = level * ones (ybar = level): every enumerated minibatch gradient (all b-subsets, b < n)
    at theta = ybar is 0 up to rounding (dim 4, scale 4 n |level|, the size of its terms), so
    gradients of both signs do not occur: at the optimum every example agrees.
    """
    check = Check(FAR, backend)
    b = data.draw(st.integers(1, n - 1))
    X, yb = backend.asarray(np.ones((n, 1))), backend.asarray(np.full(n, level))
    theta = backend.asarray(np.array([level]))
    for B, _ in enumerate_batches(n, b, scheme="without"):
        check.assert_close(
            minibatch_grad(theta, X, yb, B),
            np.zeros(1),
            dim=4,
            scale=4 * n * abs(level),
            what=f"g_B at ybar, B = {B}",
        )


@claim(ROBBINS, breaks="a constant step gamma (not gamma_t = 1/t)")
@pytest.mark.parametrize("backend", backend_params())
@given(
    n=st.integers(2, 3),
    gamma=st.floats(0.5, 1.5),
    theta0=st.floats(-3.0, 3.0),
    spread=st.floats(1.0, 2.0),
    data=st.data(),
    seed=seeds,
)
def test_constant_step_error_stays_above_sigma2_over_t(
    backend, n, gamma, theta0, spread, data, seed
):
    """Mean estimation, b = 1 with replacement, constant lr = gamma / (2 n): over all n^T paths
    (dlcore runs) E e_T^2 = (1-gamma)^{2T} e_0^2 + gamma sigma^2 (1 - (1-gamma)^{2T}) / (2 - gamma)
    (the noise-floor recursion) >= LB = gamma / (2 - gamma) (1 - (1 - gamma)^{2T}) sigma^2, and LB
    is nondecreasing in T: the error never goes below it. With gamma in [0.5, 1.5] and T >= 4,
    LB >= (1/3)(1 - 4^{-4}) sigma^2 > sigma^2 / 4 >= sigma^2 / T. y_0 - y_1 = spread >= 1, so
    sigma^2 >= spread^2 / (2 n); the test checks that LB - sigma^2 / T exceeds twice the positive
    test's tolerance (dim 4 T, scale max|y|^2 + |theta_0| max|y|).
    """
    check = Check(ROBBINS, backend)
    steps = data.draw(st.integers(4, 6)) if n == 2 else 4
    rng = np.random.default_rng(seed)
    y = rng.uniform(-1.0, 1.0, n)
    y[0] = y[1] + rng.choice([-1.0, 1.0]) * spread
    ybar, sigma2 = float(y.mean()), float(y.var())
    m2, _ = path_expectation(
        backend,
        np.ones((n, 1)),
        y,
        np.array([theta0]),
        [gamma / (2 * n)] * steps,
        enumerate_batches(n, 1, scheme="with"),
        lambda path: float(path[-1][0] - ybar) ** 2,
    )
    lb = gamma / (2 - gamma) * (1 - (1 - gamma) ** (2 * steps)) * sigma2
    scale = float(np.abs(y).max()) ** 2 + abs(theta0) * float(np.abs(y).max())
    tol = check.tolerance(kind="convergence", dim=4 * steps) * scale
    assert m2 >= lb - tol
    assert lb - sigma2 / steps > 2 * tol, "design: the floor is far above sigma^2 / T"
    # host float64: y_0 = y_1 + spread rounded, then a variance of n terms: dim 2 n + 4 on the
    # scale of the squared deviations, (y_i - ybar)^2 <= 4 max y^2
    Check(ROBBINS, HOST).assert_at_least(
        sigma2,
        spread**2 / (2 * n),
        kind="bound",
        dim=2 * n + 4,
        scale=4 * float(np.abs(y).max()) ** 2,
        what="sigma^2 >= spread^2 / (2 n)",
    )


@claim(WALK, breaks="gamma in (1, 2): consecutive errors are negatively correlated")
@pytest.mark.parametrize("backend", backend_params())
@given(
    n=st.integers(2, 3),
    steps=st.integers(1, 5),
    gamma=st.floats(1.1, 1.9),
    e0=st.floats(0.5, 2.0),
    sign=st.sampled_from([-1.0, 1.0]),
    spread=st.floats(1.0, 2.0),
    seed=seeds,
)
def test_over_relaxed_sgd_errors_alternate(backend, n, steps, gamma, e0, sign, spread, seed):
    """Mean estimation, b = 1 with replacement, gamma in [1.1, 1.9]: over all n^T paths of dlcore
    runs, E[e_T e_{T-1}] = (1 - gamma) E e_{T-1}^2 < 0. By the noise-floor recursion
    E e_t^2 = (1-gamma)^{2t} e_0^2 + gamma^2 sigma^2 sum_{k<t} (1-gamma)^{2k} >= LB_t =
    (1-gamma)^{2t} e_0^2 + [t >= 1] gamma^2 sigma^2, so E[e_T e_{T-1}] <= -(gamma - 1) LB_{T-1};
    with e_0 = theta_0 - ybar = sign e0 and sigma^2 >= spread^2 / (2 n) (y_0 - y_1 = spread) this
    is checked to be below minus twice the positive test's tolerance (dim 4 T, scale
    (max |theta| + |ybar|)^2).
    """
    check = Check(WALK, backend)
    rng = np.random.default_rng(seed)
    y = rng.uniform(-1.0, 1.0, n)
    y[0] = y[1] + rng.choice([-1.0, 1.0]) * spread
    ybar, sigma2 = float(y.mean()), float(y.var())
    cross, big = path_expectation(
        backend,
        np.ones((n, 1)),
        y,
        np.array([ybar + sign * e0]),
        [gamma / (2 * n)] * steps,
        enumerate_batches(n, 1, scheme="with"),
        lambda p: float((p[-1][0] - ybar) * (p[-2][0] - ybar)),
    )
    t = steps - 1
    lb = (1 - gamma) ** (2 * t) * e0**2 + (gamma**2 * sigma2 if t >= 1 else 0.0)
    tol = check.tolerance(kind="identity", dim=4 * steps) * (big + abs(ybar)) ** 2
    assert cross <= -(gamma - 1) * lb + tol
    assert -(gamma - 1) * lb + tol < -tol, "design: the anticorrelation is far above rounding"


@claim(SECOND, breaks="X without full column rank")
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=st.one_of(
        regression_problems(n=(2, 4), d=(2, 3), rank="deficient", max_cond=3.0),
        regression_problems(n=(1, 3), d=(2, 4), shape="wide", max_cond=3.0),
    ),
    c=st.floats(0.1, 1.9),
    steps=st.integers(1, 30),
    seed=seeds,
)
def test_null_space_error_never_decays(backend, problem, c, steps, seed):
    """Consistent y = X theta with rank r < d, lr = c / (2 n max ||x_i||^2) below the sufficient
    bound. For v in null(X) every M_i = I - lr A_i fixes v, so T(v v^T) = v v^T: rho(T) = 1
    (T is symmetric with ||T|| <= 1, so its computed eigenvalues are within d^2 eps of exact).
    On a seeded path of dlcore SGD the null-space part V_0^T e_t stays V_0^T e_0, a unit vector
    by construction, so ||e_t|| >= 1 for all t and E ||e_t||^2 does not go to 0. Rounding: the
    steps are non-expansive, so per-step errors ((n + d) eps of the iterate scale) add up over
    T steps (dim (n + d) T, cond 2, as in the interpolation test).
    """
    host_check = Check(SECOND, HOST)
    check = Check(SECOND, backend)
    n, d, r = problem.n, problem.d, problem.rank
    X = problem.X
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(d)
    y = X @ theta
    lr = c / (2 * n * np.max(np.sum(X * X, axis=1)))
    M = [np.eye(d) - lr * 2 * n * np.outer(x, x) for x in X]
    T = sum(np.kron(m, m) for m in M) / n
    rho_T = spectral_radius(T)
    assert rho_T >= 1 - host_check.tolerance(kind="bound", dim=d * d)
    V0 = problem.V[:, r:]
    a = rng.standard_normal(d - r)
    a /= np.linalg.norm(a)
    e0 = problem.V[:, :r] @ rng.standard_normal(r) + V0 @ a
    sched = batch_schedule(n, 1, steps, scheme="with", rng=rng)
    W = sgd_path(backend, X, y, theta + e0, lr, sched)
    E = W - theta
    scale = max(float(np.linalg.norm(W, axis=1).max()), 1.0)
    check.assert_close(
        E @ V0,
        np.tile(a, (steps + 1, 1)),
        dim=(n + d) * steps,
        cond=2.0,
        scale=scale * math.sqrt(steps + 1),
        what="null-space part of e_t",
    )
    tol = check.tolerance(kind="bound", dim=(n + d) * steps, cond=2.0) * scale
    assert np.linalg.norm(E, axis=1).min() >= 1 - tol
    assert 1 - tol > 2 * tol, "design: the stuck error is far above rounding"
