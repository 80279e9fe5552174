"""Hypothesis strategies that *construct* well-posed inputs instead of filtering them.

Matrices are built as $X = U \\operatorname{diag}(\\sigma) V^\\top$ from a drawn spectrum and
random orthogonal factors, so the condition number and the rank are known exactly and never
need an `assume`. Every random source is a seed drawn by Hypothesis, so failures replay and shrink.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

__all__ = [
    "seeds",
    "orthogonal",
    "spectra",
    "Problem",
    "make_problem",
    "regression_problems",
    "log_uniform",
]

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats spread evenly in log scale over [low, high] (both endpoints reachable)."""
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high, got {low}, {high}")
    lo, hi = np.log(low), np.log(high)
    return st.floats(0.0, 1.0).map(lambda u: float(min(high, max(low, np.exp(lo + u * (hi - lo))))))


def orthogonal(k: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed orthogonal k x k matrix (QR of a Gaussian with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((k, k)))
    return q * np.sign(np.diag(r))


@st.composite
def spectra(draw, k: int, *, max_cond: float, sigma_max: tuple[float, float] = (0.5, 2.0)):
    """k singular values, descending, with sigma_1 / sigma_k = cond <= max_cond exactly.

    Draws cond log-uniformly in [1, max_cond] and the inner values log-uniformly between the ends.
    """
    top = draw(st.floats(*sigma_max))
    cond = draw(log_uniform(1.0, max_cond)) if k > 1 else 1.0
    inner = [draw(st.floats(0.0, 1.0)) for _ in range(max(k - 2, 0))]
    logs = [0.0, *[-u * np.log(cond) for u in inner], -np.log(cond)][:k]
    return np.sort(top * np.exp(np.array(logs)))[::-1]


@dataclass(frozen=True)
class Problem:
    """A least-squares problem with a known SVD.

    Attributes:
        X: (n, d) data matrix, `U[:, :r] @ diag(svals) @ V[:, :r].T`.
        y: (n,) targets.
        svals: the r nonzero singular values, descending.
        U: (n, n) orthogonal.
        V: (d, d) orthogonal.
        seed: the seed that drew U, V and y.
    """

    X: np.ndarray
    y: np.ndarray
    svals: np.ndarray
    U: np.ndarray
    V: np.ndarray
    seed: int

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def rank(self) -> int:
        return len(self.svals)

    def __repr__(self) -> str:
        # Exact and replayable: a falsifying example prints as the call that rebuilds it, so it
        # can be pinned with `@example(problem=make_problem(...))` as printed.
        svals = ", ".join(repr(float(s)) for s in self.svals)
        return f"make_problem(n={self.n}, d={self.d}, svals=[{svals}], seed={self.seed})"

    def _repr_pretty_(self, printer, cycle) -> None:
        # Hypothesis prints falsifying examples with its pretty printer, which uses this hook.
        printer.text(repr(self))

    @property
    def cond(self) -> float:
        """sigma_max / sigma_min over the nonzero singular values."""
        return float(self.svals[0] / self.svals[-1])

    @property
    def sigma_max(self) -> float:
        return float(self.svals[0])

    @property
    def sigma_min(self) -> float:
        return float(self.svals[-1])


@st.composite
def regression_problems(
    draw,
    *,
    n: tuple[int, int] = (1, 12),
    d: tuple[int, int] = (1, 12),
    max_cond: float = 1e3,
    shape: str = "any",
    rank: str = "full",
    sigma_max: tuple[float, float] = (0.5, 2.0),
):
    """Problems X = U diag(s) V^T, y from a drawn spectrum and seed.

    Args:
        n, d: inclusive ranges of the number of rows and columns.
        max_cond: the largest sigma_max / sigma_min (over nonzero singular values).
        shape: "any", "wide" (d > n) or "tall" (n > d).
        rank: "full" (rank = min(n, d)), "deficient" (1 <= rank < min(n, d)) or "any".
        sigma_max: range of the largest singular value.
    """
    if shape == "wide":
        nn = draw(st.integers(max(n[0], 1), min(n[1], d[1] - 1)))
        dd = draw(st.integers(max(d[0], nn + 1), d[1]))
    elif shape == "tall":
        dd = draw(st.integers(max(d[0], 1), min(d[1], n[1] - 1)))
        nn = draw(st.integers(max(n[0], dd + 1), n[1]))
    else:
        nn, dd = draw(st.integers(*n)), draw(st.integers(*d))
    full = min(nn, dd)
    if rank == "full":
        r = full
    elif rank == "deficient":
        if full < 2:
            raise ValueError("rank='deficient' needs min(n, d) >= 2; raise the lower size bounds")
        r = draw(st.integers(1, full - 1))
    else:
        r = draw(st.integers(1, full))
    svals = draw(spectra(r, max_cond=max_cond, sigma_max=sigma_max))
    return make_problem(n=nn, d=dd, svals=svals, seed=draw(seeds))


def make_problem(*, n: int, d: int, svals, seed: int) -> Problem:
    """The problem `regression_problems` draws for these sizes, singular values and seed.

    U and V are Haar orthogonal from `seed`, then y is standard normal from the same stream.
    """
    svals = np.asarray(svals, dtype=np.float64)
    r = len(svals)
    if not (1 <= r <= min(n, d)) or np.any(np.diff(svals) > 0) or np.any(svals <= 0):
        raise ValueError(
            f"need 1 <= len(svals) <= min(n, d) and positive descending svals: {svals}"
        )
    rng = np.random.default_rng(seed)
    U, V = orthogonal(n, rng), orthogonal(d, rng)
    X = (U[:, :r] * svals) @ V[:, :r].T
    y = rng.standard_normal(n)
    return Problem(X=X, y=y, svals=svals, U=U, V=V, seed=seed)
