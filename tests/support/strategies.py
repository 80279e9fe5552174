"""Hypothesis strategies that *construct* well-posed inputs instead of filtering them.

Matrices are built as $X = U \\operatorname{diag}(\\sigma) V^\\top$ from a drawn spectrum and
random orthogonal factors, so the condition number and the rank are known exactly and never
need an `assume`. Every random source is a seed drawn by Hypothesis, so failures replay and shrink.
The chapters' own inputs (optimizer hyperparameters, minibatch schedules, MLPs, target
functions, problems with a spectral gap) are constructed the same way. Each strategy's docstring
states what it constructs, and `tests/meta/test_strategies.py` checks it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from dlcore.data import SCHEMES
from dlcore.mlp import ACTIVATIONS

__all__ = [
    "seeds",
    "orthogonal",
    "spectra",
    "Problem",
    "make_problem",
    "regression_problems",
    "log_uniform",
    "adam_betas",
    "gradient_values",
    "batch_schedules",
    "MAX_PATHS",
    "enumerable_setups",
    "he_mlp",
    "mlps",
    "sine_sums",
    "sine_targets",
    "lipschitz_sine_targets",
    "pwl_functions",
    "rectangular_gram_problems",
    "gapped_problems",
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


# ---- optimizer inputs --------------------------------------------------------------------------


@st.composite
def adam_betas(draw):
    """(b1, b2) with 0 <= b1 <= 0.95 and max(b1, 0.9) <= b2 < 1: the second moment is the slower
    average, as in practice."""
    b1 = draw(st.floats(0.0, 0.95))
    low = max(b1, 0.9)
    return b1, low + (1 - low) * draw(st.floats(0.0, 0.999))


# zeros and both signs over twelve decades; squares stay clear of underflow and overflow in float32
gradient_values = st.one_of(
    st.just(0.0), log_uniform(1e-6, 1e6), log_uniform(1e-6, 1e6).map(lambda x: -x)
)
"""Gradient entries: 0, or 1e-6 <= |g| <= 1e6 of either sign (so g^2 is a normal float32)."""


# ---- minibatches -------------------------------------------------------------------------------


@st.composite
def batch_schedules(draw, n: int):
    """1 to 25 minibatches of indices into range(n), each of 1 to n indices (repeats allowed)."""
    steps = draw(st.integers(1, 25))
    return [draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n)) for _ in range(steps)]


MAX_PATHS = 256  # largest enumeration per example (n^b, C(n, b) or n!)


@st.composite
def enumerable_setups(draw):
    """(scheme, n, b) with scheme in `dlcore.data.SCHEMES`, 1 <= b <= n (any b >= 1 with
    replacement), whose `enumerate_batches(n, b, scheme=scheme)` lists at most MAX_PATHS batches."""
    scheme = draw(st.sampled_from(SCHEMES))
    n = draw(st.integers(1, 5 if scheme == "epoch" else 7))
    if scheme == "with":
        b = draw(st.integers(1, max(1, int(math.log(MAX_PATHS) / math.log(n)) if n > 1 else 4)))
    else:
        b = draw(st.integers(1, n))
    return scheme, n, b


# ---- networks and target functions -------------------------------------------------------------


def he_mlp(sizes: list[int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """MLP parameters drawn test-side, never by the implementation under test: `W{l}` of shape
    (d_{l-1}, d_l) with N(0, 2/d_{l-1}) entries (He normal) and zero `b{l}`, layer by layer from
    `rng`. The stream is that of `dlcore.mlp.init_mlp(sizes, rng=rng)` in the reference, so the
    inputs are the ones it drew, on every implementation."""
    params = {}
    for ell in range(1, len(sizes)):
        d_in, d_out = sizes[ell - 1], sizes[ell]
        params[f"W{ell}"] = rng.normal(0.0, math.sqrt(2.0 / d_in), size=(d_in, d_out))
        params[f"b{ell}"] = np.zeros(d_out)
    return params


@st.composite
def mlps(draw, *, d0=(1, 4), width=(1, 8), depth=(1, 4), n=(1, 10), activations=ACTIVATIONS):
    """(sizes, activation, params, X, y) on the host in float64, from drawn sizes and a seed.

    `sizes = [d0, widths..., 1]` with `depth` layers (so depth - 1 hidden widths), each size in
    its inclusive range; `activation` from `activations`. Weights are He-normal, biases N(0, 1)
    (so ReLU patterns are generic, not all kinks at 0), inputs X (n, d0) and targets y (n,)
    standard normal; the output is scalar.
    """
    L = draw(st.integers(*depth))
    sizes = [draw(st.integers(*d0)), *[draw(st.integers(*width)) for _ in range(L - 1)], 1]
    activation = draw(st.sampled_from(activations))
    rng = np.random.default_rng(draw(seeds))
    params = he_mlp(sizes, rng)
    params = {k: v + rng.standard_normal(v.shape) if k[0] == "b" else v for k, v in params.items()}
    nn = draw(st.integers(*n))
    X = rng.standard_normal((nn, sizes[0]))
    y = rng.standard_normal(nn)
    return sizes, activation, params, X, y


@st.composite
def sine_sums(draw) -> tuple[Callable, np.ndarray, np.ndarray]:
    """(f, a, omega): f(x) = sum_j a_j sin(omega_j x + phi_j) on arrays, 1 to 3 terms,
    0.1 <= |a_j| <= 2, 0.1 <= omega_j <= 5, 0 <= phi_j <= 2 pi."""
    m = draw(st.integers(1, 3))
    a = np.array([draw(st.sampled_from([-1, 1])) * draw(st.floats(0.1, 2)) for _ in range(m)])
    w = np.array([draw(st.floats(0.1, 5)) for _ in range(m)])
    p = np.array([draw(st.floats(0, 2 * math.pi)) for _ in range(m)])
    return (lambda x: np.sin(np.multiply.outer(x, w) + p) @ a), a, w


@st.composite
def sine_targets(draw):
    """(f, M): a sum of sines (`sine_sums`) and M = sum_j |a_j| omega_j^2 >= max |f''| (exact for
    one term with the maximum on the interval)."""
    f, a, w = draw(sine_sums())
    return f, float(np.sum(np.abs(a) * w**2))


@st.composite
def lipschitz_sine_targets(draw):
    """(f, L): a sum of sines (`sine_sums`) and its Lipschitz constant L = sum_j |a_j| omega_j >=
    max |f'|."""
    f, a, w = draw(sine_sums())
    return f, float(np.sum(np.abs(a) * w))


@st.composite
def pwl_functions(draw, *, k=(1, 20)):
    """(knots, slopes, c): k knots t_1 < ... < t_k (k in the inclusive range `k`, t_1 in [-5, 5],
    gaps >= 1e-3 before rounding), k + 1 slopes s_0..s_k in [-5, 5] and a value c in [-5, 5];
    constructed, not filtered."""
    kk = draw(st.integers(*k))
    rng = np.random.default_rng(draw(seeds))
    t1 = draw(st.floats(-5, 5))
    knots = t1 + np.concatenate([[0.0], np.cumsum(1e-3 + rng.exponential(1.0, kk - 1))])
    slopes = rng.uniform(-5, 5, kk + 1)
    return knots, slopes, draw(st.floats(-5, 5))


# ---- problems with a given gap -----------------------------------------------------------------


@st.composite
def rectangular_gram_problems(draw):
    """(problem, lam): a problem with n != d (1 <= n, d <= 8, any rank, cond <= 10) and
    lam = ratio * sigma_r^2 with ratio in [0.1, 10] (constructed, not filtered): the larger Gram
    + lam I then has condition (sigma_max^2 + lam) / lam, a factor 1 + sigma_r^2 / lam =
    1 + 1 / ratio >= 1.1 above the smaller one's."""
    shape = draw(st.sampled_from(["wide", "tall"]))
    problem = draw(regression_problems(n=(1, 8), d=(1, 8), shape=shape, rank="any", max_cond=10.0))
    return problem, draw(log_uniform(0.1, 10.0)) * problem.sigma_min**2


@st.composite
def gapped_problems(draw):
    """(problem, X, s, lam, gamma): gamma in [10, 1e4] and X = U diag(s) V^T with the problem's
    factors and new singular values s (descending), whose squares avoid (lam / gamma, gamma lam)
    by construction: the top k (drawn, 0 <= k <= rank) are unchanged with s_k^2 = gamma lam, the
    rest are scaled down to s_{k+1}^2 <= lam / gamma."""
    problem = draw(regression_problems(n=(1, 10), d=(1, 10), rank="any", max_cond=1e2))
    gamma = draw(log_uniform(10.0, 1e4))
    k = draw(st.integers(0, problem.rank))  # singular values above the gap
    s = problem.svals.copy()
    lam = float(s[k - 1] ** 2 / gamma) if k > 0 else float(s[0] ** 2 * gamma)
    if k < problem.rank:  # push the rest below lam / gamma
        s[k:] = np.minimum(s[k:], math.sqrt(lam / gamma) * s[k:] / s[k])
    r = problem.rank
    X = (problem.U[:, :r] * s) @ problem.V[:, :r].T
    return problem, X, s, lam, gamma
