"""The concentration helpers of `tests.support.stats` against exact tail probabilities."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from tests.support.stats import binomial_mean_band


@pytest.mark.parametrize("k", [50, 400, 5000])
@pytest.mark.parametrize("r", [0.02, 0.3, 0.5, 0.9])
@pytest.mark.parametrize("p", [1e-3, 1e-12])
def test_binomial_band_holds_and_is_not_far_from_exact(k, r, p):
    """Each side's exact binomial tail beyond the edge is at most p / 2 (Chernoff is an upper
    bound), and the edge is not absurdly loose: it lies inside Hoeffding's band."""
    lo, hi = binomial_mean_band(k, r, p)
    assert 0 <= lo < r < hi <= 1
    if lo > 0:
        assert stats.binom.cdf(math.ceil(k * lo) - 1, k, r) <= p / 2
    if hi < 1:
        assert stats.binom.sf(math.floor(k * hi), k, r) <= p / 2
    hoeffding = math.sqrt(math.log(2 / p) / (2 * k))
    assert r - lo <= hoeffding + 1e-12 and hi - r <= hoeffding + 1e-12


def test_binomial_band_reports_a_side_that_cannot_fail():
    """With k (-ln(1 - r)) below ln(2/p), no error at all is plausible: the lower edge is 0."""
    assert binomial_mean_band(50, 0.02, 1e-12)[0] == 0.0
    assert binomial_mean_band(50, 0.98, 1e-12)[1] == 1.0
