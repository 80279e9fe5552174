r"""The argument contract of every public name of dlcore, declared once.

This is the test-side specification that `tests/api/test_contract.py` turns into calls, in the
spirit of scikit-learn's common estimator checks: each public function is described by the kind
of each argument (an array with symbolic dimensions, a real in an interval, an int with bounds, a
choice, a flag, a random generator, a parameter tree, a callable), plus one valid call. From that
description the test generates:

- bad calls: wrong type, wrong shape, broken shape relations, non-finite entries, empty arrays,
  integer dtypes, out-of-range or non-finite scalars, mixed libraries, dtypes and devices; each
  must raise `TypeError` or `ValueError` naming the argument;
- valid calls on every backend and float dtype: a finite result, no input written, and half
  precision either computed or refused with an error naming the dtype;
- time bounds: an int that is not an output size, set to $10^{12}$, must be refused or answered
  at once;
- extreme scales: the valid call scaled by $2^{\pm 600}$ ($\approx 10^{\pm 180}$; a few
  functions at other powers, per contract) against a 50-digit mpmath oracle evaluated at scale.

The kind of every argument that dlcore declares with `@dlcore.backend.contract` is read off the
function's `__contract__` (`declared`), not restated here; an entry adds only what dlcore cannot
know: a valid call, the kinds of undeclared arguments (parameter trees, index lists, a model), a
scale law and its oracle.

Classes are covered through the function that consumes them (a `KernelRidgeModel` through
`kernel_ridge_predict`, optimizer states through `update` and `step`), constants through a check
of their value. `tests/api/test_contract.py` checks that every name in every `__all__` has an
entry here.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
from tests.support import mp_references as mpr
from tests.support.strategies import he_mlp

__all__ = [
    "Arr",
    "Real",
    "Int",
    "Choice",
    "Flag",
    "Rng",
    "Fn",
    "Opt",
    "Label",
    "Indices",
    "Params",
    "Anything",
    "Contract",
    "OptimizerContract",
    "Covered",
    "Constant",
    "CONTRACTS",
    "OPTIMIZERS",
    "COVERED",
    "CONSTANTS",
    "HUGE",
    "declared",
]

HUGE = 10**12
"""The value an int that is not an output size is set to in the time-bound check."""


# ---- argument kinds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Arr:
    """A real floating array argument.

    `shapes` lists the admitted shapes as tuples of symbols (`("n", "d")`); a symbol shared by
    two arguments is a shape relation. `None` means any shape. `nonfinite` is False for arrays
    whose non-finite entries are meaningful (none today).
    """

    shapes: tuple[tuple[str, ...], ...] | None
    host_only: bool = False  # converted to NumPy float64 (lists and ints welcome): the dynamics
    values: bool = True  # False: only the type, dtype and device are used (`like`, `to_numpy`)
    floating: bool = True  # False: any dtype is accepted (`asarray`'s `like`, `device_of`)


@dataclass(frozen=True)
class Real:
    """A real scalar in the interval from `low` to `high`, each end open or closed."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = True
    high_open: bool = True
    nan_ok: bool = False  # NaN is a documented value (a loss that was not computed)


@dataclass(frozen=True)
class Int:
    """An int `>= minimum` (and `<= maximum` when set).

    `size=True` marks an int that is the size of the output or of the work asked for (`n`,
    `steps`): a call is allowed to take time in proportion to it. Every other int must be
    bounded in time at `HUGE`: refused with a `ValueError`, or answered at once.
    """

    minimum: int
    maximum: int | None = None
    size: bool = False


@dataclass(frozen=True)
class Choice:
    """One of `options` (strings)."""

    options: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    """A bool (an int or a string is refused, not read as truthy)."""


@dataclass(frozen=True)
class Rng:
    """A `numpy.random.Generator`."""


@dataclass(frozen=True)
class Fn:
    """A callable."""


@dataclass(frozen=True)
class Opt:
    """A `GradientTransformation`."""


@dataclass(frozen=True)
class Label:
    """The `name` argument of a `backend.check_*` helper: the name its errors must show."""


@dataclass(frozen=True)
class Indices:
    """A list of int indices into `[0, of)` where `of` is a symbol, with `length` entries
    (a symbol) or any non-zero length when `length` is None."""

    of: str
    length: str | None = None


@dataclass(frozen=True)
class Params:
    """A dict of real floating arrays (an MLP's `W1, b1, ...` when `mlp=True`).

    `shapes_only`: only the keys and shapes are read (`unflatten_params`' `like`), so its
    library, dtype and device need not match the other arguments."""

    mlp: bool = False
    shapes_only: bool = False


@dataclass(frozen=True)
class Anything:
    """An argument with no contract to break (`like` of `asarray`, `dtype`)."""


Spec = Arr | Real | Int | Choice | Flag | Rng | Fn | Opt | Label | Indices | Params | Anything


@dataclass(frozen=True)
class Contract:
    """The contract of one public function.

    Attributes:
        name: `"module.function"`.
        args: The kind of each parameter, in signature order.
        valid: `valid(rng) -> kwargs`, one valid call with NumPy float64 arrays and the sizes
            named by `dims` (`{"n": 5, ...}`).
        dims: The size of each symbol in `valid`'s arrays.
        nan_ok: A valid result may hold NaN where the docstring says so (`kink_location`).
        scale: Optional map `scale(kwargs, c) -> kwargs_at_scale` of the valid call to one at
            scale $c$ (exact in binary floating point when `c` is a power of two).
        reference: The high-precision oracle `reference(kwargs) -> result` of
            `tests/support/mp_references.py` (mpmath, 50 digits) that the scale check compares
            against, at scale.
        scales: The exponents $k$ of the scales $c = 2^k$ the scale check runs at ($2^{\\pm600}
            \\approx 10^{\\pm180}$: products of two such entries leave float64's range).
        rtol: The relative tolerance of the scale check, derived in `tests/api/test_contract.py`
            from the problem's conditioning (documented per contract).
        half: The function computes in half precision (elementwise work, no linear algebra).
    """

    name: str
    args: dict[str, Spec]
    valid: Callable[[np.random.Generator], dict[str, Any]]
    dims: dict[str, int] = field(default_factory=dict)
    nan_ok: bool = False
    scale: Callable[[dict[str, Any], float], dict[str, Any]] | None = None
    reference: Callable[[dict[str, Any]], Any] | None = None
    rtol: float = 0.0
    scales: tuple[int, ...] = (-600, 600)
    half: bool = True

    @property
    def func(self) -> Callable[..., Any]:
        return _func(self.name)


@dataclass(frozen=True)
class OptimizerContract:
    """An optimizer factory: its hyperparameters, a valid set, and the state type it keeps."""

    name: str
    hyper: dict[str, Spec]
    valid: dict[str, Any]
    state: type
    positional: tuple[str, ...] = ()  # arguments passed positionally (a wrapped optimizer)

    @property
    def factory(self) -> Callable[..., Any]:
        return getattr(optim, self.name.split(".")[1])

    def make(self, **override: Any) -> Any:
        kw = {**self.valid, **override}
        args = [kw.pop(k) for k in self.positional]
        return self.factory(*args, **kw)


@dataclass(frozen=True)
class Covered:
    """A class whose instances are inputs or outputs of other public names, checked there."""

    name: str
    by: tuple[str, ...]
    how: str


@dataclass(frozen=True)
class Constant:
    """A public constant and the invariant its users rely on."""

    name: str
    check: Callable[[Any], bool]
    what: str


_MODULES = {
    "backend": backend,
    "constructions": constructions,
    "data": data,
    "dynamics": dynamics,
    "init": init,
    "kernels": kernels,
    "linear": linear,
    "losses": losses,
    "mlp": mlp,
    "optim": optim,
    "train": train,
}


def _func(name: str) -> Callable[..., Any]:
    module, attr = name.split(".")
    return getattr(_MODULES[module], attr)  # type: ignore[no-any-return]


def _test_kind(kind: Any) -> Spec | None:
    """The test-side kind of one dlcore kind (`None`: a kind the entry must give itself, such as
    an MLP's parameter tree, `Params(mlp=True)`)."""
    if isinstance(kind, backend.Arr) and not isinstance(kind, mlp._Tree):
        # `finite=False, joint=False` is an array whose entries are not read (`like`)
        shapes = kind.shapes or None
        return Arr(shapes, values=kind.finite or kind.joint)
    if isinstance(kind, backend.Real):
        return Real(kind.low, kind.high, low_open=kind.low_open, high_open=kind.high_open)
    if isinstance(kind, backend.Int):
        return Int(kind.minimum, kind.maximum, size=kind.size)
    if isinstance(kind, backend.Choice):
        return Choice(kind.options)
    simple = {
        backend.check_bool: Flag(),
        backend.check_generator: Rng(),
        backend.check_callable: Fn(),
        optim._check_opt: Opt(),
    }
    return simple.get(kind)


def declared(func: Callable[..., Any]) -> dict[str, Spec]:
    """The kinds of the arguments `func` declares with `@contract`, as test-side kinds."""
    kinds = getattr(func, "__contract__", {})
    return {k: spec for k, v in kinds.items() if (spec := _test_kind(v)) is not None}


def _linalg(func: Callable[..., Any]) -> bool:
    kinds = getattr(func, "__contract__", {}).values()
    return any(isinstance(k, backend.Arr) and k.linalg for k in kinds)


# ---- common shapes and builders ---------------------------------------------------------------

N, D, M = 6, 3, 2
DIMS = {"n": N, "d": D, "m": M, "k": 4, "q": 5, "h": 4}
MAT = (("n", "d"),)
TARGETS = (("n",), ("n", "m"))
WEIGHTS = (("d",), ("d", "m"))
VEC_N = (("n",),)
SQUARE = (("d", "d"),)


def _spectrum(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """An `(n, d)` matrix $U\\operatorname{diag}(s)V^\\top$ with singular values in $[1, 2]$:
    condition number at most 2, so that the scale checks' tolerances hold for every draw."""
    U, _ = np.linalg.qr(rng.standard_normal((n, min(n, d))))
    V, _ = np.linalg.qr(rng.standard_normal((d, min(n, d))))
    return (U * rng.uniform(1.0, 2.0, size=min(n, d))) @ V.T


def _X(rng: np.random.Generator) -> np.ndarray:
    return _spectrum(rng, N, D)


def _y(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(N)


def _pm1(rng: np.random.Generator) -> np.ndarray:
    return np.where(rng.standard_normal(N) >= 0, 1.0, -1.0)


def _mlp(rng: np.random.Generator, sizes: tuple[int, ...] = (D, 4, 1)) -> dict[str, np.ndarray]:
    return he_mlp(list(sizes), rng)  # test-side: an input, not drawn by the code under test


def _knots(rng: np.random.Generator, k: int) -> np.ndarray:
    return np.cumsum(rng.uniform(0.5, 1.5, size=k)) - k / 2


def _spd(rng: np.random.Generator, d: int = D) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q * rng.uniform(0.5, 2.0, size=d)) @ Q.T


def _symmetric(rng: np.random.Generator, d: int = D) -> np.ndarray:
    """A symmetric matrix with eigenvalues of both signs, $|\\lambda| \\in [0.5, 2]$ (normal:
    its eigenvalues have condition number 1)."""
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = rng.uniform(0.5, 2.0, size=d) * np.where(np.arange(d) % 2 == 0, 1.0, -1.0)
    return (Q * lam) @ Q.T


def _grad_fn(params: dict[str, Any], t: int) -> dict[str, Any]:
    return {k: 0.1 * v for k, v in params.items()}


def _score(params: dict[str, Any]) -> float:
    with np.errstate(over="ignore"):  # inf for huge params (the extreme check): a valid score
        return float(
            sum(float(np.sum(np.asarray(backend.to_numpy(v)) ** 2)) for v in params.values())
        )


# ---- scale maps (the references are mpmath oracles: `tests/support/mp_references.py`) -----------

Kwargs = dict[str, Any]


def _scale_X(kw: Kwargs, c: float) -> Kwargs:
    return {**kw, "X": c * kw["X"]}


def _scale_K(kw: Kwargs, c: float) -> Kwargs:
    return {**kw, "K": c * kw["K"]}


def _scale_z(kw: Kwargs, c: float) -> Kwargs:
    return {**kw, "z": c * kw["z"]}


def _scale_M(kw: Kwargs, c: float) -> Kwargs:
    return {**kw, "M": c * kw["M"]}


def _scale_rbf(kw: Kwargs, c: float) -> Kwargs:
    # points and length scale together: gamma / c^2 keeps the kernel's values of order 1
    return {**kw, "A": c * kw["A"], "B": c * kw["B"], "gamma": kw["gamma"] / c / c}


def _scale_eig(kw: Kwargs, c: float) -> Kwargs:
    # trace and det both times c: trace^2 leaves float64's range
    return {**kw, "trace": c * kw["trace"], "det": c * kw["det"]}


def _scale_kink(kw: Kwargs, c: float) -> Kwargs:
    return {**kw, "w": c * kw["w"], "b": c * kw["b"]}


def _scale_filter(kw: Kwargs, c: float) -> Kwargs:
    # s and sqrt(lam) together: s^2 and lam leave float64's range
    return {**kw, "s": c * kw["s"], "lam": kw["lam"] * c * c}


# ---- the contracts ----------------------------------------------------------------------------

_C: list[Contract] = []


def _c(name: str, args: dict[str, Spec], valid: Callable[..., dict[str, Any]], **kw: Any) -> None:
    """One contract: `args` adds to (or overrides) the kinds dlcore declares, in signature order;
    half precision is refused where dlcore declares an array that goes into linear algebra."""
    func = _func(name)
    both = {**declared(func), **args}
    order = [p for p in inspect.signature(func).parameters if p in both]
    kw.setdefault("half", not _linalg(func))
    _C.append(
        Contract(
            name,
            {p: both[p] for p in order + [p for p in both if p not in order]},
            valid,
            dims=DIMS,
            **kw,
        )
    )


# backend: the checks report the name they are given
_c("backend.namespace", {"arrays": Arr(None)}, lambda r: {"arrays": (_X(r), _X(r))})
_c(
    "backend.asarray",
    {"x": Anything(), "like": Arr(None, values=False, floating=False), "dtype": Anything()},
    lambda r: {"x": [1.0, 2.0], "like": _y(r), "dtype": None},
)
_c("backend.to_numpy", {"x": Anything()}, lambda r: {"x": _X(r)})  # np.asarray for non-arrays
_c("backend.device_of", {"x": Arr(None, values=False, floating=False)}, lambda r: {"x": _X(r)})
_c("backend.eps", {"x": Arr(None, values=False)}, lambda r: {"x": _X(r)})
_c(
    "backend.check_finite",
    {"name": Label(), "x": Arr(None, floating=False)},
    lambda r: {"name": "A", "x": _X(r)},
)
_c(
    "backend.check_linalg_dtype",
    {"name": Label(), "x": Arr(None, values=False, floating=False)},
    lambda r: {"name": "A", "x": _X(r)},
    half=False,
)
_c("backend.check_bool", {"name": Label(), "value": Flag()}, lambda r: {"name": "f", "value": True})
_c("backend.check_array", {"name": Label(), "x": Anything()}, lambda r: {"name": "A", "x": _X(r)})
_c(
    "backend.check_compatible",
    {"arrays": Anything()},
    lambda r: {"arrays": {"A": _X(r), "B": _y(r)}},
)
_c("backend.check_generator", {"name": Label(), "rng": Rng()}, lambda r: {"name": "g", "rng": r})
_c("backend.check_callable", {"name": Label(), "fn": Fn()}, lambda r: {"name": "f", "fn": len})

# data: every kind is declared in dlcore
_c(
    "data.sample_batch",
    {},
    lambda r: {"n": 6, "batch_size": 2, "replace": False, "rng": r},
)
_c(
    "data.epoch_batches",
    {},
    lambda r: {"n": 6, "batch_size": 4, "rng": r, "drop_last": False},
)
_c(
    "data.batch_schedule",
    {},
    lambda r: {"n": 6, "batch_size": 2, "steps": 5, "scheme": "epoch", "rng": r, "reshuffle": True},
)
_c("data.enumerate_batches", {}, lambda r: {"n": 4, "batch_size": 2, "scheme": "epoch"})
_c(
    "data.separable_dataset",
    {},
    lambda r: {"n": 6, "d": 3, "margin": 0.3, "rng": r, "spread": 1.0},
)
_c(
    "data.standardize",
    {},
    lambda r: {"X": _X(r)},
    scale=_scale_X,
    reference=mpr.standardize,
    rtol=64,
)

# dynamics (NumPy scalars and matrices): the scalars are declared in dlcore; the matrices are
# host arrays (lists and ints welcome)
for _f, _third in (
    ("sgd_momentum_mode_matrix", "momentum"),
    ("ema_momentum_mode_matrix", "beta"),
    ("simultaneous_momentum_mode_matrix", "beta"),
):
    _flag = {"nesterov": False} if _f != "simultaneous_momentum_mode_matrix" else {}
    _c(f"dynamics.{_f}", {}, lambda r, _n=_third, _k=_flag: {"lam": 1.5, "lr": 0.3, _n: 0.5, **_k})
_c("dynamics.gd_mode_factor", {}, lambda r: {"lam": 1.5, "lr": 0.3})
_c(
    "dynamics.spectral_radius",
    {"M": Arr(SQUARE, host_only=True)},
    lambda r: {"M": _symmetric(r)},
    scale=_scale_M,
    reference=mpr.spectral_radius,
    rtol=64,
    half=False,
)
_c("dynamics.gd_max_stable_lr", {}, lambda r: {"lam_max": 2.0})
_c("dynamics.sgd_momentum_max_stable_lr", {}, lambda r: {"lam_max": 2.0, "momentum": 0.5})
_c("dynamics.ema_momentum_max_stable_lr", {}, lambda r: {"lam_max": 2.0, "beta": 0.5})
_c(
    "dynamics.mode_eigenvalues",
    {},
    lambda r: {"trace": 1.25, "det": 0.75},
    scale=_scale_eig,
    reference=mpr.mode_eigenvalues,
    rtol=16,
)
_c(
    "dynamics.sgd_momentum_iteration_matrix",
    {"H": Arr(SQUARE, host_only=True)},
    lambda r: {"H": _spd(r), "lr": 0.3, "momentum": 0.5, "dampening": 0.0, "nesterov": False},
    half=False,
)
_c(
    "dynamics.gd_filter_factors",
    {"s": Arr(None, host_only=True)},
    lambda r: {"s": r.uniform(0.1, 1.0, size=D), "lr": 0.2, "t": 7},
    half=False,
)
_c("dynamics.gd_steps_to_tolerance", {}, lambda r: {"lam": 1.5, "lr": 0.3, "delta": 1e-3})
_c("dynamics.ema_frequency_response", {}, lambda r: {"omega": 0.7, "beta": 0.5})
_c("dynamics.momentum_flow_matrix", {}, lambda r: {"k": 2.0, "c": 1.0, "lam": 1.5})

# init, kernels, linear, losses, mlp, constructions: the kinds dlcore declares, plus the valid
# calls, the undeclared arguments and the scale laws
_c("init.variance", {}, lambda r: {"scheme": "he", "d_in": 4, "d_out": 3})
for _f in (
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "glorot_normal",
    "glorot_uniform",
):
    _c(f"init.{_f}", {}, lambda r: {"d_in": 4, "d_out": 3, "rng": r, "like": _y(r)})
_c(
    "init.kink_location",
    {},
    lambda r: {"w": r.standard_normal(7), "b": r.standard_normal(7)},
    nan_ok=True,
    scale=_scale_kink,
    reference=mpr.kink_location,
    rtol=2,
)
_c("init.kink_mass", {}, lambda r: {"a": 1.0, "scale": 2.0})

_AB = lambda r: {"A": _X(r), "B": r.standard_normal((5, D))}  # noqa: E731
_c("kernels.linear_kernel", {}, _AB)
_c("kernels.polynomial_kernel", {}, lambda r: {**_AB(r), "degree": 3, "gamma": 0.5, "coef0": 1.0})
_c(
    "kernels.rbf_kernel",
    {},
    lambda r: {**_AB(r), "gamma": 0.5},
    scale=_scale_rbf,
    reference=mpr.rbf_kernel,
    scales=(-511, 530),  # gamma/c^2 = 2^-1061 (a power of two: exact, subnormal) and 2^1021
    rtol=64,
)
_c(
    "kernels.kernel_ridge",
    {},
    lambda r: {"K": _spd(r, N), "y": _y(r), "lam": 0.5},
    scale=_scale_K,
    reference=mpr.kernel_ridge,
    rtol=256,
)
_c(
    "kernels.kernel_ridge_fit",
    {},
    lambda r: {
        "X": _X(r),
        "y": _y(r),
        "lam": 0.5,
        "kernel": "rbf",
        "degree": 2,
        "gamma": 0.5,
        "coef0": 1.0,
        "form": "auto",
    },
)


def _fitted(r: np.random.Generator) -> dict[str, Any]:
    X = _X(r)
    model = kernels.kernel_ridge_fit(X, _y(r), 0.5, kernel="rbf", gamma=0.5)
    return {"model": model, "X_test": r.standard_normal((5, D))}


_c(
    "kernels.kernel_ridge_predict",
    {"model": Anything(), "X_test": Arr((("q", "d"),))},
    _fitted,
)

_XY = lambda r: {"X": _X(r), "y": _y(r)}  # noqa: E731
for _f in ("ridge", "ridge_dual", "ridge_svd"):
    _c(
        f"linear.{_f}",
        {},
        lambda r: {**_XY(r), "lam": 0.5},
        scale=_scale_X,
        reference=mpr.ridge,
        rtol=256,
    )
_c(
    "linear.min_norm_solution",
    {},
    _XY,
    scale=_scale_X,
    reference=mpr.min_norm_solution,
    rtol=256,
)
for _f, _ref in (
    ("row_space_projector", mpr.row_space_projector),
    ("null_space_projector", mpr.null_space_projector),
):
    _c(
        f"linear.{_f}",
        {},
        lambda r: {"X": _spectrum(r, 2, D)},
        scale=_scale_X,
        reference=_ref,
        rtol=256,
    )
_WXY = lambda r: {"w": r.standard_normal(D), **_XY(r)}  # noqa: E731
for _f in ("ridge_objective", "ridge_grad"):
    _c(f"linear.{_f}", {}, lambda r: {**_WXY(r), "lam": 0.5})
_c(
    "linear.ridge_filter_factors",
    {},
    lambda r: {"s": r.uniform(0.1, 2.0, size=D), "lam": 0.5},
    scale=_scale_filter,
    reference=mpr.ridge_filter_factors,
    scales=(-511, 511),  # lam c^2 = 2^1021 stays finite; s^2 reaches 2^1024 and overflows
    rtol=8,
)
_c("linear.augment_ridge_rows", {}, lambda r: {**_XY(r), "lam": 0.5})
_c("linear.augment_ridge_features", {}, lambda r: {"X": _X(r), "lam": 0.5})

for _f in ("squared_loss", "squared_loss_grad"):
    _c(f"losses.{_f}", {}, _WXY)
_c("losses.minibatch_grad", {"batch": Indices("n")}, lambda r: {**_WXY(r), "batch": [0, 3, 4]})
for _f in ("zero_one_loss", "logistic_loss", "logistic_loss_grad", "hinge_loss", "hinge_loss_grad"):
    _c(f"losses.{_f}", {}, lambda r: {"s": _y(r), "y": _pm1(r)})
for _f in ("softmax", "log_softmax"):
    _c(
        f"losses.{_f}",
        {},
        lambda r: {"z": r.standard_normal((N, 4))},
        scale=_scale_z,
        reference=mpr.log_softmax if _f == "log_softmax" else mpr.softmax,
        rtol=64,
    )
for _f in ("cross_entropy", "cross_entropy_grad"):
    _c(
        f"losses.{_f}",
        {"labels": Indices("k", "n")},
        lambda r: {"z": r.standard_normal((N, 4)), "labels": [0, 1, 2, 3, 1, 0]},
    )
for _f in ("per_example_losses", "per_example_grads"):
    _c(f"losses.{_f}", {}, lambda r: {**_WXY(r), "y": _pm1(r), "loss": "logistic"})
for _f in ("empirical_risk", "empirical_risk_grad"):
    _c(f"losses.{_f}", {}, lambda r: {**_WXY(r), "y": _pm1(r), "loss": "hinge", "lam": 0.1})

_NET = {"params": Params(mlp=True)}
_c(
    "mlp.init_mlp",
    {"sizes": Anything()},
    lambda r: {"sizes": [D, 4, 1], "rng": r, "weights": "he_normal", "like": _y(r)},
)
for _f in ("preactivations", "forward", "param_jacobian"):
    _c(f"mlp.{_f}", _NET, lambda r: {"params": _mlp(r), "X": _X(r), "activation": "relu"})
_c(
    "mlp.backward",
    _NET,
    lambda r: {
        "params": _mlp(r),
        "X": _X(r),
        "grad_output": r.standard_normal((N, 1)),
        "activation": "tanh",
    },
)
_c(
    "mlp.value_and_grad",
    _NET,
    lambda r: {"params": _mlp(r), "X": _X(r), "y": r.standard_normal((N, 1)), "activation": "relu"},
)
_c("mlp.flatten_params", _NET, lambda r: {"params": _mlp(r)})
_c(
    "mlp.unflatten_params",
    {"like": Params(mlp=True, shapes_only=True)},
    lambda r: {"theta": r.standard_normal(D * 4 + 4 + 4 + 1), "like": _mlp(r)},
)
_c("mlp.activation_patterns", _NET, lambda r: {"params": _mlp(r), "X": _X(r)})
_c("mlp.dropout", {}, lambda r: {"h": _X(r), "p": 0.5, "rng": r, "train": True})
_c(
    "mlp.forward_with",
    {**_NET, "phi": Fn()},
    lambda r: {"params": _mlp(r), "X": _X(r), "phi": lambda z: 0.5 * z},
)

_c(
    "constructions.relu_net_from_pwl",
    {},
    lambda r: {"knots": _knots(r, 5), "values": r.standard_normal(5)},
)
_c(
    "constructions.relu_net_from_slopes",
    {},
    lambda r: {
        "knots": _knots(r, 4),
        "slopes": r.standard_normal(5),
        "value": r.standard_normal(1),
    },
)
_c(
    "constructions.sigmoidal_net_from_samples",
    {},
    lambda r: {
        "knots": _knots(r, 5),
        "values": r.standard_normal(5),
        "sharpness": 20.0,
        "activation": "tanh",
    },
)

# optim: the functions that are not factories (the factories are OPTIMIZERS below)
_c("optim.ema_to_torch", {}, lambda r: {"lr": 0.1, "beta": 0.5})
_c(
    "optim.apply_updates",
    {"params": Params(), "updates": Params()},
    lambda r: {"params": {"w": _y(r), "b": _X(r)}, "updates": {"w": _y(r), "b": _X(r)}},
)

# train
_TRAIN_P = lambda r: {"w": _y(r), "b": _X(r)}  # noqa: E731
_c(
    "train.run",
    {"params": Params()},
    lambda r: {
        "opt": optim.sgd_momentum(0.1, 0.5),
        "grad_fn": _grad_fn,
        "params": _TRAIN_P(r),
        "steps": 3,
        "record_every": 1,
        "donate": True,
    },
)
_c(
    "train.train",
    {"params": Params()},
    lambda r: {
        "opt": optim.adam(0.1),
        "grad_fn": _grad_fn,
        "params": _TRAIN_P(r),
        "steps": 3,
        "loss_fn": _score,
        "checkpoint_every": 1,
        "progress_every": 2,
        "log": lambda line: None,
    },
)
_c(
    "train.best_checkpoint",
    {"checkpoints": Anything()},
    lambda r: {"checkpoints": [(0, _TRAIN_P(r)), (1, _TRAIN_P(r))], "score": _score},
)
_c(
    "train.progress_line",
    {"loss": Real(nan_ok=True)},
    lambda r: {"step": 3, "steps": 10, "loss": 0.5, "grad_norm": 1.0},
)

CONTRACTS: dict[str, Contract] = {c.name: c for c in _C}
"""The function contracts, by `"module.name"`."""


def _o(name: str, valid: dict[str, Any], state: type, **kw: Any) -> OptimizerContract:
    """An optimizer factory's contract: the hyperparameters' kinds are those dlcore declares."""
    return OptimizerContract(name, declared(_func(name)), valid, state, **kw)


OPTIMIZERS: dict[str, OptimizerContract] = {
    o.name: o
    for o in (
        _o("optim.sgd", {"lr": 0.1}, optim.EmptyState),
        _o("optim.gd", {"lr": 0.1}, optim.EmptyState),
        _o("optim.ema_momentum", {"lr": 0.1, "beta": 0.5}, optim.MomentumState),
        _o(
            "optim.sgd_momentum",
            {"lr": 0.1, "momentum": 0.5, "dampening": 0.0, "nesterov": False},
            optim.MomentumState,
        ),
        _o("optim.adam", {"lr": 0.1, "b1": 0.9, "b2": 0.999, "eps": 1e-8}, optim.AdamState),
        _o("optim.ema", {"beta": 0.5, "nesterov": False}, optim.MomentumState),
        _o("optim.ema_nesterov", {"lr": 0.1, "beta": 0.5}, optim.MomentumState),
        _o("optim.rmsprop", {"lr": 0.1, "alpha": 0.99, "eps": 1e-8}, optim.RMSPropState),
        _o(
            "optim.adamw",
            {"lr": 0.1, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
            optim.AdamState,
        ),
        _o(
            "optim.coupled_weight_decay",
            {"opt": optim.adam(0.1), "weight_decay": 0.01},
            optim.AdamState,
            positional=("opt",),
        ),
        _o(
            "optim.decoupled_weight_decay",
            {"opt": optim.sgd_momentum(0.1, 0.9), "decay": 0.01},
            optim.MomentumState,
            positional=("opt",),
        ),
        # the transforms an optimizer is chained from (`chain` takes *transforms: undeclared)
        OptimizerContract(
            "optim.chain",
            {"transforms": Opt()},
            {"transforms": optim.scale_by_adam()},
            optim.AdamState,
            positional=("transforms",),
        ),
        _o("optim.scale", {"factor": -0.1}, optim.EmptyState),
        _o("optim.add_decayed_weights", {"weight_decay": 0.01}, optim.EmptyState),
        _o(
            "optim.trace",
            {"momentum": 0.5, "dampening": 0.0, "nesterov": False},
            optim.MomentumState,
        ),
        _o("optim.scale_by_adam", {"b1": 0.9, "b2": 0.999, "eps": 1e-8}, optim.AdamState),
        _o("optim.scale_by_rms", {"alpha": 0.99, "eps": 1e-8}, optim.RMSPropState),
    )
}
"""The optimizer factories: hyperparameters, and `init`/`update`/`step` on parameter trees."""

COVERED: dict[str, Covered] = {
    c.name: c
    for c in (
        Covered("backend.Array", ("backend.namespace",), "an alias of Any: every Arr argument"),
        Covered("backend.contract", ("linear.ridge",), "every function it decorates"),
        Covered("backend.Arr", ("linear.ridge",), "every array argument declared with it"),
        Covered("backend.Real", ("linear.ridge",), "every real argument declared with it"),
        Covered("backend.Int", ("data.sample_batch",), "every int argument declared with it"),
        Covered("backend.Choice", ("kernels.kernel_ridge_fit",), "every choice declared with it"),
        Covered("backend.Knots", ("constructions.relu_net_from_pwl",), "every knots argument"),
        Covered("optim.Params", ("optim.apply_updates",), "an alias: every Params argument"),
        Covered(
            "optim.GradientTransformation",
            tuple(OPTIMIZERS),
            "every optimizer's init, update and step, and step() on a non-transformation",
        ),
        Covered("optim.EmptyState", ("optim.sgd",), "the state argument of update and step"),
        Covered("optim.MomentumState", ("optim.sgd_momentum",), "every field of the state"),
        Covered("optim.AdamState", ("optim.adam",), "every field of the state"),
        Covered("optim.RMSPropState", ("optim.rmsprop",), "every field of the state"),
        Covered("optim.step", tuple(OPTIMIZERS), "step(opt, grads, state, params, donate)"),
        Covered(
            "kernels.KernelRidgeModel",
            ("kernels.kernel_ridge_predict",),
            "every field of a hand-made model",
        ),
        Covered("data.SeparableData", ("data.separable_dataset",), "its finite output"),
        Covered("train.Record", ("train.train",), "its output"),
        Covered("train.History", ("train.train",), "its output"),
    )
}
"""Classes and aliases, each checked through the public functions that take or return it."""

CONSTANTS: dict[str, Constant] = {
    c.name: c
    for c in (
        Constant(
            "data.SCHEMES",
            lambda v: isinstance(v, tuple) and v == ("with", "without", "epoch"),
            "a tuple of the schemes batch_schedule accepts",
        ),
        Constant(
            "data.MAX_ENUMERATION",
            lambda v: isinstance(v, int) and 0 < v <= 10**7,
            "a positive int bounding enumerate_batches",
        ),
        Constant(
            "losses.MARGIN_LOSSES",
            lambda v: isinstance(v, tuple) and all(isinstance(s, str) for s in v),
            "a tuple of loss names",
        ),
        Constant(
            "mlp.ACTIVATIONS",
            lambda v: isinstance(v, tuple) and "relu" in v,
            "a tuple of activation names",
        ),
        Constant(
            "kernels.KERNELS",
            lambda v: v == ("linear", "polynomial", "rbf"),
            "a tuple of kernel names",
        ),
    )
}
"""Public constants and their invariants."""
