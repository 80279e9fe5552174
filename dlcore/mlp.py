r"""The multilayer perceptron: parameters and forward pass.

A network with layer sizes $(d_0, d_1, \dots, d_L)$ has weights $W^\ell \in \mathbb{R}^{d_{\ell-1}\times d_\ell}$
and biases $b^\ell \in \mathbb{R}^{d_\ell}$, stored as `params["W1"]`, `params["b1"]`, ... It computes
the pre-activations
$$z^1 = XW^1 + b^1, \qquad z^{\ell+1} = \phi(z^\ell)\,W^{\ell+1} + b^{\ell+1},$$
and returns $z^L$ (the last layer is linear). Rows of $X$ are examples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dlcore import init as _init
from dlcore.backend import (
    Array,
    asarray,
    check_array,
    check_compatible,
    check_generator,
    check_int,
    check_matrix,
)

__all__ = ["ACTIVATIONS", "init_mlp", "preactivations", "forward"]

ACTIVATIONS: tuple[str, ...] = ("relu", "identity", "tanh", "sigmoid")
"""Names accepted by `activation=`."""

_INITS: dict[str, Callable[..., Array]] = {
    "he_normal": _init.he_normal,
    "he_uniform": _init.he_uniform,
    "lecun_normal": _init.lecun_normal,
    "lecun_uniform": _init.lecun_uniform,
    "glorot_normal": _init.glorot_normal,
    "glorot_uniform": _init.glorot_uniform,
}


def init_mlp(
    sizes: list[int] | tuple[int, ...],
    *,
    rng: np.random.Generator,
    weights: str = "he_normal",
    like: Array | None = None,
) -> dict[str, Array]:
    r"""Initialise an MLP with the given layer sizes and zero biases.

    Args:
        sizes: $(d_0, \dots, d_L)$ with $L \ge 1$ and every $d_\ell \ge 1$.
        rng: Source of randomness (weights are drawn on the CPU, layer by layer).
        weights: Name of a [`dlcore.init`][dlcore.init] initialiser, e.g. `"he_normal"`.
        like: Optional reference array; parameters take its namespace, dtype and device.

    Returns:
        `{"W1": (d_0, d_1), "b1": (d_1,), ..., "WL": (d_{L-1}, d_L), "bL": (d_L,)}`.
    """
    if not isinstance(sizes, (list, tuple)):
        raise TypeError(
            f"sizes must be a list or tuple of ints, got {type(sizes).__name__}: {sizes!r}"
        )
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least two entries (depth >= 1), got {sizes!r}")
    for i, s in enumerate(sizes):
        check_int(f"sizes[{i}]", s, minimum=1)
    if not isinstance(weights, str) or weights not in _INITS:
        raise ValueError(f"weights must be one of {sorted(_INITS)}, got {weights!r}")
    check_generator("rng", rng)
    params: dict[str, Array] = {}
    for ell in range(1, len(sizes)):
        params[f"W{ell}"] = _INITS[weights](sizes[ell - 1], sizes[ell], rng=rng, like=like)
        params[f"b{ell}"] = asarray(np.zeros(sizes[ell]), like=like)
    return params


def _activation(xp: Any, name: str, z: Array) -> Array:
    if name == "relu":
        return xp.maximum(z, xp.zeros_like(z))
    if name == "identity":
        return z
    if name == "tanh":
        return xp.tanh(z)
    return 1 / (1 + xp.exp(-z))


def _check_params(params: dict[str, Array]) -> int:
    """Require keys exactly `W1, b1, ..., WL, bL` (L >= 1) holding arrays; return the depth L."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    depth = sum(1 for k in params if isinstance(k, str) and k.startswith("W"))
    if depth == 0:
        raise ValueError(f"params must hold at least one layer 'W1', got keys {list(params)!r}")
    expected = {f"{p}{ell}" for ell in range(1, depth + 1) for p in "Wb"}
    if set(params) != expected:
        raise ValueError(f"params must have keys {sorted(expected)}, got {sorted(params, key=str)}")
    for k, v in params.items():
        check_array(f"params[{k!r}]", v)
    return depth


def preactivations(params: dict[str, Array], X: Array, *, activation: str = "relu") -> list[Array]:
    r"""All pre-activations $[z^1, \dots, z^L]$ of the network on the batch $X$.

    Args:
        params: Parameters as returned by [`init_mlp`][dlcore.mlp.init_mlp].
        X: Inputs, shape `(n, d_0)`.
        activation: One of [`ACTIVATIONS`][dlcore.mlp.ACTIVATIONS].

    Returns:
        A list of $L$ arrays, $z^\ell$ of shape `(n, d_ell)`; the last is the output.

    Raises:
        ValueError: On an unknown activation, missing parameters or mismatched layer shapes.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    check_matrix("X", X)
    depth = _check_params(params)
    xp = check_compatible({"X": X, **{f"params[{k!r}]": params[k] for k in sorted(params)}})
    zs: list[Array] = []
    h = X
    for ell in range(1, depth + 1):
        W, b = params[f"W{ell}"], params[f"b{ell}"]
        if (
            W.ndim != 2
            or int(W.shape[0]) != int(h.shape[1])
            or tuple(b.shape) != (int(W.shape[1]),)
        ):
            fan_in = int(h.shape[1])
            raise ValueError(
                f"params['W{ell}'] and params['b{ell}'] must have shapes ({fan_in}, d) and (d,) "
                f"(layer {ell} has {fan_in} inputs), got {tuple(W.shape)} and {tuple(b.shape)}"
            )
        z = h @ W + b
        zs.append(z)
        h = _activation(xp, activation, z)
    return zs


def forward(params: dict[str, Array], X: Array, *, activation: str = "relu") -> Array:
    r"""The network's output $z^L$ on the batch $X$ (see [`preactivations`][dlcore.mlp.preactivations])."""
    return preactivations(params, X, activation=activation)[-1]
