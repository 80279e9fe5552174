r"""Linear dynamics of optimizers on quadratics: mode matrices, spectral radii, stability bounds.

On a quadratic with Hessian $H = Q\Lambda Q^\top$ the error $e = w - w^\star$ of GD and of
momentum decouples into the eigen-directions of $H$; each direction ("mode") with eigenvalue
$\lambda$ evolves by a $1\times1$ (GD) or $2\times2$ (momentum) matrix. These functions give those
matrices and the step sizes at which their spectral radius reaches 1. They work on Python floats
and return NumPy arrays: they describe the dynamics, the optimizers in [`dlcore.optim`][dlcore.optim]
run them.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from dlcore.backend import check_in_range, check_nonnegative, check_positive, to_numpy

__all__ = [
    "gd_mode_factor",
    "momentum_mode_matrix",
    "ema_momentum_mode_matrix",
    "spectral_radius",
    "gd_max_stable_lr",
    "momentum_max_stable_lr",
    "ema_momentum_max_stable_lr",
]


def gd_mode_factor(lam: float, lr: float) -> float:
    r"""GD's error factor in a mode of Hessian eigenvalue $\lambda$: $e_{t+1} = (1 - \eta\lambda)\, e_t$."""
    lam = check_nonnegative("lam", lam)
    lr = check_positive("lr", lr)
    return 1.0 - lr * lam


def momentum_mode_matrix(lam: float, lr: float, momentum: float) -> np.ndarray:
    r"""Heavy ball in PyTorch's form, one mode, state $(v, e)$.

    With $g = \lambda e$: $v_{t+1} = \mu v_t + \lambda e_t$ and $e_{t+1} = e_t - \alpha v_{t+1}$, so
    $$\begin{pmatrix} v \\ e \end{pmatrix}_{t+1} =
    \begin{pmatrix} \mu & \lambda \\ -\alpha\mu & 1 - \alpha\lambda \end{pmatrix}
    \begin{pmatrix} v \\ e \end{pmatrix}_{t}, \qquad \det = \mu,\ \operatorname{tr} = 1 + \mu - \alpha\lambda .$$

    Args:
        lam: Hessian eigenvalue $\lambda \ge 0$.
        lr: Learning rate $\alpha > 0$.
        momentum: $\mu \in [0, 1)$.
    """
    lam = check_nonnegative("lam", lam)
    lr = check_positive("lr", lr)
    mu = check_in_range("momentum", momentum, 0.0, 1.0, low_open=False, high_open=True)
    return np.array([[mu, lam], [-lr * mu, 1.0 - lr * lam]])


def ema_momentum_mode_matrix(lam: float, lr: float, beta: float) -> np.ndarray:
    r"""The lecture's EMA momentum, one mode, state $(a, e)$.

    $$\begin{pmatrix} a \\ e \end{pmatrix}_{t+1} =
    \begin{pmatrix} 1-\beta & \beta\lambda \\ -\eta(1-\beta) & 1 - \eta\beta\lambda \end{pmatrix}
    \begin{pmatrix} a \\ e \end{pmatrix}_{t}, \qquad \det = 1-\beta,\ \operatorname{tr} = 2 - \beta - \eta\beta\lambda .$$

    Args:
        lam: Hessian eigenvalue $\lambda \ge 0$.
        lr: Step size $\eta > 0$.
        beta: EMA weight $\beta \in (0, 1]$.
    """
    lam = check_nonnegative("lam", lam)
    lr = check_positive("lr", lr)
    beta = check_in_range("beta", beta, 0.0, 1.0, low_open=True, high_open=False)
    return np.array([[1.0 - beta, beta * lam], [-lr * (1.0 - beta), 1.0 - lr * beta * lam]])


def spectral_radius(M: np.ndarray) -> float:
    r"""$\rho(M) = \max_i |z_i(M)|$; the linear iteration $s_{t+1} = M s_t$ converges from every start iff $\rho(M) < 1$."""
    host = to_numpy(M) if array_api_compat.is_array_api_obj(M) else M
    try:
        M = np.asarray(host, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"M must be a real matrix, got {type(host).__name__}: {host!r:.80}"
        ) from err
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"M must be a non-empty square matrix, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"M must be finite, got {M!r:.80}")
    return float(np.max(np.abs(np.linalg.eigvals(M))))


def gd_max_stable_lr(lam_max: float) -> float:
    r"""GD converges on a quadratic iff $0 < \eta < 2/\lambda_{\max}$ (lecture loss: $1/\sigma_{\max}^2$)."""
    return 2.0 / check_positive("lam_max", lam_max)


def momentum_max_stable_lr(lam_max: float, momentum: float) -> float:
    r"""Heavy ball (PyTorch form) converges iff $0 < \alpha < 2(1+\mu)/\lambda_{\max}$."""
    lam_max = check_positive("lam_max", lam_max)
    mu = check_in_range("momentum", momentum, 0.0, 1.0, low_open=False, high_open=True)
    return 2.0 * (1.0 + mu) / lam_max


def ema_momentum_max_stable_lr(lam_max: float, beta: float) -> float:
    r"""The lecture's momentum converges iff $0 < \eta < 2(2-\beta)/(\beta\lambda_{\max})$."""
    lam_max = check_positive("lam_max", lam_max)
    beta = check_in_range("beta", beta, 0.0, 1.0, low_open=True, high_open=False)
    return 2.0 * (2.0 - beta) / (beta * lam_max)
