"""The MLP oracle and the MLP rounding model: one torch float64 network and one magnitude model.

The network is dlcore's MLP (`dlcore.mlp`): parameters `W1, b1, ..., WL, bL`, pre-activations
$z^\\ell = h^{\\ell-1} W^\\ell + b^\\ell$, $h^\\ell = \\phi(z^\\ell)$ on the hidden layers and the
output $z^L$. The oracle recomputes it in torch float64 (autograd for the gradient, `jacrev` for
the parameter Jacobian); the magnitude model bounds every quantity of the forward and backward
passes from $|W|$, $|b|$ and $|X|$, so that each rounding error is at most (number of terms summed)
$\\times$ eps times these magnitudes. A test states its tolerance as `c dim eps scale` with `scale`
and `dim` from here (the `scale=` and `dim=` of `assert_close`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "layer_magnitudes",
    "feature_magnitudes",
    "output_magnitude",
    "mlp_grad_scale",
    "torch_mlp",
    "torch_mlp_grad",
    "torch_mlp_jacobian",
]


def layer_magnitudes(params: dict[str, np.ndarray], X: np.ndarray, activation: str) -> list:
    """`[m_0, m_1, ..., m_{L-1}, u_L]`: entrywise bounds of the layer values (host, float64).

    $m_0 = |X|$; $u^\\ell = m^{\\ell-1} |W^\\ell| + |b^\\ell|$ bounds $|z^\\ell|$, and
    $m^\\ell = u^\\ell$ (plus 1 for the sigmoid, whose value is bounded by 1) bounds $|h^\\ell|$, since
    $|\\phi(z)| \\le |z|$ for relu, identity and tanh. The last entry is $u^L$, the output bound.
    """
    L = len(params) // 2
    ms = [np.abs(X)]
    for ell in range(1, L + 1):
        u = ms[-1] @ np.abs(params[f"W{ell}"]) + np.abs(params[f"b{ell}"])
        ms.append(u + 1.0 if activation == "sigmoid" and ell < L else u)
    return ms


def feature_magnitudes(params: dict[str, np.ndarray], X: np.ndarray, activation: str) -> np.ndarray:
    """Entrywise bound $M \\ge |\\Phi|$ of the local features (the parameter Jacobian), host float64.

    Forward bounds from `layer_magnitudes`; backward: $\\mu^L = 1$,
    $\\mu^\\ell = \\mu^{\\ell+1} |W^{\\ell+1}|^\\top$ bounds $|\\delta^\\ell|$ ($|\\phi'| \\le 1$). Every
    rounding error of the forward and backward recursions is at most (number of terms summed)
    $\\times$ eps times these magnitudes, so $\\|\\Phi_{computed} - \\Phi\\| \\le c\\,dim\\,eps\\,\\|M\\|$
    with dim the total number of summed terms along a chain (sum of the layer sizes plus the depth).
    Columns in dlcore's flat order: per layer, the weight block then the bias block.
    """
    L = len(params) // 2
    ms = layer_magnitudes(params, X, activation)[:-1]
    mu = np.ones((X.shape[0], 1))
    mus = [mu]
    for ell in range(L, 1, -1):
        mu = mu @ np.abs(params[f"W{ell}"]).T
        mus.append(mu)
    blocks = []
    for h, d in zip(ms, mus[::-1], strict=True):
        blocks += [(h[:, :, None] * d[:, None, :]).reshape(X.shape[0], -1), d]
    return np.concatenate(blocks, axis=1)


def output_magnitude(params: dict[str, np.ndarray], X: np.ndarray, activation: str) -> float:
    """$\\|u^L\\|$, the magnitude bound of the network's output (`layer_magnitudes`)."""
    return float(np.linalg.norm(layer_magnitudes(params, X, activation)[-1]))


def mlp_grad_scale(
    host: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, activation: str = "tanh"
) -> tuple[float, int]:
    """`(scale, dim)` of the backprop rounding model of $\\|f_\\theta(X) - y\\|^2$'s gradient.

    Forward magnitudes from `layer_magnitudes`, backward magnitudes $D_L = 2(u_L + |y|)$,
    $D_\\ell = D_{\\ell+1} |W_{\\ell+1}|^\\top$ bound every delta ($|\\phi'| \\le 1$), and the gradient
    magnitudes are $m_{\\ell-1}^\\top D_\\ell$ and $\\sum D_\\ell$; each entry is a chain of at most
    dim = sum(sizes) + depth + n roundings, each relative to these magnitudes, so errors are
    $\\le c\\,dim\\,eps\\,scale$ with `scale` the norm of all gradient magnitudes. `y` has the
    output's shape (n, d_L).
    """
    depth = len(host) // 2
    ms = layer_magnitudes(host, X, activation)
    D = 2 * (ms[-1] + np.abs(y))
    parts: list[float] = []
    for ell in range(depth, 0, -1):
        parts += [float(np.sum((ms[ell - 1].T @ D) ** 2)), float(np.sum(np.sum(D, axis=0) ** 2))]
        D = D @ np.abs(host[f"W{ell}"]).T
    sizes = [X.shape[1]] + [host[f"b{ell}"].shape[0] for ell in range(1, depth + 1)]
    return math.sqrt(sum(parts)), sum(sizes) + depth + X.shape[0]


def torch_mlp(params: dict, X: Any, activation: str, masks: list | None = None) -> Any:
    """$f_\\theta(X)$ in torch, shape (n, d_L), from torch tensors `params` and `X`.

    With `masks`, ReLU is `z * mask` with the given activation pattern: the gradient of a
    piecewise-linear network at a point is that of the linear piece holding the point, and fixing
    the pattern makes the oracle differentiate the piece that dlcore's forward pass found (in
    float32 a pre-activation within rounding of 0 may fall on either side). Without, `torch.relu`.
    """
    import torch

    fns = {
        "identity": lambda z: z,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
    }
    L = len(params) // 2
    h = X
    for ell in range(1, L + 1):
        z = h @ params[f"W{ell}"] + params[f"b{ell}"]
        if ell == L:
            return z
        if activation == "relu" and masks is not None:
            h = z * torch.as_tensor(masks[ell - 1], dtype=z.dtype)
        else:
            h = fns[activation](z)
    raise AssertionError("unreachable")


def torch_mlp_grad(
    host: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    activation: str,
    masks: list | None = None,
) -> np.ndarray:
    """torch autograd (float64) of $\\|f_\\theta(X) - y\\|^2$ at `host`, flattened like dlcore.

    `y` has n entries, as (n,) or (n, 1); `masks` as in `torch_mlp`.
    """
    import torch

    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in host.items()}
    f = torch_mlp(tp, torch.as_tensor(X, dtype=torch.float64), activation, masks)
    loss = torch.sum((f - torch.as_tensor(y, dtype=torch.float64).reshape(f.shape)) ** 2)
    loss.backward()
    return np.concatenate([tp[k].grad.numpy().ravel() for k in host])


def torch_mlp_jacobian(
    params: dict[str, np.ndarray], X: np.ndarray, activation: str, masks: list | None = None
) -> np.ndarray:
    """`torch.func.jacrev` of the scalar output $f_\\theta(X)$ (n,) in dlcore's flat parameter
    order, in float64: the (n, P) local features; `masks` as in `torch_mlp`."""
    import torch

    keys = [f"{p}{ell}" for ell in range(1, len(params) // 2 + 1) for p in "Wb"]
    shapes = [np.shape(params[k]) for k in keys]
    sizes = [math.prod(shape) for shape in shapes]
    theta = torch.as_tensor(
        np.concatenate([np.ravel(params[k]) for k in keys]), dtype=torch.float64
    )  # (vec W1, b1, ..., vec WL, bL), each W row by row: dlcore's documented order, test-side
    tX = torch.as_tensor(X, dtype=torch.float64)

    def f(th):
        tp = {
            k: part.reshape(shape)
            for k, part, shape in zip(keys, torch.split(th, sizes), shapes, strict=True)
        }
        return torch_mlp(tp, tX, activation, masks)[:, 0]

    return torch.func.jacrev(f)(theta).numpy()
