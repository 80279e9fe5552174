"""Figures of the SGD chapter (docs/sgd.md): one function per figure, each returning it."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from dlcore.data import batch_schedule, enumerate_batches, sample_batch
from dlcore.linear import ridge
from dlcore.losses import minibatch_grad, per_example_grads, squared_loss, squared_loss_grad
from dlcore.optim import apply_updates, gd, sgd
from dlcore.train import run, train
from figures import new_figure

__all__ = [
    "unbiased_minibatch_gradients",
    "gradient_snr",
    "minibatch_covariance",
    "epoch_schedules",
    "sgd_diverges_where_gd_converges",
    "per_example_gradients",
    "noise_ball",
    "interpolation_and_noise_floor",
    "decaying_step",
    "bounce_or_random_walk",
    "averaging_as_sgd",
    "lms_tracking",
    "iterations_epochs_seconds",
]


def unbiased_minibatch_gradients() -> Any:
    r"""Every minibatch gradient $\hat g_B$ of a small least-squares problem, with and without
    replacement (`enumerate_batches`): their probability-weighted mean is the full gradient."""
    rng = np.random.default_rng(3)
    X, y, w = rng.standard_normal((6, 2)), rng.standard_normal(6), np.zeros(2)
    full = squared_loss_grad(w, X, y)
    fig, axes = new_figure(2, height=3.4)
    for ax, scheme in zip(axes, ["with", "without"], strict=True):
        batches = enumerate_batches(6, 2, scheme=scheme)
        G = np.array([minibatch_grad(w, X, y, B) for B, _ in batches])
        p = np.array([prob for _, prob in batches])
        ax.scatter(G[:, 0], G[:, 1], s=12, alpha=0.6, label=f"ĝ_B, all {len(batches)} batches")
        mean = p @ G
        ax.plot(*mean, "ko", ms=9, mfc="none", label="probability-weighted mean")
        ax.plot(*full, "r+", ms=12, mew=2, label="full gradient ∇L")
        ax.set(xlabel="g₁", ylabel="g₂", title=f"b = 2 of n = 6, {scheme} replacement")
        ax.legend()
    return fig


def gradient_snr() -> Any:
    r"""The gradient signal-to-noise ratio $\|\bar g\|^2 / \overline{\|g_i - \bar g\|^2}$ against the
    distance to the minimiser (left), and the per-example gradients of mean estimation, which
    disagree in sign only between the extreme examples (right)."""

    def snr(
        w: Any, X: Any, y: Any
    ) -> Any:  # |mean gradient|^2 / mean squared deviation of one example's gradient
        G = per_example_grads(w, X, y)
        g = G.mean(axis=0)
        return g @ g / np.mean(np.sum((G - g) ** 2, axis=1))

    rng = np.random.default_rng(10)
    n, d = 50, 5
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    w_hat, u = ridge(X, y, 0.0), rng.standard_normal(d)
    u /= np.linalg.norm(u)
    x1 = rng.standard_normal(n)  # mean estimation: one feature equal to 1
    ones = np.ones((n, 1))
    r = np.logspace(-3, 2, 40)
    fig, (ax, ax2) = new_figure(2, height=3.3)
    ax.loglog(r, [snr(w_hat + k * u, X, y) for k in r], label=f"least squares, n = {n}, d = {d}")
    ax.loglog(r, [snr(np.array([x1.mean() + k]), ones, x1) for k in r], label="mean estimation")
    ax.axhline(1, color="k", lw=0.8, ls=":")
    ax.set(
        xlabel="distance ‖w − ŵ‖",
        ylabel="gradient SNR (b = 1)",
        title="far away, the examples agree",
    )
    ax.legend()
    ws = np.linspace(-4, 4, 200)
    G = np.array([per_example_grads(np.array([w]), ones, x1)[:, 0] for w in ws])
    ax2.plot(ws, G[:, :15], lw=0.5, color="tab:blue")
    ax2.axvspan(
        x1.min(), x1.max(), color="tab:orange", alpha=0.15, label="examples disagree in sign"
    )
    ax2.axhline(0, color="k", lw=0.8)
    ax2.set(xlabel="w", ylabel="∇ℓᵢ(w) = 2(w − xᵢ)", title="mean estimation, per example")
    ax2.legend()
    return fig


def minibatch_covariance() -> Any:
    r"""The trace of the covariance of $\hat g_B$ against $b$: exact by enumeration for a small $n$
    (left), sampled for a large $n$ (right), against $n^2\operatorname{tr}\Sigma/b$ and its
    finite-population correction $(n-b)/(n-1)$."""
    bs: Any
    b: Any
    rng = np.random.default_rng(0)
    fig, (ax, ax2) = new_figure(2, width=7.5, height=3.3)
    n, d = 7, 2
    X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), np.zeros(d)
    for scheme, marker in [("with", "o"), ("without", "s")]:
        traces = []
        for b in range(1, n + 1):
            if scheme == "with" and b > 4:
                break  # n^b tuples: enumerate only small b
            batches = enumerate_batches(n, b, scheme=scheme)
            G = np.array([minibatch_grad(w, X, y, B) for B, _ in batches])
            p = np.array([q for _, q in batches])
            m = p @ G
            traces.append(float(np.sum(p * np.sum((G - m) ** 2, axis=1))))
        bs = np.arange(1, len(traces) + 1)
        ax.plot(
            bs, traces, marker, ms=6, mfc="none", label=f"exact tr Cov ĝ_B, {scheme} replacement"
        )
    g = 2 * X * (X @ w - y)[:, None]
    tr = n**2 * np.trace(np.cov(g.T, bias=True))
    bs = np.linspace(1, n, 100)
    ax.plot(bs, tr / bs, "k--", lw=0.8, label="n² tr Σ / b")
    ax.plot(bs, tr / bs * (n - bs) / (n - 1), "k:", lw=0.8, label="n² tr Σ / b · (n − b)/(n − 1)")
    ax.set(
        xlabel="batch size b",
        ylabel="trace of the covariance",
        title=f"n = {n}: enumeration vs formula",
    )
    ax.legend()
    # large n: Monte Carlo over 200 batches per b, each scheme
    n, d = 1000, 2
    X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), np.zeros(d)
    for replace, marker in [(True, "o"), (False, "s")]:
        bs = np.array([1, 4, 16, 64, 256, 512, 900])
        traces = []
        for b in bs:
            G = np.array(
                [
                    minibatch_grad(w, X, y, sample_batch(n, b, replace=replace, rng=rng))
                    for _ in range(200)
                ]
            )
            traces.append(float(np.sum(np.var(G, axis=0))))
        name = "with" if replace else "without"
        ax2.loglog(bs, traces, marker, ms=6, mfc="none", label=f"sampled tr Cov ĝ_B, {name}")
    g = 2 * X * (X @ w - y)[:, None]
    tr = n**2 * np.trace(np.cov(g.T, bias=True))
    bs = np.linspace(1, 900, 400)
    ax2.loglog(bs, tr / bs, "k--", lw=0.8, label="n² tr Σ / b")
    ax2.loglog(bs, tr / bs * (n - bs) / (n - 1), "k:", lw=0.8, label="· (n − b)/(n − 1)")
    ax2.set(xlabel="batch size b", title=f"n = {n}: factor matters near b = n")
    ax2.legend()
    return fig


def epoch_schedules() -> Any:
    """The example drawn at each position of each epoch by `batch_schedule(scheme="epoch")`,
    reshuffled every epoch (left) or shuffled once (right)."""
    n, b, epochs = 12, 3, 3
    fig, axes = new_figure(2, width=7.5, height=2.4)
    for ax, reshuffle in zip(axes, [True, False], strict=True):
        batches = batch_schedule(
            n, b, epochs * n // b, scheme="epoch", rng=np.random.default_rng(0), reshuffle=reshuffle
        )
        order = np.array(batches).reshape(epochs, n)  # row = epoch, columns = positions
        ax.imshow(order, cmap="tab20", vmin=0, vmax=19, aspect="auto")
        for (r, c), i in np.ndenumerate(order):
            ax.text(c, r, str(i), ha="center", va="center", fontsize=9)
        for k in range(b, n, b):
            ax.axvline(k - 0.5, color="k", lw=2)
        ax.set(
            xticks=[b * k + (b - 1) / 2 for k in range(n // b)],
            xticklabels=[f"batch {k + 1}" for k in range(n // b)],
            yticks=range(epochs),
            yticklabels=[f"epoch {e + 1}" for e in range(epochs)],
            title="reshuffled every epoch" if reshuffle else "one shuffle, reused",
        )
        ax.grid(False)
    return fig


def sgd_diverges_where_gd_converges() -> Any:
    r"""GD and SGD paths on a two-example problem at $\eta\lambda_{\max} = 1.5$: GD converges, SGD's
    second moment grows as the exact $\sqrt{E e_t^2}$ (dashed)."""
    a, step = 1.0, 1.5  # lr * lambda_max = 1.5: GD factor -0.5, SGD factors 1 and -2
    X, y = np.array([[0.0], [a]]), np.array([0.0, 0.0])
    lr = step / (2 * a**2)
    fig, ax = new_figure(1, width=5.5, height=3.3)
    _, traj = run(
        sgd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": np.ones(1)},
        40,
        record_every=1,
    )
    ax.semilogy([abs(p["w"][0]) + 1e-300 for p in traj], "k", lw=2, label="GD  |e_t|")
    for seed in range(8):
        batches = batch_schedule(2, 1, 40, scheme="with", rng=np.random.default_rng(seed))

        def grad(p: Any, t: int, batches: Any = batches) -> Any:
            return {"w": minibatch_grad(p["w"], X, y, batches[t])}

        _, traj = run(
            sgd(lr),
            grad,
            {"w": np.ones(1)},
            40,
            record_every=1,
        )
        ax.semilogy(
            [abs(p["w"][0]) for p in traj],
            lw=0.7,
            alpha=0.8,
            label="SGD paths" if seed == 0 else None,
        )
    ax.semilogy(
        (0.5 + 0.5 * (1 - 2 * step) ** 2) ** (np.arange(41) / 2), "r--", label="√E e_t² (exact)"
    )
    ax.set(xlabel="step t", ylabel="|e_t|", title="ηλ_max = 1.5: GD converges, SGD diverges")
    ax.legend()
    return fig


def per_example_gradients() -> Any:
    r"""A least-squares line with its residuals (left), and the per-example gradients at $\hat w$
    (right), which sum to zero head to tail without being zero."""
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-1, 1, 7))
    X = np.column_stack([np.ones_like(x), x])  # intercept and slope
    y = 0.5 + 0.8 * x + 0.3 * rng.standard_normal(7)
    w = ridge(X, y, 0.0)  # least squares
    G = per_example_grads(w, X, y)  # 2 x_i (x_i^T w - y_i), one row per example
    fig, (ax, ax2) = new_figure(2, height=3.4)
    colors = [f"C{i}" for i in range(len(x))]
    grid = np.linspace(-1.1, 1.1, 2)
    ax.plot(grid, w[0] + w[1] * grid, "k", lw=1)
    for xi, yi, c in zip(x, y, colors, strict=True):
        ax.plot([xi, xi], [yi, w[0] + w[1] * xi], color=c, lw=1.5)
    ax.scatter(x, y, c=colors, zorder=3)
    ax.set(xlabel="x", ylabel="y", title="least-squares line and residuals")
    start = np.zeros(2)
    for g, c in zip(G, colors, strict=True):
        ax2.annotate("", xy=g, xytext=(0, 0), arrowprops=dict(arrowstyle="->", color=c, alpha=0.35))
        ax2.annotate(
            "", xy=start + g, xytext=start, arrowprops=dict(arrowstyle="->", color=c, lw=1.5)
        )
        start = start + g
    ax2.plot(0, 0, "ko", ms=5)
    pts = np.vstack([np.zeros(2), G, np.cumsum(G, axis=0)])  # annotate() sets no limits: do it here
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.1 * (hi - lo).max()
    ax2.set(xlim=(lo[0] - pad, hi[0] + pad), ylim=(lo[1] - pad, hi[1] + pad))
    ax2.set(xlabel="∂ℓᵢ/∂(intercept)", ylabel="∂ℓᵢ/∂(slope)", title="per-example gradients at ŵ")
    return fig


def noise_ball() -> Any:
    r"""The stationary $E(m_t - \mu)^2$ of constant-step SGD for mean estimation, simulated over many
    chains, against the exact $\gamma\sigma^2/(2-\gamma)$."""
    rng = np.random.default_rng(2)
    mu, sigma, chains, T = 1.0, 1.0, 200, 200
    I = np.eye(chains)  # noqa: E741  chain j estimates the mean from its own stream: gradient 2(m_j - x_j)
    gammas = np.array([0.05, 0.2, 0.5, 1.0, 1.6])
    sim = []
    for gamma in gammas:
        x = mu + sigma * rng.standard_normal((T, chains))

        def grad(p: Any, t: int, x: Any = x) -> Any:
            return {"w": squared_loss_grad(p["w"], I, x[t])}

        _, traj = run(
            gd(gamma / 2),  # m <- m - gamma (m - x_t)
            grad,
            {"w": np.full(chains, mu)},
            T,
            record_every=1,
        )
        M = np.array([p["w"] for p in traj[T // 2 :]])
        sim.append(np.mean((M - mu) ** 2))
    theory = gammas * sigma**2 / (2 - gammas)
    # Each point averages chains x T/2 squared Gaussian errors (variance 2 v^2 each), correlated in
    # time with factor (1 - gamma)^2: at least chains * T/2 * (1 - r) / (1 + r) ~ 1000 effective
    # samples for the smallest gamma (r = 0.9025), a relative standard error below 0.05. The chains
    # start at mu, and (1 - gamma)^T is negligible by step T/2. 0.3 is six standard errors.
    assert np.all(np.abs(np.array(sim) / theory - 1) < 0.3), np.array(sim) / theory
    g = np.linspace(0.02, 1.8, 200)
    fig, ax = new_figure(1, width=5.5, height=3.2)
    ax.semilogy(gammas, sim, "o", label=f"simulation, {chains} chains")
    ax.semilogy(g, g * sigma**2 / (2 - g), "k--", lw=0.8, label="theory γσ² / (2 − γ)")
    ax.set(
        xlabel="step γ",
        ylabel="E (m_t − μ)²  (stationary)",
        title="noise ball of constant-step SGD",
    )
    ax.legend()
    return fig


def interpolation_and_noise_floor() -> Any:
    r"""Constant-step SGD ($b = 1$) with and without an interpolating solution (left), and the noise
    floor without one against $\eta$ (right)."""

    def sgd_distances(X: Any, y: Any, target: Any, lr: float, steps: int, seed: int) -> Any:
        batches = batch_schedule(
            X.shape[0], 1, steps, scheme="with", rng=np.random.default_rng(seed)
        )
        _, traj = run(
            sgd(lr),
            lambda p, t: {"w": minibatch_grad(p["w"], X, y, batches[t])},
            {"w": np.zeros(X.shape[1])},
            steps,
            record_every=1,
        )
        return np.array([np.sum((p["w"] - target) ** 2) for p in traj])

    rng = np.random.default_rng(0)
    fig, (ax, ax2) = new_figure(2, height=3.4)
    Xw, yw = rng.standard_normal((5, 12)), rng.standard_normal(5)  # consistent (wide)
    Xt = rng.standard_normal((12, 3))
    yt = Xt @ rng.standard_normal(3) + 0.5 * rng.standard_normal(12)  # inconsistent (tall)
    for X, y, name in [
        (Xw, yw, "interpolation (n=5, d=12)"),
        (Xt, yt, "no interpolation (n=12, d=3)"),
    ]:
        n = X.shape[0]
        lr = 0.5 / (n * np.max(np.sum(X * X, axis=1)))
        target = np.linalg.pinv(X) @ y
        ax.semilogy(sgd_distances(X, y, target, lr, 1500, 1), lw=0.8, label=name)
    ax.set(
        xlabel="step t", ylabel="‖w_t − ŵ‖²", title="constant-step SGD, b = 1", ylim=(1e-31, 1e2)
    )
    ax.legend()
    n = Xt.shape[0]
    base = 1 / (n * np.max(np.sum(Xt * Xt, axis=1)))
    lrs = base * np.array([0.025, 0.05, 0.1, 0.2, 0.4])
    target = np.linalg.pinv(Xt) @ yt
    floors = [
        np.mean([sgd_distances(Xt, yt, target, lr, 3000, s)[1500:].mean() for s in range(3)])
        for lr in lrs
    ]
    ax2.loglog(lrs, floors, "o-", label="mean ‖w_t − θ_LS‖², late steps")
    ax2.loglog(lrs, floors[0] * lrs / lrs[0], "k--", lw=0.8, label="∝ η")
    ax2.set(xlabel="step η", ylabel="noise floor", title="no interpolation: floor ∝ η")
    ax2.legend()
    return fig


def decaying_step() -> Any:
    r"""GD, constant-step SGD and SGD with a decaying step on a 2-D least-squares problem: the paths
    (left) and the distance to $\hat w$ (right), with the constant step's plateau
    $\operatorname{tr}P$ computed from its second-moment recursion."""
    rng = np.random.default_rng(11)
    n, T = 20, 250
    X = rng.standard_normal((n, 2)) * np.array([1.0, 0.7])
    y = X @ np.array([1.0, -1.0]) + 0.5 * rng.standard_normal(n)
    w_hat = ridge(X, y, 0.0)
    batches = batch_schedule(n, 1, T, scheme="with", rng=np.random.default_rng(0))
    gamma = 0.5 / (n * np.max(np.sum(X * X, axis=1)))  # constant SGD step

    def path(lr_of_t: Any, grad: Any, steps: int) -> Any:
        p, out = {"w": np.array([-1.0, 1.5])}, []
        for t in range(steps):
            out.append(p["w"])
            opt = sgd(lr_of_t(t))
            upd, _ = opt.update({"w": grad(p["w"], t)}, opt.init(p), p)
            p = apply_updates(p, upd)
        return np.array([*out, p["w"]])

    def full(w: Any, t: int) -> Any:
        return squared_loss_grad(w, X, y)

    def mini(w: Any, t: int) -> Any:
        return minibatch_grad(w, X, y, batches[t])

    runs = [
        ("GD", path(lambda t: 0.5 / np.linalg.norm(X, 2) ** 2, full, 60)),
        ("SGD, constant η", path(lambda t: gamma, mini, T)),
        ("SGD, η_t = η / (1 + t/30)", path(lambda t: gamma / (1 + t / 30), mini, T)),
    ]
    fig, (ax, ax2) = new_figure(2, height=3.5)
    g1, g2 = np.meshgrid(np.linspace(-1.5, 2.5, 20), np.linspace(-2.5, 2.0, 20))
    Z = [
        [float(squared_loss(np.array([a, b]), X, y)) for a, b in zip(*r, strict=True)]
        for r in zip(g1, g2, strict=True)
    ]
    ax.contour(g1, g2, Z, levels=np.quantile(Z, np.linspace(0.01, 0.9, 10)), colors="grey", lw=0.5)
    for name, W in runs:
        ax.plot(W[:, 0], W[:, 1], ".-", ms=2, lw=0.6, label=name)
        ax2.loglog(np.arange(1, len(W) + 1), np.sum((W - w_hat) ** 2, axis=1), lw=0.9, label=name)
    # The constant-step plateau: with e = w - w_hat, SGD steps e <- (I - gamma A_i) e - gamma g_i, with
    # A_i, g_i the Hessian and gradient at w_hat of example i's (n-scaled) loss. Its stationary second
    # moment P solves P = mean_i[(I - gamma A_i) P (I - gamma A_i) + gamma^2 g_i g_i^T].
    E = np.eye(2)
    g = np.array([minibatch_grad(w_hat, X, y, [i]) for i in range(n)])
    A = np.array([[minibatch_grad(w_hat + e, X, y, [i]) - g[i] for e in E] for i in range(n)])
    B = E - gamma * A  # B[i] is symmetric
    M = np.mean([np.kron(b, b) for b in B], axis=0)
    Q = gamma**2 * np.mean([np.outer(gi, gi) for gi in g], axis=0)
    plateau = np.trace(np.linalg.solve(np.eye(4) - M, Q.ravel()).reshape(2, 2))
    ax2.axhline(plateau, color="tab:orange", ls=":", lw=1, label="constant-η plateau tr P")
    ax.plot(*w_hat, "k*", ms=10)
    ax.set(xlabel="w₁", ylabel="w₂", title="least squares, n = 20, b = 1")
    ax.legend(loc="lower left")
    ax2.set(
        xlabel="step t + 1", ylabel="‖w_t − ŵ‖²", title="distance to the minimiser", ylim=(1e-5, 20)
    )
    ax2.legend(loc="lower left")
    return fig


def bounce_or_random_walk() -> Any:
    r"""GD's error bouncing at $\eta\lambda = 1.5$, stationary SGD's error wandering, and their
    autocorrelations: negative at lag one for GD, $(1-\gamma)^k$ for SGD."""

    def acf(e: Any, lags: Any) -> list[Any]:  # normalised lag products of a zero-mean signal
        return [np.sum(e[: len(e) - k] * e[k:]) / np.sum(e * e) for k in lags]

    one = np.ones((1, 1))
    _, traj = run(  # GD on one mode with lambda = 1 at eta lambda = 1.5
        gd(1.5),
        lambda p, t: {"w": squared_loss_grad(p["w"], np.sqrt(0.5) * one, np.zeros(1))},
        {"w": np.ones(1)},
        30,
        record_every=1,
    )
    e_gd = np.array([p["w"][0] for p in traj])
    assert acf(e_gd, [1])[0] < 0  # the bounce: consecutive GD errors have opposite signs
    rng = np.random.default_rng(5)
    gamma, T = 0.1, 600
    x = rng.standard_normal(T)  # mean estimation of mu = 0: SGD m <- m - gamma (m - x_t)
    _, traj = run(
        gd(gamma / 2),
        lambda p, t: {"w": squared_loss_grad(p["w"], one, x[t : t + 1])},
        {"w": np.zeros(1)},
        T,
        record_every=1,
    )
    e_sgd = np.array([p["w"][0] for p in traj])
    fig, (ax, ax2, ax3) = new_figure(3, width=7.5, height=3.0)
    ax.plot(e_gd, ".-", ms=3, lw=0.8)
    ax.set(xlabel="step t", ylabel="e_t", title="GD, ηλ = 1.5: bounce")
    ax2.plot(e_sgd, lw=0.8, color="tab:orange")
    ax2.set(xlabel="step t", title=f"SGD, γ = {gamma}: random walk")
    lags = np.arange(0, 11)
    ax3.bar(lags - 0.2, acf(e_gd, lags), 0.4, label="GD")
    ax3.bar(lags + 0.2, acf(e_sgd[100:], lags), 0.4, label="SGD")
    ax3.plot(lags, (1 - gamma) ** lags, "k:", lw=0.8, label="(1 − γ)ᵏ")
    ax3.set(xlabel="lag k", title="autocorrelation")
    ax3.legend()
    return fig


def averaging_as_sgd() -> Any:
    r"""Running mean and EMA of a stream as SGD with steps $\gamma_k = 1/k$ and constant $\gamma$
    (left), and how far each new sample moves the running mean (right)."""
    rng = np.random.default_rng(1)
    N = 400
    x = 1.0 + rng.standard_normal(N)
    X = np.ones((N, 1))

    def stream(gammas: Any) -> Any:
        p, out = {"w": np.zeros(1)}, []
        for k, g in enumerate(gammas):
            opt = sgd(g / (2 * N))  # dlcore's n-scaled step: lr = gamma / (2N)
            upd, _ = opt.update({"w": minibatch_grad(p["w"], X, x, [k])}, opt.init(p), p)
            p = apply_updates(p, upd)
            out.append(p["w"][0])
        return np.array(out)

    k = np.arange(1, N + 1)
    fig, (ax, ax2) = new_figure(2, height=3.3)
    ax.plot(k, x, ".", ms=2, color="grey", label="samples x_k")
    ax.plot(k, stream(1 / k), label="SGD, γ_k = 1/k (running mean)")
    ax.plot(k, stream(np.full(N, 0.05)), label="SGD, γ = 0.05 (EMA)")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="k", ylabel="estimate", title="averaging as SGD", ylim=(-1, 3))
    ax.legend()
    m = stream(1 / k)
    ax2.loglog(k[1:], np.abs(np.diff(m)), ".", ms=2, label="|m_k − m_{k−1}|")
    ax2.loglog(k, 2 / k, "k--", lw=0.8, label="∝ 1/k")
    ax2.set(xlabel="k", ylabel="move", title="each new point moves the mean less")
    ax2.legend()
    return fig


def lms_tracking() -> Any:
    """LMS (SGD with one sample per step) tracking a slowly turning true weight (left), and its
    tracking error against a least-squares fit frozen after the first samples (right)."""
    rng = np.random.default_rng(11)
    T, mu = 600, 0.05
    angle = 2 * np.pi * np.arange(T) / 1200  # the true weight turns slowly
    W_true = np.column_stack([np.cos(angle), np.sin(angle)])
    Xs = rng.standard_normal((T, 2))
    ys = np.sum(Xs * W_true, axis=1) + 0.1 * rng.standard_normal(T)
    _, traj = run(  # LMS = SGD with one sample per step: w <- w - mu * 2 x_t (x_t^T w - y_t)
        gd(mu),
        lambda p, t: {"w": squared_loss_grad(p["w"], Xs[t : t + 1], ys[t : t + 1])},
        {"w": np.zeros(2)},
        T,
        record_every=1,
    )
    W_lms = np.array([p["w"] for p in traj[1:]])  # the estimate after seeing sample t
    w_frozen = ridge(Xs[:100], ys[:100], 0.0)  # least squares on the first 100 samples, then frozen
    t = np.arange(T)
    fig, (ax, ax2) = new_figure(2, height=3.3)
    for k, ls in [(0, "-"), (1, "--")]:
        ax.plot(t, W_true[:, k], "k", ls=ls, lw=1, label=f"true w{k + 1}")
        ax.plot(t, W_lms[:, k], "tab:blue", ls=ls, lw=0.8, label=f"LMS w{k + 1}")
    ax.set(xlabel="time t", ylabel="weight", title=f"LMS tracks a drifting target (μ = {mu})")
    ax.legend(ncol=2)
    ax2.semilogy(t, np.linalg.norm(W_lms - W_true, axis=1), lw=0.8, label="LMS")
    ax2.semilogy(t, np.linalg.norm(w_frozen - W_true, axis=1), label="frozen least-squares fit")
    ax2.set(xlabel="time t", ylabel="‖w_t − w*_t‖", title="tracking error")
    ax2.legend()
    return fig


def iterations_epochs_seconds() -> Any:
    """The excess loss of GD and minibatch SGD against iterations, epochs and wall-clock seconds
    measured at build time."""
    rng = np.random.default_rng(0)
    n, d = 200, 10
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    L_min = float(squared_loss(np.linalg.lstsq(X, y, rcond=None)[0], X, y))
    fig, (ax, ax2, ax3) = new_figure(3, width=7.5, height=3.3)
    for b in (n, 20, 1):
        steps = 400 if b == n else 4000
        lr = float(
            0.5 / (n * np.max(np.sum(X * X, axis=1))) if b < n else 0.5 / np.linalg.norm(X, 2) ** 2
        )
        batches = batch_schedule(n, b, steps, scheme="without", rng=np.random.default_rng(1))
        grad: Any = (
            (lambda p, t: {"w": squared_loss_grad(p["w"], X, y)})
            if b == n
            else (lambda p, t, B=batches: {"w": minibatch_grad(p["w"], X, y, B[t])})
        )
        hist = train(
            sgd(lr), grad, {"w": np.zeros(d)}, steps, loss_fn=lambda p: squared_loss(p["w"], X, y)
        )
        excess = np.array([r.loss for r in hist.records]) - L_min
        it = np.arange(1, steps + 1)
        name = "GD" if b == n else f"SGD, b = {b}"
        ax.loglog(it, excess, label=name)
        ax2.loglog(it * b / n, excess, label=name)
        # the same iterates again, timed: time.perf_counter() as each step starts, no loss evaluated
        stamps: list[float] = []

        def timed(p: Any, t: int, grad: Any = grad, stamps: list[float] = stamps) -> Any:
            stamps.append(time.perf_counter())
            return grad(p, t)

        t0 = time.perf_counter()
        run(sgd(lr), timed, {"w": np.zeros(d)}, steps)
        ax3.loglog(np.array(stamps) - t0, excess, label=name)
    ax.set(xlabel="iterations", ylabel="L(w_t) − L_min", title="per iteration")
    ax2.set(xlabel="epochs (examples processed / n)", title="per example processed")
    ax3.set(xlabel="wall-clock seconds (CPU)", title="per second (at build)")
    ax.legend()
    return fig
