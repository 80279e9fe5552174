r"""Losses and their gradients, in the lecture's convention.

The least-squares loss has no $\tfrac12$ and no $\tfrac1n$:
$$L(w) = \|Xw - y\|^2, \qquad \nabla L(w) = 2X^\top (Xw - y), \qquad \nabla^2 L = 2X^\top X .$$
A minibatch $B$ of size $b$ gives the unbiased estimate
$\hat g_B = \tfrac{n}{b} \sum_{i\in B} \nabla \ell_i(w)$ with $\ell_i(w) = (x_i^\top w - y_i)^2$,
so that $\mathbb{E}\,\hat g_B = \nabla L$ and $B = \{1,\dots,n\}$ gives the full gradient.

Classification surrogates are functions of a real score $s$ and a label: $y \in \{-1, +1\}$ for the
margin losses (logistic, hinge; margin $m = ys$), a class index for the softmax cross-entropy. They
act elementwise (row-wise for cross-entropy) and return per-example values; their `_grad`
companions return $\partial\ell/\partial s$. The empirical risk of Lecture 2 averages them,
$\hat R(w) = \tfrac1n \sum_i \ell(y_i, x_i^\top w) + \lambda\|w\|^2$
([`empirical_risk`][dlcore.losses.empirical_risk]).
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from dlcore.backend import (
    _WXY,
    Arr,
    Array,
    Choice,
    Real,
    _finite_result,
    _refuse_overflow,
    contract,
    device_of,
    namespace,
    to_numpy,
)

__all__ = [
    "squared_loss",
    "squared_loss_grad",
    "minibatch_grad",
    "MARGIN_LOSSES",
    "zero_one_loss",
    "logistic_loss",
    "logistic_loss_grad",
    "hinge_loss",
    "hinge_loss_grad",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "cross_entropy_grad",
    "per_example_losses",
    "per_example_grads",
    "empirical_risk",
    "empirical_risk_grad",
]

MARGIN_LOSSES = ("squared", "logistic", "hinge")
r"""Per-example losses of a linear score $s_i = x_i^\top w$ that `per_example_losses` knows."""


def _indices(name: str, seq: Any, high: int, *, length: tuple[str, int] | None = None) -> list[int]:
    """`seq` as a list of ints in [0, `high`), else raise naming `name`: a non-empty 1-D array or
    sequence, of `length` = (what, how many) entries when given."""
    host = to_numpy(seq) if array_api_compat.is_array_api_obj(seq) else seq
    if not isinstance(host, (list, tuple, range, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of ints, got {type(seq).__name__}: {seq!r:.80}")
    if getattr(host, "ndim", 1) != 1:
        raise ValueError(f"{name} must be 1-D, got shape {np.shape(host)}")
    if length is not None and len(host) != length[1]:
        raise ValueError(f"{name} must have {length[0]}={length[1]} entries, got {len(host)}")
    if len(host) == 0:
        raise ValueError(f"{name} must not be empty, got {seq!r:.80}")
    for i in host:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"{name} must hold ints, got {type(i).__name__}: {i!r}")
    bad = [int(i) for i in host if not 0 <= int(i) < high]
    if bad:
        raise ValueError(f"{name} must lie in [0, {high}), got {bad[:5]}")
    return [int(i) for i in host]


def _zero_d(total: Any) -> Array:
    """A reduction's result as a 0-d array: NumPy's is a scalar (`np.float64`); the others are
    0-d arrays already (kept as they are: a torch tensor keeps its autograd graph)."""
    return np.asarray(total) if isinstance(total, np.generic) else total


@contract(_WXY)
@_finite_result
def squared_loss(w: Array, X: Array, y: Array) -> Array:
    r"""The least-squares loss $L(w) = \|Xw - y\|^2$ (a 0-d array).

    Args:
        w: Weights, shape `(d,)` (or `(d, m)` for $m$ targets).
        X: Data, shape `(n, d)`.
        y: Targets, shape `(n,)` (or `(n, m)`).

    Raises:
        ValueError: If `w`, `X` and `y` are finite but the loss overflows the dtype.
    """
    xp = namespace(X)
    r = X @ w - y
    return _zero_d(xp.sum(r * r))


@contract(_WXY)
@_finite_result
def squared_loss_grad(w: Array, X: Array, y: Array) -> Array:
    r"""The gradient $\nabla L(w) = 2X^\top(Xw - y)$ of [`squared_loss`][dlcore.losses.squared_loss].

    Raises:
        ValueError: If `w`, `X` and `y` are finite but the gradient overflows the dtype.
    """
    return 2 * (X.T @ (X @ w - y))


@contract(_WXY)
@_finite_result
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
        TypeError: If `batch` holds a non-int.
        ValueError: If the batch is empty or an index is out of range. Also if `batch` is
            empty, out of range or of the wrong length. Also if `w`, `X` and `y` are finite
            but the gradient overflows the dtype.
    """
    xp = namespace(X)
    n = int(X.shape[0])
    idx = _indices("batch", batch, n)
    ind = xp.asarray(idx, device=device_of(X))
    XB = xp.take(X, ind, axis=0)
    yB = xp.take(y, ind, axis=0)
    return (n / len(idx)) * 2 * (XB.T @ (XB @ w - yB))


# ---- classification surrogates ------------------------------------------------------------


_SY = {"s": Arr("n", "n m"), "y": Arr("n", "n m")}


def _labels_pm1(y: Array) -> Any:
    """The namespace of the labels `y`, once every entry is -1 or +1, else a ValueError."""
    xp = namespace(y)
    bad = (y != 1) & (y != -1)
    if bool(xp.any(bad)):
        first = float(to_numpy(y)[np.asarray(to_numpy(bad))][0])
        raise ValueError(f"y must hold labels in {{-1, +1}}, got {first!r}")
    return xp


@contract(_SY)
def zero_one_loss(s: Array, y: Array) -> Array:
    r"""The 0-1 loss $\mathbb{1}[ys \le 0]$, elementwise: a score of 0 counts as an error.

    It is piecewise constant in $s$, so its derivative is 0 wherever it exists; it is the loss to
    report, not one to train on.

    Args:
        s: Real scores, shape `(n,)` (or `(n, m)`).
        y: Labels in $\{-1, +1\}$, the shape and dtype of `s`.

    Returns:
        $\mathbb{1}[y_i s_i \le 0]$ (0 or 1) in the dtype of `s`, elementwise.
    """
    xp = _labels_pm1(y)
    return xp.astype(y * s <= 0, s.dtype)


@contract(_SY)
def logistic_loss(s: Array, y: Array) -> Array:
    r"""The logistic loss $\ell(y, s) = \log(1 + e^{-ys})$, elementwise, in a stable form.

    Computed as $\operatorname{softplus}(-m)$ with $m = ys$, so it neither overflows nor
    underflows for $|m|$ up to the dtype's range.

    Args:
        s: Real scores, shape `(n,)` (or `(n, m)`).
        y: Labels in $\{-1, +1\}$, the shape and dtype of `s`.

    Raises:
        ValueError: If a label is not $\pm 1$ or the shapes differ.
    """
    xp = _labels_pm1(y)
    u = -(y * s)  # softplus(u) = log(1 + e^u) without overflow: max(u, 0) + log(1 + e^{-|u|})
    return xp.maximum(u, xp.zeros_like(u)) + xp.log1p(xp.exp(-xp.abs(u)))


@contract(_SY)
def logistic_loss_grad(s: Array, y: Array) -> Array:
    r"""$\partial\ell/\partial s = -y\,\sigma(-ys)$ of [`logistic_loss`][dlcore.losses.logistic_loss].

    $\sigma(u) = 1/(1 + e^{-u})$ is evaluated as $e^{\min(u,0)}/(1 + e^{-|u|})$, which is stable.
    """
    xp = _labels_pm1(y)
    u = -(y * s)
    sig = xp.exp(xp.minimum(u, xp.zeros_like(u))) / (1 + xp.exp(-xp.abs(u)))
    return -y * sig


@contract(_SY)
def hinge_loss(s: Array, y: Array) -> Array:
    r"""The hinge loss $\ell(y, s) = \max(0, 1 - ys)$, elementwise.

    Args:
        s: Real scores, shape `(n,)` (or `(n, m)`).
        y: Labels in $\{-1, +1\}$, the shape and dtype of `s`.

    Returns:
        $\max(0, 1 - y_i s_i) \ge 0$, elementwise.
    """
    xp = _labels_pm1(y)
    u = 1 - y * s
    return xp.maximum(u, xp.zeros_like(u))


@contract(_SY)
def hinge_loss_grad(s: Array, y: Array) -> Array:
    r"""A subgradient of [`hinge_loss`][dlcore.losses.hinge_loss]: $-y\,\mathbb{1}[ys < 1]$.

    The hinge is not differentiable at the kink $m = ys = 1$: its one-sided derivatives in $s$
    there are $-y$ and $0$, and its subdifferential is the segment between them. dlcore returns
    **0 at the kink** (the right-hand choice in $m$, as torch's $\operatorname{relu}'(0) = 0$ gives
    for $\operatorname{relu}(1 - m)$).
    """
    xp = _labels_pm1(y)
    return xp.where(y * s < 1, -y, xp.zeros_like(y))


@contract(z=Arr("k", "n k"))
def log_softmax(z: Array) -> Array:
    r"""$\log\operatorname{softmax}(z)_k = z_k - \log\sum_j e^{z_j}$ along the last axis, stably.

    The maximum is subtracted first ($\log\sum_j e^{z_j} = M + \log\sum_j e^{z_j - M}$), so large
    logits do not overflow and every entry is accurate to a few ulps of $|z_k| + |M|$. An entry
    whose log-probability lies below the dtype's range (finite logits more than its largest
    value apart) is $-\infty$, the rounded value of a probability that underflows to 0.

    Args:
        z: Logits, shape `(K,)` or `(n, K)`.
    """
    xp = namespace(z)
    M = xp.max(z, axis=-1, keepdims=True)
    with np.errstate(over="ignore"):  # z - M may round to -inf: a log-probability below range
        return z - (M + xp.log(xp.sum(xp.exp(z - M), axis=-1, keepdims=True)))


@contract(z=Arr("k", "n k"))
def softmax(z: Array) -> Array:
    r"""$\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}$ along the last axis (max subtracted).

    Args:
        z: Logits, shape `(K,)` or `(n, K)`.
    """
    xp = namespace(z)
    e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def _one_hot(z: Array, labels: Any) -> Array:
    """The rows $e_{y_i}$ of the `labels`, once checked, with the shape, dtype and device of `z`."""
    n, K = int(z.shape[0]), int(z.shape[1])
    host = np.zeros((n, K))
    host[np.arange(n), _indices("labels", labels, K, length=("z.shape[0]", n))] = 1.0
    return namespace(z).asarray(host, dtype=z.dtype, device=device_of(z))


@contract(z=Arr("n k"))
@_finite_result
def cross_entropy(z: Array, labels: Any) -> Array:
    r"""Softmax cross-entropy per example, $\ell_i = -z_{i,y_i} + \log\sum_k e^{z_{i,k}}$.

    Args:
        z: Logits, shape `(n, K)`.
        labels: Class indices $y_i \in \{0, \dots, K-1\}$, length $n$.

    The label's entry of [`log_softmax`][dlcore.losses.log_softmax] is selected, not multiplied by
    a one-hot mask: another class's log-probability may be $-\infty$ for finite logits of large
    spread, and $0\cdot(-\infty)$ would be NaN.

    Returns:
        Shape `(n,)`, each $\ge 0$.

    Raises:
        TypeError: If `labels` holds a non-int.
        ValueError: If a class index is out of range. Also if `labels` is empty, out of
            range or of the wrong length. Also if the logits `z` are finite but a loss
            overflows the dtype (logits too far apart).
    """
    xp = namespace(z)
    picked = xp.where(_one_hot(z, labels) == 1, log_softmax(z), xp.zeros_like(z))
    return 0.0 - xp.sum(picked, axis=-1)  # 0 - x, not -x: a zero loss is +0.0


@contract(z=Arr("n k"))
def cross_entropy_grad(z: Array, labels: Any) -> Array:
    r"""$\nabla_z \ell_i = \operatorname{softmax}(z_i) - e_{y_i}$, shape `(n, K)`.

    Raises:
        TypeError: If `labels` holds a non-int.
        ValueError: If `labels` is empty, out of range or of the wrong length.
    """
    return softmax(z) - _one_hot(z, labels)


# ---- empirical risk of a linear score -----------------------------------------------------


_SINGLE = {
    "w": Arr("d"),
    "X": Arr("n d"),
    "y": Arr("n"),
    "loss": Choice(*MARGIN_LOSSES),
}


_MARGIN = {
    "squared": (lambda s, y: (s - y) * (s - y), lambda s, y: 2 * (s - y)),
    "logistic": (logistic_loss, logistic_loss_grad),
    "hinge": (hinge_loss, hinge_loss_grad),
}
r"""Each of `MARGIN_LOSSES` as a function $\ell(y, s)$ of the score, and its $\partial\ell/\partial s$."""


@contract(_SINGLE)
@_finite_result
def per_example_losses(w: Array, X: Array, y: Array, *, loss: str = "squared") -> Array:
    r"""$\ell_i(w) = \ell(y_i, x_i^\top w)$ for every row, shape `(n,)`.

    Args:
        w: Weights, shape `(d,)`.
        X: Data, shape `(n, d)`.
        y: Targets, shape `(n,)`; in $\{-1, +1\}$ for `"logistic"` and `"hinge"`.
        loss: `"squared"` ($(x_i^\top w - y_i)^2$), `"logistic"` or `"hinge"`.

    Raises:
        ValueError: If `w`, `X` and `y` are finite but a score or a loss overflows the
            dtype.
    """
    s = _refuse_overflow(X @ w, "the scores Xw", "w and X are finite")
    return _MARGIN[loss][0](s, y)


@contract(_SINGLE)
@_finite_result
def per_example_grads(w: Array, X: Array, y: Array, *, loss: str = "squared") -> Array:
    r"""$\nabla\ell_i(w) = \ell'(y_i, x_i^\top w)\, x_i$ for every row, shape `(n, d)`.

    For the squared loss $\nabla\ell_i = 2x_i(x_i^\top w - y_i)$; for the hinge it is the
    subgradient of [`hinge_loss_grad`][dlcore.losses.hinge_loss_grad] (0 at the kink).

    Args:
        w: Weights, shape `(d,)`.
        X: Data, shape `(n, d)`.
        y: Targets, shape `(n,)`.
        loss: One of [`MARGIN_LOSSES`][dlcore.losses.MARGIN_LOSSES].

    Raises:
        ValueError: If `w`, `X` and `y` are finite but a score or a gradient overflows the
            dtype.
    """
    s = _refuse_overflow(X @ w, "the scores Xw", "w and X are finite")
    return _MARGIN[loss][1](s, y)[:, None] * X


@contract(_SINGLE, lam=Real(0))
@_finite_result
def empirical_risk(
    w: Array, X: Array, y: Array, *, loss: str = "squared", lam: float = 0.0
) -> Array:
    r"""ERM's objective $\hat R(w) + \lambda\|w\|^2 = \tfrac1n \sum_i \ell_i(w) + \lambda\|w\|^2$ (0-d).

    The regularizer is added once, outside the average.

    Raises:
        ValueError: If `w`, `X`, `y` and `lam` are finite but the risk overflows the dtype.
    """
    losses = per_example_losses.__wrapped__(w, X, y, loss=loss)  # type: ignore[attr-defined]
    xp = namespace(w)
    return _zero_d(xp.mean(losses) + lam * xp.sum(w * w))


@contract(_SINGLE, lam=Real(0))
@_finite_result
def empirical_risk_grad(
    w: Array, X: Array, y: Array, *, loss: str = "squared", lam: float = 0.0
) -> Array:
    r"""$\nabla(\hat R + \lambda\|\cdot\|^2)(w) = \tfrac1n\sum_i \nabla\ell_i(w) + 2\lambda w$.

    Raises:
        ValueError: If `w`, `X`, `y` and `lam` are finite but the gradient overflows the
            dtype.
    """
    grads = per_example_grads.__wrapped__(w, X, y, loss=loss)  # type: ignore[attr-defined]
    xp = namespace(w)
    return xp.mean(grads, axis=0) + 2 * lam * w
