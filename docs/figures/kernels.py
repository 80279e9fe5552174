"""Figures of the kernels chapter (docs/kernels.md): one function per figure, each returning it."""

from __future__ import annotations

from typing import Any

import numpy as np

from dlcore.kernels import (
    kernel_ridge,
    kernel_ridge_fit,
    kernel_ridge_predict,
    linear_kernel,
    rbf_kernel,
)
from dlcore.linear import ridge
from figures import block_row, new_figure, new_figure_3d

__all__ = [
    "primal_dual_shapes",
    "primal_dual_agree",
    "svd_diagonals",
    "dual_weights_3d",
    "gram_matrices",
    "kernel_fits",
]


def primal_dual_shapes() -> Any:
    """The shapes of ridge's primal solve (features $\\times$ features) and dual solve (points $\\times$
    points), and $X^\\top$ carrying $\\alpha$ back to the weights."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal(6)
    (n, d), lam = X.shape, 0.5
    assert (n, d) == (6, 3)
    w = ridge(X, y, lam)  # d x d solve
    alpha = kernel_ridge(linear_kernel(X, X), y, lam)  # n x n solve
    XtX, XXt = linear_kernel(X.T, X.T), linear_kernel(X, X)  # features x features, points x points
    fig, ax = new_figure(1, width=7.5, height=5.2)
    ax.axis("off")
    model, primal, dual = "C7", "C0", "C1"
    # top left: the model, rows = data points
    block_row(
        ax, [("X", n, d, model), ("w", len(w), 1, model), "≈", ("y", len(y), 1, model)], top=0
    )
    ax.text(0, 1.0, "the model: one row per data point", fontsize=9)
    # top right: primal, a d x d system in the features
    x0 = 12.0
    block_row(
        ax,
        [
            ("XᵀX + λI", *XtX.shape, primal),
            ("ŵ", len(w), 1, primal),
            "=",
            ("Xᵀ", d, n, primal),
            ("y", len(y), 1, model),
        ],
        x0=x0,
        top=0,
    )
    ax.text(
        x0, 1.0, f"primal: {XtX.shape[0]}×{XtX.shape[1]} solve (features)", fontsize=9, color=primal
    )
    # bottom: dual, an n x n system in the data points, then Xᵀ maps α back to weights
    top = -8.5
    block_row(
        ax,
        [("XXᵀ + λI", *XXt.shape, dual), ("α", len(alpha), 1, dual), "=", ("y", len(y), 1, model)],
        top=top,
    )
    ax.text(
        0,
        top + 1.0,
        f"dual: {XXt.shape[0]}×{XXt.shape[1]} solve (data points)",
        fontsize=9,
        color=dual,
    )
    block_row(
        ax,
        [("ŵ", len(w), 1, primal), "=", ("Xᵀ", d, n, primal), ("α", len(alpha), 1, dual)],
        x0=x0,
        top=top,
    )
    ax.text(x0, top + 1.0, "Xᵀ carries α back to the weights", fontsize=9)
    ax.set_xlim(-0.5, 25.2)
    ax.set_ylim(top - n - 1.2, 2)
    ax.set_aspect("equal")
    return fig


def primal_dual_agree() -> Any:
    """The norm of the ridge weights against $\\lambda$, and the relative gap between the primal and the
    dual solutions, for a tall and a wide $X$."""
    rng = np.random.default_rng(0)
    lams = np.logspace(-6, 6, 49)
    assert np.log10(lams[-1] / lams[0]) == 12  # twelve decades
    fig, (ax_norm, ax_gap) = new_figure(2)
    for (n, d), style in [((60, 15), "-"), ((15, 60), "--")]:
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
        norms, gaps = [], []
        for lam in lams:
            primal = ridge(X, y, lam)  # (X^T X + lam I_d)^{-1} X^T y
            dual = X.T @ kernel_ridge(linear_kernel(X, X), y, lam)  # X^T (X X^T + lam I_n)^{-1} y
            norms.append(np.linalg.norm(primal))
            gaps.append(np.linalg.norm(primal - dual) / np.linalg.norm(primal))
        assert np.all(np.diff(norms) < 0)  # the weights shrink as lam grows
        label = f"X is {n}×{d} ({'tall' if n > d else 'wide'})"
        ax_norm.loglog(lams, norms, style, label=label)
        ax_gap.loglog(lams, gaps, style, marker=".", label=label)
    ax_gap.axhline(np.finfo(float).eps, color="grey", lw=0.8, ls=":", label="float64 eps")
    ax_norm.set(xlabel="λ", ylabel="‖ŵ_λ‖", title="ridge weights shrink with λ")
    ax_gap.set(xlabel="λ", ylabel="‖primal − dual‖ / ‖primal‖", title="primal and dual agree")
    ax_norm.legend()
    ax_gap.legend()
    return fig


def svd_diagonals() -> Any:
    """In the singular bases $\\Sigma^\\top\\Sigma$ and $\\Sigma\\Sigma^\\top$ share their nonzero diagonal,
    and the primal and dual solution operators are the same diagonal $\\sigma_i/(\\sigma_i^2 +
    \\lambda)$."""
    rng = np.random.default_rng(0)
    n, d, lam = 6, 4, 0.5
    X = rng.standard_normal((n, d))
    U, s, Vt = np.linalg.svd(X, full_matrices=True)
    S = np.zeros((n, d))
    S[np.arange(d), np.arange(d)] = s
    primal = np.linalg.solve(X.T @ X + lam * np.eye(d), X.T)
    dual = X.T @ np.linalg.solve(X @ X.T + lam * np.eye(n), np.eye(n))
    D = np.zeros((d, n))
    D[np.arange(d), np.arange(d)] = s / (s**2 + lam)
    assert np.array_equal(np.diag(S.T @ S), np.diag(S @ S.T)[:d])  # the shared nonzero diagonal
    # both solves have condition (s_max^2 + lam) / lam; 100 eps covers n + d rounded terms
    tol = 100 * np.finfo(float).eps * (s[0] ** 2 + lam) / lam * np.abs(D).max()
    assert np.abs(Vt @ primal @ U - D).max() < tol and np.abs(Vt @ dual @ U - D).max() < tol
    fig, axes = new_figure(4, width=7.5, height=2.6)
    panels = [
        (S.T @ S, "ΣᵀΣ (d×d)"),
        (S @ S.T, "ΣΣᵀ (n×n)"),
        (Vt @ primal @ U, "Vᵀ·primal·U (d×n)"),
        (Vt @ dual @ U, "Vᵀ·dual·U (d×n)"),
    ]
    for ax, (M, title) in zip(axes, panels, strict=True):
        ax.imshow(M, cmap="RdBu_r", vmin=-abs(M).max(), vmax=abs(M).max())
        ax.set(title=title, xticks=[], yticks=[])
        ax.grid(False)
    return fig


def dual_weights_3d() -> Any:
    """Ridge weights in three dimensions from two data points: $\\hat w_\\lambda = X^\\top\\alpha$ is a
    combination of the points and stays in their span for every $\\lambda$."""
    X = np.array([[1.0, 0.1, 0.3], [0.2, 1.0, 0.5]])  # n = 2 points in d = 3
    y = np.array([1.0, 1.5])
    lam = 0.3
    w = ridge(X, y, lam)
    alpha = kernel_ridge(linear_kernel(X, X), y, lam)  # w = X^T alpha = alpha_1 x_1 + alpha_2 x_2
    path = np.array([ridge(X, y, lam) for lam in np.logspace(-3, 2, 40)])
    normal = np.cross(X[0], X[1]) / np.linalg.norm(np.cross(X[0], X[1]))  # spans null(X)
    # the path stays in the plane: each solve errs by about eps * cond, cond <= (s_max^2 + 1e-3) / 1e-3
    cond = (np.linalg.norm(X, 2) ** 2 + 1e-3) / 1e-3
    assert np.abs(path @ normal).max() < 10 * np.finfo(float).eps * cond * np.abs(path).max()
    fig, (ax,) = new_figure_3d(1, width=5.5, height=4.2)
    a, b = np.meshgrid(np.linspace(-0.1, 1.2, 2), np.linspace(-0.1, 1.2, 2))
    plane = a[..., None] * X[0] + b[..., None] * X[1]
    ax.plot_surface(*np.moveaxis(plane, -1, 0), color="C0", alpha=0.15)
    for i in range(2):
        ax.quiver(0, 0, 0, *X[i], color="grey", lw=1, arrow_length_ratio=0.1)
        ax.text(*(1.08 * X[i]), f"x{'₁₂'[i]}", color="grey")
    step = alpha[0] * X[0]
    ax.quiver(
        0,
        0,
        0,
        *step,
        color="C1",
        lw=2,
        arrow_length_ratio=0.12,
        label=f"α₁x₁, α₁ = {alpha[0]:.2f}",
    )
    ax.quiver(
        *step,
        *(alpha[1] * X[1]),
        color="C2",
        lw=2,
        arrow_length_ratio=0.12,
        label=f"α₂x₂, α₂ = {alpha[1]:.2f}",
    )
    ax.quiver(0, 0, 0, *w, color="k", lw=2, arrow_length_ratio=0.1, label=f"ŵ_λ = Xᵀα, λ = {lam}")
    ax.plot(*path.T, "k:", lw=1, label="ŵ_λ for λ from 1e-3 to 1e2")
    ax.set(xlabel="e₁", ylabel="e₂", zlabel="e₃", xticklabels=[], yticklabels=[], zticklabels=[])
    ax.set_title(
        f"d = 3, n = 2: ŵ_λ in span(x₁, x₂); ‖ŵ_λ − Xᵀα‖ = {np.linalg.norm(w - X.T @ alpha):.0e}",
        fontsize=9,
    )
    ax.legend(fontsize=9, loc="upper left")
    ax.view_init(elev=20, azim=-65)
    return fig


def gram_matrices() -> Any:
    """The point-by-point Gram matrix $XX^\\top$ and the feature-by-feature matrix $X^\\top X$ of a data
    set with two groups of points."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((8, 5)) + np.array([1.5, 0, 0, 0, 0]) * (np.arange(8) < 4)[:, None]
    fig, (ax_n, ax_d) = new_figure(2, height=3.0)
    for ax, M, title in [
        (ax_n, linear_kernel(X, X), "XXᵀ: between points (8×8)"),
        (ax_d, X.T @ X, "XᵀX: between features (5×5)"),
    ]:
        im = ax.imshow(M, cmap="RdBu_r", vmin=-abs(M).max(), vmax=abs(M).max())
        ax.set(title=title)
        ax.grid(False)
        fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def kernel_fits() -> Any:
    """Kernel ridge fits with a linear, a polynomial and an RBF kernel, the RBF fit drawn with its
    weighted bumps."""
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-3, 3, 12))[:, None]
    y = np.sin(x[:, 0]) + 0.15 * rng.standard_normal(12)
    grid = np.linspace(-3.5, 3.5, 300)[:, None]
    fig, axes = new_figure(3, width=7.5, height=3.0)
    specs: list[tuple[str, dict[str, Any], str]] = [
        ("linear", {}, "linear"),
        ("polynomial", {"degree": 3, "gamma": 0.5, "coef0": 1.0}, "polynomial, p = 3"),
        ("rbf", {"gamma": 1.0}, "RBF, γ = 1"),
    ]
    for ax, (kernel, params, title) in zip(axes, specs, strict=True):
        model = kernel_ridge_fit(x, y, 0.1, kernel=kernel, **params)
        assert model.form == ("primal" if kernel == "linear" else "dual")  # 1 x 1 against 12 x 12
        ax.plot(x[:, 0], y, "k.", label="data")
        ax.plot(grid[:, 0], kernel_ridge_predict(model, grid), label="fit")
        if kernel == "rbf":
            bumps = rbf_kernel(grid, x, gamma=1.0) * model.alpha
            ax.plot(grid[:, 0], bumps, color="grey", lw=0.5)
        ax.set(title=f"{title} ({model.form} solve)", xlabel="x")
        ax.set_ylim(-2.2, 2.2)
    axes[0].legend(fontsize=9)
    return fig
