r"""Losses and their gradients, in the lecture's convention.

The least-squares loss has no $\tfrac12$ and no $\tfrac1n$:
$$L(w) = \|Xw - y\|^2, \qquad \nabla L(w) = 2X^\top (Xw - y), \qquad \nabla^2 L = 2X^\top X .$$
A minibatch $B$ of size $b$ gives the unbiased estimate
$\hat g_B = \tfrac{n}{b} \sum_{i\in B} \nabla \ell_i(w)$ with $\ell_i(w) = (x_i^\top w - y_i)^2$,
so that $\mathbb{E}\,\hat g_B = \nabla L$ and $B = \{1,\dots,n\}$ gives the full gradient.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from dlcore.backend import (
    Array,
    check_compatible,
    check_matrix,
    check_rows_match,
    check_vector_or_matrix,
    device_of,
    to_numpy,
)

__all__ = ["squared_loss", "squared_loss_grad", "minibatch_grad"]


def _check(w: Array, X: Array, y: Array) -> Any:
    check_vector_or_matrix("w", w)
    check_matrix("X", X)
    check_vector_or_matrix("y", y)
    check_rows_match("X", X, "y", y)
    if int(w.shape[0]) != int(X.shape[1]):
        raise ValueError(
            f"w must have X.shape[1]={int(X.shape[1])} rows, got w.shape={tuple(w.shape)}"
        )
    if w.ndim != y.ndim or (w.ndim == 2 and int(w.shape[1]) != int(y.shape[1])):
        raise ValueError(
            f"w and y must have the same number of targets, got w.shape={tuple(w.shape)} "
            f"and y.shape={tuple(y.shape)}"
        )
    return check_compatible({"w": w, "X": X, "y": y})


def _check_batch(batch: Any, n: int) -> list[int]:
    """Return `batch` as a non-empty list of ints in [0, n), else raise naming `batch`."""
    host: Any
    if array_api_compat.is_array_api_obj(batch):
        host = to_numpy(batch)
        if host.ndim != 1:
            raise ValueError(f"batch must be 1-D, got shape {host.shape}")
    elif isinstance(batch, (list, tuple, range)):
        host = batch
    else:
        raise TypeError(
            f"batch must be a sequence of ints, got {type(batch).__name__}: {batch!r:.80}"
        )
    if len(host) == 0:
        raise ValueError(f"batch must not be empty, got {batch!r:.80}")
    for i in host:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"batch must hold ints, got {type(i).__name__}: {i!r}")
    bad = [int(i) for i in host if not 0 <= int(i) < n]
    if bad:
        raise ValueError(f"batch indices must lie in [0, {n}), got {bad[:5]}")
    return [int(i) for i in host]


def squared_loss(w: Array, X: Array, y: Array) -> Array:
    r"""The least-squares loss $L(w) = \|Xw - y\|^2$ (a 0-d array).

    Args:
        w: Weights, shape `(d,)` (or `(d, m)` for $m$ targets).
        X: Data, shape `(n, d)`.
        y: Targets, shape `(n,)` (or `(n, m)`).
    """
    xp = _check(w, X, y)
    r = X @ w - y
    return xp.asarray(xp.sum(r * r))  # NumPy's sum gives a scalar; keep a 0-d array


def squared_loss_grad(w: Array, X: Array, y: Array) -> Array:
    r"""The gradient $\nabla L(w) = 2X^\top(Xw - y)$ of [`squared_loss`][dlcore.losses.squared_loss]."""
    _check(w, X, y)
    return 2 * (X.T @ (X @ w - y))


def minibatch_grad(w: Array, X: Array, y: Array, batch: Any) -> Array:
    r"""The unbiased minibatch gradient $\hat g_B = \tfrac{n}{b}\, 2X_B^\top (X_B w - y_B)$.

    Args:
        w: Weights, shape `(d,)`.
        X: Data, shape `(n, d)`.
        y: Targets, shape `(n,)`.
        batch: Row indices $B$ (a sequence of ints, repeats allowed), $1 \le b = |B|$.

    Returns:
        $\hat g_B$, shape `(d,)`; with $B = \{0, \dots, n-1\}$ it equals the full gradient.

    Raises:
        ValueError: If the batch is empty or an index is out of range.
    """
    xp = _check(w, X, y)
    n = int(X.shape[0])
    idx = _check_batch(batch, n)
    ind = xp.asarray(idx, device=device_of(X))
    XB = xp.take(X, ind, axis=0)
    yB = xp.take(y, ind, axis=0)
    return (n / len(idx)) * 2 * (XB.T @ (XB @ w - yB))
