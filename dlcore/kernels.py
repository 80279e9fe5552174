r"""Kernels and kernel ridge regression (the dual view of ridge).

A kernel matrix $K_{ij} = k(x_i, x_j)$ replaces the Gram matrix $XX^\top$ of the dual ridge
solution. For the linear kernel $k(x, x') = x^\top x'$ kernel ridge *is* ridge:
$\hat w_\lambda = X^\top \alpha$ with $\alpha = (K + \lambda I)^{-1} y$.
"""

from __future__ import annotations

from dlcore.backend import (
    Array,
    check_compatible,
    check_matrix,
    check_nonnegative,
    check_rows_match,
    check_vector_or_matrix,
    device_of,
    eps,
)

__all__ = ["linear_kernel", "kernel_ridge"]


def linear_kernel(A: Array, B: Array) -> Array:
    r"""The linear kernel matrix $K = AB^\top$, $K_{ij} = a_i^\top b_j$.

    Args:
        A: Points as rows, shape `(n, d)`.
        B: Points as rows, shape `(m, d)`.

    Returns:
        $AB^\top$, shape `(n, m)`; with `B = A` the Gram matrix of inner products.
    """
    check_matrix("A", A)
    check_matrix("B", B)
    check_compatible({"A": A, "B": B})
    if int(A.shape[1]) != int(B.shape[1]):
        raise ValueError(
            f"A and B must have the same number of columns, got A.shape={tuple(A.shape)} "
            f"and B.shape={tuple(B.shape)}"
        )
    return A @ B.T


def kernel_ridge(K: Array, y: Array, lam: float) -> Array:
    r"""Dual coefficients of kernel ridge regression.

    $$\alpha = (K + \lambda I_n)^{-1} y ,$$

    so that the fitted function is $f(x) = \sum_i \alpha_i k(x_i, x)$, and for the linear kernel
    the weight vector is $\hat w_\lambda = X^\top \alpha$.

    Args:
        K: Symmetric positive semi-definite kernel matrix, shape `(n, n)`.
        y: Targets, shape `(n,)` or `(n, m)`.
        lam: Regularisation $\lambda \ge 0$; $\lambda = 0$ needs $K$ non-singular.

    Returns:
        $\alpha$, shape `(n,)` or `(n, m)`.

    Raises:
        ValueError: If `K` is not square, not symmetric or not positive semi-definite (to a
            tolerance of $n\,\varepsilon\,\|K\|$), if $\lambda < 0$, or if $K + \lambda I$ is singular.
    """
    check_matrix("K", K)
    check_vector_or_matrix("y", y)
    n = int(K.shape[0])
    if int(K.shape[1]) != n:
        raise ValueError(f"K must be square, got shape {tuple(K.shape)}")
    check_rows_match("K", K, "y", y)
    lam = check_nonnegative("lam", lam)
    xp = check_compatible({"K": K, "y": y})
    scale = float(xp.max(xp.abs(K)))
    tol = 8 * n * eps(K) * max(scale, 1e-300)
    asym = float(xp.max(xp.abs(K - K.T)))
    if asym > tol:
        raise ValueError(f"K must be symmetric, got max |K - K^T| = {asym:.3g} > {tol:.3g}")
    lowest = float(xp.min(xp.linalg.eigvalsh((K + K.T) / 2)))
    if lowest < -tol:
        raise ValueError(f"K must be positive semi-definite, got an eigenvalue {lowest:.3g} < 0")
    if lam + max(lowest, 0.0) <= tol:
        raise ValueError(
            f"K + lam I is singular (lam={lam!r}, smallest eigenvalue of K {lowest:.3g}); use lam > 0"
        )
    A = K + lam * xp.eye(n, dtype=K.dtype, device=device_of(K))
    if y.ndim == 1:
        return xp.linalg.solve(A, y[:, None])[:, 0]
    return xp.linalg.solve(A, y)
