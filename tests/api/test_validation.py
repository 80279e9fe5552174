"""dlcore's input contract: every public function rejects bad input early and says why.

Each row is one call with one bad argument. It must raise the listed exception, and the message
must contain every fragment (the argument's name and the value received, in order), checked with
`pytest.raises(match=...)`. The rows pin messages; completeness is `test_contract.py`'s job: it
generates, from the kinds dlcore declares with `@backend.contract` (and `tests/support/
contracts.py` for the rest), the bad calls of every public name (wrong type, dtype, shape, shape
relation, library, device, non-finite entries, out-of-range scalars), each of which must be
refused naming the argument and showing the value. So a row here is a message format the
generated calls do not pin (the backend's own wording, once) or a check no kind declares (a
domain condition such as labels in {-1, +1}, knots in order, a model's fields, K symmetric).
Optimizer rejections must leave params, grads and state untouched (they are pure, and the checks
run before anything is computed).
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np
import pytest

from dlcore import (
    backend,
    constructions,
    data,
    dynamics,
    init,
    kernels,
    linear,
    losses,
    mlp,
    optim,
    train,
)
from dlcore.backend import Arr, Choice, Int, Knots, Real, contract, to_numpy
from tests.support.optim_oracles import OPTIMIZERS as OPTIMIZER_TABLE
from tests.support.optim_oracles import make_optimizer

torch = pytest.importorskip("torch")
strict = pytest.importorskip("array_api_strict")

NAN, INF = math.nan, math.inf


@dataclass(frozen=True)
class Case:
    """A call `func(*args, **kwargs)` that must raise `exc` with every fragment in its message."""

    id: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    exc: type[Exception]
    fragments: tuple[str, ...]

    @property
    def match(self) -> str:
        return ".*".join(re.escape(f) for f in self.fragments)


CASES: list[Case] = []


def case(
    id: str,
    func: Callable[..., Any],
    *args: Any,
    exc: type[Exception],
    match: tuple[str, ...],
    **kwargs: Any,
) -> None:
    CASES.append(Case(id, func, args, kwargs, exc, match))


_rng = np.random.default_rng(0)
X = _rng.standard_normal((5, 3))
Y = _rng.standard_normal(5)
W = _rng.standard_normal(3)
K = X @ X.T + np.eye(5)
PM = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
Z = _rng.standard_normal((5, 3))
x3 = X[:, :3]


def with_value(a: np.ndarray, index: tuple[int, ...], value: float) -> np.ndarray:
    out = a.copy()
    out[index] = value
    return out


def t(a: np.ndarray) -> Any:
    return torch.as_tensor(a)


def on_device1(a: np.ndarray) -> Any:
    return strict.asarray(a, device=strict.Device("device1"))


def gen() -> np.random.Generator:
    return np.random.default_rng(1)


PARAMS = {"W1": X[:3, :2].copy(), "b1": np.zeros(2), "W2": X[:2, :1].copy(), "b2": np.zeros(1)}


def params_with(**changes: Any) -> dict[str, Any]:
    out = {k: v for k, v in PARAMS.items() if k not in changes or changes[k] is not None}
    out.update({k: v for k, v in changes.items() if v is not None})
    return out


def declared(**kinds: Any) -> Callable[..., None]:
    """A function that only declares `kinds` (in order), to pin the wording of a kind."""

    def body(**kwargs: Any) -> None:
        return None

    arg = inspect.Parameter.POSITIONAL_OR_KEYWORD
    body.__signature__ = inspect.Signature([inspect.Parameter(k, arg) for k in kinds])  # type: ignore[attr-defined]
    return contract(kinds)(body)


kr, krf, mb, im = (
    kernels.kernel_ridge,
    kernels.kernel_ridge_fit,
    losses.minibatch_grad,
    mlp.init_mlp,
)
pwl, slopes, sig = (
    constructions.relu_net_from_pwl,
    constructions.relu_net_from_slopes,
    constructions.sigmoidal_net_from_samples,
)
TORCH_XY, STRICT_XY = (t(X), t(Y)), (strict.asarray(X), strict.asarray(Y))

# ---- backend: the wording of every check and kind, once --------------------------------------
# fmt: off
case("namespace-nothing", backend.namespace, None, exc=TypeError, match=("none",))
case("namespace-list", backend.namespace, [1.0], exc=TypeError, match=("list", "[1.0]"))
case("namespace-numpy-torch", backend.namespace, X, t(X), exc=TypeError, match=("different libraries", "numpy.ndarray", "torch.Tensor"))
case("namespace-dtypes", backend.namespace, X, X.astype(np.float32), exc=TypeError, match=("different dtypes", "float32"))
case("namespace-devices", backend.namespace, strict.asarray(X), on_device1(X), exc=TypeError, match=("different devices", "device1"))
case("asarray-like-list", backend.asarray, 1.0, like=[1.0], exc=TypeError, match=("like", "[1.0]"))
case("device_of-list", backend.device_of, [1.0], exc=TypeError, match=("x", "list", "[1.0]"))
case("eps-int", backend.eps, np.arange(3), exc=TypeError, match=("x", "int64"))
case("eps-list", backend.eps, [1.0], exc=TypeError, match=("x must be an array", "[1.0]"))
case("check_array", backend.check_array, "A", (1,), exc=TypeError, match=("A", "(1,)"))
case("check_compatible-library", backend.check_compatible, {"A": X, "B": t(X)}, exc=TypeError, match=("A and B", "A: numpy.ndarray", "B: torch.Tensor"))
case("check_compatible-device", backend.check_compatible, {"A": strict.asarray(X), "B": on_device1(X)}, exc=TypeError, match=("A and B", "same device", "device1"))
case("check_compatible-dtype", backend.check_compatible, {"A": X, "B": X.astype(np.float32)}, exc=TypeError, match=("A and B", "same dtype", "B: float32"))
case("check_compatible-three", declared(w=Arr("d"), X=Arr("n d"), y=Arr("n")), W, t(X), Y, exc=TypeError, match=("w, X and y", "X: torch.Tensor"))
case("check_generator-seed", backend.check_generator, "rng", 0, exc=TypeError, match=("rng", "Generator", "int: 0"))
case("check_generator-none", backend.check_generator, "rng", None, exc=TypeError, match=("rng", "None"))
case("check_bool-int", backend.check_bool, "train", 1, exc=TypeError, match=("train must be a bool", "int: 1"))
case("check_finite", backend.check_finite, "X", with_value(X, (0, 1), NAN), exc=ValueError, match=("X must be finite", "1 non-finite", "nan"))
case("Arr-list", Arr("n d"), "X", X.tolist(), exc=TypeError, match=("X must be an array", "list"))
case("Arr-int", Arr("n d"), "X", np.ones((5, 3), int), exc=TypeError, match=("X must have a real floating dtype", "int64"))
case("Arr-matrix-1d", Arr("n d"), "A", Y, exc=ValueError, match=("A must be 2-D (n, d)", "(5,)"))
case("Arr-vector-2d", Arr("d"), "w", W[:, None], exc=ValueError, match=("w must be 1-D (d,)", "(3, 1)"))
case("Arr-vector-or-matrix-3d", Arr("n", "n m"), "v", X[None], exc=ValueError, match=("v must have shape (n,) or (n, m)", "(1, 5, 3)"))
case("Arr-empty", Arr("n d"), "X", X[:0], exc=ValueError, match=("X", "empty", "(0, 3)"))
case("Arr-nan", Arr("n d"), "X", with_value(X, (2, 2), -INF), exc=ValueError, match=("X must be finite", "-inf"))
case("Arr-square", Arr("n n"), "K", K[:, :4], exc=ValueError, match=("K must have shape (n, n)", "(5, 4)"))
case("Arr-fixed-size", Arr("1"), "value", Y[:2], exc=ValueError, match=("value must have shape (1,)", "(2,)"))
case("Arr-linalg-half", Arr("n d", linalg=True), "X", t(X).half(), exc=TypeError, match=("X has dtype float16", "float32 or float64"))
case("contract-rows-match", declared(A=Arr("n d"), B=Arr("n", "n m")), X, Y[:4], exc=ValueError, match=("A and B must have the same size n", "A.shape=(5, 3) and B.shape=(4,)"))
case("contract-columns-match", declared(A=Arr("n d"), B=Arr("q d")), X, X[:, :2], exc=ValueError, match=("A and B", "A.shape[1] and B.shape[1]", "B.shape=(5, 2)"))
case("contract-targets", declared(w=Arr("d", "d m"), y=Arr("n", "n m")), W[:, None], Y, exc=ValueError, match=("w and y must both have an axis m or neither", "w.shape=(3, 1)", "y.shape=(5,)"))
case("contract-devices", declared(X=Arr("n d"), y=Arr("n")), strict.asarray(X), on_device1(Y), exc=TypeError, match=("X and y", "same device", "device1"))
case("contract-unknown-parameter", contract(q=Real(0)), lambda x: x, exc=TypeError, match=("has no parameters", "'q'"))
case("contract-missing-argument", linear.ridge, X, Y, exc=TypeError, match=("missing", "'lam'"))
case("contract-too-many-arguments", linear.ridge, X, Y, 1.0, 2.0, exc=TypeError, match=("ridge()", "4 were given"))
case("contract-argument-twice", linear.ridge, X, Y, 1.0, lam=2.0, exc=TypeError, match=("multiple values", "'lam'"))
case("Real-positive-zero", Real(0, low_open=True), "h", 0, exc=ValueError, match=("h", "> 0", "0"))
case("Real-nonnegative", Real(0), "h", -1, exc=ValueError, match=("h", ">= 0", "-1"))
case("Real-half-open", Real(0.0, 1.0, high_open=True), "h", 1.0, exc=ValueError, match=("h", "[0, 1)", "1.0"))
case("Real-bool", Real(0), "lam", True, exc=TypeError, match=("lam must be a real number", "True"))
case("Real-str", Real(0), "lam", "1", exc=TypeError, match=("lam", "'1'"))
case("Real-nan", Real(0), "lam", NAN, exc=ValueError, match=("lam must be finite", "nan"))
case("Real-interval", Real(0.0, 1.0, low_open=True), "margin", 1.5, exc=ValueError, match=("margin must lie in (0, 1]", "1.5"))
case("Int-float", Int(0), "k", 1.5, exc=TypeError, match=("k", "1.5"))
case("Int-small", Int(0), "k", -1, exc=ValueError, match=("k", "-1"))
case("Int-bool", Int(1), "d_in", True, exc=TypeError, match=("d_in must be an int", "True"))
case("Int-max", Int(0, 3), "k", 4, exc=ValueError, match=("k must be <= 3", "4"))
case("Choice", Choice("he", "lecun"), "scheme", "xavier", exc=ValueError, match=("scheme must be one of ('he', 'lecun')", "'xavier'"))
case("Knots-unsorted", Knots("k+1"), "knots", np.array([0.0, 2.0, 1.0]), exc=ValueError, match=("knots", "increasing"))
case("Knots-one", Knots("k+1"), "knots", np.array([0.0]), exc=ValueError, match=("knots", "(k+1,)", "k >= 1", "(1,)"))
case("Knots-2d", Knots("k"), "knots", X, exc=ValueError, match=("knots", "(k,)", "(5, 3)"))

# ---- linear, kernels, losses, data, init, mlp, constructions: what no kind declares ------------
case("ridge-lam0-wide", linear.ridge, X.T, Y[:3], 0.0, exc=ValueError, match=("lam=0", "column rank", "(3, 5)"))
case("ridge_dual-lam0-tall", linear.ridge_dual, X, Y, 0.0, exc=ValueError, match=("lam=0", "row rank", "(5, 3)"))
case("ridge_objective-w-matrix-y-vector", linear.ridge_objective, W[:, None], X, Y, 1.0, exc=ValueError, match=("w and y", "w.shape=(3, 1)"))
case("ridge_filter_factors-neg", linear.ridge_filter_factors, np.array([1.0, -0.5]), 1.0, exc=ValueError, match=("s", "-0.5"))
case("kernel_ridge-K-nonsymmetric", kr, with_value(K, (0, 1), K[0, 1] + 1.0), Y, 1.0, exc=ValueError, match=("K must be symmetric",))
case("kernel_ridge-K-not-psd", kr, K - 20 * np.eye(5), Y, 1.0, exc=ValueError, match=("K must be positive semi-definite", "eigenvalue"))
case("kernel_ridge-lam0-singular", kr, X @ X.T, Y, 0.0, exc=ValueError, match=("singular", "lam=0.0"))
case("kernel_ridge_fit-primal-rbf", krf, X, Y, 1.0, kernel="rbf", form="primal", exc=ValueError, match=("form='primal'", "'rbf'"))
case("kernel_ridge_fit-lam0-singular", krf, X, Y, 0.0, form="dual", exc=ValueError, match=("lam=0.0", "not positive definite"))
case("kernel_ridge_fit-lam0-singular-torch", krf, *TORCH_XY, 0.0, form="dual", exc=ValueError, match=("lam=0.0", "not positive definite"))
case("kernel_ridge_fit-lam0-singular-strict", krf, *STRICT_XY, 0.0, form="dual", exc=ValueError, match=("lam=0.0", "not positive definite"))
case("kernel_ridge_predict-model", kernels.kernel_ridge_predict, (X, Y), X, exc=TypeError, match=("model", "tuple"))
case("kernel_ridge_predict-columns", kernels.kernel_ridge_predict, krf(X, Y, 1.0, kernel="rbf"), X[:, :2], exc=ValueError, match=("X_test", "X_test.shape=(5, 2)"))
case("squared_loss-targets", losses.squared_loss, W[:, None], X, Y, exc=ValueError, match=("w and y", "w.shape=(3, 1)", "y.shape=(5,)"))
case("minibatch_grad-empty", mb, W, X, Y, [], exc=ValueError, match=("batch", "empty", "[]"))
case("minibatch_grad-empty-array", mb, W, X, Y, np.array([], int), exc=ValueError, match=("batch",))
case("minibatch_grad-index-n", mb, W, X, Y, [0, 5], exc=ValueError, match=("batch", "[0, 5)", "[5]"))
case("minibatch_grad-index-neg", mb, W, X, Y, [-1], exc=ValueError, match=("batch", "[-1]"))
case("minibatch_grad-float-index", mb, W, X, Y, [0.5], exc=TypeError, match=("batch", "0.5"))
case("minibatch_grad-bool-index", mb, W, X, Y, [True], exc=TypeError, match=("batch", "True"))
case("minibatch_grad-int", mb, W, X, Y, 3, exc=TypeError, match=("batch", "int: 3"))
case("minibatch_grad-str", mb, W, X, Y, "01", exc=TypeError, match=("batch", "'01'"))
case("minibatch_grad-2d", mb, W, X, Y, np.zeros((1, 2), int), exc=ValueError, match=("batch", "(1, 2)"))
case("zero_one_loss-labels", losses.zero_one_loss, Y, 3 * PM, exc=ValueError, match=("y", "3.0"))
case("logistic_loss-labels", losses.logistic_loss, Y, with_value(PM, (1,), 0.5), exc=ValueError, match=("y", "{-1, +1}", "0.5"))
case("hinge_loss-labels", losses.hinge_loss, Y, with_value(PM, (0,), 0.0), exc=ValueError, match=("y", "{-1, +1}", "0.0"))
case("hinge_loss_grad-labels", losses.hinge_loss_grad, Y, 2 * PM, exc=ValueError, match=("y", "2.0"))
case("per_example_grads-labels", losses.per_example_grads, W, X, Y, loss="hinge", exc=ValueError, match=("y", "{-1, +1}"))
case("cross_entropy-range", losses.cross_entropy, Z, [0, 1, 2, 3, 0], exc=ValueError, match=("labels", "[0, 3)", "3"))
case("cross_entropy-neg", losses.cross_entropy, Z, [0, 1, 2, -1, 0], exc=ValueError, match=("labels", "-1"))
case("cross_entropy_grad-float", losses.cross_entropy_grad, Z, [0, 1, 2, 1.0, 0], exc=TypeError, match=("labels", "float", "1.0"))
case("cross_entropy_grad-len", losses.cross_entropy_grad, Z, [0, 1], exc=ValueError, match=("labels", "5", "2"))
case("sample_batch-too-big", data.sample_batch, 5, 6, replace=False, rng=gen(), exc=ValueError, match=("batch_size", "n=5", "6"))
case("epoch_batches-too-big", data.epoch_batches, 3, 4, rng=gen(), exc=ValueError, match=("batch_size", "n=3", "4"))
case("batch_schedule-divides", data.batch_schedule, 5, 2, 3, scheme="epoch", rng=gen(), exc=ValueError, match=("batch_size", "n=5", "2"))
case("standardize-constant-column", data.standardize, with_value(X, (slice(None), 1), 2.0), exc=ValueError, match=("constant column",))
case("kink_location-shape", init.kink_location, Y, Y[:3], exc=ValueError, match=("w and b", "(5,)", "(3,)"))
case("init_mlp-depth0", im, [3], rng=gen(), exc=ValueError, match=("sizes", "depth", "(3,)"))
case("init_mlp-empty", im, [], rng=gen(), exc=ValueError, match=("sizes", "()"))
case("init_mlp-width0", im, [3, 0, 1], rng=gen(), exc=ValueError, match=("sizes[1]", "0"))
case("init_mlp-fan-in0", im, [0, 2], rng=gen(), exc=ValueError, match=("sizes[0]", "0"))
case("init_mlp-float-size", im, [3, 2.5], rng=gen(), exc=TypeError, match=("sizes[1]", "2.5"))
case("init_mlp-sizes-int", im, 3, rng=gen(), exc=TypeError, match=("sizes", "int: 3"))
case("forward-params-list", mlp.forward, [X], x3, exc=TypeError, match=("params", "list"))
case("forward-params-empty", mlp.forward, {}, x3, exc=ValueError, match=("params", "'W1'"))
case("forward-params-missing-b2", mlp.forward, params_with(b2=None), x3, exc=ValueError, match=("params", "'b2'"))
case("forward-params-extra", mlp.forward, params_with(b3=np.zeros(1)), x3, exc=ValueError, match=("params", "'b3'"))
case("forward-W1-list", mlp.forward, params_with(W1=[[1.0]]), x3, exc=TypeError, match=("params['W1']", "list"))
case("forward-W2-shape", mlp.forward, params_with(W2=np.zeros((4, 1))), x3, exc=ValueError, match=("params['W2']", "(4, 1)"))
case("forward-b1-shape", mlp.forward, params_with(b1=np.zeros(3)), x3, exc=ValueError, match=("params['b1']", "(3,)"))
case("forward-X-width", mlp.forward, PARAMS, X[:, :2], exc=ValueError, match=("params['W1']", "(3, 2)"))
case("forward-numpy-torch", mlp.forward, PARAMS, t(x3), exc=TypeError, match=("X: torch.Tensor", "params['W1']: numpy.ndarray"))
case("forward-dtypes", mlp.forward, params_with(W2=PARAMS["W2"].astype(np.float32)), x3, exc=TypeError, match=("same dtype", "params['W2']: float32"))
case("forward_with-phi", mlp.forward_with, PARAMS, x3, 3, exc=TypeError, match=("phi must be callable", "3"))
case("forward_with-not-elementwise", mlp.forward_with, PARAMS, x3, lambda z: z[:, :1], exc=TypeError, match=("phi must act elementwise",))
case("backward-G-shape", mlp.backward, PARAMS, x3, X[:, :2], exc=ValueError, match=("grad_output", "(5, 1)", "(5, 2)"))
case("value_and_grad-y-shape", mlp.value_and_grad, PARAMS, x3, X[:, :2], exc=ValueError, match=("y must have the output's shape", "(5, 1)", "(5, 2)"))
case("unflatten_params-length", mlp.unflatten_params, np.zeros(5), PARAMS, exc=ValueError, match=("theta", "(11,)", "(5,)"))
case("param_jacobian-vector-output", mlp.param_jacobian, params_with(W2=np.zeros((2, 2)), b2=np.zeros(2)), x3, exc=ValueError, match=("scalar output", "d_L = 2"))
case("relu_net_from_pwl-unsorted", pwl, np.array([0.0, 2.0, 1.0]), Y[:3], exc=ValueError, match=("knots", "increasing"))
case("relu_net_from_pwl-one-knot", pwl, np.array([0.0]), Y[:1], exc=ValueError, match=("knots", "k >= 1", "(1,)"))
case("relu_net_from_slopes-slopes-shape", slopes, np.array([0.0, 1.0]), Y[:2], Y[:1], exc=ValueError, match=("slopes", "(3,)", "(2,)"))
case("relu_net_from_slopes-value-shape", slopes, np.array([0.0]), Y[:2], Y[:2], exc=ValueError, match=("value", "(1,)", "(2,)"))
case("relu_net_from_slopes-knots-2d", slopes, X, Y[:2], Y[:1], exc=ValueError, match=("knots", "(k,)", "(5, 3)"))
case("sigmoidal_net_from_samples-knots", sig, np.array([0.0, 0.5, 0.2]), np.zeros(3), 5.0, exc=ValueError, match=("knots", "increasing"))
# fmt: on


# ---- optim, dynamics, train: what no kind declares (the rest is declared with @contract) --------
# fmt: off
sm, dwd, dyn = optim.sgd_momentum, optim.decoupled_weight_decay, dynamics
sr, mim = dyn.spectral_radius, dyn.sgd_momentum_iteration_matrix
case("sgd_momentum-nesterov-momentum0", sm, 0.1, 0.0, nesterov=True, exc=ValueError, match=("nesterov=True", "momentum=0.0"))
case("sgd_momentum-nesterov-dampening", sm, 0.1, 0.5, dampening=0.5, nesterov=True, exc=ValueError, match=("nesterov=True", "dampening=0.5"))
case("adamw-weight_decay=20.0", optim.adamw, 0.1, weight_decay=20.0, exc=ValueError, match=("weight_decay", "20.0"))
case("chain-empty", optim.chain, exc=ValueError, match=("transforms must not be empty",))
TWO = optim.chain(optim.ema(0.5), optim.scale_by_adam())  # two states: a tuple of them
case("update-state-one-of-two", TWO.update, {"w": W}, TWO.init({"w": W})[:1], {"w": W}, exc=TypeError, match=("state must be a tuple of 2 states",))
case("update-state-not-a-tuple", TWO.update, {"w": W}, TWO.init({"w": W})[0], {"w": W}, exc=TypeError, match=("state must be a tuple of 2 states", "MomentumState"))
case("decoupled_weight_decay-opt", dwd, None, 0.1, exc=TypeError, match=("opt", "None"))
case("spectral_radius-nonsquare", sr, np.ones((2, 3)), exc=ValueError, match=("M", "(2, 3)"))
case("spectral_radius-1d", sr, np.ones(3), exc=ValueError, match=("M", "(3,)"))
case("spectral_radius-empty", sr, np.ones((0, 0)), exc=ValueError, match=("M", "(0, 0)"))
case("spectral_radius-str", sr, "M", exc=TypeError, match=("M", "str", "'M'"))
case("momentum_iteration_matrix-H-shape", mim, np.ones((2, 3)), 0.1, 0.5, exc=ValueError, match=("H", "(2, 3)"))
case("momentum_iteration_matrix-H-str", mim, "H", 0.1, 0.5, exc=TypeError, match=("H", "str"))
case("momentum_iteration_matrix-nesterov-tau", mim, np.eye(2), 0.1, 0.5, dampening=0.5, nesterov=True, exc=ValueError, match=("nesterov=True", "dampening=0.5"))
case("gd_filter_factors-s", dyn.gd_filter_factors, -np.ones(2), 0.1, 3, exc=ValueError, match=("s", ">= 0"))
case("gd_steps_to_tolerance-lr", dyn.gd_steps_to_tolerance, 1.0, 2.5, 0.1, exc=ValueError, match=("lr", "2.5"))
# fmt: on

# ---- optim: init, update, apply_updates -------------------------------------------------------

OPTIMIZERS: dict[str, Callable[[], optim.GradientTransformation]] = {
    name: (lambda name=name: make_optimizer(name)) for name in OPTIMIZER_TABLE
}
P = {"w": W.copy(), "b": np.zeros(2)}
G = {"w": W * 0.5, "b": np.ones(2)}
# (id, grads, params, state or None for opt.init(P), exception, fragments)
BAD_UPDATES: list[tuple[str, Any, Any, Any, type[Exception], tuple[str, ...]]] = [
    ("grads-missing-key", {"w": G["w"]}, P, None, ValueError, ("grads and params", "['w']")),
    ("grads-extra-key", {**G, "c": W}, P, None, ValueError, ("grads and params", "'c'")),
    ("grads-shape", {**G, "w": W[:2]}, P, None, ValueError, ("grads['w']", "(2,)")),
    ("grads-dtype", {**G, "w": W.astype(np.float32)}, P, None, TypeError, ("grads['w']: float32",)),
    ("grads-torch", {**G, "b": t(G["b"])}, P, None, TypeError, ("grads['b']: torch.Tensor",)),
    ("grads-list", [G["w"]], P, None, TypeError, ("grads", "list")),
    ("grads-value-list", {**G, "w": [1.0]}, P, None, TypeError, ("grads['w']", "list")),
    ("params-int", G, {"w": np.arange(3), "b": np.arange(2)}, None, TypeError, ("params['w']", "int64")),
    ("params-empty", {}, {}, None, ValueError, ("params", "empty")),
    ("params-none", G, None, None, TypeError, ("params", "None")),
    ("state-none", G, P, "none", TypeError, ("state", "None")),
    ("state-other-params", G, P, "other", ValueError, ("and params must have the same keys",)),
]  # fmt: skip


def _state(opt: optim.GradientTransformation, which: Any) -> Any:
    if which is None:
        return opt.init(P)
    if which == "none":
        return None
    return opt.init({"v": W.copy()})


UPDATE_CASES = [
    pytest.param(opt_name, *row[1:], id=f"{opt_name}-{row[0]}")
    for opt_name in OPTIMIZERS
    for row in BAD_UPDATES
    if not (opt_name == "sgd" and row[0] == "state-other-params")  # EmptyState has no buffers
]


def _snapshot(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _snapshot(v) for k, v in tree.items()}
    if isinstance(tree, tuple):
        return tuple(_snapshot(v) for v in tree)
    if array_api_compat.is_array_api_obj(tree):
        return np.array(to_numpy(tree), copy=True)
    return tree


def _assert_same(before: Any, after: Any) -> None:
    if isinstance(before, dict):
        assert isinstance(after, dict) and list(before) == list(after)
        for k in before:
            _assert_same(before[k], after[k])
    elif isinstance(before, tuple):
        assert isinstance(after, tuple) and len(before) == len(after)
        for b, a in zip(before, after, strict=True):
            _assert_same(b, a)
    elif isinstance(before, np.ndarray):
        np.testing.assert_array_equal(to_numpy(after), before)
    else:
        assert before == after


def _update(opt: optim.GradientTransformation, grads: Any, state: Any, params: Any) -> Any:
    return opt.update(grads, state, params)


STEP_CALLS = {
    "update": _update,
    "step": lambda opt, g, s, p: optim.step(opt, g, s, p),
    "step-donated": lambda opt, g, s, p: optim.step(opt, g, s, p, donate=True),
}


@pytest.mark.parametrize("call", list(STEP_CALLS))
@pytest.mark.parametrize(("opt_name", "grads", "params", "which", "exc", "fragments"), UPDATE_CASES)
def test_update_rejects_and_changes_nothing(
    opt_name, grads, params, which, exc, fragments, call
) -> None:
    """`update` and `optim.step` (also donating) check everything before anything is written."""
    opt = OPTIMIZERS[opt_name]()
    state = _state(opt, which)
    # one valid step first, so that stateful optimizers hold non-trivial buffers
    if which is None and opt_name != "sgd":
        _, state = opt.update(G, state, P)
    before = _snapshot((grads, state, params, P, G))
    with pytest.raises(exc, match=".*".join(re.escape(f) for f in fragments)):
        STEP_CALLS[call](opt, grads, state, params)
    _assert_same(before, (grads, state, params, P, G))


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize(
    ("params", "exc", "fragments"),
    [
        pytest.param({}, ValueError, ("params", "empty"), id="empty"),
        pytest.param([W], TypeError, ("params", "list"), id="list"),
        pytest.param({"w": [1.0]}, TypeError, ("params['w']", "list"), id="value-list"),
        pytest.param({"w": np.arange(3)}, TypeError, ("params['w']", "int64"), id="int"),
        pytest.param({1: W}, TypeError, ("params keys", "1"), id="key-int"),
    ],
)
def test_init_rejects(opt_name, params, exc, fragments) -> None:
    with pytest.raises(exc, match=".*".join(re.escape(f) for f in fragments)):
        OPTIMIZERS[opt_name]().init(params)


@pytest.mark.parametrize(
    ("updates", "exc", "fragments"),
    [
        pytest.param({"w": W}, ValueError, ("updates and params", "['w']"), id="missing-key"),
        pytest.param({**G, "w": W[:1]}, ValueError, ("updates['w']", "(1,)"), id="shape"),
        pytest.param({**G, "b": t(G["b"])}, TypeError, ("updates['b']: torch.Tensor",), id="torch"),
        pytest.param({**G, "b": G["b"].astype(np.float32)}, TypeError, ("updates['b']: float32",), id="dtype"),
        pytest.param(None, TypeError, ("updates", "NoneType"), id="none"),
    ],
)  # fmt: skip
def test_apply_updates_rejects_and_changes_nothing(updates, exc, fragments) -> None:
    before = _snapshot((updates, P))
    with pytest.raises(exc, match=".*".join(re.escape(f) for f in fragments)):
        optim.apply_updates(P, updates)
    _assert_same(before, (updates, P))


def _torch_tree(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: t(v) for k, v in tree.items()}


@pytest.mark.parametrize("opt_name", ["sgd_momentum", "adam"])
@pytest.mark.parametrize(
    ("bad", "exc", "fragments"),
    [
        pytest.param({"w": W}, ValueError, ("grads and params", "['w']"), id="missing-key"),
        pytest.param({"w": W[:2], "b": np.ones(2)}, ValueError, ("grads['w']", "(2,)"), id="shape"),
        pytest.param({"w": W.astype(np.float32), "b": np.ones(2)}, TypeError, ("grads['w']", "float32"), id="dtype"),
        pytest.param({"w": W, "b": np.ones(2)}, TypeError, ("grads['b']: numpy.ndarray",), id="numpy-leaf"),
    ],
)  # fmt: skip
def test_donated_fused_step_rejects_and_changes_nothing(opt_name, bad, exc, fragments) -> None:
    """The fused torch steps with `donate=True`: a bad gradient raises and nothing is written."""
    params = _torch_tree(P)
    opt = OPTIMIZERS[opt_name]()
    _, state = optim.step(opt, _torch_tree(G), opt.init(params), params)
    grads = {k: (v if k == "b" and "numpy" in str(fragments) else t(v)) for k, v in bad.items()}
    before = _snapshot((grads, state, params))
    with pytest.raises(exc, match=".*".join(re.escape(f) for f in fragments)):
        optim.step(opt, grads, state, params, donate=True)
    _assert_same(before, (grads, state, params))


def _grad_fn(params: Any, t: int) -> Any:
    return {k: v * 0 for k, v in params.items()}


SGD = optim.sgd(0.1)
# fmt: off
case("apply_updates-params-empty", optim.apply_updates, {}, {}, exc=ValueError, match=("params",))
case("step-donate-int", optim.step, SGD, G, optim.EmptyState(), P, donate=1, exc=TypeError, match=("donate", "bool", "int"))
case("step-fused-int", optim.step, SGD, G, optim.EmptyState(), P, fused=1, exc=TypeError, match=("fused", "bool", "int"))
case("run-grad_fn", train.run, SGD, None, P, 1, exc=TypeError, match=("grad_fn", "None"))
case("run-params-empty", train.run, SGD, _grad_fn, {}, 1, exc=ValueError, match=("params",))
case("best_checkpoint-empty", train.best_checkpoint, [], lambda p: 0.0, exc=ValueError, match=("checkpoints", "[]"))
case("best_checkpoint-score", train.best_checkpoint, [(0, P)], None, exc=TypeError, match=("score", "None"))
case("best_checkpoint-all-nan", train.best_checkpoint, [(0, P), (1, P)], lambda p: math.nan, exc=ValueError, match=("score is NaN", "2 checkpoints"))
case("best_checkpoint-tuple", train.best_checkpoint, ((0, P),), lambda p: 0.0, exc=TypeError, match=("checkpoints", "pairs"))
case("best_checkpoint-not-pairs", train.best_checkpoint, [P], lambda p: 0.0, exc=TypeError, match=("checkpoints", "pairs"))
case("best_checkpoint-score-str", train.best_checkpoint, [(0, P)], lambda p: "0.5", exc=TypeError, match=("score", "str"))
case("best_checkpoint-score-vector", train.best_checkpoint, [(0, P)], lambda p: np.ones(2), exc=TypeError, match=("score", "ndarray"))
case("best_checkpoint-score-huge-int", train.best_checkpoint, [(0, P)], lambda p: 10**400, exc=TypeError, match=("score", "float range"))
case("train-loss_fn-vector", train.train, SGD, _grad_fn, P, 1, loss_fn=lambda p: np.ones(2), exc=TypeError, match=("loss_fn", "ndarray"))
case("train-loss_fn-none", train.train, SGD, _grad_fn, P, 1, loss_fn=lambda p: None, exc=TypeError, match=("loss_fn", "None"))
# fmt: on


def _ids_unique() -> None:
    seen: set[str] = set()
    dupes = {c.id for c in CASES if c.id in seen or seen.add(c.id)}  # type: ignore[func-returns-value]
    assert not dupes, f"duplicate case ids: {sorted(dupes)}"


_ids_unique()


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in CASES])
def test_rejects(c: Case) -> None:
    with pytest.raises(c.exc, match=c.match):
        c.func(*c.args, **c.kwargs)
