r"""Least squares, ridge regression and the subspaces of a data matrix.

Conventions (see the conventions page): data points are the rows of $X \in \mathbb{R}^{n\times d}$,
targets $y \in \mathbb{R}^n$ (or $\mathbb{R}^{n\times m}$ for $m$ targets at once), and the ridge
objective is $\|Xw - y\|^2 + \lambda \|w\|^2$ with no $\tfrac12$ and no $\tfrac1n$.
Every solve uses `linalg.solve` on a symmetric positive definite system, never an explicit inverse.
"""

from __future__ import annotations

from typing import Any

from dlcore.backend import (
    Array,
    check_compatible,
    check_matrix,
    check_nonnegative,
    check_rows_match,
    check_vector_or_matrix,
    device_of,
    namespace,
)

__all__ = [
    "ridge",
    "ridge_dual",
    "min_norm_solution",
    "row_space_projector",
    "null_space_projector",
]


def _solve(xp: Any, A: Array, b: Array) -> Array:
    """Solve A x = b for b of shape (k,) or (k, m) without relying on 1-D broadcasting rules."""
    if b.ndim == 1:
        return xp.linalg.solve(A, b[:, None])[:, 0]
    return xp.linalg.solve(A, b)


def _check_problem(X: Array, y: Array, lam: float) -> tuple[Any, float]:
    check_matrix("X", X)
    check_vector_or_matrix("y", y)
    check_rows_match("X", X, "y", y)
    lam = check_nonnegative("lam", lam)
    return check_compatible({"X": X, "y": y}), lam


def _require_full_rank(xp: Any, X: Array, side: str) -> None:
    n, d = int(X.shape[0]), int(X.shape[1])
    rank = int(xp.linalg.matrix_rank(X))
    need = d if side == "column" else n
    if rank < need:
        gram = "X^T X" if side == "column" else "X X^T"
        raise ValueError(
            f"lam=0 needs X of full {side} rank, got rank {rank} for X of shape ({n}, {d}): "
            f"{gram} is singular; use lam > 0 or min_norm_solution"
        )


def ridge(X: Array, y: Array, lam: float) -> Array:
    r"""Ridge regression in primal form, a $d\times d$ solve.

    $$\hat w_\lambda = \arg\min_w \|Xw-y\|^2 + \lambda\|w\|^2 = (X^\top X + \lambda I_d)^{-1} X^\top y .$$

    Args:
        X: Data matrix, shape `(n, d)`.
        y: Targets, shape `(n,)` or `(n, m)`.
        lam: Regularisation $\lambda \ge 0$. With $\lambda = 0$ this is ordinary least squares and
            needs $X$ of full column rank.

    Returns:
        $\hat w_\lambda$, shape `(d,)` or `(d, m)`.

    Raises:
        ValueError: On bad shapes, non-finite input, $\lambda < 0$, or $\lambda = 0$ with
            $X^\top X$ singular.
        TypeError: If `X` and `y` come from different libraries, devices or dtypes.
    """
    xp, lam = _check_problem(X, y, lam)
    d = int(X.shape[1])
    if lam == 0:
        _require_full_rank(xp, X, "column")
    A = X.T @ X + lam * xp.eye(d, dtype=X.dtype, device=device_of(X))
    return _solve(xp, A, X.T @ y)


def ridge_dual(X: Array, y: Array, lam: float) -> Array:
    r"""Ridge regression in dual (kernel) form, an $n\times n$ solve.

    $$\hat w_\lambda = X^\top \alpha, \qquad \alpha = (X X^\top + \lambda I_n)^{-1} y .$$

    Equal to [`ridge`][dlcore.linear.ridge] for every $\lambda > 0$ (the push-through identity).
    With $\lambda = 0$ and $X$ of full row rank it is the minimum-norm interpolant $X^+ y$.

    Args:
        X: Data matrix, shape `(n, d)`.
        y: Targets, shape `(n,)` or `(n, m)`.
        lam: Regularisation $\lambda \ge 0$; $\lambda = 0$ needs full row rank.

    Returns:
        $\hat w_\lambda$, shape `(d,)` or `(d, m)`.

    Raises:
        ValueError: On bad shapes, non-finite input, $\lambda < 0$, or $\lambda = 0$ with
            $XX^\top$ singular.
        TypeError: If `X` and `y` come from different libraries, devices or dtypes.
    """
    xp, lam = _check_problem(X, y, lam)
    n = int(X.shape[0])
    if lam == 0:
        _require_full_rank(xp, X, "row")
    K = X @ X.T + lam * xp.eye(n, dtype=X.dtype, device=device_of(X))
    return X.T @ _solve(xp, K, y)


def min_norm_solution(X: Array, y: Array) -> Array:
    r"""The minimum-norm least-squares solution $X^+ y$ (Moore–Penrose pseudo-inverse).

    Among all minimisers of $\|Xw - y\|^2$ it is the one of least $\|w\|$, and it lies in the
    row space of $X$. For $X$ of full row rank it equals $X^\top (XX^\top)^{-1} y$, the unique
    interpolant of least norm.

    Args:
        X: Data matrix, shape `(n, d)`, any rank.
        y: Targets, shape `(n,)` or `(n, m)`.

    Returns:
        $X^+ y$, shape `(d,)` or `(d, m)`.
    """
    check_matrix("X", X)
    check_vector_or_matrix("y", y)
    check_rows_match("X", X, "y", y)
    xp = check_compatible({"X": X, "y": y})
    return xp.linalg.pinv(X) @ y


def row_space_projector(X: Array) -> Array:
    r"""Orthogonal projector onto the row space of $X$: $P_{\mathrm{row}} = X^+ X \in \mathbb{R}^{d\times d}$.

    Args:
        X: Data matrix, shape `(n, d)`, any rank.

    Returns:
        The symmetric idempotent matrix $X^+X$, shape `(d, d)`.
    """
    check_matrix("X", X)
    xp = namespace(X)
    return xp.linalg.pinv(X) @ X


def null_space_projector(X: Array) -> Array:
    r"""Orthogonal projector onto the null space of $X$: $P_{\mathrm{null}} = I_d - X^+ X$.

    Args:
        X: Data matrix, shape `(n, d)`, any rank.

    Returns:
        The symmetric idempotent matrix $I - X^+X$, shape `(d, d)`.
    """
    check_matrix("X", X)
    xp = namespace(X)
    d = int(X.shape[1])
    return xp.eye(d, dtype=X.dtype, device=device_of(X)) - row_space_projector(X)
