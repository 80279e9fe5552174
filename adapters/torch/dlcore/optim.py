r"""dlcore's optimizers run by `torch.optim`, behind dlcore's pure `init` / `update` API.

Every optimizer here is one `torch.optim` step per `update`: the gradients, state and (where
the step reads them) parameters are copied into torch tensors (on the device of torch inputs, on
the CPU otherwise, in the inputs' dtype), and the single-tensor step that
`torch.optim.<Optimizer>(..., foreach=False).step()` runs (`torch.optim.sgd.sgd`,
`torch.optim.adam.adam`, `torch.optim.adamw.adamw`, `torch.optim.rmsprop.rmsprop`) updates
them. Without weight decay the step does not read the parameters, so it runs on a zero
parameter and the update is torch's increment exactly as torch computes it; with weight decay it
runs on the parameters and the update is the new parameters minus the old. Results come back in
the inputs' namespace. The state is dlcore's (`MomentumState`, `AdamState`, `RMSPropState`, with
`count`); its arrays are torch's buffers (`momentum_buffer`, `exp_avg`, `exp_avg_sq`,
`square_avg`) and `count` torch's `step`.

| dlcore | `torch.optim` |
|---|---|
| `sgd(lr)` (= `gd`) | `SGD(lr)` |
| `sgd_momentum(lr, momentum, dampening=, nesterov=)` | `SGD(lr, momentum, dampening, nesterov)` |
| `ema_momentum(lr, beta)` / `ema_nesterov(lr, beta)` | `SGD(lr * beta, momentum=1 - beta[, nesterov=True])`, buffer $a = \beta v$ |
| `rmsprop(lr, alpha, eps)` | `RMSprop(lr, alpha, eps)` |
| `adam(lr, b1, b2, eps)` | `Adam(lr, (b1, b2), eps)` |
| `adamw(lr, b1, b2, eps, weight_decay)` | `AdamW(lr, (b1, b2), eps, weight_decay)` |
| `coupled_weight_decay(opt, wd)` | `weight_decay=wd` of `SGD`, `Adam`, `RMSprop` |
| `decoupled_weight_decay(adam(lr, ...), decay)` | `AdamW(lr, ..., weight_decay=decay / lr)` |
| `trace`, `ema`, `scale_by_adam`, `scale_by_rms` | `SGD` / `Adam` / `RMSprop` on a zero parameter with `lr=1` (`ema`: `lr=beta`, `momentum=1 - beta`): the update is minus the result, the optimizer's direction |

`ema_momentum` is the lecture's EMA form, which `torch.optim` does not have: it runs as the
equivalent buffer form ([`ema_to_torch`][dlcore.optim.ema_to_torch]), and its state keeps the
lecture's buffer $a_t = \beta v_t$, loaded into torch as $v = a/\beta$ from the first step on (torch's
own buffer starts at the first gradient, whatever the state holds). Decoupled weight decay on anything but Adam, and every other
chain, are dlcore's transforms ([`chain`][dlcore.optim.chain], [`scale`][dlcore.optim.scale],
[`add_decayed_weights`][dlcore.optim.add_decayed_weights]) around the torch steps. The argument
checks, `chain`, `apply_updates` and `step` are dlcore's; `step` runs `update` then
`apply_updates` (dlcore's fused step covers none of the torch transforms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dlcore.backend import Array, asarray, contract, to_numpy

from ._reference import load

_ref = load("optim")

Params = _ref.Params
GradientTransformation = _ref.GradientTransformation
EmptyState = _ref.EmptyState
MomentumState = _ref.MomentumState
AdamState = _ref.AdamState
RMSPropState = _ref.RMSPropState
chain = _ref.chain
scale = _ref.scale
add_decayed_weights = _ref.add_decayed_weights
ema_to_torch = _ref.ema_to_torch
apply_updates = _ref.apply_updates
step = _ref.step

__all__ = list(_ref.__all__)  # dlcore's API, name for name

_KIND = "torch.optim"
_STATE = {"SGD": MomentumState, "Adam": AdamState, "AdamW": AdamState, "RMSprop": RMSPropState}


def _tensor(x: Array) -> Any:
    """A torch copy of `x` (same dtype; the device of a torch tensor, else the CPU)."""
    import torch

    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    return torch.from_numpy(np.array(to_numpy(x), copy=True))


def _back(t: Any, like: Array) -> Array:
    """`t` in the namespace, dtype and device of `like`."""
    import torch

    return t if isinstance(like, torch.Tensor) else asarray(t, like=like)


def _functional(name: str) -> Callable[..., None]:
    """`torch.optim.<name>.<name>`, the single-tensor step of `torch.optim.<Name>.step`."""
    import importlib

    return getattr(importlib.import_module(f"torch.optim.{name}"), name)  # type: ignore[no-any-return]


def _torch_step(
    name: str, kwargs: dict[str, Any], state_type: type, *, mode: str, beta: float | None
) -> GradientTransformation:
    """One `torch.optim.<name>(**kwargs)` step as a dlcore transform.

    The step is torch's own single-tensor code, the function `torch.optim.<name>.step` calls
    (`torch.optim.sgd.sgd`, `.adam.adam`, `.adamw.adamw`, `.rmsprop.rmsprop`, `foreach=False`),
    called on copies of the parameters, gradients and state, which it updates in place. `mode`
    says what it runs on and what the update is:

    - `"direction"` (a transform): a zero parameter, with `lr=1` unless given; the update is
      minus the result, the optimizer's direction;
    - `"increment"` (an optimizer whose step does not read the parameters: no weight decay): a
      zero parameter; the update is the result, torch's increment $-\\alpha d_t$ exactly as
      torch computes it before adding it to the parameters;
    - `"difference"` (weight decay reads the parameters): the parameters; the update is the
      new parameters minus the old.

    With `beta`, the state buffer is the lecture's EMA $a = \\beta v$ of torch's buffer $v$,
    and a buffer is loaded from the first step on ($v_0 = a_0/\\beta$), as the EMA form has
    one; torch's own buffer form starts at $v_1 = g_0$, whatever the state says.
    """
    direction, zero = mode == "direction", mode != "difference"
    kwargs = {"lr": 1.0, **kwargs} if direction else dict(kwargs)
    kw = dict(kwargs, maximize=False, foreach=False)
    kw.setdefault("weight_decay", 0.0)
    if name == "SGD":
        kw.setdefault("momentum", 0.0)
        kw.setdefault("dampening", 0.0)
        kw.setdefault("nesterov", False)
    elif name == "RMSprop":
        kw.update(momentum=0.0, centered=False)
    else:
        b1, b2 = kw.pop("betas", (0.9, 0.999))
        kw.update(beta1=b1, beta2=b2, amsgrad=False)

    def body(g: Params, state: Any, params: Params) -> tuple[Params, Any]:
        import torch

        keys = list(g)
        grads = [_tensor(g[k]) for k in keys]
        olds = [
            torch.zeros_like(t) if zero else _tensor(params[k])
            for k, t in zip(keys, grads, strict=True)
        ]
        ps = [t.clone() for t in olds]
        count = 0 if state_type is EmptyState else state.count
        steps = [torch.tensor(float(count)) for _ in keys]
        if name == "SGD":
            bufs = [
                _tensor(state.buffer[k]) / (beta or 1.0)
                if (count > 0 or beta) and kw["momentum"] > 0
                else None  # torch starts the buffer at the first gradient
                for k in keys
            ]
            _functional("sgd")(ps, grads, bufs, **kw)
            # at momentum 0 torch keeps no buffer: dlcore's is the gradient
            trees = [[g0 if b is None else b for b, g0 in zip(bufs, grads, strict=True)]]
            trees = [[b * beta for b in trees[0]]] if beta else trees
        elif name == "RMSprop":
            trees = [[_tensor(state.v[k]) for k in keys]]
            _functional("rmsprop")(ps, grads, trees[0], [], [], steps, **kw)
        else:
            trees = [[_tensor(state.m[k]) for k in keys], [_tensor(state.v[k]) for k in keys]]
            _functional(name.lower())(ps, grads, *trees, [], steps, **kw)
        news = [
            -p if direction else p if zero else p - old for p, old in zip(ps, olds, strict=True)
        ]
        updates = {k: _back(u, g[k]) for k, u in zip(keys, news, strict=True)}
        if state_type is EmptyState:
            return updates, state
        out = [{k: _back(t, g[k]) for k, t in zip(keys, tree, strict=True)} for tree in trees]
        return updates, state_type(*out, count + 1)

    hyper = (name, tuple(sorted(kwargs.items())), mode, beta)
    return _ref._transform(_KIND, hyper, state_type, body)


def _torch_of(opt: GradientTransformation) -> tuple[str, dict[str, Any], bool, Any] | None:
    """`(name, kwargs, mode, beta)` of an optimizer that is one torch step, else `None`."""
    if len(opt.ops) != 1 or opt.ops[0].kind != _KIND:
        return None
    name, kwargs, mode, beta = opt.ops[0].hyper
    return name, dict(kwargs), mode, beta


def _wrap(reference: Callable[..., Any]) -> Callable[[Callable[..., Any]], Any]:
    """Give a torch version dlcore's name, docstring and argument checks (`__contract__`)."""

    def decorate(fn: Callable[..., Any]) -> Any:
        fn.__doc__ = reference.__wrapped__.__doc__  # the source's: contract adds the Raises clauses
        return contract(reference.__contract__)(fn)

    return decorate


# ---- transforms: a torch step with lr = 1 on a zero parameter ---------------------------------


@_wrap(_ref.ema)
def ema(beta: float, *, nesterov: bool = False) -> GradientTransformation:
    # SGD(lr=beta, momentum=1-beta) on a zero parameter: minus its result is beta v = a
    _, mu = ema_to_torch(1.0, beta)
    kw = {"lr": beta, "momentum": mu, "nesterov": nesterov and mu > 0}
    return _torch_step("SGD", kw, MomentumState, mode="direction", beta=beta)


@_wrap(_ref.trace)
def trace(
    momentum: float, *, dampening: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    _ref.trace(momentum, dampening=dampening, nesterov=nesterov)  # dlcore's domain checks
    kw = {"momentum": momentum, "dampening": dampening, "nesterov": nesterov}
    return _torch_step("SGD", kw, MomentumState, mode="direction", beta=None)


@_wrap(_ref.scale_by_adam)
def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    return _torch_step(
        "Adam", {"betas": (b1, b2), "eps": eps}, AdamState, mode="direction", beta=None
    )


@_wrap(_ref.scale_by_rms)
def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8) -> GradientTransformation:
    kw = {"alpha": alpha, "eps": eps}
    return _torch_step("RMSprop", kw, RMSPropState, mode="direction", beta=None)


# ---- optimizers: a torch step on the parameters -------------------------------------------------


@_wrap(_ref.sgd)
def sgd(lr: float) -> GradientTransformation:
    return _torch_step("SGD", {"lr": lr}, EmptyState, mode="increment", beta=None)


gd = sgd


def _ema_sgd(lr: float, beta: float, nesterov: bool) -> GradientTransformation:
    alpha, mu = ema_to_torch(lr, beta)
    kw = {"lr": alpha, "momentum": mu, "nesterov": nesterov and mu > 0}
    return _torch_step("SGD", kw, MomentumState, mode="increment", beta=beta)


@_wrap(_ref.ema_momentum)
def ema_momentum(lr: float, beta: float) -> GradientTransformation:
    return _ema_sgd(lr, beta, False)


@_wrap(_ref.ema_nesterov)
def ema_nesterov(lr: float, beta: float) -> GradientTransformation:
    return _ema_sgd(lr, beta, True)


@_wrap(_ref.sgd_momentum)
def sgd_momentum(
    lr: float, momentum: float, *, dampening: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    _ref.trace(momentum, dampening=dampening, nesterov=nesterov)  # dlcore's domain checks
    kw = {"lr": lr, "momentum": momentum, "dampening": dampening, "nesterov": nesterov}
    return _torch_step("SGD", kw, MomentumState, mode="increment", beta=None)


@_wrap(_ref.rmsprop)
def rmsprop(lr: float, alpha: float = 0.99, eps: float = 1e-8) -> GradientTransformation:
    kw = {"lr": lr, "alpha": alpha, "eps": eps}
    return _torch_step("RMSprop", kw, RMSPropState, mode="increment", beta=None)


@_wrap(_ref.adam)
def adam(
    lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    kw = {"lr": lr, "betas": (b1, b2), "eps": eps}
    return _torch_step("Adam", kw, AdamState, mode="increment", beta=None)


@_wrap(_ref.adamw)
def adamw(
    lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.01
) -> GradientTransformation:
    _ref.adamw(lr, b1, b2, eps, weight_decay)  # dlcore's domain check (lr * weight_decay < 1)
    kw = {"lr": lr, "betas": (b1, b2), "eps": eps, "weight_decay": weight_decay}
    return _torch_step("AdamW", kw, AdamState, mode="difference", beta=None)


@_wrap(_ref.coupled_weight_decay)
def coupled_weight_decay(
    opt: GradientTransformation, weight_decay: float
) -> GradientTransformation:
    one = _torch_of(opt)
    if one is None or one[0] == "AdamW" or one[2] != "increment":
        return _ref.coupled_weight_decay(opt, weight_decay)  # dlcore's chain
    name, kw, _, beta = one
    return _torch_step(name, dict(kw, weight_decay=weight_decay), _STATE[name],
                       mode="difference", beta=beta)  # fmt: skip


@_wrap(_ref.decoupled_weight_decay)
def decoupled_weight_decay(opt: GradientTransformation, decay: float) -> GradientTransformation:
    one = _torch_of(opt)
    if one is None or one[0] != "Adam" or one[2] != "increment":
        return _ref.decoupled_weight_decay(opt, decay)  # dlcore's chain: no torch optimizer has it
    _, kw, _, _ = one
    return _torch_step("AdamW", dict(kw, weight_decay=decay / kw["lr"]), AdamState,
                       mode="difference", beta=None)  # fmt: skip


def __getattr__(name: str) -> Any:
    """Everything else (private helpers that dlcore's other modules import) is dlcore's."""
    return getattr(_ref, name)
