r"""Least squares, ridge regression and the subspaces of a data matrix.

Conventions (see the conventions page): data points are the rows of $X \in \mathbb{R}^{n\times d}$,
targets $y \in \mathbb{R}^n$ (or $\mathbb{R}^{n\times m}$ for $m$ targets at once), and the ridge
objective is $\|Xw - y\|^2 + \lambda \|w\|^2$ with no $\tfrac12$ and no $\tfrac1n$.
Every solve uses `linalg.solve` on a symmetric positive definite system, never an explicit inverse.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dlcore.backend import (
    _WXY,
    _XY,
    Arr,
    Array,
    Real,
    _exponent,
    _finite_result,
    _in_range,
    _times_pow2,
    contract,
    device_of,
    namespace,
)

__all__ = [
    "ridge",
    "ridge_dual",
    "min_norm_solution",
    "row_space_projector",
    "null_space_projector",
    "ridge_objective",
    "ridge_grad",
    "ridge_filter_factors",
    "ridge_svd",
    "augment_ridge_rows",
    "augment_ridge_features",
]

_DOMINANT = 2.0**80
r"""A rescaled $\lambda$ above this dominates $X^\top X$ (entries below 1 after rescaling, so
$\|X^\top X\| \le nd$): dropping $X^\top X$ then changes the answer by at most
$nd/2^{80} < \varepsilon$ relative for $nd \le 2^{28}$."""


def _rescaled_ridge(
    route: Any, xp: Any, X: Array, y: Array, lam: float, *, gram: bool = False
) -> Array | None:
    r"""`route(X, y, lam)` through exact rescaling when $X$ or $y$ is far from 1, else `None`.

    With $X = 2^{-e_x} X_s$, $y = 2^{-e_y} y_s$ (largest entries near 1), ridge is
    $\hat w = 2^{e_x - e_y}\, \mathrm{route}(X_s, y_s, 2^{2e_x}\lambda)$ (`gram=False`: the
    regulariser scales like $X^\top X$), or for kernel ridge on a Gram matrix `X` = $K$,
    $\alpha = 2^{e_x - e_y}\,\mathrm{route}(K_s, y_s, 2^{e_x}\lambda)$ (`gram=True`). Where the
    rescaled $\lambda$ dominates (`_DOMINANT`, possibly beyond the float range) the answer is
    $X^\top y/\lambda$ (ridge) or $y/\lambda$ (kernel ridge), formed without overflow.
    """
    ex, ey = _exponent(xp, X), _exponent(xp, y)
    if not (ex or ey):
        return None
    Xs, ys = _times_pow2(X, ex), _times_pow2(y, ey)
    try:
        lam_s = math.ldexp(lam, ex if gram else 2 * ex)
    except OverflowError:
        lam_s = math.inf
    if lam_s > _DOMINANT:
        f, g = math.frexp(lam)
        top = ys if gram else Xs.T @ ys
        return _times_pow2(top / f, (-ey - g) if gram else (-ex - ey - g))
    return _times_pow2(route(Xs, ys, max(lam_s, 5e-324) if lam > 0 else 0.0), ex - ey)


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


@contract(_XY, lam=Real(0))
def ridge(X: Array, y: Array, lam: float) -> Array:
    r"""Ridge regression in primal form, a $d\times d$ solve.

    $$\hat w_\lambda = \arg\min_w \|Xw-y\|^2 + \lambda\|w\|^2 = (X^\top X + \lambda I_d)^{-1} X^\top y .$$

    Args:
        X: Data matrix, shape `(n, d)`.
        y: Targets, shape `(n,)` or `(n, m)`.
        lam: Regularisation $\lambda \ge 0$. With $\lambda = 0$ this is ordinary least squares,
            needs $X$ of full column rank, and is solved through a QR factorisation of $X$
            (accuracy $\kappa(X)\,\epsilon$, not the normal equations' $\kappa(X)^2\epsilon$).

    Returns:
        $\hat w_\lambda$, shape `(d,)` or `(d, m)`.

    Raises:
        ValueError: On bad shapes, non-finite input, $\lambda < 0$, or $\lambda = 0$ with
            $X^\top X$ singular.

    """
    xp = namespace(X)
    w = _rescaled_ridge(ridge, xp, X, y, lam)  # X or y far from 1: exact rescaling
    if w is not None:
        return w
    d = int(X.shape[1])
    if lam == 0:
        # Least squares through QR, backward stable: the error is of order kappa(X) eps, where
        # the normal equations would give kappa(X)^2 eps (1e9 -> no correct digit in float64).
        _require_full_rank(xp, X, "column")
        Q, R = xp.linalg.qr(X)
        return xp.linalg.solve(R, Q.T @ y)
    A = X.T @ X + lam * xp.eye(d, dtype=X.dtype, device=device_of(X))
    return xp.linalg.solve(A, X.T @ y)


@contract(_XY, lam=Real(0))
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

    """
    xp = namespace(X)
    # X or y far from 1: exact rescaling. The rescaled lam may be negligible next to X X^T,
    # which is singular when n > d: there the primal system, equal for lam > 0, is the sound one.
    tall = lam > 0 and int(X.shape[0]) > int(X.shape[1])
    w = _rescaled_ridge(ridge if tall else ridge_dual, xp, X, y, lam)
    if w is not None:
        return w
    n = int(X.shape[0])
    if lam == 0:
        _require_full_rank(xp, X, "row")
    K = X @ X.T + lam * xp.eye(n, dtype=X.dtype, device=device_of(X))
    return X.T @ xp.linalg.solve(K, y)


@contract(_XY)
@_finite_result
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
    xp = namespace(X)
    ex, ey = _exponent(xp, X), _exponent(xp, y)
    # (2^ex X)^+ (2^ey y) = 2^(ey - ex) X^+ y: rescale exactly when far from 1
    return _times_pow2(xp.linalg.pinv(_times_pow2(X, ex)) @ _times_pow2(y, ey), ex - ey)


@contract(X=Arr("n d", linalg=True))
def row_space_projector(X: Array) -> Array:
    r"""Orthogonal projector onto the row space of $X$: $P_{\mathrm{row}} = X^+ X \in \mathbb{R}^{d\times d}$.

    Args:
        X: Data matrix, shape `(n, d)`, any rank.

    Returns:
        The symmetric idempotent matrix $X^+X$, shape `(d, d)`.
    """
    xp = namespace(X)
    X = _in_range(xp, X)  # the row space of 2^e X is that of X
    return xp.linalg.pinv(X) @ X


@contract(X=Arr("n d", linalg=True))
def null_space_projector(X: Array) -> Array:
    r"""Orthogonal projector onto the null space of $X$: $P_{\mathrm{null}} = I_d - X^+ X$.

    Args:
        X: Data matrix, shape `(n, d)`, any rank.

    Returns:
        The symmetric idempotent matrix $I - X^+X$, shape `(d, d)`.
    """
    xp = namespace(X)
    d = int(X.shape[1])
    return xp.eye(d, dtype=X.dtype, device=device_of(X)) - row_space_projector(X)


@contract(_WXY, lam=Real(0))
@_finite_result
def ridge_objective(w: Array, X: Array, y: Array, lam: float) -> Array:
    r"""The ridge objective in the lecture's normalisation (no $\tfrac12$, no $\tfrac1n$).

    $$J(w) = \|Xw - y\|^2 + \lambda \|w\|^2 .$$

    Args:
        w: Weights, shape `(d,)` or `(d, m)`.
        X: Data matrix, shape `(n, d)`.
        y: Targets, shape `(n,)` or `(n, m)` (matching `w`).
        lam: $\lambda \ge 0$; $\lambda = 0$ is the least-squares loss.

    Returns:
        The scalar $J(w)$ (summed over the columns of a batched target).
    """
    xp = namespace(X)
    r = X @ w - y
    return xp.sum(r * r) + lam * xp.sum(w * w)


@contract(_WXY, lam=Real(0))
@_finite_result
def ridge_grad(w: Array, X: Array, y: Array, lam: float) -> Array:
    r"""Gradient of the ridge objective: the least-squares gradient plus weight decay.

    $$\nabla J(w) = 2X^\top(Xw - y) + 2\lambda w ,$$

    so a GD step is $w_{t+1} = (1 - 2\eta\lambda)\,w_t + 2\eta X^\top(y - Xw_t)$.

    Args:
        w: Weights, shape `(d,)` or `(d, m)`.
        X: Data matrix, shape `(n, d)`.
        y: Targets, shape `(n,)` or `(n, m)` (matching `w`).
        lam: $\lambda \ge 0$.

    Returns:
        $\nabla J(w)$, the shape of `w`.
    """
    return 2 * (X.T @ (X @ w - y)) + (2 * lam) * w


@contract(s=Arr("k", "k l"), lam=Real(0, low_open=True))
@_finite_result
def ridge_filter_factors(s: Array, lam: float) -> Array:
    r"""Ridge's spectral filter factors $\varphi_\lambda(\sigma) = \sigma^2 / (\sigma^2 + \lambda)$.

    In SVD coordinates ridge is OLS shrunk coordinate by coordinate:
    $\tilde w_i = \varphi_\lambda(\sigma_i)\,\tilde y_i / \sigma_i = \sigma_i \tilde y_i / (\sigma_i^2 + \lambda)$.
    As a function of $\log\sigma^2$ it is the logistic sigmoid centred at $\log\lambda$.

    Args:
        s: Singular values $\sigma_i \ge 0$, any shape.
        lam: $\lambda > 0$.

    Returns:
        $\sigma^2/(\sigma^2+\lambda)$, elementwise, in $[0, 1)$.
    """
    xp = namespace(s)
    if bool(xp.any(s < 0)):
        raise ValueError(f"s must be >= 0 (singular values), got min {float(xp.min(s))!r}")
    # sigma^2 / (sigma^2 + lam) = 1 / (1 + (sqrt(lam)/sigma)^2): no overflow of sigma^2 for huge
    # sigma, no underflow to 0/0 for tiny ones (sigma = 0 gives 1/inf = 0, as it should)
    with np.errstate(divide="ignore"):  # 1/0 = inf is the value meant
        r = math.sqrt(lam) / s
    return 1.0 / (1.0 + r * r)


@contract(_XY, lam=Real(0, low_open=True))
def ridge_svd(X: Array, y: Array, lam: float) -> Array:
    r"""Ridge through the thin SVD $X = U\Sigma V^\top$: a third route to $\hat w_\lambda$.

    $$\hat w_\lambda = \sum_{i} \frac{\sigma_i}{\sigma_i^2 + \lambda}\, v_i\, (u_i^\top y)
    = V (\Sigma^\top\Sigma + \lambda I)^{-1}\Sigma^\top U^\top y .$$

    Args:
        X: Data matrix, shape `(n, d)`, any rank.
        y: Targets, shape `(n,)` or `(n, m)`.
        lam: $\lambda > 0$.

    Returns:
        $\hat w_\lambda$, shape `(d,)` or `(d, m)`.
    """
    xp = namespace(X)
    w = _rescaled_ridge(ridge_svd, xp, X, y, lam)  # X or y far from 1: exact rescaling
    if w is not None:
        return w
    U, s, Vt = xp.linalg.svd(X, full_matrices=False)
    return (Vt.T * (s / (s * s + lam))) @ (U.T @ y)  # V diag(sigma / (sigma^2 + lam)) U^T y


@contract(X=Arr("n d"), y=Arr("n", "n m"), lam=Real(0))
def augment_ridge_rows(X: Array, y: Array, lam: float) -> tuple[Array, Array]:
    r"""Fake data points: $X_a = \begin{bmatrix} X \\ \sqrt\lambda I_d\end{bmatrix}$, $y_a = \begin{bmatrix} y \\ 0_d\end{bmatrix}$.

    Then $\|X_a w - y_a\|^2 = \|Xw - y\|^2 + \lambda\|w\|^2$, so least squares on the augmented
    data is ridge on the original data.

    Args:
        X: Data matrix, shape `(n, d)`.
        y: Targets, shape `(n,)` or `(n, m)`.
        lam: $\lambda \ge 0$.

    Returns:
        `(X_a, y_a)` of shapes `(n + d, d)` and `(n + d,)` or `(n + d, m)`.
    """
    xp = namespace(X)
    d = int(X.shape[1])
    fake = (lam**0.5) * xp.eye(d, dtype=X.dtype, device=device_of(X))
    zeros = xp.zeros((d, *tuple(y.shape[1:])), dtype=y.dtype, device=device_of(y))
    return xp.concat([X, fake], axis=0), xp.concat([y, zeros], axis=0)


@contract(X=Arr("n d"), lam=Real(0))
def augment_ridge_features(X: Array, lam: float) -> Array:
    r"""Fake features, one per data point: $X_f = [\,X,\; \sqrt\lambda I_n\,] \in \mathbb{R}^{n\times(d+n)}$.

    For $\lambda > 0$, $X_f$ has full row rank $n$, and the minimum-norm solution of $X_f z = y$
    is $z^\star = [\hat w_\lambda;\ (y - X\hat w_\lambda)/\sqrt\lambda]$.

    Args:
        X: Data matrix, shape `(n, d)`.
        lam: $\lambda \ge 0$.

    Returns:
        $X_f$, shape `(n, d + n)`.
    """
    xp = namespace(X)
    n = int(X.shape[0])
    fake = (lam**0.5) * xp.eye(n, dtype=X.dtype, device=device_of(X))
    return xp.concat([X, fake], axis=1)
