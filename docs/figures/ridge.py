"""Figures of the ridge chapter (docs/ridge.md): one function per figure, each returning it."""

from __future__ import annotations

from typing import Any

import numpy as np

from dlcore.linear import ridge
from figures import new_figure_3d

__all__ = ["projection"]


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
