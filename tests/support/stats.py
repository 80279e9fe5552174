"""Concentration bounds for statistical claims, each with an explicit failure probability.

Statistical tests never use guessed bands. They bound the deviation of a statistic with an
inequality that holds with probability at least 1 - p for the realised data, and split a total
false-failure budget `p` over the events of one test with a union bound.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FALSE_FAILURE", "chi2_mix_band", "rademacher_sum_band"]

FALSE_FAILURE = 1e-6
"""False-failure probability budget of one statistical test example."""


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
