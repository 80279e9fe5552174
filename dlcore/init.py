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

A random 1-D unit $x \mapsto \mathrm{ReLU}(wx + b)$ puts its kink at $-b/w$
([`kink_location`][dlcore.init.kink_location]); with Gaussian $w, b$ that point is Cauchy, and
[`kink_mass`][dlcore.init.kink_mass] is its mass in an interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from dlcore.backend import (
    Arr,
    Array,
    Choice,
    Int,
    Real,
    _refuse_overflow,
    asarray,
    check_generator,
    contract,
    namespace,
)

__all__ = [
    "variance",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "glorot_normal",
    "glorot_uniform",
    "kink_location",
    "kink_mass",
]

_DRAW = {
    "d_in": Int(1, size=True),
    "d_out": Int(1, size=True),
    "rng": check_generator,
    "like": Arr(finite=False, joint=False),
}


@contract(scheme=Choice("he", "lecun", "glorot"), d_in=Int(1), d_out=Int(1))
def variance(scheme: str, d_in: int, d_out: int) -> float:
    r"""The weight variance of an initialisation scheme.

    Args:
        scheme: `"he"` ($2/\text{fan}_{in}$), `"lecun"` ($1/\text{fan}_{in}$) or `"glorot"`
            ($2/(\text{fan}_{in}+\text{fan}_{out})$).
        d_in: Fan-in, the number of inputs of each unit ($\ge 1$).
        d_out: Fan-out, the number of units ($\ge 1$).

    Returns:
        $\operatorname{Var} w$.
    """
    return {"he": 2.0 / d_in, "lecun": 1.0 / d_in, "glorot": 2.0 / (d_in + d_out)}[scheme]


_SCHEMES = {
    "he": ("He (Kaiming)", "2/d_{in}"),
    "lecun": ('LeCun (the lecture\'s "Xavier")', "1/d_{in}"),
    "glorot": ("Glorot (Xavier)", "2/(d_{in}+d_{out})"),
}
r"""Each scheme's name in the docs and its variance $\operatorname{Var} w$, as `variance` gives it."""


def _initializer(scheme: str, law: str) -> Callable[..., Array]:
    """The public initialiser `{scheme}_{law}`: one body, with its own name, docstring (the
    template below, filled in) and contract; `mlp.init_mlp(weights=name)` looks it up by name."""

    def draw(
        d_in: int, d_out: int, *, rng: np.random.Generator, like: Array | None = None
    ) -> Array:
        r"""{title} {law} weights: entrywise $w \sim {dist}$ with $\sigma^2 = {var}$.

        Args:
            d_in: Fan-in, the number of rows ($\ge 1$).
            d_out: Fan-out, the number of columns ($\ge 1$).
            rng: Source of randomness (the weights are drawn on the CPU).
            like: Optional reference array; the weights take its namespace, dtype and device.

        Returns:
            The weights, shape `(d_in, d_out)`, with variance $\sigma^2 = {var}$.
        """
        var = variance(scheme, d_in, d_out)
        if law == "normal":
            w = rng.normal(0.0, math.sqrt(var), size=(d_in, d_out))
        else:
            a = math.sqrt(3.0 * var)
            w = rng.uniform(-a, a, size=(d_in, d_out))
        return w if like is None else asarray(w, like=like)

    title, var = _SCHEMES[scheme]
    dist = r"\mathcal N(0, \sigma^2)" if law == "normal" else r"\mathcal U(\pm\sqrt{3\sigma^2})"
    draw.__name__ = draw.__qualname__ = f"{scheme}_{law}"
    draw.__doc__ = (draw.__doc__ or "").format(title=title, law=law, dist=dist, var=var)
    return contract(_DRAW)(draw)


he_normal, he_uniform, lecun_normal, lecun_uniform, glorot_normal, glorot_uniform = (
    _initializer(scheme, law) for scheme in _SCHEMES for law in ("normal", "uniform")
)


@contract(w=Arr(), b=Arr())
def kink_location(w: Array, b: Array) -> Array:
    r"""The kink (elbow) $c = -b/w$ of each 1-D unit $x \mapsto \mathrm{ReLU}(wx + b)$.

    With $w, b$ i.i.d. $\mathcal N(0, 1)$ the kink is standard Cauchy; with
    $w \sim \mathcal N(0, \sigma_w^2)$ and $b \sim \mathcal N(0, \sigma_b^2)$ it is Cauchy with scale
    $\sigma_b/\sigma_w$. A unit with $w = 0$ is the constant $\max(0, b)$ and has no kink: its
    entry is NaN.

    Args:
        w: Input weights, any shape, real floating.
        b: Biases, the shape of `w`, same namespace and dtype.

    Returns:
        $-b/w$ elementwise (NaN where $w = 0$).

    Raises:
        ValueError: If `w` and `b` differ in shape (any common shape is fine, the empty one
            included), or a location $-b/w$ overflows the dtype (a finite but tiny $w$).
    """
    xp = namespace(w)
    if tuple(w.shape) != tuple(b.shape):
        raise ValueError(
            f"w and b must have the same shape, got {tuple(w.shape)} and {tuple(b.shape)}"
        )
    zero = w == 0
    with np.errstate(over="ignore"):  # |b / w| beyond the dtype's range: refused below
        x = -b / xp.where(zero, xp.ones_like(w), w)
    return xp.where(
        zero, xp.full_like(w, math.nan), _refuse_overflow(x, "kink_location", "w and b are finite")
    )


@contract(a=Real(0), scale=Real(0, low_open=True))
def kink_mass(a: float, scale: float = 1.0) -> float:
    r"""$P(|C| \le a)$ for a Cauchy kink $C$ with scale $s$: $\tfrac{2}{\pi}\arctan(a/s)$.

    The standard Cauchy ($s = 1$, kinks of $w, b \sim \mathcal N(0,1)$) puts
    $\tfrac{2}{\pi}\arctan 10 = 0.93655\ldots$ of its mass in $[-10, 10]$ and
    $\tfrac{2}{\pi}\arctan 3 = 0.79517\ldots$ in $[-3, 3]$.

    Args:
        a: Half-width $a \ge 0$ of the interval.
        scale: Cauchy scale $s = \sigma_b/\sigma_w > 0$.

    Returns:
        The probability, in $[0, 1)$.
    """
    return 2.0 / math.pi * math.atan(a / scale)
