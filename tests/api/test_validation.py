"""dlcore's input contract: every public function rejects bad input early and says why.

Each case is one call with one bad argument. It must raise the listed exception, and the message
must name the argument and show the value received (checked with `pytest.raises(match=...)`).
Completeness is not this table's job: `test_contract.py` generates bad calls for every public
name from the declared contracts (`tests/support/contracts.py`); the cases here pin exact
messages.
Optimizer rejections must leave params, grads and state untouched (they are pure, and the checks
run before anything is computed).
"""

from __future__ import annotations

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
from dlcore.backend import to_numpy
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


# ---- data ---------------------------------------------------------------------------------

_rng = np.random.default_rng(0)
X = _rng.standard_normal((5, 3))
Y = _rng.standard_normal(5)
W = _rng.standard_normal(3)
K = X @ X.T + np.eye(5)


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


# ---- backend ------------------------------------------------------------------------------

case("namespace-nothing", backend.namespace, None, exc=TypeError, match=("none",))
case("namespace-list", backend.namespace, [1.0], exc=TypeError, match=("list", "[1.0]"))
case(
    "namespace-numpy-torch",
    backend.namespace,
    X,
    t(X),
    exc=TypeError,
    match=("different libraries", "numpy.ndarray", "torch.Tensor"),
)
case(
    "namespace-dtypes",
    backend.namespace,
    X,
    X.astype(np.float32),
    exc=TypeError,
    match=("different dtypes", "float32"),
)
case(
    "namespace-devices",
    backend.namespace,
    strict.asarray(X),
    on_device1(X),
    exc=TypeError,
    match=("different devices", "device1"),
)
case("asarray-like-list", backend.asarray, 1.0, like=[1.0], exc=TypeError, match=("like", "[1.0]"))
case("device_of-list", backend.device_of, [1.0], exc=TypeError, match=("x", "list", "[1.0]"))
case("eps-int", backend.eps, np.arange(3), exc=TypeError, match=("x", "int64"))
case("eps-list", backend.eps, [1.0], exc=TypeError, match=("x must be an array", "[1.0]"))
case("check_array", backend.check_array, "A", (1,), exc=TypeError, match=("A", "(1,)"))
case(
    "check_compatible-library",
    backend.check_compatible,
    {"A": X, "B": t(X)},
    exc=TypeError,
    match=("A and B", "A: numpy.ndarray", "B: torch.Tensor"),
)
case(
    "check_compatible-device",
    backend.check_compatible,
    {"A": strict.asarray(X), "B": on_device1(X)},
    exc=TypeError,
    match=("A and B", "same device", "device1"),
)
case(
    "check_compatible-dtype",
    backend.check_compatible,
    {"A": X, "B": X.astype(np.float32)},
    exc=TypeError,
    match=("A and B", "same dtype", "B: float32"),
)
case("check_generator-seed", backend.check_generator, "rng", 0, exc=TypeError, match=("rng", "0"))
case("check_matrix-1d", backend.check_matrix, "A", Y, exc=ValueError, match=("A", "(5,)"))
case(
    "check_vector_or_matrix-3d",
    backend.check_vector_or_matrix,
    "v",
    X[None],
    exc=ValueError,
    match=("v", "(1, 5, 3)"),
)
case(
    "check_rows_match",
    backend.check_rows_match,
    "A",
    X,
    "B",
    Y[:4],
    exc=ValueError,
    match=("A and B", "B.shape=(4,)"),
)
case("check_positive-zero", backend.check_positive, "h", 0, exc=ValueError, match=("h", "0"))
case("check_nonnegative", backend.check_nonnegative, "h", -1, exc=ValueError, match=("h", "-1"))
case(
    "check_in_range",
    backend.check_in_range,
    "h",
    1.0,
    0.0,
    1.0,
    low_open=False,
    high_open=True,
    exc=ValueError,
    match=("h", "[0.0, 1.0)", "1.0"),
)
case("check_int-float", backend.check_int, "k", 1.5, minimum=0, exc=TypeError, match=("k", "1.5"))
case("check_int-small", backend.check_int, "k", -1, minimum=0, exc=ValueError, match=("k", "-1"))

# ---- linear -------------------------------------------------------------------------------

for f in (linear.ridge, linear.ridge_dual):
    n = f.__name__
    case(f"{n}-X-list", f, X.tolist(), Y, 1.0, exc=TypeError, match=("X must be an array", "list"))
    case(f"{n}-X-1d", f, Y, Y, 1.0, exc=ValueError, match=("X must be 2-D", "(5,)"))
    case(f"{n}-X-int", f, np.ones((5, 3), int), Y, 1.0, exc=TypeError, match=("X", "int64"))
    case(f"{n}-X-empty", f, X[:0], Y[:0], 1.0, exc=ValueError, match=("X", "empty", "(0, 3)"))
    case(f"{n}-y-3d", f, X, Y[:, None, None], 1.0, exc=ValueError, match=("y", "(5, 1, 1)"))
    case(f"{n}-rows", f, X, Y[:4], 1.0, exc=ValueError, match=("X and y", "y.shape=(4,)"))
    case(f"{n}-X-nan", f, with_value(X, (0, 1), NAN), Y, 1.0, exc=ValueError, match=("X", "nan"))
    case(f"{n}-X-inf", f, with_value(X, (2, 2), INF), Y, 1.0, exc=ValueError, match=("X", "inf"))
    case(f"{n}-y-ninf", f, X, with_value(Y, (0,), -INF), 1.0, exc=ValueError, match=("y", "-inf"))
    case(f"{n}-lam-neg", f, X, Y, -1.0, exc=ValueError, match=("lam", "-1.0"))
    case(f"{n}-lam-nan", f, X, Y, NAN, exc=ValueError, match=("lam", "nan"))
    case(f"{n}-lam-inf", f, X, Y, INF, exc=ValueError, match=("lam", "inf"))
    case(f"{n}-lam-bool", f, X, Y, True, exc=TypeError, match=("lam", "True"))
    case(f"{n}-lam-str", f, X, Y, "1", exc=TypeError, match=("lam", "'1'"))
    case(
        f"{n}-numpy-torch",
        f,
        X,
        t(Y),
        1.0,
        exc=TypeError,
        match=("X and y", "X: numpy.ndarray", "y: torch.Tensor"),
    )
    case(
        f"{n}-dtypes",
        f,
        X,
        Y.astype(np.float32),
        1.0,
        exc=TypeError,
        match=("X and y", "y: float32"),
    )
    case(
        f"{n}-devices",
        f,
        strict.asarray(X),
        on_device1(Y),
        1.0,
        exc=TypeError,
        match=("X and y", "same device", "device1"),
    )
case(
    "ridge-lam0-wide",
    linear.ridge,
    X.T,
    Y[:3],
    0.0,
    exc=ValueError,
    match=("lam=0", "column rank", "(3, 5)"),
)
case(
    "ridge_dual-lam0-tall",
    linear.ridge_dual,
    X,
    Y,
    0.0,
    exc=ValueError,
    match=("lam=0", "row rank", "(5, 3)"),
)
case("min_norm-X-1d", linear.min_norm_solution, Y, Y, exc=ValueError, match=("X", "(5,)"))
case("min_norm-rows", linear.min_norm_solution, X, Y[:2], exc=ValueError, match=("y.shape=(2,)",))
case(
    "min_norm-y-nan",
    linear.min_norm_solution,
    X,
    with_value(Y, (1,), NAN),
    exc=ValueError,
    match=("y", "nan"),
)
case(
    "min_norm-numpy-torch",
    linear.min_norm_solution,
    t(X),
    Y,
    exc=TypeError,
    match=("X: torch.Tensor", "y: numpy.ndarray"),
)
for f in (linear.row_space_projector, linear.null_space_projector):
    n = f.__name__
    case(f"{n}-X-1d", f, Y, exc=ValueError, match=("X", "(5,)"))
    case(f"{n}-X-nan", f, with_value(X, (0, 0), NAN), exc=ValueError, match=("X", "nan"))
    case(f"{n}-X-list", f, [[1.0]], exc=TypeError, match=("X", "list"))

# ---- kernels ------------------------------------------------------------------------------

kr = kernels.kernel_ridge
case(
    "linear_kernel-columns",
    kernels.linear_kernel,
    X,
    X[:, :2],
    exc=ValueError,
    match=("A and B", "B.shape=(5, 2)"),
)
case("linear_kernel-B-nan", kernels.linear_kernel, X, X * NAN, exc=ValueError, match=("B", "nan"))
case(
    "linear_kernel-numpy-torch",
    kernels.linear_kernel,
    X,
    t(X),
    exc=TypeError,
    match=("A: numpy.ndarray", "B: torch.Tensor"),
)
case("kernel_ridge-K-nonsquare", kr, K[:, :4], Y, 1.0, exc=ValueError, match=("K", "(5, 4)"))
case("kernel_ridge-K-1d", kr, Y, Y, 1.0, exc=ValueError, match=("K", "(5,)"))
case(
    "kernel_ridge-K-nonsymmetric",
    kr,
    with_value(K, (0, 1), K[0, 1] + 1.0),
    Y,
    1.0,
    exc=ValueError,
    match=("K must be symmetric",),
)
case(
    "kernel_ridge-K-not-psd",
    kr,
    K - 20 * np.eye(5),
    Y,
    1.0,
    exc=ValueError,
    match=("K must be positive semi-definite", "eigenvalue"),
)
case(
    "kernel_ridge-lam0-singular",
    kr,
    X @ X.T,
    Y,
    0.0,
    exc=ValueError,
    match=("singular", "lam=0.0"),
)
case(
    "kernel_ridge-K-nan", kr, with_value(K, (1, 1), NAN), Y, 1.0, exc=ValueError, match=("K", "nan")
)
case(
    "kernel_ridge-K-inf", kr, with_value(K, (1, 1), INF), Y, 1.0, exc=ValueError, match=("K", "inf")
)
case("kernel_ridge-y-nan", kr, K, with_value(Y, (0,), NAN), 1.0, exc=ValueError, match=("y", "nan"))
case("kernel_ridge-rows", kr, K, Y[:4], 1.0, exc=ValueError, match=("K and y", "y.shape=(4,)"))
case("kernel_ridge-lam-neg", kr, K, Y, -0.5, exc=ValueError, match=("lam", "-0.5"))
case("kernel_ridge-lam-nan", kr, K, Y, NAN, exc=ValueError, match=("lam", "nan"))
case("kernel_ridge-lam-inf", kr, K, Y, INF, exc=ValueError, match=("lam", "inf"))
case(
    "kernel_ridge-numpy-torch",
    kr,
    t(K),
    Y,
    1.0,
    exc=TypeError,
    match=("K: torch.Tensor", "y: numpy.ndarray"),
)
case(
    "kernel_ridge-dtypes",
    kr,
    K.astype(np.float32),
    Y,
    1.0,
    exc=TypeError,
    match=("K and y", "K: float32"),
)

# ---- losses -------------------------------------------------------------------------------

for f in (losses.squared_loss, losses.squared_loss_grad):
    n = f.__name__
    case(f"{n}-w-rows", f, W[:2], X, Y, exc=ValueError, match=("w", "w.shape=(2,)"))
    case(f"{n}-w-nan", f, W * NAN, X, Y, exc=ValueError, match=("w", "nan"))
    case(f"{n}-X-inf", f, W, X * INF, Y, exc=ValueError, match=("X", "inf"))
    case(f"{n}-y-rows", f, W, X, Y[:3], exc=ValueError, match=("X and y", "y.shape=(3,)"))
    case(
        f"{n}-targets",
        f,
        W[:, None],
        X,
        Y,
        exc=ValueError,
        match=("w and y", "w.shape=(3, 1)", "y.shape=(5,)"),
    )
    case(
        f"{n}-numpy-torch",
        f,
        t(W),
        X,
        Y,
        exc=TypeError,
        match=("w, X and y", "w: torch.Tensor"),
    )
    case(f"{n}-dtypes", f, W, X, Y.astype(np.float32), exc=TypeError, match=("y: float32",))
mb = losses.minibatch_grad
case("minibatch_grad-empty", mb, W, X, Y, [], exc=ValueError, match=("batch", "empty", "[]"))
case("minibatch_grad-empty-array", mb, W, X, Y, np.array([], int), exc=ValueError, match=("batch",))
case(
    "minibatch_grad-index-n", mb, W, X, Y, [0, 5], exc=ValueError, match=("batch", "[0, 5)", "[5]")
)
case("minibatch_grad-index-neg", mb, W, X, Y, [-1], exc=ValueError, match=("batch", "[-1]"))
case("minibatch_grad-float-index", mb, W, X, Y, [0.5], exc=TypeError, match=("batch", "0.5"))
case("minibatch_grad-bool-index", mb, W, X, Y, [True], exc=TypeError, match=("batch", "True"))
case("minibatch_grad-int", mb, W, X, Y, 3, exc=TypeError, match=("batch", "int: 3"))
case("minibatch_grad-str", mb, W, X, Y, "01", exc=TypeError, match=("batch", "'01'"))
case(
    "minibatch_grad-2d",
    mb,
    W,
    X,
    Y,
    np.zeros((1, 2), int),
    exc=ValueError,
    match=("batch", "(1, 2)"),
)
case("minibatch_grad-w-nan", mb, W * NAN, X, Y, [0], exc=ValueError, match=("w", "nan"))
case("minibatch_grad-X-nan", mb, W, X * NAN, Y, [0], exc=ValueError, match=("X", "nan"))
case("minibatch_grad-y-inf", mb, W, X, Y * INF, [0], exc=ValueError, match=("y", "inf"))
case(
    "minibatch_grad-numpy-torch",
    mb,
    W,
    t(X),
    Y,
    [0],
    exc=TypeError,
    match=("X: torch.Tensor",),
)

# ---- init ---------------------------------------------------------------------------------

INITS = [getattr(init, name) for name in init.__all__ if name.endswith(("_normal", "_uniform"))]
for f in INITS:
    n = f.__name__
    case(f"{n}-rng-seed", f, 3, 2, rng=0, exc=TypeError, match=("rng", "Generator", "int: 0"))
    case(f"{n}-rng-none", f, 3, 2, rng=None, exc=TypeError, match=("rng", "None"))
    case(
        f"{n}-rng-randomstate",
        f,
        3,
        2,
        rng=np.random.RandomState(0),
        exc=TypeError,
        match=("rng", "RandomState"),
    )
    case(f"{n}-fan-in-0", f, 0, 2, rng=gen(), exc=ValueError, match=("d_in", ">= 1", "0"))
    case(f"{n}-fan-out-neg", f, 3, -1, rng=gen(), exc=ValueError, match=("d_out", "-1"))
    case(f"{n}-fan-in-float", f, 3.0, 2, rng=gen(), exc=TypeError, match=("d_in", "3.0"))
    case(f"{n}-fan-in-bool", f, True, 2, rng=gen(), exc=TypeError, match=("d_in", "True"))
    case(f"{n}-like-list", f, 3, 2, rng=gen(), like=[1.0], exc=TypeError, match=("like", "list"))
    case(
        f"{n}-like-int",
        f,
        3,
        2,
        rng=gen(),
        like=np.arange(2),
        exc=TypeError,
        match=("like", "int64"),
    )
case("variance-scheme", init.variance, "xavier", 3, 2, exc=ValueError, match=("scheme", "'xavier'"))
case("variance-fan-in-0", init.variance, "he", 0, 2, exc=ValueError, match=("d_in", "0"))
case("variance-fan-out-0", init.variance, "glorot", 3, 0, exc=ValueError, match=("d_out", "0"))

# ---- mlp ----------------------------------------------------------------------------------

PARAMS = {"W1": X[:3, :2].copy(), "b1": np.zeros(2), "W2": X[:2, :1].copy(), "b2": np.zeros(1)}


def params_with(**changes: Any) -> dict[str, Any]:
    out = {k: v for k, v in PARAMS.items() if k not in changes or changes[k] is not None}
    out.update({k: v for k, v in changes.items() if v is not None})
    return out


im = mlp.init_mlp
case("init_mlp-depth0", im, [3], rng=gen(), exc=ValueError, match=("sizes", "depth", "(3,)"))
case("init_mlp-empty", im, [], rng=gen(), exc=ValueError, match=("sizes", "()"))
case("init_mlp-width0", im, [3, 0, 1], rng=gen(), exc=ValueError, match=("sizes[1]", "0"))
case("init_mlp-fan-in0", im, [0, 2], rng=gen(), exc=ValueError, match=("sizes[0]", "0"))
case("init_mlp-float-size", im, [3, 2.5], rng=gen(), exc=TypeError, match=("sizes[1]", "2.5"))
case("init_mlp-sizes-int", im, 3, rng=gen(), exc=TypeError, match=("sizes", "int: 3"))
case(
    "init_mlp-weights",
    im,
    [3, 2],
    rng=gen(),
    weights="xavier",
    exc=ValueError,
    match=("weights", "'xavier'"),
)
case("init_mlp-rng", im, [3, 2], rng=42, exc=TypeError, match=("rng", "int: 42"))
case("init_mlp-like", im, [3, 2], rng=gen(), like=[1.0], exc=TypeError, match=("like", "list"))
for f in (mlp.preactivations, mlp.forward):
    n = f.__name__
    x3 = X[:, :3]
    case(
        f"{n}-activation",
        f,
        PARAMS,
        x3,
        activation="softmax",
        exc=ValueError,
        match=("activation", "'softmax'"),
    )
    case(f"{n}-params-list", f, [X], x3, exc=TypeError, match=("params", "list"))
    case(f"{n}-params-empty", f, {}, x3, exc=ValueError, match=("params", "'W1'"))
    case(
        f"{n}-params-missing-b2",
        f,
        params_with(b2=None),
        x3,
        exc=ValueError,
        match=("params", "'b2'"),
    )
    case(
        f"{n}-params-extra",
        f,
        params_with(b3=np.zeros(1)),
        x3,
        exc=ValueError,
        match=("params", "'b3'"),
    )
    case(
        f"{n}-W2-shape",
        f,
        params_with(W2=np.zeros((4, 1))),
        x3,
        exc=ValueError,
        match=("params['W2']", "(4, 1)"),
    )
    case(
        f"{n}-b1-shape",
        f,
        params_with(b1=np.zeros(3)),
        x3,
        exc=ValueError,
        match=("params['b1']", "(3,)"),
    )
    case(f"{n}-X-width", f, PARAMS, X[:, :2], exc=ValueError, match=("params['W1']", "(3, 2)"))
    case(f"{n}-X-1d", f, PARAMS, Y, exc=ValueError, match=("X", "(5,)"))
    case(f"{n}-X-nan", f, PARAMS, x3 * NAN, exc=ValueError, match=("X", "nan"))
    case(
        f"{n}-W1-list",
        f,
        params_with(W1=[[1.0]]),
        x3,
        exc=TypeError,
        match=("params['W1']", "list"),
    )
    case(
        f"{n}-numpy-torch",
        f,
        PARAMS,
        t(x3),
        exc=TypeError,
        match=("X: torch.Tensor", "params['W1']: numpy.ndarray"),
    )
    case(
        f"{n}-dtypes",
        f,
        params_with(W2=PARAMS["W2"].astype(np.float32)),
        x3,
        exc=TypeError,
        match=("same dtype", "params['W2']: float32"),
    )

# ---- optim: hyper-parameters ---------------------------------------------------------------

BAD_LR = [(0, ValueError, "0"), (-1, ValueError, "-1"), (NAN, ValueError, "nan"),
          (INF, ValueError, "inf"), (True, TypeError, "True"), ("0.1", TypeError, "'0.1'"),
          (None, TypeError, "None")]  # fmt: skip
FACTORIES: dict[str, Callable[[float], Any]] = {
    "sgd": lambda lr: optim.sgd(lr),
    "gd": lambda lr: optim.gd(lr),
    "momentum": lambda lr: optim.ema_momentum(lr, 0.5),
    "sgd_momentum": lambda lr: optim.sgd_momentum(lr, 0.5),
    "adam": lambda lr: optim.adam(lr),
    "ema_to_torch": lambda lr: optim.ema_to_torch(lr, 0.5),
}
for name, make in FACTORIES.items():
    for lr, exc, shown in BAD_LR:
        case(f"{name}-lr={lr!r}", make, lr, exc=exc, match=("lr", shown))

for name, f in (("momentum", optim.ema_momentum), ("ema_to_torch", optim.ema_to_torch)):
    for beta, shown in ((0.0, "0.0"), (1.5, "1.5"), (-0.1, "-0.1"), (NAN, "nan")):
        interval = () if beta != beta else ("(0.0, 1.0]",)
        case(
            f"{name}-beta={beta!r}", f, 0.1, beta, exc=ValueError, match=("beta", *interval, shown)
        )
sm = optim.sgd_momentum
for mu, shown in ((1.0, "1.0"), (-0.1, "-0.1"), (NAN, "nan"), (INF, "inf")):
    case(f"sgd_momentum-momentum={mu!r}", sm, 0.1, mu, exc=ValueError, match=("momentum", shown))
case("sgd_momentum-momentum-bool", sm, 0.1, True, exc=TypeError, match=("momentum", "True"))
case(
    "sgd_momentum-dampening=1",
    sm,
    0.1,
    0.5,
    dampening=1.0,
    exc=ValueError,
    match=("dampening", "1.0"),
)
case(
    "sgd_momentum-nesterov-momentum0",
    sm,
    0.1,
    0.0,
    nesterov=True,
    exc=ValueError,
    match=("nesterov=True", "momentum=0.0"),
)
case(
    "sgd_momentum-nesterov-dampening",
    sm,
    0.1,
    0.5,
    dampening=0.5,
    nesterov=True,
    exc=ValueError,
    match=("nesterov=True", "dampening=0.5"),
)
case(
    "sgd_momentum-nesterov-str",
    sm,
    0.1,
    0.5,
    nesterov="yes",
    exc=TypeError,
    match=("nesterov", "'yes'"),
)
for arg in ("b1", "b2"):
    for value, shown in ((1.0, "1.0"), (-0.1, "-0.1"), (NAN, "nan")):
        case(
            f"adam-{arg}={value!r}",
            optim.adam,
            0.1,
            exc=ValueError,
            match=(arg, *(() if value != value else ("[0.0, 1.0)",)), shown),
            **{arg: value},
        )
for value, shown in ((0.0, "0.0"), (-1e-8, "-1e-08"), (NAN, "nan")):
    case(f"adam-eps={value!r}", optim.adam, 0.1, eps=value, exc=ValueError, match=("eps", shown))

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


# apply_updates also takes part in the completeness check below
case("apply_updates-params-empty", optim.apply_updates, {}, {}, exc=ValueError, match=("params",))


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


case("step-opt-str", optim.step, "adam", G, None, P, exc=TypeError, match=("opt", "str"))
case(
    "step-donate-int",
    optim.step,
    optim.sgd(0.1),
    G,
    optim.EmptyState(),
    P,
    donate=1,
    exc=TypeError,
    match=("donate", "bool", "int"),
)
case(
    "step-fused-int",
    optim.step,
    optim.sgd(0.1),
    G,
    optim.EmptyState(),
    P,
    fused=1,
    exc=TypeError,
    match=("fused", "bool", "int"),
)

# ---- dynamics -------------------------------------------------------------------------------

dyn = dynamics
case("gd_mode_factor-lam-neg", dyn.gd_mode_factor, -1.0, 0.1, exc=ValueError, match=("lam", "-1.0"))
case("gd_mode_factor-lr-0", dyn.gd_mode_factor, 1.0, 0.0, exc=ValueError, match=("lr", "0.0"))
case("gd_mode_factor-lr-nan", dyn.gd_mode_factor, 1.0, NAN, exc=ValueError, match=("lr", "nan"))
case("gd_mode_factor-lam-inf", dyn.gd_mode_factor, INF, 0.1, exc=ValueError, match=("lam", "inf"))
mm = dyn.sgd_momentum_mode_matrix
case("momentum_mode_matrix-mu-1", mm, 1.0, 0.1, 1.0, exc=ValueError, match=("momentum", "1.0"))
case("momentum_mode_matrix-lr-neg", mm, 1.0, -0.1, 0.5, exc=ValueError, match=("lr", "-0.1"))
case("momentum_mode_matrix-lam-nan", mm, NAN, 0.1, 0.5, exc=ValueError, match=("lam", "nan"))
em = dyn.ema_momentum_mode_matrix
case("ema_momentum_mode_matrix-beta-0", em, 1.0, 0.1, 0.0, exc=ValueError, match=("beta", "0.0"))
case("ema_momentum_mode_matrix-lr-inf", em, 1.0, INF, 0.5, exc=ValueError, match=("lr", "inf"))
sr = dyn.spectral_radius
case("spectral_radius-nonsquare", sr, np.ones((2, 3)), exc=ValueError, match=("M", "(2, 3)"))
case("spectral_radius-1d", sr, np.ones(3), exc=ValueError, match=("M", "(3,)"))
case("spectral_radius-empty", sr, np.ones((0, 0)), exc=ValueError, match=("M", "(0, 0)"))
case("spectral_radius-nan", sr, np.full((2, 2), NAN), exc=ValueError, match=("M", "nan"))
case("spectral_radius-str", sr, "M", exc=TypeError, match=("M", "str", "'M'"))
case("gd_max_stable_lr-0", dyn.gd_max_stable_lr, 0.0, exc=ValueError, match=("lam_max", "0.0"))
case("gd_max_stable_lr-inf", dyn.gd_max_stable_lr, INF, exc=ValueError, match=("lam_max", "inf"))
ms = dyn.sgd_momentum_max_stable_lr
case("momentum_max_stable_lr-mu", ms, 1.0, -0.5, exc=ValueError, match=("momentum", "-0.5"))
case("momentum_max_stable_lr-lam", ms, -1.0, 0.5, exc=ValueError, match=("lam_max", "-1.0"))
es = dyn.ema_momentum_max_stable_lr
case("ema_momentum_max_stable_lr-beta", es, 1.0, 1.5, exc=ValueError, match=("beta", "1.5"))
case("ema_momentum_max_stable_lr-lam", es, NAN, 0.5, exc=ValueError, match=("lam_max", "nan"))

# ---- train ----------------------------------------------------------------------------------


def _grad_fn(params: Any, t: int) -> Any:
    return {k: v * 0 for k, v in params.items()}


SGD = optim.sgd(0.1)
case("run-opt", train.run, "sgd", _grad_fn, P, 1, exc=TypeError, match=("opt", "'sgd'"))
case("run-grad_fn", train.run, SGD, None, P, 1, exc=TypeError, match=("grad_fn", "None"))
case("run-steps-neg", train.run, SGD, _grad_fn, P, -1, exc=ValueError, match=("steps", "-1"))
case("run-steps-float", train.run, SGD, _grad_fn, P, 1.5, exc=TypeError, match=("steps", "1.5"))
case(
    "run-donate-str",
    train.run,
    SGD,
    _grad_fn,
    P,
    0,
    donate="yes",
    exc=TypeError,
    match=("donate", "str"),
)
case(
    "run-record_every",
    train.run,
    SGD,
    _grad_fn,
    P,
    1,
    record_every=-2,
    exc=ValueError,
    match=("record_every", "-2"),
)
case("run-params-empty", train.run, SGD, _grad_fn, {}, 1, exc=ValueError, match=("params",))


# ---- ridge (issue 3): linear and kernels additions -------------------------------------------

for f in (linear.ridge_objective, linear.ridge_grad):
    n = f.__name__
    case(f"{n}-w-rows", f, W[:2], X, Y, 1.0, exc=ValueError, match=("w", "w.shape=(2,)"))
    case(f"{n}-w-nan", f, W * NAN, X, Y, 1.0, exc=ValueError, match=("w", "nan"))
    case(f"{n}-rows", f, W, X, Y[:4], 1.0, exc=ValueError, match=("X and y", "y.shape=(4,)"))
    case(f"{n}-lam-neg", f, W, X, Y, -2.0, exc=ValueError, match=("lam", "-2.0"))
    case(
        f"{n}-w-matrix-y-vector",
        f,
        W[:, None],
        X,
        Y,
        1.0,
        exc=ValueError,
        match=("w and y", "w.shape=(3, 1)"),
    )
rff = linear.ridge_filter_factors
case(
    "ridge_filter_factors-neg", rff, np.array([1.0, -0.5]), 1.0, exc=ValueError, match=("s", "-0.5")
)
case("ridge_filter_factors-lam0", rff, np.array([1.0]), 0.0, exc=ValueError, match=("lam", "0.0"))
case("ridge_filter_factors-nan", rff, np.array([NAN]), 1.0, exc=ValueError, match=("s", "nan"))
case("ridge_svd-lam0", linear.ridge_svd, X, Y, 0.0, exc=ValueError, match=("lam", "0.0"))
case("ridge_svd-rows", linear.ridge_svd, X, Y[:4], 1.0, exc=ValueError, match=("y.shape=(4,)",))
case("ridge_svd-X-inf", linear.ridge_svd, X * INF, Y, 1.0, exc=ValueError, match=("X", "inf"))
case("augment_rows-lam-neg", linear.augment_ridge_rows, X, Y, -1.0, exc=ValueError, match=("lam",))
case(
    "augment_rows-rows",
    linear.augment_ridge_rows,
    X,
    Y[:2],
    1.0,
    exc=ValueError,
    match=("X and y",),
)
case(
    "augment_features-lam-neg",
    linear.augment_ridge_features,
    X,
    -3.0,
    exc=ValueError,
    match=("lam", "-3.0"),
)
case("augment_features-X-1d", linear.augment_ridge_features, Y, 1.0, exc=ValueError, match=("X",))
case(
    "polynomial_kernel-columns",
    kernels.polynomial_kernel,
    X,
    X[:, :2],
    exc=ValueError,
    match=("A and B", "B.shape=(5, 2)"),
)
case(
    "polynomial_kernel-degree0",
    kernels.polynomial_kernel,
    X,
    X,
    degree=0,
    exc=ValueError,
    match=("degree", "0"),
)
case(
    "polynomial_kernel-gamma-neg",
    kernels.polynomial_kernel,
    X,
    X,
    gamma=-1.0,
    exc=ValueError,
    match=("gamma", "-1.0"),
)
case(
    "rbf_kernel-gamma0", kernels.rbf_kernel, X, X, gamma=0.0, exc=ValueError, match=("gamma", "0.0")
)
case("rbf_kernel-A-nan", kernels.rbf_kernel, X * NAN, X, exc=ValueError, match=("A", "nan"))
krf = kernels.kernel_ridge_fit
case(
    "kernel_ridge_fit-kernel",
    krf,
    X,
    Y,
    1.0,
    kernel="cubic",
    exc=ValueError,
    match=("kernel", "'cubic'"),
)
case("kernel_ridge_fit-form", krf, X, Y, 1.0, form="both", exc=ValueError, match=("form", "'both'"))
case(
    "kernel_ridge_fit-primal-rbf",
    krf,
    X,
    Y,
    1.0,
    kernel="rbf",
    form="primal",
    exc=ValueError,
    match=("form='primal'", "'rbf'"),
)
case("kernel_ridge_fit-lam-neg", krf, X, Y, -1.0, exc=ValueError, match=("lam", "-1.0"))
case("kernel_ridge_fit-rows", krf, X, Y[:4], 1.0, exc=ValueError, match=("X and y", "y.shape=(4,)"))
case("kernel_ridge_fit-y-nan", krf, X, Y * NAN, 1.0, exc=ValueError, match=("y", "nan"))
case(
    "kernel_ridge_fit-lam0-singular",
    krf,
    X,
    Y,
    0.0,
    form="dual",
    exc=ValueError,
    match=("lam=0.0", "not positive definite"),
)
case(
    "kernel_ridge_fit-lam0-singular-torch",
    krf,
    t(X),
    t(Y),
    0.0,
    form="dual",
    exc=ValueError,
    match=("lam=0.0", "not positive definite"),
)
case(
    "kernel_ridge_fit-lam0-singular-strict",
    krf,
    strict.asarray(X),
    strict.asarray(Y),
    0.0,
    form="dual",
    exc=ValueError,
    match=("lam=0.0", "not positive definite"),
)
case(
    "kernel_ridge_predict-model",
    kernels.kernel_ridge_predict,
    (X, Y),
    X,
    exc=TypeError,
    match=("model", "tuple"),
)
case(
    "kernel_ridge_predict-columns",
    kernels.kernel_ridge_predict,
    kernels.kernel_ridge_fit(X, Y, 1.0, kernel="rbf"),
    X[:, :2],
    exc=ValueError,
    match=("X_test", "X_test.shape=(5, 2)"),
)

# ---- gdsgd: losses (surrogates, ERM), data, train, dynamics (GD filters) ------------------

PM = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
S5 = _rng.standard_normal(5)
Z = _rng.standard_normal((5, 3))
case("zero_one_loss-labels", losses.zero_one_loss, S5, 3 * PM, exc=ValueError, match=("y", "3.0"))
case(
    "logistic_loss-labels",
    losses.logistic_loss,
    S5,
    with_value(PM, (1,), 0.5),
    exc=ValueError,
    match=("y", "{-1, +1}", "0.5"),
)
case(
    "logistic_loss_grad-shape",
    losses.logistic_loss_grad,
    S5,
    PM[:4],
    exc=ValueError,
    match=("s and y", "(5,)", "(4,)"),
)
case(
    "hinge_loss-labels",
    losses.hinge_loss,
    S5,
    with_value(PM, (0,), 0.0),
    exc=ValueError,
    match=("y", "{-1, +1}", "0.0"),
)
case(
    "hinge_loss_grad-labels", losses.hinge_loss_grad, S5, 2 * PM, exc=ValueError, match=("y", "2.0")
)
case("softmax-3d", losses.softmax, np.zeros((2, 2, 2)), exc=ValueError, match=("z", "(2, 2, 2)"))
case(
    "log_softmax-nan",
    losses.log_softmax,
    with_value(Z, (0, 0), NAN),
    exc=ValueError,
    match=("z", "finite", "nan"),
)
case(
    "cross_entropy-range",
    losses.cross_entropy,
    Z,
    [0, 1, 2, 3, 0],
    exc=ValueError,
    match=("labels", "[0, 3)", "3"),
)
case(
    "cross_entropy-neg",
    losses.cross_entropy,
    Z,
    [0, 1, 2, -1, 0],
    exc=ValueError,
    match=("labels", "-1"),
)
case(
    "cross_entropy_grad-float",
    losses.cross_entropy_grad,
    Z,
    [0, 1, 2, 1.0, 0],
    exc=TypeError,
    match=("labels", "float", "1.0"),
)
case(
    "cross_entropy_grad-len",
    losses.cross_entropy_grad,
    Z,
    [0, 1],
    exc=ValueError,
    match=("labels", "5", "2"),
)
case(
    "per_example_losses-name",
    losses.per_example_losses,
    W,
    X,
    Y,
    loss="cube",
    exc=ValueError,
    match=("loss", "'cube'"),
)
case(
    "per_example_grads-labels",
    losses.per_example_grads,
    W,
    X,
    Y,
    loss="hinge",
    exc=ValueError,
    match=("y", "{-1, +1}"),
)
case(
    "per_example_grads-2d",
    losses.per_example_grads,
    W[:, None],
    X,
    Y[:, None],
    exc=ValueError,
    match=("w", "1-D", "(3, 1)"),
)
case(
    "empirical_risk-lam",
    losses.empirical_risk,
    W,
    X,
    Y,
    lam=-1.0,
    exc=ValueError,
    match=("lam", "-1.0"),
)
case(
    "empirical_risk_grad-lam",
    losses.empirical_risk_grad,
    W,
    X,
    Y,
    lam=INF,
    exc=ValueError,
    match=("lam", "inf"),
)
case(
    "sample_batch-zero",
    data.sample_batch,
    5,
    0,
    replace=True,
    rng=gen(),
    exc=ValueError,
    match=("batch_size", "0"),
)
case(
    "sample_batch-too-big",
    data.sample_batch,
    5,
    6,
    replace=False,
    rng=gen(),
    exc=ValueError,
    match=("batch_size", "n=5", "6"),
)
case(
    "sample_batch-seed",
    data.sample_batch,
    5,
    2,
    replace=False,
    rng=0,
    exc=TypeError,
    match=("rng", "0"),
)
case(
    "sample_batch-replace",
    data.sample_batch,
    5,
    2,
    replace=1,
    rng=gen(),
    exc=TypeError,
    match=("replace", "1"),
)
case(
    "epoch_batches-too-big",
    data.epoch_batches,
    3,
    4,
    rng=gen(),
    exc=ValueError,
    match=("batch_size", "n=3", "4"),
)
case("epoch_batches-n", data.epoch_batches, 0, 1, rng=gen(), exc=ValueError, match=("n", "0"))
case(
    "batch_schedule-scheme",
    data.batch_schedule,
    5,
    2,
    3,
    scheme="cyclic",
    rng=gen(),
    exc=ValueError,
    match=("scheme", "'cyclic'"),
)
case(
    "batch_schedule-divides",
    data.batch_schedule,
    5,
    2,
    3,
    scheme="epoch",
    rng=gen(),
    exc=ValueError,
    match=("batch_size", "n=5", "2"),
)
case(
    "batch_schedule-steps",
    data.batch_schedule,
    5,
    2,
    -1,
    scheme="with",
    rng=gen(),
    exc=ValueError,
    match=("steps", "-1"),
)
case(
    "enumerate_batches-zero",
    data.enumerate_batches,
    4,
    0,
    scheme="with",
    exc=ValueError,
    match=("batch_size", "0"),
)
case(
    "enumerate_batches-scheme",
    data.enumerate_batches,
    4,
    2,
    scheme=None,
    exc=ValueError,
    match=("scheme", "None"),
)
case(
    "separable_dataset-n",
    data.separable_dataset,
    1,
    2,
    0.3,
    rng=gen(),
    exc=ValueError,
    match=("n", "1"),
)
case(
    "separable_dataset-margin",
    data.separable_dataset,
    10,
    2,
    1.5,
    rng=gen(),
    exc=ValueError,
    match=("margin", "1.5"),
)
case(
    "separable_dataset-rng",
    data.separable_dataset,
    10,
    2,
    0.3,
    rng=0,
    exc=TypeError,
    match=("rng", "0"),
)
case(
    "standardize-constant-column",
    data.standardize,
    with_value(X, (slice(None), 1), 2.0),
    exc=ValueError,
    match=("constant column",),
)
case("standardize-list", data.standardize, [[1.0]], exc=TypeError, match=("X", "list"))
case("standardize-nan", data.standardize, with_value(X, (0, 0), NAN), exc=ValueError, match=("X",))
case(
    "forward_with-phi",
    mlp.forward_with,
    PARAMS,
    X[:, :3],
    3,
    exc=TypeError,
    match=("phi must be callable", "3"),
)
case(
    "forward_with-not-elementwise",
    mlp.forward_with,
    PARAMS,
    X[:, :3],
    lambda z: z[:, :1],
    exc=TypeError,
    match=("phi must act elementwise",),
)
case(
    "sigmoidal_net_from_samples-activation",
    constructions.sigmoidal_net_from_samples,
    np.linspace(0, 1, 4),
    np.zeros(4),
    5.0,
    activation="relu",
    exc=ValueError,
    match=("activation", "'relu'"),
)
case(
    "sigmoidal_net_from_samples-sharpness",
    constructions.sigmoidal_net_from_samples,
    np.linspace(0, 1, 4),
    np.zeros(4),
    0.0,
    exc=ValueError,
    match=("sharpness", "0.0"),
)
case(
    "sigmoidal_net_from_samples-knots",
    constructions.sigmoidal_net_from_samples,
    np.array([0.0, 0.5, 0.2]),
    np.zeros(3),
    5.0,
    exc=ValueError,
    match=("knots", "increasing"),
)
case("train-opt", train.train, "sgd", _grad_fn, P, 1, exc=TypeError, match=("opt", "'sgd'"))
case(
    "train-loss_fn",
    train.train,
    SGD,
    _grad_fn,
    P,
    1,
    loss_fn=3,
    exc=TypeError,
    match=("loss_fn", "3"),
)
case(
    "train-checkpoint_every",
    train.train,
    SGD,
    _grad_fn,
    P,
    1,
    checkpoint_every=-1,
    exc=ValueError,
    match=("checkpoint_every", "-1"),
)
case(
    "train-progress_every",
    train.train,
    SGD,
    _grad_fn,
    P,
    1,
    progress_every=0.5,
    exc=TypeError,
    match=("progress_every", "0.5"),
)
case(
    "best_checkpoint-empty",
    train.best_checkpoint,
    [],
    lambda p: 0.0,
    exc=ValueError,
    match=("checkpoints", "[]"),
)
case(
    "best_checkpoint-score",
    train.best_checkpoint,
    [(0, P)],
    None,
    exc=TypeError,
    match=("score", "None"),
)
case(
    "progress_line-step",
    train.progress_line,
    -1,
    10,
    1.0,
    1.0,
    exc=ValueError,
    match=("step", "-1"),
)
case(
    "gd_filter_factors-lr",
    dynamics.gd_filter_factors,
    np.ones(2),
    0.0,
    3,
    exc=ValueError,
    match=("lr", "0.0"),
)
case(
    "gd_filter_factors-s",
    dynamics.gd_filter_factors,
    -np.ones(2),
    0.1,
    3,
    exc=ValueError,
    match=("s", ">= 0"),
)
case(
    "gd_filter_factors-t",
    dynamics.gd_filter_factors,
    np.ones(2),
    0.1,
    -3,
    exc=ValueError,
    match=("t", "-3"),
)
case(
    "gd_steps_to_tolerance-lr",
    dynamics.gd_steps_to_tolerance,
    1.0,
    2.5,
    0.1,
    exc=ValueError,
    match=("lr", "2.5"),
)
case(
    "gd_steps_to_tolerance-delta",
    dynamics.gd_steps_to_tolerance,
    1.0,
    0.5,
    1.0,
    exc=ValueError,
    match=("delta", "1.0"),
)


# ---- optim and dynamics: momentum, adaptive (issue 6) ------------------------------------------

for name, make in {
    "nesterov": lambda lr: optim.ema_nesterov(lr, 0.5),
    "rmsprop": lambda lr: optim.rmsprop(lr),
    "adamw": lambda lr: optim.adamw(lr),
}.items():
    for lr, exc, shown in BAD_LR:
        case(f"{name}-lr={lr!r}", make, lr, exc=exc, match=("lr", shown))
for name, f in (
    ("ema", lambda b: optim.ema(b)),
    ("nesterov", lambda b: optim.ema_nesterov(0.1, b)),
):
    for beta, shown in ((0.0, "0.0"), (1.5, "1.5"), (-0.1, "-0.1"), (NAN, "nan")):
        case(f"{name}-beta={beta!r}", f, beta, exc=ValueError, match=("beta", shown))
case("ema-beta-bool", optim.ema, True, exc=TypeError, match=("beta", "True"))
for value, shown in ((1.0, "1.0"), (-0.1, "-0.1"), (INF, "inf")):
    case(
        f"rmsprop-alpha={value!r}",
        optim.rmsprop,
        0.1,
        alpha=value,
        exc=ValueError,
        match=("alpha", shown),
    )
case("rmsprop-eps=0", optim.rmsprop, 0.1, eps=0.0, exc=ValueError, match=("eps", "0.0"))
for arg, value, shown in (
    ("b1", 1.0, "1.0"),
    ("b2", -0.5, "-0.5"),
    ("eps", 0.0, "0.0"),
    ("weight_decay", -0.1, "-0.1"),
    ("weight_decay", 20.0, "20.0"),
):
    case(
        f"adamw-{arg}={value!r}",
        optim.adamw,
        0.1,
        exc=ValueError,
        match=(arg, shown),
        **{arg: value},
    )
cwd, dwd = optim.coupled_weight_decay, optim.decoupled_weight_decay
case("coupled_weight_decay-opt", cwd, "sgd", 0.1, exc=TypeError, match=("opt", "'sgd'"))
case(
    "coupled_weight_decay-neg",
    cwd,
    optim.sgd(0.1),
    -1.0,
    exc=ValueError,
    match=("weight_decay", "-1.0"),
)
case(
    "coupled_weight_decay-nan",
    cwd,
    optim.sgd(0.1),
    NAN,
    exc=ValueError,
    match=("weight_decay", "nan"),
)
case("decoupled_weight_decay-opt", dwd, None, 0.1, exc=TypeError, match=("opt", "None"))
case("decoupled_weight_decay-1", dwd, optim.adam(0.1), 1.0, exc=ValueError, match=("decay", "1.0"))
case(
    "decoupled_weight_decay-neg",
    dwd,
    optim.adam(0.1),
    -0.1,
    exc=ValueError,
    match=("decay", "-0.1"),
)
nm, enm, smm = (
    dyn.sgd_nesterov_mode_matrix,
    dyn.ema_nesterov_mode_matrix,
    dyn.simultaneous_momentum_mode_matrix,
)
case("nesterov_mode_matrix-mu-1", nm, 1.0, 0.1, 1.0, exc=ValueError, match=("momentum", "1.0"))
case("nesterov_mode_matrix-lam-neg", nm, -1.0, 0.1, 0.5, exc=ValueError, match=("lam", "-1.0"))
case("ema_nesterov_mode_matrix-beta-0", enm, 1.0, 0.1, 0.0, exc=ValueError, match=("beta", "0.0"))
case("ema_nesterov_mode_matrix-lr-0", enm, 1.0, 0.0, 0.5, exc=ValueError, match=("lr", "0.0"))
case(
    "simultaneous_momentum_mode_matrix-beta",
    smm,
    1.0,
    0.1,
    2.0,
    exc=ValueError,
    match=("beta", "2.0"),
)
case(
    "simultaneous_momentum_mode_matrix-lr-nan",
    smm,
    1.0,
    NAN,
    0.5,
    exc=ValueError,
    match=("lr", "nan"),
)
me = dyn.mode_eigenvalues
case("mode_eigenvalues-trace-nan", me, NAN, 0.5, exc=ValueError, match=("trace", "nan"))
case("mode_eigenvalues-det-str", me, 1.0, "0.5", exc=TypeError, match=("det", "'0.5'"))
case("mode_eigenvalues-det-inf", me, 1.0, INF, exc=ValueError, match=("det", "inf"))
mim = dyn.sgd_momentum_iteration_matrix
case(
    "momentum_iteration_matrix-H-shape",
    mim,
    np.ones((2, 3)),
    0.1,
    0.5,
    exc=ValueError,
    match=("H", "(2, 3)"),
)
case(
    "momentum_iteration_matrix-H-nan",
    mim,
    np.full((2, 2), NAN),
    0.1,
    0.5,
    exc=ValueError,
    match=("H", "nan"),
)
case("momentum_iteration_matrix-H-str", mim, "H", 0.1, 0.5, exc=TypeError, match=("H", "str"))
case(
    "momentum_iteration_matrix-mu",
    mim,
    np.eye(2),
    0.1,
    1.0,
    exc=ValueError,
    match=("momentum", "1.0"),
)
case(
    "momentum_iteration_matrix-lr",
    mim,
    np.eye(2),
    -0.1,
    0.5,
    exc=ValueError,
    match=("lr", "-0.1"),
)
case(
    "momentum_iteration_matrix-tau",
    mim,
    np.eye(2),
    0.1,
    0.5,
    dampening=1.0,
    exc=ValueError,
    match=("dampening", "1.0"),
)
case(
    "momentum_iteration_matrix-nesterov-str",
    mim,
    np.eye(2),
    0.1,
    0.5,
    nesterov=1,
    exc=TypeError,
    match=("nesterov", "1"),
)
case(
    "momentum_iteration_matrix-nesterov-tau",
    mim,
    np.eye(2),
    0.1,
    0.5,
    dampening=0.5,
    nesterov=True,
    exc=ValueError,
    match=("nesterov=True", "dampening=0.5"),
)
efr = dyn.ema_frequency_response
case("ema_frequency_response-omega-inf", efr, INF, 0.5, exc=ValueError, match=("omega", "inf"))
case("ema_frequency_response-beta-0", efr, 1.0, 0.0, exc=ValueError, match=("beta", "0.0"))
mfm = dyn.momentum_flow_matrix
case("momentum_flow_matrix-k-0", mfm, 0.0, 1.0, 1.0, exc=ValueError, match=("k", "0.0"))
case("momentum_flow_matrix-c-nan", mfm, 1.0, NAN, 1.0, exc=ValueError, match=("c", "nan"))
case("momentum_flow_matrix-lam-neg", mfm, 1.0, 1.0, -2.0, exc=ValueError, match=("lam", "-2.0"))

# ---- relu: mlp backward, local features, PWL nets, kinks (issue 5) -----------------------------

x3 = X[:, :3]
case(
    "backward-activation",
    mlp.backward,
    PARAMS,
    x3,
    X[:, :1],
    activation="gelu",
    exc=ValueError,
    match=("activation", "'gelu'"),
)
case(
    "backward-G-shape",
    mlp.backward,
    PARAMS,
    x3,
    X[:, :2],
    exc=ValueError,
    match=("grad_output", "(5, 1)", "(5, 2)"),
)
case(
    "backward-G-nan",
    mlp.backward,
    PARAMS,
    x3,
    X[:, :1] * NAN,
    exc=ValueError,
    match=("grad_output", "nan"),
)
case(
    "backward-W2-shape",
    mlp.backward,
    params_with(W2=np.zeros((4, 1))),
    x3,
    X[:, :1],
    exc=ValueError,
    match=("params['W2']", "(4, 1)"),
)
case(
    "value_and_grad-y-shape",
    mlp.value_and_grad,
    PARAMS,
    x3,
    Y[:4],
    exc=ValueError,
    match=("y", "(4,)"),
)
case(
    "value_and_grad-y-3d",
    mlp.value_and_grad,
    PARAMS,
    x3,
    Y[:, None, None],
    exc=ValueError,
    match=("y", "(5, 1, 1)"),
)
case(
    "value_and_grad-activation",
    mlp.value_and_grad,
    PARAMS,
    x3,
    Y,
    activation="elu",
    exc=ValueError,
    match=("activation", "'elu'"),
)
case(
    "flatten_params-missing",
    mlp.flatten_params,
    params_with(b2=None),
    exc=ValueError,
    match=("params", "'b2'"),
)
case("flatten_params-list", mlp.flatten_params, [X], exc=TypeError, match=("params", "list"))
case(
    "unflatten_params-length",
    mlp.unflatten_params,
    np.zeros(5),
    PARAMS,
    exc=ValueError,
    match=("theta", "(11,)", "(5,)"),
)
case(
    "unflatten_params-list",
    mlp.unflatten_params,
    [0.0] * 11,
    PARAMS,
    exc=TypeError,
    match=("theta", "list"),
)
case(
    "param_jacobian-vector-output",
    mlp.param_jacobian,
    params_with(W2=np.zeros((2, 2)), b2=np.zeros(2)),
    x3,
    exc=ValueError,
    match=("scalar output", "d_L = 2"),
)
case(
    "param_jacobian-X-width",
    mlp.param_jacobian,
    PARAMS,
    X[:, :2],
    exc=ValueError,
    match=("params['W1']", "(3, 2)"),
)
case(
    "activation_patterns-params-empty",
    mlp.activation_patterns,
    {},
    x3,
    exc=ValueError,
    match=("params", "'W1'"),
)
case(
    "activation_patterns-X-nan",
    mlp.activation_patterns,
    PARAMS,
    x3 * NAN,
    exc=ValueError,
    match=("X", "nan"),
)
case(
    "relu_net_from_pwl-unsorted",
    constructions.relu_net_from_pwl,
    np.array([0.0, 2.0, 1.0]),
    Y[:3],
    exc=ValueError,
    match=("knots", "increasing"),
)
case(
    "relu_net_from_pwl-one-knot",
    constructions.relu_net_from_pwl,
    np.array([0.0]),
    Y[:1],
    exc=ValueError,
    match=("knots", "k >= 1", "(1,)"),
)
case(
    "relu_net_from_pwl-values-shape",
    constructions.relu_net_from_pwl,
    np.array([0.0, 1.0]),
    Y[:3],
    exc=ValueError,
    match=("values", "(2,)", "(3,)"),
)
case(
    "relu_net_from_pwl-knots-nan",
    constructions.relu_net_from_pwl,
    np.array([0.0, NAN]),
    Y[:2],
    exc=ValueError,
    match=("knots", "nan"),
)
case(
    "relu_net_from_slopes-slopes-shape",
    constructions.relu_net_from_slopes,
    np.array([0.0, 1.0]),
    Y[:2],
    Y[:1],
    exc=ValueError,
    match=("slopes", "(3,)", "(2,)"),
)
case(
    "relu_net_from_slopes-unsorted",
    constructions.relu_net_from_slopes,
    np.array([1.0, 0.0]),
    Y[:3],
    Y[:1],
    exc=ValueError,
    match=("knots", "increasing"),
)
case(
    "relu_net_from_slopes-value-shape",
    constructions.relu_net_from_slopes,
    np.array([0.0]),
    Y[:2],
    Y[:2],
    exc=ValueError,
    match=("value", "(1,)", "(2,)"),
)
case(
    "relu_net_from_slopes-knots-2d",
    constructions.relu_net_from_slopes,
    X,
    Y[:2],
    Y[:1],
    exc=ValueError,
    match=("knots", "(k,)", "(5, 3)"),
)
case(
    "relu_net_from_pwl-knots-list",
    constructions.relu_net_from_pwl,
    [0.0, 1.0],
    Y[:2],
    exc=TypeError,
    match=("knots", "list"),
)
case(
    "kink_location-shape",
    init.kink_location,
    Y,
    Y[:3],
    exc=ValueError,
    match=("w and b", "(5,)", "(3,)"),
)
case(
    "kink_location-int",
    init.kink_location,
    np.arange(3),
    np.arange(3),
    exc=TypeError,
    match=("w", "int64"),
)
case(
    "kink_location-mixed",
    init.kink_location,
    Y,
    t(Y),
    exc=TypeError,
    match=("w: numpy.ndarray", "b: torch.Tensor"),
)
case("kink_mass-negative", init.kink_mass, -1.0, exc=ValueError, match=("a", "-1.0"))
case("kink_mass-scale-zero", init.kink_mass, 1.0, 0.0, exc=ValueError, match=("scale", "0.0"))
case("dropout-p-one", mlp.dropout, Y, 1.0, rng=gen(), exc=ValueError, match=("p", "1.0"))
case("dropout-rng-seed", mlp.dropout, Y, 0.5, rng=0, exc=TypeError, match=("rng", "0"))
case("dropout-h-list", mlp.dropout, [1.0], 0.5, rng=gen(), exc=TypeError, match=("h", "list"))
case(
    "dropout-h-int", mlp.dropout, np.arange(3), 0.5, rng=gen(), exc=TypeError, match=("h", "int64")
)
case(
    "dropout-train-int",
    mlp.dropout,
    Y,
    0.5,
    rng=gen(),
    train=1,
    exc=TypeError,
    match=("train", "1"),
)

# ---- the tests ------------------------------------------------------------------------------


def _ids_unique() -> None:
    seen: set[str] = set()
    dupes = {c.id for c in CASES if c.id in seen or seen.add(c.id)}  # type: ignore[func-returns-value]
    assert not dupes, f"duplicate case ids: {sorted(dupes)}"


_ids_unique()


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in CASES])
def test_rejects(c: Case) -> None:
    with pytest.raises(c.exc, match=c.match):
        c.func(*c.args, **c.kwargs)
