r"""`dlcore.optim.step`: the fused step equals `update` then `apply_updates`, up to rounding.

On torch tensors [`sgd`][dlcore.optim.sgd], [`sgd_momentum`][dlcore.optim.sgd_momentum]
(heavy ball) and [`adam`][dlcore.optim.adam] (and the other chains of `dlcore._fused.plan`,
bounded in `test_optim_fast_path.py`) have a fused step (`dlcore._fused.apply`) that skips
writing the updates out and uses fused operations (`add` with `alpha`, `lerp`, `addcmul`,
`addcdiv`), so it rounds differently from the two-call reference. The tests
bound the difference by an error analysis of the two computations, not by a guessed constant:

Let $u = \epsilon_{\text{dtype}}/2$ be the unit roundoff. Each path rounds every operation
(relative error at most $u$) and every Python scalar it converts to the dtype (at most $u$
again); counting those roundings against the exact result with the same float64 scalars gives,
per path and element,

- GD, $w' = w - \eta g$: $|w'_{\text{path}} - w'| \le u|w| + 3u\,\eta|g|$ (scalar, product,
  sum).
- heavy ball, $v' = \mu v + g$: $|v'_{\text{path}} - v'| \le 3u\,V$ with $V = \mu|v| + |g|$
  (scalar, product, sum); $w' = w - \alpha v'$: $|w'_{\text{path}} - w'| \le u|w| + 6u\,\alpha V$.
- Adam, $m' = b_1 m + (1-b_1) g$: $\le 4u\,(|m| + |g|)$ (`lerp` takes one more rounding of
  $g - m$ than the reference); $v' = b_2 v + (1-b_2) g^2$, a sum of non-negative terms:
  $\le 4u\,v'$; $d = \sqrt{v'/c_2} + \epsilon$: relative $6u$; the step
  $s = (\eta/c_1)\, m'/d$: $\le 13u\,(\eta/c_1)(|m| + |g|)/d$; $w' = w - s$:
  $\le u|w| + 14u\,(\eta/c_1)(|m| + |g|)/d$. The fused step forms the same step as
  $(\eta\sqrt{c_2}/c_1)\, m'/(\sqrt{v'} + \epsilon\sqrt{c_2})$ (where $\epsilon\sqrt{c_2}$ is a
  normal number): its denominator $\sqrt{v'}\,(1 + \delta_1) + \epsilon\sqrt{c_2}\,(1 +
  \delta_2)^2$, summed with one more rounding, is within relative $4u$ of
  $\sqrt{c_2}\, d$, and its scalar within $2u$, so the step keeps the $13u$ bound.

Two paths are then at most twice that apart. The bounds carry a factor $(1 + 64u)$ for the
second-order terms and for the rounding of their own float64 evaluation. A wrong scalar, a
missing bias correction or a misplaced $\epsilon$ changes the results by orders of magnitude
more (`test_the_bound_catches_wrong_arithmetic` checks that it would be caught).

Donation (`donate=True`) must write into the donated arrays, and is refused (the step is then
computed out of place, inputs untouched) where they share storage or are not contiguous.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlcore import _fused, optim
from tests.support.backends import Backend, backend_params
from tests.support.optim_oracles import FUSED, UNFUSED, make_optimizer
from tests.support.strategies import log_uniform, seeds

torch = pytest.importorskip("torch")

TORCH_BACKENDS = tuple(
    Backend("torch", device, dtype)
    for device in ("cpu", "cuda")
    for dtype in ("float64", "float32")
)


@contextmanager
def multi_tensor_form(on: bool) -> Iterator[None]:
    """Run the fused steps in their multi-tensor (`torch._foreach_*`) form, also on the CPU."""
    token = _fused.MULTI_TENSOR.set(True if on else None)
    try:
        yield
    finally:
        _fused.MULTI_TENSOR.reset(token)


def _host(x: Any) -> np.ndarray:
    return x.detach().to("cpu", torch.float64).numpy()


def _clone(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _clone(v) for k, v in tree.items()}
    if isinstance(tree, tuple):
        items = [_clone(v) for v in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return tree.clone() if isinstance(tree, torch.Tensor) else tree


def _check(
    what: str, fused: Any, reference: Any, bound: np.ndarray, fail: list[str] | None = None
) -> None:
    """Assert `|fused - reference| <= bound` elementwise (or append the failure to `fail`)."""
    f, r = _host(fused), _host(reference)
    excess = np.abs(f - r) - bound
    if excess.size and not np.all(excess <= 0):
        i = np.unravel_index(np.argmax(excess), excess.shape)
        msg = f"{what}: |{f[i]} - {r[i]}| = {abs(f[i] - r[i]):.3e} > bound {bound[i]:.3e}"
        if fail is None:
            raise AssertionError(msg)
        fail.append(msg)


def check_gd(
    backend: Backend,
    lr: float,
    params: dict[str, Any],
    grads: dict[str, Any],
    got: dict[str, Any],
    want: dict[str, Any],
) -> None:
    """The derived bound of the module docstring, GD, for every element."""
    u = backend.eps / 2
    for k in params:
        bound = 2 * u * np.abs(_host(params[k])) + 6 * u * lr * np.abs(_host(grads[k]))
        _check(f"params[{k!r}]", got[k], want[k], bound * (1 + 64 * u))


def check_heavy_ball(
    backend: Backend,
    lr: float,
    mu: float,
    params: dict[str, Any],
    grads: dict[str, Any],
    state: optim.MomentumState,
    got: tuple[dict[str, Any], optim.MomentumState],
    want: tuple[dict[str, Any], optim.MomentumState],
    fail: list[str] | None = None,
) -> None:
    """The derived bound of the module docstring, heavy ball, for every element."""
    u = backend.eps / 2
    slack = 1 + 64 * u
    for k in params:
        v_old = 0.0 if state.count == 0 else np.abs(_host(state.buffer[k]))
        big_v = mu * v_old + np.abs(_host(grads[k]))
        _check(f"buffer[{k!r}]", got[1].buffer[k], want[1].buffer[k], 6 * u * big_v * slack, fail)
        bound_w = (2 * u * np.abs(_host(params[k])) + 12 * u * lr * big_v) * slack
        _check(f"params[{k!r}]", got[0][k], want[0][k], bound_w, fail)


def check_adam(
    backend: Backend,
    hyper: tuple[float, float, float, float],
    params: dict[str, Any],
    grads: dict[str, Any],
    state: optim.AdamState,
    got: tuple[dict[str, Any], optim.AdamState],
    want: tuple[dict[str, Any], optim.AdamState],
    fail: list[str] | None = None,
) -> None:
    """The derived bound of the module docstring, Adam, for every element."""
    lr, b1, b2, eps = hyper
    u = backend.eps / 2
    slack = 1 + 64 * u
    t = state.count + 1
    c1, c2 = 1 - b1**t, 1 - b2**t
    for k in params:
        g, m, v = _host(grads[k]), _host(state.m[k]), _host(state.v[k])
        s_m = np.abs(m) + np.abs(g)
        v_new = b2 * v + (1 - b2) * g * g
        d = np.sqrt(v_new) / math.sqrt(c2) + eps
        _check(f"m[{k!r}]", got[1].m[k], want[1].m[k], 8 * u * s_m * slack, fail)
        _check(f"v[{k!r}]", got[1].v[k], want[1].v[k], 8 * u * v_new * slack, fail)
        bound_w = (2 * u * np.abs(_host(params[k])) + 28 * u * (lr / c1) * s_m / d) * slack
        _check(f"params[{k!r}]", got[0][k], want[0][k], bound_w, fail)


def _reference(opt: optim.GradientTransformation, grads: Any, state: Any, params: Any) -> Any:
    updates, new_state = opt.update(grads, state, params)
    return optim.apply_updates(params, updates), new_state


shape_lists = st.lists(
    st.lists(st.integers(0, 5), min_size=0, max_size=2).map(tuple), min_size=1, max_size=4
)


def _problem(
    backend: Backend, seed: int, shapes: list[tuple[int, ...]], scale: float, nonneg: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Params, grads and `nonneg` state trees (the last ones squared: Adam's `v` is >= 0)."""
    rng = np.random.default_rng(seed)

    def tree(square: bool = False) -> dict[str, Any]:
        out = {}
        for i, s in enumerate(shapes):
            x = scale * rng.standard_normal(s)
            out[f"p{i}"] = backend.asarray(x * x if square else x)
        return out

    params = tree()
    return params, tree(), [tree(square=i == nonneg - 1) for i in range(nonneg)]


@pytest.mark.parametrize("multi_tensor", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("donate", [False, True], ids=["pure", "donated"])
@pytest.mark.parametrize("backend", backend_params(TORCH_BACKENDS))
@given(shapes=shape_lists, lr=log_uniform(1e-4, 10.0), scale=log_uniform(1e-3, 1e3), seed=seeds)
def test_gd_step_is_update_then_apply(backend, donate, multi_tensor, shapes, lr, scale, seed):
    params, grads, _ = _problem(backend, seed, shapes, scale, 0)
    opt = optim.sgd(lr)
    want = _reference(opt, grads, optim.EmptyState(), params)
    with multi_tensor_form(multi_tensor):
        got = optim.step(opt, grads, optim.EmptyState(), _clone(params), donate=donate)
    check_gd(backend, lr, params, grads, got[0], want[0])


@pytest.mark.parametrize("multi_tensor", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("donate", [False, True], ids=["pure", "donated"])
@pytest.mark.parametrize("backend", backend_params(TORCH_BACKENDS))
@given(
    shapes=shape_lists,
    lr=log_uniform(1e-4, 1.0),
    mu=st.floats(0.0, 0.99),
    scale=log_uniform(1e-3, 1e3),
    count=st.integers(0, 20),
    seed=seeds,
)
def test_heavy_ball_step_is_update_then_apply(
    backend, donate, multi_tensor, shapes, lr, mu, scale, count, seed
):
    """From a drawn state (at a drawn count; count 0 copies the gradient into the buffer)."""
    params, grads, (buffer,) = _problem(backend, seed, shapes, scale, 1)
    opt = optim.sgd_momentum(lr, mu)
    state = optim.MomentumState(buffer if count else opt.init(params).buffer, count)
    want = _reference(opt, grads, state, params)
    with multi_tensor_form(multi_tensor):
        got = optim.step(opt, grads, *_clone((state, params)), donate=donate)
    check_heavy_ball(backend, lr, mu, params, grads, state, got, want)
    assert got[1].count == count + 1


@pytest.mark.parametrize("multi_tensor", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("donate", [False, True], ids=["pure", "donated"])
@pytest.mark.parametrize("backend", backend_params(TORCH_BACKENDS))
@given(
    shapes=shape_lists,
    lr=log_uniform(1e-4, 1.0),
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.0, 0.9999),
    eps=log_uniform(1e-12, 1e-2),
    scale=log_uniform(1e-3, 1e3),
    count=st.integers(0, 50),
    seed=seeds,
)
def test_adam_step_is_update_then_apply(
    backend, donate, multi_tensor, shapes, lr, b1, b2, eps, scale, count, seed
):
    """From drawn moments (any m, v >= 0) at a drawn count, so every bias correction occurs."""
    params, grads, (m, v) = _problem(backend, seed, shapes, scale, 2)
    opt = optim.adam(lr, b1, b2, eps)
    state = optim.AdamState(m, v, count)
    want = _reference(opt, grads, state, params)
    with multi_tensor_form(multi_tensor):
        got = optim.step(opt, grads, *_clone((state, params)), donate=donate)
    check_adam(backend, (lr, b1, b2, eps), params, grads, state, got, want)
    assert got[1].count == count + 1


def _wrong(change: Callable[[Any, int], tuple[Any, int]]) -> Callable[..., Any]:
    """`_fused.apply` with its plan and count changed by `change(plan, count)`."""
    real = _fused.apply

    def wrong(p: Any, *args: Any, count: int, **kw: Any) -> Any:
        p, count = change(p, count)
        return real(p, *args, count=count, **kw)

    return wrong


def _hyper(i: int, value: float) -> Callable[[Any, int], tuple[Any, int]]:
    return lambda p, n: (p._replace(hyper=(*p.hyper[:i], value, *p.hyper[i + 1 :])), n)


@pytest.mark.parametrize(
    "mutation",
    [
        # c2 = 1 - 0.999^3: the step without its factor 1/sqrt(c2)
        pytest.param(
            lambda p, n: (p._replace(c=p.c * math.sqrt(1 - 0.999**3)), n),
            id="no-second-moment-bias-correction",
        ),
        # c1 = 1 - 0.9^3: the step without its factor 1/c1
        pytest.param(
            lambda p, n: (p._replace(c=p.c * (1 - 0.9**3)), n),
            id="no-first-moment-bias-correction",
        ),
        pytest.param(_hyper(2, 1e-4), id="other-eps"),
        pytest.param(_hyper(0, 0.8), id="other-b1"),
    ],
)
def test_the_bound_catches_wrong_arithmetic(mutation, monkeypatch) -> None:
    """A meta-test: the bound of `test_adam_step_is_update_then_apply` rejects plausible bugs."""
    backend = Backend("torch", "cpu", "float32")
    params, grads, (m, v) = _problem(backend, 0, [(50,)], 1.0, 2)
    hyper = (1e-3, 0.9, 0.999, 1e-8)
    opt = optim.adam(*hyper)
    state = optim.AdamState(m, v, 2)
    want = _reference(opt, grads, state, params)
    check_adam(backend, hyper, params, grads, state, optim.step(opt, grads, state, params), want)
    monkeypatch.setattr(_fused, "apply", _wrong(mutation))
    fail: list[str] = []
    check_adam(
        backend, hyper, params, grads, state, optim.step(opt, grads, state, params), want, fail
    )
    assert fail, "a wrong fused Adam step passed the bound"


def test_the_heavy_ball_bound_catches_a_wrong_momentum(monkeypatch) -> None:
    backend = Backend("torch", "cpu", "float32")
    params, grads, (buffer,) = _problem(backend, 1, [(50,)], 1.0, 1)
    opt = optim.sgd_momentum(0.1, 0.9)
    state = optim.MomentumState(buffer, 3)
    want = _reference(opt, grads, state, params)
    monkeypatch.setattr(_fused, "apply", _wrong(_hyper(0, 0.9 + 1e-5)))
    fail: list[str] = []
    got = optim.step(opt, grads, state, params)
    check_heavy_ball(backend, 0.1, 0.9, params, grads, state, got, want, fail)
    assert fail, "a heavy-ball step with momentum 0.9 + 1e-5 passed the bound"


def _arrays(tree: Any) -> list[Any]:
    """The arrays of a tree of dicts and (named) tuples, in order (step counts left out)."""
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in _arrays(v)]
    if isinstance(tree, tuple):
        return [x for v in tree for x in _arrays(v)]
    return [] if isinstance(tree, int) else [tree]


def _tensors(tree: Any) -> list[Any]:
    return [x for x in _arrays(tree) if isinstance(x, torch.Tensor)]


@pytest.mark.parametrize("multi_tensor", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("name", FUSED)
def test_donated_step_writes_into_the_donated_arrays(name, multi_tensor) -> None:
    """The returned arrays are the donated ones, equal to the pure step's bits (in place and out
    of place, the fused step runs the same operations)."""
    backend = Backend("torch", "cpu", "float64")
    params, grads_0, _ = _problem(backend, 2, [(3, 2), (4,), ()], 1.0, 0)
    opt = make_optimizer(name)
    state = opt.init(params)
    pure_params, pure_state = params, state
    don_params, don_state = _clone((params, state))
    with multi_tensor_form(multi_tensor):
        for t in range(3):
            grads = {k: g * (t + 1) for k, g in grads_0.items()}
            ids = [id(x) for x in _tensors((don_params, don_state))]
            grads_before = _clone(grads)
            don_params, don_state = optim.step(opt, grads, don_state, don_params, donate=True)
            assert [id(x) for x in _tensors((don_params, don_state))] == ids, f"step {t}"
            assert all(
                torch.equal(a, b)
                for a, b in zip(_tensors(grads), _tensors(grads_before), strict=True)
            )
            pure_params, pure_state = optim.step(opt, grads, pure_state, pure_params)
            for a, b in zip(
                _tensors((pure_params, pure_state)), _tensors((don_params, don_state)), strict=True
            ):
                assert torch.equal(a, b), f"{name}, step {t}"


@pytest.mark.parametrize("name", FUSED)
def test_pure_step_changes_no_input(name) -> None:
    backend = Backend("torch", "cpu", "float32")
    params, grads, _ = _problem(backend, 3, [(3, 2), (4,)], 1.0, 0)
    opt = make_optimizer(name)
    state = opt.init(params)
    for _ in range(3):
        before = _clone((grads, state, params))
        new_params, new_state = optim.step(opt, grads, state, params)
        assert all(
            torch.equal(a, b)
            for a, b in zip(_tensors(before), _tensors((grads, state, params)), strict=True)
        )
        assert not {id(x) for x in _tensors((new_params, new_state))} & {
            id(x) for x in _tensors((grads, state, params))
        }
        params, state = new_params, new_state


def _aliased_cases() -> Iterator[Any]:
    flat = torch.arange(10.0, dtype=torch.float64)
    z = {"a": torch.zeros(2, 3, dtype=torch.float64), "b": torch.zeros(4, dtype=torch.float64)}
    yield pytest.param("adam", None, optim.AdamState(z, z, 0), id="adam-m-is-v")
    p = {"a": flat[:6].reshape(2, 3), "b": flat[6:]}
    yield pytest.param("adam", p, None, id="params-share-a-storage")
    yield pytest.param(
        "adam",
        {"a": torch.ones(3, 2, dtype=torch.float64).T, "b": torch.ones(4, dtype=torch.float64)},
        None,
        id="non-contiguous-param",
    )
    yield pytest.param("sgd_momentum", None, "buffer-is-grad", id="buffer-is-the-gradient")


@pytest.mark.parametrize(("name", "params", "state"), list(_aliased_cases()))
def test_refused_donation_computes_out_of_place(name, params, state) -> None:
    """Aliased or strided donated arrays: the step is pure, correct, and no input changes."""
    opt = make_optimizer(name)
    if params is None:
        params = {
            "a": torch.linspace(-1, 1, 6, dtype=torch.float64).reshape(2, 3),
            "b": torch.ones(4, dtype=torch.float64),
        }
    grads = {k: 0.5 * torch.ones_like(p) + 0.1 for k, p in params.items()}
    if state is None:
        state = opt.init(params)
    elif state == "buffer-is-grad":
        state = optim.MomentumState(dict(grads), 1)
    want = _reference(opt, grads, state, params)
    before = _clone((grads, state, params))
    got = optim.step(opt, grads, state, params, donate=True)
    assert all(
        torch.equal(a, b)
        for a, b in zip(_tensors(before), _tensors((grads, state, params)), strict=True)
    ), "a refused donation wrote into an input"
    assert not {id(x) for x in _tensors(got)} & {id(x) for x in _tensors((state, params))}
    backend = Backend("torch", "cpu", "float64")
    if name == "adam":
        check_adam(backend, (0.1, 0.9, 0.999, 1e-8), params, grads, state, got, want)
    else:
        check_heavy_ball(backend, 0.1, 0.9, params, grads, state, got, want)


@pytest.mark.parametrize("donate", [False, True], ids=["pure", "donated"])
@pytest.mark.parametrize(
    ("name", "library"),
    [(n, "numpy") for n in [*UNFUSED, *FUSED]] + [(n, "torch") for n in UNFUSED],
)
def test_step_without_a_fused_form_is_update_then_apply_exactly(name, library, donate) -> None:
    """Where no fused step applies (other optimizers, NumPy) `step` is the two calls, bit for bit."""
    backend = Backend(library, "cpu", "float64")
    params, grads, _ = _problem(backend, 4, [(3, 2), (4,)], 1.0, 0)
    opt = make_optimizer(name)
    state_a = state_b = opt.init(params)
    params_a = params_b = params
    for _ in range(3):
        params_a, state_a = _reference(opt, grads, state_a, params_a)
        params_b, state_b = optim.step(opt, grads, state_b, params_b, donate=donate)
        for a, b in zip(_arrays((params_a, state_a)), _arrays((params_b, state_b)), strict=True):
            np.testing.assert_array_equal(backend.to_numpy(a), backend.to_numpy(b))


def test_requires_grad_leaves_take_the_reference_path() -> None:
    """A tensor that requires grad needs the autograd graph: `step` is then the two calls."""
    params = {"w": torch.ones(3, dtype=torch.float64, requires_grad=True)}
    grads = {"w": torch.full((3,), 0.5, dtype=torch.float64)}
    opt = optim.adam(0.1)
    state = opt.init(params)
    got = optim.step(opt, grads, state, params, donate=True)
    want = _reference(opt, grads, state, params)
    assert torch.equal(got[0]["w"], want[0]["w"]) and got[0]["w"].requires_grad


@pytest.mark.parametrize("record_every", [0, 3])
@pytest.mark.parametrize("name", FUSED)
def test_donating_run_equals_the_pure_run(name, record_every) -> None:
    """`train.run(donate=True)` gives the pure run's iterates bit for bit (the loop form's
    in-place and out-of-place operations are the same kernels) and never writes into `params`
    or a recorded iterate; it does write in place once the loop owns the iterate."""
    from dlcore.train import run

    backend = Backend("torch", "cpu", "float64")
    params, grads, _ = _problem(backend, 5, [(3, 2), (4,)], 1.0, 0)
    seen: list[Any] = []

    def grad_fn(p: Any, t: int) -> Any:
        seen.append(p["p0"].data_ptr())
        return {k: g * (1 + t) + 0.1 * p[k] for k, g in grads.items()}

    start = _clone(params)
    pure, pure_traj = run(make_optimizer(name), grad_fn, params, 7, record_every=record_every)
    seen.clear()
    donated, traj = run(
        make_optimizer(name), grad_fn, params, 7, record_every=record_every, donate=True
    )
    assert all(torch.equal(a, b) for a, b in zip(_tensors(params), _tensors(start), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(_tensors(donated), _tensors(pure), strict=True))
    assert len(traj) == len(pure_traj)
    for a, b in zip(traj, pure_traj, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(_tensors(a), _tensors(b), strict=True))
    # step t reuses the memory of step t-1's result unless that one was recorded or is params
    reused = [t for t in range(1, 7) if seen[t] == seen[t - 1]]
    expected = [t for t in range(2, 7) if not (record_every and (t - 1) % record_every == 0)]
    assert reused == expected


@given(
    n=st.integers(1, 300),
    where=st.integers(0, 299),
    bad=st.sampled_from([math.nan, math.inf, -math.inf]),
    in_b=st.booleans(),
    partner=st.sampled_from([0.0, 1.0, -1.0, 1e-30]),
    dtype=st.sampled_from(["float32", "float64", "float16", "bfloat16"]),
    shape2d=st.booleans(),
    seed=seeds,
)
def test_probe_is_non_finite_when_either_array_is(
    n, where, bad, in_b, partner, dtype, shape2d, seed
) -> None:
    """`_fused.probe(a, b)`, the finiteness probe of the fused steps, is non-finite when one
    entry of `a` or of `b` is NaN or infinite, whatever the other array holds there (0 included:
    inf * 0 is NaN), and finite for finite entries of moderate size (|a_i b_i| <= 1, n <= 300:
    no overflow even in float16)."""
    rng = np.random.default_rng(seed)
    dt = getattr(torch, dtype)
    a = torch.tensor(rng.uniform(-1, 1, n), dtype=dt)
    b = torch.tensor(rng.uniform(-1, 1, n), dtype=dt)
    if shape2d and n % 2 == 0:
        a, b = a.reshape(2, -1), b.reshape(2, -1)
    assert math.isfinite(float(_fused.probe(a, b)))
    i = where % n
    bad_one, other = (b, a) if in_b else (a, b)
    bad_one.view(-1)[i] = bad
    other.view(-1)[i] = partner
    assert not math.isfinite(float(_fused.probe(a, b)))
