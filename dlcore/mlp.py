r"""The multilayer perceptron: parameters, forward pass, hand-written backward pass.

A network with layer sizes $(d_0, d_1, \dots, d_L)$ has weights $W^\ell \in \mathbb{R}^{d_{\ell-1}\times d_\ell}$
and biases $b^\ell \in \mathbb{R}^{d_\ell}$, stored as `params["W1"]`, `params["b1"]`, ... It computes
the pre-activations
$$z^1 = XW^1 + b^1, \qquad z^{\ell+1} = \phi(z^\ell)\,W^{\ell+1} + b^{\ell+1},$$
and returns $z^L$ (the last layer is linear). Rows of $X$ are examples.

The backward pass ([`backward`][dlcore.mlp.backward]) is written by hand, layer by layer; torch
autograd and finite differences are only its test oracles. The per-example gradients of a scalar
network are its local features ([`param_jacobian`][dlcore.mlp.param_jacobian]).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dlcore import init as _init
from dlcore.backend import (
    Arr,
    Array,
    Choice,
    Int,
    Real,
    _finite_result,
    _shape,
    asarray,
    check_bool,
    check_callable,
    check_compatible,
    check_finite,
    check_generator,
    contract,
    namespace,
)

__all__ = [
    "ACTIVATIONS",
    "init_mlp",
    "preactivations",
    "forward",
    "backward",
    "value_and_grad",
    "flatten_params",
    "unflatten_params",
    "param_jacobian",
    "activation_patterns",
    "dropout",
    "forward_with",
]

ACTIVATIONS: tuple[str, ...] = ("relu", "identity", "tanh", "sigmoid")
"""Names accepted by `activation=`."""


@contract(
    rng=check_generator,
    weights=Choice(*sorted(n for n in _init.__all__ if n.endswith(("_normal", "_uniform")))),
    like=Arr(finite=False, joint=False),
)
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
        Int(1)(f"sizes[{i}]", s)
    params: dict[str, Array] = {}
    for ell in range(1, len(sizes)):
        params[f"W{ell}"] = getattr(_init, weights)(sizes[ell - 1], sizes[ell], rng=rng, like=like)
        params[f"b{ell}"] = asarray(np.zeros(sizes[ell]), like=like)
    return params


def _activation(name: str, z: Array) -> Array:
    xp = namespace(z)
    if name == "relu":
        return xp.clip(z, min=0.0)
    if name == "identity":
        return z
    if name == "tanh":
        return xp.tanh(z)
    # sigma(z) = 1/(1 + e^{-z}) = e^{z}/(1 + e^{z}): evaluate with e^{-|z|} <= 1, so nothing
    # overflows and small values keep their relative accuracy.
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


class _Tree(Arr):
    r"""The kind of an MLP's parameters: keys exactly `W1, b1, ..., WL, bL` ($L \ge 1$) holding
    real floating arrays, $W^\ell$ of shape $(d_{\ell-1}, d_\ell)$ and $b^\ell$ of shape
    $(d_\ell,)$, finite with `finite` (else the forward pass checks what they reach). The sizes
    are the shape symbols `d, d1, ..., dL`: in a contract, $d_0$ is the `d` of `X`. Errors name
    the argument (`params`, or `like`) and the key."""

    def __init__(self, *, finite: bool = False) -> None:
        super().__init__(finite=finite, joint=False)  # its arrays join X in the forward pass
        one_library = "is not a dict of real floating arrays of one library"
        self.refuses = (one_library, "has a non-finite entry or the wrong keys")

    def __call__(self, name: str, params: Any, dims: dict[str, Any] | None = None) -> Any:
        if not isinstance(params, dict):
            raise TypeError(f"{name} must be a dict of arrays, got {type(params).__name__}")
        depth = sum(1 for k in params if isinstance(k, str) and k.startswith("W"))
        if depth == 0:
            raise ValueError(f"{name} must hold at least one layer 'W1', got keys {list(params)!r}")
        if set(params) != set(_keys(depth)):
            raise ValueError(
                f"{name} must have keys {sorted(_keys(depth))}, got {sorted(params, key=str)}"
            )
        dims = {} if dims is None else dims
        sizes = ["d", *(f"d{ell}" for ell in range(1, depth + 1))]
        for ell in range(1, depth + 1):
            W = Arr(f"{sizes[ell - 1]} {sizes[ell]}", finite=self.finite, empty=True)
            W(f"{name}['W{ell}']", params[f"W{ell}"], dims)
            b = Arr(sizes[ell], finite=self.finite, empty=True)
            b(f"{name}['b{ell}']", params[f"b{ell}"], dims)
        return params


_NET = {"params": _Tree(), "X": Arr("n d", finite=False)}
_FINITE = _Tree(finite=True)
_ACT = Choice(*ACTIVATIONS)


def _keys(depth: int) -> list[str]:
    return [f"{p}{ell}" for ell in range(1, depth + 1) for p in "Wb"]


@contract(_NET, activation=_ACT)
def preactivations(params: dict[str, Array], X: Array, *, activation: str = "relu") -> list[Array]:
    r"""All pre-activations $[z^1, \dots, z^L]$ of the network on the batch $X$.

    Args:
        params: Parameters as returned by [`init_mlp`][dlcore.mlp.init_mlp].
        X: Inputs, shape `(n, d_0)`.
        activation: One of [`ACTIVATIONS`][dlcore.mlp.ACTIVATIONS].

    Returns:
        A list of $L$ arrays, $z^\ell$ of shape `(n, d_ell)`; the last is the output.

    Raises:
        TypeError: If `X` and `params` differ in library, device or dtype.
        ValueError: On an unknown activation, missing parameters or mismatched layer shapes.
            Also if `X` is not finite.
    """
    return _forward(params, X, activation)[0]


def _forward(
    params: dict[str, Array], X: Array, phi: str | Callable[[Array], Array]
) -> tuple[list[Array], list[Array]]:
    r"""The layer loop: $z^\ell = h^{\ell-1} W^\ell + b^\ell$, $h^\ell = \phi(z^\ell)$, $h^0 = X$,
    with $\phi$ a name of [`ACTIVATIONS`][dlcore.mlp.ACTIVATIONS] or an elementwise function.
    Returns the pre-activations $[z^1, \dots, z^L]$ and the layer inputs $[h^0, \dots, h^{L-1}]$.

    The finiteness of `X` and `params` is checked through the pre-activations, one pass over
    each $z^\ell$ instead of one over every input as well: in IEEE arithmetic a NaN or an
    infinity in $X$, $W^\ell$ or $b^\ell$ makes every product and sum it enters non-finite
    ($0 \cdot \infty$ is NaN, so a dead unit does not hide one), so it shows in $z^\ell$ at the
    first layer it enters. Only then are the inputs looked at, to name the one at fault.
    """
    act = functools.partial(_activation, phi) if isinstance(phi, str) else phi
    check_compatible({"X": X, **{f"params[{k!r}]": params[k] for k in sorted(params)}})
    depth = len(params) // 2
    zs: list[Array] = []
    hs: list[Array] = [X]
    for ell in range(1, depth + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below, by name
            z = hs[-1] @ params[f"W{ell}"]  # a fresh array: add the bias in place
            z += params[f"b{ell}"]
        try:
            check_finite(f"the pre-activation of layer {ell}", z)
        except ValueError as err:
            check_finite("X", X)  # a non-finite input is named
            _FINITE("params", params)
            raise ValueError(f"{err} (from finite X and params: an overflow)") from None
        zs.append(z)
        if ell < depth:  # the last layer is linear
            hs.append(act(z))
            if tuple(hs[-1].shape) != tuple(z.shape):
                raise TypeError(
                    f"phi must act elementwise, got shape {tuple(hs[-1].shape)} from {tuple(z.shape)}"
                )
    return zs, hs


@contract(_NET, activation=_ACT)
def forward(params: dict[str, Array], X: Array, *, activation: str = "relu") -> Array:
    r"""The network's output $z^L$ on the batch $X$ (see [`preactivations`][dlcore.mlp.preactivations]).

    Raises:
        TypeError: If `X` and `params` differ in library, device or dtype.
        ValueError: If `X` is not finite.
    """
    return _forward(params, X, activation)[0][-1]


@contract(_NET, phi=check_callable)
def forward_with(params: dict[str, Array], X: Array, phi: Callable[[Array], Array]) -> Array:
    r"""The network's output $z^L$ with a user-supplied elementwise activation $\phi$.

    Computes $z^1 = XW^1 + b^1$, $z^{\ell+1} = \phi(z^\ell)\,W^{\ell+1} + b^{\ell+1}$ and returns $z^L$,
    as [`forward`][dlcore.mlp.forward] does for the named [`ACTIVATIONS`][dlcore.mlp.ACTIVATIONS].
    It is a forward pass only (no backward pass): for activations outside the course's four, such
    as a polynomial $\phi(z) = \sum_i c_i z^i$, whose networks are polynomials in $x$.

    Args:
        params: Parameters as returned by [`init_mlp`][dlcore.mlp.init_mlp].
        X: Inputs, shape `(n, d_0)`.
        phi: Elementwise activation, array in, array of the same shape out.

    Returns:
        $z^L$, shape `(n, d_L)`.

    Raises:
        TypeError: If `phi` returns an array of another shape, or `X` and `params` differ in
            library, device or dtype.
        ValueError: On missing parameters or mismatched layer shapes. Also if `X` is not finite.
    """
    return _forward(params, X, phi)[0][-1]


def _derivative(name: str, z: Array, h: Array) -> Array:
    """$\\phi'(z)$, given $h = \\phi(z)$; ReLU uses the convention $\\mathrm{ReLU}'(0) = 0$."""
    if name == "relu":
        return namespace(z).astype(z > 0, z.dtype)
    if name == "identity":
        return namespace(z).ones_like(z)
    if name == "tanh":
        return 1 - h * h
    return h * (1 - h)


def _deltas(
    params: dict[str, Array], zs: list[Array], hs: list[Array], G: Array, name: str
) -> list[Array]:
    r"""Backpropagated errors $\delta^\ell = \partial \langle G, z^L\rangle / \partial z^\ell$,
    $\ell = 1..L$, from the forward pass (`zs`, and the layer inputs `hs`)."""
    deltas = [G]
    for ell in range(len(zs), 1, -1):
        delta = deltas[0] @ params[f"W{ell}"].T  # fresh: scale in place
        delta *= _derivative(name, zs[ell - 2], hs[ell - 1])
        deltas.insert(0, delta)
    return deltas


def _gradient(
    params: dict[str, Array], zs: list[Array], hs: list[Array], G: Array, name: str
) -> dict[str, Array]:
    """The gradient of $\\langle G, z^L\\rangle$: $(h^{\\ell-1})^\\top \\delta^\\ell$ and
    $\\mathbf 1^\\top \\delta^\\ell$, layer by layer."""
    xp = namespace(G)
    grads: dict[str, Array] = {}
    for ell, (h, delta) in enumerate(zip(hs, _deltas(params, zs, hs, G, name), strict=True), 1):
        grads[f"W{ell}"] = h.T @ delta
        grads[f"b{ell}"] = xp.sum(delta, axis=0)
    return grads


@contract(_NET, grad_output=Arr("n o"), activation=_ACT)
@_finite_result
def backward(
    params: dict[str, Array], X: Array, grad_output: Array, *, activation: str = "relu"
) -> dict[str, Array]:
    r"""Reverse-mode gradient (backpropagation) of $\langle G, z^L(X)\rangle$ in the parameters.

    With $h^0 = X$, $h^\ell = \phi(z^\ell)$ and $\delta^L = G$ (`grad_output`), the recursion
    $$\delta^{\ell} = \big(\delta^{\ell+1} (W^{\ell+1})^\top\big) \odot \phi'(z^{\ell}), \qquad
    \frac{\partial}{\partial W^\ell} = (h^{\ell-1})^\top \delta^\ell, \qquad
    \frac{\partial}{\partial b^\ell} = \mathbf 1^\top \delta^\ell$$
    reuses the stored forward pass, so it costs a constant multiple of one forward pass. ReLU
    uses $\mathrm{ReLU}'(0) = 0$, as torch does.

    Args:
        params: Parameters as returned by [`init_mlp`][dlcore.mlp.init_mlp].
        X: Inputs, shape `(n, d_0)`.
        grad_output: $G = \partial \ell / \partial z^L$, shape `(n, d_L)`, same namespace and dtype.
        activation: One of [`ACTIVATIONS`][dlcore.mlp.ACTIVATIONS].

    Returns:
        `{"W1": ..., "b1": ..., ...}`, the gradient of $\sum_{a,k} G_{ak} z^L_{ak}$, shaped like `params`.

    Raises:
        ValueError: On bad parameters or a `grad_output` whose shape is not that of the
            output. Also if `X` is not finite.
    """
    zs, hs = _forward(params, X, activation)
    if tuple(grad_output.shape) != tuple(zs[-1].shape):
        raise ValueError(
            f"grad_output must have the output's shape {tuple(zs[-1].shape)}, "
            f"got {tuple(grad_output.shape)}"
        )
    return _gradient(params, zs, hs, grad_output, activation)


@contract(_NET, y=Arr("n", "n o"), activation=_ACT)
@_finite_result
def value_and_grad(
    params: dict[str, Array], X: Array, y: Array, *, activation: str = "relu"
) -> tuple[Array, dict[str, Array]]:
    r"""The squared loss $L(\theta) = \|f_\theta(X) - y\|^2$ and its gradient, by backpropagation.

    The lecture's convention (no $\tfrac12$, no $\tfrac1n$): $\partial L/\partial z^L = 2(z^L - y)$,
    fed to [`backward`][dlcore.mlp.backward].

    Args:
        params: Parameters as returned by [`init_mlp`][dlcore.mlp.init_mlp].
        X: Inputs, shape `(n, d_0)`.
        y: Targets, shape `(n, d_L)`, or `(n,)` when $d_L = 1$.
        activation: One of [`ACTIVATIONS`][dlcore.mlp.ACTIVATIONS].

    Returns:
        `(L, grads)`: the loss as a 0-d array and the gradient, shaped like `params`.

    Raises:
        ValueError: If `X` is not finite.
    """
    zs, hs = _forward(params, X, activation)
    xp = namespace(X)
    out = zs[-1]
    if y.ndim == 1 and int(out.shape[1]) == 1 and int(y.shape[0]) == int(out.shape[0]):
        y = xp.reshape(y, (-1, 1))
    if tuple(y.shape) != tuple(out.shape):
        raise ValueError(f"y must have the output's shape {tuple(out.shape)}, got {tuple(y.shape)}")
    r = out - y
    return xp.sum(r * r), _gradient(params, zs, hs, 2 * r, activation)


@contract(params=_FINITE)
def flatten_params(params: dict[str, Array]) -> Array:
    r"""The parameter vector $\theta = (\mathrm{vec}\,W^1, b^1, \dots, \mathrm{vec}\,W^L, b^L)$.

    Each $W^\ell$ is flattened row by row (row-major), so entry $(i, j)$ of $W^\ell$ comes before
    $(i, j+1)$. This order indexes the columns of [`param_jacobian`][dlcore.mlp.param_jacobian].

    Args:
        params: Parameters as returned by [`init_mlp`][dlcore.mlp.init_mlp].

    Returns:
        A 1-D array of length $P = \sum_\ell (d_{\ell-1} d_\ell + d_\ell)$.
    """
    keys = _keys(len(params) // 2)
    xp = check_compatible({f"params[{k!r}]": params[k] for k in keys})
    return xp.concat([xp.reshape(params[k], (-1,)) for k in keys])


@contract(theta=Arr("p"), like=_FINITE)
def unflatten_params(theta: Array, like: dict[str, Array]) -> dict[str, Array]:
    r"""Inverse of [`flatten_params`][dlcore.mlp.flatten_params]: shape `theta` like `like`.

    Args:
        theta: 1-D parameter vector of length $P$.
        like: Parameters whose keys and shapes to use.

    Returns:
        `{"W1": ..., "b1": ..., ...}` with the shapes of `like`.
    """
    xp = namespace(theta)
    shapes = {k: _shape(like[k]) for k in _keys(len(like) // 2)}
    total = sum(math.prod(shape) for shape in shapes.values())
    if int(theta.shape[0]) != total:
        raise ValueError(
            f"theta must have shape ({total},) to match like, got {tuple(theta.shape)}"
        )
    out: dict[str, Array] = {}
    start = 0
    for k, shape in shapes.items():
        out[k] = xp.reshape(theta[start : start + math.prod(shape)], shape)
        start += math.prod(shape)
    return out


@contract(_NET, activation=_ACT)
@_finite_result
def param_jacobian(params: dict[str, Array], X: Array, *, activation: str = "relu") -> Array:
    r"""The local features $\Phi_{aj} = \partial f_\theta(x_a) / \partial \theta_j$ of a scalar net.

    Row $a$ is the gradient of the output on example $a$, the Jacobian row that reverse mode
    computes. Examples do not interact, so one backward pass with $G = \mathbf 1$ gives every
    example's $\delta^\ell_a$, and
    $$\frac{\partial f(x_a)}{\partial W^\ell_{ij}} = h^{\ell-1}_{ai}\, \delta^\ell_{aj}, \qquad
    \frac{\partial f(x_a)}{\partial b^\ell_j} = \delta^\ell_{aj}.$$
    Columns follow [`flatten_params`][dlcore.mlp.flatten_params]. The linearized network is
    $f_{\theta+\Delta}(X) \approx f_\theta(X) + \Phi \Delta$.

    Args:
        params: Parameters of a network with $d_L = 1$.
        X: Inputs, shape `(n, d_0)`.
        activation: One of [`ACTIVATIONS`][dlcore.mlp.ACTIVATIONS].

    Returns:
        $\Phi$, shape `(n, P)`.

    Raises:
        TypeError: If `X` and `params` differ in library, device or dtype.
        ValueError: If the network's output is not scalar ($d_L \ne 1$), or `X` is not finite.
    """
    zs, hs = _forward(params, X, activation)
    if int(zs[-1].shape[1]) != 1:
        raise ValueError(
            f"param_jacobian needs a scalar output (d_L = 1), got d_L = {int(zs[-1].shape[1])}"
        )
    xp = namespace(X)
    n = int(X.shape[0])
    blocks: list[Array] = []
    for h, delta in zip(hs, _deltas(params, zs, hs, xp.ones_like(zs[-1]), activation), strict=True):
        blocks += [xp.reshape(h[:, :, None] * delta[:, None, :], (n, -1)), delta]
    return xp.concat(blocks, axis=1)


@contract(_NET)
def activation_patterns(params: dict[str, Array], X: Array) -> list[Array]:
    r"""The ReLU activation patterns $\mathbb 1[z^\ell > 0]$ of the hidden layers $1, \dots, L-1$.

    Where the pattern is fixed, the network is affine in $x$ and each layer multilinear in the
    weights. A unit whose column is all `False` on a data set is dead there; all `True`, it is
    effectively linear.

    Args:
        params: Parameters as returned by [`init_mlp`][dlcore.mlp.init_mlp].
        X: Inputs, shape `(n, d_0)`.

    Returns:
        $L - 1$ boolean arrays, the $\ell$-th of shape `(n, d_ell)`.

    Raises:
        TypeError: If `X` and `params` differ in library, device or dtype.
        ValueError: If `X` is not finite.
    """
    return [z > 0 for z in _forward(params, X, "relu")[0][:-1]]


@contract(h=Arr(), p=Real(0.0, 1.0, high_open=True), rng=check_generator, train=check_bool)
@_finite_result
def dropout(h: Array, p: float, *, rng: np.random.Generator, train: bool = True) -> Array:
    r"""Inverted dropout: keep each entry with probability $1 - p$ and scale it by $1/(1 - p)$.

    $$\mathrm{dropout}(h)_i = \frac{m_i}{1 - p}\, h_i, \qquad m_i \sim \mathrm{Bernoulli}(1 - p),$$
    so $\mathbb E\,\mathrm{dropout}(h) = h$ and the scale set by the initialisation is kept in
    expectation; with `train=False` (inference) it is the identity. The mask is drawn on the CPU
    with `rng` and moved to the namespace and device of `h`, as in `torch.nn.functional.dropout`.

    Args:
        h: Activations, any shape, real floating.
        p: Drop probability $p \in [0, 1)$.
        rng: Source of randomness for the mask.
        train: Apply the mask (training) or return `h` unchanged (inference).

    Returns:
        The dropped-out activations, shaped like `h`.
    """
    if not train:
        return h
    keep = rng.random(_shape(h)) >= p
    return h * asarray(keep / (1.0 - p), like=h)
