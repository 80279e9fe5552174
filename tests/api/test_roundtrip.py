"""dtype and device round-trips: what goes in on a backend comes out on that backend.

Every array-returning function is called on one small, fixed, well-conditioned problem moved to
each backend (NumPy, torch CPU/CUDA in float32 and float64, `array_api_strict`, and
`array_api_strict` on its second device `device1`, which checks device placement without a GPU).
The results must be arrays of the same library, dtype and device as the input. Values are
checked loosely against the NumPy float64 result, only to catch a silent cast or a wrong device
transfer; the numerics are the claims' business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np
import pytest

from dlcore import init, kernels, linear, losses, mlp, optim, train
from dlcore.backend import device_of, to_numpy
from tests.support.backends import BACKENDS, HAS_STRICT, Backend, backend_params
from tests.support.optim_oracles import OPTIMIZERS, make_optimizer


class StrictDevice1(Backend):
    """`array_api_strict` float64 on its non-default device, a stand-in for a second device."""

    def asarray(self, x: Any) -> Any:
        import array_api_strict as xp

        return xp.asarray(np.asarray(x, dtype=self.dtype_name), device=xp.Device("device1"))

    @property
    def id(self) -> str:
        return "array_api_strict-device1-float64"


PARAMS = [
    *backend_params(BACKENDS),
    pytest.param(
        StrictDevice1("array_api_strict", "device1", "float64"),
        id="array_api_strict-device1-float64",
        marks=[pytest.mark.skipif(not HAS_STRICT, reason="array_api_strict is not installed")],
    ),
]

_rng = np.random.default_rng(42)
# a fixed, well-conditioned 6 x 3 problem
_Q, _ = np.linalg.qr(_rng.standard_normal((6, 3)))
X_HOST = _Q @ np.diag([3.0, 2.0, 1.0])
Y_HOST = _rng.standard_normal(6)
W_HOST = _rng.standard_normal(3)
K_HOST = X_HOST @ X_HOST.T
LAM = 0.5


def assert_like(out: Any, ref: Any, *, what: str) -> None:
    """`out` is an array of the same library, dtype and device as `ref`."""
    assert array_api_compat.is_array_api_obj(out), f"{what}: not an array: {type(out).__name__}"
    assert type(out) is type(ref), f"{what}: library {type(out)} != {type(ref)}"
    assert out.dtype == ref.dtype, f"{what}: dtype {out.dtype} != {ref.dtype}"
    assert str(device_of(out)) == str(device_of(ref)), (
        f"{what}: device {device_of(out)} != {device_of(ref)}"
    )


def assert_values(out: Any, expected: np.ndarray, backend: Backend, *, what: str) -> None:
    got = np.asarray(to_numpy(out), dtype=np.float64)
    tol = 1e3 * backend.eps * max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol, err_msg=what)


SOLVERS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "ridge": lambda X, y, K: linear.ridge(X, y, LAM),
    "ridge-lam0": lambda X, y, K: linear.ridge(X, y, 0.0),
    "ridge_dual": lambda X, y, K: linear.ridge_dual(X, y, LAM),
    "min_norm_solution": lambda X, y, K: linear.min_norm_solution(X, y),
    "kernel_ridge": lambda X, y, K: kernels.kernel_ridge(K, y, LAM),
    "linear_kernel": lambda X, y, K: kernels.linear_kernel(X, X),
    "row_space_projector": lambda X, y, K: linear.row_space_projector(X),
}


@pytest.mark.parametrize("name", list(SOLVERS))
@pytest.mark.parametrize("backend", PARAMS)
def test_solvers_round_trip(backend: Backend, name: str) -> None:
    X, y, K = backend.asarray(X_HOST), backend.asarray(Y_HOST), backend.asarray(K_HOST)
    out = SOLVERS[name](X, y, K)
    assert_like(out, X, what=name)
    expected = SOLVERS[name](X_HOST, Y_HOST, K_HOST)
    assert_values(out, expected, backend, what=name)


@pytest.mark.parametrize("backend", PARAMS)
def test_loss_gradients_round_trip(backend: Backend) -> None:
    w, X, y = backend.asarray(W_HOST), backend.asarray(X_HOST), backend.asarray(Y_HOST)
    for name, out, expected in (
        ("squared_loss_grad", losses.squared_loss_grad(w, X, y), losses.squared_loss_grad(W_HOST, X_HOST, Y_HOST)),
        ("minibatch_grad", losses.minibatch_grad(w, X, y, [0, 2, 2]), losses.minibatch_grad(W_HOST, X_HOST, Y_HOST, [0, 2, 2])),
        ("squared_loss", losses.squared_loss(w, X, y), losses.squared_loss(W_HOST, X_HOST, Y_HOST)),
    ):  # fmt: skip
        assert_like(out, X, what=name)
        assert_values(out, np.asarray(expected), backend, what=name)


@pytest.mark.parametrize("name", [n for n in init.__all__ if n.endswith(("_normal", "_uniform"))])
@pytest.mark.parametrize("backend", PARAMS)
def test_init_like_round_trip(backend: Backend, name: str) -> None:
    like = backend.asarray(X_HOST)
    draw = getattr(init, name)
    out = draw(4, 3, rng=np.random.default_rng(7), like=like)
    assert_like(out, like, what=name)
    assert tuple(out.shape) == (4, 3)
    # one seed gives the same weights on every backend (up to the dtype's rounding)
    assert_values(out, draw(4, 3, rng=np.random.default_rng(7)), backend, what=name)


@pytest.mark.parametrize("backend", PARAMS)
def test_mlp_round_trip(backend: Backend) -> None:
    like = backend.asarray(X_HOST)
    params = mlp.init_mlp([3, 4, 2], rng=np.random.default_rng(3), like=like)
    host = mlp.init_mlp([3, 4, 2], rng=np.random.default_rng(3))
    for k, p in params.items():
        assert_like(p, like, what=f"init_mlp {k}")
    zs = mlp.preactivations(params, like)
    expected = mlp.preactivations(host, X_HOST)
    assert len(zs) == 2
    for ell, (z, e) in enumerate(zip(zs, expected, strict=True), start=1):
        assert_like(z, like, what=f"z{ell}")
        assert_values(z, e, backend, what=f"z{ell}")
    assert_like(mlp.forward(params, like), like, what="forward")


def _state_arrays(state: Any) -> list[tuple[str, Any]]:
    out = []
    for field, value in zip(type(state)._fields, state, strict=True):
        if isinstance(value, dict):
            out += [(f"state.{field}[{k!r}]", v) for k, v in value.items()]
    return out


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("backend", PARAMS)
def test_optimizer_round_trip(backend: Backend, name: str) -> None:
    params = {"w": backend.asarray(W_HOST), "b": backend.asarray(Y_HOST[:2])}
    grads = {"w": backend.asarray(2 * W_HOST), "b": backend.asarray(Y_HOST[2:4])}
    host_params = {"w": W_HOST, "b": Y_HOST[:2]}
    host_grads = {"w": 2 * W_HOST, "b": Y_HOST[2:4]}
    opt, host_opt = make_optimizer(name), make_optimizer(name)
    state, host_state = opt.init(params), host_opt.init(host_params)
    for _ in range(2):
        updates, state = opt.update(grads, state, params)
        host_updates, host_state = host_opt.update(host_grads, host_state, host_params)
        params = optim.apply_updates(params, updates)
        host_params = optim.apply_updates(host_params, host_updates)
    ref = backend.asarray(W_HOST)
    for k in params:
        assert_like(updates[k], ref, what=f"updates[{k!r}]")
        assert_like(params[k], ref, what=f"params[{k!r}]")
        assert_values(params[k], host_params[k], backend, what=f"params[{k!r}]")
    for what, arr in _state_arrays(state):
        assert_like(arr, ref, what=what)


@pytest.mark.parametrize("backend", PARAMS)
def test_train_run_round_trip(backend: Backend) -> None:
    X, y = backend.asarray(X_HOST), backend.asarray(Y_HOST)
    params = {"w": backend.asarray(np.zeros(3))}

    def grad_fn(p: dict[str, Any], t: int) -> dict[str, Any]:
        return {"w": losses.squared_loss_grad(p["w"], X, y)}

    final, trajectory = train.run(optim.sgd(0.01), grad_fn, params, 3, record_every=1)
    assert len(trajectory) == 4
    for p in [final, *trajectory]:
        assert_like(p["w"], X, what="run")
