"""Figures of the momentum chapter (docs/momentum.md): one function per figure, each returning it
(and the page's tables, each returning its Markdown)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from scipy.linalg import expm

from dlcore.dynamics import (
    ema_frequency_response,
    ema_momentum_max_stable_lr,
    ema_momentum_mode_matrix,
    gd_mode_factor,
    mode_eigenvalues,
    momentum_flow_matrix,
    sgd_momentum_mode_matrix,
    simultaneous_momentum_mode_matrix,
    spectral_radius,
)
from dlcore.optim import (
    GradientTransformation,
    MomentumState,
    apply_updates,
    ema,
    ema_momentum,
    ema_nesterov,
    ema_to_torch,
    gd,
    sgd_momentum,
)
from dlcore.train import run
from figures import new_figure

__all__ = [
    "ema_low_pass",
    "rc_circuit",
    "ema_impulse_response",
    "gd_and_momentum_in_a_valley",
    "zero_init_ramp_up",
    "heavy_ball_stability",
    "nesterov_look_ahead",
    "mode_eigenvalues_in_the_plane",
    "spiral_or_sign_flip",
    "which_modes_go_first",
    "tuned_error_curves",
    "iterations_against_kappa",
    "rl_and_rlc_circuits",
    "flow_responses",
]


def _element(
    ax: Any, p: Any, q: Any, kind: str, label: str = "", side: float = 1.0, half: float = 0.3
) -> None:
    """Draw a resistor "R", capacitor "C", inductor "L" or current source "I" (or, for "", a
    plain wire) from point p to point q, its label on the `side` of it."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    u = (q - p) / np.linalg.norm(q - p)
    n = np.array([-u[1], u[0]])
    mid = (p + q) / 2

    def line(s: Any, r: Any, lw: float = 1.3) -> None:  # distance s along the element, r across
        xy = mid + np.outer(s, u) + np.outer(r, n)
        ax.plot(xy[:, 0], xy[:, 1], color="k", lw=lw, solid_capstyle="round")

    if kind == "R":
        s = np.linspace(-half, half, 14)
        line(s, 0.1 * np.array([0] + [(-1) ** i for i in range(12)] + [0]))
    elif kind == "L":
        th = np.linspace(np.pi, 0, 30)
        for c in np.linspace(-half, half, 9)[1::2]:
            line(c + half / 4 * np.cos(th), 0.3 * half * np.sin(th))
    elif kind == "C":
        for plate in (-0.06, 0.06):
            line(np.full(2, plate), np.array([-0.2, 0.2]), lw=2.2)
        half = 0.06
    elif kind == "I":
        th = np.linspace(0, 2 * np.pi, 60)
        line(0.22 * np.cos(th), 0.22 * np.sin(th))
        a, b = mid - 0.13 * u, mid + 0.13 * u
        ax.annotate("", b, a, arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.2})
        half = 0.22
    ends = (mid - half * u, mid + half * u) if kind else (q, q)
    ax.plot(*np.c_[p, ends[0]], color="k", lw=1.3)
    ax.plot(*np.c_[ends[1], q], color="k", lw=1.3)
    if label:
        ax.text(*(mid + side * 0.4 * n), label, ha="center", va="center")


def _run_ema(beta: float, u: Any) -> Any:
    """The outputs of `ema(beta)` fed the scalar inputs `u` one by one."""
    opt, p = ema(beta), {"u": np.zeros(1)}
    state, out = opt.init(p), []
    for x in u:
        a, state = opt.update({"u": np.array([x])}, state, p)
        out.append(a["u"][0])
    return np.array(out)


def _tuned(kappa: float) -> tuple[GradientTransformation, GradientTransformation]:
    """Tuned GD ($\\eta = 2/(1+\\kappa)$) and tuned heavy ball on $\\operatorname{diag}(1, \\kappa)$."""
    alpha = 4 / (1 + np.sqrt(kappa)) ** 2
    mu = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    return gd(2 / (1 + kappa)), ema_momentum(alpha / (1 - mu), 1 - mu)


def ema_low_pass() -> Any:
    """The gain $|H(\\omega)|$ of the EMA for several $\\beta$, with the Nyquist gain
    $\\beta/(2-\\beta)$ marked (left), and the EMA of a constant plus an alternating part plus
    noise (right): the constant passes, the alternation is damped."""
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.2)
    omega = np.linspace(0, np.pi, 300)
    rng = np.random.default_rng(0)
    steps = 120
    u = 1.0 + (-1.0) ** np.arange(steps) + 0.3 * rng.standard_normal(steps)
    bx.plot(u, color="0.75", lw=0.8, label="input")
    for beta, color in ((0.5, "C0"), (0.2, "C1"), (0.05, "C2")):
        gain = [abs(ema_frequency_response(w, beta)) for w in omega]
        ax.plot(omega, gain, color=color, label=f"β = {beta}")
        ax.plot([np.pi], [beta / (2 - beta)], "o", color=color, ms=4)
        opt, p = ema(beta), {"u": np.zeros(1)}
        state, out = MomentumState({"u": np.zeros(1)}, 0), []
        for x in u:
            a, state = opt.update({"u": np.array([x])}, state, p)
            out.append(a["u"][0])
        bx.plot(out, color=color, lw=1.2, label=f"β = {beta}")
    ax.set(xlabel="ω (radians per step)", ylabel="|H(ω)|", title="DC passes, Nyquist gets β/(2−β)")
    ax.set_xticks([0, np.pi / 2, np.pi], ["0", "π/2", "π"])
    ax.legend()
    bx.set(xlabel="step t", title="EMA of 1 + (−1)ᵗ + noise")
    return fig


def rc_circuit() -> Any:
    """The lecture's RC low-pass circuit, $RC\\,\\dot a = u - a$ (left), and, for a unit step
    input, `ema` with $\\beta = h/(RC)$ against the exact charging curve $1 - e^{-t/RC}$ (right):
    the EMA is the circuit's forward-Euler step."""
    fig, (ax, bx) = new_figure(2, width=6.5, height=2.5)
    ax.set_axis_off()
    ax.set_aspect("equal")
    _element(ax, (0, 1), (2, 1), "R", "R", half=0.35)
    _element(ax, (2, 1), (3.2, 1), "")
    _element(ax, (2, 1), (2, 0), "C", "C", side=-1.0)
    _element(ax, (0, 0), (3.2, 0), "")
    ax.plot(2, 1, "ko", ms=3.5)
    ax.plot(2, 0, "ko", ms=3.5)
    for x, name, ha in ((0, "u(t)", "right"), (3.2, "a(t)", "left")):
        for y, text in ((1, name), (0, "")):  # the input and output terminals
            ax.plot(x, y, "o", ms=6, mfc="white", mec="k", zorder=3)
            ax.text(x + (-0.15 if ha == "right" else 0.15), y, text, ha=ha, va="center")
    ax.text(1.6, -0.45, "RC · da/dt = u − a", ha="center", va="center")
    ax.set(xlim=(-0.9, 4.1), ylim=(-0.7, 1.5))

    # a unit step u = 1 charges the capacitor; the EMA with β = h/(RC) is the forward-Euler trajectory
    RC, h = 1.0, 0.25
    beta = h / RC
    steps = int(5 * RC / h)
    opt, p = ema(beta), {"a": np.zeros(1)}
    state, out = opt.init(p), [0.0]
    for _ in range(steps):
        a, state = opt.update({"a": np.ones(1)}, state, p)
        out.append(a["a"][0])
    s = np.linspace(0, steps * h, 200)
    bx.plot(s, 1 - np.exp(-s / RC), "k--", lw=1, label="exact: $1 - e^{-t/RC}$")
    bx.plot(h * np.arange(steps + 1), out, "o", ms=3.5, label=f"ema(β = h/RC = {beta:g})")
    bx.set(xlabel="time t (units of RC)", ylabel="a(t)", title="step input u = 1")
    bx.legend(loc="lower right")
    return fig


def ema_impulse_response() -> Any:
    """The impulse response of `ema`, the weights $\\beta(1-\\beta)^k$, against the RC kernel
    $e^{-s/\\tau}/\\tau$ with $\\tau = 1/\\beta$ (left, log scale), and the EMA of a noisy step
    coinciding with its convolution with that impulse response (right)."""
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.2)
    k = np.arange(60)
    for beta, color in ((0.5, "C0"), (0.1, "C1"), (0.02, "C2")):
        h = _run_ema(beta, (k == 0).astype(float))  # impulse response
        ax.vlines(k, 1e-6, h, color=color, lw=0.8)
        ax.plot(k, h, "o", color=color, ms=2.5, label=f"β = {beta}")
        s = np.linspace(0, 60, 300)
        ax.plot(s, beta * np.exp(-beta * s), "--", color=color, lw=0.8)
    ax.set_yscale("log")
    ax.set(ylim=(1e-4, 1), xlabel="age k (steps)", title="impulse response β(1−β)ᵏ")
    ax.legend()
    rng = np.random.default_rng(1)
    t = np.arange(150)
    u = (t >= 30) + 0.4 * rng.standard_normal(t.size)
    beta = 0.1
    h = _run_ema(beta, (t == 0).astype(float))
    bx.plot(t, u, color="0.75", lw=0.8, label="input")
    bx.plot(t, _run_ema(beta, u), lw=2.5, alpha=0.5, label=f"EMA, β = {beta:g}")
    bx.plot(t, np.convolve(u, h)[: t.size], "k--", lw=1, label="input ∗ impulse response")
    bx.set(xlabel="step t", title="the EMA is a convolution")
    bx.legend()
    return fig


def gd_and_momentum_in_a_valley() -> Any:
    """`gd` just under its limit $2/\\lambda_{\\max}$ and `momentum` at a larger step, from the
    same start on the ill-conditioned quadratic $\\tfrac12(w_1^2 + 25 w_2^2)$."""
    H = np.diag([1.0, 25.0])

    def grad(p: Any, t: int) -> Any:
        return {"w": H @ p["w"]}

    xs, ys = np.linspace(-2.2, 0.4, 200), np.linspace(-0.7, 0.7, 200)
    XX, YY = np.meshgrid(xs, ys)
    fig, ax = new_figure(1, width=7.0, height=3.2)
    ax.contour(XX, YY, 0.5 * (XX**2 + 25 * YY**2), levels=np.geomspace(0.01, 6, 12), colors="0.8")
    for name, opt in (
        ("GD, η = 0.075 (its limit is 2/25)", gd(0.075)),
        ("momentum, η = 0.15, β = 0.5", ema_momentum(0.15, 0.5)),
    ):
        _, traj = run(opt, grad, {"w": np.array([-2.0, 0.5])}, 30, record_every=1)
        W = np.array([q["w"] for q in traj])
        ax.plot(W[:, 0], W[:, 1], ".-", ms=3, lw=1, label=name)
    ax.plot([0], [0], "k*", ms=8)
    ax.set(
        xlabel="w₁ (λ = 1)",
        ylabel="w₂ (λ = 25)",
        title="30 steps on ½(w₁² + 25 w₂²) from the same start",
    )
    ax.set_aspect("equal")
    ax.legend(loc="lower right")
    return fig


def zero_init_ramp_up() -> Any:
    """A constant gradient fed to `momentum` from a zero average: the average ramps up to it
    (left), and GD's displacement minus momentum's, in units of $\\eta$, tends to the lag
    $(1-\\beta)/\\beta$ (dotted, right)."""

    def grad(p: Any, t: int) -> Any:
        return {"w": np.ones(1)}

    steps = 60
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.0)
    _, gd_traj = run(gd(1.0), grad, {"w": np.zeros(1)}, steps, record_every=1)
    gd_disp = -np.array([q["w"][0] for q in gd_traj])
    for beta, color in ((0.5, "C0"), (0.2, "C1"), (0.1, "C2")):
        _, traj = run(ema_momentum(1.0, beta), grad, {"w": np.zeros(1)}, steps, record_every=1)
        disp = -np.array([q["w"][0] for q in traj])
        ax.plot(np.arange(1, steps + 1), np.diff(disp), color=color, label=f"β = {beta}")
        bx.plot(gd_disp - disp, color=color, label=f"β = {beta}")
        bx.axhline((1 - beta) / beta, color=color, ls=":", lw=1)
    ax.set(xlabel="step t", ylabel="a_t", title="the average ramps up to g")
    bx.set(xlabel="step t", ylabel="lag (steps)", title="(GD − momentum) displacement / η")
    ax.legend()
    return fig


def torch_table() -> str:
    """The table of `ema_to_torch` conversions and of $|w|$ after a run on $w^2/2$ for the
    lecture's momentum, for `sgd_momentum` with the converted and with the copied learning rate
    (Markdown)."""
    lines: list[str] = []

    def grad(p: Any, t: int) -> Any:  # the quadratic w² / 2 (lambda = 1)
        return {"w": p["w"]}

    w0, steps = {"w": np.ones(1)}, 50
    lines.append(f"On w²/2 from w₀ = {w0['w'][0]:g}, the distance |w| after {steps} steps:\n")
    lines.append(
        "| lecture η | lecture β | torch lr = ηβ | torch momentum = 1−β "
        f"| lecture \\|w{str(steps).translate(str.maketrans('0123456789', '₀₁₂₃₄₅₆₇₈₉'))}\\| "
        "| torch, converted | torch, lr = η |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|---:|")
    for eta, beta in ((0.5, 1.0), (1.0, 0.5), (5.0, 0.1), (10.0, 0.1)):
        lr, mu = ema_to_torch(eta, beta)
        w = [
            abs(run(opt, grad, w0, steps)[0]["w"][0])
            for opt in (ema_momentum(eta, beta), sgd_momentum(lr, mu), sgd_momentum(eta, mu))
        ]
        assert (w[2] > 1) == (eta > 2 * (1 + mu))  # copied lr diverges exactly past torch's bound
        lines.append(
            f"| {eta:g} | {beta:g} | {lr:g} | {mu:g} | {w[0]:.2e} | {w[1]:.2e} | {w[2]:.2e} |"
        )
    return "\n".join(lines)


def heavy_ball_stability() -> Any:
    """The spectral radius of `sgd_momentum_mode_matrix` over the step $\\alpha\\lambda$ and the
    momentum $\\mu$, one pixel per pair, with its level-1 contour on the bound
    $\\alpha\\lambda = 2(1+\\mu)$ and GD's bound $\\alpha\\lambda = 2$."""
    steps = np.linspace(0.01, 4.5, 226)  # alpha * lambda (take lambda = 1)
    mus = np.linspace(0.0, 0.99, 100)
    rho = np.array(
        [[spectral_radius(sgd_momentum_mode_matrix(1.0, a, mu)) for a in steps] for mu in mus]
    )

    fig, ax = new_figure(1, width=6.5, height=3.8)
    extent = (steps[0], steps[-1], mus[0], mus[-1])
    im = ax.imshow(
        np.minimum(rho, 1.5), origin="lower", extent=extent, aspect="auto", cmap="viridis"
    )
    fig.colorbar(im, ax=ax, label="spectral radius (clipped at 1.5)")
    ax.contour(steps, mus, rho, levels=[1.0], colors="white", linewidths=1.5)
    ax.plot(2 * (1 + mus), mus, "r--", lw=1.5, label="αλ = 2(1 + μ)")
    ax.axvline(2.0, color="orange", ls=":", lw=1.5, label="GD's bound αλ = 2")
    ax.set(
        xlabel="αλ (step × Hessian eigenvalue)",
        ylabel="momentum μ",
        title="stability of heavy ball",
    )
    ax.legend(loc="lower right")
    ax.grid(False)
    return fig


def nesterov_look_ahead() -> Any:
    """One step of `nesterov` on $\\tfrac12(w_1^2 + 4w_2^2)$: the committed move
    $-\\eta(1-\\beta)a_t$, then the gradient step taken at the look-ahead point, against heavy
    ball's gradient step taken at $w_t$."""
    eta, beta = 0.4, 0.5
    H = np.diag([1.0, 4.0])
    opt = ema_nesterov(eta, beta)
    u = {"w": np.array([-2.0, 1.0])}  # nesterov's parameters are the look-ahead points
    state = opt.init(u)
    for _ in range(2):
        upd, state = opt.update({"w": H @ u["w"]}, state, u)
        u = apply_updates(u, upd)
    w_t = u["w"] + eta * (1 - beta) * state.buffer["w"]  # the lecture's iterate
    upd, state = opt.update({"w": H @ u["w"]}, state, u)
    w_next = apply_updates(u, upd)["w"] + eta * (1 - beta) * state.buffer["w"]
    hb = u["w"] - eta * beta * (H @ w_t)
    fig, ax = new_figure(1, width=7.0, height=3.4)
    xs, ys = np.linspace(-1.3, -0.4, 200), np.linspace(-0.3, 0.15, 200)
    XX, YY = np.meshgrid(xs, ys)
    ax.contour(XX, YY, 0.5 * (XX**2 + 4 * YY**2), levels=np.linspace(0.1, 0.9, 17), colors="0.85")
    arrow = {"arrowstyle": "->", "lw": 1.8, "shrinkA": 0, "shrinkB": 0}
    ax.annotate("", u["w"], w_t, arrowprops={**arrow, "color": "C0"})
    ax.annotate("", w_next, u["w"], arrowprops={**arrow, "color": "C1"})
    ax.annotate("", hb, u["w"], arrowprops={**arrow, "color": "0.6", "ls": "--"})
    for p, label, off in (
        (w_t, "w_t", (-8, 8)),
        (u["w"], "w_t − η(1−β)a_t", (-40, -16)),
        (w_next, "w_{t+1}", (4, 8)),
    ):
        ax.plot(*p, "ko", ms=4)
        ax.annotate(label, p, textcoords="offset points", xytext=off)
    ax.plot([], [], color="C0", label="committed: −η(1−β)a_t")
    ax.plot([], [], color="C1", label="−ηβ ∇L at the look-ahead")
    ax.plot([], [], "--", color="0.6", label="−ηβ ∇L at w_t (heavy ball)")
    ax.set(xlim=(-1.3, -0.4), ylim=(-0.3, 0.15), xlabel="w₁", ylabel="w₂")
    ax.set_aspect("equal")
    ax.set_title(f"Nesterov, η = {eta}, β = {beta}, on ½(w₁² + 4 w₂²): third step")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def mode_eigenvalues_in_the_plane() -> Any:
    """The eigenvalues of the mode matrix in the complex plane as $\\eta\\lambda$ grows, for the
    lecture's momentum (left, with the circles of radius $\\sqrt{1-\\beta}$ dotted) and for the
    simultaneous variant (right), against the unit circle."""
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.8)
    theta = np.linspace(0, 2 * np.pi, 400)
    for a in (ax, bx):
        a.plot(np.cos(theta), np.sin(theta), color="0.6", lw=1, label="unit circle")
        a.set_aspect("equal")
        a.set(xlabel="Re z", ylabel="Im z")
    for beta, color in ((0.5, "C0"), (0.2, "C1"), (0.05, "C2")):
        top = 1.3 * ema_momentum_max_stable_lr(1.0, beta)
        roots: list[complex] = []
        for step in np.geomspace(1e-3, top, 400):
            M = ema_momentum_mode_matrix(1.0, step, beta)
            roots += mode_eigenvalues(float(np.trace(M)), float(np.linalg.det(M)))
        z = np.array(roots)
        ax.plot(z.real, z.imag, ".", ms=1.5, color=color, label=f"β = {beta}", rasterized=True)
        ax.plot(
            np.sqrt(1 - beta) * np.cos(theta),
            np.sqrt(1 - beta) * np.sin(theta),
            ":",
            color=color,
            lw=0.8,
        )
        roots = []
        for step in np.geomspace(1e-3, 3.0, 400):
            M = simultaneous_momentum_mode_matrix(1.0, step, beta)
            roots += mode_eigenvalues(float(np.trace(M)), float(np.linalg.det(M)))
        z = np.array(roots)
        bx.plot(z.real, z.imag, ".", ms=1.5, color=color, label=f"β = {beta}", rasterized=True)
    ax.set(title="lecture's: ηλ up to 1.3 × bound", xlim=(-2.2, 1.3), ylim=(-1.3, 1.3))
    bx.set(title="simultaneous: ηλ up to 3", xlim=(-0.5, 2.0), ylim=(-1.5, 1.5))
    ax.legend(loc="lower left", markerscale=4)
    return fig


def spiral_or_sign_flip() -> Any:
    """The state (average, error) of one mode under `ema_momentum_mode_matrix`: inside the band
    of complex eigenvalues it spirals inward (left); past the stability bound a real eigenvalue
    below $-1$ flips its sign every step and it grows (right)."""
    beta = 0.1
    bound = ema_momentum_max_stable_lr(1.0, beta)  # 2 (2 - beta) / beta = 38
    fig, axes = new_figure(2, width=7.5, height=3.4)
    for ax, step, n in zip(axes, (5.0, bound + 1), (60, 10), strict=True):
        M = ema_momentum_mode_matrix(1.0, step, beta)
        s = [np.array([0.0, 1.0])]
        for _ in range(n):
            s.append(M @ s[-1])
        S = np.array(s)
        ax.plot(S[:, 0], S[:, 1], "-", color="0.7", lw=0.8)
        ax.scatter(S[:, 0], S[:, 1], c=np.arange(n + 1), cmap="viridis", s=12, zorder=3)
        ax.plot([0], [0], "k+", ms=10)
        ax.set(xlabel="average a", ylabel="error e")
    z_in, z_out = np.linalg.eigvals(ema_momentum_mode_matrix(1.0, 5.0, beta)), np.linalg.eigvals(M)
    assert np.all(z_in.imag != 0) and np.all(np.abs(z_in) < 1)  # complex band: spiral inward
    assert np.all(z_out.imag == 0) and z_out.real.min() < -1  # real root below -1: sign flips
    axes[0].set_title(f"β = {beta}, ηλ = 5: spiral inward")
    axes[1].set_title(f"ηλ = {bound + 1:g} > bound {bound:g}: flips, grows")
    return fig


def gd_factor_table() -> str:
    """GD's factor $|1-\\eta\\lambda|$ at a few steps, and the sentence saying where it is
    smallest (Markdown)."""
    lines: list[str] = []
    steps = (0.25, 0.5, 1.0, 1.5, 1.75, 2.0)  # eta * lambda, with eta = 1
    lines.append("| ηλ | " + " | ".join(f"{x:g}" for x in steps) + " |")
    lines.append("|---|" + "---:|" * len(steps))
    factors = [abs(gd_mode_factor(x, 1.0)) for x in steps]
    lines.append("| GD's factor \\|1 − ηλ\\| | " + " | ".join(f"{f:g}" for f in factors) + " |")
    fastest = steps[factors.index(min(factors))]
    assert (
        min(factors) == 0 and factors[-1] == 1
    )  # one-step convergence, then the edge of stability
    lines.append(
        f"\nGD's factor falls to {min(factors):g} at ηλ = {fastest:g} and rises back to "
        f"{factors[-1]:g} at its bound ηλ = {steps[-1]:g}: the steep modes are the fast ones only "
        f"while ηλ ≤ {fastest:g}."
    )
    return "\n".join(lines)


def which_modes_go_first() -> Any:
    """The convergence factor of a mode against $\\eta\\lambda$: GD's $|1-\\eta\\lambda|$ and the
    spectral radius of `ema_momentum_mode_matrix`, flat at $\\sqrt{1-\\beta}$ (dotted) over a band;
    the markers are the stability bounds."""
    x = np.geomspace(1e-3, 200, 500)  # eta * lambda, with eta = 1
    fig, ax = new_figure(1, width=6.5, height=3.4)
    ax.plot(x, [abs(gd_mode_factor(lam, 1.0)) for lam in x], "k", lw=1.5, label="GD")
    ax.plot([2.0], [1.0], "ko", ms=4)
    for beta, color in ((0.5, "C0"), (0.2, "C1"), (0.05, "C2")):
        rho = [spectral_radius(ema_momentum_mode_matrix(lam, 1.0, beta)) for lam in x]
        ax.plot(x, rho, color=color, label=f"momentum, β = {beta}")
        ax.axhline(np.sqrt(1 - beta), color=color, ls=":", lw=1)
        ax.plot([ema_momentum_max_stable_lr(1.0, beta)], [1.0], "o", color=color, ms=4)
    ax.set_xscale("log")
    ax.set(ylim=(0, 1.3), xlabel="ηλ", ylabel="convergence factor ρ", title="which modes go first")
    ax.legend(loc="lower left")
    return fig


def tuned_error_curves() -> Any:
    """The error of tuned GD (dotted) and tuned heavy ball (solid) against the step on
    $\\operatorname{diag}(1, \\kappa)$ for several $\\kappa$."""
    fig, ax = new_figure(1, width=6.5, height=3.4)
    for kappa, color in ((10.0, "C0"), (100.0, "C1"), (1000.0, "C2")):
        H = np.diag([1.0, kappa])

        def grad(p: Any, t: int, H: Any = H) -> Any:
            return {"w": H @ p["w"]}

        steps = 400
        for name, opt, ls in zip(("GD", "heavy ball"), _tuned(kappa), (":", "-"), strict=True):
            _, traj = run(opt, grad, {"w": np.array([1.0, 1.0])}, steps, record_every=1)
            err = [np.linalg.norm(q["w"]) for q in traj]
            ax.semilogy(err, ls, color=color, lw=1.2, label=f"{name}, κ = {kappa:g}")
    ax.set(
        xlabel="step",
        ylabel="|w − w*|",
        ylim=(1e-12, 10),
        title="tuned GD (dotted) vs tuned heavy ball (solid)",
    )
    ax.legend(ncol=2)
    return fig


KAPPAS = np.array([10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0])
"""The condition numbers of the iteration counts."""


@cache
def _iteration_counts() -> dict[str, list[int]]:
    """Steps until $\\|w\\| \\le 10^{-8}\\|w_0\\|$ on $\\operatorname{diag}(1, \\kappa)$ from
    $w_0 = (1, 1)$ for tuned GD and tuned heavy ball, for each of `KAPPAS`, counted by running
    the optimizers."""

    def iterations(opt: GradientTransformation, H: Any, w0: Any, tol: float = 1e-8) -> int:
        """Steps until |w - w*| <= tol |w0| (w* = 0), counted by running the optimizer."""
        p, t = {"w": w0}, 0
        state = opt.init(p)
        while np.linalg.norm(p["w"]) > tol * np.linalg.norm(w0):
            updates, state = opt.update({"w": H @ p["w"]}, state, p)
            p, t = apply_updates(p, updates), t + 1
        return t

    counts: dict[str, list[int]] = {"GD": [], "heavy ball": []}
    for kappa in KAPPAS:
        H, w0 = np.diag([1.0, kappa]), np.array([1.0, 1.0])
        tuned_gd, heavy_ball = _tuned(kappa)
        counts["GD"].append(iterations(tuned_gd, H, w0))
        counts["heavy ball"].append(iterations(heavy_ball, H, w0))
    return counts


def iterations_against_kappa() -> Any:
    """Steps to reach $\\|w - w^\\star\\| \\le 10^{-8}\\|w_0\\|$ against $\\kappa$ for tuned GD and
    tuned heavy ball (log-log, fitted slopes in the legend), with dashed reference lines of
    slopes $1$ and $1/2$."""
    kappas, counts = KAPPAS, _iteration_counts()
    fig, ax = new_figure(1, width=6.5, height=3.4)
    for (name, n), color in zip(counts.items(), ("C0", "C1"), strict=True):
        slope = np.polyfit(np.log(kappas), np.log(n), 1)[0]
        ax.loglog(kappas, n, "o-", color=color, label=f"tuned {name}: fitted slope {slope:.2f}")
    for power, label, shift, n in (
        (1, "1", 2.5, counts["GD"]),
        (0.5, "1/2", 0.4, counts["heavy ball"]),
    ):
        ref = shift * n[0] * (kappas / kappas[0]) ** power  # a reference line beside the data
        ax.loglog(kappas, ref, "--", color="0.5", lw=0.9)
        ax.text(kappas[-1], ref[-1], f"  slope {label}", va="center", fontsize=9, color="0.3")
    ax.set(xlim=(7, 5e4), xlabel="condition number κ", ylabel="steps to |w − w*| ≤ 1e-8 |w₀|")
    ax.set_title("iterations against κ on diag(1, κ), from w₀ = (1, 1)")
    ax.legend()
    return fig


def acceleration_slopes() -> str:
    """The sentence with the fitted slopes of `iterations_against_kappa` (HTML)."""
    slopes = {
        name: np.polyfit(np.log(KAPPAS), np.log(n), 1)[0] for name, n in _iteration_counts().items()
    }  # the fitted slopes of the legend
    assert 0.9 < slopes["GD"] < 1.1 and 0.5 < slopes["heavy ball"] < 0.6, slopes
    return (
        f"<p>The fitted slopes come out at {slopes['GD']:.2f} for GD and "
        f"{slopes['heavy ball']:.2f} for heavy ball, against reference lines of slope 1 and 1/2.</p>"
    )


def _parallel(ax: Any, kinds: str, labels: tuple[str, ...], title: str, note: str) -> None:
    """Branches in parallel between a bottom and a top rail, the inductor last."""
    xs, top = 1.2 * np.arange(len(kinds)), 1.6
    for x, kind, label in zip(xs, kinds, labels, strict=True):
        _element(ax, (x, 0), (x, top), kind, label, side=-1.0)
    _element(ax, (0, top), (xs[-1], top), "")
    _element(ax, (0, 0), (xs[-1], 0), "")
    ax.plot(xs[1:-1], np.full(len(xs) - 2, top), "ko", ms=3)
    ax.plot(xs[1:-1], np.zeros(len(xs) - 2), "ko", ms=3)
    arrow = {"arrowstyle": "-|>", "mutation_scale": 14, "color": "k", "shrinkA": 0, "shrinkB": 0}
    ax.annotate("", (xs[-1], top - 0.42), (xs[-1], top - 0.08), arrowprops=arrow)
    ax.text(xs[-1] - 0.12, top - 0.22, "i", ha="right", va="center", style="italic")
    ax.text(xs[-1] + 0.8, top / 2, "+\nv\n−", ha="center", va="center", linespacing=1.8)
    ax.text(xs[-1] / 2, -0.45, note, ha="center", va="center")
    ax.set_title(title)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set(xlim=(-0.5, 4.7), ylim=(-0.7, top + 0.2))


def rl_and_rlc_circuits() -> Any:
    """Gradient flow as the lecture's RL circuit (left) and momentum flow as the RLC circuit
    (right), whose equations are checked against `momentum_flow_matrix`."""
    # the circuit C v' = Iₛ - i - v/R, L i' = v is momentum_flow_matrix's a' = k(λe - a), e' = -c a
    # rescaled: v = -a, i - Iₛ = λe/R, k = 1/(RC), cλ = R/L. Check it on the error part (Iₛ = 0):
    for R, L, C, lam in ((1.0, 1.0, 1.0, 1.0), (2.0, 0.5, 0.3, 3.0), (0.7, 4.0, 2.0, 0.2)):
        k, c = 1 / (R * C), R / (L * lam)
        T = np.diag([-1.0, lam / R])
        circuit = np.array([[-1 / (R * C), -1 / C], [1 / L, 0.0]])
        A = momentum_flow_matrix(k, c, lam)
        assert np.allclose(T @ A @ np.linalg.inv(T), circuit)

    fig, (ax, bx) = new_figure(2, width=7.0, height=2.7)
    _parallel(ax, "IRL", ("Iₛ", "R", "L"), "gradient flow: RL", "v = −λe,  cλ = R/L")
    _parallel(
        bx, "IRCL", ("Iₛ", "R", "C", "L"), "momentum flow: RLC", "v = −a, k = 1/(RC), cλ = R/L"
    )
    return fig


def flow_responses() -> Any:
    """The error $e(t)$ of one mode under `momentum_flow_matrix` (the RLC circuit), started from
    a zero average, for underdamped, critical and overdamped $k$, against gradient flow (the RL
    circuit): every one decays."""
    t = np.linspace(0, 15, 300)
    fig, ax = new_figure(1, width=6.5, height=3.2)
    ax.plot(t, np.exp(-t), "k--", lw=1.2, label="gradient flow (RL)")
    for k, name in ((0.5, "underdamped"), (4.0, "critical"), (20.0, "overdamped")):
        A = momentum_flow_matrix(k, 1.0, 1.0)
        e = [(expm(A * s) @ np.array([0.0, 1.0]))[1] for s in t]
        ax.plot(t, e, label=f"momentum flow, k = {k:g} ({name})")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set(
        xlabel="time t",
        ylabel="error e(t)",
        title="RLC circuit: λ = c = 1, e(0) = 1, a(0) = 0",
    )
    ax.legend()
    return fig
