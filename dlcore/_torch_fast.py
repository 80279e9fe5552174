r"""Multi-tensor torch fast path of `dlcore.optim` (an implementation detail).

The readable definition of every optimizer is its array-API code in `dlcore.optim`: one
out-of-place expression per tensor. On torch that costs about five kernel launches (and five
Python dispatches) per tensor and step, which on CUDA is launch bound and on the CPU dispatch
bound for models with many small tensors. When every array of a step is a plain torch tensor on
one device and dtype, `dlcore.optim` instead runs the same arithmetic through torch's
multi-tensor ("foreach") operations: one call per operation for all tensors at once. It runs
only on the device types in `DEVICE_TYPES` (CUDA; see there why not the CPU).

Rules the fast path of `update` (`sgd_momentum_step`, `adam_step`, `add_scaled`, `add`) keeps,
and that `tests/api/test_optim_fast_path.py` checks:

- **Same arithmetic.** Each function here performs the same sequence of elementwise operations,
  on the same scalars, as the reference code it replaces (no fused multiply-adds, no reordering),
  so its results equal the reference path's bit for bit on the CPU (and on CUDA up to the
  kernels' rounding of the same operations).
- **Pure.** Only the out-of-place `torch._foreach_*` forms touch the inputs; the in-place forms
  act only on lists this module has just allocated. Inputs are never modified.
- **No host syncs.** Scalars are Python floats computed once per step, never read back from
  the device.

The fused steps (`sgd_apply`, `sgd_momentum_apply`, `adam_apply`, behind `dlcore.optim.step`)
have a different contract: they replace `update` followed by `apply_updates`, on the CPU too (`STEP_DEVICE_TYPES`),
use fused operations (`add` with `alpha`, `lerp`, `addcmul`, `addcdiv`), and so round
differently; `tests/api/test_optim_step.py` bounds the difference by an error analysis. With
`inplace=True` (the caller donated its arrays, checked by `can_donate`) they write into the
parameters and state; otherwise they are pure too.

`torch` is never imported here: if it is not already in `sys.modules`, no argument can be a
torch tensor and the fast path is skipped.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "torch_module",
    "probe",
    "torch_leaves",
    "sgd_momentum_step",
    "adam_step",
    "add_scaled",
    "add",
    "STEP_DEVICE_TYPES",
    "LOOP_DEVICE_TYPES",
    "can_donate",
    "sgd_apply",
    "sgd_momentum_apply",
    "adam_apply",
]

Tensors = list[Any] | tuple[Any, ...]
"""A list of tensors, as torch's multi-tensor operations take and return them."""

DEVICE_TYPES: frozenset[str] = frozenset({"cuda"})
"""Device types the fast path runs on.

Not the CPU: there a step is bound by memory traffic, not by dispatch, and the reference loop,
which runs all operations on one tensor while it is in cache before moving to the next, is
faster than one pass per operation over all tensors (measured: 1.2-1.3x, 1M float32 parameters
in 10 tensors). The tests add "cpu" here to check the fast path bit for bit against the
reference on machines without a GPU.
"""


STEP_DEVICE_TYPES: frozenset[str] = frozenset({"cpu", "cuda"})
"""Device types the fused steps (`sgd_apply`, `sgd_momentum_apply`, `adam_apply`) run on.

A fused step replaces `update` followed by `apply_updates`, so it need not write the updates
out: fewer passes over memory, which is what the CPU is bound by. On the CPU it loops over the
tensors (each stays in cache for all its operations); elsewhere it uses the multi-tensor ops.
"""


LOOP_DEVICE_TYPES: frozenset[str] = frozenset({"cpu"})
"""Device types on which the fused steps loop over the tensors instead of using the
multi-tensor ops (the tests empty it to run the multi-tensor form on the CPU)."""


def torch_module(x: Any) -> Any:
    """The `torch` module if it is imported and `x` is a tensor, else `None`."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and isinstance(x, torch.Tensor) else None


def torch_leaves(
    keys: Sequence[str], *trees: dict[str, Any], device_types: frozenset[str] | None = None
) -> list[list[Any]] | None:
    """The leaves of `trees` as lists in `keys` order, if the fast path applies; else `None`.

    It applies when every leaf is a dense `torch.Tensor` on the device and with the dtype of the
    first one, that device's type is in `device_types` (default `DEVICE_TYPES`), and no leaf
    requires grad (a tensor that does would need the autograd graph the reference path records).
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    first = trees[0][keys[0]]
    if not isinstance(first, torch.Tensor):
        return None
    device, dtype, strided = first.device, first.dtype, torch.strided
    if device.type not in (DEVICE_TYPES if device_types is None else device_types):
        return None
    out = []
    for tree in trees:
        leaves = [tree[k] for k in keys]
        for x in leaves:
            if (
                not isinstance(x, torch.Tensor)
                or x.requires_grad
                or x.dtype is not dtype  # dtypes and layouts are singletons
                or x.layout is not strided
                or x.device != device
            ):
                return None
        out.append(leaves)
    return out


def sgd_momentum_step(
    grads: Tensors, buffers: Tensors | None, *, lr: float, mu: float, tau: float, nesterov: bool
) -> tuple[Tensors, Tensors]:
    """`(updates, new_buffers)` of `dlcore.optim.sgd_momentum`; `buffers=None` on the first step."""
    import torch

    with torch.no_grad():
        v: Tensors
        if buffers is None:
            v = [g.clone() for g in grads]  # the buffer is ours: never the caller's gradient
        else:
            v = torch._foreach_mul(buffers, mu)
            torch._foreach_add_(v, grads if tau == 0 else torch._foreach_mul(grads, 1 - tau))
        step: Tensors = torch._foreach_add(grads, torch._foreach_mul(v, mu)) if nesterov else v
        return torch._foreach_mul(step, -lr), v


def adam_step(
    grads: Tensors,
    m_old: Tensors,
    v_old: Tensors,
    *,
    lr: float,
    b1: float,
    b2: float,
    eps: float,
    c1: float,
    c2_rsqrt: float,
) -> tuple[Tensors, Tensors, Tensors]:
    """`(updates, m, v)` of `dlcore.optim.adam`, with `c2_rsqrt` $= 1/\\sqrt{c_2}$."""
    import torch

    with torch.no_grad():
        m = torch._foreach_mul(m_old, b1)
        torch._foreach_add_(m, torch._foreach_mul(grads, 1 - b1))
        v = torch._foreach_mul(grads, grads)
        torch._foreach_mul_(v, 1 - b2)
        torch._foreach_add_(v, torch._foreach_mul(v_old, b2))
        denom = torch._foreach_sqrt(v)
        torch._foreach_mul_(denom, c2_rsqrt)
        torch._foreach_add_(denom, eps)
        updates = torch._foreach_mul(m, -lr / c1)
        torch._foreach_div_(updates, denom)
        return updates, m, v


def add_scaled(a: Tensors, c: float, b: Tensors) -> Tensors:
    """`[x + c * y for x, y in zip(a, b)]`, rounding `c * y` first as the reference does."""
    import torch

    with torch.no_grad():
        return torch._foreach_add(a, torch._foreach_mul(b, c))


def add(a: Tensors, b: Tensors) -> Tensors:
    """`[x + y for x, y in zip(a, b)]`."""
    import torch

    with torch.no_grad():
        return torch._foreach_add(a, b)


def _probed(new: Tensors, other: Tensors, sums: list[Any] | None) -> Tensors:
    """Append `probe(a, b)` for each pair of `new` and `other` to `sums`, if given."""
    if sums is not None:
        sums.extend(probe(a, b) for a, b in zip(new, other, strict=True))
    return new


def probe(a: Any, b: Any) -> Any:
    r"""A 0-d tensor that is finite only if every entry of `a` and of `b` is finite:
    $\sum_i a_i b_i$. A NaN or an infinity in either makes a term NaN or infinite ($\infty
    \cdot 0$ is NaN), and so the sum; an overflow of finite terms can make it non-finite too,
    which the caller then looks into. A step probes the new parameters with an array it has just
    read or written (the gradient, the buffer, Adam's denominator), while both are in cache.

    Measured on the CPU (1M float32 in 10 tensors, two threads): a BLAS `dot` costs about a third
    less than `a.sum()`, which splits each tensor over the threads and joins them. A 1-d
    tensor is used as it is: a `reshape` is one more dispatch per tensor (about 1.5 us).
    """
    if a.ndim == 1:
        return a.dot(b)
    return a.reshape(-1).dot(b.reshape(-1))


def can_donate(donated: Tensors, kept: Tensors) -> bool:
    """Whether the fused steps may write into `donated`: each is contiguous and has a storage
    of its own, shared with no other donated tensor and with none of `kept` (the gradients).

    The check is by storage, so it is conservative: two disjoint views of one storage are
    refused too. A refused donation is computed out of place instead.
    """
    seen = {x.untyped_storage().data_ptr() for x in donated}
    return (
        len(seen) == len(donated)
        and all(x.is_contiguous() for x in donated)
        and seen.isdisjoint([x.untyped_storage().data_ptr() for x in kept])
    )


def sgd_apply(
    params: Tensors, grads: Tensors, *, lr: float, inplace: bool, sums: list[Any] | None = None
) -> Tensors:
    r"""The new parameters of GD, $w' = w - \eta g$, one fused operation per tensor.

    `inplace`: the caller donates `params`, which are updated in place and returned.
    """
    import torch

    with torch.no_grad():
        if params[0].device.type not in LOOP_DEVICE_TYPES:
            if inplace:
                torch._foreach_add_(params, grads, alpha=-lr)
                out = list(params)
            else:
                out = torch._foreach_add(params, grads, alpha=-lr)
            return _probed(out, grads, sums)
        new = []
        for p, g in zip(params, grads, strict=True):
            new.append(p.add_(g, alpha=-lr) if inplace else torch.add(p, g, alpha=-lr))
            if sums is not None:
                sums.append(probe(new[-1], g))  # while they are in cache
        return new


def sgd_momentum_apply(
    params: Tensors,
    grads: Tensors,
    buffers: Tensors,
    *,
    lr: float,
    mu: float,
    first: bool,
    inplace: bool,
    sums: list[Any] | None = None,
) -> tuple[Tensors, Tensors]:
    r"""`(new_params, new_buffers)` of heavy ball, one fused operation each:
    $v' = g + \mu v$ ($v' = g$ on the `first` step), $w' = w - \alpha v'$.

    `inplace`: the caller donates `params` and `buffers`, which are updated in place and
    returned; otherwise everything is computed out of place.
    """
    import torch

    with torch.no_grad():
        if params[0].device.type in LOOP_DEVICE_TYPES:
            # all operations on one tensor while it is in cache, then the next one
            new, v = [], []
            for p, g, b in zip(params, grads, buffers, strict=True):
                if first:
                    vk = b.copy_(g) if inplace else g.clone()
                else:
                    vk = torch.add(g, b, alpha=mu, out=b) if inplace else torch.add(g, b, alpha=mu)
                new.append(p.add_(vk, alpha=-lr) if inplace else torch.add(p, vk, alpha=-lr))
                v.append(vk)
                if sums is not None:
                    sums.append(probe(new[-1], vk))
            return new, v
        if first:
            if inplace:
                v = list(buffers)
                torch._foreach_copy_(v, grads)
            else:
                v = [g.clone() for g in grads]
        elif inplace:
            v = list(buffers)
            torch._foreach_mul_(v, mu)
            torch._foreach_add_(v, grads)
        else:
            v = torch._foreach_add(grads, buffers, alpha=mu)
        if inplace:
            torch._foreach_add_(params, v, alpha=-lr)
            return _probed(list(params), v, sums), v
        return _probed(torch._foreach_add(params, v, alpha=-lr), v, sums), v


def adam_apply(
    params: Tensors,
    grads: Tensors,
    m_old: Tensors,
    v_old: Tensors,
    *,
    lr: float,
    b1: float,
    b2: float,
    eps: float,
    c1: float,
    c2_rsqrt: float,
    inplace: bool,
    sums: list[Any] | None = None,
) -> tuple[Tensors, Tensors, Tensors]:
    r"""`(new_params, m, v)` of Adam in five or six fused operations per tensor:

    $m' = \mathrm{lerp}(m, g, 1-b_1)$, $v' = b_2 v + (1-b_2)\, g \odot g$, and
    $w' = w - (\eta/c_1)\, m' / (\sqrt{v'}/\sqrt{c_2} + \epsilon)$, computed as
    $w' = w - (\eta \sqrt{c_2}/c_1)\, m' / (\sqrt{v'} + \epsilon \sqrt{c_2})$: equal in exact
    arithmetic, one pass less, and fewer roundings. Where $\epsilon \sqrt{c_2}$ is not a normal
    number of the dtype (half precision, where $\epsilon$ may already be the smallest
    subnormal), it would round to 0 and a zero $v'$ would divide; the denominator is then
    $\sqrt{v'}/\sqrt{c_2} + \epsilon$, formed in two passes.

    `inplace`: the caller donates params, `m_old` and `v_old`, which are updated in place and
    returned (the denominator is the only new tensor).
    """
    import torch

    foreach = params[0].device.type not in LOOP_DEVICE_TYPES
    eps_folded = eps / c2_rsqrt
    fold = eps_folded >= torch.finfo(params[0].dtype).tiny
    value = -lr / (c1 * c2_rsqrt) if fold else -lr / c1
    with torch.no_grad():
        if foreach:
            m: Tensors
            v: Tensors
            if inplace:
                m, v = list(m_old), list(v_old)
                torch._foreach_lerp_(m, grads, 1 - b1)
                torch._foreach_mul_(v, b2)
            else:
                m = torch._foreach_lerp(m_old, grads, 1 - b1)
                v = torch._foreach_mul(v_old, b2)
            torch._foreach_addcmul_(v, grads, grads, 1 - b2)
            denom = torch._foreach_sqrt(v)
            if fold:
                torch._foreach_add_(denom, eps_folded)
            else:
                torch._foreach_mul_(denom, c2_rsqrt)
                torch._foreach_add_(denom, eps)
            if inplace:
                torch._foreach_addcdiv_(params, m, denom, value)
                out = list(params)
            else:
                out = torch._foreach_addcdiv(params, m, denom, value)
            return _probed(out, denom, sums), m, v
        new_p, m, v = [], [], []
        for p, g, mo, vo in zip(params, grads, m_old, v_old, strict=True):
            mk = mo.lerp_(g, 1 - b1) if inplace else torch.lerp(mo, g, 1 - b1)
            vk = vo.mul_(b2) if inplace else torch.mul(vo, b2)
            vk.addcmul_(g, g, value=1 - b2)
            d = torch.sqrt(vk)
            if fold:
                d.add_(eps_folded)
            else:
                d.mul_(c2_rsqrt).add_(eps)
            new_p.append(
                p.addcdiv_(mk, d, value=value) if inplace else torch.addcdiv(p, mk, d, value=value)
            )
            m.append(mk)
            v.append(vk)
            if sums is not None:
                # the new params and d, while they are in cache: d is non-finite where v is
                sums.append(probe(new_p[-1], d))
        return new_p, m, v
