"""Chapter learning: ERM, losses and surrogates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlcore.linear import ridge
from dlcore.losses import (
    MARGIN_LOSSES,
    cross_entropy,
    cross_entropy_grad,
    empirical_risk,
    empirical_risk_grad,
    hinge_loss,
    hinge_loss_grad,
    logistic_loss,
    logistic_loss_grad,
    per_example_grads,
    per_example_losses,
    softmax,
    squared_loss_grad,
    zero_one_loss,
)
from dlcore.optim import gd
from dlcore.train import train
from tests.support.backends import backend_params
from tests.support.claims import claim
from tests.support.strategies import log_uniform, regression_problems, seeds
from tests.support.tolerances import assert_close, tolerance

ERM = "learning.erm-average-loss-and-gradient"


def torch_risk_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray, loss: str, lam: float):
    """Oracle: torch autograd of the mean loss plus lam ||w||^2, in float64 on the host."""
    torch = pytest.importorskip("torch")
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    s = torch.as_tensor(X) @ wt
    yt = torch.as_tensor(y)
    if loss == "squared":
        per = (s - yt) ** 2
    elif loss == "logistic":
        per = torch.logaddexp(torch.zeros_like(s), -yt * s)  # softplus linearises past 20
    else:
        per = torch.relu(1 - yt * s)
    risk = per.mean() + lam * (wt * wt).sum()
    risk.backward()
    return float(risk.detach()), wt.grad.numpy()


def loss_scale(w, X, y, loss: str, lam: float) -> tuple[float, float]:
    """Reference magnitudes of the risk and of its gradient (mean of |terms|), host float64."""
    s = X @ w
    if loss == "squared":
        per, ds = (s - y) ** 2, 2 * np.abs(s - y) + 2 * np.abs(y)
    else:
        per, ds = np.abs(s) + 1.0, np.ones_like(s)
    risk = float(np.mean(per) + np.mean(np.abs(s)) + lam * w @ w + 1.0)
    grad = float(np.mean(ds * np.linalg.norm(X, axis=1)) + 2 * lam * np.linalg.norm(w) + 1e-300)
    return risk, grad


@claim(ERM)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 5), rank="any", max_cond=10.0),
    loss=st.sampled_from(MARGIN_LOSSES),
    lam=st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    k=st.integers(1, 4),
    seed=seeds,
)
def test_empirical_risk_is_an_average(backend, problem, loss, lam, k, seed):
    """Risk and gradient under permutation and k-fold replication, and against torch autograd.

    Labels are sign(y) in {-1, +1} for the margin losses. Every value is a mean of n terms each
    computed with d-term dot products, so the rounding error is at most (n + d) eps relative to
    the mean of the terms' magnitudes (the `scale` passed; the risk itself can cancel to ~0).
    """
    rng = np.random.default_rng(seed)
    X = problem.X
    y = problem.y if loss == "squared" else np.where(problem.y >= 0, 1.0, -1.0)
    w = rng.standard_normal(problem.d)
    perm = rng.permutation(problem.n)
    Xb, yb, wb = backend.asarray(X), backend.asarray(y), backend.asarray(w)
    risk = empirical_risk(wb, Xb, yb, loss=loss, lam=lam)
    grad = empirical_risk_grad(wb, Xb, yb, loss=loss, lam=lam)
    r_scale, g_scale = loss_scale(w, X, y, loss, lam)
    dim = (problem.n + problem.d) * k
    ref_risk, ref_grad = torch_risk_grad(w, X, y, loss, lam)
    for what, X2, y2 in [
        ("permuted", X[perm], y[perm]),
        (f"replicated x{k}", np.tile(X, (k, 1)), np.tile(y, k)),
        ("original", X, y),
    ]:
        Xo, yo = backend.asarray(X2), backend.asarray(y2)
        assert_close(
            empirical_risk(wb, Xo, yo, loss=loss, lam=lam),
            risk,
            claim=ERM,
            backend=backend,
            dim=dim,
            scale=r_scale,
            what=f"{loss} risk, {what}",
        )
        assert_close(
            empirical_risk_grad(wb, Xo, yo, loss=loss, lam=lam),
            grad,
            claim=ERM,
            backend=backend,
            dim=dim,
            scale=g_scale,
            what=f"{loss} gradient, {what}",
        )
    assert_close(
        risk, ref_risk, claim=ERM, backend=backend, dim=dim, scale=r_scale, what="risk vs torch"
    )
    assert_close(
        grad, ref_grad, claim=ERM, backend=backend, dim=dim, scale=g_scale, what="grad vs torch"
    )
    # The gradient is the mean of the per-example gradients plus the regularizer, once.
    per = backend.to_numpy(per_example_grads(wb, Xb, yb, loss=loss))
    assert_close(
        grad,
        per.mean(axis=0) + 2 * lam * w,
        claim=ERM,
        backend=backend,
        dim=dim,
        scale=g_scale,
        what="mean of per-example gradients + 2 lam w",
    )
    if loss == "squared":
        assert_close(
            grad,
            backend.to_numpy(squared_loss_grad(wb, Xb, yb)) / problem.n + 2 * lam * w,
            claim=ERM,
            backend=backend,
            dim=dim,
            scale=g_scale,
            what="(2/n) X^T (Xw - y) + 2 lam w",
        )


REAL = "learning.loss-is-real-valued"
NOGRAD = "learning.zero-one-loss-gives-no-gradient"
SQBOUND = "learning.squared-surrogate-bounds-zero-one"
SURR = "learning.standard-surrogate-losses"
SOFTMAX = "learning.softmax-relaxes-argmax"
TRUELOSS = "learning.evaluate-with-true-loss"
DEBUG = "learning.true-loss-training-error-as-debug-check"

scores = st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20)


def pm1(k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice([-1.0, 1.0], k)


@claim(REAL)
@pytest.mark.parametrize("backend", backend_params())
@given(s=scores, seed=seeds, K=st.integers(2, 6))
def test_losses_are_finite_nonnegative_reals(backend, s, seed, K):
    """Every dlcore loss on scores up to |s| = 1e3: real, finite, >= 0; complex input refused."""
    sb = backend.asarray(np.array(s))
    yb = backend.asarray(pm1(len(s), seed))
    Z = backend.asarray(np.random.default_rng(seed).uniform(-1e3, 1e3, (len(s), K)))
    labels = list(np.random.default_rng(seed).integers(0, K, len(s)))
    values = {
        "squared": per_example_losses(backend.asarray(np.ones(1)), sb[:, None], yb),
        "zero_one": zero_one_loss(sb, yb),
        "logistic": logistic_loss(sb, yb),
        "hinge": hinge_loss(sb, yb),
        "cross_entropy": cross_entropy(Z, labels),
    }
    for name, v in values.items():
        host = backend.to_numpy(v)
        assert np.isrealobj(host) and host.shape == (len(s),), name
        assert np.all(np.isfinite(host)) and np.all(host >= 0), (name, host)
    if backend.library == "numpy":
        with pytest.raises(TypeError, match="real floating"):
            logistic_loss(np.array(s) + 1j, pm1(len(s), seed) + 0j)


@claim(NOGRAD)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(1, 20), d=(1, 5), rank="full"), seed=seeds)
def test_zero_one_risk_has_zero_difference_quotients(backend, problem, seed):
    """The empirical 0-1 risk of dlcore at w, with every margin |y_i x_i^T w| >= h ||x_i|| 2 (built
    by choosing labels and w), is unchanged by every coordinate step of size h: its central
    difference quotients are exactly 0, so a GD step on them leaves w and the error where they are.
    """
    rng = np.random.default_rng(seed)
    X = problem.X
    w = rng.standard_normal(problem.d)
    s = X @ w
    h = 1e-3 * float(np.min(np.abs(s))) / (1 + float(np.max(np.linalg.norm(X, axis=1))))
    y = pm1(problem.n, seed)
    Xb, yb = backend.asarray(X), backend.asarray(y)

    def risk(v):
        return float(np.mean(backend.to_numpy(zero_one_loss(Xb @ backend.asarray(v), yb))))

    base = risk(w)
    grad = np.array([(risk(w + h * e) - risk(w - h * e)) / (2 * h) for e in np.eye(problem.d)])
    assert (grad == 0).all() and risk(w - 0.1 * grad) == base
    assert base == float(np.mean(y * s <= 0))


@claim(SQBOUND)
@pytest.mark.parametrize("backend", backend_params())
@given(s=st.lists(st.floats(-10, 10), min_size=1, max_size=30), seed=seeds)
def test_squared_loss_bounds_zero_one(backend, s, seed):
    """1[ys <= 0] <= (y - s)^2 elementwise (exact: either side is computed exactly or the left
    is 0), and dlcore's per-example gradient is (d/ds (y - s)^2) x = 2 (s - y) x (here x = s,
    w = 1, so the score is s)."""
    y = pm1(len(s), seed)
    sb, yb = backend.asarray(np.array(s)), backend.asarray(y)
    zo = backend.to_numpy(zero_one_loss(sb, yb))
    sq = backend.to_numpy(per_example_losses(backend.asarray(np.ones(1)), sb[:, None], yb))
    assert (zo <= sq).all()
    assert zo.mean() <= sq.mean()
    g = backend.to_numpy(per_example_grads(backend.asarray(np.ones(1)), sb[:, None], yb))[:, 0]
    assert_close(
        g,
        2 * (np.array(s) - y) * np.array(s),
        claim=SQBOUND,
        backend=backend,
        kind="identity",
        scale=1 + float(np.linalg.norm(2 * (np.abs(s) + 1) * np.abs(s))),
        what="2 (s - y) x",
    )
    assert float(per_example_losses(np.ones(1), np.array([[5.0]]), np.array([1.0]))[0]) == 16.0


@claim(SURR)
@pytest.mark.parametrize("backend", backend_params())
@given(s=st.lists(st.floats(-50, 50), min_size=1, max_size=20), K=st.integers(2, 6), seed=seeds)
def test_surrogate_gradients_convexity_and_bounds(backend, s, K, seed):
    """Against torch autograd (float64 oracle): logistic and hinge derivatives (hinge off the
    kink), cross-entropy gradient; its Hessian diag(p) - pp^T is PSD; midpoint convexity; the
    K = 2 identity; log2(1 + e^-m) and the hinge are >= 1[m <= 0]. Tolerances: a few operations
    per entry, relative to the entry's scale (1 for bounded derivatives)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    sa = np.array(s)
    y = pm1(len(s), seed)
    sb, yb = backend.asarray(sa), backend.asarray(y)
    st_ = torch.tensor(sa, requires_grad=True)
    m = torch.as_tensor(y) * st_
    torch.logaddexp(torch.zeros_like(m), -m).sum().backward()  # softplus' threshold=20 is inexact
    assert_close(
        logistic_loss_grad(sb, yb),
        st_.grad.numpy(),
        claim=SURR,
        backend=backend,
        dim=4,
        scale=math.sqrt(len(s)),
        what="logistic derivative",
    )
    off = np.abs(y * sa - 1) > 1e-9
    assert_close(
        backend.to_numpy(hinge_loss_grad(sb, yb))[off],
        np.where(y * sa < 1, -y, 0.0)[off],
        claim=SURR,
        backend=backend,
        dim=1,
        what="hinge subgradient",
    )
    Z = rng.uniform(-50, 50, (len(s), K))
    labels = list(rng.integers(0, K, len(s)))
    zt = torch.tensor(Z, requires_grad=True)
    torch.nn.functional.cross_entropy(zt, torch.as_tensor(labels), reduction="sum").backward()
    assert_close(
        cross_entropy_grad(backend.asarray(Z), labels),
        zt.grad.numpy(),
        claim=SURR,
        backend=backend,
        dim=4 * K,
        scale=math.sqrt(len(s)),
        what="cross-entropy gradient",
    )
    p = backend.to_numpy(softmax(backend.asarray(Z)))
    for row in p:
        assert np.linalg.eigvalsh(np.diag(row) - np.outer(row, row)).min() >= -tolerance(
            backend.eps, kind="gradient", dim=K
        )
    t2 = rng.uniform(-50, 50, len(s))
    mid = backend.asarray((sa + t2) / 2)
    for f in (logistic_loss, hinge_loss):
        lhs = backend.to_numpy(f(mid, yb))
        rhs = (backend.to_numpy(f(sb, yb)) + backend.to_numpy(f(backend.asarray(t2), yb))) / 2
        assert (
            lhs <= rhs + tolerance(backend.eps, kind="gradient", dim=4) * (1 + np.abs(rhs))
        ).all()
    Z2 = np.stack([np.zeros(len(s)), sa], axis=1)
    cls = [int(v > 0) for v in y]
    assert_close(
        cross_entropy(backend.asarray(Z2), cls),
        backend.to_numpy(logistic_loss(sb, yb)),
        claim=SURR,
        backend=backend,
        dim=8,
        scale=1 + float(np.linalg.norm(sa)),
        what="K = 2 cross-entropy vs logistic",
    )
    zo = backend.to_numpy(zero_one_loss(sb, yb))
    assert (
        backend.to_numpy(logistic_loss(sb, yb)) / math.log(2) >= zo * (1 - 4 * backend.eps)
    ).all()
    assert (backend.to_numpy(hinge_loss(sb, yb)) >= zo).all()


@claim(SURR, breaks="differentiability of the hinge at the kink m = 1")
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(y=st.sampled_from([-1.0, 1.0]), h=log_uniform(1e-6, 1e-2))
def test_hinge_has_two_one_sided_derivatives_at_the_kink(backend, y, h):
    """At s = y (m = 1) the one-sided difference quotients in s are -y (towards m < 1) and 0:
    no derivative exists, and dlcore's documented subgradient there is 0."""
    yb = backend.asarray(np.array([y]))

    def f(s):
        return float(backend.to_numpy(hinge_loss(backend.asarray(np.array([s])), yb))[0])

    towards_small_m = (f(y - y * h) - f(y)) / (-y * h)  # moving s so that m = 1 - h
    towards_big_m = (f(y + y * h) - f(y)) / (y * h)
    assert_close(
        towards_small_m,
        -y,
        claim=SURR,
        backend=backend,
        kind="gradient",
        cond=1 / h,
        what="left quotient",
    )
    assert towards_big_m == 0.0
    assert float(backend.to_numpy(hinge_loss_grad(backend.asarray(np.array([y])), yb))[0]) == 0.0


@claim(SOFTMAX)
@pytest.mark.parametrize("backend", backend_params())
@given(
    z=st.lists(st.floats(-50, 50), min_size=2, max_size=20),
    c=st.floats(-100, 100),
    T=log_uniform(1e-2, 10.0),
)
def test_softmax_properties(backend, z, c, T):
    """Simplex, shift invariance, order, Jacobian (against central differences of dlcore's
    softmax, error ~ eps/h + h^2 with h = eps^(1/3)), and the temperature bound."""
    za = np.array(z)
    K = len(za)
    p = backend.to_numpy(softmax(backend.asarray(za)))
    assert (p > 0).all() or ((p >= 0).all() and backend.dtype_name == "float32")
    assert_close(p.sum(), 1.0, claim=SOFTMAX, backend=backend, kind="identity", dim=K, what="sum")
    assert_close(
        backend.to_numpy(softmax(backend.asarray(za + c))),
        p,
        claim=SOFTMAX,
        backend=backend,
        kind="identity",
        dim=K,
        cond=1 + abs(c) + float(np.abs(za).max()),
        scale=1.0,
        what="shift invariance",
    )
    order = np.argsort(za, kind="stable")
    assert (np.diff(p[order]) >= 0).all()
    h = backend.eps ** (1 / 3)
    J = np.array(
        [
            (
                backend.to_numpy(softmax(backend.asarray(za + h * e)))
                - backend.to_numpy(softmax(backend.asarray(za - h * e)))
            )
            / (2 * h)
            for e in np.eye(K)
        ]
    ).T
    assert_close(
        J,
        np.diag(p) - np.outer(p, p),
        claim=SOFTMAX,
        backend=backend,
        dim=K,
        cond=1 / backend.eps ** (1 / 3),
        scale=1.0,
        what="Jacobian",
    )
    top = int(np.argmax(za))
    gap = za[top] - np.max(np.delete(za, top))
    if gap > 0:
        pT = backend.to_numpy(softmax(backend.asarray(za / T)))
        assert 1 - pT[top] <= (K - 1) * math.exp(-gap / T) + K * backend.eps


@claim(TRUELOSS)
@pytest.mark.parametrize("backend", backend_params())
def test_surrogate_and_true_loss_rank_models_differently(backend):
    """The lecture's counterexample, exactly (the values are exact in binary up to one rounding)."""
    y = backend.asarray(np.array([1.0, 1.0]))
    one = backend.asarray(np.ones(1))
    results = {}
    for name, s in {"A": [-0.1, 1.0], "B": [3.0, 3.0]}.items():
        sb = backend.asarray(np.array(s))
        sq = float(np.sum(backend.to_numpy(per_example_losses(one, sb[:, None], y))))
        zo = float(np.mean(backend.to_numpy(zero_one_loss(sb, y))))
        results[name] = (sq, zo)
    assert_close(
        results["A"][0], 1.21, claim=TRUELOSS, backend=backend, dim=2, what="squared loss of A"
    )
    assert results["A"][1] == 0.5 and results["B"] == (8.0, 0.0)
    assert results["A"][0] < results["B"][0] and results["A"][1] > results["B"][1]


@claim(DEBUG)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(2, 20), d=(1, 5), shape="tall", max_cond=10.0),
    c=st.floats(0.1, 1.9),
    seed=seeds,
)
def test_training_zero_one_error_stays_below_the_squared_loss(backend, problem, c, seed):
    """dlcore.train on the mean squared loss (labels +-1); at every checkpoint the mean 0-1 error
    is at most the mean squared loss (an exact elementwise bound, so no tolerance is needed)."""
    y = pm1(problem.n, seed)
    X, yb = backend.asarray(problem.X), backend.asarray(y)
    lr = c / (2 * problem.sigma_max**2 / problem.n)
    hist = train(
        gd(lr),
        lambda p, t: {"w": empirical_risk_grad(p["w"], X, yb)},
        {"w": backend.asarray(np.zeros(problem.d))},
        40,
        checkpoint_every=1,
    )
    for _, p in hist.checkpoints:
        s = X @ p["w"]
        zo = float(np.mean(backend.to_numpy(zero_one_loss(s, yb))))
        sq = float(backend.to_numpy(empirical_risk(p["w"], X, yb)))
        assert zo <= sq


BIASVAR = "learning.bias-variance-decomposition"


@claim(BIASVAR)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(2, 7), d=(1, 4), rank="any", max_cond=10.0),
    lam=log_uniform(1e-2, 10.0),
    sigma=st.floats(0.1, 2.0),
    seed=seeds,
)
def test_bias_variance_decomposition_for_ridge(backend, problem, lam, sigma, seed):
    """Noise eps_i = +-sigma (Rademacher: mean 0, variance sigma^2): enumerate all 2^n noise
    vectors, fit dlcore's ridge on each, and average (y0 - x0^T w)^2 over them and over
    eps_0 = +-sigma. Exact against sigma^2 + bias^2 + sigma^2 ||s||^2 with s from a float64 solve.
    Tolerance: a ridge solve, cond (sigma_max^2 + lam) / lam, relative to (|f0| + ||s|| ||y||)^2."""
    rng = np.random.default_rng(seed)
    X = problem.X
    f = X @ rng.standard_normal(problem.d) + 0.3 * rng.standard_normal(problem.n)  # any f
    x0 = rng.standard_normal(problem.d)
    f0 = float(rng.standard_normal())
    s = X @ np.linalg.solve(X.T @ X + lam * np.eye(problem.d), x0)
    Xb = backend.asarray(X)
    total = 0.0
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * problem.n)).reshape(problem.n, -1).T
    for eps in signs:
        w = backend.to_numpy(ridge(Xb, backend.asarray(f + sigma * eps), lam))
        pred = float(x0 @ w)
        total += 0.5 * ((f0 + sigma - pred) ** 2 + (f0 - sigma - pred) ** 2)
    total /= len(signs)
    predicted = sigma**2 + (f0 - s @ f) ** 2 + sigma**2 * float(s @ s)
    ref = (
        abs(f0) + sigma + float(np.linalg.norm(s)) * float(np.linalg.norm(np.abs(f) + sigma))
    ) ** 2
    assert_close(
        total,
        predicted,
        claim=BIASVAR,
        backend=backend,
        cond=(problem.sigma_max**2 + lam) / lam,
        dim=problem.n + problem.d,
        scale=ref,
        what="E (y0 - f_hat(x0))^2",
    )
