"""Figures of the gradient-descent chapter (docs/gradient-descent.md): one function per figure,
each returning it."""

from __future__ import annotations

from typing import Any

import numpy as np

from dlcore.data import separable_dataset
from dlcore.dynamics import (
    gd_filter_factors,
    gd_max_stable_lr,
    gd_mode_factor,
    gd_steps_to_tolerance,
)
from dlcore.linear import ridge, ridge_filter_factors
from dlcore.losses import empirical_risk, empirical_risk_grad, squared_loss, squared_loss_grad
from dlcore.optim import gd
from dlcore.train import best_checkpoint, run, train
from figures import leave_note, new_figure, new_mosaic

__all__ = [
    "first_order_model",
    "mode_errors",
    "regime_map",
    "error_curves",
    "gradient_signs",
    "steps_against_step_size",
    "euler_flow",
    "bifurcations",
    "logistic_separable",
    "filter_factors",
    "closed_loop_factors",
    "gd_against_ridge",
    "learned_directions",
    "early_stopping",
]


def first_order_model() -> Any:
    """The logistic loss along a line $\\varepsilon \\mapsto L(w + \\varepsilon v)$ against its tangent
    $L(w) + \\varepsilon\\nabla L(w)^\\top v$, and the remainder, of order $\\varepsilon^2$."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 2))
    y = np.where(X @ np.array([1.0, -0.5]) + 0.5 * rng.standard_normal(30) > 0, 1.0, -1.0)
    w, v = np.array([0.3, 0.8]), np.array([0.6, -0.8])  # a point and a unit direction

    def L(w: Any) -> Any:
        return float(empirical_risk(w, X, y, loss="logistic"))

    slope = float(empirical_risk_grad(w, X, y, loss="logistic") @ v)  # directional derivative
    eps = np.linspace(-3, 3, 121)
    fig, (ax, ax2) = new_figure(2, height=3.3)
    ax.plot(eps, [L(w + e * v) for e in eps], label="L(w + εv)")
    ax.plot(eps, L(w) + eps * slope, "--", label="L(w) + ε ∇L(w)ᵀv")
    ax.set(xlabel="ε", ylabel="logistic loss", title="the loss along a line and its tangent")
    ax.legend(fontsize=9)
    e = np.logspace(-4, 0.5, 30)
    rem = [abs(L(w + k * v) - L(w) - k * slope) for k in e]
    ax2.loglog(e, rem, "o", ms=3, label="|remainder|")
    ax2.loglog(e, rem[0] * (e / e[0]) ** 2, "k--", lw=0.8, label="slope 2")
    ax2.set(xlabel="ε", title="the first-order model errs by O(ε²)")
    ax2.legend(fontsize=9)
    return fig


def mode_errors() -> Any:
    """GD on a least-squares problem with three singular values: the error along each right singular
    vector shrinks by its own factor $1 - 2\\eta\\sigma_i^2$ per step (small and large step)."""
    rng = np.random.default_rng(0)
    s = np.array([1.0, 0.6, 0.25])
    U, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    X, y = (U * s) @ V.T, U @ np.ones(3)
    w_star = np.linalg.solve(X, y)
    fig, axes = new_figure(2, height=3.3)
    for ax, c in zip(axes, [0.4, 1.6], strict=False):  # lr * lambda_max
        lr = c / (2 * s[0] ** 2)
        _, traj = run(
            gd(lr),
            lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
            {"w": np.zeros(3)},
            40,
            record_every=1,
        )
        E = np.array([V.T @ (p["w"] - w_star) for p in traj])
        for i in range(3):
            f = 1 - 2 * lr * s[i] ** 2
            (line,) = ax.semilogy(np.abs(E[:, i]), label=f"σ = {s[i]}, factor {f:+.2f}")
            neg = E[:, i] < 0
            ax.semilogy(
                np.flatnonzero(neg),
                np.abs(E[neg, i]),
                "o",
                mfc="none",
                ms=3,
                color=line.get_color(),
            )
            ax.semilogy(np.abs(E[0, i]) * np.abs(f) ** np.arange(41), ":", color="k", lw=0.8)
        ax.set(xlabel="step t", ylabel="|ṽᵢ error|", title=f"ηλ_max = {c}", ylim=(1e-12, 10))
        ax.legend(fontsize=9)
    return fig


def regime_map() -> Any:
    """The per-step factor $|1 - \\eta\\lambda|$ of one mode against $\\eta\\lambda$ (monotone,
    alternating, divergent), and GD paths on a 2-D quadratic for several step sizes."""
    fig, (ax, ax2) = new_figure(2, width=7.5, height=4.8)
    a = np.linspace(0.0, 2.6, 521)
    r = np.array([abs(gd_mode_factor(1.0, x)) if x > 0 else 1.0 for x in a])
    ax.plot(a, r, "k")
    ax.axhline(1, color="grey", lw=0.8)
    ax.axvspan(0, 1, color="tab:green", alpha=0.15, label="monotone decay")
    ax.axvspan(1, 2, color="tab:orange", alpha=0.15, label="alternating decay")
    ax.axvspan(2, 2.6, color="tab:red", alpha=0.15, label="alternating divergence")
    ax.plot([1], [0], "k*", ms=9, label="one step (ηλ = 1)")
    # mirror symmetry: ηλ and 2 − ηλ have the same factor
    for x in (0.4, 1.6):
        ax.plot([x], [abs(gd_mode_factor(1.0, x))], "ko", ms=4, mfc="white")
    ax.annotate(
        "",
        (0.4, abs(gd_mode_factor(1.0, 0.4))),
        (1.6, abs(gd_mode_factor(1.0, 1.6))),
        arrowprops={"arrowstyle": "<->", "color": "k", "lw": 0.8, "ls": ":"},
    )
    ax.text(1.0, 0.63, "mirror: ηλ ↔ 2 − ηλ", ha="center", va="bottom", fontsize=9)
    # the same map for the soft mode lambda_min = lambda_max / kappa, against eta lambda_max
    kappa = 5.0  # the right panel's quadratic, lambda = (2, 0.4)
    r_soft = np.array([abs(gd_mode_factor(1.0 / kappa, x)) if x > 0 else 1.0 for x in a])
    ax.plot(a, r_soft, "--", color="tab:purple", label=f"λ_min = λ_max/κ, κ = {kappa:g}")
    ax.set(
        xlabel="ηλ (ηλ_max for the dashed curve)",
        ylabel="|1 − ηλ| per step",
        title="regime map of one mode",
        ylim=(0, 1.7),
    )
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2))

    # A 2-D quadratic: X = diag(1, sqrt(0.2)), y = 0, so lambda = (2, 0.4) and w* = 0.
    X, y = np.diag([1.0, np.sqrt(0.2)]), np.zeros(2)
    lr_max = gd_max_stable_lr(2.0)
    g1, g2 = np.meshgrid(np.linspace(-1.6, 1.6, 200), np.linspace(-1.3, 1.3, 200))
    ax2.contour(g1, g2, g1**2 + 0.2 * g2**2, levels=12, colors="grey", linewidths=0.5)
    for frac in (0.2, 0.5, 0.95, 1.03):
        _, traj = run(
            gd(frac * lr_max),
            lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
            {"w": np.array([1.0, 1.0])},
            14,
            record_every=1,
        )
        W = np.array([p["w"] for p in traj])
        ax2.plot(W[:, 0], W[:, 1], ".-", ms=3, lw=0.8, label=f"η = {frac} · 2/λ_max")
    lams = 2 * np.diag(X) ** 2  # the Hessian's eigenvalues
    ax2.set(
        xlabel="w₁",
        ylabel="w₂",
        title=f"GD on a 2-D quadratic, λ = ({lams[0]:g}, {lams[1]:g})",
        xlim=(-1.6, 1.6),
        ylim=(-1.3, 1.3),
    )
    ax2.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return fig


def error_curves() -> Any:
    """The error of GD against the step count for one mode at several $\\eta\\lambda$ (mirror pairs
    dashed), and on a 2-D quadratic for several step sizes."""

    def errors(X: Any, lr: Any, steps: Any) -> Any:
        _, traj = run(
            gd(lr),
            lambda p, t: {"w": squared_loss_grad(p["w"], X, np.zeros(len(X)))},  # w* = 0
            {"w": np.ones(X.shape[1])},
            steps,
            record_every=1,
        )
        return np.array([np.linalg.norm(p["w"]) for p in traj])

    fig, (ax, ax2) = new_figure(2, height=3.4)
    X1 = np.array([[np.sqrt(0.5)]])  # one mode, lambda = 2 x^2 = 1
    for c in (0.1, 0.5, 1.0, 1.5, 1.95, 2.05):
        e = errors(X1, c, 30)
        ls = "--" if c > 1 else "-"  # mirror images of each other around c = 1
        ax.semilogy(np.maximum(e, 1e-17), marker=".", ls=ls, ms=3, lw=0.8, label=f"ηλ = {c}")
    ax.set(xlabel="step t", ylabel="|e_t|", title="one mode", ylim=(1e-17, 10))
    ax.legend(fontsize=9, ncol=2)
    X2 = np.diag([1.0, np.sqrt(0.1)])  # lambda = (2, 0.2)
    for c in (0.1, 0.5, 0.9, 1.0, 1.1):
        ax2.semilogy(errors(X2, c * 2 / 2.0, 60), label=f"ηλ_max/2 = {c}")
    ax2.set(xlabel="step t", ylabel="‖w_t − w*‖", title="2-D quadratic, λ = (2, 0.2)")
    ax2.legend(fontsize=9)
    return fig


def gradient_signs() -> Any:
    """The gradient's components along a GD path on a stiff 2-D quadratic: the stiff one flips sign
    every step, the soft one keeps it."""
    X, y = np.diag([1.0, np.sqrt(0.05)]), np.zeros(2)  # lambda = (2, 0.1): stiff w1, soft w2
    lr = 0.9 * gd_max_stable_lr(2.0)
    _, traj = run(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": np.array([1.0, 1.0])},
        20,
        record_every=1,
    )
    G = np.array([squared_loss_grad(p["w"], X, y) for p in traj])  # gradients along the path
    fig, (ax, ax2) = new_figure(2, height=3.0)
    t = np.arange(len(G))
    ax.bar(t, G[:, 0], color=np.where(G[:, 0] > 0, "tab:blue", "tab:red"))
    lams = 2 * np.diag(X) ** 2  # the Hessian's eigenvalues
    ax.set(
        xlabel="step t",
        ylabel="∂L/∂w₁",
        title=f"stiff: sign flips\nλ = {lams[0]:g}, ηλ = {lr * lams[0]:g}",
    )
    ax2.bar(t, G[:, 1], color="tab:blue")
    ax2.set(
        xlabel="step t",
        ylabel="∂L/∂w₂",
        title=f"soft: steady\nλ = {lams[1]:g}, ηλ = {lr * lams[1]:g}",
    )
    return fig


def steps_against_step_size() -> Any:
    """The number of GD steps until every mode of a quadratic shrinks by a fixed factor, against the
    step size $\\eta$, up to $2/\\lambda_{\\max}$."""
    lam = np.array([2.0, 0.5, 0.02])  # Hessian eigenvalues, kappa = 100
    lr_max = gd_max_stable_lr(lam.max())
    lrs = lr_max * np.logspace(-3, np.log10(0.999), 200)
    steps = [max(gd_steps_to_tolerance(li, lr, 1e-6) for li in lam) for lr in lrs]
    fig, ax = new_figure(1, width=5.5, height=3.2)
    ax.loglog(lrs, steps, label="steps until every mode shrinks by 10⁶")
    ax.loglog(
        lrs, np.log(1e6) / (lrs * lam.min()), "k--", lw=0.8, label="ln(10⁶) / (ηλ_min): slope −1"
    )
    ax.axvline(lr_max, color="tab:red", lw=0.8, label="2/λ_max")
    kappa = lam.max() / lam.min()
    ax.set(
        xlabel="step size η",
        ylabel="iterations",
        title=f"too small a step is slow: λ = {tuple(float(x) for x in lam)}, κ = {kappa:g}",
    )
    ax.legend(fontsize=9)
    return fig


def euler_flow() -> Any:
    """GD iterates on one mode plotted against time $\\tau = \\eta t$, against the gradient flow
    $e^{-\\tau}$: GD is Euler's method for the flow."""
    X, y = np.array([[np.sqrt(0.5)]]), np.zeros(1)  # one mode with lambda = 1, w* = 0
    tau = np.linspace(0, 8, 200)
    fig, ax = new_figure(1, width=7.0, height=3.3)
    ax.plot(tau, np.exp(-tau), "k", lw=2, label="gradient flow e(τ) = e⁻ᵗ")
    for lr in (0.25, 0.8, 1.5, 2.2):
        steps = round(8 / lr)
        _, traj = run(
            gd(lr),
            lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
            {"w": np.ones(1)},
            steps,
            record_every=1,
        )
        ax.plot(
            lr * np.arange(steps + 1),
            [p["w"][0] for p in traj],
            "o-",
            ms=3,
            lw=0.8,
            label=f"GD, ηλ = {lr}",
        )
    ax.set(
        xlabel="time τ = η t",
        ylabel="error",
        ylim=(-2.5, 2.5),
        title="GD is Euler's method for the flow",
    )
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1, 1))
    return fig


def bifurcations() -> Any:
    """Late GD iterates against the step size $\\eta$ on $\\log\\cosh\\theta$ (a 2-cycle past $2/\\lambda$,
    not divergence) and on a double well."""
    fig, (ax, ax2) = new_figure(2, height=3.3)
    etas = np.linspace(0.2, 5.0, 120)
    for eta in etas:
        _, traj = run(
            gd(eta),
            lambda p, t: {"w": np.tanh(p["w"])},
            {"w": np.array([0.7])},
            400,
            record_every=1,
        )
        late = [p["w"][0] for p in traj[-20:]]
        ax.plot([eta] * len(late), late, "k.", ms=1)
    ax.axvline(2, color="tab:red", lw=0.8, label="local bound η = 2/λ")
    ax.set(
        xlabel="η", ylabel="late iterates θ_t", title="GD on log cosh θ: a 2-cycle, not divergence"
    )
    ax.legend(fontsize=9)
    # the double well 1/4 (θ² − 1)²: gradient θ³ − θ, curvature 2 at the minima
    etas = np.linspace(0.5, 2.0, 300)
    for eta in etas:
        _, traj = run(
            gd(eta),
            lambda p, t: {"w": p["w"] ** 3 - p["w"]},
            {"w": np.array([0.3])},
            400,
            record_every=1,
        )
        late = [p["w"][0] for p in traj[-60:]]
        ax2.plot([eta] * len(late), late, "k.", ms=0.5)
    ax2.set(xlabel="η", ylabel="late iterates", title="double well: late iterates against η")
    return fig


def logistic_separable() -> Any:
    """GD on the logistic loss of separable data: the norm grows like $\\log t/\\gamma$, the loss falls
    like $1/t$, the direction turns to the hard-margin SVM's."""
    notes: list[str] = []
    data = separable_dataset(12, 2, 0.3, rng=np.random.default_rng(5))
    X, y, w_star, gamma = data.X, data.y, data.direction, data.margin
    beta = np.linalg.norm(X, 2) ** 2 / (4 * len(y))
    T = 10_000
    _, traj = run(
        gd(float(1 / beta)),
        lambda p, t: {"w": empirical_risk_grad(p["w"], X, y, loss="logistic")},
        {"w": np.zeros(2)},
        T,
        record_every=1,
    )
    thetas = np.array([p["w"] for p in traj])
    t = np.arange(1, T + 1)
    norms = np.linalg.norm(thetas[1:], axis=1)
    loss = np.array([float(empirical_risk(th, X, y, loss="logistic")) for th in thetas[1::10]])
    angle = np.degrees(np.arccos(np.clip(thetas[1:] @ w_star / norms, -1, 1)))
    fig, axd = new_mosaic("AB;CD", width=7.5, height=7.0)
    ax, ax2, ax3, ax4 = axd["A"], axd["B"], axd["C"], axd["D"]
    ax.semilogx(t, norms, label="‖θ_t‖")
    ax.semilogx(t, norms[-1] + (np.log(t) - np.log(T)) / gamma, "k:", label="slope 1/γ per e-fold")
    ax.set(xlabel="step t", title="norm: a straight line in log t")
    ax.legend(fontsize=9)
    ax2.loglog(t[::10], loss, label="L(θ_t)")
    ax2.loglog(t[::10], 1 / (gamma**2 * t[::10] / beta), "k:", label="1/(ηγ²t)")
    ax2.set(xlabel="step t", title="loss → 0, like 1/t")
    ax2.legend(fontsize=9)
    ax3.semilogx(t, angle)
    ax3.set(xlabel="step t", ylabel="degrees", title="angle to the SVM direction w*")
    ax4.scatter(*X[y > 0].T, c="tab:blue", s=14, label="y = +1")
    ax4.scatter(*X[y < 0].T, c="tab:red", s=14, marker="s", label="y = −1")
    u = np.linspace(-1.2, 1.2, 2)
    ks = [1, 10, 100, 1000, T]
    for k, c in zip(ks, np.linspace(0.8, 0.0, 5), strict=False):
        th = thetas[k] / np.linalg.norm(thetas[k])  # boundary theta_t . x = 0: theta_t turned 90°
        ax4.plot(
            -th[1] * u, th[0] * u, color=str(c), lw=1, label=f"t = {k}" if k in (1, T) else None
        )
    ax4.plot(-w_star[1] * u, w_star[0] * u, "--", color="tab:green", lw=1, label="SVM boundary")
    for sgn in (-1, 1):  # the margin: w*.x = +-gamma
        ax4.plot(
            -w_star[1] * u + sgn * gamma * w_star[0],
            w_star[0] * u + sgn * gamma * w_star[1],
            ":",
            color="tab:green",
            lw=0.8,
        )
    ax4.set(xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), aspect="equal", title="decision boundary θ_tᵀx = 0")
    ax4.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    assert angle[-1] < 2.0  # the caption's "ends next to the SVM boundary"
    notes.append(
        f"<p>GD with η = 1/β, β = ‖X‖²/(4n), on the logistic loss of {len(y)} separable points in "
        f"the plane with hard margin γ = {gamma:g}. The bottom-right panel shows the data, the decision "
        f"boundary θ<sub>t</sub>ᵀx = 0 at t = {', '.join(str(k) for k in ks)} (light to dark) and "
        f"the SVM boundary with its margin band w*ᵀx = ±γ (green): the boundary ends "
        f"{angle[-1]:.1f}° from the SVM one (bottom left).</p>"
    )
    leave_note(logistic_separable, "\n".join(notes))
    return fig


def filter_factors() -> Any:
    """The fraction $p_i(t)$ of each singular direction fitted by GD after $t$ steps: ordered by
    $\\sigma_i$ for a small step, reordered for a medium one; and the coefficients
    $p_i(t)/\\sigma_i$, a ramp then $1/\\sigma_i$."""
    fig, (ax, ax3, ax2) = new_figure(3, width=7.5, height=3.3)
    s = np.array([1.0, 0.5, 0.25, 0.125])
    lr = 0.4 / (2 * s[0] ** 2)
    t = np.unique(np.round(np.logspace(0, 4, 200)).astype(int))
    P = np.array([gd_filter_factors(s, lr, int(k)) for k in t])
    for i in range(4):
        ax.semilogx(t, P[:, i], label=f"σ = {s[i]}")
        # with y~_i = 1: the coefficient p_i(t) / sigma_i, its OLS limit 1/sigma_i, the ramp 2 eta sigma_i t
        (line,) = ax3.loglog(t, P[:, i] / s[i], label=f"σ = {s[i]}")
        ax3.axhline(1 / s[i], color=line.get_color(), ls="--", lw=0.8)
        ax3.loglog(t, 2 * lr * s[i] * t, ":", color=line.get_color(), lw=0.8)
    ax.set(xlabel="step t", ylabel="fraction fitted pᵢ(t)", title="small step: ordered")
    ax.legend(fontsize=9)
    ax3.set(
        xlabel="step t",
        ylabel="|w̃ᵢ(t)|, with ỹᵢ = 1",
        title="ramp, then 1/σᵢ",
        ylim=(3e-2, 20),
    )
    lr = 1.0
    s = np.sqrt(np.array([1.9, 1.4, 1.0, 0.2]) / 2)
    t = np.arange(0, 21)
    P = np.array([gd_filter_factors(s, lr, int(k)) for k in t])
    for i in range(4):
        ax2.plot(t, P[:, i], ".-", ms=3, label=f"2ησ² = {2 * lr * s[i] ** 2:.1f}")
    ax2.set(xlabel="step t", ylabel="pᵢ(t)", title="medium: reordered", ylim=(-0.1, 2.0))
    ax2.legend(fontsize=9)
    return fig


def closed_loop_factors() -> Any:
    """The per-step factors $1 - 2\\eta\\sigma_i^2$ of four directions for a small and a medium step: the
    factor nearest 0 is fitted fastest."""
    notes: list[str] = []
    s = np.array([1.0, 0.75, 0.5, 0.25])
    fig, ax = new_figure(1, width=6.5, height=2.4)
    factors = {}
    for row, lr in enumerate([0.4, 0.8]):  # 2 lr sigma_1^2 = 0.8 (small), 1.6 (medium)
        f = np.array([gd_mode_factor(2 * si**2, lr) for si in s])  # lambda_i = 2 sigma_i^2
        factors[2 * lr * s[0] ** 2] = f
        ax.scatter(f, np.full_like(f, row), c=s, cmap="viridis", vmin=0, vmax=1.2, s=50, zorder=3)
        for k, (si, fi) in enumerate(zip(s, f, strict=False)):
            dy = 8 if k % 2 == 0 else -14
            ax.annotate(
                f"σ = {si}",
                (fi, row),
                xytext=(0, dy),
                textcoords="offset points",
                ha="center",
                fontsize=9,
            )
    ax.axvline(0, color="k", lw=0.8)
    ax.axvspan(-1.2, -1, color="tab:red", alpha=0.15)
    ax.axvspan(1, 1.2, color="tab:red", alpha=0.15)
    (a_small, f_small), (a_medium, f_medium) = factors.items()
    ax.set_yticks([0, 1], [f"small η\n2ησ₁² = {a_small:g}", f"medium η\n2ησ₁² = {a_medium:g}"])
    ax.set(
        xlim=(-1.2, 1.2),
        ylim=(-0.6, 1.6),
        xlabel="per-step factor 1 − 2ησᵢ²",
        title="closed-loop eigenvalues: the one nearest 0 is fitted fastest",
    )
    # the caption, checked: small step, factors in [0, 1) in the order of sigma, sigma_1 nearest 0;
    # medium step, sigma_1's factor negative and a middle direction nearest 0
    assert ((f_small >= 0) & (f_small < 1)).all() and (np.diff(f_small) > 0).all()
    assert np.argmin(np.abs(f_small)) == 0
    assert f_medium[0] < 0 and 0 < np.argmin(np.abs(f_medium)) < len(s) - 1
    notes.append(
        f"<p>With a small step (2ησ₁² = {a_small:g}) all factors lie in [0, 1) in the order of σ, "
        f"and σ₁ sits nearest 0. With a medium step (2ησ₁² = {a_medium:g}) σ₁'s factor is negative "
        f"(it oscillates), and the direction σ = {s[np.argmin(np.abs(f_medium))]:g} is nearest 0, so "
        "it is fitted fastest.</p>"
    )
    leave_note(closed_loop_factors, "\n".join(notes))
    return fig


def gd_against_ridge() -> Any:
    """GD's filter factors after $t$ steps against ridge's with $\\lambda = 1/(2\\eta t)$: GD's lie
    between $h_\\lambda$ and $2h_\\lambda$."""
    s = np.logspace(-3, 0, 400)
    lr = 0.5  # 2 lr sigma_max^2 = 1
    fig, ax = new_figure(1, width=6.0, height=3.3)
    for t, color in [(10, "tab:blue"), (1000, "tab:orange"), (100000, "tab:green")]:
        lam = 1 / (2 * lr * t)
        h = ridge_filter_factors(s, lam)
        ax.semilogx(s, gd_filter_factors(s, lr, t), color=color, label=f"GD, t = {t}")
        ax.semilogx(s, h, "--", color=color, lw=0.8, label="ridge, λ = 1/(2ηt)")
        ax.fill_between(s, h, np.minimum(2 * h, 1), color=color, alpha=0.12)
    ax.set(xlabel="σ", ylabel="filter factor", title="GD filter inside [h_λ, 2h_λ] (shaded)")
    ax.legend(fontsize=9, ncol=3, loc="upper left")
    return fig


def learned_directions() -> Any:
    """The data spectrum ($|\\tilde y_i|$, $\\sigma_i$) and what GD has learned along each direction
    after a short and a long run, against least squares."""
    rng = np.random.default_rng(15)
    n = d = 8
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((d, d)))
    s = np.logspace(0, -1.2, d)
    (U * s) @ V.T
    y = rng.standard_normal(n)
    y_t = U.T @ y  # the data spectrum, y in the left singular basis
    lr = 0.45  # 2 eta sigma_1^2 = 0.9
    i = np.arange(1, d + 1)
    fig, axes = new_figure(3, width=7.5, height=3.0)
    axes[0].bar(i - 0.2, np.abs(y_t), 0.4, label="|ỹᵢ|")
    axes[0].bar(i + 0.2, s, 0.4, label="σᵢ")
    axes[0].set(xlabel="direction i", title="the data: spectrum and strings")
    axes[0].legend(fontsize=9)
    for t, ax_ in [(10, axes[1]), (1000, axes[2])]:
        p = gd_filter_factors(s, lr, t)
        ax_.bar(i, np.abs(y_t / s), 0.6, color="lightgrey", label="least squares |ỹᵢ/σᵢ|")
        ax_.bar(i, np.abs(p * y_t / s), 0.35, color="tab:green", label="GD |pᵢ(t) ỹᵢ/σᵢ|")
        ax_.set(xlabel="direction i", title=f"learned after t = {t}", yscale="log", ylim=(1e-2, 30))
        ax_.legend(fontsize=9)
    # the caption: after the short run the strongest directions are fitted and the weakest barely
    # started; after the long one every direction is mostly fitted
    p_short, p_long = gd_filter_factors(s, lr, 10), gd_filter_factors(s, lr, 1000)
    assert p_short[0] > 0.9 and p_short[-1] < 0.1 and p_long.min() > 0.9
    return fig


def early_stopping() -> Any:
    """Training loss and test error of GD on noisy least squares, against ridge with $\\lambda =
    1/(2\\eta t)$ and the least-squares limit: the test error is lowest at an early checkpoint."""
    notes: list[str] = []
    rng = np.random.default_rng(2)
    n, d = 40, 30
    U, _ = np.linalg.qr(rng.standard_normal((n, d)))
    V, _ = np.linalg.qr(rng.standard_normal((d, d)))
    s = np.logspace(0, -1.5, d)
    X = (U * s) @ V.T
    w_star = V @ (np.exp(-np.arange(d) / 3.0))
    y = X @ w_star + 0.02 * rng.standard_normal(n)
    lr = 0.4 / (2 * s[0] ** 2)
    hist = train(
        gd(lr),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        {"w": np.zeros(d)},
        20_000,
        loss_fn=lambda p: squared_loss(p["w"], X, y),
        checkpoint_every=10,
    )
    steps = np.array([t for t, _ in hist.checkpoints])
    test = np.array([np.sum((p["w"] - w_star) ** 2) for _, p in hist.checkpoints])
    t_best, _ = best_checkpoint(hist.checkpoints, lambda p: np.sum((p["w"] - w_star) ** 2))
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    fig, ax = new_figure(1, width=7.5, height=3.3)
    rec = np.array([r.loss for r in hist.records])
    ax.loglog(np.arange(1, len(rec) + 1), rec, label="training loss (every step)")
    ax.loglog(steps[1:], test[1:], "o-", ms=2, label="test error ‖w_t − w*‖² (checkpoints)")
    t_r = np.unique(np.round(np.logspace(0, np.log10(steps[-1]), 60)))
    ridge_err = [np.sum((ridge(X, y, 1 / (2 * lr * k)) - w_star) ** 2) for k in t_r]
    ax.loglog(t_r, ridge_err, "--", color="tab:purple", label="ridge, λ = 1/(2ηt): ‖ŵ_λ − w*‖²")
    ax.axhline(np.sum((w_ls - w_star) ** 2), color="k", ls=":", label="least-squares limit")
    ax.axvline(t_best, color="tab:red", lw=0.8, label=f"best checkpoint, t = {t_best}")
    ax.set(xlabel="step t", title="early stopping")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1, 1))
    # the caption, checked: the training loss never rises (up to float64 rounding of the loss), the
    # test error falls and then climbs back towards the least-squares limit
    assert (np.diff(rec) <= 1e-12 * rec[0]).all()
    assert steps[0] < t_best < steps[-1] and test[-1] > 2 * test.min()
    notes.append(
        f"<p>Least squares with n = {n}, d = {d}, singular values from {s[0]:g} down to "
        f"{s[-1]:.3g} and noisy targets; GD from w₀ = 0 at η = {lr * 2 * s[0] ** 2:g}/λ<sub>max</sub>. "
        f"The training loss falls at every step. The test error ‖w<sub>t</sub> − w*‖², kept every "
        f"{steps[1] - steps[0]} steps, falls and then climbs towards the least-squares limit "
        "(dotted).</p>"
    )
    leave_note(early_stopping, "\n".join(notes))
    return fig
