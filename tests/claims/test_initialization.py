"""Chapter initialization."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlcore.init import he_normal, variance
from dlcore.mlp import init_mlp, preactivations
from tests.support.backends import backend_params
from tests.support.claims import claim
from tests.support.stats import FALSE_FAILURE, chi2_mix_band, rademacher_sum_band
from tests.support.strategies import seeds
from tests.support.tolerances import assert_close, record_ratio

HE = "initialization.he-init-preserves-relu-variance"
# The claim holds at any width; the statistic's spread shrinks with the total number of units, so
# the test runs NETS independent narrow networks (cheap) rather than one very wide one.
WIDTH, NETS, BATCH = 64, 48, 16
GAIN = {"he_normal": 1.0, "lecun_normal": 0.5}  # c in Var w = 2c / fan_in


def log_second_moment_band(zs: list[np.ndarray], p: float) -> tuple[float, float]:
    """Observed ln(q_L / q_1) and a band B with |ln(q_L/q_1) - (L-1) ln c| <= B w.p. >= 1 - p.

    `zs[l]` holds layer l's pre-activations of K independent networks, shape (K, n, m). From layer
    to layer q_{l+1} / q_l = c * r_l * g_l, with two random factors bounded conditionally:

    - ReLU: r_l = P_l / (q_l / 2), P_l the post-activation second moment. Flipping the sign of a
      column of W^l (a symmetric law) flips the sign of d_j = (|z_j^+|^2 - |z_j^-|^2) / 2, and
      sum_j d_j = K n m (P_l - q_l / 2): Hoeffding over random signs.
    - weights: g_l = q_{l+1} / (2c P_l) is, given the previous layer, a weighted chi-square over
      the Gaussian weights, with weights the eigenvalues of h h^T (each repeated m_{l+1} times,
      for every network): Laurent-Massart.

    Each of the 2 (L-1) events gets p / (2 (L-1)) (union bound).
    """
    p_event = p / (2 * max(len(zs) - 1, 1))
    band = 0.0
    for z, z_next in pairwise(zs):
        q = float(np.mean(z * z))
        pos, neg = np.maximum(z, 0), np.maximum(-z, 0)
        d = 0.5 * (np.sum(pos * pos, axis=1) - np.sum(neg * neg, axis=1))  # (K, m): one per column
        band += _log_width(*(2 * [rademacher_sum_band(d.ravel(), p_event) / (z.size * q / 2)]))
        eig = np.clip(np.linalg.eigvalsh(pos @ pos.transpose(0, 2, 1)), 0.0, None).ravel()
        band += _log_width(*chi2_mix_band(np.repeat(eig, z_next.shape[2]), p_event))
    observed = math.log(float(np.mean(zs[-1] ** 2)) / float(np.mean(zs[0] ** 2)))
    return observed, band


def _log_width(lo: float, hi: float) -> float:
    """Half-width in log scale of the relative band [1 - lo, 1 + hi]."""
    if lo >= 1:
        return math.inf
    return max(-math.log1p(-lo), math.log1p(hi))


def _network_stats(backend, weights: str, depth: int, d0: int, seed: int, p: float):
    """Pre-activations of NETS independent dlcore ReLU networks on one Gaussian batch."""
    rng = np.random.default_rng(seed)
    X = backend.asarray(rng.standard_normal((BATCH, d0)))
    layers: list[list[np.ndarray]] = [[] for _ in range(depth)]
    for _ in range(NETS):
        params = init_mlp([d0, *([WIDTH] * depth)], rng=rng, weights=weights, like=X)
        for ell, z in enumerate(preactivations(params, X, activation="relu")):
            layers[ell].append(backend.to_numpy(z))
    return log_second_moment_band([np.stack(zl) for zl in layers], p)


@claim(HE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    weights=st.sampled_from(sorted(GAIN)),
    depth=st.integers(2, 6),
    d0=st.integers(4, 64),
    seed=seeds,
)
def test_second_moment_scales_by_gain_per_layer(backend, weights, depth, d0, seed):
    """ln(q_L / q_1) = (L - 1) ln c within a derived band; false-failure probability <= 1e-6.

    He (c = 1) keeps the second moment; LeCun (c = 1/2) halves it per layer. Width 512, batch 32,
    zero biases, standard Gaussian inputs; q_l is the empirical second moment of layer l.
    """
    observed, band = _network_stats(backend, weights, depth, d0, seed, FALSE_FAILURE)
    predicted = (depth - 1) * math.log(GAIN[weights])
    record_ratio(abs(observed - predicted) / band)
    assert abs(observed - predicted) <= band, (
        f"claim {HE} [{backend}]: ln(q_L/q_1) = {observed:.4f}, predicted {predicted:.4f} "
        f"+- {band:.4f} (false-failure probability {FALSE_FAILURE:g}), {weights}, depth {depth}"
    )


@claim(HE, breaks="gain 1 instead of 2 (LeCun, the lecture's 'Xavier')")
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(depth=st.integers(2, 6), d0=st.integers(4, 64), seed=seeds)
def test_lecun_does_not_preserve_second_moment(backend, depth, d0, seed):
    """With Var w = 1/fan_in the He conclusion q_L = q_1 is refuted at every depth.

    The observed ln(q_L/q_1) lies within the band of -(L-1) ln 2 (w.p. >= 1 - 1e-6), and the band
    is narrower than half the gap, so it lies outside He's band around 0.
    """
    observed, band = _network_stats(backend, "lecun_normal", depth, d0, seed, FALSE_FAILURE)
    gap = (depth - 1) * math.log(2.0)
    assert band < gap / 2, f"test design: band {band:.3f} too wide to separate a gap of {gap:.3f}"
    assert abs(observed - 0.0) > band


@claim(HE)
@pytest.mark.parametrize("backend", backend_params())
@given(d_in=st.integers(1, 300), d_out=st.integers(1, 300), seed=seeds)
def test_he_normal_matches_torch_kaiming(backend, d_in, d_out, seed):
    """dlcore's He variance is torch's kaiming_normal_(fan_in, relu) on the transposed layout.

    The drawn weights' mean square lies in its chi-square band (false-failure probability 1e-6).
    """
    torch = pytest.importorskip("torch")
    t = torch.empty(d_out, d_in)  # torch stores (d_out, d_in)
    fan = torch.nn.init._calculate_correct_fan(t, "fan_in")
    torch_var = torch.nn.init.calculate_gain("relu") ** 2 / fan
    assert_close(
        variance("he", d_in, d_out),
        torch_var,
        claim=HE,
        backend=backend,
        kind="identity",
        what="He variance vs torch",
    )
    like = backend.asarray(np.zeros(1))
    W = backend.to_numpy(he_normal(d_in, d_out, rng=np.random.default_rng(seed), like=like))
    assert W.shape == (d_in, d_out)
    lo, hi = chi2_mix_band(np.full(W.size, 2.0 / d_in), FALSE_FAILURE)
    ratio = float(np.mean(W * W)) / (2.0 / d_in)
    assert 1 - lo <= ratio <= 1 + hi
