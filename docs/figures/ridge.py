"""Figures of the ridge chapter (docs/ridge.md): one function per figure, each returning it."""

from __future__ import annotations

import math
import time
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from dlcore.kernels import kernel_ridge, linear_kernel
from dlcore.linear import (
    augment_ridge_features,
    augment_ridge_rows,
    min_norm_solution,
    ridge,
    ridge_filter_factors,
    ridge_grad,
)
from dlcore.optim import gd
from dlcore.train import run
from figures import new_figure, new_figure_3d, outline_block

__all__ = [
    "projection",
    "crazy_values",
    "full_svd_shapes",
    "filter_factors",
    "ridge_vs_truncated_svd",
    "map_is_ridge",
    "regularization_path",
    "augmented_matrices",
    "random_features",
    "weight_decay_alone",
    "closed_form_vs_gd_time",
    "digits_spectrum",
    "rotation_invariance",
]


def projection() -> Any:
    """Least squares as an orthogonal projection: the fit $X\\hat w$ is the foot of the
    perpendicular from $y$ to the plane of the columns (3-D, so the picture can be drawn)."""
    X = np.array([[1.0, 0.3], [0.2, 1.0], [0.0, 0.0]]) + np.array([0.0, 0.0, 0.15])[:, None]
    y = np.array([0.9, 0.7, 1.1])
    y_hat = X @ ridge(X, y, 0.0)  # least squares: lam = 0
    r = y - y_hat
    fig, (ax,) = new_figure_3d(1, width=5.5, height=4.2)
    a, b = np.meshgrid(np.linspace(-0.2, 1.2, 2), np.linspace(-0.2, 1.2, 2))
    plane = a[..., None] * X[:, 0] + b[..., None] * X[:, 1]
    ax.plot_surface(*np.moveaxis(plane, -1, 0), color="C0", alpha=0.15)
    for j, name in enumerate(["x⁽¹⁾", "x⁽²⁾"]):
        ax.quiver(0, 0, 0, *X[:, j], color="C0", lw=1, arrow_length_ratio=0.1)
        ax.text(*(1.08 * X[:, j]), name, color="C0")
    ax.quiver(0, 0, 0, *y, color="k", lw=2, arrow_length_ratio=0.08)
    ax.text(*(1.05 * y), "y", fontsize=12)
    ax.quiver(0, 0, 0, *y_hat, color="C1", lw=2, arrow_length_ratio=0.08)
    ax.text(*(1.05 * y_hat), "ŷ = Xŵ", color="C1")
    ax.plot(*np.stack([y_hat, y], axis=1), "C3--", lw=1.5)
    ax.text(*(y_hat + 0.5 * r + 0.03), "y − ŷ", color="C3")
    u, v = 0.08 * r / np.linalg.norm(r), -0.08 * y_hat / np.linalg.norm(y_hat)
    corner = np.stack([y_hat + u, y_hat + u + v, y_hat + v], axis=1)
    ax.plot(*corner, color="C3", lw=1)
    ax.set(xlabel="e₁", ylabel="e₂", zlabel="e₃", xticklabels=[], yticklabels=[], zticklabels=[])
    n, d = X.shape
    ax.set_title(f"n = {n}, d = {d}:  ‖Xᵀ(y − ŷ)‖ = {np.linalg.norm(X.T @ r):.0e}", fontsize=10)
    ax.view_init(elev=18, azim=-60)
    return fig


def crazy_values() -> Any:
    r"""$\|X^+y\|$ (`min_norm_solution`) against $\sigma_{\min}$, growing like $1/\sigma_{\min}$, and
    ridge's bounded $\|\hat w\|$ (left); the monomial coefficients of a high-degree least-squares
    polynomial fit (right)."""
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((20, 5)))
    V, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    y = rng.standard_normal(20)
    smins = np.logspace(-8, 0, 33)
    ols, rdg = [], []
    for sm in smins:
        X = (U * np.geomspace(1.0, sm, 5)) @ V.T
        ols.append(np.linalg.norm(min_norm_solution(X, y)))
        rdg.append(np.linalg.norm(ridge(X, y, 1e-4)))
    # log-log slope of ‖X⁺y‖ against σ_min where the smallest direction dominates (σ_min ≤ 1e-2)
    small = smins <= 1e-2
    slope = np.polyfit(np.log(smins[small]), np.log(np.array(ols)[small]), 1)[0]
    assert abs(slope + 1) < 0.05, slope  # ‖X⁺y‖ ∝ 1/σ_min
    fig, (ax, ax_poly) = new_figure(2)
    ax.loglog(smins, ols, label="least squares ‖X⁺y‖")
    ax.loglog(smins, rdg, label="ridge, λ = 1e-4")
    ax.axhline(np.linalg.norm(y) / (2 * np.sqrt(1e-4)), color="grey", ls=":", label="‖y‖ / (2√λ)")
    ax.set(xlabel="σ_min", ylabel="‖ŵ‖", title=f"crazy values: log-log slope {slope:.2f}")
    ax.legend()
    points, degree = 10, 9
    x = np.linspace(0, 1, points)
    A = np.stack([x**k for k in range(degree + 1)], axis=1)
    coef = min_norm_solution(A, np.sin(6 * x) + 0.1 * rng.standard_normal(points))
    ax_poly.semilogy(np.arange(degree + 1), np.abs(coef), "o")
    ax_poly.set(
        xlabel="power k",
        ylabel="|coefficient of xᵏ|",
        title=f"degree-{degree} fit to {points} points",
    )
    return fig


def full_svd_shapes() -> Any:
    r"""The factors $U$, $\Sigma$, $V^\top$ of the full SVD of a tall (top) and a wide (bottom)
    random matrix, the zero blocks of $\Sigma$ outlined."""
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(2, 3, figsize=(6.0, 4.6), layout="constrained")
    axes = axes.ravel()  # row 0: the tall X, row 1: the wide X
    for row, (n, d) in enumerate([(6, 3), (3, 6)]):
        U, s, Vt = np.linalg.svd(rng.standard_normal((n, d)), full_matrices=True)
        S = np.zeros((n, d))
        S[np.arange(min(n, d)), np.arange(min(n, d))] = s
        for ax, (M, name) in zip(
            axes[3 * row : 3 * row + 3], [(U, "U"), (S, "Σ"), (Vt, "Vᵀ")], strict=True
        ):
            ax.imshow(M, cmap="RdBu_r", vmin=-2.5, vmax=2.5)
            ax.set(title=f"{name} ({M.shape[0]}×{M.shape[1]})", xticks=[], yticks=[])
            ax.grid(False)
        k = min(n, d)
        axes[3 * row + 1].set_xlabel("tall X: zero rows" if n > d else "wide X: zero columns")
        outline_block(axes[3 * row + 1], 0, 0, k, k, ls="-", lw=1)
        if n > d:
            outline_block(axes[3 * row + 1], d, 0, n - d, d, "0")
        else:
            outline_block(axes[3 * row + 1], 0, n, n, d - n, "0")
    return fig


def filter_factors() -> Any:
    r"""The filter factor $\sigma^2/(\sigma^2+\lambda)$ against $\sigma$ for several $\lambda$ (left),
    and the gain $|\tilde w_i|/|\tilde y_i|$ of least squares and of ridge (right)."""
    sigma = np.logspace(-3, 2, 400)
    fig, (ax_phi, ax_gain) = new_figure(2)
    for lam in (1e-4, 1e-2, 1.0):
        phi = ridge_filter_factors(sigma, lam)  # sigma^2 / (sigma^2 + lam)
        (line,) = ax_phi.semilogx(sigma, phi, label=f"λ = {lam:g}")
        ax_phi.semilogx(
            sigma, (sigma**2 > lam).astype(float), color=line.get_color(), ls=":", lw=0.8
        )
    ax_phi.set(xlabel="σ", ylabel="σ² / (σ² + λ)", title="filter factor: a smoothed step at √λ")
    ax_phi.legend()
    lam = 1e-2
    ax_gain.loglog(sigma, 1 / sigma, "k--", label="least squares, 1/σ")
    ax_gain.loglog(sigma, ridge_filter_factors(sigma, lam) / sigma, label=f"ridge, λ = {lam:g}")
    ax_gain.loglog(sigma, sigma / lam, ":", color="grey", label="σ/λ (small-σ asymptote)")
    ax_gain.axvline(np.sqrt(lam), color="grey", lw=0.8)
    ax_gain.set_ylim(1e-2, 1e3)
    ax_gain.set(xlabel="σ", ylabel="|w̃ᵢ| / |ỹᵢ|", title="gain per SVD coordinate")
    ax_gain.legend()
    return fig


def ridge_vs_truncated_svd() -> Any:
    r"""Ridge's smooth filter factors against truncated SVD's hard step $\mathbb 1[\sigma^2 > \lambda]$
    on a spectrum with a gap (left), and the spectrum against $\lambda$ (right)."""
    sigma = np.geomspace(10.0, 1e-3, 16)
    lam = 1e-2
    fig, (ax_f, ax_s) = new_figure(2)
    i = np.arange(1, 17)
    ax_f.stem(i, ridge_filter_factors(sigma, lam), label="ridge σ²/(σ²+λ)")
    ax_f.plot(
        i, (sigma**2 > lam).astype(float), "s", color="C1", mfc="none", label="TSVD 𝟙[σ² > λ]"
    )
    ax_f.set(xlabel="index i", ylabel="filter factor", title="smooth vs hard filter")
    ax_f.legend()
    ax_s.semilogy(i, sigma**2, "o", label="σᵢ²")
    ax_s.axhline(lam, color="grey", ls=":", label="λ")
    ax_s.set(xlabel="index i", title="spectrum")
    ax_s.legend()
    return fig


def map_is_ridge() -> Any:
    r"""Ridge as the Gaussian MAP: likelihood, prior and posterior of one weight (top); for two
    weights the likelihood and prior contours, the ridge path, the modes and the posterior means
    (bottom)."""
    w = np.linspace(-1, 3, 400)
    sigma = 1.0
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(7.0, 6.6), layout="constrained")
    ax.plot(w, np.exp(-((2 - w) ** 2) / (2 * sigma**2)), "k--", label="likelihood p(y | w)")
    for tau in (2.0, 1.0, 0.5):
        lam = sigma**2 / tau**2
        post = np.exp(-((2 - w) ** 2) / (2 * sigma**2) - w**2 / (2 * tau**2))
        (line,) = ax.plot(w, post / post.max(), label=f"posterior, σ²/τ² = {lam:g}")
        prior = np.exp(-(w**2) / (2 * tau**2))
        label = "prior N(0, τ²), dash-dot" if tau == 2.0 else None
        ax.plot(w, prior, "-.", lw=0.8, color=line.get_color(), label=label)
        w_map = ridge(np.ones((1, 1)), np.array([2.0]), lam)[0]
        ax.axvline(w_map, ymax=1 / 1.5, color=line.get_color(), ls=":")
    ax.set(xlabel="w", ylabel="density (scaled)", title="d = 1: MAP = ridge with λ = σ²/τ²")
    ax.set_ylim(0, 1.5)
    ax.legend(loc="upper left", ncol=2)

    X, y = np.array([[1.0, 0.8], [0.7, 1.0], [0.2, -0.3]]), np.array([2.0, 1.0, 0.4])
    g = np.linspace(-1.0, 3.0, 161)
    G = np.stack(np.meshgrid(g, g), axis=-1)  # grid of (w₁, w₂) for the contours
    rss = np.sum((G @ X.T - y) ** 2, axis=-1)  # ‖Xw − y‖²: the likelihood is exp(−rss / 2σ²)
    levels = rss.min() + np.array([0.1, 0.4, 1, 2, 4])
    ax2.contour(g, g, rss, levels=levels, colors="grey", linewidths=0.8)
    sq = np.sum(G**2, axis=-1)  # ‖w‖²: the prior is exp(−sq / 2τ²)
    ax2.contour(g, g, sq, levels=[0.25, 1, 2.25], colors="C4", linestyles="-.", linewidths=0.8)
    path_lams = np.logspace(-3, 3, 121)
    path = np.array([ridge(X, y, lam) for lam in path_lams])
    ax2.plot(*path.T, "k-", lw=1, label=f"ridge path, λ = {path_lams[0]:g} … {path_lams[-1]:g}")
    ax2.plot(*ridge(X, y, 0.0), "k*", ms=9, label="least squares (λ = 0)")
    ax2.plot(0, 0, "k+", ms=9, label="prior mean 0")
    h = np.linspace(-15.0, 17.0, 641)
    H = np.stack(np.meshgrid(h, h), axis=-1)  # a wider grid for the posterior mean
    H_rss = np.sum((H @ X.T - y) ** 2, axis=-1)
    modes: Any = []
    means: Any = []
    for tau in (2.0, 1.0, 0.5):
        post = np.exp(
            -(H_rss - H_rss.min()) / (2 * sigma**2) - np.sum(H**2, axis=-1) / (2 * tau**2)
        )
        means.append(np.tensordot(post, H, axes=([0, 1], [0, 1])) / post.sum())
        modes.append(ridge(X, y, sigma**2 / tau**2))
    modes, means = np.array(modes), np.array(means)
    ax2.scatter(
        *modes.T, c=["C0", "C1", "C2"], s=45, zorder=3, label="modes (ridge), σ²/τ² = ¼, 1, 4"
    )
    gap = np.abs(means - modes).max()
    label = f"posterior means (grid sums),\nmax |mean − mode| = {gap:.0e}"
    ax2.plot(*means.T, "kx", ms=6, zorder=4, label=label)
    ax2.set(xlabel="w₁", ylabel="w₂", aspect="equal")
    ax2.set_title("d = 2: likelihood (grey), prior (dash-dot)")
    ax2.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def regularization_path() -> Any:
    r"""The regularization path of a random tall problem: $\|\hat w_\lambda\|$ and the residual
    (left), the SVD coordinates $v_i^\top\hat w_\lambda$ (middle), and the dual coefficients
    against $X^\top\alpha$ (right)."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 8)), rng.standard_normal(40)
    lams = np.logspace(-6, 6, 61)
    W = np.array([ridge(X, y, lam) for lam in lams])
    alphas = np.array([kernel_ridge(linear_kernel(X, X), y, lam) for lam in lams])
    fig, (ax_path, ax_coord, ax_dual) = new_figure(3, width=10.0, height=3.4)
    ax_path.loglog(lams, np.linalg.norm(W, axis=1), label="‖ŵ_λ‖")
    ax_path.loglog(lams, np.linalg.norm(y) / (2 * np.sqrt(lams)), "k:", label="‖y‖ / (2√λ)")
    ax_path.loglog(lams, np.linalg.norm(W @ X.T - y, axis=1), label="‖Xŵ_λ − y‖")
    ax_path.set_ylim(1e-3, 1e2)
    ax_path.set(xlabel="λ", title="regularization path")
    ax_path.legend()
    U_thin, sv, Vt = np.linalg.svd(X, full_matrices=False)
    ax_coord.semilogx(lams, W @ Vt.T, lw=1)  # w̃ = Vᵀŵ_λ, one curve per coordinate
    knees = np.array([ridge(X, y, s**2) @ v for s, v in zip(sv, Vt, strict=True)])
    kept = knees / ((U_thin.T @ y) / sv)  # w̃ᵢ at λ = σᵢ² over the least-squares ỹᵢ/σᵢ
    assert np.allclose(kept, kept[0]), kept
    ax_coord.plot(sv**2, knees, "k.", label=f"λ = σᵢ²: keeps {kept[0]:.2f} of ỹᵢ/σᵢ")
    ax_coord.set(xlabel="λ", ylabel="w̃ᵢ = vᵢᵀŵ_λ", title="SVD coordinates of ŵ_λ")
    ax_coord.legend()
    ax_dual.loglog(lams, np.linalg.norm(alphas, axis=1), label="‖α‖ = ‖(XXᵀ + λI)⁻¹y‖")
    ax_dual.loglog(lams, np.linalg.norm(alphas @ X, axis=1), label="‖Xᵀα‖ = ‖ŵ_λ‖")
    ax_dual.loglog(lams, np.linalg.norm(W - min_norm_solution(X, y), axis=1), label="‖ŵ_λ − X⁺y‖")
    ax_dual.set(xlabel="λ", title="dual coefficients blow up,\nXᵀα does not")
    ax_dual.legend()
    return fig


def augmented_matrices() -> Any:
    r"""The augmented matrices of `augment_ridge_rows` ($[X; \sqrt\lambda I_d]$ and $[y; 0]$) and of
    `augment_ridge_features` ($[X, \sqrt\lambda I_n]$), blocks outlined."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal(5)
    Xa, ya = augment_ridge_rows(X, y, 1.0)
    Xf = augment_ridge_features(X, 1.0)
    fig, axes = new_figure(3, width=7.0, height=3.0)
    for ax, (M, title) in zip(
        axes,
        [
            (Xa, f"[X; √λ I_d] ({Xa.shape[0]}×{Xa.shape[1]})"),
            (ya[:, None], f"[y; 0] ({ya.shape[0]})"),
            (Xf, f"[X, √λ Iₙ] ({Xf.shape[0]}×{Xf.shape[1]})"),
        ],
        strict=True,
    ):
        ax.imshow(M, cmap="RdBu_r", vmin=-2.5, vmax=2.5)
        ax.set(title=title, xticks=[], yticks=[])
        ax.grid(False)
    outline_block(axes[0], 0, 0, 5, 3, "X", ls="-")
    outline_block(axes[0], 5, 0, 3, 3, "√λ I_d")
    outline_block(axes[1], 0, 0, 5, 1, "y", ls="-")
    outline_block(axes[1], 5, 0, 3, 1, "0")
    outline_block(axes[2], 0, 0, 5, 3, "X", ls="-")
    outline_block(axes[2], 0, 3, 5, 5, "√λ Iₙ")
    return fig


def random_features() -> Any:
    r"""The distance from the min-norm solution with $k$ random fake features to $\hat w_\lambda$,
    against $\sqrt{n/k}$ (left), and the cosines between rows of $F$ (right)."""
    rng = np.random.default_rng(0)
    n, d, lam = 6, 4, 1.0
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    w_lam = ridge(X, y, lam)
    ks = [10, 30, 100, 300, 1000, 3000, 10000, 30000]
    fig, (ax, inset) = new_figure(2, width=7.5, height=3.6)
    for rep in range(5):
        errs = []
        for k in ks:
            F = rng.standard_normal((n, k)) * np.sqrt(lam / k)
            z = min_norm_solution(np.concatenate([X, F], axis=1), y)
            errs.append(np.linalg.norm(z[:d] - w_lam) / np.linalg.norm(w_lam))
        ax.loglog(
            ks, errs, "o-", ms=3, color="C0", alpha=0.6, label="draws of F" if rep == 0 else None
        )
    ax.loglog(ks, 2 * np.sqrt(n / np.array(ks)), "k:", label="∝ √(n/k)")
    ax.set(
        xlabel="k random fake features",
        ylabel="‖w_k − ŵ_λ‖ / ‖ŵ_λ‖",
        title="random features regularize like ridge",
    )
    ax.legend(loc="lower left")
    i, j = np.triu_indices(n, 1)
    bins = np.linspace(-1, 1, 41)
    draws = 200
    for k in (10, 100, 1000):
        F = rng.standard_normal((draws, n, k))  # draws of F; its rows are the fake-feature vectors
        F /= np.linalg.norm(F, axis=2, keepdims=True)
        cos = (F @ F.transpose(0, 2, 1))[:, i, j].ravel()
        sd = cos.std()
        assert abs(sd * np.sqrt(k) - 1) < 0.1, (k, sd)  # E cos² = 1/k for independent directions
        label = f"{k}: sd {sd:.3f}, sd·√k {sd * np.sqrt(k):.2f}"
        inset.hist(cos, bins, density=True, histtype="step", label=label)
    inset.set_title(f"cosines between rows of F ({draws} draws)")
    inset.set(yticks=[], xticks=[-1, 0, 1], xlabel="cosine")
    inset.legend(title="k", loc="upper right", handlelength=1)
    return fig


def weight_decay_alone() -> Any:
    r"""GD on the penalty alone for several $2\eta\lambda$: the norm $(1-2\eta\lambda)^t$ (left) and
    the signed component along $w_0$ (right)."""
    lam, steps = 1.0, 30
    X, y = np.zeros((1, 2)), np.zeros(1)
    w0 = {"w": np.array([1.0, 0.5])}
    fig, (ax_norm, ax_sign) = new_figure(2)
    for c in (0.1, 0.9, 1.5, 2.1):
        _, traj = run(
            gd(c / (2 * lam)),
            lambda p, t: {"w": ridge_grad(p["w"], X, y, lam)},
            w0,
            steps,
            record_every=1,
        )
        W = np.array([p["w"] for p in traj])
        ax_norm.semilogy(np.linalg.norm(W, axis=1), label=f"2ηλ = {c}")
        ax_sign.plot(W @ w0["w"] / (w0["w"] @ w0["w"]), ".-", ms=3, label=f"2ηλ = {c}")
    ax_norm.set(xlabel="step t", ylabel="‖w_t‖", title="weight decay alone: (1 − 2ηλ)ᵗ")
    ax_sign.set(xlabel="step t", ylabel="w_tᵀw₀ / ‖w₀‖²", title="monotone or alternating")
    ax_sign.set_ylim(-1.6, 1.6)
    ax_norm.legend()
    return fig


def closed_form_vs_gd_time() -> Any:
    r"""Seconds, timed at build, for the closed form `ridge` and for GD run to a tolerance, against
    $d$, for a well and a badly conditioned spectrum."""

    def timed(fn: Any) -> float:  # seconds for one call of fn, made at once
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    rng = np.random.default_rng(0)
    lam, n, tol = 1e-2, 200, 1e-8
    fig, ax = new_figure(1, width=6.0)
    for kappa, style in ((10.0, "-"), (1000.0, "--")):
        dims, closed, descent = [5, 10, 20, 40, 80], [], []
        for d in dims:
            U, _ = np.linalg.qr(rng.standard_normal((n, d)))
            V, _ = np.linalg.qr(rng.standard_normal((d, d)))
            s = np.geomspace(1.0, 1.0 / math.sqrt(kappa), d)
            X, y = (U * s) @ V.T, rng.standard_normal(n)
            eta = 1 / (2 * (s[0] ** 2 + lam))
            rho = 1 - 2 * eta * (s[-1] ** 2 + lam)
            steps = math.ceil(math.log(tol) / math.log(rho))
            closed.append(timed(lambda: ridge(X, y, lam)))  # noqa: B023

            def grad(p: Any, t: int, X: Any = X, y: Any = y) -> Any:
                return {"w": ridge_grad(p["w"], X, y, lam)}

            descent.append(timed(lambda: run(gd(eta), grad, {"w": np.zeros(d)}, steps)))  # noqa: B023
        ax.loglog(dims, closed, "o" + style, color="C0", label=f"closed form, σ²-ratio {kappa:g}")
        ax.loglog(
            dims, descent, "s" + style, color="C1", label=f"GD to {tol:g}, σ²-ratio {kappa:g}"
        )
    ax.set(xlabel="d", ylabel="seconds", title=f"closed form vs gradient descent (n = {n})")
    ax.legend()
    return fig


def digits_spectrum() -> Any:
    r"""The normalized singular values of the digits data against those of a Gaussian matrix of the
    same shape."""
    X = load_digits().data
    s = np.linalg.svd(X, compute_uv=False)
    g = np.linalg.svd(np.random.default_rng(0).standard_normal(X.shape), compute_uv=False)
    fig, ax = new_figure(1, width=6.0)
    ax.semilogy(s / s[0], "o", ms=3, label=f"digits {X.shape[0]}×{X.shape[1]}")
    ax.semilogy(g / g[0], "s", ms=3, label="Gaussian, same shape")
    ax.set(xlabel="index i", ylabel="σᵢ / σ₁", title="singular values of natural vs random data")
    ax.set_ylim(1e-6, 2)
    ax.legend()
    return fig


def rotation_invariance() -> Any:
    r"""The 2-norm and the 1-norm of a rotated vector against the rotation angle."""
    theta = np.linspace(0, 2 * np.pi, 400)
    w = np.array([1.0, 0.3])
    rot = np.stack([np.cos(theta), -np.sin(theta), np.sin(theta), np.cos(theta)], axis=1).reshape(
        -1, 2, 2
    )
    Vw = rot @ w
    fig, ax = new_figure(1, width=6.0)
    ax.plot(theta, np.linalg.norm(Vw, axis=1), label="‖Vw‖₂ (rotation invariant)")
    ax.plot(theta, np.abs(Vw).sum(axis=1), label="‖Vw‖₁ (not)")
    ax.set(
        xlabel="rotation angle",
        ylabel="norm of the rotated w",
        title="only the 2-norm survives rotations",
    )
    ax.legend()
    return fig
