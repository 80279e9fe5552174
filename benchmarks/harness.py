"""The benchmark harness: a `Case` pairs a dlcore callable with a reference callable."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case", "best_time", "paired_best_times"]


@dataclass(frozen=True)
class Case:
    """One comparison.

    Attributes:
        group: Table section, e.g. "ridge fit".
        name: The problem, e.g. "n=500 d=50".
        dlcore: Zero-argument callable running dlcore's version.
        reference: Zero-argument callable running the reference.
        reference_name: What the reference is, e.g. "sklearn Ridge".
        target: The largest acceptable time ratio dlcore / reference (None: report only).
        extra: Further columns (e.g. a memory-traffic floor), name -> seconds.
        extra_fn: Further columns computed after the timing (e.g. page faults per call),
            name -> zero-argument callable.
    """

    group: str
    name: str
    dlcore: Callable[[], Any]
    reference: Callable[[], Any]
    reference_name: str
    target: float | None = None
    extra: dict[str, float] = field(default_factory=dict)
    extra_fn: dict[str, Callable[[], float]] = field(default_factory=dict)


def best_time(fn: Callable[[], Any], *, min_time: float = 0.2, repeats: int = 5) -> float:
    """Best-of-`repeats` wall time of one call, each repeat looping for at least `min_time` s."""
    fn()  # warm-up (imports, caches, allocator)
    return min(_mean_call(fn, min_time) for _ in range(repeats))


def _mean_call(fn: Callable[[], Any], min_time: float) -> float:
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / n


def paired_best_times(
    a: Callable[[], Any], b: Callable[[], Any], *, min_time: float = 0.2, repeats: int = 5
) -> tuple[float, float]:
    """Best-of-`repeats` times of `a` and `b`, the repeats interleaved (a, b, a, b, ...).

    Interleaving exposes both sides to the same drift of the machine's speed (other tenants,
    frequency scaling), so their ratio is steadier than that of two back-to-back `best_time`s.
    """
    a(), b()  # warm-up
    best_a = best_b = float("inf")
    for _ in range(repeats):
        best_a = min(best_a, _mean_call(a, min_time))
        best_b = min(best_b, _mean_call(b, min_time))
    return best_a, best_b
