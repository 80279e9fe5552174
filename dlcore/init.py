r"""Weight initialisers under their real names.

Weights have layout `(d_in, d_out)` (the layer computes $Y = XW + b$), so the fan-in of a unit is
`d_in`, the number of rows. torch stores the transpose `(d_out, d_in)`.

| scheme | $\operatorname{Var} w$ | name in torch |
|---|---|---|
| He (Kaiming) | $2/\text{fan}_{in}$ | `kaiming_normal_(mode="fan_in", nonlinearity="relu")` |
| LeCun | $1/\text{fan}_{in}$ | — (the lecture calls it "Xavier") |
| Glorot (Xavier) | $2/(\text{fan}_{in} + \text{fan}_{out})$ | `xavier_normal_` |

Each `*_normal` draws $w \sim \mathcal N(0, \operatorname{Var} w)$; each `*_uniform` draws
$w \sim \mathcal U(-a, a)$ with $a = \sqrt{3 \operatorname{Var} w}$, the same variance.
Randomness comes from an explicit `numpy.random.Generator` on the CPU, so one seed gives the same
weights on every backend; pass `like=` to move the result to another array's namespace, dtype and
device.
"""

from __future__ import annotations

import math

import numpy as np

from dlcore.backend import Array, asarray, check_array, check_generator, check_int, namespace

__all__ = [
    "variance",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "glorot_normal",
    "glorot_uniform",
]

_SCHEMES = ("he", "lecun", "glorot")


def variance(scheme: str, d_in: int, d_out: int) -> float:
    r"""The weight variance of an initialisation scheme.

    Args:
        scheme: `"he"` ($2/\text{fan}_{in}$), `"lecun"` ($1/\text{fan}_{in}$) or `"glorot"`
            ($2/(\text{fan}_{in}+\text{fan}_{out})$).
        d_in: Fan-in, the number of inputs of each unit ($\ge 1$).
        d_out: Fan-out, the number of units ($\ge 1$).

    Returns:
        $\operatorname{Var} w$.

    Raises:
        TypeError: If `d_in` is not an int; `d_out` is not an int.
        ValueError: If `scheme` is not one of 'he', 'lecun', 'glorot'; `d_in` is below 1; `d_out`
            is below 1.
    """
    d_in = check_int("d_in", d_in, minimum=1)
    d_out = check_int("d_out", d_out, minimum=1)
    if scheme == "he":
        return 2.0 / d_in
    if scheme == "lecun":
        return 1.0 / d_in
    if scheme == "glorot":
        return 2.0 / (d_in + d_out)
    raise ValueError(f"scheme must be one of {_SCHEMES}, got {scheme!r}")


def _check_like(like: Array | None) -> None:
    if like is None:
        return
    check_array("like", like)
    if not namespace(like).isdtype(like.dtype, "real floating"):
        raise TypeError(f"like must have a real floating dtype, got {like.dtype}")


def _draw(
    scheme: str, law: str, d_in: int, d_out: int, rng: np.random.Generator, like: Array | None
) -> Array:
    check_generator("rng", rng)
    _check_like(like)
    var = variance(scheme, d_in, d_out)
    if law == "normal":
        w = rng.normal(0.0, math.sqrt(var), size=(d_in, d_out))
    else:
        a = math.sqrt(3.0 * var)
        w = rng.uniform(-a, a, size=(d_in, d_out))
    return w if like is None else asarray(w, like=like)


def he_normal(
    d_in: int, d_out: int, *, rng: np.random.Generator, like: Array | None = None
) -> Array:
    r"""He (Kaiming) normal weights, $w_{ij} \sim \mathcal N(0, 2/d_{in})$, shape `(d_in, d_out)`.

    Raises:
        TypeError: If `like` is not a real floating array; `d_in` is not an int; `d_out` is not an
            int; `rng` is not a `numpy.random.Generator`.
        ValueError: If `d_in` is below 1; `d_out` is below 1.
    """
    return _draw("he", "normal", d_in, d_out, rng, like)


def he_uniform(
    d_in: int, d_out: int, *, rng: np.random.Generator, like: Array | None = None
) -> Array:
    r"""He uniform weights, $w_{ij} \sim \mathcal U(\pm\sqrt{6/d_{in}})$, variance $2/d_{in}$.

    Raises:
        TypeError: If `like` is not a real floating array; `d_in` is not an int; `d_out` is not an
            int; `rng` is not a `numpy.random.Generator`.
        ValueError: If `d_in` is below 1; `d_out` is below 1.
    """
    return _draw("he", "uniform", d_in, d_out, rng, like)


def lecun_normal(
    d_in: int, d_out: int, *, rng: np.random.Generator, like: Array | None = None
) -> Array:
    r"""LeCun normal weights, $w_{ij} \sim \mathcal N(0, 1/d_{in})$ (the lecture's "Xavier").

    Raises:
        TypeError: If `like` is not a real floating array; `d_in` is not an int; `d_out` is not an
            int; `rng` is not a `numpy.random.Generator`.
        ValueError: If `d_in` is below 1; `d_out` is below 1.
    """
    return _draw("lecun", "normal", d_in, d_out, rng, like)


def lecun_uniform(
    d_in: int, d_out: int, *, rng: np.random.Generator, like: Array | None = None
) -> Array:
    r"""LeCun uniform weights, $w_{ij} \sim \mathcal U(\pm\sqrt{3/d_{in}})$, variance $1/d_{in}$.

    Raises:
        TypeError: If `like` is not a real floating array; `d_in` is not an int; `d_out` is not an
            int; `rng` is not a `numpy.random.Generator`.
        ValueError: If `d_in` is below 1; `d_out` is below 1.
    """
    return _draw("lecun", "uniform", d_in, d_out, rng, like)


def glorot_normal(
    d_in: int, d_out: int, *, rng: np.random.Generator, like: Array | None = None
) -> Array:
    r"""Glorot (Xavier) normal weights, $w_{ij} \sim \mathcal N(0, 2/(d_{in}+d_{out}))$.

    Raises:
        TypeError: If `like` is not a real floating array; `d_in` is not an int; `d_out` is not an
            int; `rng` is not a `numpy.random.Generator`.
        ValueError: If `d_in` is below 1; `d_out` is below 1.
    """
    return _draw("glorot", "normal", d_in, d_out, rng, like)


def glorot_uniform(
    d_in: int, d_out: int, *, rng: np.random.Generator, like: Array | None = None
) -> Array:
    r"""Glorot uniform weights, $w_{ij} \sim \mathcal U(\pm\sqrt{6/(d_{in}+d_{out})})$.

    Raises:
        TypeError: If `like` is not a real floating array; `d_in` is not an int; `d_out` is not an
            int; `rng` is not a `numpy.random.Generator`.
        ValueError: If `d_in` is below 1; `d_out` is below 1.
    """
    return _draw("glorot", "uniform", d_in, d_out, rng, like)
