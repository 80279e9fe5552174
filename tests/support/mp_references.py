r"""High-precision oracles (mpmath, 50 significant digits) for the contract test's scale checks.

Each oracle takes the keyword arguments of a valid call, possibly scaled by $2^{\pm 600}$, and
returns the exact answer rounded to float64. The float64 inputs convert to mpmath exactly, and
mpmath's exponent range is unbounded, so nothing overflows or underflows on the way: products
like $c^2 s^2 \approx 2^{\pm 1200}$, which leave float64's range, are formed exactly. The
problems are small (at most $6 \times 6$) and well conditioned (condition number at most 4,
`tests/support/contracts.py`), so the 50-digit solves lose at most a couple of digits: the oracle
is exact to far below float64's rounding, and the final conversion to float64 rounds once
(relative $2^{-53}$), which the scale checks' tolerances of many $\varepsilon$ absorb.

Test side only: nothing here calls dlcore.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

__all__ = [
    "ridge",
    "min_norm_solution",
    "row_space_projector",
    "null_space_projector",
    "kernel_ridge",
    "rbf_kernel",
    "ridge_filter_factors",
    "log_softmax",
    "softmax",
    "mode_eigenvalues",
    "standardize",
    "spectral_radius",
    "kink_location",
]

DPS = 50
"""Significant decimal digits of every oracle."""

_mp = mpmath.MPContext()
_mp.dps = DPS


def _m(a: np.ndarray) -> Any:
    """A float64 array (1-D or 2-D) as an mpmath matrix, exactly (a vector as a column)."""
    a = np.asarray(a, dtype=np.float64)
    return _mp.matrix(a.reshape(a.shape[0], -1).tolist())


def _f(M: Any, shape: tuple[int, ...]) -> np.ndarray:
    """An mpmath matrix back to float64, rounded once per entry, in `shape`."""
    return np.array([float(M[i, j]) for i in range(M.rows) for j in range(M.cols)]).reshape(shape)


def _solve(A: Any, B: Any) -> Any:
    """$A^{-1} B$ column by column (LU with partial pivoting, at `DPS` digits)."""
    cols = [_mp.lu_solve(A, B.column(j)) for j in range(B.cols)]
    out = _mp.matrix(B.rows, B.cols)
    for j, c in enumerate(cols):
        for i in range(B.rows):
            out[i, j] = c[i]
    return out


def _eye(d: int) -> Any:
    return _mp.eye(d)


def ridge(kw: dict[str, Any]) -> np.ndarray:
    r"""$(X^\top X + \lambda I)^{-1} X^\top y$."""
    X, y, lam = _m(kw["X"]), _m(kw["y"]), _mp.mpf(kw["lam"])
    w = _solve(X.T * X + lam * _eye(X.cols), X.T * y)
    return _f(w, (X.cols, *np.shape(kw["y"])[1:]))


def min_norm_solution(kw: dict[str, Any]) -> np.ndarray:
    r"""$X^+ y$ for $X$ of full rank: $(X^\top X)^{-1} X^\top y$ (tall) or
    $X^\top (X X^\top)^{-1} y$ (wide)."""
    X, y = _m(kw["X"]), _m(kw["y"])
    w = _solve(X.T * X, X.T * y) if X.rows >= X.cols else X.T * _solve(X * X.T, y)
    return _f(w, (X.cols, *np.shape(kw["y"])[1:]))


def _row_projector(X: Any) -> Any:
    r"""$X^+ X$ for $X$ of full row rank: $X^\top (X X^\top)^{-1} X$."""
    return X.T * _solve(X * X.T, X)


def row_space_projector(kw: dict[str, Any]) -> np.ndarray:
    r"""$X^+ X$ (the valid $X$ is wide, of full row rank)."""
    X = _m(kw["X"])
    return _f(_row_projector(X), (X.cols, X.cols))


def null_space_projector(kw: dict[str, Any]) -> np.ndarray:
    r"""$I - X^+ X$ (the valid $X$ is wide, of full row rank)."""
    X = _m(kw["X"])
    return _f(_eye(X.cols) - _row_projector(X), (X.cols, X.cols))


def kernel_ridge(kw: dict[str, Any]) -> np.ndarray:
    r"""$(K + \lambda I)^{-1} y$."""
    K, y, lam = _m(kw["K"]), _m(kw["y"]), _mp.mpf(kw["lam"])
    return _f(_solve(K + lam * _eye(K.rows), y), np.shape(kw["y"]))


def rbf_kernel(kw: dict[str, Any]) -> np.ndarray:
    r"""$\exp(-\gamma \|a_i - b_j\|^2)$, the differences formed exactly."""
    A, B, g = np.asarray(kw["A"]), np.asarray(kw["B"]), _mp.mpf(kw["gamma"])

    def k(a: np.ndarray, b: np.ndarray) -> float:
        sq = _mp.fsum((_mp.mpf(x) - _mp.mpf(z)) ** 2 for x, z in zip(a, b, strict=True))
        return float(_mp.exp(-g * sq))

    return np.array([[k(a, b) for b in B] for a in A])


def ridge_filter_factors(kw: dict[str, Any]) -> np.ndarray:
    r"""$s^2 / (s^2 + \lambda)$, elementwise."""
    lam = _mp.mpf(kw["lam"])
    s = np.asarray(kw["s"])
    return np.array([float(_mp.mpf(x) ** 2 / (_mp.mpf(x) ** 2 + lam)) for x in s.ravel()]).reshape(
        s.shape
    )


def _rows_and_lse(z: np.ndarray) -> list[tuple[list[Any], Any]]:
    r"""Each row of `z` along the last axis as mpf values, with its $\log\sum_j e^{z_j}$."""
    out = []
    for row in z.reshape(-1, z.shape[-1]):
        v = [_mp.mpf(x) for x in row]
        top = max(v)
        out.append((v, top + _mp.log(_mp.fsum(_mp.exp(x - top) for x in v))))
    return out


def log_softmax(kw: dict[str, Any]) -> np.ndarray:
    r"""$z_i - \log \sum_j e^{z_j}$ along the last axis."""
    z = np.asarray(kw["z"])
    return np.array([[float(x - lse) for x in v] for v, lse in _rows_and_lse(z)]).reshape(z.shape)


def softmax(kw: dict[str, Any]) -> np.ndarray:
    r"""$e^{z_i} / \sum_j e^{z_j} = e^{z_i - \log\sum_j e^{z_j}}$ along the last axis."""
    z = np.asarray(kw["z"])
    rows = _rows_and_lse(z)
    return np.array([[float(_mp.exp(x - lse)) for x in v] for v, lse in rows]).reshape(z.shape)


def mode_eigenvalues(kw: dict[str, Any]) -> tuple[complex, complex]:
    r"""The roots of $\mu^2 - \operatorname{tr} \mu + \det$, sorted by (real, imaginary) part."""
    tr, det = _mp.mpf(kw["trace"]), _mp.mpf(kw["det"])
    root = _mp.sqrt(_mp.mpc(tr * tr - 4 * det))
    pair = ((tr + root) / 2, (tr - root) / 2)
    return tuple(sorted((complex(z) for z in pair), key=lambda z: (z.real, z.imag)))  # type: ignore[return-value]


def standardize(kw: dict[str, Any]) -> np.ndarray:
    r"""$(x - \bar x) / \sigma$ per column, $\sigma$ the population standard deviation."""
    X = np.asarray(kw["X"])
    out = np.empty_like(X, dtype=np.float64)
    for j in range(X.shape[1]):
        col = [_mp.mpf(x) for x in X[:, j]]
        mean = _mp.fsum(col) / len(col)
        sd = _mp.sqrt(_mp.fsum((x - mean) ** 2 for x in col) / len(col))
        out[:, j] = [float((x - mean) / sd) for x in col]
    return out


def spectral_radius(kw: dict[str, Any]) -> float:
    r"""$\max_i |\lambda_i(M)|$ of the symmetric matrix $M$."""
    eigenvalues, _ = _mp.eigsy(_m(kw["M"]))
    return float(max(abs(e) for e in eigenvalues))


def kink_location(kw: dict[str, Any]) -> np.ndarray:
    r"""$-b / w$, elementwise (NaN where $w = 0$)."""
    w, b = np.asarray(kw["w"]), np.asarray(kw["b"])
    return np.array(
        [
            float(-_mp.mpf(bi) / _mp.mpf(wi)) if wi != 0 else float("nan")
            for wi, bi in zip(w.ravel(), b.ravel(), strict=True)
        ]
    ).reshape(w.shape)
