"""`torch.optim` as the oracle for dlcore's optimizers, and the error models of the comparisons.

The oracle runs on the device of the backend under test (CPU for NumPy and `array_api_strict`)
in the backend's dtype, so that both sides round in the same precision.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "torch_place",
    "torch_sgd_on_quadratic",
    "torch_open_loop",
    "adam_ratio_bound",
    "amplification",
]


def torch_place(backend: Any) -> tuple[Any, Any]:
    """The torch (device, dtype) of the oracle for `backend`."""
    import torch

    device = backend.device if backend.library == "torch" else "cpu"
    return torch.device(device), getattr(torch, backend.dtype_name)


def torch_sgd_on_quadratic(
    backend: Any, X: np.ndarray, y: np.ndarray, w0: np.ndarray, steps: int, **sgd: Any
) -> tuple[np.ndarray, float]:
    """`torch.optim.SGD(**sgd)` on $\\|Xw - y\\|^2$ (gradient $2X^\\top(Xw-y)$, computed in torch).

    Returns `(w_T, S)` with `S = max_t (|w_t| + lr |v_t|)`, the state scale of the error model.
    """
    import torch

    device, dtype = torch_place(backend)
    Xt = torch.as_tensor(X, dtype=dtype, device=device)
    yt = torch.as_tensor(y, dtype=dtype, device=device)
    p = torch.nn.Parameter(torch.as_tensor(w0, dtype=dtype, device=device).clone())
    opt = torch.optim.SGD([p], **sgd)
    scale = float(torch.linalg.vector_norm(p.detach()))
    with torch.no_grad():
        for _ in range(steps):
            p.grad = 2 * (Xt.T @ (Xt @ p - yt))
            opt.step()
            buf = opt.state[p].get("momentum_buffer")
            v = 0.0 if buf is None else float(torch.linalg.vector_norm(buf))
            scale = max(scale, float(torch.linalg.vector_norm(p.detach())) + sgd["lr"] * v)
    return p.detach().cpu().double().numpy(), scale


def torch_open_loop(
    backend: Any, name: str, w0: np.ndarray, grads: list[np.ndarray], **kwargs: Any
) -> np.ndarray:
    """Run `torch.optim.<name>(**kwargs)` fed the given gradient sequence; return all iterates."""
    import torch

    device, dtype = torch_place(backend)
    p = torch.nn.Parameter(torch.as_tensor(w0, dtype=dtype, device=device).clone())
    opt = getattr(torch.optim, name)([p], foreach=False, **kwargs)
    out = [w0.astype(np.float64)]
    for g in grads:
        p.grad = torch.as_tensor(g, dtype=dtype, device=device)
        opt.step()
        out.append(p.detach().cpu().double().numpy())
    return np.array(out)


def adam_ratio_bound(t: int, b1: float, b2: float, *, bias_correction: bool = True) -> float:
    r"""Cauchy-Schwarz bound on $|m_t| / \sqrt{v_t}$ over every gradient sequence (coordinatewise).

    $m_t = \sum_{k<t} (1-b_1) b_1^k g_{t-1-k}$ and $v_t = \sum_{k<t} (1-b_2) b_2^k g_{t-1-k}^2$, so
    $|m_t| \le \sqrt{\sum_k (1-b_1)^2 b_1^{2k} / ((1-b_2) b_2^k)}\,\sqrt{v_t}$; bias correction
    multiplies the ratio by $\sqrt{1-b_2^t}/(1-b_1^t)$. Needs $b_2 > 0$ unless $b_1 = 0$.
    """
    total = 0.0
    for k in range(t):
        if b1 == 0 and k > 0:
            break
        total += (1 - b1) ** 2 / (1 - b2) * (b1**2 / b2) ** k  # no underflow of b2^k
    bound = math.sqrt(total)
    if bias_correction:
        bound *= math.sqrt(1 - b2**t) / (1 - b1**t)
    return bound


def amplification(M: np.ndarray, steps: int) -> float:
    """`max(1, max_{k <= steps} ||M^k||_2)`: how much a state error can grow before step `steps`."""
    P = np.eye(M.shape[0])
    worst = 1.0
    for _ in range(steps):
        P = M @ P
        worst = max(worst, float(np.linalg.norm(P, 2)))
    return worst
