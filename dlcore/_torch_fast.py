r"""Multi-tensor torch fast path of `dlcore.optim` (an implementation detail).

The readable definition of every optimizer is its array-API code in `dlcore.optim`: one
out-of-place expression per tensor. On torch that costs about five kernel launches (and five
Python dispatches) per tensor and step, which on CUDA is launch bound and on the CPU dispatch
bound for models with many small tensors. When every array of a step is a plain torch tensor on
one device and dtype, `dlcore.optim` instead runs the same arithmetic through torch's
multi-tensor ("foreach") operations: one call per operation for all tensors at once. It runs
only on the device types in `DEVICE_TYPES` (CUDA; see there why not the CPU).

Rules the fast path keeps, and that `tests/api/test_optim_fast_path.py` checks:

- **Same arithmetic.** Each function here performs the same sequence of elementwise operations,
  on the same scalars, as the reference code it replaces (no fused multiply-adds, no reordering),
  so its results equal the reference path's bit for bit on the CPU (and on CUDA up to the
  kernels' rounding of the same operations).
- **Pure.** Only the out-of-place `torch._foreach_*` forms touch the inputs; the in-place forms
  act only on lists this module has just allocated. Inputs are never modified.
- **No host syncs.** Scalars are Python floats computed once per step, never read back from
  the device.

`torch` is never imported here: if it is not already in `sys.modules`, no argument can be a
torch tensor and the fast path is skipped.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "torch_leaves",
    "sgd_momentum_step",
    "adam_step",
    "add_scaled",
    "add",
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


def torch_leaves(keys: Sequence[str], *trees: dict[str, Any]) -> list[list[Any]] | None:
    """The leaves of `trees` as lists in `keys` order, if the fast path applies; else `None`.

    It applies when every leaf is a dense `torch.Tensor` on the device and with the dtype of the
    first one, that device's type is in `DEVICE_TYPES`, and no leaf requires grad (a tensor that does would need the autograd graph the
    reference path records).
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    first = trees[0][keys[0]]
    if not isinstance(first, torch.Tensor):
        return None
    device, dtype, strided = first.device, first.dtype, torch.strided
    if device.type not in DEVICE_TYPES:
        return None
    out = []
    for tree in trees:
        leaves = [tree[k] for k in keys]
        for x in leaves:
            if (
                not isinstance(x, torch.Tensor)
                or x.requires_grad
                or x.dtype != dtype
                or x.device != device
                or x.layout != strided
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
            v = list(grads)
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
