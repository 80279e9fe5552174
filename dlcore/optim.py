r"""Optimizers as pure `init` / `update` pairs, in the style of optax.

```python
opt = momentum(lr=0.1, beta=0.5)
state = opt.init(params)
updates, state = opt.update(grads, state, params)
params = apply_updates(params, updates)
```

Parameters, gradients and updates are `dict[str, Array]`; states are immutable NamedTuples and
nothing is mutated in place. GD and SGD share one update rule ([`sgd`][dlcore.optim.sgd]) and
differ only in the gradient they are fed.

Momentum comes in two parametrizations (see the conventions page):

- the lecture's EMA form ([`momentum`][dlcore.optim.momentum]):
  $a_{t+1} = (1-\beta)a_t + \beta g_t$, $w_{t+1} = w_t - \eta\, a_{t+1}$, with $\beta \in (0, 1]$;
- PyTorch's buffer form ([`sgd_momentum`][dlcore.optim.sgd_momentum]):
  $v_{t+1} = \mu v_t + g_t$, $w_{t+1} = w_t - \alpha\, v_{t+1}$, with $\mu \in [0, 1)$.

They give identical iterates when $\alpha = \eta\beta$ and $\mu = 1 - \beta$
([`ema_to_torch`][dlcore.optim.ema_to_torch]).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from dlcore.backend import (
    Array,
    check_array,
    check_compatible,
    check_in_range,
    check_positive,
    namespace,
)

__all__ = [
    "Params",
    "GradientTransformation",
    "EmptyState",
    "MomentumState",
    "AdamState",
    "sgd",
    "gd",
    "momentum",
    "sgd_momentum",
    "adam",
    "ema_to_torch",
    "apply_updates",
]

Params = dict[str, Array]
"""Parameters, gradients and updates: a dict from names to arrays."""


class GradientTransformation(NamedTuple):
    """A pure optimizer: `init(params) -> state`, `update(grads, state, params) -> (updates, state)`."""

    init: Callable[[Params], Any]
    update: Callable[[Params, Any, Params], tuple[Params, Any]]


class EmptyState(NamedTuple):
    """State of a stateless optimizer."""


class MomentumState(NamedTuple):
    """One buffer per parameter and the number of steps taken (`step`)."""

    buffer: Params
    step: int


class AdamState(NamedTuple):
    """Adam's first and second moment averages and the number of steps taken (`step`)."""

    m: Params
    v: Params
    step: int


def _check_tree(name: str, tree: Any, params: Params) -> None:
    if not isinstance(tree, dict):
        raise TypeError(f"{name} must be a dict of arrays, got {type(tree).__name__}")
    if set(tree) != set(params):
        raise ValueError(
            f"{name} and params must have the same keys, got {sorted(tree, key=str)} "
            f"and {sorted(params)}"
        )
    for k in params:
        g, p = tree[k], params[k]
        check_compatible({f"{name}[{k!r}]": g, f"params[{k!r}]": p})
        if tuple(g.shape) != tuple(p.shape):
            raise ValueError(
                f"{name}[{k!r}] must have shape {tuple(p.shape)}, got {tuple(g.shape)}"
            )


def _check_params(params: Any) -> Params:
    if not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict of arrays, got {type(params).__name__}: {params!r:.80}"
        )
    if not params:
        raise ValueError("params must not be empty, got {}")
    for k, p in params.items():
        if not isinstance(k, str):
            raise TypeError(f"params keys must be str, got {type(k).__name__}: {k!r}")
        check_array(f"params[{k!r}]", p)
        if not namespace(p).isdtype(p.dtype, "real floating"):
            raise TypeError(f"params[{k!r}] must have a real floating dtype, got {p.dtype}")
    return params


def _check_state(state: Any, kind: type[Any], params: Params) -> None:
    """Require a state of type `kind` whose buffers match `params` (as made by `init(params)`)."""
    if not isinstance(state, kind):
        raise TypeError(
            f"state must be a {kind.__name__}, got {type(state).__name__}: {state!r:.80}"
        )
    step = state.step if "step" in kind._fields else 0
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"state.step must be an int >= 0, got {step!r}")
    for field in kind._fields:
        if field != "step":
            _check_tree(f"state.{field}", getattr(state, field), params)


def _check_step(grads: Any, state: Any, kind: type[Any], params: Any) -> None:
    """All checks of an `update` call, done before anything is computed."""
    _check_params(params)
    _check_tree("grads", grads, params)
    _check_state(state, kind, params)


def _zeros(params: Params) -> Params:
    return {k: namespace(p).zeros_like(p) for k, p in params.items()}


def sgd(lr: float) -> GradientTransformation:
    r"""Gradient descent: $w_{t+1} = w_t - \eta\, g_t$.

    Fed the full gradient this is GD; fed a minibatch gradient it is SGD.

    Args:
        lr: Step size $\eta > 0$.
    """
    lr = check_positive("lr", lr)

    def init(params: Params) -> EmptyState:
        _check_params(params)
        return EmptyState()

    def update(grads: Params, state: EmptyState, params: Params) -> tuple[Params, EmptyState]:
        _check_step(grads, state, EmptyState, params)
        return {k: -lr * g for k, g in grads.items()}, state

    return GradientTransformation(init, update)


gd = sgd
"""Alias of [`sgd`][dlcore.optim.sgd]: GD is SGD fed the full gradient."""


def momentum(lr: float, beta: float) -> GradientTransformation:
    r"""Momentum in the lecture's EMA form (GD on low-pass-filtered gradients).

    $$a_{t+1} = (1-\beta)\,a_t + \beta\, g_t, \qquad w_{t+1} = w_t - \eta\, a_{t+1}, \qquad a_0 = 0 .$$

    $\beta$ is the weight on the new gradient; $\beta = 1$ is plain GD. On a quadratic with
    Hessian eigenvalues $\lambda_i$ it is stable iff $0 < \eta\lambda_{\max} < 2(2-\beta)/\beta$.

    Args:
        lr: Step size $\eta > 0$.
        beta: EMA weight $\beta \in (0, 1]$.
    """
    lr = check_positive("lr", lr)
    beta = check_in_range("beta", beta, 0.0, 1.0, low_open=True, high_open=False)

    def init(params: Params) -> MomentumState:
        return MomentumState(_zeros(_check_params(params)), 0)

    def update(grads: Params, state: MomentumState, params: Params) -> tuple[Params, MomentumState]:
        _check_step(grads, state, MomentumState, params)
        a = {k: (1 - beta) * state.buffer[k] + beta * grads[k] for k in grads}
        return {k: -lr * a[k] for k in a}, MomentumState(a, state.step + 1)

    return GradientTransformation(init, update)


def sgd_momentum(
    lr: float, momentum: float, *, dampening: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    r"""SGD with momentum in PyTorch's buffer form (`torch.optim.SGD`).

    $$v_{t+1} = \mu v_t + (1-\tau)\, g_t \ (\text{but } v_1 = g_0), \qquad
    w_{t+1} = w_t - \alpha \begin{cases} v_{t+1} & \text{heavy ball} \\ g_t + \mu v_{t+1} & \text{Nesterov} \end{cases}$$

    On a quadratic with Hessian eigenvalues $\lambda_i$ heavy ball (with $\tau = 0$) is stable iff
    $0 < \alpha\lambda_{\max} < 2(1+\mu)$.

    Args:
        lr: Learning rate $\alpha > 0$.
        momentum: $\mu \in [0, 1)$.
        dampening: $\tau \in [0, 1)$; PyTorch applies it from the second step on.
        nesterov: Use Nesterov's look-ahead form (needs $\mu > 0$ and $\tau = 0$).
    """
    lr = check_positive("lr", lr)
    mu = check_in_range("momentum", momentum, 0.0, 1.0, low_open=False, high_open=True)
    tau = check_in_range("dampening", dampening, 0.0, 1.0, low_open=False, high_open=True)
    if not isinstance(nesterov, bool):
        raise TypeError(f"nesterov must be a bool, got {nesterov!r}")
    if nesterov and (mu == 0 or tau != 0):
        raise ValueError(
            f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum!r}, "
            f"dampening={dampening!r}"
        )

    def init(params: Params) -> MomentumState:
        return MomentumState(_zeros(_check_params(params)), 0)

    def update(grads: Params, state: MomentumState, params: Params) -> tuple[Params, MomentumState]:
        _check_step(grads, state, MomentumState, params)
        if state.step == 0:
            v = dict(grads)
        else:
            v = {k: mu * state.buffer[k] + (1 - tau) * grads[k] for k in grads}
        if nesterov:
            step = {k: grads[k] + mu * v[k] for k in grads}
        else:
            step = v
        return {k: -lr * s for k, s in step.items()}, MomentumState(v, state.step + 1)

    return GradientTransformation(init, update)


def adam(
    lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    r"""Adam, as in `torch.optim.Adam`.

    $$m_{t} = b_1 m_{t-1} + (1-b_1) g_t, \quad v_t = b_2 v_{t-1} + (1-b_2) g_t^2, \quad
    w_{t} = w_{t-1} - \eta\, \frac{m_t/(1-b_1^t)}{\sqrt{v_t/(1-b_2^t)} + \epsilon}$$

    coordinate by coordinate. In the lecture's symbols $b_1 = 1-\beta$ and $b_2 = 1-\beta'$.

    Args:
        lr: Step size $\eta > 0$.
        b1: First-moment decay $b_1 \in [0, 1)$.
        b2: Second-moment decay $b_2 \in [0, 1)$.
        eps: $\epsilon > 0$, added to $\sqrt{\hat v}$.
    """
    lr = check_positive("lr", lr)
    b1 = check_in_range("b1", b1, 0.0, 1.0, low_open=False, high_open=True)
    b2 = check_in_range("b2", b2, 0.0, 1.0, low_open=False, high_open=True)
    eps = check_positive("eps", eps)

    def init(params: Params) -> AdamState:
        z = _zeros(_check_params(params))
        return AdamState(z, dict(z), 0)

    def update(grads: Params, state: AdamState, params: Params) -> tuple[Params, AdamState]:
        _check_step(grads, state, AdamState, params)
        t = state.step + 1
        m = {k: b1 * state.m[k] + (1 - b1) * g for k, g in grads.items()}
        v = {k: b2 * state.v[k] + (1 - b2) * g * g for k, g in grads.items()}
        c1, c2 = 1 - b1**t, 1 - b2**t
        updates = {k: -lr * (m[k] / c1) / (namespace(m[k]).sqrt(v[k] / c2) + eps) for k in grads}
        return updates, AdamState(m, v, t)

    return GradientTransformation(init, update)


def ema_to_torch(lr: float, beta: float) -> tuple[float, float]:
    r"""Map the lecture's momentum $(\eta, \beta)$ to PyTorch's `(lr, momentum)`.

    $$\alpha = \eta\beta, \qquad \mu = 1 - \beta .$$

    Args:
        lr: The lecture's step size $\eta > 0$.
        beta: The lecture's EMA weight $\beta \in (0, 1]$.

    Returns:
        `(alpha, mu)` such that [`sgd_momentum`][dlcore.optim.sgd_momentum]`(alpha, mu)` and
        [`momentum`][dlcore.optim.momentum]`(lr, beta)` give the same iterates.
    """
    lr = check_positive("lr", lr)
    beta = check_in_range("beta", beta, 0.0, 1.0, low_open=True, high_open=False)
    return lr * beta, 1.0 - beta


def apply_updates(params: Params, updates: Params) -> Params:
    r"""Return the new parameters $w + u$ (a new dict; the inputs are not modified)."""
    _check_tree("updates", updates, _check_params(params))
    return {k: params[k] + updates[k] for k in params}
