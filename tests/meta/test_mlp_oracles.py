"""The MLP magnitude model bounds what it claims to, on the torch oracle's values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from tests.support.backends import HOST
from tests.support.mlp_oracles import (
    feature_magnitudes,
    layer_magnitudes,
    mlp_grad_scale,
    output_magnitude,
    torch_mlp,
    torch_mlp_grad,
    torch_mlp_jacobian,
)
from tests.support.strategies import mlps
from tests.support.tolerances import Check

pytest.importorskip("torch")

# The model's bounds hold exactly; the float64 values on both sides round by at most the number
# of summed terms (sum of the sizes plus the depth plus n) times eps, relatively to the bound.
CHECK = Check("relu-networks.backprop-computes-exact-gradients", HOST)


def _dim(sizes, X) -> int:
    return sum(sizes) + (len(sizes) - 1) + X.shape[0]  # sizes, depth, n


@settings(deadline=None)
@given(net=mlps())
def test_magnitudes_bound_the_output_and_the_features(net):
    import torch

    sizes, activation, P, X, _y = net
    tp = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in P.items()}
    out = torch_mlp(tp, torch.as_tensor(X, dtype=torch.float64), activation).numpy()
    assert out.shape == (X.shape[0], 1)
    u = layer_magnitudes(P, X, activation)[-1]
    dim = _dim(sizes, X)
    CHECK.assert_at_most(np.abs(out), u, kind="bound", dim=dim, scale=float(u.max()))
    assert output_magnitude(P, X, activation) == float(np.linalg.norm(u))
    J = torch_mlp_jacobian(P, X, activation)
    M = feature_magnitudes(P, X, activation)
    assert J.shape == M.shape == (X.shape[0], sum(v.size for v in P.values()))
    CHECK.assert_at_most(np.abs(J), M, kind="bound", dim=dim, scale=float(M.max()))


@settings(deadline=None)
@given(net=mlps(activations=("relu", "tanh", "identity")))
def test_grad_scale_bounds_the_gradient(net):
    sizes, activation, P, X, y = net
    g = torch_mlp_grad(P, X, y, activation)
    scale, dim = mlp_grad_scale(P, X, y[:, None], activation)
    assert dim == _dim(sizes, X)
    CHECK.assert_at_most(float(np.linalg.norm(g)), scale, kind="bound", dim=dim, scale=scale)
    # y as (n,) or (n, 1): the same loss
    np.testing.assert_array_equal(g, torch_mlp_grad(P, X, y[:, None], activation))
