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

**One step.** [`step`][dlcore.optim.step]`(opt, grads, state, params)` is `update` followed by
`apply_updates`, returning `(new_params, new_state)`; [`dlcore.train`][dlcore.train] runs it.
On torch tensors, [`sgd`][dlcore.optim.sgd], [`sgd_momentum`][dlcore.optim.sgd_momentum]
(heavy ball) and [`adam`][dlcore.optim.adam] fuse the two: the updates are never written out, and the arithmetic
uses fused operations (`add` with `alpha`, `lerp`, `addcmul`, `addcdiv`), so results may differ
from the two calls in the last bits (bounded by an error analysis in
`tests/api/test_optim_step.py`). `step(..., donate=True)` hands the memory of `params` and
`state` to the step, which then updates them in place, as `torch.optim` does (and as JAX's
`donate_argnums` lets XLA do): on the CPU a pure step must write its results to fresh memory,
and that costs 1.2-2x (see the benchmarks page).

**The torch fast path of `update`.** The code of each optimizer below is its definition:
array-API expressions, one tensor at a time. On torch that is about five kernel launches per
tensor and step, which makes a step on a model with many tensors launch bound on CUDA (1.5-6x
slower than `torch.optim`). So when every array of a step is a CUDA tensor, all on one device
and with one dtype (and none requires grad), [`sgd_momentum`][dlcore.optim.sgd_momentum],
[`adam`][dlcore.optim.adam], the two weight-decay wrappers (hence [`adamw`][dlcore.optim.adamw])
and [`apply_updates`][dlcore.optim.apply_updates] run the same sequence of operations through
torch's multi-tensor (`torch._foreach_*`) kernels, in the private module `dlcore._torch_fast`:
one launch per operation for all tensors. It is an implementation detail: still pure (only the
out-of-place forms touch the inputs), and checked against the reference code, bit for bit, by
`tests/api/test_optim_fast_path.py`; `DLCORE_NO_FAST_PATH=1` turns it off (and the fused steps
with it). On the CPU `update` keeps the reference loop.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, NamedTuple

from dlcore import _torch_fast
from dlcore.backend import (
    Array,
    check_array,
    check_bool,
    check_compatible,
    check_finite,
    check_in_range,
    check_nonnegative,
    check_positive,
    namespace,
)

__all__ = [
    "Params",
    "GradientTransformation",
    "EmptyState",
    "MomentumState",
    "AdamState",
    "RMSPropState",
    "sgd",
    "gd",
    "momentum",
    "sgd_momentum",
    "adam",
    "ema_to_torch",
    "apply_updates",
    "step",
    "ema",
    "nesterov",
    "rmsprop",
    "adamw",
    "coupled_weight_decay",
    "decoupled_weight_decay",
]

Params = dict[str, Array]
"""Parameters, gradients and updates: a dict from names to arrays."""


class GradientTransformation(NamedTuple):
    """A pure optimizer: `init(params) -> state`, `update(grads, state, params) -> (updates, state)`.

    Attributes:
        init: `init(params)`, the state before the first step.
        update: `update(grads, state, params)`, the updates $u_t$ and the next state.
        step: `None`, or a fused `step(grads, state, params, donate)` returning
            `(new_params, new_state)`, equal (up to the rounding of fused operations) to
            `update` followed by [`apply_updates`][dlcore.optim.apply_updates]. Call it through
            [`step`][dlcore.optim.step], which falls back to those two when it is `None`.
    """

    init: Callable[[Params], Any]
    update: Callable[[Params, Any, Params], tuple[Params, Any]]
    step: Callable[[Params, Any, Params, bool], tuple[Params, Any]] | None = None


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


def _check_tree(name: str, tree: Any, params: Params, *, finite: bool = False) -> None:
    if not isinstance(tree, dict):
        raise TypeError(f"{name} must be a dict of arrays, got {type(tree).__name__}")
    if set(tree) != set(params):
        raise ValueError(
            f"{name} and params must have the same keys, got {sorted(tree, key=str)} "
            f"and {sorted(params)}"
        )
    for k in params:
        g, p = tree[k], params[k]
        if not _same_kind(g, p):
            check_compatible({f"{name}[{k!r}]": g, f"params[{k!r}]": p})
        if tuple(g.shape) != tuple(p.shape):
            raise ValueError(
                f"{name}[{k!r}] must have shape {tuple(p.shape)} (that of params[{k!r}]), "
                f"got {tuple(g.shape)}"
            )
        if finite:
            check_finite(f"{name}[{k!r}]", g)


def _same_kind(a: Any, b: Any) -> bool:
    """Fast path of `check_compatible`: same array type, dtype and device (else check in full)."""
    return (
        type(a) is type(b)
        and a.dtype == b.dtype
        and getattr(a, "device", None) == getattr(b, "device", None)
    )


_FLOATING: dict[tuple[type, Any], bool] = {}


def _is_real_floating(p: Array) -> bool:
    key = (type(p), p.dtype)
    if key not in _FLOATING:
        _FLOATING[key] = bool(namespace(p).isdtype(p.dtype, "real floating"))
    return _FLOATING[key]


def _check_params(params: Any, *, finite: bool = False) -> Params:
    """Require a non-empty dict of real floating arrays, from one library and on one device
    (their dtypes may differ); with `finite`, every entry finite too."""
    if not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict of arrays, got {type(params).__name__}: {params!r:.80}"
        )
    if not params:
        raise ValueError("params must not be empty, got {}")
    first: Any = None
    for k, p in params.items():
        if not isinstance(k, str):
            raise TypeError(f"params keys must be str, got {type(k).__name__}: {k!r}")
        check_array(f"params[{k!r}]", p)
        if not _is_real_floating(p):
            raise TypeError(f"params[{k!r}] must have a real floating dtype, got {p.dtype}")
        if first is None:
            first = (k, p)
        elif type(p) is not type(first[1]) or getattr(p, "device", None) != getattr(
            first[1], "device", None
        ):
            a, b = f"params[{first[0]!r}]", f"params[{k!r}]"
            raise TypeError(
                f"params must come from one library and live on one device, got {a}: "
                f"{_where(first[1])} and {b}: {_where(p)}"
            )
        if finite:
            check_finite(f"params[{k!r}]", p)
    return params


def _where(x: Any) -> str:
    return f"{type(x).__module__.split('.')[0]}.{type(x).__name__} on {getattr(x, 'device', 'cpu')}"


def _check_state(state: Any, kind: type[Any], params: Params, *, finite: bool = False) -> None:
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
            _check_tree(f"state.{field}", getattr(state, field), params, finite=finite)


def _check_step(
    grads: Any, state: Any, kind: type[Any], params: Any, *, finite: bool = True
) -> None:
    """All checks of an `update` call, done before anything is computed.

    The fused steps pass `finite=False` and check their results instead
    (`_check_step_result`): one pass over the new parameters costs less than one over every
    input, and a non-finite input always shows in the result.
    """
    _check_params(params, finite=finite)
    _check_tree("grads", grads, params, finite=finite)
    _check_state(state, kind, params, finite=finite)


def _check_fused_step(
    grads: Any, state: Any, kind: type[Any], params: Any
) -> list[list[Any]] | None:
    """The checks of a fused step (as `_check_step(..., finite=False)`); returns the leaves of
    params, grads and the state's trees when the torch fast path applies, else `None`.

    When every array is a dense torch tensor of one dtype on one device (what the fast path
    needs anyway), the checks come down to a few comparisons of keys and shapes, and the
    general, per-array checks run only otherwise: on a step of 10 tensors this saves about 0.1
    ms, the price of the finiteness check of the result.
    """
    if (
        type(params) is dict
        and type(grads) is dict
        and type(state) is kind
        and params
        and grads.keys() == params.keys()
    ):
        trees = [getattr(state, f) for f in kind._fields if f != "step"]
        step = state.step if "step" in kind._fields else 0
        if (
            all(type(t) is dict and t.keys() == params.keys() for t in trees)
            and type(step) is int
            and step >= 0
            and all(type(k) is str for k in params)
        ):
            leaves = _fused_leaves(params, grads, *trees)
            if leaves is not None and leaves[0][0].is_floating_point():
                shapes = [p.shape for p in leaves[0]]
                if all([x.shape for x in tree] == shapes for tree in leaves[1:]):
                    return leaves
    _check_step(grads, state, kind, params, finite=False)
    return None


def _all_finite(tree: Params) -> bool:
    """Whether every entry of every array in `tree` is finite (a finite sum of the sums means
    so; otherwise each array is looked at)."""
    arrays = list(tree.values())
    torch = _torch_fast.torch_module(arrays[0])
    if torch is not None and all(isinstance(a, torch.Tensor) for a in arrays):
        with torch.no_grad():
            total = torch.stack([a.sum().double() for a in arrays]).sum()
        if math.isfinite(float(total)):
            return True
    return all(_finite(a) for a in arrays)


def _finite(a: Array) -> bool:
    try:
        check_finite("x", a)
    except ValueError:
        return False
    return True


def _first_nonfinite(trees: dict[str, Params]) -> str | None:
    for name, tree in trees.items():
        for k, a in tree.items():
            if not _finite(a):
                return f"{name}[{k!r}]"
    return None


def _state_trees(state: Any, fields: tuple[str, ...] | None = None) -> dict[str, Params]:
    return {
        f"state.{f}": getattr(state, f)
        for f in getattr(state, "_fields", ())
        if f != "step" and (fields is None or f in fields)
    }


def _check_result(updates: Params, state: Any) -> tuple[Params, Any]:
    """After an `update` whose inputs were checked finite: a non-finite output is an overflow."""
    trees = {"updates": updates, **_state_trees(state)}
    if all(_all_finite(t) for t in trees.values()):
        return updates, state
    bad = _first_nonfinite(trees)
    raise ValueError(
        f"the update overflowed: {bad} is not finite, from finite params, grads and state "
        f"(is the step size too large for the gradients?)"
    )


def _fused_step(
    kind: type[Any], body: Callable[..., tuple[Params, Any]]
) -> Callable[[Params, Any, Params, bool], tuple[Params, Any]]:
    """An optimizer's fused step: the checks, `body` (its arithmetic, which appends the fast
    path's probes to `sums`), then the finiteness check of the result."""

    def fused(grads: Params, state: Any, params: Params, donate: bool) -> tuple[Params, Any]:
        fast = _check_fused_step(grads, state, kind, params)
        sums: list[Any] = []
        new_params, new_state = body(grads, state, params, donate, sums, fast)
        return _check_step_result(new_params, new_state, grads, state, params, donate, sums)

    return fused


def _check_step_result(
    new_params: Params,
    new_state: Any,
    grads: Params,
    state: Any,
    params: Params,
    donate: bool,
    sums: list[Any] | None = None,
) -> tuple[Params, Any]:
    """The finiteness check of a step, on its results; on failure, name the input at fault.

    The torch fast path hands in `sums`, the sum of each of those arrays taken right after it
    was written (in cache, about a tenth of the step's time); elsewhere they are summed here.
    A non-finite gradient, parameter or momentum-like buffer makes the new parameters
    non-finite, so they are checked, and the only state checked besides is a second moment
    `v`, which divides (an infinite `v` gives a zero update). A pure step can then look at its
    inputs, which it has not written, and name the one at fault; a donated step has written
    params and state, so it names the gradients when they are at fault and says so otherwise.
    """
    # probes of those arrays, from the fast path (`_torch_fast.probe`); summed as Python
    # floats, a third of the time of a torch.stack and sum
    if sums and math.isfinite(sum(map(float, sums))):
        return new_params, new_state
    trees = {"params": new_params, **_state_trees(new_state, ("v",))}
    if all(_all_finite(t) for t in trees.values()):
        return new_params, new_state
    bad = _first_nonfinite(trees)
    _check_tree("grads", grads, grads, finite=True)
    if donate:
        raise ValueError(
            f"new {bad} is not finite after a donated step: the params or state passed in held "
            f"non-finite values, or the step overflowed (the donated params and state now hold "
            f"the result)"
        )
    _check_params(params, finite=True)
    for name, tree in _state_trees(state).items():
        _check_tree(name, tree, tree, finite=True)
    raise ValueError(
        f"the step overflowed: new {bad} is not finite, from finite params, grads and state "
        f"(is the step size too large for the gradients?)"
    )


def _fast_leaves(params: Params, *trees: Params) -> list[list[Any]] | None:
    """The leaves of `(params, *trees)` in key order if the torch fast path applies, else None.

    See the module docstring and `dlcore._torch_fast`; call it only after the checks of a step.
    """
    if _NO_FAST_PATH:
        return None
    return _torch_fast.torch_leaves(list(params), params, *trees)


def _fused_leaves(params: Params, *trees: Params) -> list[list[Any]] | None:
    """Like `_fast_leaves`, for the fused steps (on the device types `STEP_DEVICE_TYPES`)."""
    if _NO_FAST_PATH:
        return None
    return _torch_fast.torch_leaves(
        list(params), params, *trees, device_types=_torch_fast.STEP_DEVICE_TYPES
    )


_NO_FAST_PATH = os.environ.get("DLCORE_NO_FAST_PATH", "") not in ("", "0")
"""Set by `DLCORE_NO_FAST_PATH=1` (the tests toggle it by monkeypatching): reference code only."""


_TINY: dict[Any, float] = {}


def _eps_in(eps: float, like: Array) -> float:
    r"""$\epsilon$, raised to the smallest positive number of the dtype of `like` where it would
    round to 0 there (1e-8 in float16): then a zero gradient gives $0/\epsilon = 0$, not 0/0."""
    key = (type(like), like.dtype)
    if key not in _TINY:
        fi = namespace(like).finfo(like.dtype)
        _TINY[key] = float(fi.smallest_normal) * float(fi.eps)  # the smallest subnormal
    return max(eps, _TINY[key])


def _zeros(params: Params) -> Params:
    return {k: namespace(p).zeros_like(p) for k, p in params.items()}


def sgd(lr: float) -> GradientTransformation:
    r"""Gradient descent: $w_{t+1} = w_t - \eta\, g_t$.

    Fed the full gradient this is GD; fed a minibatch gradient it is SGD.

    Args:
        lr: Step size $\eta > 0$.

    Raises:
        TypeError: If `lr` is not a real number.
        ValueError: If `lr` is NaN, infinite or outside (0, inf).
    """
    lr = check_positive("lr", lr)

    def init(params: Params) -> EmptyState:
        _check_params(params, finite=True)
        return EmptyState()

    def update(grads: Params, state: EmptyState, params: Params) -> tuple[Params, EmptyState]:
        _check_step(grads, state, EmptyState, params)
        return _check_result(*_update(grads, state, params))

    def _update(grads: Params, state: EmptyState, params: Params) -> tuple[Params, EmptyState]:
        return {k: -lr * g for k, g in grads.items()}, state

    def _fused(
        grads: Params,
        state: EmptyState,
        params: Params,
        donate: bool,
        sums: list[Any],
        fast: list[list[Any]] | None,
    ) -> tuple[Params, EmptyState]:
        if fast is not None:
            ps, gs = fast
            inplace = donate and _torch_fast.can_donate(ps, gs)
            new_ps = _torch_fast.sgd_apply(ps, gs, lr=lr, inplace=inplace, sums=sums)
            return dict(zip(params, new_ps, strict=True)), state
        return _update_then_apply(_update, grads, state, params)

    return GradientTransformation(init, update, _fused_step(EmptyState, _fused))


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

    Raises:
        TypeError: If `lr` is not a real number; `beta` is not a real number.
        ValueError: If `lr` is NaN, infinite or outside (0, inf); `beta` is NaN, infinite or
            outside (0, 1].
    """
    lr = check_positive("lr", lr)
    beta = check_in_range("beta", beta, 0.0, 1.0, low_open=True, high_open=False)

    def init(params: Params) -> MomentumState:
        return MomentumState(_zeros(_check_params(params, finite=True)), 0)

    def update(grads: Params, state: MomentumState, params: Params) -> tuple[Params, MomentumState]:
        _check_step(grads, state, MomentumState, params)
        a = {k: (1 - beta) * state.buffer[k] + beta * grads[k] for k in grads}
        return _check_result({k: -lr * a[k] for k in a}, MomentumState(a, state.step + 1))

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
        dampening: $\tau \in [0, 1)$; PyTorch applies it from the second step on, and not at all
            when $\mu = 0$ (then there is no buffer and the step is plain SGD, as in PyTorch).
        nesterov: Use Nesterov's look-ahead form (needs $\mu > 0$ and $\tau = 0$).

    Raises:
        TypeError: If `lr` is not a real number; `momentum` is not a real number; `dampening` is
            not a real number; `nesterov` is not a bool.
        ValueError: If `lr` is NaN, infinite or outside (0, inf); `momentum` is NaN, infinite or
            outside [0, 1); `dampening` is NaN, infinite or outside [0, 1).
    """
    lr = check_positive("lr", lr)
    mu = check_in_range("momentum", momentum, 0.0, 1.0, low_open=False, high_open=True)
    tau = check_in_range("dampening", dampening, 0.0, 1.0, low_open=False, high_open=True)
    if mu == 0:
        tau = 0.0  # torch.optim.SGD keeps no buffer at momentum 0, so dampening has no effect
    check_bool("nesterov", nesterov)
    if nesterov and (mu == 0 or tau != 0):
        raise ValueError(
            f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum!r}, "
            f"dampening={dampening!r}"
        )

    def init(params: Params) -> MomentumState:
        return MomentumState(_zeros(_check_params(params, finite=True)), 0)

    def update(grads: Params, state: MomentumState, params: Params) -> tuple[Params, MomentumState]:
        _check_step(grads, state, MomentumState, params)
        return _check_result(*_update(grads, state, params))

    def _update(
        grads: Params, state: MomentumState, params: Params
    ) -> tuple[Params, MomentumState]:
        fast = _fast_leaves(params, grads, state.buffer)
        if fast is not None:
            _, gs, bufs = fast
            us, vs = _torch_fast.sgd_momentum_step(
                gs, None if state.step == 0 else bufs, lr=lr, mu=mu, tau=tau, nesterov=nesterov
            )
            return dict(zip(params, us, strict=True)), MomentumState(
                dict(zip(params, vs, strict=True)), state.step + 1
            )
        if state.step == 0:
            v = {
                k: g * 1 for k, g in grads.items()
            }  # a copy: the buffer is ours, never the caller's
        else:
            v = {}
            for k, g in grads.items():
                v[k] = mu * state.buffer[k]  # a new array: the in-place add below is safe
                v[k] += g if tau == 0 else (1 - tau) * g
        if nesterov:
            step = {k: grads[k] + mu * v[k] for k in grads}
        else:
            step = v
        return {k: -lr * s for k, s in step.items()}, MomentumState(v, state.step + 1)

    def _fused(
        grads: Params,
        state: MomentumState,
        params: Params,
        donate: bool,
        sums: list[Any],
        fast: list[list[Any]] | None,
    ) -> tuple[Params, MomentumState]:
        if fast is not None and tau == 0 and not nesterov:
            ps, gs, bufs = fast
            new_ps, vs = _torch_fast.sgd_momentum_apply(
                ps,
                gs,
                bufs,
                lr=lr,
                mu=mu,
                first=state.step == 0,
                inplace=donate and _torch_fast.can_donate(ps + bufs, gs),
                sums=sums,
            )
            return dict(zip(params, new_ps, strict=True)), MomentumState(
                dict(zip(params, vs, strict=True)), state.step + 1
            )
        return _update_then_apply(_update, grads, state, params)

    return GradientTransformation(init, update, _fused_step(MomentumState, _fused))


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
        eps: $\epsilon > 0$, added to $\sqrt{\hat v}$; where it rounds to 0 in the
            parameters' dtype (1e-8 in float16) the smallest positive number of that dtype is
            used instead, so that a zero gradient gives a zero update, not NaN.

    Raises:
        TypeError: If `lr` is not a real number; `b1` is not a real number; `b2` is not a real
            number; `eps` is not a real number.
        ValueError: If `lr` is NaN, infinite or outside (0, inf); `b1` is NaN, infinite or outside
            [0, 1); `b2` is NaN, infinite or outside [0, 1); `eps` is NaN, infinite or outside (0,
            inf).
    """
    lr = check_positive("lr", lr)
    b1 = check_in_range("b1", b1, 0.0, 1.0, low_open=False, high_open=True)
    b2 = check_in_range("b2", b2, 0.0, 1.0, low_open=False, high_open=True)
    eps = check_positive("eps", eps)

    def init(params: Params) -> AdamState:
        _check_params(params, finite=True)
        return AdamState(_zeros(params), _zeros(params), 0)

    def update(grads: Params, state: AdamState, params: Params) -> tuple[Params, AdamState]:
        _check_step(grads, state, AdamState, params)
        return _check_result(*_update(grads, state, params))

    def scalars(t: int, like: Array) -> dict[str, float]:
        r"""The step's scalars, with the bias corrections $c_1 = 1 - b_1^t$, $1/\sqrt{c_2}$."""
        return {
            "lr": lr,
            "b1": b1,
            "b2": b2,
            "eps": _eps_in(eps, like),
            "c1": 1 - b1**t,
            "c2_rsqrt": 1 / math.sqrt(1 - b2**t),
        }

    def _update(grads: Params, state: AdamState, params: Params) -> tuple[Params, AdamState]:
        t = state.step + 1
        sc = scalars(t, next(iter(grads.values())))
        fast = _fast_leaves(params, grads, state.m, state.v)
        if fast is not None:
            _, gs, m_old, v_old = fast
            us, ms, vs = _torch_fast.adam_step(gs, m_old, v_old, **sc)
            return dict(zip(params, us, strict=True)), AdamState(
                dict(zip(params, ms, strict=True)), dict(zip(params, vs, strict=True)), t
            )
        m, v, updates = {}, {}, {}
        for k, g in grads.items():
            # every in-place operation below acts on an array created in this loop
            m[k] = b1 * state.m[k]
            m[k] += (1 - b1) * g
            v[k] = g * g
            v[k] *= 1 - b2
            v[k] += b2 * state.v[k]
            denom = namespace(g).sqrt(v[k])
            denom *= sc["c2_rsqrt"]
            denom += sc["eps"]
            u = m[k] * (-lr / sc["c1"])
            u /= denom
            updates[k] = u
        return updates, AdamState(m, v, t)

    def _fused(
        grads: Params,
        state: AdamState,
        params: Params,
        donate: bool,
        sums: list[Any],
        fast: list[list[Any]] | None,
    ) -> tuple[Params, AdamState]:
        if fast is not None:
            ps, gs, m_old, v_old = fast
            new_ps, ms, vs = _torch_fast.adam_apply(
                ps,
                gs,
                m_old,
                v_old,
                **scalars(state.step + 1, next(iter(grads.values()))),
                inplace=donate and _torch_fast.can_donate(ps + m_old + v_old, gs),
                sums=sums,
            )
            return dict(zip(params, new_ps, strict=True)), AdamState(
                dict(zip(params, ms, strict=True)),
                dict(zip(params, vs, strict=True)),
                state.step + 1,
            )
        return _update_then_apply(_update, grads, state, params)

    return GradientTransformation(init, update, _fused_step(AdamState, _fused))


def ema_to_torch(lr: float, beta: float) -> tuple[float, float]:
    r"""Map the lecture's momentum $(\eta, \beta)$ to PyTorch's `(lr, momentum)`.

    $$\alpha = \eta\beta, \qquad \mu = 1 - \beta .$$

    Args:
        lr: The lecture's step size $\eta > 0$.
        beta: The lecture's EMA weight $\beta \in (0, 1]$.

    Returns:
        `(alpha, mu)` such that [`sgd_momentum`][dlcore.optim.sgd_momentum]`(alpha, mu)` and
        [`momentum`][dlcore.optim.momentum]`(lr, beta)` give the same iterates.

    Raises:
        TypeError: If `lr` is not a real number; `beta` is not a real number.
        ValueError: If `lr` is NaN, infinite or outside (0, inf); `beta` is NaN, infinite or
            outside (0, 1].
    """
    lr = check_positive("lr", lr)
    beta = check_in_range("beta", beta, 0.0, 1.0, low_open=True, high_open=False)
    return lr * beta, 1.0 - beta


def apply_updates(params: Params, updates: Params) -> Params:
    r"""Return the new parameters $w + u$ (a new dict; the inputs are not modified).

    Raises:
        TypeError: If `params` or `updates` is not a dict of real floating arrays of one library.
        ValueError: If their keys or shapes differ, an entry is not finite, or the sum overflows.
            Also if `params` has a non-finite entry; `updates` has a non-finite entry.
    """
    _check_tree("updates", updates, _check_params(params))
    new = _apply(params, updates)
    if _all_finite(new):
        return new
    _check_params(params, finite=True)
    _check_tree("updates", updates, params, finite=True)
    raise ValueError(f"params + updates overflowed at {_first_nonfinite({'params': new})}")


def _apply(params: Params, updates: Params) -> Params:
    fast = _fast_leaves(params, updates)
    if fast is not None:
        return dict(zip(params, _torch_fast.add(*fast), strict=True))
    return {k: params[k] + updates[k] for k in params}


def step(
    opt: GradientTransformation,
    grads: Params,
    state: Any,
    params: Params,
    *,
    donate: bool = False,
) -> tuple[Params, Any]:
    r"""One optimizer step $w_{t+1} = w_t + u_t$: `update`, then `apply_updates`, fused.

    Returns `(new_params, new_state)`, the result of
    `updates, new_state = opt.update(grads, state, params)` and
    `apply_updates(params, updates)`. Optimizers with a fused step (on torch tensors:
    [`sgd`][dlcore.optim.sgd], [`sgd_momentum`][dlcore.optim.sgd_momentum] without dampening
    or Nesterov, and [`adam`][dlcore.optim.adam]) never write the updates out and use fused operations
    (`torch.add(..., alpha=)`, `lerp`, `addcmul`, `addcdiv`), so their results may differ from
    the two-call form in the last bits; `tests/api/test_optim_step.py` bounds the difference by a
    few units of rounding. Every other optimizer and backend runs the two calls.

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

    Raises:
        TypeError: If `opt` is not a `GradientTransformation`, `donate` is not a bool, or params,
            grads or state have the wrong type, dtype or library.
        ValueError: If grads or state do not match params in keys and shapes, or an entry of
            params, grads or state is not finite (named when the step is pure; with `donate=True`
            the gradients are named, else params and state together), or the step overflows.
    """
    opt = _check_opt(opt)
    check_bool("donate", donate)
    if opt.step is not None:
        return opt.step(grads, state, params, donate)
    updates, new_state = opt.update(grads, state, params)
    return _check_step_result(_apply(params, updates), new_state, grads, state, params, False)


def _update_then_apply(
    update: Callable[[Params, Any, Params], tuple[Params, Any]],
    grads: Params,
    state: Any,
    params: Params,
) -> tuple[Params, Any]:
    """The unfused step: `update`, then [`apply_updates`][dlcore.optim.apply_updates].

    Where a fused step falls back to it (not torch, or dampening/Nesterov), the inputs are
    checked finite first, as `update` does, so no arithmetic runs on a NaN."""
    _check_params(params, finite=True)
    _check_tree("grads", grads, params, finite=True)
    for name, tree in _state_trees(state).items():
        _check_tree(name, tree, params, finite=True)
    updates, new_state = update(grads, state, params)
    return _apply(params, updates), new_state


class RMSPropState(NamedTuple):
    """RMSProp's average of squared gradients and the number of steps taken (`step`)."""

    v: Params
    step: int


def _check_opt(opt: Any) -> GradientTransformation:
    if not isinstance(opt, GradientTransformation):
        raise TypeError(
            f"opt must be a GradientTransformation, got {type(opt).__name__}: {opt!r:.80}"
        )
    return opt


def ema(beta: float) -> GradientTransformation:
    r"""The exponential moving average of the gradients, as a gradient transformation.

    $$a_{t+1} = (1-\beta)\,a_t + \beta\, g_t, \qquad a_0 = 0,$$

    and the "update" it returns is the average $a_{t+1}$ itself (no step size, no sign). Feeding
    it to [`sgd`][dlcore.optim.sgd] is the lecture's momentum: GD on smoothed gradients.

    Args:
        beta: Weight on the new input, $\beta \in (0, 1]$; $\beta = 1$ passes the input through.

    Raises:
        TypeError: If `beta` is not a real number.
        ValueError: If `beta` is NaN, infinite or outside (0, 1].
    """
    beta = check_in_range("beta", beta, 0.0, 1.0, low_open=True, high_open=False)

    def init(params: Params) -> MomentumState:
        return MomentumState(_zeros(_check_params(params, finite=True)), 0)

    def update(grads: Params, state: MomentumState, params: Params) -> tuple[Params, MomentumState]:
        _check_step(grads, state, MomentumState, params)
        a = {k: (1 - beta) * state.buffer[k] + beta * grads[k] for k in grads}
        return _check_result(dict(a), MomentumState(a, state.step + 1))

    return GradientTransformation(init, update)


def nesterov(lr: float, beta: float) -> GradientTransformation:
    r"""Nesterov momentum in the lecture's EMA form, run on the look-ahead point.

    The lecture evaluates the gradient where the momentum already commits the next step to go,
    $u_t = w_t - \eta(1-\beta)\,a_t$:
    $$a_{t+1} = (1-\beta)\,a_t + \beta\,\nabla L(u_t), \qquad w_{t+1} = w_t - \eta\, a_{t+1} .$$
    A gradient oracle evaluates at the parameters it is given, so the parameters this optimizer
    carries are the look-ahead points $u_t$ (with $u_0 = w_0$), which move by
    $$u_{t+1} = u_t + \eta(1-\beta)\,a_t - \eta(2-\beta)\,a_{t+1} ;$$
    the lecture's $w_t = u_t + \eta(1-\beta)\,a_t$. With $\alpha = \eta\beta$ and $\mu = 1-\beta$
    this is `torch.optim.SGD(nesterov=True)`, whose parameters are the same $u_t$.

    Args:
        lr: Step size $\eta > 0$.
        beta: EMA weight $\beta \in (0, 1]$; $\beta = 1$ is plain GD.

    Raises:
        TypeError: If `lr` is not a real number; `beta` is not a real number.
        ValueError: If `lr` is NaN, infinite or outside (0, inf); `beta` is NaN, infinite or
            outside (0, 1].
    """
    lr = check_positive("lr", lr)
    beta = check_in_range("beta", beta, 0.0, 1.0, low_open=True, high_open=False)

    def init(params: Params) -> MomentumState:
        return MomentumState(_zeros(_check_params(params, finite=True)), 0)

    def update(grads: Params, state: MomentumState, params: Params) -> tuple[Params, MomentumState]:
        _check_step(grads, state, MomentumState, params)
        old = state.buffer
        a = {k: (1 - beta) * old[k] + beta * grads[k] for k in grads}
        updates = {k: lr * (1 - beta) * old[k] - lr * (2 - beta) * a[k] for k in grads}
        return _check_result(updates, MomentumState(a, state.step + 1))

    return GradientTransformation(init, update)


def rmsprop(lr: float, alpha: float = 0.99, eps: float = 1e-8) -> GradientTransformation:
    r"""RMSProp, as in `torch.optim.RMSprop` (no momentum, not centered).

    $$v_t = \alpha\, v_{t-1} + (1-\alpha)\, g_t^2, \qquad w_t = w_{t-1} - \eta\,\frac{g_t}{\sqrt{v_t} + \epsilon},$$

    coordinate by coordinate, $v_0 = 0$: Adam without the first moment and without bias
    correction. In the lecture's symbols $\alpha = 1 - \beta'$.

    Args:
        lr: Step size $\eta > 0$.
        alpha: Decay $\alpha \in [0, 1)$.
        eps: $\epsilon > 0$, added to $\sqrt{v}$ (raised to the smallest positive number of
            the dtype where it rounds to 0 there, as in [`adam`][dlcore.optim.adam]).

    Raises:
        TypeError: If `lr` is not a real number; `alpha` is not a real number; `eps` is not a real
            number.
        ValueError: If `lr` is NaN, infinite or outside (0, inf); `alpha` is NaN, infinite or
            outside [0, 1); `eps` is NaN, infinite or outside (0, inf).
    """
    lr = check_positive("lr", lr)
    alpha = check_in_range("alpha", alpha, 0.0, 1.0, low_open=False, high_open=True)
    eps = check_positive("eps", eps)

    def init(params: Params) -> RMSPropState:
        return RMSPropState(_zeros(_check_params(params, finite=True)), 0)

    def update(grads: Params, state: RMSPropState, params: Params) -> tuple[Params, RMSPropState]:
        _check_step(grads, state, RMSPropState, params)
        v = {k: alpha * state.v[k] + (1 - alpha) * g * g for k, g in grads.items()}
        updates = {
            k: -lr * g / (namespace(g).sqrt(v[k]) + _eps_in(eps, g)) for k, g in grads.items()
        }
        return _check_result(updates, RMSPropState(v, state.step + 1))

    return GradientTransformation(init, update)


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

    Raises:
        TypeError: If `opt` is not a `GradientTransformation`; `weight_decay` is not a real number.
        ValueError: If `weight_decay` is NaN, infinite or outside [0, inf).
    """
    opt = _check_opt(opt)
    wd = check_nonnegative("weight_decay", weight_decay)

    def update(grads: Params, state: Any, params: Params) -> tuple[Params, Any]:
        _check_tree("grads", grads, _check_params(params))
        fast = _fast_leaves(params, grads)
        if fast is not None:
            ps, gs = fast
            return opt.update(
                dict(zip(params, _torch_fast.add_scaled(gs, wd, ps), strict=True)), state, params
            )
        return opt.update({k: grads[k] + wd * params[k] for k in grads}, state, params)

    return GradientTransformation(opt.init, update)


def decoupled_weight_decay(opt: GradientTransformation, decay: float) -> GradientTransformation:
    r"""Decoupled weight decay: add $-\delta\, w_t$ to the updates of `opt`.

    $$w_{t+1} = w_t - \delta\, w_t + u_t, \qquad u_t = \text{the update of `opt`},$$

    so the decay does not pass through the optimizer's normalisation. AdamW is this with
    $\delta = \eta\lambda_{wd}$ around Adam.

    Args:
        opt: The optimizer to wrap.
        decay: The per-step shrink factor $\delta \in [0, 1)$.

    Raises:
        TypeError: If `opt` is not a `GradientTransformation`; `decay` is not a real number.
        ValueError: If `decay` is NaN, infinite or outside [0, inf).
    """
    opt = _check_opt(opt)
    delta = check_in_range("decay", decay, 0.0, 1.0, low_open=False, high_open=True)

    def update(grads: Params, state: Any, params: Params) -> tuple[Params, Any]:
        updates, state = opt.update(grads, state, params)
        fast = _fast_leaves(params, updates)
        if fast is not None:
            ps, us = fast
            return dict(zip(params, _torch_fast.add_scaled(us, -delta, ps), strict=True)), state
        return {k: updates[k] - delta * params[k] for k in updates}, state

    return GradientTransformation(opt.init, update)


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

    Raises:
        TypeError: If `lr` is not a real number; `b1` is not a real number; `b2` is not a real
            number; `eps` is not a real number; `weight_decay` is not a real number.
        ValueError: If `lr` is NaN, infinite or outside (0, inf); `b1` is NaN, infinite or outside
            [0, 1); `b2` is NaN, infinite or outside [0, 1); `eps` is NaN, infinite or outside (0,
            inf); `weight_decay` is NaN, infinite or outside [0, inf).
    """
    inner = adam(lr, b1, b2, eps)
    wd = check_nonnegative("weight_decay", weight_decay)
    if not lr * wd < 1:
        raise ValueError(f"weight_decay must satisfy lr * weight_decay < 1, got {weight_decay!r}")
    return decoupled_weight_decay(inner, lr * wd)
