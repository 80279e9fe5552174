r"""Linear dynamics of optimizers on quadratics: mode matrices, spectral radii, stability bounds.

On a quadratic with Hessian $H = Q\Lambda Q^\top$ the error $e = w - w^\star$ of GD and of
momentum decouples into the eigen-directions of $H$; each direction ("mode") with eigenvalue
$\lambda$ evolves by a $1\times1$ (GD) or $2\times2$ (momentum) matrix. These functions give those
matrices and the step sizes at which their spectral radius reaches 1. They work on Python floats
and return NumPy arrays: they describe the dynamics, the optimizers in [`dlcore.optim`][dlcore.optim]
run them. The names say the parametrization as there: `ema_` the lecture's EMA form
($\eta$, $\beta$; [`ema_momentum`][dlcore.optim.ema_momentum]), `sgd_` PyTorch's buffer form
($\alpha$, $\mu$; [`sgd_momentum`][dlcore.optim.sgd_momentum]).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from dlcore.backend import (
    _DECAY,
    _POSITIVE,
    _WEIGHT,
    Int,
    Real,
    _finite_result,
    _host,
    check_bool,
    contract,
)

__all__ = [
    "gd_mode_factor",
    "sgd_momentum_mode_matrix",
    "ema_momentum_mode_matrix",
    "spectral_radius",
    "gd_max_stable_lr",
    "sgd_momentum_max_stable_lr",
    "ema_momentum_max_stable_lr",
    "simultaneous_momentum_mode_matrix",
    "mode_eigenvalues",
    "sgd_momentum_iteration_matrix",
    "gd_filter_factors",
    "gd_steps_to_tolerance",
    "ema_frequency_response",
    "momentum_flow_matrix",
]

_MODE = {"lam": Real(0), "lr": _POSITIVE}
r"""A mode's Hessian eigenvalue $\lambda \ge 0$ and step size $> 0$, as the mode functions take them."""


@contract(_MODE)
@_finite_result
def gd_mode_factor(lam: float, lr: float) -> float:
    r"""GD's error factor in a mode of Hessian eigenvalue $\lambda$: $e_{t+1} = (1 - \eta\lambda)\, e_t$."""
    return 1.0 - lr * lam


@contract(_MODE, momentum=_DECAY, nesterov=check_bool)
@_finite_result
def sgd_momentum_mode_matrix(
    lam: float, lr: float, momentum: float, *, nesterov: bool = False
) -> np.ndarray:
    r"""Heavy ball in PyTorch's form, one mode, state $(v, e)$; Nesterov's form with `nesterov`.

    With $g = \lambda e$: $v_{t+1} = \mu v_t + \lambda e_t$ and $e_{t+1} = e_t - \alpha v_{t+1}$, so
    $$\begin{pmatrix} v \\ e \end{pmatrix}_{t+1} =
    \begin{pmatrix} \mu & \lambda \\ -\alpha\mu & 1 - \alpha\lambda \end{pmatrix}
    \begin{pmatrix} v \\ e \end{pmatrix}_{t}, \qquad \det = \mu,\ \operatorname{tr} = 1 + \mu - \alpha\lambda .$$
    Nesterov's form (`SGD(nesterov=True)`) steps with $e_{t+1} = e_t - \alpha(\lambda e_t + \mu v_{t+1})$:
    $$\begin{pmatrix} \mu & \lambda \\ -\alpha\mu^2 & 1 - \alpha\lambda(1+\mu) \end{pmatrix},
    \qquad \det = \mu(1-\alpha\lambda),\ \operatorname{tr} = 1 + \mu - \alpha\lambda(1+\mu) .$$

    Args:
        lam: Hessian eigenvalue $\lambda \ge 0$.
        lr: Learning rate $\alpha > 0$.
        momentum: $\mu \in [0, 1)$.
        nesterov: Nesterov's form, as `optim.sgd_momentum(nesterov=True)`.
    """
    mu = momentum
    if nesterov:
        return np.array([[mu, lam], [-lr * mu * mu, 1.0 - lr * lam * (1.0 + mu)]])
    return np.array([[mu, lam], [-lr * mu, 1.0 - lr * lam]])


@contract(_MODE, beta=_WEIGHT, nesterov=check_bool)
@_finite_result
def ema_momentum_mode_matrix(
    lam: float, lr: float, beta: float, *, nesterov: bool = False
) -> np.ndarray:
    r"""The lecture's EMA momentum, one mode, state $(a, e)$ with $e = w - w^\star$; its Nesterov
    form with `nesterov`.

    $$\begin{pmatrix} a \\ e \end{pmatrix}_{t+1} =
    \begin{pmatrix} 1-\beta & \beta\lambda \\ -\eta(1-\beta) & 1 - \eta\beta\lambda \end{pmatrix}
    \begin{pmatrix} a \\ e \end{pmatrix}_{t}, \qquad \det = 1-\beta,\ \operatorname{tr} = 2 - \beta - \eta\beta\lambda .$$
    The Nesterov form takes the gradient at the look-ahead point $u_t = w_t - \eta(1-\beta)a_t$;
    with $c = 1 - \eta\beta\lambda$:
    $$\begin{pmatrix} a \\ e \end{pmatrix}_{t+1} =
    \begin{pmatrix} (1-\beta)c & \beta\lambda \\ -\eta(1-\beta)c & c \end{pmatrix}
    \begin{pmatrix} a \\ e \end{pmatrix}_{t}, \qquad \det = (1-\beta)c .$$

    Args:
        lam: Hessian eigenvalue $\lambda \ge 0$.
        lr: Step size $\eta > 0$.
        beta: EMA weight $\beta \in (0, 1]$.
        nesterov: The Nesterov form, as `optim.ema_nesterov` (`optim.ema(beta, nesterov=True)`).
    """
    c = 1.0 - lr * beta * lam
    if nesterov:
        return np.array([[(1.0 - beta) * c, beta * lam], [-lr * (1.0 - beta) * c, c]])
    return np.array([[1.0 - beta, beta * lam], [-lr * (1.0 - beta), c]])


def _host_square_matrix(name: str, M: Any) -> np.ndarray:
    """`M` (any array or nested sequence) as a finite, non-empty, square float64 NumPy matrix."""
    out = _host(name, M)
    if out.ndim != 2 or out.shape[0] != out.shape[1] or out.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite, got {out!r:.80}")
    return out


_host_square_matrix.refuses = (  # type: ignore[attr-defined]  # see backend.contract
    "does not hold real numbers, or is masked",
    "is empty, misshapen or not finite",
)


@contract(M=_host_square_matrix)
def spectral_radius(M: np.ndarray) -> float:
    r"""$\rho(M) = \max_i |z_i(M)|$; the linear iteration $s_{t+1} = M s_t$ converges from every start iff $\rho(M) < 1$."""
    return float(np.max(np.abs(np.linalg.eigvals(M))))


@contract(lam_max=_POSITIVE)
@_finite_result
def gd_max_stable_lr(lam_max: float) -> float:
    r"""GD converges on a quadratic iff $0 < \eta < 2/\lambda_{\max}$ (lecture loss: $1/\sigma_{\max}^2$)."""
    return 2.0 / lam_max


@contract(lam_max=_POSITIVE, momentum=_DECAY)
@_finite_result
def sgd_momentum_max_stable_lr(lam_max: float, momentum: float) -> float:
    r"""Heavy ball (PyTorch form) converges iff $0 < \alpha < 2(1+\mu)/\lambda_{\max}$."""
    return 2.0 * (1.0 + momentum) / lam_max


@contract(lam_max=_POSITIVE, beta=_WEIGHT)
@_finite_result
def ema_momentum_max_stable_lr(lam_max: float, beta: float) -> float:
    r"""The lecture's momentum converges iff $0 < \eta < 2(2-\beta)/(\beta\lambda_{\max})$."""
    return 2.0 * (2.0 - beta) / beta / lam_max  # beta lam_max may underflow to 0


@contract(_MODE, beta=_WEIGHT)
def simultaneous_momentum_mode_matrix(lam: float, lr: float, beta: float) -> np.ndarray:
    r"""The simultaneous variant that steps with the *old* average, one mode, state $(a, e)$.

    $a_{t+1} = (1-\beta)a_t + \beta\lambda e_t$ and $e_{t+1} = e_t - \eta\, a_t$ (not $a_{t+1}$):
    $$\begin{pmatrix} 1-\beta & \beta\lambda \\ -\eta & 1 \end{pmatrix}, \qquad
    \det = 1 - \beta + \eta\beta\lambda,\ \operatorname{tr} = 2 - \beta .$$
    It is not the lecture's momentum; it is the variant whose complex eigenvalues can leave the
    unit circle.

    Args:
        lam: Hessian eigenvalue $\lambda \ge 0$.
        lr: Step size $\eta > 0$.
        beta: EMA weight $\beta \in (0, 1]$.
    """
    return np.array([[1.0 - beta, beta * lam], [-lr, 1.0]])


@contract(trace=Real(), det=Real())
def mode_eigenvalues(trace: float, det: float) -> tuple[complex, complex]:
    r"""The two roots of $z^2 - \operatorname{tr}\, z + \det = 0$, in closed form.

    $$z_\pm = \tfrac12\left(\operatorname{tr} \pm \sqrt{\operatorname{tr}^2 - 4\det}\right);$$
    they are complex conjugates with $|z_\pm| = \sqrt{\det}$ iff $\operatorname{tr}^2 < 4\det$.

    Args:
        trace: $\operatorname{tr} M$ of a real $2\times2$ matrix.
        det: $\det M$.

    Returns:
        `(z_plus, z_minus)`, as Python complex numbers; real roots come ordered
        $z_+ \ge z_-$, the smaller in modulus computed from $z_+ z_- = \det$ (no cancellation).
    """
    tr, dt = trace, det
    # Work with tr / 2^e and det / 2^2e, 2^e ~ max(|tr|, sqrt|det|), the scale of the roots:
    # exact (powers of two), and tr^2 - 4 det can then neither overflow nor underflow.
    e = math.frexp(max(abs(tr), math.sqrt(abs(dt))))[1]  # 0 at tr = det = 0: roots 0 and -0
    trs, dts = math.ldexp(tr, -e), math.ldexp(dt, -2 * e)
    disc = trs * trs - 4.0 * dts
    if disc >= 0:
        r = math.sqrt(disc)
        # the root of larger modulus without cancellation, the other from z+ z- = det
        big = math.ldexp(0.5 * (trs + math.copysign(r, trs)) if trs != 0 else 0.5 * r, e)
        small = dt / big if big != 0 else -big
        return complex(max(big, small)), complex(min(big, small))
    re, im = math.ldexp(0.5 * trs, e), math.ldexp(0.5 * math.sqrt(-disc), e)
    return complex(re, im), complex(re, -im)


@contract(
    H=_host_square_matrix, lr=_POSITIVE, momentum=_DECAY, dampening=_DECAY, nesterov=check_bool
)
@_finite_result
def sgd_momentum_iteration_matrix(
    H: np.ndarray,
    lr: float,
    momentum: float,
    *,
    dampening: float = 0.0,
    nesterov: bool = False,
) -> np.ndarray:
    r"""The $2d\times2d$ matrix of PyTorch-form momentum on a quadratic with Hessian $H$.

    State $(v, e)$, $e = w - w^\star$, $g = He$, and (from the second step on, when the damping
    $\tau$ applies) $v_{t+1} = \mu v_t + (1-\tau)He_t$,
    $$e_{t+1} = e_t - \alpha\, v_{t+1} \ \text{(heavy ball)}, \qquad
    e_{t+1} = e_t - \alpha\,(He_t + \mu v_{t+1}) \ \text{(Nesterov)} .$$
    In the eigenbasis of $H$ it is block-diagonal with the $2\times2$
    [`sgd_momentum_mode_matrix`][dlcore.dynamics.sgd_momentum_mode_matrix] blocks (with the same
    `nesterov`), so its eigenvalues are the union of theirs. The first step, $v_1 = g_0$, is this matrix with $\tau = 0$.

    Args:
        H: Symmetric $d\times d$ Hessian (positive semi-definite for a convex quadratic).
        lr: Learning rate $\alpha > 0$.
        momentum: $\mu \in [0, 1)$.
        dampening: $\tau \in [0, 1)$.
        nesterov: Nesterov's form (needs $\tau = 0$).
    """
    mu, tau = momentum, dampening
    if nesterov and tau != 0:
        raise ValueError(f"nesterov=True needs dampening = 0, got dampening={dampening!r}")
    eye = np.eye(H.shape[0])
    zero = np.zeros_like(H)
    V = np.hstack([mu * eye, (1 - tau) * H])  # v_{t+1} as a function of (v_t, e_t)
    direction = np.hstack([zero, H]) + mu * V if nesterov else V  # He_t + mu v_{t+1}, or v_{t+1}
    return np.vstack([V, np.hstack([zero, eye]) - lr * direction])


@contract(lr=_POSITIVE, t=Int(0))
@_finite_result
def gd_filter_factors(s: np.ndarray, lr: float, t: int) -> np.ndarray:
    r"""GD's spectral filter from $w_0 = 0$ on the lecture loss: $p(\sigma, t) = 1 - (1 - 2\eta\sigma^2)^t$.

    After $t$ steps GD holds the fraction $p(\sigma_i, t)$ of the least-squares coordinate,
    $\tilde w_{t,i} = p(\sigma_i, t)\,\tilde y_i/\sigma_i$. In the monotone range $2\eta\sigma^2 \le 1$
    it is computed as $-\operatorname{expm1}(t\,\operatorname{log1p}(-2\eta\sigma^2))$, which keeps
    full relative accuracy for small $2\eta\sigma^2 t$.

    Args:
        s: Singular values $\sigma_i \ge 0$ (a float or a NumPy array).
        lr: Step size $\eta > 0$.
        t: Number of steps $t \ge 0$.

    Raises:
        TypeError: If `s` does not hold real numbers, or is a masked array.
        ValueError: If `s` (of any shape, the empty one included) is negative or not finite.
    """
    sig = _host("s", s)
    if not np.all(np.isfinite(sig)) or np.any(sig < 0):
        raise ValueError(f"s must be finite and >= 0, got {sig!r:.80}")
    a = 2.0 * lr * sig * sig
    with np.errstate(divide="ignore", invalid="ignore"):
        smooth = -np.expm1(int(t) * np.log1p(-np.minimum(a, 1.0)))
    return np.where(a < 1.0, smooth, 1.0 - (1.0 - a) ** int(t))


_EXACT_STEPS = 1024
r"""Up to this many steps `gd_steps_to_tolerance` decides $\rho^t \le \delta$ in exact rational
arithmetic; beyond, by logarithms (see there)."""
_TINY_GAP = Fraction(1, 2**1000)
r"""Below this $1 - \rho$, $\ln\rho = -(1 - \rho)$ to far below float precision (a relative
error of $(1 - \rho)/2$). The count is then taken in rational arithmetic: as a float, $1 - \rho$
may be subnormal or 0, and the count may exceed the largest float."""


@contract(lam=_POSITIVE, lr=_POSITIVE, delta=Real(0.0, 1.0, low_open=True, high_open=True))
def gd_steps_to_tolerance(lam: float, lr: float, delta: float) -> int:
    r"""Steps for GD to shrink a mode of Hessian eigenvalue $\lambda$ by $\delta$:
    $t(\delta) = \min\{t \ge 1 : \rho^t \le \delta\}$, $\rho = |1 - \eta\lambda|$.

    That is $\lceil \ln\delta / \ln\rho \rceil$ (at least 1), and 1 at the one-step point
    $\eta\lambda = 1$. The inputs are taken as exact: $\rho$ is formed in rational arithmetic,
    and for counts up to 1024 the count is checked against the definition exactly, so a tie
    $\rho^t = \delta$ (for example $\rho = 1/2$, $\delta = 2^{-51}$) or a near tie (for example
    $1 - 0.495 \cdot 2$ against $0.01$, which differ in the 17th digit) is counted right. Larger
    counts come from the logarithms alone, which can be one off only when $\ln\delta/\ln\rho$
    lies within about $10^{-16}$ times itself of an integer; where $1 - \rho < 2^{-1000}$, the
    quotient is $\ln(1/\delta)/(1 - \rho)$, in rational arithmetic (an int beyond any float).

    Args:
        lam: Hessian eigenvalue $\lambda > 0$.
        lr: Step size $0 < \eta < 2/\lambda$.
        delta: Target factor $\delta \in (0, 1)$.

    Raises:
        ValueError: If $\eta\lambda \ge 2$ (the mode does not contract).
    """
    rho = abs(1 - Fraction(lr) * Fraction(lam))  # exact: lr lam has at most 106 bits
    if rho >= 1:
        raise ValueError(f"lr must be < 2/lam = {2.0 / lam!r} for the mode to contract, got {lr!r}")
    if rho == 0:
        return 1
    gap = 1 - rho
    if gap < _TINY_GAP:  # ln rho = -gap (1 + gap/2 + ...), a float no more: t = ln(1/delta) / gap
        return math.ceil(Fraction(-math.log(delta)) / gap)
    # ln rho, accurate also near 1 (from the exact 1 - rho) and for tiny rho
    log_rho = math.log1p(-float(gap)) if rho > 0.5 else math.log(float(rho))
    t = max(1, math.ceil(math.log(delta) / log_rho))
    if t <= _EXACT_STEPS:  # the least t >= 1 with rho^t <= delta, decided exactly
        d = Fraction(delta)
        while t > 1 and rho ** (t - 1) <= d:
            t -= 1
        while rho**t > d:
            t += 1
    return t


@contract(omega=Real(), beta=_WEIGHT)
def ema_frequency_response(omega: float, beta: float) -> complex:
    r"""The frequency response of the EMA $a_{t+1} = (1-\beta)a_t + \beta u_t$.

    $$H(\omega) = \frac{\beta}{1 - (1-\beta)e^{-i\omega}}, \qquad |H(0)| = 1,\quad
    |H(\pi)| = \frac{\beta}{2-\beta} .$$
    Fed $u_t = e^{i\omega t}$, the EMA settles to $a_t = H(\omega)\,e^{i\omega(t-1)}$ (one step of
    delay, since $a_{t+1}$ is the first to see $u_t$); $|H|$ decreases on $[0, \pi]$: a low-pass filter.

    Args:
        omega: Angular frequency $\omega$ (radians per step).
        beta: EMA weight $\beta \in (0, 1]$.
    """
    return beta / (1.0 - (1.0 - beta) * complex(math.cos(omega), -math.sin(omega)))


@contract(k=_POSITIVE, c=_POSITIVE, lam=Real(0))
@_finite_result
def momentum_flow_matrix(k: float, c: float, lam: float) -> np.ndarray:
    r"""Continuous-time momentum, one mode, state $(a, e)$: $\dot a = k(\lambda e - a)$, $\dot e = -c\,a$.

    $$\frac{d}{dt}\begin{pmatrix} a \\ e \end{pmatrix} =
    \begin{pmatrix} -k & k\lambda \\ -c & 0 \end{pmatrix}\begin{pmatrix} a \\ e \end{pmatrix},
    \qquad s^2 + k s + k c \lambda = 0 ,$$
    the limit $h \to 0$ of the lecture's momentum with $\beta = hk$, $\eta = hc$. Both roots have
    negative real part for all $k, c, \lambda > 0$ (a passive RLC circuit); they are complex
    (oscillating) iff $k < 4c\lambda$. The lecture's momentum is the semi-implicit Euler step of
    this system (update $a$, then $e$ with the new $a$); forward Euler gives the simultaneous
    variant.

    Args:
        k: Rate of the average, $k > 0$.
        c: Speed of the parameters, $c > 0$.
        lam: Hessian eigenvalue $\lambda \ge 0$.
    """
    return np.array([[-k, k * lam], [-c, 0.0]])
