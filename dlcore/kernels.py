r"""Kernels and kernel ridge regression (the dual view of ridge).

A kernel matrix $K_{ij} = k(x_i, x_j)$ replaces the Gram matrix $XX^\top$ of the dual ridge
solution. For the linear kernel $k(x, x') = x^\top x'$ kernel ridge *is* ridge:
$\hat w_\lambda = X^\top \alpha$ with $\alpha = (K + \lambda I)^{-1} y$.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
from collections.abc import Callable
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
    _scalar,
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
def linear_kernel(A: Array, B: Array) -> Array:
    r"""The linear kernel matrix $K = AB^\top$, $K_{ij} = a_i^\top b_j$.

    Args:
        A: Points as rows, shape `(n, d)`.
        B: Points as rows, shape `(m, d)`.

    Returns:
        $AB^\top$, shape `(n, m)`; with `B = A` the Gram matrix of inner products.

    Raises:
        TypeError: If `A` or `B` is not a real floating array, or the arrays differ in library,
            device or dtype.
        ValueError: If `A` or `B` is empty, misshapen or not finite.
    """
    return A @ B.T


_PAIR = {"A": Arr("n d"), "B": Arr("q d")}
_POS = Real(0, low_open=True)


@contract(_PAIR, degree=Int(1), gamma=_POS, coef0=Real(0))
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

    Raises:
        TypeError: If `A` or `B` is not a real floating array, or the arrays differ in library,
            device or dtype; `degree` is not an int; `gamma` is not a real number; `coef0` is not a
            real number.
        ValueError: If `A` or `B` is empty, misshapen or not finite; `degree` is below 1; `gamma`
            is NaN, infinite or outside (0, inf); `coef0` is NaN, infinite or outside [0, inf).
    """
    base = gamma * (A @ B.T) + coef0
    return _power(base, degree)


def _power(base: Array, degree: int) -> Array:
    """`base**degree` in one elementwise power (no loop over the degree), refusing an overflow:
    a huge degree gives inf wherever $|\\gamma a^\\top b + c_0| > 1$, an unrepresentable answer."""
    xp = namespace(base)
    if xp.isdtype(base.dtype, "real floating"):
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

    Raises:
        TypeError: If `A` or `B` is not a real floating array, or the arrays differ in library,
            device or dtype; `gamma` is not a real number.
        ValueError: If `A` or `B` is empty, misshapen or not finite; `gamma` is NaN, infinite or
            outside (0, inf).
    """
    same = B is A
    xp = namespace(A)
    n, m = int(A.shape[0]), int(B.shape[0])
    root = math.sqrt(gamma)  # exp(-||r a - r b||^2) with r^2 = gamma: no overflow of ||a||^2
    if same:
        A = (A - xp.mean(A, axis=0)) * root  # fresh arrays: the caller's are never written
        B = A
    else:
        c = xp.mean(A, axis=0) * (n / (n + m)) + xp.mean(B, axis=0) * (m / (n + m))
        A, B = (A - c) * root, (B - c) * root
    sq = A @ B.T  # a fresh array we own: update it in place (array-API in-place operators)
    if same:
        a2 = b2 = xp.linalg.diagonal(sq) * 1.0  # a copy: sq changes in place below
    else:
        a2, b2 = xp.sum(A * A, axis=1), xp.sum(B * B, axis=1)
    sq *= -2.0
    sq += a2[:, None]
    sq += b2[None, :]
    sq = xp.clip(sq, min=0.0)
    sq *= -1.0
    return xp.exp(sq)


def _scipy_gram_solve(
    X: Array,
    b: Array,
    lam: float,
    side: str,
    what: str,
    kernel_of_gram: Callable[[Any], None] | None = None,
) -> Array | None:
    r"""NumPy fast path: $(X^\top X + \lambda I) w = X^\top b$ (`side="primal"`) or
    $(K + \lambda I)\alpha = b$ (`side="dual"`) entirely in SciPy's BLAS/LAPACK, where $K$ is
    the Gram matrix $G = XX^\top$ or, given `kernel_of_gram`, the kernel matrix that function
    makes of $G$ in place (entrywise from $G_{ij}$, $G_{ii}$ and $G_{jj}$: the polynomial and
    RBF kernels; only the lower triangle is read).

    The Gram matrix comes from `syrk` (one triangle, half the flops of a product), the system
    from `posv` (Cholesky factor and solve, the definiteness check in one call). Why not NumPy's
    `@` for the Gram matrix: NumPy and SciPy each ship their own OpenBLAS, and alternating between
    the two thread pools costs milliseconds on machines with few cores (measured on 2 cores,
    n = 500, d = 200: 3.9 ms with `X.T @ X` then SciPy's Cholesky, 1.0 ms in SciPy alone).

    Returns `None` when SciPy is not installed or the dtype is not float32/float64 (then the
    caller takes the generic path).
    """

    try:
        linalg = importlib.import_module("scipy.linalg")
    except ImportError:  # pragma: no cover - scipy is optional
        return None
    if X.dtype not in (np.float32, np.float64):
        return None
    syrk, gemv, gemm = linalg.blas.get_blas_funcs(("syrk", "gemv", "gemm"), (X,))
    (posv,) = linalg.lapack.get_lapack_funcs(("posv",), (X,))
    Xt = X.T  # Fortran-ordered view of a C-ordered X: BLAS reads it without a copy
    if side == "primal":
        A = syrk(1.0, Xt, lower=1)  # X^T X (lower triangle)
        rhs = gemv(1.0, Xt, b) if b.ndim == 1 else gemm(1.0, Xt, b)
    else:
        A = syrk(1.0, Xt, trans=1, lower=1)  # X X^T (lower triangle)
        if kernel_of_gram is not None:
            kernel_of_gram(A)
        rhs = b
    A[np.diag_indices_from(A)] += lam
    _, x, info = posv(A, rhs, lower=1, overwrite_a=1, overwrite_b=side == "primal")
    if info != 0 or not np.all(np.isfinite(x)):
        raise ValueError(
            f"{what} is not positive definite (Cholesky failed); use lam > 0 or a PSD kernel"
        )
    return np.asarray(x, dtype=X.dtype)


def _rbf_of_gram(G: Any, gamma: float) -> None:
    r"""$G \mapsto \exp(-\gamma\max(G_{ii} + G_{jj} - 2G_{ij}, 0))$ in place (NumPy), as
    [`rbf_kernel`][dlcore.kernels.rbf_kernel] computes it, with $\|x_i\|^2 = G_{ii}$.

    Not `rbf_kernel`'s array-API code: in place, `syrk`'s Fortran-ordered matrix goes to `posv`
    without a copy (n = 3000, d = 200: 0.23 s in place, 0.48 s through the array-API form)."""

    sq_norms = np.diag(G).copy()
    G *= -2.0
    G += sq_norms[:, None]
    G += sq_norms[None, :]
    np.maximum(G, 0.0, out=G)
    G *= -gamma
    np.exp(G, out=G)


def _polynomial_of_gram(G: Any, degree: int, gamma: float, coef0: float) -> None:
    r"""$G \mapsto (\gamma G + c_0)^p$ in place (NumPy), as `polynomial_kernel` computes it."""
    G *= gamma
    G += coef0
    G **= degree  # one elementwise power in place: no loop over the degree


def _cholesky(xp: Any, A: Array) -> Array | None:
    """The lower Cholesky factor of the symmetric `A`, or `None` where it has none (not PD)."""
    try:
        if array_api_compat.is_torch_namespace(xp):
            L, info = importlib.import_module("torch").linalg.cholesky_ex(A)
            if int(info) != 0:
                return None
        else:
            L = xp.linalg.cholesky(A)
    except Exception:  # LinAlgError of numpy or array_api_strict
        return None
    return L if bool(xp.all(xp.isfinite(L))) else None


def _spd_solve(xp: Any, A: Array, b: Array, what: str) -> Array:
    """Solve A x = b for symmetric positive definite A by its Cholesky factor; ValueError if A
    has none or the solution is not finite.

    torch tensors solve with `torch.cholesky_solve`, NumPy arrays with SciPy's `cho_solve` when
    SciPy is installed; any other namespace (or NumPy without SciPy) calls `linalg.solve` once
    the factor shows that A is positive definite.
    """
    rhs = b[:, None] if b.ndim == 1 else b
    L = _cholesky(xp, A)
    x = rhs
    if L is not None:
        if array_api_compat.is_torch_namespace(xp):
            x = importlib.import_module("torch").cholesky_solve(rhs, L)
        elif array_api_compat.is_numpy_namespace(xp) and importlib.util.find_spec("scipy"):
            cho_solve = importlib.import_module("scipy.linalg").cho_solve
            x = xp.asarray(cho_solve((L, True), rhs, check_finite=False))
        else:
            x = xp.linalg.solve(A, rhs)
    if L is None or not bool(xp.all(xp.isfinite(x))):
        raise ValueError(
            f"{what} is not positive definite (Cholesky failed); use lam > 0 or a PSD kernel"
        )
    return x[:, 0] if b.ndim == 1 else x


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
        TypeError: If `K` or `y` is not a real floating array, or the arrays differ in library,
            device or dtype; `lam` is not a real number. Also if an array is float16 or bfloat16
            (linear algebra needs float32 or float64).
        ValueError: If `K` is not square, not symmetric or not positive semi-definite (to a
            tolerance $\tau = 8n\,\varepsilon\max_{ij}|K_{ij}|$: $K + \tau I$ has no Cholesky
            factor), if $\lambda < 0$, or if $K + \lambda I$ is singular (has no Cholesky
            factor). Also if `y` is empty, misshapen or not finite; `lam` is NaN, infinite or
            outside [0, inf).
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
    eye = xp.eye(n, dtype=K.dtype, device=device_of(K))
    # K >= -tol I exactly when K + tol I has a Cholesky factor (up to rounding of order tol):
    # the definiteness check is a factorization, not an eigensolver
    L = _cholesky(xp, (K + K.T) / 2 + tol * eye)
    if L is None:
        raise ValueError(
            f"K must be positive semi-definite, got an eigenvalue below -{tol:.3g} "
            f"(no Cholesky factor of K + {tol:.3g} I)"
        )
    try:  # K is positive semi-definite: no Cholesky factor of K + lam I means a singular one
        return _spd_solve(xp, K + lam * eye, y, f"K + lam I (lam={lam!r})")
    except ValueError:
        raise ValueError(
            f"K + lam I is singular (lam={lam!r}, no Cholesky factor, and K is positive "
            f"semi-definite to within {tol:.3g}); use lam > 0"
        ) from None


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


def _kernel(model: KernelRidgeModel, A: Array, B: Array) -> Array:
    if model.kernel == "linear":
        return A @ B.T
    if model.kernel == "polynomial":
        return polynomial_kernel(A, B, degree=model.degree, gamma=model.gamma, coef0=model.coef0)
    return rbf_kernel(A, B, gamma=model.gamma)


@contract(
    _XY,
    lam=Real(0),
    kernel=Choice(*KERNELS),
    degree=Int(1),
    gamma=_POS,
    coef0=Real(0),
    form=Choice("auto", "primal", "dual"),
)
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
    which `form="auto"` then uses. Every system is solved by Cholesky, never by an inverse.

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
        TypeError: If `X` or `y` is not a real floating array, or the arrays differ in library,
            device or dtype; `lam` is not a real number; `degree` is not an int; `gamma` is not a
            real number; `coef0` is not a real number. Also if an array is float16 or bfloat16
            (linear algebra needs float32 or float64).
        ValueError: On bad shapes, non-finite input, an unknown kernel or form, $\lambda < 0$, or a
            system that is not positive definite (e.g. $\lambda = 0$ with $K$ singular). Also if
            `X` or `y` is empty, misshapen or not finite; `lam` is NaN, infinite or outside [0,
            inf); `kernel` is not one of 'linear', 'polynomial', 'rbf'; `degree` is below 1;
            `gamma` is NaN, infinite or outside (0, inf); `coef0` is NaN, infinite or outside [0,
            inf); `form` is not one of 'auto', 'primal', 'dual'.
    """
    if form == "primal" and kernel != "linear":
        raise ValueError(f"form='primal' needs kernel='linear', got kernel={kernel!r}")
    xp = namespace(X)
    n, d = int(X.shape[0]), int(X.shape[1])
    model = KernelRidgeModel(kernel, X, None, None, degree, gamma, coef0)
    primal = kernel == "linear" and (form == "primal" or (form == "auto" and d < n))
    if array_api_compat.is_numpy_namespace(xp):
        side = "primal" if primal else "dual"
        what = f"X^T X + lam I (lam={lam!r})" if primal else f"K + lam I (lam={lam!r})"
        of_gram: Callable[[Any], None] | None = None
        Xg = X
        if kernel == "rbf":
            of_gram = functools.partial(_rbf_of_gram, gamma=gamma)
            Xg = X - X.mean(axis=0)  # distances are shift invariant: centre against cancellation
        elif kernel == "polynomial":
            of_gram = functools.partial(
                _polynomial_of_gram, degree=degree, gamma=gamma, coef0=coef0
            )
        sol = _scipy_gram_solve(Xg, y, lam, side, what, of_gram)
        if sol is not None:
            return model._replace(**({"w": sol} if primal else {"alpha": sol}))
    if primal:
        A = X.T @ X
        A += lam * xp.eye(d, dtype=X.dtype, device=device_of(X))
        w = _spd_solve(xp, A, X.T @ y, f"X^T X + lam I (lam={lam!r})")
        return model._replace(w=w)
    K = _kernel(model, X, X)  # freshly computed: add lam I in place, unless autograd needs K
    ridge_term = lam * xp.eye(n, dtype=X.dtype, device=device_of(X))
    if getattr(K, "requires_grad", False):  # exp's backward reads its output (the RBF kernel)
        K = K + ridge_term
    else:
        K += ridge_term
    alpha = _spd_solve(xp, K, y, f"K + lam I (lam={lam!r})")
    return model._replace(alpha=alpha)


def _check_model(model: Any, X_test: Array) -> None:
    """Every field of a model, which a caller may have built or edited by hand, and `X_test`."""
    if not isinstance(model, KernelRidgeModel):
        raise TypeError(f"model must be a KernelRidgeModel, got {type(model).__name__}")
    Choice(*KERNELS)("model.kernel", model.kernel)
    if (model.alpha is None) == (model.w is None):
        raise ValueError(
            "model must have exactly one of model.alpha (dual) and model.w (primal) set, got "
            f"{'both' if model.alpha is not None else 'neither'}"
        )
    if model.w is not None and model.kernel != "linear":
        raise ValueError(f"model.w (primal form) needs kernel 'linear', got {model.kernel!r}")
    dims: dict[str, Any] = {}
    arrays = {"model.X": Arr("n d")("model.X", model.X, dims)}
    if model.w is not None:
        arrays["model.w"] = Arr("d", "d k")("model.w", model.w, dims)
    else:
        arrays["model.alpha"] = Arr("n", "n k")("model.alpha", model.alpha, dims)
    arrays["X_test"] = Arr("q d")("X_test", X_test, dims)
    check_compatible(arrays)
    Int(1)("model.degree", model.degree)
    _POS("model.gamma", model.gamma)
    Real(0)("model.coef0", model.coef0)


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
    _check_model(model, X_test)
    if model.w is not None:
        return X_test @ model.w
    return _kernel(model, X_test, model.X) @ model.alpha
