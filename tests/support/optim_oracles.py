"""The optimizer table every optimizer test draws from; `torch.optim` as the oracle for dlcore's
optimizers, and the error models of the comparisons.

The oracle runs on the device of the backend under test (CPU for NumPy and `array_api_strict`)
in the backend's dtype, so that both sides round in the same precision.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from dlcore import optim
from tests.support.mlp_oracles import mlp_grad_scale, torch_mlp_grad

__all__ = [
    "Row",
    "OPTIMIZERS",
    "FUSED",
    "UNFUSED",
    "make_optimizer",
    "assert_mlp_grads_match_torch",
    "torch_place",
    "torch_sgd_on_quadratic",
    "torch_open_loop",
    "adam_ratio_bound",
    "amplification",
    "mlp_problem",
    "mlp_closed_loop",
    "torch_mlp_grad",
    "mlp_grad_scale",
]


class Row(NamedTuple):
    """One optimizer of the table: `make(lr, mu, wd)` builds it (`mu` is its momentum-like
    weight: `beta`, `momentum` or `b1`; `wd` its weight decay), and whether `optim.step` fuses
    it on torch tensors."""

    make: Callable[[float, float, float], optim.GradientTransformation]
    fused: bool


OPTIMIZERS: dict[str, Row] = {
    "sgd": Row(lambda lr, mu, wd: optim.sgd(lr), True),
    "ema": Row(lambda lr, mu, wd: optim.ema(mu), False),  # a transform: u = the average
    "ema_momentum": Row(lambda lr, mu, wd: optim.ema_momentum(lr, mu), True),
    "ema_nesterov": Row(lambda lr, mu, wd: optim.ema_nesterov(lr, mu), False),
    "sgd_momentum": Row(lambda lr, mu, wd: optim.sgd_momentum(lr, mu), True),
    "dampened": Row(lambda lr, mu, wd: optim.sgd_momentum(lr, mu, dampening=0.5), False),
    "nesterov": Row(lambda lr, mu, wd: optim.sgd_momentum(lr, mu, nesterov=True), False),
    "rmsprop": Row(lambda lr, mu, wd: optim.rmsprop(lr), False),
    "adam": Row(lambda lr, mu, wd: optim.adam(lr, b1=mu), True),
    "adamw": Row(lambda lr, mu, wd: optim.adamw(lr, b1=mu, weight_decay=wd), True),
    "momentum-l2": Row(
        lambda lr, mu, wd: optim.coupled_weight_decay(optim.sgd_momentum(lr, mu), wd), True
    ),
    "adam-l2": Row(lambda lr, mu, wd: optim.coupled_weight_decay(optim.adam(lr, b1=mu), wd), True),
    "decoupled-momentum": Row(
        lambda lr, mu, wd: optim.decoupled_weight_decay(optim.sgd_momentum(lr, mu), lr * wd), True
    ),
    "decoupled-adam": Row(
        lambda lr, mu, wd: optim.decoupled_weight_decay(optim.adam(lr, b1=mu), lr * wd), True
    ),
}
"""Every optimizer (and the `ema` transform) the tests run, by name."""

FUSED = [name for name, row in OPTIMIZERS.items() if row.fused]
UNFUSED = [name for name, row in OPTIMIZERS.items() if not row.fused]


def make_optimizer(
    name: str, lr: float = 0.1, mu: float = 0.5, wd: float = 0.1
) -> optim.GradientTransformation:
    """The optimizer `name` of the table, with the table's default hyperparameters."""
    return OPTIMIZERS[name].make(lr, mu, wd)


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


MLP_SIZES = (3, 8, 1)


def mlp_problem(backend: Any, seed: int, *, n: int = 6) -> tuple[Any, Any, Any]:
    """A small MLP problem on `backend`: He-normal parameters of sizes (3, 8, 1), standard normal
    inputs `X` (n, 3) and targets `y` (n, 1), all drawn from `seed` (biases drawn too, not zero).
    Drawn test-side (`he_mlp`), so that an optimizer's verdict never rests on the initialiser
    under test."""
    from tests.support.strategies import he_mlp

    rng = np.random.default_rng(seed)
    params = {k: backend.asarray(v) for k, v in he_mlp(list(MLP_SIZES), rng).items()}
    for k in params:
        if k.startswith("b"):
            params[k] = backend.asarray(0.5 * rng.standard_normal(tuple(params[k].shape)))
    X = backend.asarray(rng.standard_normal((n, MLP_SIZES[0])))
    y = backend.asarray(rng.standard_normal((n, MLP_SIZES[-1])))
    return params, X, y


def mlp_closed_loop(
    backend: Any, opt: Any, params: Any, X: Any, y: Any, steps: int, activation: str
) -> tuple[np.ndarray, list[np.ndarray], list[dict[str, np.ndarray]]]:
    """Run `opt` on the MLP's squared loss with gradients from `dlcore.mlp.value_and_grad`.

    This is the implementation's closed loop, the actual side: the claims that use it
    (`momentum.pytorch-parametrization-equivalence` clause g, `adaptive.adam-update`) are about
    dlcore's run with dlcore's backward, whose gradients the test asserts equal to torch
    autograd (`assert_mlp_grads_match_torch`) before torch.optim is fed them.

    Returns `(thetas, grads, hosts)`: the flattened iterates theta_0..theta_T (float64 copies of
    the backend values), the flattened gradients dlcore used (exact backend values, widened to
    float64), and the host copies of the parameters at which each gradient was taken. The
    flattening is test-side (`_flat`).
    """
    from dlcore.mlp import value_and_grad
    from dlcore.optim import apply_updates

    def _flat(tree: Any) -> np.ndarray:
        """(vec W1, b1, ..., vec WL, bL) in float64, each W row by row (dlcore's order)."""
        keys = [f"{p}{ell}" for ell in range(1, len(tree) // 2 + 1) for p in "Wb"]
        return np.concatenate([backend.to_numpy(tree[k]).astype(np.float64).ravel() for k in keys])

    state = opt.init(params)
    thetas = [_flat(params)]
    grads, hosts = [], []
    for _ in range(steps):
        hosts.append({k: backend.to_numpy(v).astype(np.float64) for k, v in params.items()})
        _, g = value_and_grad(params, X, y, activation=activation)
        grads.append(_flat(g))
        u, state = opt.update(g, state, params)
        params = apply_updates(params, u)
        thetas.append(_flat(params))
    return np.array(thetas), grads, hosts


def assert_mlp_grads_match_torch(
    backend: Any,
    grads: list[Any],
    hosts: list[dict[str, np.ndarray]],
    X: Any,
    y: Any,
    activation: str,
    claim_id: str,
) -> None:
    """Each step's dlcore backward equals torch autograd (float64) at the same parameters.

    The tolerance follows the backprop rounding model of `mlp_grad_scale`
    (`tests.support.mlp_oracles`, with the torch oracle `torch_mlp_grad`).
    """
    from tests.support.tolerances import assert_close

    hX, hy = backend.to_numpy(X).astype(np.float64), backend.to_numpy(y).astype(np.float64)
    for t, (g, host) in enumerate(zip(grads, hosts, strict=True)):
        g_scale, g_dim = mlp_grad_scale(host, hX, hy, activation)
        assert_close(
            g,
            torch_mlp_grad(host, hX, hy, activation),
            claim=claim_id,
            backend=backend,
            dim=g_dim,
            scale=g_scale,
            what=f"dlcore backward vs torch autograd at step {t}",
        )
