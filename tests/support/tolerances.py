"""The one tolerance helper.

Every value comparison in the claim tests goes through `assert_close`. Its tolerance is

    tol = KIND_FACTOR[kind] * dim * eps(dtype) * cond

the first-order error model of a backward-stable computation: a relative error of order
`dim * eps` in the inputs, amplified by the condition number `cond` of the problem. `kind` sets a
small constant for how many such computations are chained (an identity is one solve; an
equivalence compares two independent solves; a convergence claim adds the iteration's own
rounding). Nothing else is allowed to widen it. The error is measured norm-wise,
`||actual - expected|| / scale` with `scale = ||expected||` unless the caller names a reference
scale (for expected values that are exactly zero, such as a null-space component).

A test binds its claim and backend once, `check = Check(CLAIM, backend)`, and then compares with
`check.assert_close(actual, expected, ...)`. A bound derived entry by entry is checked with
`check.assert_entrywise` (two-sided) or `check.assert_at_most` / `check.assert_at_least` (an
inequality that holds exactly and is checked in floats), with the same tolerance, so no test
states a raw slack (`1 + 1e-12`, `pytest.approx`). `check.tolerance(...)` gives the tolerance.

Each call records `error / tol` for the claim report (the "worst observed error relative to
tolerance" column), so a test that passes with room to spare looks different from one at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dlcore.backend import to_numpy

__all__ = [
    "KIND_FACTOR",
    "Check",
    "tolerance",
    "assert_close",
    "record_ratio",
    "observations",
    "reset_observations",
]

KIND_FACTOR: dict[str, float] = {
    "identity": 4.0,
    "equivalence": 8.0,
    "invariant": 8.0,
    "gradient": 8.0,
    "bound": 8.0,
    "convergence": 16.0,
    "statistical": 8.0,
}

_OBS: list[float] = []


def observations() -> list[float]:
    """Ratios error/tolerance recorded since the last reset."""
    return list(_OBS)


def reset_observations() -> None:
    _OBS.clear()


def record_ratio(ratio: float) -> None:
    """Record error/tolerance for a check that does not go through `assert_close` (statistical bands)."""
    _OBS.append(float(ratio))


def tolerance(eps: float, *, kind: str, cond: float = 1.0, dim: int = 1) -> float:
    """`KIND_FACTOR[kind] * dim * eps * cond`."""
    if kind not in KIND_FACTOR:
        raise ValueError(f"kind must be one of {sorted(KIND_FACTOR)}, got {kind!r}")
    if not (cond >= 1 and dim >= 1 and eps > 0):
        raise ValueError(
            f"need cond >= 1, dim >= 1, eps > 0; got cond={cond}, dim={dim}, eps={eps}"
        )
    return KIND_FACTOR[kind] * dim * eps * cond


def _host(x: Any) -> np.ndarray:
    return np.asarray(to_numpy(x), dtype=np.float64)


def assert_close(
    actual: Any,
    expected: Any,
    *,
    claim: str,
    backend: Any,
    kind: str | None = None,
    cond: float = 1.0,
    dim: int | None = None,
    scale: float | None = None,
    what: str = "",
) -> float:
    """Assert `||actual - expected|| <= tol * scale` and return the ratio error/tol.

    Args:
        actual: The value computed by dlcore (any backend).
        expected: The reference value (any backend; compared in float64 on the host).
        claim: The claim id (names the claim in the failure message and picks the default kind).
        backend: The `Backend` that produced `actual` (its dtype sets eps).
        kind: Overrides the claim's kind for the tolerance constant.
        cond: Condition number of the computation (>= 1).
        dim: Dimension factor; defaults to the largest dimension of `expected`.
        scale: Reference magnitude; defaults to `||expected||` (or 1 when that is 0).
        what: What is compared, for the message.
    """
    from spec.registry import load

    kind = kind or load()[claim].kind
    a, e = _host(actual), _host(expected)
    if a.shape != e.shape:
        raise AssertionError(
            f"claim {claim} [{backend}]: {what} shape {a.shape} != expected {e.shape}"
        )
    dim = dim if dim is not None else max([1, *e.shape])
    ref = scale if scale is not None else float(np.linalg.norm(e))
    ref = ref if ref > 0 else 1.0
    err = float(np.linalg.norm(a - e)) / ref
    if not np.all(np.isfinite(a)):
        err = float("inf")
    tol = tolerance(backend.eps, kind=kind, cond=cond, dim=dim)
    ratio = err / tol
    _OBS.append(ratio)
    if not err <= tol:
        raise AssertionError(
            f"claim {claim} [{backend}, {backend.dtype_name}]: {what or 'value'} relative error "
            f"{err:.3e} > tolerance {tol:.3e} = {KIND_FACTOR[kind]:g} ({kind}) x dim {dim} "
            f"x eps {backend.eps:.3e} x cond {cond:.3e}; |expected| = {ref:.3e}"
        )
    return ratio


@dataclass(frozen=True)
class Check:
    """A test's `(claim, backend)`, bound once: the tolerance model for that claim on that backend.

    Attributes:
        claim: The claim id (names it in failure messages; its kind is the default `kind`).
        backend: The `Backend` whose dtype sets eps (`tests.support.backends.HOST` for host checks).
    """

    claim: str
    backend: Any

    def assert_close(self, actual: Any, expected: Any, **model: Any) -> float:
        """`assert_close(actual, expected, claim=self.claim, backend=self.backend, **model)`;
        keywords `kind`, `cond`, `dim`, `scale`, `what` as there."""
        return assert_close(actual, expected, claim=self.claim, backend=self.backend, **model)

    def _entries(self, actual: Any, expected: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        a, e = _host(actual), _host(expected)
        if a.shape != e.shape and 0 in (a.ndim, e.ndim):
            a, e = np.broadcast_arrays(a, e)
        if a.shape != e.shape:
            raise AssertionError(
                f"claim {self.claim} [{self.backend}]: {what} shape {a.shape} != {e.shape}"
            )
        return a, e

    def _judge(
        self, excess: np.ndarray, ref: np.ndarray, tol: float, kind: str, what: str, rel: str
    ) -> float:
        """Record and assert `max(excess / ref) <= tol` (entrywise; NaN never passes)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_excess = np.where(ref > 0, excess / ref, np.where(excess <= 0, 0.0, np.inf))
        ratio = float(np.max(rel_excess, initial=0.0)) / tol
        ratio = ratio if np.all(np.isfinite(excess)) else float("inf")
        _OBS.append(ratio)
        if not ratio <= 1:
            raise AssertionError(
                f"claim {self.claim} [{self.backend}, {self.backend.dtype_name}]: "
                f"{what or 'value'} exceeds its bound by {ratio:.3e} x tolerance {tol:.3e} "
                f"({KIND_FACTOR[kind]:g} ({kind}) x dim x eps {self.backend.eps:.3e} x cond, "
                f"{rel})"
            )
        return ratio

    def _ref(self, e: np.ndarray, scale: Any) -> tuple[np.ndarray, str]:
        if scale is not None:
            ref = np.broadcast_to(np.asarray(scale, dtype=np.float64), e.shape)
            return ref, f"times scale {float(np.max(ref, initial=0.0)):.3e} (largest)"
        return np.abs(e), "relative to each entry"

    def _compare(
        self,
        actual: Any,
        expected: Any,
        excess: Any,
        *,
        kind: str | None = None,
        cond: float = 1.0,
        dim: int = 1,
        scale: float | None = None,
        what: str = "",
    ) -> float:
        kind, tol = self._kind_tol(kind, cond, dim)
        a, e = self._entries(actual, expected, what)
        ref, rel = self._ref(e, scale)
        return self._judge(excess(a, e), ref, tol, kind, what, rel)

    def assert_entrywise(self, actual: Any, expected: Any, **model: Any) -> float:
        """Assert `|actual - expected| <= tol * scale` entry by entry and return the worst ratio.

        The entrywise form of `assert_close`, for a bound derived per entry (a scalar, or every
        coordinate of a vector). Keywords: `kind` (default: the claim's), `cond`, `dim` (default
        1), giving `tol = tolerance(eps, kind, cond, dim)`; `scale`, the absolute reference
        magnitude of an entry (a number, or one per entry); without it each entry is compared
        relative to its own `|expected|`, so an expected 0 must be met exactly, as with a relative
        `pytest.approx`; `what`, for the message.
        """
        return self._compare(actual, expected, lambda a, e: np.abs(a - e), **model)

    def assert_at_most(self, actual: Any, bound: Any, **model: Any) -> float:
        """Assert `actual <= bound + tol * scale` entry by entry (an inequality that holds exactly,
        checked in floats); keywords as in `assert_entrywise` (default scale: each `|bound|`).
        Returns the worst ratio `(actual - bound) / (tol * scale)`, <= 0 when the bound holds."""
        return self._compare(actual, bound, lambda a, b: a - b, **model)

    def assert_at_least(self, actual: Any, bound: Any, **model: Any) -> float:
        """Assert `actual >= bound - tol * scale` entry by entry; as `assert_at_most`."""
        return self._compare(actual, bound, lambda a, b: b - a, **model)

    def _kind_tol(self, kind: str | None, cond: float, dim: int) -> tuple[str, float]:
        from spec.registry import load

        kind = kind or load()[self.claim].kind
        return kind, tolerance(self.backend.eps, kind=kind, cond=cond, dim=dim)

    def underflow(self, amplification: float) -> float:
        """The absolute error that rounding into the subnormal range adds, beyond the relative
        model: IEEE 754 gives `fl(x op y) = (x op y)(1 + delta) + eta`, `|delta| <= eps/2` and
        `|eta| <= sigma/2`, `sigma` the smallest subnormal of the backend's dtype (`eta` is 0
        unless the result is subnormal). `amplification` is the sum, over the operations that
        round, of the factor by which the later operations scale their `eta`; the result is
        `amplification * sigma / 2` (about 7e-46 per unit in float32, 2.5e-324 in float64)."""
        if not amplification >= 0:
            raise ValueError(f"amplification must be >= 0, got {amplification}")
        return amplification * float(np.finfo(self.backend.dtype_name).smallest_subnormal) / 2

    def tolerance(self, *, kind: str | None = None, cond: float = 1.0, dim: int = 1) -> float:
        """`tolerance(backend.eps, kind=kind or the claim's kind, cond=cond, dim=dim)`: the
        relative bound `KIND_FACTOR[kind] * dim * eps * cond` of a check stated by hand."""
        return self._kind_tol(kind, cond, dim)[1]
