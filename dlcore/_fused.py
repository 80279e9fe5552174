r"""The fused step of `dlcore.optim` on torch tensors (an implementation detail).

The definition of every optimizer is its chain of transforms in `dlcore.optim`, one
out-of-place expression per array. A step there writes the updates out and then adds them,
about five kernel launches per tensor. `plan` recognises the chains

    [add_decayed_weights(a)] [ema | trace | scale_by_adam] [add_decayed_weights(b)] scale(c) [add_decayed_weights(e)]

(heavy-ball `trace`, plain `ema`), and `apply` runs one as
$g' = g + a\,w$, the core's buffers and direction $d$, and
$$w' = k\,w + c\,d, \qquad k = 1 + c\,b + e,$$
with fused operations (`lerp`, `addcmul`, `addcdiv`, `add` with `alpha`) and without writing
$d$ out where it is a quotient. Its results differ from the reference in the last bits,
within the bound derived in `tests/api/test_optim_fast_path.py`. With `inplace` (the caller
donated its arrays, checked by `can_donate`) it writes into the parameters and state; otherwise
it is pure.

One body serves both forms: on the CPU it runs one tensor at a time (each stays in cache for
all its operations: a step there is bound by memory traffic), elsewhere once on the lists of
all tensors, as torch's multi-tensor (`torch._foreach_*`) kernels, one launch per operation.
The context variable `MULTI_TENSOR` overrides the choice (the tests run the multi-tensor form
on the CPU with it).

`torch` is never imported here: if it is not already in `sys.modules`, no argument can be a
torch tensor and `dlcore.optim` never calls `apply`.
"""

from __future__ import annotations

import functools
import sys
from contextvars import ContextVar
from typing import Any, NamedTuple

__all__ = ["Plan", "plan", "apply", "torch_leaves", "probe", "can_donate"]

Tensors = list[Any]

MULTI_TENSOR: ContextVar[bool | None] = ContextVar("MULTI_TENSOR", default=None)
"""`None`: the multi-tensor form off the CPU, the loop form on it; `True`/`False` force one."""


class Plan(NamedTuple):
    """A fusable chain: $g' = g + a w$, then `core` (`""`: none) with `hyper`, then
    $w' = k w + c d$."""

    a: float
    core: str
    hyper: tuple[Any, ...]
    c: float
    k: float


@functools.lru_cache(maxsize=256)
def plan(ops: tuple[Any, ...]) -> Plan | None:
    """The plan of a chain of `dlcore.optim` transforms (`kind`, `hyper`), or `None` where the
    fused step does not cover it."""
    rest = list(ops)

    def take(*kinds: str) -> Any:
        return rest.pop(0) if rest and rest[0].kind in kinds else None

    a, core = take("add_decayed_weights"), take("ema", "trace", "scale_by_adam")
    b, c, e = take("add_decayed_weights"), take("scale"), take("add_decayed_weights")
    if rest or c is None or (core and core.kind != "scale_by_adam" and any(core.hyper[1:])):
        return None  # not of the form, or dampening or a Nesterov form
    c0 = c.hyper[0]
    k = 1 + c0 * (b.hyper[0] if b else 0.0) + (e.hyper[0] if e else 0.0)
    return Plan(
        a.hyper[0] if a else 0.0, core.kind if core else "", core.hyper if core else (), c0, k
    )


def apply(
    p: Plan,
    ps: Tensors,
    gs: Tensors,
    bufs: list[Tensors],
    *,
    count: int,
    inplace: bool,
    sums: list[Any],
) -> tuple[Tensors, list[Tensors]]:
    """`(new_params, new_buffers)` of one step of the plan `p`, at step `count` (0-based);
    `bufs` are the state's trees (none, `[buffer]` or `[m, v]`), as lists in key order. A probe
    of each new parameter is appended to `sums` (see `probe`)."""
    import torch

    def op(name: str, xs: Any, *args: Any, inplace: bool, **kw: Any) -> Any:
        """`torch._foreach_<name>[_](xs, *args)` on lists; on a tensor (the loop form), its own
        operation, the same kernel with less dispatch."""
        if isinstance(xs, torch.Tensor):
            return getattr(xs, name + "_" if inplace else name)(*args, **kw)
        if inplace:
            getattr(torch, f"_foreach_{name}_")(xs, *args, **kw)
            return list(xs)
        return getattr(torch, f"_foreach_{name}")(xs, *args, **kw)

    b1, b2, eps = p.hyper if p.core == "scale_by_adam" else (0.0, 0.0, 0.0)
    tiny = torch.finfo(ps[0].dtype).tiny
    eps = max(eps, tiny)  # as `optim._tiny` says: at least the smallest normal number
    c1, c2_rsqrt = 1 - b1 ** (count + 1), (1 - b2 ** (count + 1)) ** -0.5
    # (c/c1) m / (sqrt(v) c2_rsqrt + eps) = (c/(c1 c2_rsqrt)) m / (sqrt(v) + eps/c2_rsqrt): one
    # pass and two roundings less, where eps/c2_rsqrt is a normal number (not in half precision,
    # where eps may be the smallest normal number already)
    fold = eps / c2_rsqrt >= tiny
    add_eps, value = (eps / c2_rsqrt, p.c / (c1 * c2_rsqrt)) if fold else (eps, p.c / c1)
    fresh = inplace or p.k != 1  # the new parameters may be written where they are

    def body(ps: Any, gs: Any, bufs: list[Any]) -> tuple[Any, list[Any]]:
        """The step on lists of tensors (multi-tensor form) or on one tensor (loop form)."""
        if p.a:  # the reference's g + a w, operation for operation
            gs = op("add", gs, op("mul", ps, p.a, inplace=False), inplace=False)
        ws = op("mul", ps, p.k, inplace=inplace) if p.k != 1 else ps
        if p.core == "scale_by_adam":
            m = op("lerp", bufs[0], gs, 1 - b1, inplace=inplace)
            v = op("mul", bufs[1], b2, inplace=inplace)
            op("addcmul", v, gs, gs, value=1 - b2, inplace=True)
            d = op("sqrt", v, inplace=False)
            if not fold:
                op("mul", d, c2_rsqrt, inplace=True)
            op("add", d, add_eps, inplace=True)
            new_ws, new_bufs = op("addcdiv", ws, m, d, value=value, inplace=fresh), [m, v]
        else:
            if p.core == "ema":
                d = op("lerp", bufs[0], gs, p.hyper[0], inplace=inplace)
            elif p.core == "trace" and count == 0 and inplace:  # v_1 = g_0, into our buffer
                d = op("copy", bufs[0], gs, inplace=True)
            elif p.core == "trace" and count == 0:  # v_1 = g_0, a copy: the buffer is ours
                d = op("clone", gs, inplace=False)
            elif p.core == "trace" and isinstance(ps, torch.Tensor):  # g + mu v in one pass
                d = torch.add(gs, bufs[0], alpha=p.hyper[0], out=bufs[0] if inplace else None)
            elif p.core == "trace":  # no multi-tensor form of the above: mu v, then + g
                d = op("add", op("mul", bufs[0], p.hyper[0], inplace=inplace), gs, inplace=True)
            else:
                d = gs
            new_ws, new_bufs = op("add", ws, d, alpha=p.c, inplace=fresh), [d] if p.core else []
        sums.extend([probe(new_ws, d)] if isinstance(ps, torch.Tensor) else map(probe, new_ws, d))
        return new_ws, new_bufs

    multi = MULTI_TENSOR.get()
    if multi or (multi is None and ps[0].device.type != "cpu"):
        return body(ps, gs, bufs)
    # one tensor at a time, each in cache for all its operations
    outs = [body(w, g, list(b)) for w, g, *b in zip(ps, gs, *bufs, strict=True)]
    return [w for w, _ in outs], [list(b) for b in zip(*(b for _, b in outs), strict=True)]


def torch_leaves(*trees: Any) -> list[list[Any]] | None:
    """The leaves of `trees` (the parameters first) as lists in the key order of the first, if
    the fused step applies; else `None`.

    It applies when the trees are dicts with the same keys, str and at least one, and every
    leaf is a dense floating `torch.Tensor` on the device and with the dtype of the first one,
    of the shape of its parameter, that does not require grad (a tensor that does would need
    the autograd graph the reference records).
    """
    torch, params = sys.modules.get("torch"), trees[0]
    if (
        torch is None
        or any(type(tree) is not dict or tree.keys() != params.keys() for tree in trees)
        or not params
        or any(type(k) is not str for k in params)
    ):
        return None
    first = next(iter(params.values()))
    if not isinstance(first, torch.Tensor) or not first.is_floating_point():
        return None
    device, dtype, strided = first.device, first.dtype, torch.strided
    leaves = [[tree[k] for k in params] for tree in trees]
    shapes = [x.shape for x in leaves[0]]
    for xs in leaves:
        for x in xs:
            if (
                not isinstance(x, torch.Tensor)
                or x.requires_grad
                or x.dtype is not dtype  # dtypes and layouts are singletons
                or x.layout is not strided
                or x.device != device
            ):
                return None
        if [x.shape for x in xs] != shapes:
            return None
    return leaves


def probe(a: Any, b: Any) -> Any:
    r"""A 0-d tensor that is finite only if every entry of `a` and of `b` is finite:
    $\sum_i a_i b_i$. A NaN or an infinity in either makes a term NaN or infinite ($\infty
    \cdot 0$ is NaN), and so the sum; an overflow of finite terms can make it non-finite too,
    which the caller then looks into. The fused step probes each new parameter with an array it
    has just read or written (the gradient, the buffer, Adam's denominator), while both are in
    cache.

    Measured on the CPU (1M float32 in 10 tensors, two threads): a BLAS `dot` costs about a third
    less than `a.sum()`, which splits each tensor over the threads and joins them. A 1-d
    tensor is used as it is: a `reshape` is one more dispatch per tensor (about 1.5 us).
    """
    if a.ndim == 1:
        return a.dot(b)
    return a.reshape(-1).dot(b.reshape(-1))


def can_donate(donated: Tensors, kept: Tensors) -> bool:
    """Whether the fused step may write into `donated`: each is contiguous and has a storage
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
