r"""Array namespaces, dtypes, devices and argument checks shared by every module.

dlcore is written once against the [array API standard](https://data-apis.org/array-api/):
every function calls `namespace(*arrays)` and uses only the returned namespace `xp`, so the
same code runs on NumPy, torch (CPU or CUDA) and `array_api_strict`. Randomness is not part of
the standard: samplers draw with a `numpy.random.Generator` on the CPU and move the result with
`asarray(..., like=x)`.

This module also holds the argument contracts that every public function declares once, with
[`contract`][dlcore.backend.contract] and the kinds [`Arr`][dlcore.backend.Arr],
[`Real`][dlcore.backend.Real], [`Int`][dlcore.backend.Int] and [`Choice`][dlcore.backend.Choice]
(plus `check_bool` and `check_generator`), so that bad input fails early with a `ValueError` or
`TypeError` naming the argument and the value received. The declaration is kept on the function
as `__contract__`, where the contract tests read it.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import re
import sys
import textwrap
from collections.abc import Callable
from typing import Any, TypeVar

import array_api_compat
import numpy as np

__all__ = [
    "Array",
    "namespace",
    "asarray",
    "to_numpy",
    "device_of",
    "eps",
    "contract",
    "Arr",
    "Real",
    "Int",
    "Choice",
    "Knots",
    "check_array",
    "check_compatible",
    "check_generator",
    "check_finite",
    "check_linalg_dtype",
    "check_bool",
    "check_callable",
]

_NUMPY = array_api_compat.array_namespace(np.empty(0))

Array = Any
"""Any array of a namespace that satisfies the array API (NumPy, torch, array_api_strict)."""


def namespace(*arrays: Array) -> Any:
    r"""Return the array-API namespace shared by `arrays`.

    Args:
        *arrays: Arrays from one library. Python scalars and `None` are ignored.

    Returns:
        The compatible namespace (`array_api_compat.numpy`, `array_api_compat.torch`, ...).

    Raises:
        TypeError: If an argument is not an array, or the arrays come from different libraries,
            live on different devices or have different dtypes (naming them `arrays[i]`).
    """
    arrs = [a for a in arrays if a is not None and not isinstance(a, (int, float, bool))]
    if not arrs:
        raise TypeError("expected at least one array, got none")
    return check_compatible({f"arrays[{i}]": a for i, a in enumerate(arrs)})


def asarray(x: Any, *, like: Array | None = None, dtype: Any = None) -> Array:
    r"""Convert `x` to an array of the namespace, dtype and device of `like`.

    Args:
        x: Anything NumPy can convert (lists, NumPy arrays, scalars), or an array.
        like: Reference array. Without it the result is a NumPy array.
        dtype: Dtype of the result; defaults to the dtype of `like`, or of `x`.

    Returns:
        The converted array.

    Raises:
        TypeError: If `like` is given and is not an array.
    """
    if like is None:
        return np.asarray(x, dtype=dtype)
    xp = check_compatible({"like": like})
    host = np.asarray(to_numpy(x) if array_api_compat.is_array_api_obj(x) else x)
    return xp.asarray(
        host,
        dtype=like.dtype if dtype is None else dtype,
        device=array_api_compat.device(like),
    )


def to_numpy(x: Array) -> np.ndarray:
    r"""The values of an array of any supported namespace as a NumPy array on the host.

    Not always a copy: a NumPy array is returned as it is, and a torch CPU tensor shares its
    memory with the result. Copy the result (`np.array(to_numpy(x))`) before writing to it.
    NumPy has no bfloat16, so a torch bfloat16 tensor comes back as a float32 copy (exact).

    Anything else (a list, a float) goes through `np.asarray`.
    """
    if isinstance(x, np.ndarray):
        return x
    if not array_api_compat.is_array_api_obj(x):
        return np.asarray(x)
    if array_api_compat.is_torch_array(x):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        return x.numpy()
    if array_api_compat.is_array_api_strict_namespace(array_api_compat.array_namespace(x)):
        x = x.to_device(type(x.device)("CPU_DEVICE"))  # its non-CPU devices refuse np.asarray
    return np.asarray(x)


def device_of(x: Array) -> Any:
    r"""Return the device of `x`, as `array_api_compat.device` reports it.

    Raises:
        TypeError: If `x` is not an array.
    """
    check_array("x", x)
    return array_api_compat.device(x)


def eps(x: Array) -> float:
    r"""Machine epsilon $\varepsilon$ of the floating dtype of `x` (e.g. $2^{-52}$ for float64).

    Raises:
        TypeError: If `x` is not a real floating array.
    """
    xp = check_compatible({"x": x})
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"x must have a real floating dtype, got {x.dtype}")
    return float(xp.finfo(x.dtype).eps)


def _shape(x: Array) -> tuple[int, ...]:
    return tuple(int(s) for s in x.shape)


def check_array(name: str, x: Any) -> None:
    r"""Require an array of a supported namespace, else raise a `TypeError` naming `name`.

    A `numpy.ma.MaskedArray` is refused too: some NumPy functions honour its mask and others
    (linear algebra among them) read the masked entries, so a result would mix the two silently.
    """
    _expect(array_api_compat.is_array_api_obj(x), name, "an array", x)
    if type(x) is not np.ndarray and isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{name} must be an array without a mask, got a numpy.ma.MaskedArray (fill or "
            f"compress it first: {name}.filled(value) or {name}.compressed())"
        )


def _host(name: str, x: Any) -> np.ndarray:
    """`x` (an array of any library, a list or a number) as a float64 NumPy array, by name."""
    if isinstance(x, np.ma.MaskedArray):
        check_array(name, x)  # refused: its mask would be dropped here
    try:
        return np.asarray(to_numpy(x), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must hold real numbers, got {type(x).__name__}: {x!r:.80}"
        ) from err


_F = TypeVar("_F", bound=Callable[..., Any])


def _expect(ok: bool, name: str, what: str, value: Any) -> None:
    """Raise the `TypeError` "`name` must be `what`, got `type: value`" unless `ok`."""
    if not ok:
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}: {value!r:.80}")


def _describe(x: Array) -> str:
    return f"{type(x).__module__.split('.')[0]}.{type(x).__name__}"


def check_compatible(arrays: dict[str, Array]) -> Any:
    r"""Require the named arrays to share one library, device and dtype; return their namespace.

    Args:
        arrays: The arrays, keyed by the argument names to use in error messages.

    Returns:
        The shared array-API namespace.

    Raises:
        TypeError: Naming the argument that is not an array, or every argument and its library,
            device or dtype when they differ.
    """
    if all(type(a) is np.ndarray for a in arrays.values()):  # the common case, without dispatch
        if len({a.dtype for a in arrays.values()}) == 1:
            return _NUMPY
    for name, a in arrays.items():
        check_array(name, a)
    axes = (
        ("come from the same library", "libraries", _describe),
        ("live on the same device", "devices", lambda a: str(array_api_compat.device(a))),
        ("have the same dtype", "dtypes", lambda a: str(a.dtype)),
    )
    for what, plural, describe in axes:
        seen = {name: describe(a) for name, a in arrays.items()}
        if len(set(seen.values())) > 1:
            *rest, last = arrays
            got = ", ".join(f"{name}: {value}" for name, value in seen.items())
            raise TypeError(
                f"{', '.join(rest)} and {last} must {what}, got different {plural}: {got}"
            )
    return array_api_compat.array_namespace(*arrays.values())


def check_generator(name: str, rng: Any) -> np.random.Generator:
    r"""Require a `numpy.random.Generator` (not a seed, not a legacy `RandomState`).

    Raises:
        TypeError: If `rng` is not a `numpy.random.Generator`.
    """
    _expect(isinstance(rng, np.random.Generator), name, "a numpy.random.Generator", rng)
    return rng


check_generator.refuses = ("is not a `numpy.random.Generator`", "")  # type: ignore[attr-defined]  # see contract


def check_finite(name: str, x: Array) -> None:
    r"""Require every entry of the array `x` to be finite, else raise naming `name`.

    One pass over `x` in the common case: a finite sum means every entry is finite (a NaN or an
    infinity makes the sum non-finite). Only when the sum is not finite, which an overflow of
    finite entries can also cause, does it look at the entries one by one. Any shape passes,
    the empty one included, and integer and bool arrays are always finite.

    Raises:
        TypeError: If `x` is not an array (naming `name`).
        ValueError: If `x` is not finite: naming `name`, the number of non-finite entries and the
            first of them.
    """
    xp = check_compatible({name: x})
    if _all_finite(xp, x):
        return
    x = x.detach() if getattr(x, "requires_grad", False) else x
    finite = xp.isfinite(x)
    bad = int(xp.sum(xp.astype(~finite, xp.int64)))
    first = float(np.asarray(to_numpy(x), dtype=np.float64)[~np.asarray(to_numpy(finite))][0])
    raise ValueError(f"{name} must be finite, got {bad} non-finite entries, the first {first!r}")


def _all_finite(xp: Any, x: Array) -> bool:
    """Whether every entry of `x` is finite, in one reduction in the common case (see
    `check_finite`)."""
    if getattr(x, "requires_grad", False):
        x = x.detach()  # a check, not part of the graph
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing sum is looked into
        total = float(xp.sum(x))
    return math.isfinite(total) or bool(xp.all(xp.isfinite(x)))


def _overflowed(out: Any) -> str | None:
    """The dtype of the first leaf of `out` (an array, a number, or dicts, tuples and lists of
    them) with a non-finite entry; `None` when every entry is finite."""
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (tuple, list)):
        return next((d for d in map(_overflowed, out) if d is not None), None)
    if isinstance(out, (float, complex, np.number)):
        return None if np.isfinite(out) else str(np.asarray(out).dtype)
    array = array_api_compat.is_array_api_obj(out)  # else an int or a str: nothing to overflow
    return str(out.dtype) if array and not _all_finite(namespace(out), out) else None


def _refuse_overflow(out: Any, fn: str, inputs: str) -> Any:
    """Return `out` when every entry is finite; else raise a `ValueError` naming `fn`, the
    `inputs` (finite, checked before) and the dtype the result overflowed."""
    dtype = _overflowed(out)
    if dtype is not None:
        raise ValueError(f"{fn} overflowed {dtype}: {inputs}, but too large for the result to be")
    return out


def _finite_result(fn: _F) -> _F:
    """Decorate `fn` to return only finite results: its body runs with NumPy's floating-point
    warnings off, and a result with a non-finite entry (from the finite arguments that the
    contract has checked) is an overflow, refused with a `ValueError` that names the function
    and its float arguments."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = fn(*args, **kwargs)
        if _overflowed(out) is None:
            return out
        given = signature.bind(*args, **kwargs).arguments.items()
        names = [k for k, v in given if isinstance(v, (float, dict, tuple)) or hasattr(v, "dtype")]
        inputs = f"{_listing(names, 'and')} {'are' if names[1:] else 'is'} finite"
        return _refuse_overflow(out, fn.__name__, inputs)

    checked.__finite__ = True  # type: ignore[attr-defined]  # read by contract's documentation
    return checked  # type: ignore[return-value]


def check_linalg_dtype(name: str, x: Array) -> None:
    r"""Refuse half precision (`float16`, `bfloat16`) and NumPy's `longdouble` where `x` goes
    into linear algebra.

    The factorizations (QR, SVD, Cholesky, eigendecompositions) of NumPy and torch exist in
    float32 and float64 only; this says so by name before any work, instead of a library error
    from deep inside a solver.

    Raises:
        TypeError: Naming `name` and its dtype when it is float16, bfloat16 or longdouble, or if
            `x` is not an array. Other dtypes (integer ones included) pass.
    """
    check_array(name, x)
    dtype = str(x.dtype).removeprefix("torch.")
    if dtype in ("float16", "bfloat16", "float96", "float128"):  # the last two: NumPy's longdouble
        raise TypeError(
            f"{name} has dtype {dtype}: linear algebra needs float32 or float64 "
            f"(convert first, e.g. X.float() or X.astype(numpy.float64))"
        )


def check_bool(name: str, value: Any) -> bool:
    r"""Require a `bool` (not an int or a string read as truthy) and return it.

    Raises:
        TypeError: If `value` is not a bool.
    """
    _expect(isinstance(value, bool), name, "a bool", value)
    return value


check_bool.refuses = ("is not a bool", "")  # type: ignore[attr-defined]  # see contract


def check_callable(name: str, fn: Any) -> Any:
    r"""Require a callable and return it.

    Raises:
        TypeError: If `fn` is not callable.
    """
    _expect(callable(fn), name, "callable", fn)
    return fn


check_callable.refuses = ("is not callable", "")  # type: ignore[attr-defined]  # see contract


def _check_real(name: str, value: Any) -> float:
    real = type(value) is float or isinstance(value, numbers.Real)  # a Fraction too; not a bool
    _expect(real and not isinstance(value, bool), name, "a real number", value)
    try:
        v = float(value)
    except OverflowError:  # an int beyond the range of a float
        v = math.inf
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r:.80}")
    return v


# ---- declared argument contracts ---------------------------------------------------------------


def contract(*groups: dict[str, Any], **kinds: Callable[..., Any]) -> Callable[[_F], _F]:
    r"""Declare the kind of each argument of a function once; check them at every call.

    `@contract(X=Arr("n d"), y=Arr("n", "n m"), lam=Real(0))` checks, before the body runs, each
    declared argument in order (a kind is called as `kind(name, value)` and returns the value,
    converted: a real to a float, an int to an int), then the shape relations of the arrays (a
    symbol shared by two of them) and that the arrays come from one library, device and dtype.
    The body receives the converted values. An argument whose default is `None` may be `None`.
    Every failure is a `TypeError` or `ValueError` naming the argument and the value received.
    The declaration stays on the function as `__contract__`. Shared declarations (`_XY`) come
    first as dicts, merged in order with the keywords.

    The declaration also writes the function's documentation of what it refuses: each kind's
    clause (`refuses`) is added to the docstring's Raises section, after what the docstring says
    itself (its own Raises entries name only the checks the body makes).
    """
    kinds = {k: v for g in groups for k, v in g.items()} | kinds

    def decorate(fn: _F) -> _F:
        params = inspect.signature(fn).parameters
        names = tuple(params)
        if set(kinds) - set(names):
            raise TypeError(f"{fn.__name__} has no parameters {sorted(set(kinds) - set(names))}")
        defaults = {k: p.default for k, p in params.items() if p.default is not p.empty}
        items = tuple((k, kind, isinstance(kind, Arr)) for k, kind in kinds.items())
        joint = tuple(k for k, kind, arr in items if arr and kind.joint)  # type: ignore[attr-defined]

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            vals = dict(zip(names, args, strict=False))
            if len(args) > len(names) or (kwargs and not vals.keys().isdisjoint(kwargs)):
                return fn(*args, **kwargs)  # the call's own TypeError
            vals.update(kwargs)
            dims: dict[str, Any] = {}
            for name, kind, arr in items:
                v = vals.get(name, defaults.get(name, inspect.Parameter.empty))
                if v is None and name in defaults and defaults[name] is None:
                    continue
                if v is inspect.Parameter.empty:
                    return fn(*args, **kwargs)  # a missing argument: the call's own TypeError
                vals[name] = kind(name, v, dims) if arr else kind(name, v)
            arrays = {k: vals[k] for k in joint if vals.get(k) is not None}
            if len(arrays) > 1:
                check_compatible(arrays)
            return fn(**vals)

        checked.__contract__ = kinds  # type: ignore[attr-defined]
        finite = getattr(fn, "__finite__", False)
        checked.__doc__ = _document(inspect.cleandoc(fn.__doc__ or ""), kinds, finite)
        return checked  # type: ignore[return-value]

    return decorate


def _listing(words: list[str], last: str) -> str:
    """`a`, `a or b`, `a, b or c` (with `last` = "or")."""
    return f"{', '.join(words[:-1])} {last} {words[-1]}" if words[1:] else "".join(words)


def _clauses(kinds: dict[str, Any]) -> dict[str, list[str]]:
    """The Raises clauses of a declaration, from what each kind `refuses` (a pair: the
    `TypeError`'s phrase, the `ValueError`'s); arguments refused alike share one clause."""
    said: dict[str, dict[str, list[str]]] = {"TypeError": {}, "ValueError": {}}
    for k, kind in kinds.items():
        for exc, says in zip(said, getattr(kind, "refuses", ()), strict=False):
            if says:
                said[exc].setdefault(says, []).append(f"`{k}`")
    joint = [f"`{k}`" for k, kind in kinds.items() if getattr(kind, "joint", False)]
    differ = [f"{_listing(joint, 'and')} differ in library, device or dtype"] if joint[1:] else []
    type_, value = (
        [f"{_listing(ks, 'or')} {says}" for says, ks in d.items()] for d in said.values()
    )
    return {"TypeError": type_ + differ, "ValueError": value}


def _document(doc: str, kinds: dict[str, Any], finite: bool = False) -> str:
    """`doc` with the declaration's clauses after its own Raises entries (see `contract`), and
    the overflow clause of a `_finite_result` function (`finite`) where `doc` has none."""
    head, _, rest = doc.partition("\nRaises:\n")
    block = re.match(r"(?: .*(?:\n|$))*", rest).group()  # type: ignore[union-attr]  # always
    own = dict(re.findall(r"^ *(\w+Error): ?(.*)", re.sub(r"\n {5,}", " ", block), re.M))
    said, entries = _clauses(kinds), []
    if finite and "overflow" not in own.get("ValueError", ""):
        said["ValueError"].append("the result overflows the dtype (finite arguments too large)")
    wrap = functools.partial(textwrap.fill, initial_indent=" " * 4, subsequent_indent=" " * 8)
    for exc in [*said, *(e for e in own if e not in said)]:
        text = own.get(exc, "")
        text += f"{' Also if' if text else 'If'} {'; '.join(said[exc])}." if said.get(exc) else ""
        entries += [wrap(f"{exc}: {text.strip()}", 96)] if text else []
    section = "\n\nRaises:\n" + "\n".join(entries) if entries else ""
    return f"{head.rstrip()}{section}\n{rest[len(block) :]}".strip()


def _render(shape: tuple[str, ...]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(shape)})"


class Arr:
    r"""The kind of a real floating array argument, declared by its admitted shapes.

    Each shape is a string of symbols: `Arr("n d")` is a matrix, `Arr("n", "n m")` a vector or a
    matrix. A symbol shared by two arguments of one [`contract`][dlcore.backend.contract] (or by
    two axes of one) is a shape relation; a digit is a fixed size. Without shapes any shape
    passes, the empty one included; a shaped array must be non-empty unless `empty`.

    Args:
        *shapes: The admitted shapes, at most one per number of dimensions.
        finite: Refuse non-finite entries here; `False` where the body checks what it reads and
            names the argument itself.
        linalg: Refuse half precision (the array goes into a factorization).
        joint: Require the library, device and dtype of the contract's other joint arrays.
        empty: Admit a size 0 along a shaped axis (an MLP's layer pruned to width 0).
    """

    def __init__(
        self,
        *shapes: str,
        finite: bool = True,
        linalg: bool = False,
        joint: bool = True,
        empty: bool = False,
    ) -> None:
        self.shapes = tuple(tuple(s.split()) for s in shapes)
        self.finite, self.linalg, self.joint, self.empty = finite, linalg, joint, empty
        flaws = (("empty", shapes and not empty), ("misshapen", shapes), ("not finite", finite))
        faults = _listing([f for f, on in flaws if on], "or")
        half = ", or is float16, bfloat16 or longdouble (linear algebra needs float32 or float64)"
        kind = f"is not a real floating array, or is masked{half * linalg}"
        self.refuses = (kind, faults and f"is {faults}")
        self.by_ndim = {len(s): s for s in self.shapes}
        syms = dict.fromkeys(x for s in self.shapes for x in s)
        self.absent = {k: [x for x in syms if x not in s] for k, s in self.by_ndim.items()}
        ds = [_render(s) for s in self.shapes]
        one = f"be {len(self.shapes[0])}-D {ds[0]}" if len(ds) == 1 else ""
        self.wording = one or f"have shape {' or '.join(ds)}"

    def __call__(self, name: str, x: Any, dims: dict[str, Any] | None = None) -> Array:
        r"""Check `x` as the argument `name` (binding its shape's symbols in `dims`); return it.

        Raises:
            TypeError: If `x` is not a real floating array, is a masked array, or (with
                `linalg`) is half precision or longdouble.
            ValueError: If `x` is misshapen, empty, not finite or breaks a shape relation.
        """
        check_array(name, x)
        shape = _shape(x)
        pick = self.by_ndim.get(len(shape), ())
        if self.shapes and not pick:
            raise ValueError(f"{name} must {self.wording}, got shape {shape}")
        if not namespace(x).isdtype(x.dtype, "real floating"):
            raise TypeError(f"{name} must have a real floating dtype, got {x.dtype}")
        if self.shapes and 0 in shape and not self.empty:
            raise ValueError(f"{name} must not be empty, got shape {shape}")
        if self.linalg:
            check_linalg_dtype(name, x)
        if self.finite:
            check_finite(name, x)
        dims = {} if dims is None else dims
        for axis, sym in [*enumerate(pick), *((-1, s) for s in self.absent.get(len(pick), ()))]:
            _bind(dims, sym, name, axis, shape, pick)
        return x


def _bind(dims: dict[str, Any], sym: str, name: str, axis: int, shape: Any, pick: Any) -> None:
    """Bind `sym` to axis `axis` of `name` (-1: its shape lacks `sym`), or raise on a conflict."""
    if sym.isdigit():
        if shape[axis] != int(sym):
            raise ValueError(f"{name} must have shape {_render(pick)}, got shape {shape}")
        return
    other, j, was = dims.setdefault(sym, (name, axis, shape))
    if (j < 0) == (axis < 0) and (axis < 0 or was[j] == shape[axis]):
        return
    if other == name:
        raise ValueError(f"{name} must have shape {_render(pick)}, got shape {shape}")
    got = f"got {other}.shape={was} and {name}.shape={shape}"
    if (j < 0) != (axis < 0):
        raise ValueError(f"{other} and {name} must both have an axis {sym} or neither, {got}")
    raise ValueError(
        f"{other} and {name} must have the same size {sym} ({other}.shape[{j}] and "
        f"{name}.shape[{axis}]), {got}"
    )


class Knots(Arr):
    r"""The kind of strictly increasing knots: a 1-D array of shape `(k,)` or `(k+1,)`, $k \ge 1$.

    Args:
        *shapes: One shape, `"k"` ($t_1 < \dots < t_k$) or `"k+1"` ($t_0 < \dots < t_k$); a
            symbol, so `values=Arr("k+1")` must have the shape of the knots.
    """

    def __init__(self, *shapes: str) -> None:
        super().__init__(*shapes)
        not_increasing = "is empty, misshapen, too short, not finite or not strictly increasing"
        self.refuses = (self.refuses[0], not_increasing)

    def __call__(self, name: str, x: Any, dims: dict[str, Any] | None = None) -> Array:
        super().__call__(name, x, dims)
        (shape,) = self.shapes
        if int(x.shape[0]) < (2 if shape == ("k+1",) else 1):
            raise ValueError(
                f"{name} must have shape {_render(shape)} with k >= 1, got {_shape(x)}"
            )
        if not bool(namespace(x).all(x[1:] - x[:-1] > 0)):
            raise ValueError(f"{name} must be strictly increasing, got a gap <= 0")
        return x


_XY = {"X": Arr("n d", linalg=True), "y": Arr("n", "n m")}
"""A regression's data and targets, as the solvers take them: `X` of shape `(n, d)` and `y` of
shape `(n,)` or `(n, m)` with as many rows, `X` not in half precision."""

_WXY = {"w": Arr("d", "d m"), "X": Arr("n d"), "y": Arr("n", "n m")}
"""A linear model's weights, data and targets: `Xw` has the shape of `y`."""


class Real:
    r"""The kind of a finite real scalar in an interval (ends closed unless declared open).

    `Real(0)` is $[0, \infty)$, `Real(0, low_open=True)` is $(0, \infty)$, `Real(0.0, 1.0,
    high_open=True)` is $[0, 1)$. A bool, a string or `None` is a `TypeError`; NaN, an infinity
    or a value outside the interval a `ValueError`. Called, it returns the value as a float.
    """

    def __init__(
        self,
        low: float = -math.inf,
        high: float = math.inf,
        *,
        low_open: bool = False,
        high_open: bool = False,
    ) -> None:
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        lo = f"{'>' if low_open else '>='} {low}"
        hi = f"{'<' if high_open else '<='} {high}"
        finite = (math.isfinite(low), math.isfinite(high))
        interval = f"{'(' if low_open or not finite[0] else '['}{low:g}, {high:g}"
        interval += ")" if high_open or not finite[1] else "]"
        self.wording = {(True, False): f"be {lo}", (False, True): f"be {hi}"}.get(
            finite, f"lie in {interval}"
        )
        outside = f"is NaN, infinite or outside {interval}" if any(finite) else "is NaN or infinite"
        self.refuses = ("is not a real number", outside)

    def __call__(self, name: str, value: Any) -> float:
        v = _check_real(name, value)
        ok_low = v > self.low if self.low_open else v >= self.low
        ok_high = v < self.high if self.high_open else v <= self.high
        if not (ok_low and ok_high):
            raise ValueError(f"{name} must {self.wording}, got {value!r}")
        return v


_POSITIVE = Real(0, low_open=True)
r"""A step size, a scale or a rate: $(0, \infty)$."""

_DECAY = Real(0.0, 1.0, high_open=True)
r"""A decay or momentum coefficient ($\mu$, $b_1$, $b_2$, $\alpha$, $\tau$): $[0, 1)$."""

_WEIGHT = Real(0.0, 1.0, low_open=True)
r"""The lecture's EMA weight $\beta$ on the new input: $(0, 1]$."""


class Int:
    r"""The kind of an int `>= minimum` and `<= maximum`; not a bool, not a float.

    `maximum` defaults to `sys.maxsize`, the largest size or index an array can have: a larger
    int is refused by name rather than overflowing inside NumPy or a float conversion.

    `size=True` declares an int that sizes the output or the work asked for (`n`, `steps`): the
    call may take time in proportion to it. Every other int is answered at once at any value, or
    refused. Called, it returns the value as an int.
    """

    def __init__(self, minimum: int, maximum: int | None = None, *, size: bool = False) -> None:
        self.minimum, self.size = minimum, size
        self.maximum = sys.maxsize if maximum is None else maximum  # beyond: no size, no index
        above = "sys.maxsize" if maximum is None else maximum
        self.refuses = ("is not an int", f"is below {minimum} or above {above}")

    def __call__(self, name: str, value: Any) -> int:
        integer = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        _expect(integer, name, "an int", value)
        if int(value) < self.minimum:
            raise ValueError(f"{name} must be >= {self.minimum}, got {value!r}")
        if int(value) > self.maximum:
            raise ValueError(f"{name} must be <= {self.maximum}, got {value!r:.80}")
        return int(value)


class Choice:
    r"""The kind of a string argument that is one of `options`."""

    def __init__(self, *options: str) -> None:
        self.options = options
        self.refuses = ("", f"is not one of {', '.join(map(repr, options))}")

    def __call__(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.options:
            raise ValueError(f"{name} must be one of {self.options}, got {value!r}")
        return value


_SAFE = 256
"""In float64, entries with $2^{-256} \\le |x| < 2^{256}$ need no rescaling: products of two
of them, summed over any realistic number of terms, stay far inside the range
($2^{\\pm 1022}$). float32 (range $2^{\\pm 126}$) is rescaled outside $2^{\\pm 32}$."""


def _exponent(xp: Any, A: Array, *more: Array) -> int:
    r"""The power of two $e$ such that $2^e A$ has largest entry in $[\tfrac12, 1)$, or 0 when
    $A$ is already in the safe range (no work then: the common case costs one pass for the max).
    With `more` arrays, the largest entry of them all.

    Scaling by a power of two is exact (barring subnormals), so a route that solves for
    $2^e A$ and scales back loses nothing, and never overflows or underflows in $A^\top A$
    where the answer is representable.
    """
    m = max(_scalar(xp.max(xp.abs(x))) for x in (A, *more))
    if m == 0.0:
        return 0
    safe = _SAFE if str(A.dtype).endswith("float64") else 32
    e = math.frexp(m)[1]
    return 0 if -safe <= e <= safe else -e


def _in_range(xp: Any, A: Array) -> Array:
    """`A` times the power of two `_exponent` gives (`A` itself inside the safe range): for the
    routes whose answer is unchanged by an exact rescaling of their input."""
    return _times_pow2(A, _exponent(xp, A))


def _times_pow2(A: Array, e: int) -> Array:
    """`A * 2**e`, in two factors when $2^e$ alone is not a float64 (as for subnormal input), and
    in more when it is beyond two (where every nonzero entry leaves the range)."""
    if e == 0:
        return A
    big = 1000 if str(A.dtype).endswith("float64") else 100  # 2^big is a float of A's dtype
    while abs(e) > 2 * big:  # far beyond the range, where A goes to 0 or infinity
        step = big if e > 0 else -big
        A, e = A * math.ldexp(1.0, step), e - step
    half = e // 2
    return (A * math.ldexp(1.0, half)) * math.ldexp(1.0, e - half)


def _scalar(x: Array) -> float:
    """A 0-d array as a Python float, outside any autograd graph (no torch warning)."""
    return float(x.detach() if hasattr(x, "detach") else x)
