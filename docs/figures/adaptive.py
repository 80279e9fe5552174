"""Figures of the adaptive chapter (docs/adaptive.md): one function per figure, each returning it."""

from __future__ import annotations

from typing import Any

import numpy as np

from dlcore.mlp import init_mlp
from dlcore.optim import adam, adamw, apply_updates, coupled_weight_decay, ema_momentum, gd
from dlcore.train import run
from figures import leave_note, new_figure

__all__ = [
    "per_coordinate_steps",
    "decoupled_weight_decay",
    "sign_gd_cannot_settle",
    "moment_estimates",
    "bias_correction",
    "loss_scaling",
    "rotated_hessian",
    "optimizer_memory",
    "learning_rate_sensitivity",
]


def per_coordinate_steps() -> Any:
    r"""`adam` on a quadratic with one steep and one flat coordinate: its effective step sizes
    $\eta/(\sqrt{\hat v_i}+\epsilon)$ read off its state (left), and the loss of GD, momentum and
    Adam (right)."""
    h = np.array([1.0, 0.01])

    def loss(w: Any) -> float:
        return 0.5 * float(np.sum(h * w**2))

    steps, eta = 300, 0.05
    eta_gd, eta_m, beta_m = 1 / h.max(), 2.0, 0.5  # GD at 1 / lambda_max; momentum in the EMA form
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.2)
    opt, p = adam(eta), {"w": np.ones(2)}
    eff: Any
    state, eff, adam_loss = opt.init(p), [], [loss(p["w"])]
    for t in range(1, steps + 1):
        upd, state = opt.update({"w": h * p["w"]}, state, p)
        p = apply_updates(p, upd)
        v_hat = state.v["w"] / (1 - 0.999**t)
        eff.append(eta / (np.sqrt(v_hat) + 1e-8))
        adam_loss.append(loss(p["w"]))
    eff = np.array(eff)
    ax.semilogy(eff[:, 0], label="steep coordinate (h = 1)")
    ax.semilogy(eff[:, 1], label="flat coordinate (h = 0.01)")
    ax.set(xlabel="step t", ylabel="η / (√v̂ + ε)", title="Adam's per-coordinate step sizes")
    ax.legend()
    for name, opt in (
        (f"GD, η = {eta_gd:g}", gd(eta_gd)),
        (f"momentum, η = {eta_m:g}, β = {beta_m}", ema_momentum(eta_m, beta_m)),
    ):
        p, state, curve = {"w": np.ones(2)}, opt.init({"w": np.ones(2)}), [0.5 * h.sum()]
        for _ in range(steps):
            upd, state = opt.update({"w": h * p["w"]}, state, p)
            p = apply_updates(p, upd)
            curve.append(loss(p["w"]))
        bx.semilogy(curve, label=name)
    bx.semilogy(adam_loss, label=f"Adam, η = {eta}")
    bx.set(xlabel="step t", ylabel="loss", title="loss on the ill-conditioned quadratic")
    bx.legend()
    leave_note(
        per_coordinate_steps,
        f"<p>L(w) = ½({h[0]:g}·w₁² + {h[1]:g}·w₂²) from w₀ = (1, 1), {steps} steps; "
        f"Adam η = {eta}, GD η = {eta_gd:g} = 1/λ_max, momentum (EMA form) η = {eta_m:g}, β = {beta_m}.</p>",
    )
    return fig


def decoupled_weight_decay() -> Any:
    r"""Coordinates whose gradients are pure noise of different sizes $\sigma$ under `adamw` (left)
    and under `coupled_weight_decay` around `adam` (right)."""
    sigma = np.array([0.01, 1.0, 100.0])
    steps, lr, wd = 3000, 1e-3, 1.0
    fig, axes = new_figure(2, width=7.5, height=3.2)
    for ax, (name, opt) in zip(
        axes,
        (
            ("AdamW (decoupled)", adamw(lr, weight_decay=wd)),
            ("Adam + L2 (coupled)", coupled_weight_decay(adam(lr), wd)),
        ),
        strict=True,
    ):
        noise = np.random.default_rng(0).standard_normal((steps, len(sigma)))

        def grad(p: Any, t: int, noise: Any = noise) -> Any:
            return {"w": sigma * noise[t]}

        _, traj = run(
            opt,
            grad,
            {"w": np.ones(len(sigma))},
            steps,
            record_every=10,
        )
        W = np.array([q["w"] for q in traj])
        for i, s in enumerate(sigma):
            ax.plot(np.arange(len(W)) * 10, W[:, i], label=f"σ = {s:g}")
        ax.set(xlabel="step t", ylim=(-0.1, 1.3), title=name)
    axes[0].set_ylabel("w_i")
    axes[0].legend()
    sizes = ", ".join(f"{x:g}" for x in sigma)
    leave_note(
        decoupled_weight_decay, f"<p>σ = {sizes}; η = {lr:g}, λ_wd = {wd:g}, {steps} steps.</p>"
    )
    return fig


def sign_gd_cannot_settle() -> Any:
    r"""$w_t$ on $w^2$ under sign GD (`adam` with $b_1 = b_2 = 0$) and under Adam's defaults, with
    the band $|w| \le \eta$."""

    def grad(p: Any, t: int) -> Any:
        return {"w": 2 * p["w"]}

    eta, w0, steps = 0.1, 1.03, 80
    fig, ax = new_figure(1, width=6.5, height=3.0)
    ax.axhspan(-eta, eta, color="0.9")
    for name, opt in (
        ("sign GD: adam(b1 = 0, b2 = 0)", adam(eta, b1=0.0, b2=0.0)),
        ("Adam, PyTorch defaults", adam(eta)),
    ):
        _, traj = run(opt, grad, {"w": np.array([w0])}, steps, record_every=1)
        ax.plot([q["w"][0] for q in traj], ".-", ms=3, lw=1, label=name)
    ax.set(xlabel="step t", ylabel="w_t", title="an unsmoothed size estimate cannot settle")
    ax.legend()
    leave_note(
        sign_gd_cannot_settle, f"<p>w₀ = {w0}, η = {eta}, {steps} steps; grey band: |w| ≤ η.</p>"
    )
    return fig


def moment_estimates() -> Any:
    r"""Adam's bias-corrected averages for i.i.d. Gaussian gradients: the first moment (left) and the
    second (right), dotted at their targets."""
    rng = np.random.default_rng(0)
    steps, mean, std = 3000, 1.0, 1.0
    g = mean + std * rng.standard_normal(steps)
    opt, p = adam(1e-3), {"w": np.zeros(1)}
    state, m_hat, v_hat = opt.init(p), [], []
    for t in range(1, steps + 1):
        _, state = opt.update({"w": g[t - 1 : t]}, state, p)
        m_hat.append(state.m["w"][0] / (1 - 0.9**t))
        v_hat.append(state.v["w"][0] / (1 - 0.999**t))
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.0)
    ax.plot(g, color="0.8", lw=0.5, label="g_t", rasterized=True)
    ax.plot(m_hat, lw=1, label="â_t (b₁ = 0.9)")
    ax.axhline(mean, color="k", ls=":", lw=1)
    ax.set(xlabel="step t", title="first moment: fast, noisy")
    bx.plot(g**2, color="0.8", lw=0.5, label="g_t²", rasterized=True)
    bx.plot(v_hat, lw=1.2, color="C1", label="v̂_t (b₂ = 0.999)")
    bx.axhline(mean**2 + std**2, color="k", ls=":", lw=1)
    bx.set(xlabel="step t", ylim=(0, 6), title="second moment: slow, steady")
    for a in (ax, bx):
        a.legend(loc="upper right")
    leave_note(
        moment_estimates,
        f"<p>g_t ~ N({mean:g}, {std**2:g}) i.i.d., {steps} steps; dotted: E g = {mean:g} and "
        f"E g² = {mean**2 + std**2:g}.</p>",
    )
    return fig


def bias_correction() -> Any:
    r"""Adam's step on a constant gradient, with and without the bias correction."""
    lr, g, steps = 1.0, np.array([1.0]), 60
    opt, p = adam(lr), {"w": np.zeros(1)}
    state = opt.init(p)
    corrected, raw = [], []
    for _t in range(steps):
        u, state = opt.update({"w": g}, state, p)
        corrected.append(-u["w"][0])
        raw.append(state.m["w"][0] / (np.sqrt(state.v["w"][0]) + 1e-8))
    fig, ax = new_figure(1, width=6.0, height=3.0)
    ax.plot(range(1, steps + 1), raw, label="uncorrected  a / (√v + ε)")
    ax.plot(range(1, steps + 1), corrected, label="corrected  â / (√v̂ + ε)")
    ax.axhline(1.0, color="0.5", ls=":", lw=1)
    ax.set(
        xlabel="step t",
        ylabel="step size / η",
        title="Adam on a constant gradient, PyTorch defaults",
    )
    ax.legend()
    return fig


def loss_scaling() -> Any:
    r"""`adam` (with $\epsilon$ scaled along) and `gd` on a quadratic $L$ and on $cL$: Adam's paths
    coincide, GD's do not."""
    h = np.array([1.0, 0.1])
    big, steps, eta_adam, eta_gd = 1000.0, 100, 0.05, 0.0015
    fig, ax = new_figure(1, width=6.5, height=3.4)
    for c, ls, lw in ((1.0, "-", 3.0), (big, "--", 1.2)):

        def grad(p: Any, t: int, c: float = c) -> Any:
            return {"w": c * h * p["w"]}

        for name, opt, color in (
            ("Adam", adam(eta_adam, eps=1e-8 * c), "C0"),
            ("GD", gd(eta_gd), "C1"),
        ):
            _, traj = run(opt, grad, {"w": np.array([1.0, 1.0])}, steps, record_every=1)
            W = np.array([q["w"] for q in traj])
            ax.plot(
                W[:, 0],
                W[:, 1],
                ls,
                color=color,
                lw=lw,
                alpha=0.6 if lw > 2 else 1,
                label=f"{name} on {c:g}·L",
            )
            ax.plot(*W[-1], "o", color=color, ms=5 if c == 1 else 3)
    ax.set(
        xlabel="w₁", ylabel="w₂", title=f"scaling the loss by {big:g} (dots: after {steps} steps)"
    )
    ax.legend()
    leave_note(
        loss_scaling,
        f"<p>L = ½({h[0]:g}·w₁² + {h[1]:g}·w₂²) from (1, 1), c = {big:g}, {steps} steps; "
        f"Adam η = {eta_adam}, ε = 1e-8·c; GD η = {eta_gd} (on cL, η c h_max = {eta_gd * big * h.max():g}, "
        f"stable below 2).</p>",
    )
    return fig


def rotated_hessian() -> Any:
    r"""GD, momentum and Adam on an ill-conditioned quadratic whose Hessian is aligned with the axes
    (left) and rotated (right)."""
    kappa, steps = 100.0, 60
    lam = np.array([1.0, 1.0 / kappa])
    fig, axes = new_figure(2, width=7.5, height=3.6)
    for ax, angle in zip(axes, (0.0, np.pi / 4), strict=True):
        Q = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        H = Q @ np.diag(lam) @ Q.T

        def grad(p: Any, t: int, H: Any = H) -> Any:
            return {"w": H @ p["w"]}

        w0 = np.array([-1.0, 1.5])
        runs = {
            "GD, η = 1/λ₁": gd(1 / lam[0]),
            "momentum, ηβ = 1/λ₁, β = 0.5": ema_momentum(2 / lam[0], 0.5),
            "Adam, η = 0.05": adam(0.05),
        }
        xs = np.linspace(-1.8, 1.8, 200)
        XX, YY = np.meshgrid(xs, xs)
        Z = 0.5 * (H[0, 0] * XX**2 + 2 * H[0, 1] * XX * YY + H[1, 1] * YY**2)
        ax.contour(XX, YY, Z, levels=np.geomspace(1e-3, 2, 10), colors="0.8", linewidths=0.7)
        for name, opt in runs.items():
            _, traj = run(opt, grad, {"w": w0}, steps, record_every=1)
            W = np.array([q["w"] for q in traj])
            ax.plot(W[:, 0], W[:, 1], "-", lw=1.2, label=name)
        ax.set(
            title=f"Hessian rotated by {np.degrees(angle):.0f}°", xlim=(-1.8, 1.8), ylim=(-1.8, 1.8)
        )
        ax.set_aspect("equal")
    axes[0].legend(loc="lower right")
    leave_note(
        rotated_hessian,
        f"<p>Condition number κ = {kappa:g}, {steps} steps from w₀ = {tuple(w0.tolist())}.</p>",
    )
    return fig


def optimizer_memory() -> Any:
    r"""The floats stored by GD, momentum and Adam for an MLP: the parameters and the optimizer state
    counted from `init`."""

    def floats(tree: Any) -> int:
        if isinstance(tree, dict):
            return sum(floats(v) for v in tree.values())
        if isinstance(tree, tuple):
            return sum(floats(v) for v in tree)
        return tree.size if isinstance(tree, np.ndarray) else 0

    sizes = [784, 256, 10]
    params = init_mlp(sizes, rng=np.random.default_rng(0))
    n = floats(params)
    names = ["GD", "momentum", "Adam"]
    state = [floats(opt.init(params)) for opt in (gd(0.1), ema_momentum(0.1, 0.1), adam(1e-3))]
    assert state == [0, n, 2 * n], state
    fig, ax = new_figure(1, width=5.5, height=2.8)
    ax.bar(names, [n] * 3, color="0.6", label="parameters")
    ax.bar(names, state, bottom=n, color="C1", label="optimizer state")
    for i, s in enumerate(state):
        ax.annotate(f"{(n + s) / n:.0f}×", (i, n + s), ha="center", va="bottom")
    ax.set(ylabel="floats stored", ylim=(0, 3.4 * n), title="memory: parameters + state")
    ax.legend(loc="upper left")
    leave_note(
        optimizer_memory,
        f"<p>MLP of sizes {tuple(sizes)}: {n:,} parameters; optimizer state "
        + ", ".join(f"{name} {s:,}" for name, s in zip(names, state, strict=True))
        + " floats.</p>",
    )
    return fig


def learning_rate_sensitivity() -> Any:
    r"""The loss after a fixed budget of steps against the step size for GD, momentum and Adam on an
    ill-conditioned separable quadratic."""
    h = np.geomspace(1e-4, 1.0, 20)

    def loss(w: Any) -> float:
        return float(np.sum(h * w**2))

    def grad(p: Any, t: int) -> Any:
        return {"w": 2 * h * p["w"]}

    w0 = np.ones_like(h)
    etas = np.geomspace(1e-4, 10.0, 41)
    steps, beta = 300, 0.1
    fig, ax = new_figure(1, width=6.5, height=3.4)
    decades = {}  # the span of log10(eta) over which the loss falls below 1% of L(w0)
    for name, make in (
        ("GD", gd),
        (f"momentum, β = {beta}", lambda eta: ema_momentum(eta, beta)),
        ("Adam", adam),
    ):
        final = []
        with np.errstate(over="ignore", invalid="ignore"):
            for eta in etas:
                try:
                    wT, _ = run(make(eta), grad, {"w": w0}, steps)
                except ValueError:  # a step overflowed: dlcore refuses to return inf (diverged)
                    final.append(np.nan)
                    continue
                value = loss(wT["w"])
                final.append(value if np.isfinite(value) else np.nan)
        small = etas[np.array(final) <= 0.01 * loss(w0)]  # NaN (diverged) compares False
        decades[name] = float(np.log10(small.max() / small.min())) if len(small) else 0.0
        ax.loglog(etas, np.minimum(np.array(final), 1e3), ".-", label=name)
    ax.axhline(loss(w0), color="0.6", ls=":", lw=1, label="L(w₀)")
    ax.set(
        xlabel="step size η", ylabel=f"loss after {steps} steps", title="learning-rate sensitivity"
    )
    ax.legend()
    lam_max = 2 * h.max()
    leave_note(
        learning_rate_sensitivity,
        f"<p>{len(h)} coordinates, h from {h.min():g} to {h.max():g} (λ_max = {lam_max:g}), "
        f"w₀ = (1, …, 1), {steps} steps; GD's bound 2/λ_max = {2 / lam_max:g}, the EMA momentum's "
        f"2(2 − β)/(βλ_max) = {2 * (2 - beta) / (beta * lam_max):g}. The loss falls below 1% of "
        f"L(w₀) over {decades['GD']:.1f} decades of η for GD and {decades['Adam']:.1f} for Adam.</p>",
    )
    assert decades["Adam"] > decades["GD"], decades
    return fig
