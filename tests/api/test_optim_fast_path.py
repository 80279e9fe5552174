r"""The fused step (`dlcore._fused`) of every chain it covers equals the reference within a
derived bound, and is taken exactly where it applies.

`dlcore._fused.plan` turns a chain `[add_decayed_weights(a)] [core] [add_decayed_weights(b)]
scale(c) [add_decayed_weights(e)]` into $g' = g + a w$, the core's direction $d$ and
$w' = k w + c d$, $k = 1 + cb + e$; the reference runs the chain's transforms one by one and
adds the updates. Let $u = \epsilon_{\text{dtype}}/2$; each operation and each Python scalar
converted to the dtype rounds by at most $u$ (relative). Per element, first order:

- $g'$: both paths compute $g + a w$ with the same two operations: identical.
- the core's direction $d$ and buffers, per path: none, $d = g'$: exact. Heavy-ball `trace`:
  $v' = \mu v + g'$ within $3u\,V$, $V = \mu|v| + |g'|$ (scalar, product, sum; a fused
  `add` with `alpha` no worse), $v' = g'$ exactly at the first step. `ema`: the reference's
  $(1-\beta)a + \beta g'$ errs by at most $3u\,A$, the fused `lerp` by $4u\,A$,
  $A = |a| + |g'|$ (as Adam's $m$ in `test_optim_step.py`). Adam: the direction
  $\hat m/(\sqrt{\hat v} + \epsilon)$ within $13u\,S$, $S = (|m| + |g'|)/(c_1 D)$,
  $D = \sqrt{v'/c_2} + \epsilon$ (the analysis of `test_optim_step.py`, with the step's scalar
  counted there too), its buffers as there.
- the update: the reference forms $X = c(d + bw) + ew$ and $w + X$. With
  $M = |c|(|d| + |b w|) + |e w|$, the magnitude of $X$: $bw$ (scalar and product, $2u|bw|$), the
  sum ($u$), the product by $c$ (scalar and product, $2u$ of $|c|(|d| + |bw|)$), $ew$ ($2u|ew|$)
  and its sum ($u M$), and $w + X$ ($u(|w| + M)$): at most $u|w| + 7uM$ besides $|c|$ times the
  direction's error. The fused step forms $kw$ (scalar and product, $2u(|w| + M)$, as
  $|kw| \le |w| + M$) and $kw + cd$ (scalar, product and sum: $u(|w| + M) + 2uM$): at most
  $3u|w| + 5uM$ besides its direction's error.

Two paths are then at most $4u|w| + 12uM + |c|(E_{\text{ref}} + E_{\text{fused}})$ apart
($E$: the directions' errors above; for Adam $|c| \cdot 26u\,S$), times $(1 + 64u)$ for the
second-order terms and the rounding of the bound's own float64 evaluation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlcore import _fused, optim
from tests.api.test_optim_step import (
    TORCH_BACKENDS,
    _check,
    _clone,
    _host,
    _problem,
    check_adam,
    multi_tensor_form,
)
from tests.support.backends import Backend, backend_params
from tests.support.optim_oracles import FUSED, OPTIMIZERS, UNFUSED, make_optimizer
from tests.support.strategies import log_uniform, seeds

torch = pytest.importorskip("torch")


def check_fused(
    backend: Backend,
    opt: optim.GradientTransformation,
    grads: Any,
    state: Any,
    params: Any,
    got: Any,
    want: Any,
) -> None:
    """The bound of the module docstring, for every element of the new params and state."""
    plan = _fused.plan(opt.ops)
    assert plan is not None
    u = backend.eps / 2
    slack = 1 + 64 * u
    i_scale = [op.kind for op in opt.ops].index("scale")
    before = opt.ops[1 if plan.a else 0 : i_scale]  # after g' = g + a w
    b = sum(op.hyper[0] for op in before if op.kind == "add_decayed_weights")
    e = sum(op.hyper[0] for op in opt.ops[i_scale:] if op.kind == "add_decayed_weights")
    c = plan.c
    # g' as the reference computes it (the same operations as the fused step)
    g_eff = {k: grads[k] + plan.a * params[k] for k in grads} if plan.a else grads
    if plan.core == "scale_by_adam":
        b1, b2, eps = plan.hyper
        lr = -c
        # the direction's part, and m and v, through the analysis of test_optim_step.py
        t = state.count + 1
        c1, c2 = 1 - b1**t, 1 - b2**t
        fail: list[str] = []
        for k in params:
            g, m, v = _host(g_eff[k]), _host(state.m[k]), _host(state.v[k])
            s_m = np.abs(m) + np.abs(g)
            v_new = b2 * v + (1 - b2) * g * g
            d = np.sqrt(v_new) / math.sqrt(c2) + eps
            S = s_m / (c1 * d)
            w = np.abs(_host(params[k]))
            M = abs(c) * (S + abs(b) * w) + abs(e) * w
            bound = (4 * u * w + 12 * u * M + abs(c) * 26 * u * S) * slack
            _check(f"params[{k!r}]", got[0][k], want[0][k], bound, fail)
        assert not fail, fail
        check_adam_buffers(backend, (lr, b1, b2, eps), g_eff, state, got, want)
        return
    for k in params:
        w, g = np.abs(_host(params[k])), np.abs(_host(g_eff[k]))
        if plan.core == "ema":
            A = np.abs(_host(state.buffer[k])) + g
            err, d = 7 * u * A, A
            _check(f"buffer[{k!r}]", got[1].buffer[k], want[1].buffer[k], err * slack)
        elif plan.core == "trace":
            v_old = 0.0 if state.count == 0 else np.abs(_host(state.buffer[k]))
            d = plan.hyper[0] * v_old + g
            err = 6 * u * d
            _check(f"buffer[{k!r}]", got[1].buffer[k], want[1].buffer[k], err * slack)
        else:
            err, d = 0.0, g
        M = abs(c) * (d + abs(b) * w) + abs(e) * w
        bound = (4 * u * w + 12 * u * M + abs(c) * err) * slack
        _check(f"params[{k!r}]", got[0][k], want[0][k], bound)


def check_adam_buffers(backend: Backend, hyper: Any, grads: Any, state: Any, got: Any, want: Any):
    """Adam's m and v, by `check_adam` (its params check is replaced by the one above)."""
    fail: list[str] = []
    check_adam(backend, hyper, grads, grads, state, (want[0], got[1]), want, fail)
    assert not [f for f in fail if not f.startswith("params")], fail


def _state(opt: optim.GradientTransformation, params: Any, bufs: Any, count: int) -> Any:
    state = opt.init(params)
    if isinstance(state, optim.MomentumState):
        return optim.MomentumState(bufs[0] if count else state.buffer, count)
    if isinstance(state, optim.AdamState):
        return optim.AdamState(*bufs, count)
    return state


shape_lists = st.lists(
    st.lists(st.integers(0, 5), min_size=0, max_size=2).map(tuple), min_size=1, max_size=4
)


@pytest.mark.parametrize("multi_tensor", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("donate", [False, True], ids=["pure", "donated"])
@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize("backend", backend_params(TORCH_BACKENDS))
@given(
    shapes=shape_lists,
    lr=log_uniform(1e-3, 1.0),
    mu=st.floats(0.05, 0.95),
    wd=log_uniform(1e-3, 0.5),
    scale=log_uniform(1e-3, 1e3),
    count=st.integers(0, 20),
    seed=seeds,
)
def test_fused_step_is_the_reference_within_the_bound(
    backend, name, donate, multi_tensor, shapes, lr, mu, wd, scale, count, seed
):
    """From a drawn state at a drawn count, one fused step against one reference step."""
    params, grads, (buf, sq) = _problem(backend, seed, shapes, scale, 2)
    opt = make_optimizer(name, lr, mu, wd)
    state = _state(opt, params, (buf, sq), count)
    want = optim.step(opt, grads, state, params, fused=False)
    with multi_tensor_form(multi_tensor):
        got = optim.step(opt, grads, *_clone((state, params)), donate=donate)
    check_fused(backend, opt, grads, state, params, got, want)
    assert type(got[1]) is type(want[1])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_the_table_says_which_chains_fuse(name) -> None:
    """The fused step covers exactly the rows the table marks fused (adamw and both
    weight-decay wrappers included)."""
    assert (_fused.plan(make_optimizer(name).ops) is not None) == OPTIMIZERS[name].fused


@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize("backend", backend_params(TORCH_BACKENDS))
def test_fused_step_changes_no_input(backend, name) -> None:
    params, grads, _ = _problem(backend, 0, [(3, 2), (2,), ()], 1.0, 0)
    opt = make_optimizer(name, 0.1, 0.9, 0.1)
    state = opt.init(params)
    for _ in range(3):
        before = _clone((grads, state, params))
        new_params, new_state = optim.step(opt, grads, state, params)
        for a, b in zip(_tensors(before), _tensors((grads, state, params)), strict=True):
            assert torch.equal(a, b)
        state, params = new_state, new_params


def _tensors(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in _tensors(v)]
    if isinstance(tree, tuple):
        return [x for v in tree for x in _tensors(v)]
    return [tree] if isinstance(tree, torch.Tensor) else []


def test_fused_step_is_taken_only_where_it_applies() -> None:
    a, b = torch.zeros(3), torch.ones(2)
    assert _fused.torch_leaves({"a": a, "b": b}, {"a": a + 1, "b": b * 0})
    for why, tree in (
        ("mixed dtypes", {"a": a, "b": b.double()}),
        ("requires grad", {"a": a, "b": b.clone().requires_grad_()}),
        ("NumPy", {"a": np.zeros(3), "b": np.ones(2)}),
        ("integer", {"a": a.long(), "b": b.long()}),
        ("empty", {}),
        ("not a dict", [a, b]),
        ("int keys", {0: a, 1: b}),
    ):
        assert _fused.torch_leaves(tree) is None, why
    for why, other in (
        ("other keys", {"a": a}),
        ("other shapes", {"a": a[:2], "b": b}),
        ("not a dict", (a, b)),
    ):
        assert _fused.torch_leaves({"a": a, "b": b}, other) is None, why
    for name in UNFUSED:
        assert _fused.plan(make_optimizer(name).ops) is None, name
    assert _fused.plan(()) is None, "a transformation made by hand"


@pytest.mark.parametrize("name", FUSED)
def test_mixed_dtypes_and_fused_false_run_the_reference(name) -> None:
    """Where the fused step does not apply, or `fused=False`, `step` is the two calls exactly."""
    params = {"a": torch.ones(3), "b": torch.ones(2, dtype=torch.float64)}
    grads = {"a": torch.full((3,), 0.3), "b": torch.full((2,), 0.3, dtype=torch.float64)}
    opt = make_optimizer(name)
    state = opt.init(params)
    updates, _ = opt.update(grads, state, params)
    want = optim.apply_updates(params, updates)
    got, _ = optim.step(opt, grads, state, params)
    assert got["a"].dtype == torch.float32 and got["b"].dtype == torch.float64
    assert all(torch.equal(got[k], want[k]) for k in params)
    same = {k: torch.ones(3) for k in ("a", "b")}
    g = {k: torch.full((3,), 0.3) for k in ("a", "b")}
    updates, _ = opt.update(g, opt.init(same), same)
    ref = optim.apply_updates(same, updates)
    off, _ = optim.step(opt, g, opt.init(same), same, fused=False)
    assert all(torch.equal(off[k], ref[k]) for k in same)


@pytest.mark.parametrize("library", ["numpy", "torch"])
@pytest.mark.parametrize("which", ["params", "grads"])
def test_an_array_for_a_tree_is_refused_by_name(which, library) -> None:
    """An array where a dict of arrays belongs, given to a chain the fused step covers: a
    `TypeError` naming it (the test of whether the fused step applies must not take the
    array's truth value, which is ambiguous)."""
    array = np.ones(3) if library == "numpy" else torch.ones(3)
    args = {"params": {"w": torch.ones(3)}, "grads": {"w": torch.ones(3)}, which: array}
    opt = optim.sgd_momentum(0.1, 0.9)
    with pytest.raises(TypeError, match=which):
        optim.step(opt, args["grads"], opt.init({"w": torch.ones(3)}), args["params"])
