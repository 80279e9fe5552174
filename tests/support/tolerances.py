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
`check.assert_close(actual, expected, ...)` and states bounds with `check.tolerance(...)`, the same
model at the backend's eps.

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

    def assert_close(
        self,
        actual: Any,
        expected: Any,
        *,
        kind: str | None = None,
        cond: float = 1.0,
        dim: int | None = None,
        scale: float | None = None,
        what: str = "",
    ) -> float:
        """`assert_close(actual, expected, claim=self.claim, backend=self.backend, ...)`."""
        return assert_close(
            actual,
            expected,
            claim=self.claim,
            backend=self.backend,
            kind=kind,
            cond=cond,
            dim=dim,
            scale=scale,
            what=what,
        )

    def tolerance(self, *, kind: str | None = None, cond: float = 1.0, dim: int = 1) -> float:
        """`tolerance(backend.eps, kind=kind or the claim's kind, cond=cond, dim=dim)`: the
        relative bound `KIND_FACTOR[kind] * dim * eps * cond` of a check stated by hand."""
        from spec.registry import load

        return tolerance(self.backend.eps, kind=kind or load()[self.claim].kind, cond=cond, dim=dim)
