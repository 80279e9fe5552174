r"""Optimizers as pure `init` / `update` pairs, composed from small transforms as in optax.

```python
opt = ema_momentum(lr=0.1, beta=0.5)  # chain(ema(0.5), scale(-0.1))
state = opt.init(params)
updates, state = opt.update(grads, state, params)
params = apply_updates(params, updates)
```

Parameters, gradients and updates are `dict[str, Array]`; states are immutable NamedTuples and
nothing is mutated in place. A transform maps the incoming updates (at first the gradients) to
new ones; [`chain`][dlcore.optim.chain] runs transforms one after the other, and every
optimizer here is a chain:

| optimizer | chain |
|---|---|
| [`sgd`][dlcore.optim.sgd] (= [`gd`][dlcore.optim.gd]) | `scale(-lr)` |
| [`ema_momentum`][dlcore.optim.ema_momentum], [`ema_nesterov`][dlcore.optim.ema_nesterov] | `ema(beta[, nesterov=True])`, `scale(-lr)` |
| [`sgd_momentum`][dlcore.optim.sgd_momentum] | `trace(momentum, ...)`, `scale(-lr)` |
| [`rmsprop`][dlcore.optim.rmsprop] | `scale_by_rms(alpha, eps)`, `scale(-lr)` |
| [`adam`][dlcore.optim.adam] | `scale_by_adam(b1, b2, eps)`, `scale(-lr)` |
| [`adamw`][dlcore.optim.adamw] | `scale_by_adam(b1, b2, eps)`, `add_decayed_weights(weight_decay)`, `scale(-lr)` |

GD and SGD share one update rule and differ only in the gradient they are fed. Each transform's
body is its update equation, one array at a time; it is the reference.

**Two parametrizations of momentum**, one name each, here and in [`dlcore.dynamics`][dlcore.dynamics]:
`ema_` names the lecture's EMA form, $a_{t+1} = (1-\beta)a_t + \beta g_t$,
$w_{t+1} = w_t - \eta\, a_{t+1}$ with $\beta \in (0, 1]$; `sgd_` names PyTorch's buffer form,
$v_{t+1} = \mu v_t + g_t$, $w_{t+1} = w_t - \alpha\, v_{t+1}$ with $\mu \in [0, 1)$. They give
identical iterates when $\alpha = \eta\beta$ and $\mu = 1 - \beta$
([`ema_to_torch`][dlcore.optim.ema_to_torch]).

**A step.** [`step`][dlcore.optim.step]`(opt, grads, state, params)` is `update` followed by
`apply_updates`, returning `(new_params, new_state)`; [`dlcore.train`][dlcore.train] runs it.
The state counts the steps taken in its field `count`. On torch tensors `step` runs the
*fused step* (`dlcore._fused`) for every chain of the form
`[add_decayed_weights] [ema | trace | scale_by_adam] [add_decayed_weights] scale [add_decayed_weights]`
(heavy-ball `trace` and plain `ema` only): the updates are never written out, the arithmetic
uses fused operations (`add` with `alpha`, `lerp`, `addcmul`, `addcdiv`), and on CUDA one
multi-tensor (`torch._foreach_*`) launch covers all tensors. Its results may differ from the
reference in the last bits, within the bound derived in `tests/api/test_optim_fast_path.py`.
`step(..., fused=False)` runs the reference instead; that argument is the one switch.
`step(..., donate=True)` hands the memory of `params` and `state` to the fused step, which then
updates them in place, as `torch.optim` does (and as JAX's `donate_argnums` lets XLA do): on
the CPU a pure step must write its results to fresh memory, and that costs 1.2-2x (see the
benchmarks page).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from dlcore import _fused
from dlcore.backend import (
    _DECAY,
    _POSITIVE,
    _WEIGHT,
    Array,
    Real,
    check_array,
    check_bool,
    check_compatible,
    check_finite,
    contract,
    namespace,
)

__all__ = [
    "Params",
    "GradientTransformation",
    "EmptyState",
    "MomentumState",
    "AdamState",
    "RMSPropState",
    "chain",
    "scale",
    "add_decayed_weights",
    "ema",
    "trace",
    "scale_by_adam",
    "scale_by_rms",
    "sgd",
    "gd",
    "ema_momentum",
    "ema_nesterov",
    "sgd_momentum",
    "rmsprop",
    "adam",
    "adamw",
    "coupled_weight_decay",
    "decoupled_weight_decay",
    "ema_to_torch",
    "apply_updates",
    "step",
]

Params = dict[str, Array]
"""Parameters, gradients and updates: a dict from names to arrays."""

_Trees = dict[str, Any]
"""Trees by name (`params`, `grads`, `state.m`, ...), as the checks take them and name them."""


class EmptyState(NamedTuple):
    """State of a stateless transform."""


class MomentumState(NamedTuple):
    """One buffer per parameter ([`ema`][dlcore.optim.ema]'s $a$, [`trace`][dlcore.optim.trace]'s
    $v$) and the number of steps taken (`count`)."""

    buffer: Params
    count: int  # type: ignore[assignment]  # a field, as in optax; it shadows tuple.count


class AdamState(NamedTuple):
    """Adam's first and second moment averages and the number of steps taken (`count`)."""

    m: Params
    v: Params
    count: int  # type: ignore[assignment]  # a field, as in optax; it shadows tuple.count


class RMSPropState(NamedTuple):
    """RMSProp's average of squared gradients and the number of steps taken (`count`)."""

    v: Params
    count: int  # type: ignore[assignment]  # a field, as in optax; it shadows tuple.count


class _Op(NamedTuple):
    """One transform: its name and hyperparameters (what the fused step reads), the type of its
    state, and its reference body `body(updates, state, params) -> (updates, state)`."""

    kind: str
    hyper: tuple[Any, ...]
    state: type
    body: Callable[[Params, Any, Params], tuple[Params, Any]]


class GradientTransformation(NamedTuple):
    """A pure optimizer: `init(params) -> state`, `update(grads, state, params) -> (updates, state)`.

    Attributes:
        init: `init(params)`, the state before the first step.
        update: `update(grads, state, params)`, the updates $u_t$ and the next state.
        ops: The transforms it chains, in order (empty for one made by hand); `chain` joins
            them and `step` fuses them.
    """

    init: Callable[[Params], Any]
    update: Callable[[Params, Any, Params], tuple[Params, Any]]
    ops: tuple[_Op, ...] = ()


# ---- composition -------------------------------------------------------------------------------


def _compose(ops: tuple[_Op, ...]) -> GradientTransformation:
    """The transformation that runs `ops` in order. Its state is that of its stateful
    transforms: `EmptyState()` if none is, the one's own state if one is (so `adam`'s state is
    an `AdamState`), else a tuple of their states."""

    def init(params: Params) -> Any:
        _check_trees({"params": params}, finite=True)
        return _join(ops, [_zero_state(op.state, params) for op in ops])

    def update(grads: Params, state: Any, params: Params) -> tuple[Params, Any]:
        states = _check_state(state, ops)
        inputs = {"params": params, "grads": grads, **_state_trees(state)}
        _check_trees(inputs, finite=True)
        new = []
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
            for op, s in zip(ops, states, strict=True):
                grads, s = op.body(grads, s, params)
                new.append(s)
        new_state = _join(ops, new)
        _check_result("the update", {"updates": grads, **_state_trees(new_state)}, inputs)
        return grads, new_state

    return GradientTransformation(init, update, ops)


def _transform(kind: str, hyper: tuple[Any, ...], state: type, body: Callable[..., Any]) -> Any:
    return _compose((_Op(kind, hyper, state, body),))


def _zero_state(kind: type, params: Params) -> Any:
    if kind is EmptyState:
        return EmptyState()
    fields = kind._fields[:-1]  # type: ignore[attr-defined]  # the trees; the last field is the count
    return kind(*({k: namespace(p).zeros_like(p) for k, p in params.items()} for _ in fields), 0)


def _join(ops: tuple[_Op, ...], states: list[Any]) -> Any:
    kept = [s for op, s in zip(ops, states, strict=True) if op.state is not EmptyState]
    return EmptyState() if not kept else kept[0] if len(kept) == 1 else tuple(kept)


def _check_opt(name: str, opt: Any) -> GradientTransformation:
    """The kind of an optimizer argument: a `GradientTransformation`."""
    if not isinstance(opt, GradientTransformation):
        raise TypeError(
            f"{name} must be a GradientTransformation, got {type(opt).__name__}: {opt!r:.80}"
        )
    return opt


_check_opt.refuses = ("is not a `GradientTransformation`", "")  # type: ignore[attr-defined]  # see backend.contract


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    r"""The transforms applied one after the other: $u = T_k(\cdots T_1(g))$.

    Each transform sees the updates of the one before it and the parameters; the state is
    that of the stateful transforms (see [`GradientTransformation`][dlcore.optim.GradientTransformation]).

    Raises:
        TypeError: If `transforms` holds something other than a transformation made here.
        ValueError: If `transforms` is empty.
    """
    if not transforms:
        raise ValueError("transforms must not be empty, got chain()")
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation) or not t.ops:
            raise TypeError(
                f"transforms[{i}] must be a GradientTransformation from dlcore.optim, "
                f"got {type(t).__name__}: {t!r:.80}"
            )
    return _compose(tuple(op for t in transforms for op in t.ops))


# ---- transforms ----------------------------------------------------------------------------------


@contract(factor=Real())
def scale(factor: float) -> GradientTransformation:
    r"""Multiply the updates by a constant: $u \mapsto c\,u$ (`scale(-lr)` ends every optimizer)."""
    c = factor
    return _transform("scale", (c,), EmptyState, lambda u, s, p: ({k: c * u[k] for k in u}, s))


@contract(weight_decay=Real())
def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    r"""Add the decayed weights: $u \mapsto u + \lambda_{wd}\, w$.

    Before a normalising transform it is L2 regularisation (the gradient of
    $\tfrac{\lambda_{wd}}{2}\|w\|^2$ joins the gradient); after it, decoupled weight decay.
    """

    def body(u: Params, state: EmptyState, params: Params) -> tuple[Params, EmptyState]:
        return {k: u[k] + weight_decay * params[k] for k in u}, state

    return _transform("add_decayed_weights", (weight_decay,), EmptyState, body)


@contract(beta=_WEIGHT, nesterov=check_bool)
def ema(beta: float, *, nesterov: bool = False) -> GradientTransformation:
    r"""The exponential moving average of the updates (the lecture's momentum buffer).

    $$a_{t+1} = (1-\beta)\,a_t + \beta\, g_t, \qquad a_0 = 0,$$

    returning $a_{t+1}$ (no step size, no sign), or with `nesterov` the direction of the
    look-ahead form, $(2-\beta)\,a_{t+1} - (1-\beta)\,a_t$ (see
    [`ema_nesterov`][dlcore.optim.ema_nesterov]).

    Args:
        beta: Weight on the new input, $\beta \in (0, 1]$; $\beta = 1$ passes the input through.
        nesterov: Return the look-ahead direction.
    """

    def body(g: Params, state: MomentumState, params: Params) -> tuple[Params, MomentumState]:
        a = state.buffer
        new = {k: (1 - beta) * a[k] + beta * g[k] for k in g}
        out = {k: (2 - beta) * new[k] - (1 - beta) * a[k] for k in g} if nesterov else dict(new)
        return out, MomentumState(new, state.count + 1)

    return _transform("ema", (beta, nesterov), MomentumState, body)


@contract(momentum=_DECAY, dampening=_DECAY, nesterov=check_bool)
def trace(
    momentum: float, *, dampening: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    r"""PyTorch's momentum buffer (`torch.optim.SGD`), without the step size.

    $$v_{t+1} = \mu v_t + (1-\tau)\, g_t \ (\text{but } v_1 = g_0), \qquad
    u_t = \begin{cases} v_{t+1} & \text{heavy ball} \\ g_t + \mu v_{t+1} & \text{Nesterov} \end{cases}$$

    Args:
        momentum: $\mu \in [0, 1)$.
        dampening: $\tau \in [0, 1)$; PyTorch applies it from the second step on, and not at all
            when $\mu = 0$ (then the buffer is the gradient, as in PyTorch).
        nesterov: Use Nesterov's look-ahead form (needs $\mu > 0$ and $\tau = 0$).
    """
    mu, tau = momentum, dampening
    if nesterov and (mu == 0 or tau != 0):
        raise ValueError(
            f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum!r}, "
            f"dampening={dampening!r}"
        )
    tau = tau if mu else 0.0  # torch.optim.SGD keeps no buffer at momentum 0

    def body(g: Params, state: MomentumState, params: Params) -> tuple[Params, MomentumState]:
        if state.count == 0:
            v = {k: g[k] * 1 for k in g}  # a copy: the buffer is ours, never the caller's
        else:
            v = {k: mu * state.buffer[k] + (1 - tau) * g[k] for k in g}
        out = {k: g[k] + mu * v[k] for k in g} if nesterov else dict(v)
        return out, MomentumState(v, state.count + 1)

    return _transform("trace", (mu, tau, nesterov), MomentumState, body)


@contract(b1=_DECAY, b2=_DECAY, eps=_POSITIVE)
def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    r"""Adam's normalised direction, coordinate by coordinate:

    $$m_t = b_1 m_{t-1} + (1-b_1) g_t, \quad v_t = b_2 v_{t-1} + (1-b_2) g_t^2, \quad
    u_t = \frac{m_t/(1-b_1^t)}{\sqrt{v_t/(1-b_2^t)} + \epsilon} .$$

    Args:
        b1: First-moment decay $b_1 \in [0, 1)$.
        b2: Second-moment decay $b_2 \in [0, 1)$.
        eps: $\epsilon > 0$, added to $\sqrt{\hat v}$; where it is below the smallest normal
            number of the parameters' dtype (1e-8 in float16) that number is used instead, so
            that a zero gradient gives a zero update, not NaN.
    """

    def body(g: Params, state: AdamState, params: Params) -> tuple[Params, AdamState]:
        t = state.count + 1
        m = {k: b1 * state.m[k] + (1 - b1) * g[k] for k in g}
        v = {k: b2 * state.v[k] + (1 - b2) * g[k] * g[k] for k in g}
        out = {
            k: (m[k] / (1 - b1**t))
            / (namespace(g[k]).sqrt(v[k] / (1 - b2**t)) + max(eps, _tiny(g[k])))
            for k in g
        }
        return out, AdamState(m, v, t)

    return _transform("scale_by_adam", (b1, b2, eps), AdamState, body)


@contract(alpha=_DECAY, eps=_POSITIVE)
def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8) -> GradientTransformation:
    r"""RMSProp's normalised direction: $v_t = \alpha v_{t-1} + (1-\alpha) g_t^2$,
    $u_t = g_t / (\sqrt{v_t} + \epsilon)$, coordinate by coordinate, $v_0 = 0$.

    Args:
        alpha: Decay $\alpha \in [0, 1)$.
        eps: $\epsilon > 0$ (raised to the smallest normal number of the dtype where it is
            below it, as in [`scale_by_adam`][dlcore.optim.scale_by_adam]).
    """

    def body(g: Params, state: RMSPropState, params: Params) -> tuple[Params, RMSPropState]:
        v = {k: alpha * state.v[k] + (1 - alpha) * g[k] * g[k] for k in g}
        out = {k: g[k] / (namespace(g[k]).sqrt(v[k]) + max(eps, _tiny(g[k]))) for k in g}
        return out, RMSPropState(v, state.count + 1)

    return _transform("scale_by_rms", (alpha, eps), RMSPropState, body)


_TINY: dict[tuple[type, Any], float] = {}


def _tiny(x: Array) -> float:
    r"""The smallest normal number of the dtype of `x` (0 if it is not real floating), cached by
    library and dtype. Where that number is below a float's range (NumPy's `longdouble`), the
    smallest positive float stands in for it: still a positive floor, and still at least it.

    Adam's and RMSProp's $\epsilon$ is raised to it where it is below it (1e-8 in float16, where
    it would round to 0 or to a subnormal): then a zero gradient gives $0/\epsilon = 0$, not 0/0,
    and a second moment that underflows to 0 does not divide a small first moment by a subnormal
    (which overflows half precision)."""
    key = (type(x), x.dtype)
    if key not in _TINY:
        xp = namespace(x)
        real = xp.isdtype(x.dtype, "real floating")
        _TINY[key] = (float(xp.finfo(x.dtype).smallest_normal) or 5e-324) if real else 0.0
    return _TINY[key]


# ---- optimizers ----------------------------------------------------------------------------------


@contract(lr=_POSITIVE)
def sgd(lr: float) -> GradientTransformation:
    r"""Gradient descent: $w_{t+1} = w_t - \eta\, g_t$.

    Fed the full gradient this is GD; fed a minibatch gradient it is SGD.

    Args:
        lr: Step size $\eta > 0$.
    """
    return scale(-lr)


gd = sgd
"""Alias of [`sgd`][dlcore.optim.sgd]: GD is SGD fed the full gradient."""


@contract(lr=_POSITIVE, beta=_WEIGHT)
def ema_momentum(lr: float, beta: float) -> GradientTransformation:
    r"""Momentum in the lecture's EMA form (GD on low-pass-filtered gradients).

    $$a_{t+1} = (1-\beta)\,a_t + \beta\, g_t, \qquad w_{t+1} = w_t - \eta\, a_{t+1}, \qquad a_0 = 0 .$$

    $\beta$ is the weight on the new gradient; $\beta = 1$ is plain GD. On a quadratic with
    Hessian eigenvalues $\lambda_i$ it is stable iff $0 < \eta\lambda_{\max} < 2(2-\beta)/\beta$.

    Args:
        lr: Step size $\eta > 0$.
        beta: EMA weight $\beta \in (0, 1]$.
    """
    return chain(ema(beta), sgd(lr))


@contract(lr=_POSITIVE, beta=_WEIGHT)
def ema_nesterov(lr: float, beta: float) -> GradientTransformation:
    r"""Nesterov momentum in the lecture's EMA form, run on the look-ahead point.

    The lecture evaluates the gradient where the momentum already commits the next step to go,
    $u_t = w_t - \eta(1-\beta)\,a_t$:
    $$a_{t+1} = (1-\beta)\,a_t + \beta\,\nabla L(u_t), \qquad w_{t+1} = w_t - \eta\, a_{t+1} .$$
    A gradient oracle evaluates at the parameters it is given, so the parameters this optimizer
    carries are the look-ahead points $u_t$ (with $u_0 = w_0$), which move by
    $$u_{t+1} = u_t - \eta\left((2-\beta)\,a_{t+1} - (1-\beta)\,a_t\right);$$
    the lecture's $w_t = u_t + \eta(1-\beta)\,a_t$. With $\alpha = \eta\beta$ and $\mu = 1-\beta$
    this is `torch.optim.SGD(nesterov=True)`, whose parameters are the same $u_t$.

    Args:
        lr: Step size $\eta > 0$.
        beta: EMA weight $\beta \in (0, 1]$; $\beta = 1$ is plain GD.
    """
    return chain(ema(beta, nesterov=True), sgd(lr))


@contract(lr=_POSITIVE, momentum=_DECAY, dampening=_DECAY, nesterov=check_bool)
def sgd_momentum(
    lr: float, momentum: float, *, dampening: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    r"""SGD with momentum in PyTorch's buffer form (`torch.optim.SGD`): [`trace`][dlcore.optim.trace]
    scaled by $-\alpha$.

    $$v_{t+1} = \mu v_t + (1-\tau)\, g_t \ (\text{but } v_1 = g_0), \qquad
    w_{t+1} = w_t - \alpha \begin{cases} v_{t+1} & \text{heavy ball} \\ g_t + \mu v_{t+1} & \text{Nesterov} \end{cases}$$

    On a quadratic with Hessian eigenvalues $\lambda_i$ heavy ball (with $\tau = 0$) is stable iff
    $0 < \alpha\lambda_{\max} < 2(1+\mu)$.

    Args:
        lr: Learning rate $\alpha > 0$.
        momentum: $\mu \in [0, 1)$.
        dampening: $\tau \in [0, 1)$ (see [`trace`][dlcore.optim.trace]).
        nesterov: Use Nesterov's look-ahead form (needs $\mu > 0$ and $\tau = 0$).
    """
    return chain(trace(momentum, dampening=dampening, nesterov=nesterov), sgd(lr))


@contract(lr=_POSITIVE, alpha=_DECAY, eps=_POSITIVE)
def rmsprop(lr: float, alpha: float = 0.99, eps: float = 1e-8) -> GradientTransformation:
    r"""RMSProp, as in `torch.optim.RMSprop` (no momentum, not centered).

    $$v_t = \alpha\, v_{t-1} + (1-\alpha)\, g_t^2, \qquad w_t = w_{t-1} - \eta\,\frac{g_t}{\sqrt{v_t} + \epsilon},$$

    coordinate by coordinate, $v_0 = 0$: Adam without the first moment and without bias
    correction. In the lecture's symbols $\alpha = 1 - \beta'$.

    Args:
        lr: Step size $\eta > 0$.
        alpha: Decay $\alpha \in [0, 1)$.
        eps: $\epsilon > 0$, added to $\sqrt{v}$.
    """
    return chain(scale_by_rms(alpha, eps), sgd(lr))


@contract(lr=_POSITIVE, b1=_DECAY, b2=_DECAY, eps=_POSITIVE)
def adam(
    lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    r"""Adam, as in `torch.optim.Adam`: [`scale_by_adam`][dlcore.optim.scale_by_adam] scaled by
    $-\eta$.

    $$m_{t} = b_1 m_{t-1} + (1-b_1) g_t, \quad v_t = b_2 v_{t-1} + (1-b_2) g_t^2, \quad
    w_{t} = w_{t-1} - \eta\, \frac{m_t/(1-b_1^t)}{\sqrt{v_t/(1-b_2^t)} + \epsilon}$$

    coordinate by coordinate. In the lecture's symbols $b_1 = 1-\beta$ and $b_2 = 1-\beta'$.

    Args:
        lr: Step size $\eta > 0$.
        b1: First-moment decay $b_1 \in [0, 1)$.
        b2: Second-moment decay $b_2 \in [0, 1)$.
        eps: $\epsilon > 0$, added to $\sqrt{\hat v}$ (see [`scale_by_adam`][dlcore.optim.scale_by_adam]).
    """
    return chain(scale_by_adam(b1, b2, eps), sgd(lr))


@contract(lr=_POSITIVE, b1=_DECAY, b2=_DECAY, eps=_POSITIVE, weight_decay=Real(0))
def adamw(
    lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.01
) -> GradientTransformation:
    r"""AdamW, as in `torch.optim.AdamW`: Adam with decoupled weight decay.

    $$w_t = w_{t-1} - \eta\left(\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} + \lambda_{wd}\, w_{t-1}\right),$$

    with $\hat m_t, \hat v_t$ Adam's bias-corrected moments (see [`adam`][dlcore.optim.adam]);
    the decay is not divided by $\sqrt{\hat v_t}$.

    Args:
        lr: Step size $\eta > 0$.
        b1: First-moment decay $b_1 \in [0, 1)$.
        b2: Second-moment decay $b_2 \in [0, 1)$.
        eps: $\epsilon > 0$, added to $\sqrt{\hat v}$.
        weight_decay: $\lambda_{wd} \ge 0$ with $\eta\lambda_{wd} < 1$.
    """
    if not lr * weight_decay < 1:
        raise ValueError(f"weight_decay must satisfy lr * weight_decay < 1, got {weight_decay!r}")
    return chain(scale_by_adam(b1, b2, eps), add_decayed_weights(weight_decay), sgd(lr))


@contract(opt=_check_opt, weight_decay=Real(0))
def coupled_weight_decay(
    opt: GradientTransformation, weight_decay: float
) -> GradientTransformation:
    r"""L2 regularisation in the gradient: feed `opt` the gradient $g_t + \lambda_{wd}\, w_t$.

    This is the `weight_decay` of `torch.optim.SGD` and `torch.optim.Adam`, and the gradient of
    $L(w) + \tfrac{\lambda_{wd}}{2}\|w\|^2$ (the lecture's $\lambda\|w\|^2$ is
    $\lambda_{wd} = 2\lambda$). For GD it is multiplicative decay $w \leftarrow (1-\eta\lambda_{wd})w$;
    for Adam the decay term is normalised along with the gradient.

    Args:
        opt: The optimizer to wrap.
        weight_decay: $\lambda_{wd} \ge 0$.
    """
    return chain(add_decayed_weights(weight_decay), opt)


@contract(opt=_check_opt, decay=_DECAY)
def decoupled_weight_decay(opt: GradientTransformation, decay: float) -> GradientTransformation:
    r"""Decoupled weight decay: add $-\delta\, w_t$ to the updates of `opt`.

    $$w_{t+1} = w_t - \delta\, w_t + u_t, \qquad u_t = \text{the update of `opt`},$$

    so the decay does not pass through the optimizer's normalisation.

    Args:
        opt: The optimizer to wrap.
        decay: The per-step shrink factor $\delta \in [0, 1)$.
    """
    return chain(opt, add_decayed_weights(-decay))


@contract(lr=_POSITIVE, beta=_WEIGHT)
def ema_to_torch(lr: float, beta: float) -> tuple[float, float]:
    r"""Map the lecture's momentum $(\eta, \beta)$ to PyTorch's `(lr, momentum)`.

    $$\alpha = \eta\beta, \qquad \mu = 1 - \beta .$$

    Args:
        lr: The lecture's step size $\eta > 0$.
        beta: The lecture's EMA weight $\beta \in (0, 1]$.

    Returns:
        `(alpha, mu)` such that [`sgd_momentum`][dlcore.optim.sgd_momentum]`(alpha, mu)` and
        [`ema_momentum`][dlcore.optim.ema_momentum]`(lr, beta)` give the same iterates.
    """
    return lr * beta, 1.0 - beta


# ---- applying updates and the step ---------------------------------------------------------------


def apply_updates(params: Params, updates: Params) -> Params:
    r"""Return the new parameters $w + u$ (a new dict; the inputs are not modified).

    Raises:
        TypeError: If `params` or `updates` is not a dict of real floating arrays of one library.
        ValueError: If their keys or shapes differ, an entry is not finite, or the sum overflows.
            Also if `params` has a non-finite entry; `updates` has a non-finite entry.
    """
    trees = {"params": params, "updates": updates}
    _check_trees(trees, finite=False)
    with np.errstate(over="ignore"):  # an overflow is refused just below
        new = {k: params[k] + updates[k] for k in params}
    _check_result("params + updates", {"new params": new}, trees)
    return new


def step(
    opt: GradientTransformation,
    grads: Params,
    state: Any,
    params: Params,
    *,
    donate: bool = False,
    fused: bool = True,
) -> tuple[Params, Any]:
    r"""One optimizer step $w_{t+1} = w_t + u_t$: `update`, then `apply_updates`, fused.

    Returns `(new_params, new_state)`, the result of
    `updates, new_state = opt.update(grads, state, params)` and
    `apply_updates(params, updates)`. On torch tensors, every chain the fused step covers (see
    the module docstring) never writes the updates out and uses fused operations, so its results
    may differ from the two-call form in the last bits; `tests/api/test_optim_fast_path.py`
    bounds the difference by an error analysis. Every other optimizer and backend runs the two
    calls.

    Args:
        opt: The optimizer.
        grads: The gradients $g_t$, keyed like `params`.
        state: The optimizer state, as returned by `opt.init` or a previous step.
        params: The parameters $w_t$.
        donate: Hand the memory of `params` and of the arrays in `state` to the step, as
            JAX's `donate_argnums` does: a fused step then writes the new parameters and state
            into it, in place, as `torch.optim` does, and the caller must not use `params` or
            `state` again (they hold the new values or garbage). A hint: it is ignored (the
            step is computed out of place) where there is no fused step, and where a donated
            array is not contiguous, shares its storage with another one or with a gradient.
            `grads` are never written.
        fused: Run the fused step where it applies; `False` runs the reference (the two calls).

    Raises:
        TypeError: If `opt` is not a `GradientTransformation`, `donate` or `fused` is not a bool,
            or params, grads or state have the wrong type, dtype or library.
        ValueError: If grads or state do not match params in keys and shapes, or an entry of
            params, grads or state is not finite (named when the step is pure; with `donate=True`
            the gradients are named, else params and state together), or the step overflows.
    """
    opt = _check_opt("opt", opt)
    check_bool("donate", donate)
    check_bool("fused", fused)
    plan = _fused.plan(opt.ops) if fused else None
    if plan is not None:
        _check_state(state, opt.ops)
        inputs = {"params": params, "grads": grads, **_state_trees(state)}
        leaves = _fused.torch_leaves(*inputs.values())
    if plan is None or leaves is None:
        updates, new_state = opt.update(grads, state, params)
        return apply_updates(params, updates), new_state
    ps, gs, *bufs = leaves
    inplace = donate and _fused.can_donate(ps + [b for tree in bufs for b in tree], gs)
    sums: list[Any] = []
    count = state.count if bufs else 0
    new_ps, new_bufs = _fused.apply(plan, ps, gs, bufs, count=count, inplace=inplace, sums=sums)
    new, *trees = [dict(zip(params, tree, strict=True)) for tree in (new_ps, *new_bufs)]
    new_state = type(state)(*trees, count + 1) if trees else state
    # each new parameter's probe (`_fused.probe`), summed as Python floats (a third of the time
    # of a torch.stack and sum): finite, unless a new parameter or state array is not
    if not math.isfinite(sum(map(float, sums))):
        outputs = {"new params": new, **_state_trees(new_state, "new state")}
        if inplace:  # the params and state passed in hold the result: name the gradients only
            _check_result("the step", outputs, {"grads": grads}, _DONATED)
        else:
            _check_result("the step", outputs, inputs)
    return new, new_state


# ---- checks ----------------------------------------------------------------------------------


def _check_state(state: Any, ops: tuple[_Op, ...]) -> list[Any]:
    """Require a state of the types `init` makes for `ops`, with step counts; return one state
    per op (its trees are checked with the params, by `_check_trees`)."""
    kinds: list[Any] = [op.state for op in ops if op.state is not EmptyState] or [EmptyState]
    parts = [state] if len(kinds) == 1 else state
    if len(kinds) > 1 and (type(state) is not tuple or len(state) != len(kinds)):
        raise TypeError(f"state must be a tuple of {len(kinds)} states, got {state!r:.80}")
    for i, (part, kind) in enumerate(zip(parts, kinds, strict=True)):
        name = "state" if len(kinds) == 1 else f"state[{i}]"
        if not isinstance(part, kind):
            raise TypeError(
                f"{name} must be a {kind.__name__}, got {type(part).__name__}: {part!r:.80}"
            )
        count = 0 if kind is EmptyState else part.count
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{name}.count must be an int >= 0, got {count!r}")
    it = iter(parts)
    return [EmptyState() if op.state is EmptyState else next(it) for op in ops]


def _state_trees(state: Any, name: str = "state") -> _Trees:
    """The trees of a state, by name: `state.m`, or `state[1].m` in a tuple of states."""
    parts = state if type(state) is tuple else (state,)
    return {
        f"{name}{'' if len(parts) == 1 else f'[{i}]'}.{field}": getattr(part, field)
        for i, part in enumerate(parts)
        for field in part._fields[:-1]  # the last field is the count
    }


def _check_trees(trees: _Trees, *, finite: bool) -> None:
    """Require `trees["params"]` to be a non-empty dict of real floating arrays keyed by str,
    from one library and on one device (their dtypes may differ), and each other tree (grads,
    updates, a state's trees) a dict with its keys whose arrays have the shape, library, device
    and dtype of theirs; with `finite`, every entry finite. Each error names the array."""
    params = trees["params"]
    if isinstance(params, dict) and not params:
        raise ValueError("params must not be empty, got {}")
    for name, tree in trees.items():
        if not isinstance(tree, dict):
            raise TypeError(
                f"{name} must be a dict of arrays, got {type(tree).__name__}: {tree!r:.80}"
            )
        if tree.keys() != params.keys():
            raise ValueError(
                f"{name} and params must have the same keys, got {sorted(tree, key=str)} "
                f"and {sorted(params, key=str)}"
            )
        for k, x in tree.items():
            where, p = f"{name}[{k!r}]", params[k]
            if tree is params:
                if not isinstance(k, str):
                    raise TypeError(f"params keys must be str, got {type(k).__name__}: {k!r}")
                check_array(where, x)
                if not _tiny(x):
                    raise TypeError(f"{where} must have a real floating dtype, got {x.dtype}")
                k0, p0 = next(iter(params.items()))
                if type(x) is not type(p0) or _device(x) != _device(p0):  # one library, one device
                    check_compatible({f"params[{k0!r}]": p0, where: x})
            elif not (type(x) is type(p) and x.dtype == p.dtype and _device(x) == _device(p)):
                check_compatible({where: x, f"params[{k!r}]": p})
            if tuple(x.shape) != tuple(p.shape):
                raise ValueError(
                    f"{where} must have shape {tuple(p.shape)} (that of params[{k!r}]), "
                    f"got {tuple(x.shape)}"
                )
    if finite:
        _check_finite(trees)


def _device(x: Any) -> Any:
    return getattr(x, "device", None)


def _check_finite(trees: _Trees) -> None:
    """Require every array of `trees` to be finite, naming the first that is not."""
    for name, tree in trees.items():
        for k, x in tree.items():
            check_finite(f"{name}[{k!r}]", x)


_OVERFLOW = " (is the step size too large for the gradients?)"
_DONATED = "; or the params or state passed in held non-finite values (the step wrote over them)"


def _check_result(what: str, outputs: _Trees, inputs: _Trees, cause: str = _OVERFLOW) -> None:
    """Require every array of `outputs` to be finite; where one is not, name the first
    non-finite array of `inputs` (the caller's arrays the outputs came from, unwritten) if there
    is one, else say that `what` overflowed, naming the output, and the `cause`."""
    try:
        _check_finite(outputs)
    except ValueError as error:
        _check_finite(inputs)
        names = ", ".join(inputs)
        raise ValueError(f"{what} overflowed: {error}, from finite {names}{cause}") from None
