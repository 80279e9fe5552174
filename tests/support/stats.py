"""Concentration bounds for statistical claims, each with an explicit failure probability.

Statistical tests never use guessed bands. They bound the deviation of a statistic with an
inequality that holds with probability at least 1 - p for the realised data, and split a total
false-failure budget `p` over the events of one test with a union bound.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "FALSE_FAILURE",
    "MAX_EXAMPLES_PER_TEST",
    "MAX_EXPLICIT_EXAMPLES",
    "MAX_STATISTICAL_TESTS",
    "SUITE_FALSE_FAILURE",
    "binomial_mean_band",
    "chi2_mix_band",
    "rademacher_sum_band",
]

SUITE_FALSE_FAILURE = 1e-6
"""False-failure probability of one run of the whole suite: every statistical test, every example,
every backend, any profile (thorough included)."""

MAX_EXPLICIT_EXAMPLES = 20
"""Most explicit `@example` rows one statistical test may carry (tests/meta checks it)."""

MAX_EXAMPLES_PER_TEST = 7 * (300 + MAX_EXPLICIT_EXAMPLES)
"""Most examples one statistical test function runs in one run of the suite: 2240.

Derivation: a statistical test is parametrized over the backend combinations only, at most 7 of
them (`tests.support.backends.BACKENDS`, two CUDA). Each combination is one pytest item, a
Hypothesis run of at most the profile's `max_examples` passing examples (300 under `thorough`, the
largest profile; the backend fractions and the `@settings(max_examples=...)` overrides only lower
it) plus its explicit `@example` rows (at most `MAX_EXPLICIT_EXAMPLES`). Examples rejected by
`assume` or a filter stop before the random statistic is tested; shrinking and the explain phase
run only after a failure. So an item runs at most 300 + 20 examples, a test 7 * 320 = 2240.
tests/meta/test_statistical_budget.py checks the premises (profile sizes, the backends, the
parametrization and the `@example` count of every statistical test).
"""

MAX_STATISTICAL_TESTS = 100
"""Most statistical test functions the suite may hold (tests/meta counts them)."""

FALSE_FAILURE = 1e-12
"""False-failure probability budget of one statistical test example (one draw of its data).

A round number <= SUITE_FALSE_FAILURE / (MAX_STATISTICAL_TESTS * MAX_EXAMPLES_PER_TEST)
= 1e-6 / (100 * 2240) = 4.46e-12. By the union bound over all statistical tests, examples and
backends, one run of the suite fails falsely with probability <= 100 * 2240 * 1e-12 = 2.24e-7,
below SUITE_FALSE_FAILURE. A test that checks several random events splits FALSE_FAILURE between
them (union bound again), so no example fails falsely with probability above FALSE_FAILURE.
"""


def chi2_mix_band(weights: np.ndarray, p: float) -> tuple[float, float]:
    """Relative band for a weighted chi-square, by the Laurent-Massart inequality.

    For $S = \\sum_k a_k \\xi_k^2$ with $\\xi_k$ i.i.d. $\\mathcal N(0,1)$ and $a_k \\ge 0$:
    $P(S - ES \\ge 2\\|a\\|_2\\sqrt{x} + 2\\|a\\|_\\infty x) \\le e^{-x}$ and
    $P(ES - S \\ge 2\\|a\\|_2\\sqrt{x}) \\le e^{-x}$. With $e^{-x} = p/2$,

    Returns:
        `(lo, hi)` such that $1 - lo \\le S/ES \\le 1 + hi$ with probability at least $1 - p$.
    """
    a = np.asarray(weights, dtype=np.float64)
    total = float(a.sum())
    x = math.log(2.0 / p)
    lo = 2.0 * float(np.linalg.norm(a)) * math.sqrt(x) / total
    hi = lo + 2.0 * float(a.max()) * x / total
    return lo, hi


def rademacher_sum_band(magnitudes: np.ndarray, p: float) -> float:
    """Hoeffding's bound for $\\sum_j \\epsilon_j d_j$ with i.i.d. random signs $\\epsilon_j$.

    Returns:
        $t$ such that $|\\sum_j \\epsilon_j d_j| \\le t$ with probability at least $1 - p$:
        $t = \\sqrt{2 \\ln(2/p) \\sum_j d_j^2}$.
    """
    d = np.asarray(magnitudes, dtype=np.float64)
    return math.sqrt(2.0 * math.log(2.0 / p) * float(np.sum(d * d)))


def _bernoulli_kl(q: float, r: float) -> float:
    """KL(Bernoulli(q) || Bernoulli(r)) for 0 < r < 1, with 0 log 0 = 0."""
    out = 0.0
    if q > 0:
        out += q * math.log(q / r)
    if q < 1:
        out += (1 - q) * math.log((1 - q) / (1 - r))
    return out


def binomial_mean_band(k: int, r: float, p: float) -> tuple[float, float]:
    r"""Chernoff's bound for the mean of k independent Bernoulli(r) terms, each side at p / 2.

    $P(\bar X \ge q) \le e^{-k\,\mathrm{KL}(q\,\|\,r)}$ for $q \ge r$ and likewise below, so
    the edges solve $k\,\mathrm{KL}(q\,\|\,r) = \ln(2/p)$ (bisection to 1e-15, rounded outward).
    Tighter than Hoeffding's $\sqrt{\ln(2/p)/(2k)}$ near 0 and 1, where Hoeffding's band leaves
    $[0, 1]$ and one side cannot fail.

    Returns:
        `(lo, hi)` with $lo \le \bar X \le hi$ with probability at least $1 - p$; `lo` is 0 (and
        `hi` is 1) when that side cannot be crossed at this k and p.
    """
    if not 0 < r < 1:
        raise ValueError(f"need 0 < r < 1, got {r}")
    x = math.log(2.0 / p)

    def edge(a: float, b: float) -> float:  # KL(a) > x/k >= KL(b), a on the far side
        for _ in range(200):
            mid = 0.5 * (a + b)
            if k * _bernoulli_kl(mid, r) > x:
                a = mid
            else:
                b = mid
        return a  # the crossing point, rounded away from r

    lo = 0.0 if k * _bernoulli_kl(0.0, r) <= x else edge(0.0, r)
    hi = 1.0 if k * _bernoulli_kl(1.0, r) <= x else edge(1.0, r)
    return lo, hi
