"""Chapter momentum."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from dlcore.dynamics import (
    ema_momentum_max_stable_lr,
    ema_momentum_mode_matrix,
    gd_max_stable_lr,
    momentum_max_stable_lr,
    momentum_mode_matrix,
    spectral_radius,
)
from dlcore.losses import squared_loss_grad
from dlcore.optim import momentum, sgd_momentum
from dlcore.train import run
from tests.support.backends import backend_params
from tests.support.claims import claim
from tests.support.strategies import log_uniform, regression_problems, seeds
from tests.support.tolerances import assert_close, tolerance

STAB = "momentum.stability-bound-on-quadratics"
DELTA = 1e-3  # relative distance from the boundary in the exact test

# Tall problems: H = 2 X^T X is positive definite, the quadratic has one minimizer.
tall = regression_problems(n=(3, 10), d=(1, 6), shape="tall", max_cond=3.0, sigma_max=(0.5, 1.0))


@claim(STAB)
@given(lam=log_uniform(1e-3, 1e3), mu=st.floats(0.0, 0.99), beta=st.floats(0.01, 1.0))
def test_mode_spectral_radius_changes_at_the_bound(lam, mu, beta):
    """rho(M) < 1 just inside the bound and > 1 just outside, in both parametrizations.

    Torch form: bound lr * lam = 2 (1 + mu). EMA form: eta * lam = 2 (2 - beta) / beta. Both are
    GD's 2 / lam at mu = 0 (beta = 1), and the maps agree: lr = eta * beta, mu = 1 - beta.
    """
    bound = momentum_max_stable_lr(lam, mu)
    assert_close(
        bound * lam, 2 * (1 + mu), claim=STAB, backend=_HOST, kind="identity", what="torch bound"
    )
    assert spectral_radius(momentum_mode_matrix(lam, (1 - DELTA) * bound, mu)) < 1
    assert spectral_radius(momentum_mode_matrix(lam, (1 + DELTA) * bound, mu)) > 1
    ema = ema_momentum_max_stable_lr(lam, beta)
    assert_close(
        ema * lam,
        2 * (2 - beta) / beta,
        claim=STAB,
        backend=_HOST,
        kind="identity",
        what="EMA bound",
    )
    assert spectral_radius(ema_momentum_mode_matrix(lam, (1 - DELTA) * ema, beta)) < 1
    assert spectral_radius(ema_momentum_mode_matrix(lam, (1 + DELTA) * ema, beta)) > 1
    assert_close(
        beta * ema,
        momentum_max_stable_lr(lam, 1 - beta),
        claim=STAB,
        backend=_HOST,
        kind="identity",
        cond=1 / beta,
        what="EMA bound in torch units",
    )
    assert_close(
        momentum_max_stable_lr(lam, 0.0),
        gd_max_stable_lr(lam),
        claim=STAB,
        backend=_HOST,
        kind="identity",
        what="mu = 0 is GD",
    )


class _Host:
    """The float64 host 'backend' for checks of closed forms."""

    id = dtype_name = "float64"
    eps = float(np.finfo(np.float64).eps)

    def __str__(self) -> str:
        return "host-float64"


_HOST = _Host()


def _schur_bound(M: np.ndarray, T: int) -> float:
    """||M^T||_2 <= rho^T + T rho^(T-1) |n| for a 2x2 M with complex Schur form [[z1, n], [0, z2]]."""
    S, _ = scipy.linalg.schur(M.astype(complex), output="complex")
    rho = max(abs(S[0, 0]), abs(S[1, 1]))
    return rho**T + T * rho ** (T - 1) * abs(S[0, 1])


def _simulate(backend, problem, form, c, mu_or_beta, e0_modes, steps):
    """Run dlcore momentum on ||Xw - y||^2 from w* + V e0 and return the final error in V coordinates."""
    lam = 2 * problem.svals**2
    w_star = problem.V[:, : problem.rank] @ (
        (problem.U[:, : problem.rank].T @ problem.y) / problem.svals
    )
    if form == "torch":
        lr = c * momentum_max_stable_lr(lam[0], mu_or_beta)
        opt = sgd_momentum(lr, mu_or_beta)
        mats = [momentum_mode_matrix(lam_i, lr, mu_or_beta) for lam_i in lam]
    else:
        lr = c * ema_momentum_max_stable_lr(lam[0], mu_or_beta)
        opt = momentum(lr, mu_or_beta)
        mats = [ema_momentum_mode_matrix(lam_i, lr, mu_or_beta) for lam_i in lam]
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    w0 = {"w": backend.asarray(w_star + problem.V @ e0_modes)}
    wT, _ = run(opt, lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}, w0, steps)
    return problem.V.T @ (backend.to_numpy(wT["w"]) - w_star), mats


forms = st.sampled_from(["torch", "ema"])


def _coefficient(draw_mu, draw_beta, form):
    return draw_mu if form == "torch" else draw_beta


@claim(STAB)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=tall,
    form=forms,
    mu=st.floats(0.0, 0.9),
    beta=st.floats(0.1, 1.0),
    c=st.floats(0.3, 0.9),
    seed=seeds,
)
def test_momentum_converges_inside_the_bound(backend, problem, form, mu, beta, c, seed):
    """Inside the bound the iterates contract as the per-mode Schur bound predicts.

    T is the first step count at which every mode's bound rho^T + T rho^(T-1) |n| is <= 1e-3; the
    observed error must be below the bound (plus rounding of the order of the tolerance).
    """
    e0 = np.random.default_rng(seed).standard_normal(problem.d)
    coef = _coefficient(mu, beta, form)
    _, mats = _simulate(backend, problem, form, c, coef, e0, 0)
    steps = 1
    while max(_schur_bound(M, steps) for M in mats) > 1e-3:
        steps *= 2
    eT, mats = _simulate(backend, problem, form, c, coef, e0, steps)
    bounds = np.array([_schur_bound(M, steps) for M in mats])
    allowed = float(np.linalg.norm(bounds * np.abs(e0)))
    observed = float(np.linalg.norm(eT))
    work = problem.d * steps
    rounding = tolerance(backend.eps, kind="convergence", cond=problem.cond**2, dim=work) * float(
        np.linalg.norm(e0)
    )
    assert observed <= allowed + rounding, (
        f"{form}: |e_T| = {observed:.3e} > {allowed:.3e} after {steps} steps"
    )


@claim(STAB, breaks="step just past the bound")
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=tall,
    form=forms,
    mu=st.floats(0.0, 0.9),
    beta=st.floats(0.1, 1.0),
    c=st.floats(1.05, 1.5),
    seed=seeds,
    top=st.floats(0.5, 1.0),
)
def test_momentum_diverges_past_the_bound(backend, problem, form, mu, beta, c, seed, top):
    """Past the bound the top mode has a real eigenvalue below -1 and the error blows up.

    The top mode starts with error `top` (others of norm <= 1); T is chosen so that the exact
    2x2 recurrence predicts growth by 1e6; the observed error must exceed half the prediction.
    """
    rng = np.random.default_rng(seed)
    e0 = rng.standard_normal(problem.d)
    e0[1:] /= max(1.0, float(np.linalg.norm(e0[1:])))
    e0[0] = top
    coef = _coefficient(mu, beta, form)
    _, mats = _simulate(backend, problem, form, c, coef, e0, 0)
    z = np.linalg.eigvals(mats[0])
    assert np.isreal(z[np.argmax(np.abs(z))]) and np.real(z[np.argmax(np.abs(z))]) < -1
    steps = math.ceil(math.log(1e7) / math.log(spectral_radius(mats[0])))
    predicted = abs((np.linalg.matrix_power(mats[0], steps) @ np.array([0.0, top]))[1])
    eT, _ = _simulate(backend, problem, form, c, coef, e0, steps)
    assert predicted >= 1e5
    assert abs(eT[0]) >= 0.5 * predicted
