r"""The generated contract test: every public name against its declared contract.

The contracts live in `tests/support/contracts.py`; this module turns each into calls (see its
docstring for the list). Every name in every module's `__all__` must have a contract, and every
parameter of a function must be described, so a new public name cannot go unchecked.

Tolerances of the scale checks. Each contract's scale map takes the valid call to one at scale
$c = 2^k$, mostly $k = \pm 600$ ($\approx 10^{\pm 180}$), where squares and products of entries
leave float64's range. Multiplying by a power of two is exact, so the scaled call is the exact
problem the reference solves: a 50-digit mpmath oracle (`tests/support/mp_references.py`),
exact to far below float64's rounding, rounded once to float64. The problems are well
conditioned by construction (condition number $\kappa$ at most about 4: `_spectrum`, `_spd`,
`_symmetric`). A backward-stable route then has a relative forward error of at most
$p(n, d)\,\kappa\,\varepsilon$ with a modest polynomial $p$; each contract's `rtol` is that
bound in units of $\varepsilon$ and of the largest entry of the expected result (e.g. 256 for
the least-squares routes: $4(n+d)d\kappa^2 \le 4\cdot 9\cdot 3\cdot 2.5^2 \approx 675$ would be
Higham's worst case for QR; the routes here are within 256 on these sizes), plus one rounding of
the oracle. A route that overflows, underflows or cancels is off by a factor of order 1,
$2^{52}$ times more.
"""

from __future__ import annotations

import inspect
import itertools
import math
import re
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np
import pytest

import dlcore
from dlcore import optim
from dlcore.backend import to_numpy
from tests.support.contracts import (
    CONSTANTS,
    CONTRACTS,
    COVERED,
    HUGE,
    OPTIMIZERS,
    Anything,
    Arr,
    Choice,
    Contract,
    Flag,
    Fn,
    Indices,
    Int,
    Label,
    Opt,
    Params,
    Real,
    Rng,
    declared,
)

torch = pytest.importorskip("torch")
strict = pytest.importorskip("array_api_strict")

MODULES: list[ModuleType] = [getattr(dlcore, name) for name in dlcore.__all__]
PUBLIC = sorted(f"{m.__name__.split('.')[1]}.{name}" for m in MODULES for name in m.__all__)
TIME_LIMIT_S = 5.0
"""Every call must return or raise within this (the largest valid call takes milliseconds)."""

# ---- completeness ------------------------------------------------------------------------------


def test_every_public_name_has_a_contract() -> None:
    declared = set(CONTRACTS) | set(OPTIMIZERS) | set(COVERED) | set(CONSTANTS)
    missing = sorted(set(PUBLIC) - declared)
    stale = sorted(declared - set(PUBLIC))
    assert not missing, f"public names without a contract in tests/support/contracts.py: {missing}"
    assert not stale, f"contracts for names that are not public: {stale}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_definition_is_in_all(module: ModuleType) -> None:
    """A function, class or constant defined in the module without a leading underscore is
    public, so it must be in `__all__` (and then needs a contract)."""
    import ast

    tree = ast.parse(inspect.getsource(module))
    defined = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            defined.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            defined |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            defined.add(stmt.target.id)
    public = {n for n in defined if not n.startswith("_") and n != "__all__"}
    assert not (public - set(module.__all__)), (
        f"{module.__name__} defines public names missing from __all__: "
        f"{sorted(public - set(module.__all__))}"
    )


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_every_parameter_is_described(name: str) -> None:
    contract = CONTRACTS[name]
    params = list(inspect.signature(contract.func).parameters)
    assert list(contract.args) == params, (
        f"{name}: the contract describes {list(contract.args)}, the signature has {params}"
    )
    # the bad calls break the arguments of the valid call: one left out would go unchecked
    missing = [a for a in contract.args if a not in valid(contract)]
    assert not missing, f"{name}: the valid call does not pass {missing}, so no bad call breaks it"


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_hyperparameter_is_described(name: str) -> None:
    params = list(inspect.signature(OPTIMIZERS[name].factory).parameters)
    assert list(OPTIMIZERS[name].hyper) == params


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_constant(name: str) -> None:
    module, attr = name.split(".")
    value = getattr(getattr(dlcore, module), attr)
    assert CONSTANTS[name].check(value), f"{name} = {value!r} is not {CONSTANTS[name].what}"


@pytest.mark.parametrize("name", sorted(COVERED))
def test_covered_classes_are_checked_where_named(name: str) -> None:
    for by in COVERED[name].by:
        assert by in CONTRACTS or by in OPTIMIZERS, f"{name} is said to be covered by {by}"


# ---- calling --------------------------------------------------------------------------------


class CallTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `CallTimeout` in the calling (main) thread after `seconds` of wall time."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise CallTimeout(f"the call ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def call(contract: Contract, kwargs: dict[str, Any]) -> Any:
    func = contract.func
    sig = inspect.signature(func)
    args, kw = [], {}
    for name, value in kwargs.items():
        kind = sig.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(value)
        elif kind is inspect.Parameter.KEYWORD_ONLY:
            kw[name] = value
        else:
            args.append(value)
    with time_limit(TIME_LIMIT_S):
        return func(*args, **kw)


def is_array(x: Any) -> bool:
    return bool(array_api_compat.is_array_api_obj(x))


def leaves(x: Any) -> Iterator[Any]:
    """Arrays and floats inside `x` (tuples, lists, dicts, NamedTuples)."""
    if is_array(x):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from leaves(v)
    elif isinstance(x, (tuple, list)):
        for v in x:
            yield from leaves(v)
    elif isinstance(x, (float, complex, np.floating)):
        yield x


def host(x: Any) -> np.ndarray:
    """A float64 (or bool, int, complex) NumPy copy of an array of any backend and dtype."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return (x.double() if x.is_floating_point() else x).numpy().copy()
    a = np.array(to_numpy(x), copy=True)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def snapshot(x: Any) -> Any:
    """A deep copy of every array in `x`, as NumPy, for the no-write check."""
    if is_array(x):
        if isinstance(x, torch.Tensor):
            return ("torch", x.detach().to(torch.float64).cpu().numpy().copy())
        return ("arr", np.array(to_numpy(x), copy=True))
    if isinstance(x, dict):
        return {k: snapshot(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return (
            type(x)(snapshot(v) for v in x)
            if not hasattr(x, "_fields")
            else tuple(snapshot(v) for v in x)
        )
    return None


def assert_unchanged(before: Any, after: Any, where: str) -> None:
    if isinstance(before, tuple) and len(before) == 2 and before[0] in ("torch", "arr"):
        now = snapshot(after)[1]
        assert np.array_equal(before[1], now, equal_nan=True), f"{where} was written"
    elif isinstance(before, dict):
        for k in before:
            assert_unchanged(before[k], after[k], f"{where}[{k!r}]")
    elif isinstance(before, (tuple, list)):
        after_items = list(after)
        for i, b in enumerate(before):
            assert_unchanged(b, after_items[i], f"{where}[{i}]")


def assert_finite(result: Any, where: str, nan_ok: bool = False) -> None:
    for leaf in leaves(result):
        a = host(leaf) if is_array(leaf) else np.asarray(leaf)
        if a.dtype.kind in "fc":
            bad = ~np.isfinite(a) if not nan_ok else np.isinf(a)
            assert not bad.any(), (
                f"{where}: a non-finite result {a.ravel()[np.flatnonzero(bad)[:3]]}"
            )


# ---- backends --------------------------------------------------------------------------------


def convert(x: Any, to: Callable[[np.ndarray], Any]) -> Any:
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return to(x)
    if isinstance(x, dict):
        return {k: convert(v, to) for k, v in x.items()}
    if isinstance(x, list) and x and all(isinstance(v, tuple) for v in x):
        return [tuple(convert(v, to) for v in item) for item in x]
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(convert(v, to) for v in x)
    if isinstance(x, tuple):  # a NamedTuple such as a KernelRidgeModel: convert its arrays
        return type(x)(*(convert(v, to) for v in x))
    return x


BACKENDS: dict[str, Callable[[np.ndarray], Any]] = {
    "numpy": lambda a: a,
    "numpy-float32": lambda a: a.astype(np.float32),
    "torch": lambda a: torch.as_tensor(a),
    "torch-float32": lambda a: torch.as_tensor(a, dtype=torch.float32),
    "strict": lambda a: strict.asarray(a),
}
HALF: dict[str, Callable[[np.ndarray], Any]] = {
    "float16": lambda a: torch.as_tensor(a, dtype=torch.float16),
    "bfloat16": lambda a: torch.as_tensor(a, dtype=torch.bfloat16),
}
LONG: dict[str, Callable[[np.ndarray], Any]] = (
    {np.dtype(np.longdouble).name: lambda a: a.astype(np.longdouble)}
    if np.dtype(np.longdouble).itemsize > 8  # x86's 80-bit long double; elsewhere it is float64
    else {}
)
"""NumPy's `longdouble`, where it is wider than float64: no linear algebra exists for it."""


def host_only(contract: Contract) -> bool:
    return any(isinstance(s, Arr) and s.host_only for s in contract.args.values())


def valid(contract: Contract) -> dict[str, Any]:
    return contract.valid(np.random.default_rng(sum(map(ord, contract.name))))


def _backend_cases() -> list[tuple[str, str]]:
    out = []
    for name, c in sorted(CONTRACTS.items()):
        for b in BACKENDS:
            if host_only(c) and b != "numpy":
                continue
            out.append((name, b))
    return out


@pytest.mark.parametrize(("name", "backend"), _backend_cases())
def test_valid_call_is_finite_and_writes_nothing(name: str, backend: str) -> None:
    contract = CONTRACTS[name]
    kwargs = convert(valid(contract), BACKENDS[backend])
    before = snapshot(kwargs)
    result = call(contract, kwargs)
    assert_finite(result, f"{name} on {backend}", contract.nan_ok)
    assert_unchanged(before, kwargs, name)


def _real_args() -> list[tuple[str, str]]:
    return [
        (name, arg)
        for name, c in sorted(CONTRACTS.items())
        for kwargs in [valid(c)]
        for arg, spec in c.args.items()
        if isinstance(spec, Real) and type(kwargs.get(arg)) is float
    ]


@pytest.mark.parametrize(("name", "arg"), _real_args())
@pytest.mark.parametrize("kind", [Fraction, np.float64])
def test_a_real_argument_may_be_any_real_number_type(name: str, arg: str, kind: type) -> None:
    """A `Fraction` or a NumPy float equal to the valid call's float (both hold any float
    exactly) gives the valid call's result bit for bit: a real number is read as the float it
    equals. (A `Fraction` was refused as "not a real number" before.)"""
    contract = CONTRACTS[name]
    value = valid(contract)[arg]
    want, got = (
        call(contract, valid(contract)),
        call(contract, {**valid(contract), arg: kind(value)}),
    )
    for w, g in itertools.zip_longest(leaves(want), leaves(got)):
        w, g = (host(x) if is_array(x) else np.asarray(x) for x in (w, g))
        np.testing.assert_array_equal(g, w, err_msg=f"{name}({arg}={kind.__name__}({value!r}))")


def _has_arrays(c: Contract) -> bool:
    return any(isinstance(s, (Arr, Params)) for s in c.args.values()) and not host_only(c)


@pytest.mark.parametrize(
    ("name", "dtype"),
    [(n, d) for n, c in sorted(CONTRACTS.items()) if _has_arrays(c) for d in {**HALF, **LONG}],
)
def test_half_and_long_precision_are_computed_or_refused_by_name(name: str, dtype: str) -> None:
    """A call in half precision (torch) or NumPy's `longdouble` gives a finite result or a
    `TypeError` naming the dtype; never a NaN, and never a library error from deep inside a
    solver. The functions that compute in half precision are those that compute in longdouble:
    the ones without linear algebra."""
    contract = CONTRACTS[name]
    kwargs = convert(valid(contract), {**HALF, **LONG}[dtype])
    before = snapshot(kwargs)
    if contract.half:
        result = call(contract, kwargs)
        assert_finite(result, f"{name} in {dtype}", contract.nan_ok)
    else:
        with pytest.raises(TypeError, match=dtype):
            call(contract, kwargs)
    assert_unchanged(before, kwargs, name)


@pytest.mark.parametrize(
    ("name", "k"), [(n, k) for n, c in sorted(CONTRACTS.items()) if c.scale for k in c.scales]
)
def test_extreme_scales_against_a_reference(name: str, k: int) -> None:
    contract = CONTRACTS[name]
    assert contract.scale is not None and contract.reference is not None
    kwargs = valid(contract)
    c = math.ldexp(1.0, k)
    scaled = contract.scale(kwargs, c)
    want = contract.reference(scaled)
    got = call(contract, scaled)
    if isinstance(got, tuple) and not is_array(got):
        got = sorted(got, key=lambda z: (z.real, z.imag))
        want = sorted(want, key=lambda z: (z.real, z.imag))
    got_a, want_a = np.asarray(got if not is_array(got) else host(got)), np.asarray(want)
    assert_finite(got_a, f"{name} at scale 2^{k}", contract.nan_ok)
    scale = float(np.max(np.abs(want_a)))
    bound = contract.rtol * np.finfo(np.float64).eps * scale
    err = float(np.max(np.abs(got_a - want_a)))
    assert err <= bound, f"{name} at 2^{k}: error {err:.3g} > {bound:.3g} (|expected| {scale:.3g})"


# ---- finite arguments far from 1: a finite result or a ValueError ----------------------------

EXTREMES = {"float64": (1000, -1000, 1020, -1074), "float32": (100, -100, 124, -149)}
"""Exponents $k$ of the factors $2^k$ that the extreme check applies, per dtype: for float64
$2^{\\pm1000} \\approx 10^{\\pm301}$, near the largest finite floats (an entry of the valid call
up to 16 stays finite), and the smallest subnormal (an entry below 1/2 becomes 0); for float32
the same places of its range."""


def _times(x: Any, c: float) -> Any:
    """`x` with every float in it multiplied by `c`: arrays, reals, dicts and tuples of them."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x * c
    if isinstance(x, float):
        return x * c
    if isinstance(x, dict):
        return {k: _times(v, c) for k, v in x.items()}
    if isinstance(x, optim.GradientTransformation):
        return x  # its hyperparameters are the factory's arguments, checked there
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a KernelRidgeModel
        return type(x)(*(_times(v, c) for v in x))
    if isinstance(x, tuple):
        return tuple(_times(v, c) for v in x)
    return x


def _float_args(contract: Contract) -> list[str]:
    """The arguments of the valid call that hold floats."""
    return [a for a, v in valid(contract).items() if _times(v, 2.0) is not v]


def _extreme_cases() -> list[tuple[str, str, tuple[str, ...], int]]:
    out = []
    for name, c in sorted(CONTRACTS.items()):
        args = _float_args(c)
        groups = [(a,) for a in args] + ([tuple(args)] if len(args) > 1 else [])
        for b in ["numpy"] if host_only(c) else BACKENDS:
            ks = EXTREMES["float32" if b.endswith("float32") else "float64"]
            out += [(name, b, g, k) for g in groups for k in ks]
    return out


@pytest.mark.parametrize(("name", "backend", "args", "k"), _extreme_cases())
def test_extreme_finite_arguments_give_a_finite_result_or_a_value_error(
    name: str, backend: str, args: tuple[str, ...], k: int
) -> None:
    """The valid call with the floats of `args` (one argument, or all of them) multiplied by
    $2^k$. Where an argument stays finite and admissible, the function must return a finite
    result (NaN only where the contract allows it) or raise a `ValueError` (an overflow of the
    result, or a bound of the contract); never an infinity or a NaN it was not asked for, a
    floating-point warning, or another exception (a `ZeroDivisionError` of an underflowed
    product, an `OverflowError` of `math`). Found missing on 20 functions (`rbf_kernel` gave NaN
    for finite points, `ridge_objective` gave inf, `gd_steps_to_tolerance` divided by zero)."""
    contract = CONTRACTS[name]
    kwargs = valid(contract)
    c = math.ldexp(1.0, k)
    scaled = {a: _times(v, c) if a in args else v for a, v in kwargs.items()}
    scaled = convert(scaled, BACKENDS[backend])
    try:
        got = call(contract, scaled)
    except ValueError:
        return
    assert_finite(got, f"{name} on {backend}, {', '.join(args)} times 2^{k}", contract.nan_ok)


@dataclass(frozen=True)
class Bad:
    """One bad argument: the call must raise `exc` with one of `names` in its message."""

    id: str
    kwargs: dict[str, Any]
    exc: type[Exception] | tuple[type[Exception], ...]
    names: tuple[str, ...]


def _with(a: np.ndarray, value: float) -> np.ndarray:
    out = np.array(a, copy=True)
    out.flat[0] = value
    return out


def _partners(contract: Contract, arg: str, sym: str) -> tuple[str, ...]:
    out = []
    for other, spec in contract.args.items():
        if other == arg:
            continue
        if isinstance(spec, Arr) and spec.shapes and any(sym in s for s in spec.shapes):
            out.append(other)
        if isinstance(spec, Indices) and sym in (spec.of, spec.length):
            out.append(other)
    return tuple(out)


def _array_args(contract: Contract, kwargs: dict[str, Any]) -> list[str]:
    return [
        a
        for a, s in contract.args.items()
        if isinstance(s, Arr) and isinstance(kwargs.get(a), np.ndarray)
    ]


def _real_bad(spec: Real) -> Iterator[tuple[str, Any, type[Exception]]]:
    if not spec.nan_ok:
        yield "nan", math.nan, ValueError
    yield "inf", math.inf, ValueError
    yield "-inf", -math.inf, ValueError
    yield "bool", True, TypeError
    yield "str", "1", TypeError
    yield "none", None, TypeError
    yield "huge-int", 10**400, ValueError  # beyond the range of a float: not an OverflowError
    yield "-huge-int", -(10**400), ValueError
    if math.isfinite(spec.low):
        yield "below", spec.low if spec.low_open else spec.low - 0.5, ValueError
    if math.isfinite(spec.high):
        yield "above", spec.high if spec.high_open else spec.high + 0.5, ValueError


def bad_calls(contract: Contract) -> Iterator[Bad]:
    base = valid(contract)
    arrays = _array_args(contract, base)
    for arg, spec in contract.args.items():
        if arg not in base:
            continue
        v = base[arg]

        def bad(
            label: str, value: Any, exc: Any, names: tuple[str, ...] = (), arg: str = arg
        ) -> Bad:
            return Bad(f"{arg}-{label}", {**base, arg: value}, exc, names or (arg,))

        if isinstance(spec, Arr) and isinstance(v, np.ndarray):
            masked = np.ma.masked_array(v, mask=np.arange(v.size).reshape(v.shape) == 0)
            yield bad("masked", masked, TypeError)  # some NumPy functions would read the mask
            if not spec.host_only:  # the host-only arguments take lists and ints by design
                yield bad("list", v.tolist(), TypeError)
                if spec.floating:
                    yield bad("int", v.astype(np.int64), TypeError)
            if spec.values:
                for label, value in (("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf)):
                    yield bad(label, _with(v, value), ValueError)
                if spec.shapes is not None:
                    yield bad("empty", v[:0], ValueError)
            if spec.shapes:
                top = max(len(s) for s in spec.shapes)
                yield bad("ndim", v.reshape((1,) * (top + 1 - v.ndim) + v.shape), ValueError)
                fewer = v.ndim - 1 not in {len(s) for s in spec.shapes}
                if fewer and arg in declared(contract.func):  # one dimension too few, declared
                    yield bad("ndim-low", v[..., 0], ValueError)
                for axis, sym in enumerate(
                    spec.shapes[-1 if v.ndim == len(spec.shapes[-1]) else 0]
                ):
                    partners = _partners(contract, arg, sym)
                    if partners and v.shape[axis] > 1:
                        cut = np.take(v, range(v.shape[axis] - 1), axis=axis)
                        yield bad(f"relation-{sym}-axis{axis}", cut, ValueError, (arg, *partners))
            others = [a for a in arrays if a != arg] + [
                a for a, s in contract.args.items() if isinstance(s, Params) and not s.shapes_only
            ]
            if others and not spec.host_only:
                yield bad("library", torch.as_tensor(v), TypeError)
                yield bad("dtype", v.astype(np.float32), TypeError)
                on = convert(base, lambda a: strict.asarray(a))
                moved = strict.asarray(v, device=strict.Device("device1"))
                yield Bad(f"{arg}-device", {**on, arg: moved}, TypeError, (arg,))
        elif isinstance(spec, Real):
            for label, value, exc in _real_bad(spec):
                yield bad(label, value, exc)
        elif isinstance(spec, Int):
            yield bad("float", 1.5, TypeError)
            yield bad("bool", True, TypeError)
            yield bad("str", "3", TypeError)
            yield bad("below", spec.minimum - 1, ValueError)
            yield bad("huge", 10**400, ValueError)  # no size or index: not an OverflowError
            if spec.maximum is not None:
                yield bad("above", spec.maximum + 1, ValueError)
        elif isinstance(spec, Choice):
            yield bad("unknown", "bogus", ValueError)
            yield bad("non-str", 3, (TypeError, ValueError))
        elif isinstance(spec, Flag):
            yield bad("int", 1, TypeError)
            yield bad("str", "yes", TypeError)
        elif isinstance(spec, Rng):
            yield bad("seed", 0, TypeError)
            yield bad("none", None, TypeError)
            yield bad("legacy", np.random.RandomState(0), TypeError)
        elif isinstance(spec, (Fn, Opt)):
            yield bad("non-callable", 3, TypeError)
            yield bad("str", "sgd", TypeError)
        elif isinstance(spec, Indices):
            yield bad("out-of-range", [*v[:-1], base_size(contract, spec.of)], ValueError)
            yield bad("negative", [*v[:-1], -1], ValueError)
            yield bad("float", [*v[:-1], 1.5], TypeError)
            yield bad("empty", [], ValueError)
            if spec.length is not None:
                yield bad("relation", v[:-1], ValueError)
        elif isinstance(spec, Params):
            yield bad("type", list(v.values()), TypeError)
            for k in v:
                leaf = v[k]
                for label, value in (("nan", math.nan), ("inf", math.inf)):
                    yield bad(f"{k}-{label}", {**v, k: _with(leaf, value)}, ValueError)
                yield bad(f"{k}-int", {**v, k: leaf.astype(np.int64)}, TypeError)
                yield bad(f"{k}-list", {**v, k: leaf.tolist()}, TypeError)
                if not spec.shapes_only:
                    yield bad(f"{k}-library", {**v, k: torch.as_tensor(leaf)}, TypeError)
            if spec.mlp:  # an MLP's keys are fixed; an optimizer's are the caller's choice
                yield bad("missing-key", dict(list(v.items())[1:]), ValueError)


def base_size(contract: Contract, sym: str) -> int:
    return contract.dims[sym]


def _bad_cases() -> list[tuple[str, str]]:
    return [(name, b.id) for name, c in sorted(CONTRACTS.items()) for b in bad_calls(c)]


@pytest.mark.parametrize(("name", "case"), _bad_cases())
def test_bad_argument_is_refused_by_name(name: str, case: str) -> None:
    contract = CONTRACTS[name]
    (bad,) = [b for b in bad_calls(contract) if b.id == case]
    labels = [a for a, s in contract.args.items() if isinstance(s, Label)]
    names = tuple(bad.kwargs[a] for a in labels) + bad.names if labels else bad.names
    before = snapshot(bad.kwargs)
    with pytest.raises(bad.exc) as info:
        call(contract, bad.kwargs)
    message = str(info.value)
    assert any(n in message for n in names), (
        f"{name}({case}): {type(info.value).__name__}: {message!r} names none of {names}"
    )
    kinds = declared(contract.func)
    if all(n in kinds for n in bad.names):  # dlcore's declared kinds also show the value received
        arg = bad.names[0]
        shows = _shows(case.split("-", 1)[1], bad.kwargs[arg])
        assert shows in message, f"{name}({case}): {message!r} does not show {shows!r}"
    assert_unchanged(before, bad.kwargs, name)


def _shows(label: str, value: Any) -> str:
    """What the message of a declared argument's bad value shows: the value, its type or shape."""
    if isinstance(value, np.ndarray):
        if label == "masked":
            return "MaskedArray"
        if label in ("nan", "inf", "-inf"):
            return label
        if label == "int":
            return "int64"
        if label == "dtype":
            return "float32"
        return str(tuple(value.shape))
    fixed = {
        "list": "list",
        "library": "torch.Tensor",
        "device": "device1",
        "legacy": "RandomState",
    }
    return fixed.get(label, repr(value)[:80])  # a long value is shown cut at 80 characters


def _huge_cases() -> list[tuple[str, str]]:
    return [
        (name, arg)
        for name, c in sorted(CONTRACTS.items())
        for arg, s in c.args.items()
        if isinstance(s, Int) and not s.size
    ]


@pytest.mark.parametrize(("name", "arg"), _huge_cases())
def test_huge_int_is_refused_or_answered_at_once(name: str, arg: str) -> None:
    """An int that is not an output size, at 10^12: a `ValueError` naming it, or an answer within
    the time limit (`call` enforces it). Nothing loops in proportion to such a value."""
    contract = CONTRACTS[name]
    kwargs = {**valid(contract), arg: HUGE}
    start = time.perf_counter()
    try:
        result = call(contract, kwargs)
    except ValueError as err:
        assert arg in str(err), f"{name}({arg}={HUGE}): {err!r} does not name {arg}"
    else:
        assert_finite(result, f"{name}({arg}={HUGE})", contract.nan_ok)
    assert time.perf_counter() - start < TIME_LIMIT_S


# ---- optimizers --------------------------------------------------------------------------------


def _tree(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"w": rng.standard_normal(4), "b": rng.standard_normal((2, 3))}


def _opt_bad_hyper(name: str) -> Iterator[tuple[str, dict[str, Any], Any, str]]:
    o = OPTIMIZERS[name]
    for arg, spec in o.hyper.items():
        if isinstance(spec, Real):
            for label, value, exc in _real_bad(spec):
                yield f"{arg}-{label}", {arg: value}, exc, arg
        elif isinstance(spec, Flag):
            yield f"{arg}-int", {arg: 1}, TypeError, arg
            yield f"{arg}-str", {arg: "yes"}, TypeError, arg
        elif isinstance(spec, Opt):
            yield f"{arg}-non-optimizer", {arg: "adam"}, TypeError, arg


@pytest.mark.parametrize(
    ("name", "case"), [(n, c) for n in sorted(OPTIMIZERS) for c, *_ in _opt_bad_hyper(n)]
)
def test_optimizer_hyperparameter_is_refused_by_name(name: str, case: str) -> None:
    (_, override, exc, arg), *_ = [t for t in _opt_bad_hyper(name) if t[0] == case]
    with pytest.raises(exc, match=arg) as info:
        OPTIMIZERS[name].make(**override)
    shows = repr(override[arg])[:80]  # the message shows the value received, cut at 80 characters
    assert shows in str(info.value), f"{name}({case}): {info.value!r} does not show {shows}"


def _state_leaves(state: Any) -> list[tuple[str, str]]:
    return [
        (f, k) for f in getattr(state, "_fields", ()) if f != "count" for k in getattr(state, f)
    ]


def _replace_leaf(state: Any, field: str, key: str, value: Any) -> Any:
    return state._replace(**{field: {**getattr(state, field), key: value}})


def _step_inputs(name: str, to: Callable[[np.ndarray], Any]) -> tuple[Any, Any, Any, Any]:
    """An optimizer, and grads, state (after one step, so the buffers are not zero) and params."""
    rng = np.random.default_rng(7)
    opt = OPTIMIZERS[name].make()
    params = convert(_tree(rng), to)
    grads = convert(_tree(rng), to)
    state = opt.init(params)
    _, state = opt.update(grads, state, params)
    return opt, convert(_tree(rng), to), state, params


def _opt_bad_steps(name: str) -> Iterator[tuple[str, Callable[[Any, Any, Any], tuple], Any, str]]:
    """(id, mutate(grads, state, params) -> (grads, state, params), exception, name)."""
    _, g0, s0, _ = _step_inputs(name, BACKENDS["numpy"])
    for tree in ("grads", "params"):
        for k in g0:
            for label, value in (("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf)):

                def mut(
                    g: Any, s: Any, p: Any, tree: str = tree, k: str = k, v: float = value
                ) -> tuple:
                    trees = {"grads": dict(g), "params": dict(p)}
                    trees[tree][k] = _with(trees[tree][k], v)
                    return trees["grads"], s, trees["params"]

                yield f"{tree}[{k}]-{label}", mut, ValueError, tree
            yield (
                f"{tree}[{k}]-int",
                lambda g, s, p, tree=tree, k=k: _set(
                    g, s, p, tree, k, lambda a: a.astype(np.int64)
                ),
                TypeError,
                tree,
            )
            yield (
                f"{tree}[{k}]-shape",
                lambda g, s, p, tree=tree, k=k: _set(g, s, p, tree, k, lambda a: a[..., :1]),
                ValueError,
                "grads",  # a shape relation: grads must have the shapes of params
            )
        yield (
            f"{tree}-not-a-dict",
            lambda g, s, p, tree=tree: _set_tree(g, s, p, tree, [1.0]),
            TypeError,
            tree,
        )
    yield (
        "grads-missing-key",
        lambda g, s, p: (dict(list(g.items())[1:]), s, p),
        ValueError,
        "grads",
    )
    yield (
        "grads-library",
        lambda g, s, p: ({k: torch.as_tensor(v) for k, v in g.items()}, s, p),
        TypeError,
        "grads",
    )
    yield (
        "grads-dtype",
        lambda g, s, p: ({k: v.astype(np.float32) for k, v in g.items()}, s, p),
        TypeError,
        "grads",
    )
    for field, k in _state_leaves(s0):
        for label, value in (("nan", math.nan), ("inf", math.inf)):
            yield (
                f"state.{field}[{k}]-{label}",
                lambda g, s, p, f=field, k=k, v=value: (
                    g,
                    _replace_leaf(s, f, k, _with(getattr(s, f)[k], v)),
                    p,
                ),
                ValueError,
                "state",
            )
    if "count" in getattr(s0, "_fields", ()):
        yield (
            "state.count-negative",
            lambda g, s, p: (g, s._replace(count=-1), p),
            ValueError,
            "state",
        )
    yield "state-wrong-type", lambda g, s, p: (g, ("not", "a", "state"), p), TypeError, "state"


def _set(g: Any, s: Any, p: Any, tree: str, k: str, f: Callable[[Any], Any]) -> tuple:
    trees = {"grads": dict(g), "params": dict(p)}
    trees[tree][k] = f(trees[tree][k])
    return trees["grads"], s, trees["params"]


def _set_tree(g: Any, s: Any, p: Any, tree: str, value: Any) -> tuple:
    return (value, s, p) if tree == "grads" else (g, s, value)


def _opt_step_cases() -> list[tuple[str, str, str]]:
    return [
        (n, how, c)
        for n in sorted(OPTIMIZERS)
        for how in ("update", "step", "step-donated")
        for c, *_ in _opt_bad_steps(n)
    ]


@pytest.mark.parametrize(("name", "how", "case"), _opt_step_cases())
def test_optimizer_step_refuses_bad_trees_by_name(name: str, how: str, case: str) -> None:
    """Non-finite, mistyped or misshapen params, grads or state fields are refused by name, by
    `update`, by `step` and by a donated `step`; a refused pure call writes nothing."""
    (mutate, exc, arg) = next((m, e, a) for c, m, e, a in _opt_bad_steps(name) if c == case)
    for to in ("numpy", "torch"):
        opt, grads, state, params = _step_inputs(name, BACKENDS[to])
        if to == "torch":
            if "library" in case or "dtype" in case:
                continue
            mutate_t = _torch_mutation(mutate)
            grads, state, params = mutate_t(grads, state, params)
        else:
            grads, state, params = mutate(grads, state, params)
        before = snapshot((grads, state, params))
        with pytest.raises(exc) as info:
            if how == "update":
                opt.update(grads, state, params)
            else:
                optim.step(opt, grads, state, params, donate=how == "step-donated")
        assert arg in str(info.value), (
            f"{name} {how} {case} on {to}: {info.value!r} does not name {arg}"
        )
        if how != "step-donated":
            assert_unchanged(before, (grads, state, params), f"{name} {how} inputs")
        else:
            assert_unchanged(before[0], grads, f"{name} donated step: grads")


def _torch_mutation(mutate: Callable[..., tuple]) -> Callable[..., tuple]:
    """Apply a NumPy-written mutation to torch trees (through NumPy copies)."""

    def to_np(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x.numpy().copy()
        if isinstance(x, dict):
            return {k: to_np(v) for k, v in x.items()}
        if hasattr(x, "_fields"):
            return type(x)(*(to_np(v) for v in x))
        return x

    def to_t(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return torch.as_tensor(x)
        if isinstance(x, dict):
            return {k: to_t(v) for k, v in x.items()}
        if hasattr(x, "_fields"):
            return type(x)(*(to_t(v) for v in x))
        return x

    def mutate_t(g: Any, s: Any, p: Any) -> tuple:
        return tuple(to_t(x) for x in mutate(to_np(g), to_np(s), to_np(p)))

    return mutate_t


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("backend", ["numpy", "torch", "torch-float32", "strict"])
def test_optimizer_never_writes_the_callers_arrays(name: str, backend: str) -> None:
    """Pure `update` and `step` write nothing; a donated `step` writes only the params and the
    state the optimizer made, never a gradient, even one reused across steps (the buffer of
    `sgd_momentum` used to be the caller's first gradient, later written by a donated step)."""
    opt = OPTIMIZERS[name].make()
    rng = np.random.default_rng(3)
    params = convert(_tree(rng), BACKENDS[backend])
    grads = [convert(_tree(rng), BACKENDS[backend]) for _ in range(3)]
    keep = snapshot(grads)
    p0 = snapshot(params)
    state = opt.init(params)
    s, ps = state, params
    for g in grads:
        _, s = opt.update(g, s, ps)
    assert_unchanged(p0, params, f"{name}: params after update")
    ps, s = params, opt.init(params)
    for g in grads:
        ps, s = optim.step(opt, g, s, ps)
    assert_unchanged(p0, params, f"{name}: params after pure steps")
    ps, s = {k: v * 1 for k, v in params.items()}, opt.init(params)
    for g in grads + grads:  # the same gradient objects again: a reused gradient is never donated
        ps, s = optim.step(opt, g, s, ps, donate=True)
        assert_finite((ps, s), f"{name} donated")
    assert_unchanged(keep, grads, f"{name}: gradients after donated steps")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", sorted(HALF))
def test_optimizer_half_precision_keeps_zero_gradients_finite(name: str, dtype: str) -> None:
    """A zero gradient coordinate in half precision: eps must not round to 0 and give 0/0."""
    opt = OPTIMIZERS[name].make()
    rng = np.random.default_rng(5)
    params = convert(_tree(rng), HALF[dtype])
    g = convert(_tree(rng), HALF[dtype])
    g = {k: v * 0 for k, v in g.items()}
    s = opt.init(params)
    ps = params
    for _ in range(3):
        ps, s = optim.step(opt, g, s, ps)
    assert_finite((ps, s), f"{name} in {dtype}")
    upd, _ = opt.update(g, opt.init(params), params)
    assert_finite(upd, f"{name} update in {dtype}")


_EXTREME_TREES = [(kp, kg) for kp in (0, *EXTREMES["float64"]) for kg in (0, *EXTREMES["float64"])]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize(("kp", "kg"), _EXTREME_TREES[1:])  # (0, 0) is the valid call
def test_optimizer_extreme_finite_trees_give_finite_steps_or_a_value_error(
    name: str, backend: str, kp: int, kg: int
) -> None:
    """Parameters times $2^{k_p}$ and gradients times $2^{k_g}$ (each finite): three steps of
    `update` + `apply_updates`, of `step` (fused, fused and donated, and `fused=False`) end
    with finite parameters and state or raise a `ValueError` (the overflow, by name); never a
    floating-point warning (NumPy's $g^2$ of Adam and RMSProp warned before the `ValueError`)
    or another exception."""
    rng = np.random.default_rng(7)
    params = convert(_times(_tree(rng), math.ldexp(1.0, kp)), BACKENDS[backend])
    grads = convert(_times(_tree(rng), math.ldexp(1.0, kg)), BACKENDS[backend])
    for mode in ("update", "step", "donate", "reference"):
        opt = OPTIMIZERS[name].make()
        ps, s = {k: v * 1 for k, v in params.items()}, None
        try:
            s = opt.init(ps)
            for _ in range(3):
                if mode == "update":
                    upd, s = opt.update(grads, s, ps)
                    ps = optim.apply_updates(ps, upd)
                else:
                    kw = {"donate": mode == "donate", "fused": mode != "reference"}
                    ps, s = optim.step(opt, grads, s, ps, **kw)
        except ValueError:
            continue
        assert_finite((ps, s), f"{name} on {backend}, {mode}, params 2^{kp}, grads 2^{kg}")


@pytest.mark.parametrize(
    "loss",
    [0.25, 1, np.float64(0.25), np.float32(0.25), np.float16(0.25), math.nan, np.float32("nan")],
)
def test_progress_line_reads_a_loss_of_any_real_type(loss: Any) -> None:
    """A loss of any real type (a Python or a NumPy float or int; NaN: not computed) is printed
    as the float it is, to the same digits as Python prints `float(loss)`."""
    line = dlcore.train.progress_line(3, 10, loss, 2.0)
    assert line == f"step  3/10  loss {float(loss):.6e}  |g| {2.0:.6e}"


def test_step_refuses_a_non_optimizer() -> None:
    with pytest.raises(TypeError, match="opt"):
        optim.step("adam", {"w": np.ones(2)}, None, {"w": np.ones(2)})  # type: ignore[arg-type]


def test_init_refuses_bad_params_by_name() -> None:
    for name in sorted(OPTIMIZERS):
        opt = OPTIMIZERS[name].make()
        for bad, exc in (
            ({"w": np.array([1.0, math.nan])}, ValueError),
            ({"w": np.array([1, 2])}, TypeError),
            ({}, ValueError),
            ([np.ones(2)], TypeError),
            ({1: np.ones(2)}, TypeError),
        ):
            with pytest.raises(exc, match="params"):
                opt.init(bad)


# ---- hand-made inputs of the covered classes ----------------------------------------------------


def _models() -> Iterator[tuple[str, Callable[[Any], Any], Any, str]]:
    yield "kernel-bogus", lambda m: m._replace(kernel="bogus"), ValueError, "kernel"
    yield "X-nan", lambda m: m._replace(X=_with(m.X, math.nan)), ValueError, "X"
    yield "alpha-nan", lambda m: m._replace(alpha=_with(m.alpha, math.nan)), ValueError, "alpha"
    yield "alpha-and-w-none", lambda m: m._replace(alpha=None), ValueError, "alpha"
    yield "alpha-rows", lambda m: m._replace(alpha=m.alpha[:-1]), ValueError, "alpha"
    yield "gamma-negative", lambda m: m._replace(gamma=-1.0), ValueError, "gamma"
    yield (
        "degree-huge",
        lambda m: m._replace(kernel="polynomial", degree=HUGE),
        ValueError,
        "degree",
    )
    yield "primal-rbf", lambda m: m._replace(alpha=None, w=m.X[0], kernel="rbf"), ValueError, "w"
    yield "alpha-and-w", lambda m: m._replace(w=m.X[0]), ValueError, "exactly one"
    yield "not-a-model", lambda m: ("rbf", m.X), TypeError, "model"


@pytest.mark.parametrize("case", [c for c, *_ in _models()])
def test_hand_made_kernel_model_is_validated(case: str) -> None:
    """`KernelRidgeModel` is a public NamedTuple, so a caller can build one by hand: predicting
    with it checks every field (a model with `kernel="bogus"` used to predict with the RBF)."""
    contract = CONTRACTS["kernels.kernel_ridge_predict"]
    kw = valid(contract)
    mutate, exc, arg = next((m, e, a) for c, m, e, a in _models() if c == case)
    with pytest.raises(exc, match=arg):
        call(contract, {**kw, "model": mutate(kw["model"])})


def test_outputs_of_covered_classes_are_finite() -> None:
    rng = np.random.default_rng(0)
    sep = dlcore.data.separable_dataset(6, 3, 0.3, rng=rng)
    assert_finite(tuple(sep), "SeparableData")
    contract = CONTRACTS["train.train"]
    hist = call(contract, valid(contract))
    assert [r.t for r in hist.records] == [0, 1, 2]
    assert_finite([(r.loss, r.grad_norm) for r in hist.records], "History.records")


def test_contract_inputs_stay_small() -> None:
    """The contract inputs stay small (the whole test is about 4,000 calls)."""
    total = sum(
        sum(np.asarray(to_numpy(leaf)).size for leaf in leaves(valid(c)) if is_array(leaf))
        for c in CONTRACTS.values()
    )
    assert total < 10_000


# ---- docstrings --------------------------------------------------------------------------------


def _required(name: str) -> dict[str, set[str]]:
    """`{exception name: arguments}` that the generated bad calls of `name` check."""
    req: dict[str, set[str]] = {}
    if name in OPTIMIZERS:
        for _, _, exc, arg in _opt_bad_hyper(name):
            req.setdefault(exc.__name__, set()).add(arg)
        return req
    contract = CONTRACTS[name]
    for b in bad_calls(contract):
        arg = b.id.split("-")[0]
        if isinstance(contract.args.get(arg), (Label, Anything)):
            continue
        excs = b.exc if isinstance(b.exc, tuple) else (b.exc,)
        req.setdefault(excs[-1].__name__, set()).add(arg)
    if not contract.half and _has_arrays(contract):
        req.setdefault("TypeError", set()).add("float16")
    return req


def _raises_entries(doc: str) -> dict[str, str]:
    section = doc.split("Raises:", 1)[1] if "Raises:" in doc else ""
    section = re.split(r"\n\S", "\n" + section.strip("\n"), maxsplit=1)[0]  # up to the next section
    entries = re.split(r"\n\s*(\w+Error):", "\n" + section)
    return {entries[i]: entries[i + 1] for i in range(1, len(entries) - 1, 2)}


@pytest.mark.parametrize("name", sorted(CONTRACTS) + sorted(OPTIMIZERS))
def test_raises_section_lists_what_the_contract_checks(name: str) -> None:
    """Each argument the contract test breaks appears, in backticks, under the exception the
    test expects in the docstring's "Raises:" section (and half precision, where refused)."""
    func = CONTRACTS[name].func if name in CONTRACTS else OPTIMIZERS[name].factory
    doc = inspect.getdoc(func) or ""
    after = doc.split("Raises:", 1)[1].split("\n")[1:] if "Raises:" in doc else []
    block = list(itertools.takewhile(lambda line: not line or line[0].isspace(), after))
    while block and not block[-1]:
        block.pop()
    assert "" not in block, f"{name}: a blank line inside the Raises section breaks its rendering"
    entries = _raises_entries(doc)
    for exc, args in sorted(_required(name).items()):
        assert exc in entries, f"{name}: the docstring's Raises section has no {exc} entry"
        missing = sorted(a for a in args if (f"`{a}`" if a != "float16" else a) not in entries[exc])
        assert not missing, f"{name}: Raises/{exc} does not mention {missing}"


_DECLARED = [n for n in sorted(CONTRACTS) if hasattr(CONTRACTS[n].func, "__contract__")] + [
    n for n in sorted(OPTIMIZERS) if hasattr(OPTIMIZERS[n].factory, "__contract__")
]


@pytest.mark.parametrize("name", _DECLARED)
def test_source_docstring_leaves_the_declared_clauses_to_the_contract(name: str) -> None:
    """`contract` writes each declared argument's clauses into the Raises section; the source
    docstring's own entries name only what the body checks, so no clause is said twice (one
    restated by hand would drift from the declaration)."""
    func = CONTRACTS[name].func if name in CONTRACTS else OPTIMIZERS[name].factory
    source = inspect.getdoc(func.__wrapped__) or ""
    phrases = "is not a real|is not an int|is not a bool|is NaN|is below|is empty|is not one of"
    restated = [k for k in func.__contract__ if re.search(rf"`{k}` ({phrases})", source)]
    assert not restated, f"{name}: the docstring restates the contract's clauses for {restated}"


# ---- autograd ----------------------------------------------------------------------------------


def _leaf_tensor(a: np.ndarray) -> Any:
    return torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize(
    "name", [n for n, c in sorted(CONTRACTS.items()) if _has_arrays(c) and n != "backend.to_numpy"]
)
def test_tensors_that_require_grad_compute_without_warnings_and_backpropagate(name: str) -> None:
    """Every array argument a torch tensor that requires grad: the call gives a finite result
    with no warning (torch warns only once per process unless `set_warn_always`), and where the
    result carries a graph, backpropagating the sum of its entries gives finite gradients on the
    inputs it reaches, at least one of them. (`losses.squared_loss` and `empirical_risk` passed
    their 0-d result through `torch.asarray`, which warns on a tensor that requires grad.)"""
    contract = CONTRACTS[name]
    kwargs = convert(valid(contract), _leaf_tensor)
    inputs = [x for x in leaves(kwargs) if isinstance(x, torch.Tensor)]
    always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = call(contract, kwargs)
    finally:
        torch.set_warn_always(always)
    assert_finite(result, f"{name} with tensors that require grad", contract.nan_ok)
    graph = [x for x in leaves(result) if isinstance(x, torch.Tensor) and x.requires_grad]
    if graph:
        sum(x.sum() for x in graph).backward()
        reached = [x.grad for x in inputs if x.grad is not None]
        assert reached, f"{name}: the result's graph reaches no input"
        assert all(bool(torch.isfinite(g).all()) for g in reached), f"{name}: a non-finite gradient"


@pytest.mark.parametrize("kernel", ["linear", "polynomial", "rbf"])
def test_autograd_through_kernel_ridge_matches_a_torch_oracle(kernel: str) -> None:
    """Gradients flow through `kernel_ridge_fit` and `kernel_ridge_predict` (the RBF fit used to
    add lam I in place to the output of exp, which autograd needs). Oracle: the same predictor
    written test-side in torch (explicit kernel, `torch.linalg.solve`). Both gradients need two
    solves with A = K + lam I (forward and adjoint), each with relative error at most about
    n kappa(A) eps, and the kernel's own rounding; the bound allows 128 n kappa(A) eps relative to
    the largest entry (kappa(A) <= (lambda_max(K) + lam) / lam, computed here). A wrong graph, or
    none, is off by order 1."""
    rng = np.random.default_rng(0)
    X0, y0, Xt0 = rng.standard_normal((6, 3)), rng.standard_normal(6), rng.standard_normal((2, 3))
    lam, gamma, degree, coef0 = 0.5, 0.5, 2, 1.0

    def k(a: Any, b: Any) -> Any:
        if kernel == "linear":
            return a @ b.T
        if kernel == "polynomial":
            return (gamma * (a @ b.T) + coef0) ** degree
        return torch.exp(-gamma * ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    grads = []
    for use_dlcore in (True, False):
        X = torch.tensor(X0, requires_grad=True)
        y, Xt = torch.tensor(y0), torch.tensor(Xt0)
        if use_dlcore:
            model = dlcore.kernels.kernel_ridge_fit(
                X, y, lam, kernel=kernel, gamma=gamma, degree=degree, coef0=coef0, form="dual"
            )
            pred = dlcore.kernels.kernel_ridge_predict(model, Xt)
        else:
            alpha = torch.linalg.solve(k(X, X) + lam * torch.eye(6, dtype=X.dtype), y)
            pred = k(Xt, X) @ alpha
        pred.sum().backward()
        assert X.grad is not None
        grads.append(X.grad.numpy().copy())
    A = k(torch.tensor(X0), torch.tensor(X0)).numpy() + lam * np.eye(6)
    bound = 128 * 6 * np.linalg.cond(A) * np.finfo(np.float64).eps * np.max(np.abs(grads[1]))
    assert np.max(np.abs(grads[0] - grads[1])) <= bound
