r"""Kernels and kernel ridge regression (the dual view of ridge).

A kernel matrix $K_{ij} = k(x_i, x_j)$ replaces the Gram matrix $XX^\top$ of the dual ridge
solution. For the linear kernel $k(x, x') = x^\top x'$ kernel ridge *is* ridge:
$\hat w_\lambda = X^\top \alpha$ with $\alpha = (K + \lambda I)^{-1} y$.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from typing import Any, NamedTuple

import array_api_compat
import numpy as np

from dlcore.backend import (
    _XY,
    Arr,
    Array,
    Choice,
    Int,
    Real,
    _exponent,
    _finite_result,
    _scalar,
    _times_pow2,
    check_compatible,
    contract,
    device_of,
    eps,
    namespace,
)
from dlcore.linear import _rescaled_ridge

__all__ = [
    "KERNELS",
    "linear_kernel",
    "polynomial_kernel",
    "rbf_kernel",
    "kernel_ridge",
    "KernelRidgeModel",
    "kernel_ridge_fit",
    "kernel_ridge_predict",
]

KERNELS = ("linear", "polynomial", "rbf")
"""The kernel names [`kernel_ridge_fit`][dlcore.kernels.kernel_ridge_fit] accepts."""


@contract(A=Arr("n d"), B=Arr("q d"))
@_finite_result
def linear_kernel(A: Array, B: Array) -> Array:
    r"""The linear kernel matrix $K = AB^\top$, $K_{ij} = a_i^\top b_j$.

    Args:
        A: Points as rows, shape `(n, d)`.
        B: Points as rows, shape `(m, d)`.

    Returns:
        $AB^\top$, shape `(n, m)`; with `B = A` the Gram matrix of inner products.
    """
    return A @ B.T


_PAIR = {"A": Arr("n d"), "B": Arr("q d")}
_POS = Real(0, low_open=True)


@contract(_PAIR, degree=Int(1), gamma=_POS, coef0=Real(0))
@_finite_result
def polynomial_kernel(
    A: Array, B: Array, *, degree: int = 2, gamma: float = 1.0, coef0: float = 1.0
) -> Array:
    r"""The polynomial kernel $k(a, b) = (\gamma\, a^\top b + c_0)^p$.

    The lecture's $(1 + x^\top z)^2$ is the default ($\gamma = 1$, $c_0 = 1$, $p = 2$). It is
    $\varphi(a)^\top\varphi(b)$ for the explicit feature map of all monomials of degree $\le p$
    (scaled), hence positive semi-definite. scikit-learn's `polynomial_kernel` uses the same
    formula, but its default $\gamma$ is $1/d$.

    Args:
        A: Points as rows, shape `(n, d)`.
        B: Points as rows, shape `(m, d)`.
        degree: $p \ge 1$.
        gamma: $\gamma > 0$.
        coef0: $c_0 \ge 0$.

    Returns:
        The kernel matrix, shape `(n, m)`.
    """
    return _polynomial(A @ B.T, degree, gamma, coef0)


def _polynomial(G: Array, degree: int, gamma: float, coef0: float) -> Array:
    """$(\\gamma G + c_0)^p$ of a Gram matrix $G$ in one elementwise power (no loop over the
    degree), refusing an overflow: a huge degree gives inf wherever $|\\gamma a^\\top b + c_0| > 1$,
    an unrepresentable answer."""
    base = gamma * G + coef0
    xp = namespace(base)
    big = _scalar(xp.max(xp.abs(base)))
    if big > 1 and degree * math.log2(big) >= math.log2(float(xp.finfo(base.dtype).max)):
        raise ValueError(
            f"degree={degree} overflows: the kernel (gamma a.b + coef0)^degree reaches "
            f"{big:.3g}^{degree}, beyond the range of {base.dtype}"
        )
    return base**degree


@contract(_PAIR, gamma=_POS)
def rbf_kernel(A: Array, B: Array, *, gamma: float = 1.0) -> Array:
    r"""The Gaussian (RBF) kernel $k(a, b) = \exp(-\gamma\,\|a - b\|^2)$.

    Computed as $\exp(-\gamma(\|a\|^2 + \|b\|^2 - 2a^\top b))$ after both point sets are shifted
    by their common mean $c$ (the distance is translation invariant), so points far from the
    origin but close to each other do not cancel: the squared distance errs by about
    $\epsilon\,(\|a - c\|^2 + \|b - c\|^2)$, not $\epsilon\,(\|a\|^2 + \|b\|^2)$. It is
    clipped at $0$ against rounding, so every entry lies in $(0, 1]$ (or underflows to 0 for far
    points). When `B` is `A` (the same object), the squared norms are read off the diagonal of
    the Gram matrix, so the diagonal is exactly 1. Same convention as scikit-learn's
    `rbf_kernel` (whose default $\gamma$ is $1/d$).

    Args:
        A: Points as rows, shape `(n, d)`.
        B: Points as rows, shape `(m, d)`.
        gamma: $\gamma > 0$ (inverse squared length scale).

    Returns:
        The kernel matrix, shape `(n, m)`, entries in $[0, 1]$ (0 only by underflow).
    """
    return _rbf(A, B, gamma)


def _rbf(A: Array, B: Array, gamma: float, *, lower: bool = False) -> Array:
    r"""The body of [`rbf_kernel`][dlcore.kernels.rbf_kernel]; `lower` as in `_product`.

    Far from 1 (entries beyond $2^{\pm 256}$, or $\sqrt\gamma$ times the centred ones), the
    points are first scaled by exact powers of two $2^e$ and $2^j$, and $-\gamma\|a - b\|^2$ is
    scaled back by $2^{-2(e + j)}$ just before the exponential, where it may round to $-\infty$
    (a kernel entry of 0) or to 0 (an entry of 1), both right. Inside that range $e = j = 0$.
    """
    same = B is A
    xp = namespace(A)
    n, m = int(A.shape[0]), int(B.shape[0])
    e = _exponent(xp, A, B)  # the mean below must not overflow
    A = _times_pow2(A, e)
    B = A if same else _times_pow2(B, e)
    root = math.sqrt(gamma)  # exp(-||r a - r b||^2) with r^2 = gamma: no overflow of ||a||^2
    c = xp.mean(A, axis=0) * (n / (n + m)) + xp.mean(B, axis=0) * (m / (n + m))  # common mean
    A = (A - c) * root  # fresh arrays: the caller's are never written
    B = A if same else (B - c) * root
    j = _exponent(xp, A, B)  # |r (a - c)| may still be beyond 2^{+-256}
    A = _times_pow2(A, j)
    B = A if same else _times_pow2(B, j)
    sq = _product(A, B, lower=lower)  # a fresh array we own: update it in place
    if same:
        a2 = b2 = xp.linalg.diagonal(sq) * 1.0  # a copy: sq changes in place below
    else:
        a2, b2 = xp.sum(A * A, axis=1), xp.sum(B * B, axis=1)
    sq *= 2.0  # sq becomes -||a_i - b_j||^2 = 2 a_i.b_j - ||a_i||^2 - ||b_j||^2
    sq -= a2[:, None]
    sq -= b2[None, :]
    sq[sq > 0.0] = 0.0  # rounding only, as ||a - b||^2 >= 0: in place, no n x m temporary
    with np.errstate(over="ignore"):  # to -inf: an entry of exp(-inf) = 0
        return xp.exp(_times_pow2(sq, -2 * (e + j)))


def _scipy(A: Array) -> Any:
    """`scipy.linalg` for a float32 or float64 NumPy array where SciPy is installed, else `None`
    (then the generic array-API code runs)."""
    blas_dtype = array_api_compat.is_numpy_array(A) and A.dtype.char in "fd"
    if blas_dtype and importlib.util.find_spec("scipy"):
        return importlib.import_module("scipy.linalg")
    return None


def _product(A: Array, B: Array, *, lower: bool = False) -> Array:
    r"""$AB^\top$; with `lower` (`B` is `A`, the matrix goes to `_spd_solve`) only its lower
    triangle need be set.

    On NumPy with SciPy, `lower` takes SciPy's `syrk` (one triangle, half the flops of a product)
    in the OpenBLAS that the solve (`posv`) uses. NumPy and SciPy each ship their own, and
    alternating between the two thread pools costs milliseconds on machines with few cores
    (measured on 2 cores, n = 500, d = 200: 3.9 ms with `X.T @ X` then SciPy's Cholesky, 1.0 ms in
    SciPy alone).
    """
    linalg = _scipy(A) if lower else None
    if linalg is None:
        return A @ B.T
    (syrk,) = linalg.blas.get_blas_funcs(("syrk",), (A,))
    # BLAS reads a Fortran-ordered matrix without a copy: A itself, or A.T for a C-ordered A
    return syrk(1.0, A, lower=1) if A.flags.f_contiguous else syrk(1.0, A.T, trans=1, lower=1)


def _xty(X: Array, y: Array) -> Array:
    r"""$X^\top y$, the right-hand side of the primal fit: by SciPy's BLAS (`gemm`) where the Gram
    matrix and the solve use it (see `_product`). Computed by NumPy, it made each fit switch
    libraries: measured on 2 cores, n = 3000, d = 200, NumPy's `X.T @ y` then SciPy's `syrk` took
    9.2 ms, against 2.3 ms for the `syrk` alone."""
    linalg = _scipy(X)
    if linalg is None:
        return X.T @ y
    (gemm,) = linalg.blas.get_blas_funcs(("gemm",), (X,))
    rhs = y if y.ndim == 2 else y[:, None]
    # BLAS reads a Fortran-ordered matrix without a copy: X.T for a C-ordered X, else X itself
    xty = gemm(1.0, X.T, rhs) if X.flags.c_contiguous else gemm(1.0, X, rhs, trans_a=1)
    return xty if y.ndim == 2 else xty[:, 0]


def _spd_solve(xp: Any, A: Array, lam: float, b: Array, error: str) -> Array:
    r"""Solve $(A + \lambda I)x = b$ by the Cholesky factor of $A + \lambda I$ (symmetric), else a
    ValueError saying `error` (it has no factor, or the solution is not finite). `A` is a fresh
    array, which may be overwritten.

    NumPy arrays go to LAPACK's `posv` (factor and solve in one call, reading the lower triangle
    only) when SciPy is installed, with $\lambda$ added to the diagonal in place; any other
    namespace (or NumPy without SciPy) forms $A + \lambda I$ (not in place: autograd may need
    `A`, such as the output of `exp` in the RBF kernel) and calls `linalg.solve` once it has
    shown a Cholesky factor.
    """
    linalg = _scipy(A)
    if linalg is not None:
        A[np.diag_indices_from(A)] += lam
        (posv,) = linalg.get_lapack_funcs(("posv",), (A,))
        _, x, info = posv(A, b, lower=1, overwrite_a=1)
    else:
        A = A + lam * xp.eye(int(A.shape[0]), dtype=A.dtype, device=device_of(A))
        try:
            xp.linalg.cholesky(A)  # it has a factor: A is positive definite, any solver will do
            x, info = xp.linalg.solve(A, b), 0
        except Exception:  # no factor: the LinAlgError of NumPy, torch or array_api_strict
            x, info = b, 1
    if info != 0 or not bool(xp.all(xp.isfinite(x))):
        raise ValueError(error)
    return x


@contract(K=Arr("n n", linalg=True), y=Arr("n", "n m"), lam=Real(0))
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
            tolerance $\tau = 8n\,\varepsilon\max_{ij}|K_{ij}|$: $K + \tau I$ has no
            Cholesky factor), if $\lambda < 0$, or if $K + \lambda I$ is singular (has no
            Cholesky factor).
    """
    xp = namespace(K)
    alpha = _rescaled_ridge(kernel_ridge, xp, K, y, lam, gram=True)  # exact rescaling
    if alpha is not None:
        return alpha
    n = int(K.shape[0])
    tol = 8 * n * eps(K) * max(_scalar(xp.max(xp.abs(K))), 1e-300)
    asym = _scalar(xp.max(xp.abs(K - K.T)))
    if asym > tol:
        raise ValueError(f"K must be symmetric, got max |K - K^T| = {asym:.3g} > {tol:.3g}")
    not_psd = (
        f"K must be positive semi-definite, got an eigenvalue below -{tol:.3g} "
        f"(no Cholesky factor of K + {tol:.3g} I)"
    )
    # K >= -tol I exactly when K + tol I has a Cholesky factor (up to rounding of order tol):
    # the definiteness check is a factorization (its solve is not used), not an eigensolver
    _spd_solve(xp, (K + K.T) / 2, tol, y, not_psd)
    # K is positive semi-definite: no Cholesky factor of K + lam I means a singular one
    singular = (
        f"K + lam I is singular (lam={lam!r}, no Cholesky factor, and K is positive "
        f"semi-definite to within {tol:.3g}); use lam > 0"
    )
    return _spd_solve(xp, K * 1.0, lam, y, singular)  # a copy: _spd_solve may write it


class KernelRidgeModel(NamedTuple):
    r"""A fitted kernel ridge regression (returned by [`kernel_ridge_fit`][dlcore.kernels.kernel_ridge_fit]).

    Exactly one of `alpha` and `w` is set: the dual coefficients $\alpha \in \mathbb{R}^n$
    (prediction $f(x) = \sum_i \alpha_i k(x_i, x)$), or, for the linear kernel fitted in primal
    form, the weights $\hat w_\lambda \in \mathbb{R}^d$ (prediction $f(x) = x^\top \hat w$).
    """

    kernel: str
    """"linear", "polynomial" or "rbf"."""
    X: Array
    """The training inputs, shape `(n, d)`."""
    alpha: Array | None
    """Dual coefficients, shape `(n,)` or `(n, m)`; `None` in primal form."""
    w: Array | None
    """Primal weights, shape `(d,)` or `(d, m)`; `None` in dual form."""
    degree: int
    """Polynomial degree (polynomial kernel)."""
    gamma: float
    r"""Kernel scale $\gamma$ (polynomial and RBF kernels)."""
    coef0: float
    r"""Polynomial offset $c_0$."""

    @property
    def form(self) -> str:
        r""" "primal" (a $d\times d$ solve was used) or "dual" (an $n\times n$ solve)."""
        return "primal" if self.w is not None else "dual"


def _kernel(model: KernelRidgeModel, A: Array, B: Array, *, lower: bool = False) -> Array:
    """The model's kernel matrix $k(A, B)$; `lower` as in `_product`."""
    if model.kernel == "rbf":
        return _rbf(A, B, model.gamma, lower=lower)
    G = _product(A, B, lower=lower)
    if model.kernel == "polynomial":
        return _polynomial(G, model.degree, model.gamma, model.coef0)
    return G


_KERNEL = {"kernel": Choice(*KERNELS), "degree": Int(1), "gamma": _POS, "coef0": Real(0)}
"""The kernel and its parameters: arguments of `kernel_ridge_fit`, fields of its model."""

_FIELDS = {"X": Arr("n d"), "alpha": Arr("n", "n k"), "w": Arr("d", "d k"), **_KERNEL}
"""Every field of a `KernelRidgeModel`, as `kernel_ridge_predict` checks it (the arrays' shape
symbols shared, with `X_test` of shape `(q, d)`)."""


@contract(_XY, _KERNEL, lam=Real(0), form=Choice("auto", "primal", "dual"))
def kernel_ridge_fit(
    X: Array,
    y: Array,
    lam: float,
    *,
    kernel: str = "linear",
    degree: int = 2,
    gamma: float = 1.0,
    coef0: float = 1.0,
    form: str = "auto",
) -> KernelRidgeModel:
    r"""Fit kernel ridge regression, choosing the cheaper of the primal and dual solve.

    $$\alpha = (K + \lambda I_n)^{-1} y, \qquad K_{ij} = k(x_i, x_j),$$

    with $k$ the linear kernel $x^\top z$, the polynomial kernel $(\gamma x^\top z + c_0)^p$ or
    the RBF kernel $\exp(-\gamma\|x - z\|^2)$ (scikit-learn's conventions). For the linear kernel
    and $d < n$ the push-through identity
    $X^\top(XX^\top + \lambda I_n)^{-1} = (X^\top X + \lambda I_d)^{-1}X^\top$ gives the same
    predictor from the $d\times d$ primal system, $\hat w = (X^\top X + \lambda I_d)^{-1}X^\top y$,
    which `form="auto"` then uses. Every system is factored by Cholesky (which checks that it is
    positive definite) and solved, never inverted.

    Args:
        X: Training inputs, shape `(n, d)`.
        y: Targets, shape `(n,)` or `(n, m)`.
        lam: $\lambda \ge 0$; $\lambda = 0$ needs a non-singular system.
        kernel: "linear", "polynomial" or "rbf".
        degree: Polynomial degree $p \ge 1$.
        gamma: $\gamma > 0$ for the polynomial and RBF kernels.
        coef0: $c_0 \ge 0$ for the polynomial kernel.
        form: "auto", "primal" (linear kernel only) or "dual".

    Returns:
        The fitted [`KernelRidgeModel`][dlcore.kernels.KernelRidgeModel].

    Raises:
        ValueError: On bad shapes, non-finite input, an unknown kernel or form, $\lambda <
            0$, or a system that is not positive definite (e.g. $\lambda = 0$ with $K$
            singular).
    """
    if form == "primal" and kernel != "linear":
        raise ValueError(f"form='primal' needs kernel='linear', got kernel={kernel!r}")
    xp = namespace(X)
    model = KernelRidgeModel(kernel, X, None, None, degree, gamma, coef0)
    if kernel == "linear" and (form == "primal" or (form == "auto" and X.shape[1] < X.shape[0])):
        b = _xty(X, y)
        A, what, field = _product(X.T, X.T, lower=True), "X^T X", "w"
    else:
        b, A, what, field = y, _kernel(model, X, X, lower=True), "K", "alpha"
    error = (
        f"{what} + lam I (lam={lam!r}) is not positive definite (Cholesky failed); "
        "use lam > 0 or a PSD kernel"
    )
    return model._replace(**{field: _spd_solve(xp, A, lam, b, error)})


@_finite_result
def kernel_ridge_predict(model: KernelRidgeModel, X_test: Array) -> Array:
    r"""Predictions of a fitted kernel ridge model: only inner products with the training points.

    $$f(x) = \sum_i \alpha_i\, k(x_i, x) = k(x)^\top \alpha \quad(\text{dual}), \qquad
    f(x) = x^\top \hat w \quad(\text{primal, linear kernel}).$$

    Args:
        model: A [`KernelRidgeModel`][dlcore.kernels.KernelRidgeModel].
        X_test: Test inputs, shape `(m, d)`.

    Returns:
        Predictions, shape `(m,)` or `(m, k)` for `k` targets.

    Raises:
        TypeError: If `model` is not a `KernelRidgeModel`, or `X_test` and the model's arrays come
            from different libraries, devices or dtypes.
        ValueError: If a field of the model is invalid (unknown kernel, non-finite or misshapen
            arrays, both or neither of `alpha` and `w`, a bad degree, gamma or coef0), `X_test` is
            not a finite matrix with the training number of columns, or a polynomial degree
            overflows.
    """
    # every field of a model, which a caller may have built or edited by hand, and X_test
    if not isinstance(model, KernelRidgeModel):
        raise TypeError(f"model must be a KernelRidgeModel, got {type(model).__name__}")
    if (model.alpha is None) == (model.w is None):
        raise ValueError(
            "model must have exactly one of model.alpha (dual) and model.w (primal) set, got "
            f"{'both' if model.alpha is not None else 'neither'}"
        )
    dims: dict[str, Any] = {}
    fields = {f: v for f in _FIELDS if (v := getattr(model, f)) is not None}
    for f, value in fields.items():
        kind: Any = _FIELDS[f]
        kind(f"model.{f}", value, *([dims] if isinstance(kind, Arr) else []))
    if model.w is not None and model.kernel != "linear":
        raise ValueError(f"model.w (primal form) needs kernel 'linear', got {model.kernel!r}")
    arrays = {f"model.{f}": fields[f] for f in ("X", "alpha", "w") if f in fields}
    check_compatible({**arrays, "X_test": Arr("q d")("X_test", X_test, dims)})
    if model.w is not None:
        return X_test @ model.w
    return _kernel(model, X_test, model.X) @ model.alpha
