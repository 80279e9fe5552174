r"""Array namespaces, dtypes, devices and argument checks shared by every module.

dlcore is written once against the [array API standard](https://data-apis.org/array-api/):
every function calls `namespace(*arrays)` and uses only the returned namespace `xp`, so the
same code runs on NumPy, torch (CPU or CUDA) and `array_api_strict`. Randomness is not part of
the standard: samplers draw with a `numpy.random.Generator` on the CPU and move the result with
`asarray(..., like=x)`.

This module also holds the argument checks that every public function uses, so that bad input
fails early with a `ValueError` or `TypeError` naming the argument and the value received.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "Array",
    "namespace",
    "asarray",
    "to_numpy",
    "device_of",
    "eps",
    "check_array",
    "check_compatible",
    "check_generator",
    "check_matrix",
    "check_vector_or_matrix",
    "check_rows_match",
    "check_positive",
    "check_nonnegative",
    "check_in_range",
    "check_int",
    "check_finite",
    "check_linalg_dtype",
    "check_bool",
]

Array = Any
"""Any array of a namespace that satisfies the array API (NumPy, torch, array_api_strict)."""


def namespace(*arrays: Array) -> Any:
    r"""Return the array-API namespace shared by `arrays`.

    Args:
        *arrays: Arrays from one library. Python scalars and `None` are ignored.

    Returns:
        The compatible namespace (`array_api_compat.numpy`, `array_api_compat.torch`, ...).

    Raises:
        TypeError: If an argument is not an array, or the arrays come from different libraries or
            live on different devices.
    """
    arrs = [a for a in arrays if a is not None and not isinstance(a, (int, float, bool))]
    if not arrs:
        raise TypeError("expected at least one array, got none")
    for a in arrs:
        if not array_api_compat.is_array_api_obj(a):
            raise TypeError(f"expected an array, got {type(a).__name__}: {a!r:.80}")
    try:
        xp = array_api_compat.array_namespace(*arrs)
    except TypeError as err:
        kinds = sorted({type(a).__module__.split(".")[0] + "." + type(a).__name__ for a in arrs})
        raise TypeError(f"arrays come from different libraries: {', '.join(kinds)}") from err
    devices = {str(array_api_compat.device(a)) for a in arrs}
    if len(devices) > 1:
        raise TypeError(f"arrays live on different devices: {', '.join(sorted(devices))}")
    dtypes = {str(a.dtype) for a in arrs}
    if len(dtypes) > 1:
        raise TypeError(f"arrays have different dtypes: {', '.join(sorted(dtypes))}")
    return xp


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
    check_array("like", like)
    xp = namespace(like)
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
    check_array("x", x)
    xp = namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"x must have a real floating dtype, got {x.dtype}")
    return float(xp.finfo(x.dtype).eps)


def _shape(x: Array) -> tuple[int, ...]:
    return tuple(int(s) for s in x.shape)


def check_array(name: str, x: Any) -> None:
    r"""Require an array of a supported namespace, else raise a `TypeError` naming `name`."""
    if not array_api_compat.is_array_api_obj(x):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}: {x!r:.80}")


def _describe(x: Array) -> str:
    return f"{type(x).__module__.split('.')[0]}.{type(x).__name__}"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def check_compatible(arrays: dict[str, Array]) -> Any:
    r"""Require the named arrays to share one library, device and dtype; return their namespace.

    Args:
        arrays: The arrays, keyed by the argument names to use in error messages.

    Returns:
        The shared array-API namespace.

    Raises:
        TypeError: Naming every argument and its library, device or dtype when they differ.
    """
    for name, a in arrays.items():
        check_array(name, a)
    names = _join(list(arrays))
    axes = (
        ("come from the same library", _describe),
        ("live on the same device", lambda a: str(array_api_compat.device(a))),
        ("have the same dtype", lambda a: str(a.dtype)),
    )
    for what, describe in axes:
        seen = {name: describe(a) for name, a in arrays.items()}
        if len(set(seen.values())) > 1:
            got = ", ".join(f"{name}: {value}" for name, value in seen.items())
            raise TypeError(f"{names} must {what}, got {got}")
    return namespace(*arrays.values())


def check_generator(name: str, rng: Any) -> np.random.Generator:
    r"""Require a `numpy.random.Generator` (not a seed, not a legacy `RandomState`).

    Raises:
        TypeError: If `rng` is not a `numpy.random.Generator`.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator, got {type(rng).__name__}: {rng!r:.80}"
        )
    return rng


def check_matrix(name: str, x: Array, *, finite: bool = True) -> None:
    r"""Require a non-empty, finite, real floating 2-D array, else raise naming `name`.

    Args:
        name: The argument's name, for the error message.
        x: The array.
        finite: Whether to require finite entries (one pass over `x`). A caller that checks
            a result every entry of `x` reaches instead, and names `x` when that fails, passes
            `False`.

    Raises:
        TypeError: If `x` is not a real floating array, or `finite` is not a bool.
        ValueError: If `x` is empty, misshapen or (with `finite`) not finite.
    """
    check_array(name, x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, d), got shape {_shape(x)}")
    _check_float(name, x)
    if check_bool("finite", finite):
        check_finite(name, x)


def check_vector_or_matrix(name: str, x: Array) -> None:
    r"""Require a finite real floating array of shape `(n,)` or `(n, m)`, else raise.

    Raises:
        TypeError: If `x` is not a real floating array.
        ValueError: If `x` is empty, misshapen or not finite.
    """
    check_array(name, x)
    if x.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) or (n, m), got shape {_shape(x)}")
    _check_float_finite(name, x)


def _check_float(name: str, x: Array) -> None:
    if not namespace(x).isdtype(x.dtype, "real floating"):
        raise TypeError(f"{name} must have a real floating dtype, got {x.dtype}")
    if any(s == 0 for s in _shape(x)):
        raise ValueError(f"{name} must not be empty, got shape {_shape(x)}")


def _check_float_finite(name: str, x: Array) -> None:
    _check_float(name, x)
    check_finite(name, x)


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
    try:
        xp = namespace(x)
    except TypeError:
        check_array(name, x)  # names `name`
        raise
    if getattr(x, "requires_grad", False):
        x = x.detach()  # a check, not part of the graph
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing sum is looked into
        total = float(xp.sum(x))
    if math.isfinite(total):
        return
    finite = xp.isfinite(x)
    if bool(xp.all(finite)):
        return
    bad = int(xp.sum(xp.astype(~finite, xp.int64)))
    first = float(np.asarray(to_numpy(x), dtype=np.float64)[~np.asarray(to_numpy(finite))][0])
    raise ValueError(f"{name} must be finite, got {bad} non-finite entries, the first {first!r}")


_HALF = ("float16", "bfloat16")


def check_linalg_dtype(name: str, x: Array) -> None:
    r"""Refuse half precision (`float16`, `bfloat16`) where `x` goes into linear algebra.

    The factorizations (QR, SVD, Cholesky, eigendecompositions) of NumPy and torch exist in
    float32 and float64 only; this says so by name before any work, instead of a library error
    from deep inside a solver.

    Raises:
        TypeError: Naming `name` and its dtype when it is float16 or bfloat16, or if `x` is not an
            array. Other dtypes (integer ones included) pass.
    """
    check_array(name, x)
    dtype = str(x.dtype).removeprefix("torch.")
    if dtype in _HALF:
        raise TypeError(
            f"{name} has dtype {dtype}: linear algebra needs float32 or float64 "
            f"(convert first, e.g. X.float())"
        )


def check_bool(name: str, value: Any) -> bool:
    r"""Require a `bool` (not an int or a string read as truthy) and return it.

    Raises:
        TypeError: If `value` is not a bool.
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}: {value!r:.80}")
    return value


def check_rows_match(name_a: str, a: Array, name_b: str, b: Array) -> None:
    r"""Require `a.shape[0] == b.shape[0]`, else raise a `ValueError` naming both."""
    if int(a.shape[0]) != int(b.shape[0]):
        raise ValueError(
            f"{name_a} and {name_b} must have the same number of rows, "
            f"got {name_a}.shape={_shape(a)} and {name_b}.shape={_shape(b)}"
        )


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def check_positive(name: str, value: Any) -> float:
    r"""Require a finite real `value > 0` and return it as a float.

    Raises:
        TypeError: If `value` is not a real number.
        ValueError: If `value` is NaN, infinite or outside (0, inf).
    """
    v = _check_real(name, value)
    if not v > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def check_nonnegative(name: str, value: Any) -> float:
    r"""Require a finite real `value >= 0` and return it as a float.

    Raises:
        TypeError: If `value` is not a real number.
        ValueError: If `value` is NaN, infinite or outside [0, inf).
    """
    v = _check_real(name, value)
    if not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def check_in_range(
    name: str, value: Any, low: float, high: float, *, low_open: bool, high_open: bool
) -> float:
    r"""Require a finite real `value` in the interval given by `low`, `high` and openness.

    Raises:
        TypeError: If `value` is not a real number; `low_open` is not a bool; `high_open` is not a
            bool.
        ValueError: If `value` is NaN, infinite or outside [0, 1).
    """
    for bound_name, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise TypeError(
                f"check_in_range({name!r}): {bound_name} must be a real number, got {bound!r}"
            )
        if math.isnan(bound):
            raise ValueError(f"check_in_range({name!r}): {bound_name} must not be NaN")
    check_bool("low_open", low_open)
    check_bool("high_open", high_open)
    v = _check_real(name, value)
    ok_low = v > low if low_open else v >= low
    ok_high = v < high if high_open else v <= high
    if not (ok_low and ok_high):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return v


def check_int(name: str, value: Any, *, minimum: int) -> int:
    r"""Require an integer `value >= minimum` and return it.

    Raises:
        TypeError: If `value` is not an int.
        ValueError: If `value` is below 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


_SAFE = 256
"""In float64, entries with $2^{-256} \\le |x| < 2^{256}$ need no rescaling: products of two
of them, summed over any realistic number of terms, stay far inside the range
($2^{\\pm 1022}$). float32 (range $2^{\\pm 126}$) is rescaled outside $2^{\\pm 32}$."""


def _exponent(xp: Any, A: Array) -> int:
    r"""The power of two $e$ such that $2^e A$ has largest entry in $[\tfrac12, 1)$, or 0 when
    $A$ is already in the safe range (no work then: the common case costs one pass for the max).

    Scaling by a power of two is exact (barring subnormals), so a route that solves for
    $2^e A$ and scales back loses nothing, and never overflows or underflows in $A^\top A$
    where the answer is representable.
    """
    m = _scalar(xp.max(xp.abs(A)))
    if m == 0.0:
        return 0
    safe = _SAFE if str(A.dtype).endswith("float64") else 32
    e = math.frexp(m)[1]
    return 0 if -safe <= e <= safe else -e


def _times_pow2(A: Array, e: int) -> Array:
    """`A * 2**e`, in two factors when $2^e$ alone is not a float64 (as for subnormal input)."""
    if e == 0:
        return A
    half = e // 2
    return (A * math.ldexp(1.0, half)) * math.ldexp(1.0, e - half)


def _scalar(x: Array) -> float:
    """A 0-d array as a Python float, outside any autograd graph (no torch warning)."""
    return float(x.detach() if hasattr(x, "detach") else x)
