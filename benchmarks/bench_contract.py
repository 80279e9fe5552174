"""The per-call cost of `@dlcore.backend.contract` over the checks it runs (issue 14: <= 2 us).

Each case calls a no-op body declared with a contract (`dlcore`) and the same kinds called by
hand, in order, followed by the same `check_compatible` (`reference`): the difference of the two
times is what the declarative layer costs per call (binding the arguments, the loop over the
kinds, the shape relations, the call of the body). The column `overhead_us` reports it; both
sides check the same NumPy float64 arrays, so the checks themselves cancel.
"""

from __future__ import annotations

import math
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.harness import Case
from dlcore.backend import _WXY, _XY, Arr, Choice, Int, Real, check_compatible, contract


def _by_hand(kinds: dict[str, Any]) -> Callable[..., Any]:
    """The kinds called one after the other, as a function would have checked inline."""
    arrays = [k for k, v in kinds.items() if isinstance(v, Arr) and v.joint]

    def run(**kw: Any) -> None:
        dims: dict[str, Any] = {}
        for name, kind in kinds.items():
            kw[name] = kind(name, kw[name], dims) if isinstance(kind, Arr) else kind(name, kw[name])
        if len(arrays) > 1:
            check_compatible({k: kw[k] for k in arrays})

    return run


def _case(body: Callable[..., None], kinds: dict[str, Any], kwargs: dict[str, Any]) -> Case:
    declared = contract(kinds)(body)
    inline = _by_hand(kinds)

    def overhead() -> float:
        """Microseconds per call: the best of 50 interleaved rounds of 1,000 calls each side (a
        shared machine's noise only adds time, so the minimum is the cost)."""
        a = b = math.inf
        for _ in range(50):
            a = min(a, timeit.timeit(lambda: declared(**kwargs), number=1000) / 1000)
            b = min(b, timeit.timeit(lambda: inline(**kwargs), number=1000) / 1000)
        return 1e6 * (a - b)

    return Case(
        group="contract overhead",
        name=f"{body.__name__[1:]}({', '.join(kinds)})",
        dlcore=lambda: declared(**kwargs),
        reference=lambda: inline(**kwargs),
        reference_name="the same checks inline",
        extra_fn={"overhead_us": overhead},
    )


def _ridge(X: Any, y: Any, lam: Any) -> None:
    """A body that does nothing: the time is the contract's."""


def _ridge_grad(w: Any, X: Any, y: Any, lam: Any) -> None:
    """A body that does nothing: the time is the contract's."""


def _scalars(n: Any, lam: Any, form: Any) -> None:
    """A body that does nothing: the time is the contract's."""


def cases(quick: bool) -> list[Case]:
    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((20, 5)), rng.standard_normal(20), rng.standard_normal(5)
    return [
        _case(_ridge, {**_XY, "lam": Real(0)}, {"X": X, "y": y, "lam": 0.5}),
        _case(_ridge_grad, {**_WXY, "lam": Real(0)}, {"w": w, "X": X, "y": y, "lam": 0.5}),
        _case(
            _scalars,
            {"n": Int(1), "lam": Real(0), "form": Choice("a", "b")},
            {"n": 3, "lam": 0.5, "form": "a"},
        ),
    ]
