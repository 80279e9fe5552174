"""The torch multi-tensor fast path of `dlcore.optim` equals its reference code, bit for bit.

`dlcore._torch_fast` runs the optimizers' arithmetic through `torch._foreach_*` kernels when every
array of a step is a torch tensor on one device and dtype (on CUDA; see `DEVICE_TYPES`). It
performs the same elementwise operations on the same scalars as the array-API reference code,
so the two must agree exactly: every update, state buffer and parameter, at every step, across
the options (momentum, dampening, Nesterov, coupled and decoupled weight decay, Adam, AdamW) and
in float32 and float64. On machines without a GPU the tests force the fast path onto the CPU,
where its kernels are the same as CUDA's in arithmetic (not in launch pattern). The path must
also stay pure: inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlcore import _torch_fast, optim
from tests.support.backends import Backend, backend_params
from tests.support.strategies import log_uniform, seeds

torch = pytest.importorskip("torch")

TORCH_BACKENDS = tuple(
    Backend("torch", device, dtype)
    for device in ("cpu", "cuda")
    for dtype in ("float64", "float32")
)

OPTIMIZERS: dict[str, Callable[[float, float, float], optim.GradientTransformation]] = {
    "heavy-ball": lambda lr, mu, wd: optim.sgd_momentum(lr, mu),
    "dampened": lambda lr, mu, wd: optim.sgd_momentum(lr, mu, dampening=0.5),
    "nesterov": lambda lr, mu, wd: optim.sgd_momentum(lr, mu, nesterov=True),
    "momentum-l2": lambda lr, mu, wd: optim.coupled_weight_decay(optim.sgd_momentum(lr, mu), wd),
    "adam": lambda lr, mu, wd: optim.adam(lr, b1=mu),
    "adam-l2": lambda lr, mu, wd: optim.coupled_weight_decay(optim.adam(lr, b1=mu), wd),
    "adamw": lambda lr, mu, wd: optim.adamw(lr, b1=mu, weight_decay=wd),
    "decoupled-momentum": lambda lr, mu, wd: optim.decoupled_weight_decay(
        optim.sgd_momentum(lr, mu), lr * wd
    ),
}


@contextmanager
def fast_path(on: bool) -> Iterator[None]:
    """Force the fast path on (also on the CPU) or off, for the duration of the block."""
    saved = (optim._NO_FAST_PATH, _torch_fast.DEVICE_TYPES)
    optim._NO_FAST_PATH = not on
    _torch_fast.DEVICE_TYPES = frozenset({"cpu", "cuda"})
    try:
        yield
    finally:
        optim._NO_FAST_PATH, _torch_fast.DEVICE_TYPES = saved


def _problem(backend: Backend, seed: int, shapes: list[tuple[int, ...]], steps: int) -> Any:
    rng = np.random.default_rng(seed)
    params = {f"p{i}": backend.asarray(rng.standard_normal(s)) for i, s in enumerate(shapes)}
    grads = [
        {k: backend.asarray(rng.standard_normal(tuple(p.shape))) for k, p in params.items()}
        for _ in range(steps)
    ]
    return params, grads


def _run(opt: optim.GradientTransformation, params: Any, grads: list[Any]) -> list[Any]:
    """Every (updates, state, params) of the run, in order."""
    state, out = opt.init(params), []
    for g in grads:
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
        out.append((updates, state, params))
    return out


def _leaves(tree: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _leaves(v, f"{where}[{k!r}]")
    elif isinstance(tree, tuple):
        for i, v in enumerate(tree):
            name = type(tree)._fields[i] if hasattr(type(tree), "_fields") else str(i)
            yield from _leaves(v, f"{where}.{name}")
    else:
        yield where, tree  # a tensor, or a step count


shape_lists = st.lists(
    st.lists(st.integers(0, 5), min_size=0, max_size=2).map(tuple), min_size=1, max_size=5
)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("backend", backend_params(TORCH_BACKENDS))
@given(
    shapes=shape_lists,
    lr=log_uniform(1e-3, 1.0),
    mu=st.floats(0.05, 0.95),
    wd=log_uniform(1e-3, 0.5),
    steps=st.integers(1, 4),
    seed=seeds,
)
def test_fast_path_equals_reference_bit_for_bit(backend, name, shapes, lr, mu, wd, steps, seed):
    """Both paths run the same steps; every update, state array and parameter is identical."""
    params, grads = _problem(backend, seed, shapes, steps)
    with fast_path(False):
        reference = _run(OPTIMIZERS[name](lr, mu, wd), params, grads)
    with fast_path(True):
        fast = _run(OPTIMIZERS[name](lr, mu, wd), params, grads)
    for t, (ref_step, fast_step) in enumerate(zip(reference, fast, strict=True)):
        ref_leaves, fast_leaves = list(_leaves(ref_step)), list(_leaves(fast_step))
        assert [w for w, _ in ref_leaves] == [w for w, _ in fast_leaves]
        for (where, r), (_, f) in zip(ref_leaves, fast_leaves, strict=True):
            what = f"{name} on {backend}, step {t}, (updates, state, params){where}"
            if isinstance(r, torch.Tensor):
                assert (f.dtype, f.device, f.shape) == (r.dtype, r.device, r.shape), what
                assert torch.equal(f, r), f"{what}: max |diff| {(f - r).abs().max().item()}"
            else:
                assert f == r, what


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("backend", backend_params(TORCH_BACKENDS))
def test_fast_path_changes_no_input(backend, name) -> None:
    params, grads = _problem(backend, 0, [(3, 2), (2,), ()], 3)
    opt = OPTIMIZERS[name](0.1, 0.9, 0.1)
    with fast_path(True):
        state = opt.init(params)
        for g in grads:
            inputs = [x for _, x in _leaves((g, state, params)) if isinstance(x, torch.Tensor)]
            before = [x.clone() for x in inputs]
            updates, new_state = opt.update(g, state, params)
            new_params = optim.apply_updates(params, updates)
            after = [x for _, x in _leaves((g, state, params)) if isinstance(x, torch.Tensor)]
            assert all(torch.equal(b, a) for b, a in zip(before, after, strict=True))
            state, params = new_state, new_params


def test_fast_path_is_taken_only_where_it_applies() -> None:
    a, b = torch.zeros(3), torch.ones(2)
    with fast_path(True):
        assert optim._fast_leaves({"a": a, "b": b}, {"a": b[:1], "b": a[:2]}) is not None
        for why, tree in (
            ("mixed dtypes", {"a": a, "b": b.double()}),
            ("requires grad", {"a": a, "b": b.requires_grad_()}),
            ("NumPy", {"a": np.zeros(3), "b": np.ones(2)}),
        ):
            assert optim._fast_leaves(tree) is None, why
    assert _torch_fast.torch_leaves(["a"], {"a": a}) is None, "the CPU is not a fast-path device"
    with fast_path(False):
        assert optim._fast_leaves({"a": a}) is None, "switched off"


def test_mixed_dtypes_fall_back_to_the_reference() -> None:
    params = {"a": torch.ones(3), "b": torch.ones(2, dtype=torch.float64)}
    grads = {"a": torch.ones(3), "b": torch.ones(2, dtype=torch.float64)}
    with fast_path(True):
        opt = optim.adamw(0.1)
        updates, _ = opt.update(grads, opt.init(params), params)
        new = optim.apply_updates(params, updates)
    assert new["a"].dtype == torch.float32 and new["b"].dtype == torch.float64
