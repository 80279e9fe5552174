"""Chapter adaptive: Adam, bias correction, scale invariance, coordinate dependence, AdamW."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlcore.dynamics import spectral_radius
from dlcore.losses import squared_loss_grad
from dlcore.optim import (
    AdamState,
    adam,
    adamw,
    apply_updates,
    coupled_weight_decay,
    ema,
    gd,
    rmsprop,
)
from dlcore.train import run
from tests.support.backends import HOST, backend_params
from tests.support.claims import claim, clause
from tests.support.optim_oracles import (
    adam_ratio_bound,
    assert_mlp_grads_match_torch,
    mlp_closed_loop,
    mlp_problem,
    torch_open_loop,
)
from tests.support.strategies import (
    adam_betas,
    gradient_values,
    log_uniform,
    regression_problems,
    seeds,
)
from tests.support.tolerances import Check, tolerance

ADAM = "adaptive.adam-update"
ADAMW = "adaptive.adamw-versus-l2"

tall = regression_problems(n=(3, 10), d=(1, 6), shape="tall", max_cond=10.0, sigma_max=(0.5, 2.0))


def _reference_adam(w0, grads, lr, b1, b2, eps, *, bias_correction=True, wd=0.0, placement="torch"):
    """Adam in the lecture's symbols (beta = 1 - b1, beta' = 1 - b2), a plain float64 NumPy loop.

    `placement` moves epsilon for the breaking case: "torch" (after the corrected root) or
    "uncorrected" (added to sqrt(v) before dividing by sqrt(1 - b2^t)).
    """
    beta, beta_p = 1 - b1, 1 - b2
    w, a, v = w0.astype(np.float64), np.zeros_like(w0), np.zeros_like(w0)
    out = [w]
    for t, g in enumerate(grads, start=1):
        a = (1 - beta) * a + beta * g
        v = (1 - beta_p) * v + beta_p * g * g
        c1 = 1 - (1 - beta) ** t if bias_correction else 1.0
        c2 = 1 - (1 - beta_p) ** t if bias_correction else 1.0
        if placement == "torch":
            step = (a / c1) / (np.sqrt(v / c2) + eps)
        else:
            step = (a / c1) / ((np.sqrt(v) + eps) / math.sqrt(c2))
        w = w - lr * step - lr * wd * w
        out.append(w)
    return np.array(out)


def _quadratic_gradients(problem, w0, steps, lr, b1, b2, eps):
    """The gradient sequence of the float64 reference Adam run on ||Xw - y||^2 (closed loop)."""
    X, y = problem.X, problem.y
    w, grads = w0.copy(), []
    a, v = np.zeros_like(w0), np.zeros_like(w0)
    for t in range(1, steps + 1):
        g = squared_loss_grad(w, X, y)
        grads.append(g)
        a, v = b1 * a + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w = w - lr * (a / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return grads


def _adam_error_scale(steps, lr, d, b1, b2, w_max, *, bias_correction=True):
    r"""B with |w_T - w_T'| <= B eps for two correct implementations fed the same gradients.

    Per coordinate and step t: the recursion for a errs by at most 2t eps max_k |g_k| and v by a
    relative 2t eps; |g_k| / sqrt(v_t) <= J_t = sqrt(c2 / ((1 - b2) b2^(t-1))) and
    |a_t| / sqrt(v_t) <= K_t (Cauchy-Schwarz, `adam_ratio_bound`), so the normalised step errs by
    at most eps (2t J_t / c1 + (t + 4) K_t); the update adds eps |w_t|. Summed over T steps, in
    norm over d coordinates.
    """
    total = 0.0
    for t in range(1, steps + 1):
        c1 = 1 - b1**t if bias_correction else 1.0
        c2 = 1 - b2**t if bias_correction else 1.0
        J = math.sqrt(c2 / (1 - b2) / b2 ** (t - 1))
        K = adam_ratio_bound(t, b1, b2, bias_correction=bias_correction)
        total += lr * math.sqrt(d) * (2 * t * J / c1 + (t + 4) * K) + w_max
    return total


def _feed(backend, opt, w0, grads):
    """Run `opt` on the backend fed the given gradient sequence (open loop); return w_T."""
    p = {"w": backend.asarray(w0)}
    state = opt.init(p)
    for g in grads:
        u, state = opt.update({"w": backend.asarray(g)}, state, p)
        p = apply_updates(p, u)
    return p["w"]


@claim(ADAM)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=tall,
    betas=adam_betas(),
    lr=log_uniform(1e-3, 0.3),
    eps=log_uniform(1e-10, 1.0),
    steps=st.integers(1, 20),
    which=st.sampled_from(["adam", "rmsprop"]),
    seed=seeds,
)
def test_adam_equals_torch_and_the_reference_loop(
    backend, problem, betas, lr, eps, steps, which, seed
):
    """dlcore's Adam (and RMSProp) equal torch.optim's and a float64 NumPy loop, step for step.

    The gradient sequence is that of the float64 reference Adam on a random quadratic, rounded
    once to the backend's dtype and fed to all three (so only the optimizers' arithmetic is
    compared; closed-loop equality then follows by induction). eps spans 1e-10 to 1, so its
    placement matters. Error model: `_adam_error_scale` bounds each implementation's rounding
    by B eps; the equivalence tolerance is 8 eps B.
    """
    check = Check(ADAM, backend)
    b1, b2 = betas
    w0 = np.random.default_rng(seed).standard_normal(problem.d)
    grads = [backend.to_numpy(backend.asarray(g)) for g in
             _quadratic_gradients(problem, w0, steps, lr, b1, b2, eps)]  # fmt: skip
    if which == "adam":
        opt = adam(lr, b1, b2, eps)
        ref = _reference_adam(w0, grads, lr, b1, b2, eps)
        oracle = torch_open_loop(backend, "Adam", w0, grads, lr=lr, betas=(b1, b2), eps=eps)
        bias_correction = True
    else:
        b1, bias_correction = 0.0, False
        opt = rmsprop(lr, alpha=b2, eps=eps)
        ref = _reference_adam(w0, grads, lr, 0.0, b2, eps, bias_correction=False)
        oracle = torch_open_loop(backend, "RMSprop", w0, grads, lr=lr, alpha=b2, eps=eps)
    wT = _feed(backend, opt, w0, grads)
    w_max = float(np.max(np.linalg.norm(ref, axis=1)))
    B = _adam_error_scale(steps, lr, problem.d, b1, b2, w_max, bias_correction=bias_correction)

    def check_both():
        for expected, name in ((oracle[-1], f"torch.optim {which}"), (ref[-1], "NumPy loop")):
            check.assert_close(wT, expected, dim=1, scale=B, what=f"w_T vs {name}")

    if which == "adam":
        with clause("a"):
            check_both()
    else:
        with clause("b"):
            check_both()


@claim(ADAM, breaks="epsilon added before the bias correction of sqrt(v)")
@given(g=log_uniform(1e-3, 1e3), ratio=log_uniform(0.1, 10.0), lr=log_uniform(1e-3, 1.0))
def test_epsilon_placement_changes_the_step(g, ratio, lr):
    """With eps comparable to |g|, adding it to sqrt(v) before the correction changes the first step.

    At t = 1 (torch defaults b = (0.9, 0.999)) torch's step is lr g / (|g| + eps); the other
    placement gives lr g sqrt(c2) / (sqrt(c2) |g| + eps) with sqrt(c2) = sqrt(1e-3). For
    eps = ratio |g| the second is the first times (1 + ratio) / (1 + ratio / sqrt(c2)) <= 0.27,
    which the test checks, and the gap is far above the identity tolerance.

    Rounding: each rounded float64 operation of either side errs by at most u = eps / 2 relative,
    none amplified (g, eps > 0, so every sum adds positive terms; sqrt halves; beta = 1 - b1 and
    beta' = 1 - b2 are exact by Sterbenz, 1 - beta = b1 is representable, so the t = 1 corrections
    c1 = beta, c2 = beta' are exact too). torch form:
    beta g, / c1, beta' g, * g, / c2, sqrt, + eps, the division, lr * : 9; its closed form: 3;
    12 u = 6 eps, so dim 6 (the sweep's 0.73 was dim 1: 4 eps, 8 such operations). The other
    placement: 10 (sqrt(v), sqrt(c2) and the extra division instead of / c2); factor: 5, times
    torch_form: 1 + 9; eps = ratio g rounds once, and F(r) = (1 + r) / (1 + r / sqrt(c2)) has
    |d log F / d log r| < 1: 26 u = 13 eps, dim 13. Each error is <= dim eps against the tolerance
    4 dim eps: ratio <= 1/4 for every admitted g, ratio, lr.
    """
    check = Check(ADAM, HOST)
    eps = ratio * g
    w0, grads = np.zeros(1), [np.array([g])]
    torch_form = _reference_adam(w0, grads, lr, 0.9, 0.999, eps)[-1]
    other = _reference_adam(w0, grads, lr, 0.9, 0.999, eps, placement="uncorrected")[-1]
    check.assert_close(torch_form, [-lr * g / (g + eps)], kind="identity", dim=6)
    factor = (1 + ratio) / (1 + ratio / math.sqrt(1 - 0.999))
    check.assert_close(other, factor * torch_form, kind="identity", dim=13)
    gap = float(np.abs(torch_form - other)[0])
    floor = check.tolerance(kind="identity", dim=13) * float(abs(torch_form[0]))
    assert factor < 1 and gap > floor, f"placements agree: gap {gap:.3e}"


# ---- AdamW versus L2 ------------------------------------------------------------------------


@claim(ADAMW)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=tall,
    lam=log_uniform(1e-3, 1.0),
    c=st.floats(0.1, 0.9),
    steps=st.integers(1, 30),
    seed=seeds,
)
def test_l2_penalty_is_weight_decay_for_gd(backend, problem, lam, c, steps, seed):
    """GD on L + lam |w|^2 (coupled decay 2 lam) equals (1 - 2 eta lam) w - eta grad L(w).

    Both are the linear map w -> (I - eta (H + 2 lam I)) w + 2 eta X^T y with a different order of
    operations; at a stable step that map has norm <= 1, so the per-step rounding of
    (d + 3) eps max |w_t| (the gradient and the three-term update) adds up over T steps.
    torch.optim.SGD(weight_decay = 2 lam), fed the gradients of L at the reference iterates (it
    adds 2 lam w itself), reaches the same w_T: its error is multiplied by |1 - 2 eta lam| <= 1 per
    step and it rounds 3 quantities of size <= 3 max |w_t| (eta |grad L| = |w_{t+1} - (1 - 2 eta
    lam) w_t| <= 2 max |w_t|): 9 eps max |w_t| per step, within the same tolerance.
    """
    check = Check(ADAMW, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    eta = c * 2 / (2 * problem.sigma_max**2 + 2 * lam)
    w0 = np.random.default_rng(seed).standard_normal(problem.d)
    start = {"w": backend.asarray(w0)}
    wT, traj = run(
        coupled_weight_decay(gd(eta), 2 * lam),
        lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
        start,
        steps,
        record_every=1,
    )
    p, grads_L = start, []
    for _ in range(steps):
        grads_L.append(backend.to_numpy(squared_loss_grad(p["w"], X, y)))
        p = {"w": (1 - 2 * eta * lam) * p["w"] - eta * squared_loss_grad(p["w"], X, y)}
    scale = max(float(np.linalg.norm(backend.to_numpy(q["w"]))) for q in traj)
    w0_b = backend.to_numpy(start["w"])
    oracle = torch_open_loop(backend, "SGD", w0_b, grads_L, lr=eta, weight_decay=2 * lam)
    with clause("b"):
        check.assert_close(wT["w"], p["w"], dim=steps * (problem.d + 3), scale=scale)
        check.assert_close(oracle[-1], p["w"], dim=steps * (problem.d + 3),
                     scale=scale, what="torch.optim.SGD(weight_decay=2 lam)")  # fmt: skip


@claim(ADAMW)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=tall,
    betas=adam_betas(),
    lr=log_uniform(1e-3, 0.3),
    eps=log_uniform(1e-10, 1e-2),
    wd=log_uniform(1e-3, 1.0),
    steps=st.integers(1, 20),
    seed=seeds,
)
def test_adamw_equals_torch(backend, problem, betas, lr, eps, wd, steps, seed):
    """dlcore's adamw equals torch.optim.AdamW and the NumPy loop, fed the same gradients.

    Same error model as Adam's (`_adam_error_scale`): the decoupled decay multiplies w by
    (1 - lr wd) <= 1, which does not amplify earlier roundings, and adds eps |w_t| per step,
    already counted there.
    """
    check = Check(ADAMW, backend)
    b1, b2 = betas
    w0 = np.random.default_rng(seed).standard_normal(problem.d)
    grads = [backend.to_numpy(backend.asarray(g)) for g in
             _quadratic_gradients(problem, w0, steps, lr, b1, b2, eps)]  # fmt: skip
    wT = _feed(backend, adamw(lr, b1, b2, eps, weight_decay=wd), w0, grads)
    oracle = torch_open_loop(
        backend, "AdamW", w0, grads, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd
    )
    ref = _reference_adam(w0, grads, lr, b1, b2, eps, wd=wd)
    B = _adam_error_scale(steps, lr, problem.d, b1, b2, float(np.max(np.linalg.norm(ref, axis=1))))
    with clause("a"):
        for expected, name in ((oracle[-1], "torch.optim.AdamW"), (ref[-1], "NumPy loop")):
            check.assert_close(wT, expected, dim=1, scale=B, what=name)


@claim(ADAM)
@claim(ADAMW)
@pytest.mark.parametrize("backend", backend_params())
@given(
    betas=adam_betas(),
    lr=log_uniform(1e-3, 0.1),
    eps=log_uniform(1e-10, 1e-2),
    wd=log_uniform(1e-3, 1.0),
    which=st.sampled_from(["adam", "adamw"]),
    activation=st.sampled_from(["tanh", "relu"]),
    steps=st.integers(1, 10),
    seed=seeds,
)
def test_mlp_trajectories_equal_torch_adam(
    backend, betas, lr, eps, wd, which, activation, steps, seed
):
    """On a small MLP (sizes 3-8-1, squared loss) dlcore's adam / adamw run equals torch.optim's.

    The nonlinear loop is split in two checks: (1) at every iterate dlcore's hand-written
    gradient (`dlcore.mlp.value_and_grad`) equals torch autograd in float64, to the backprop
    model of `mlp_grad_scale`; (2) fed that same gradient sequence (the optimizers act
    coordinatewise, so the flattened parameter vector is an exact stand-in for the tensors),
    torch.optim.Adam / AdamW (foreach=False, same dtype) reproduce dlcore's iterates to the
    open-loop model `_adam_error_scale` (the decoupled decay multiplies by 1 - lr wd <= 1 and
    amplifies nothing). Adam's step is at most lr K_t per coordinate, so the run stays bounded.
    """
    b1, b2 = betas
    if which == "adam":
        opt, name, kw = adam(lr, b1, b2, eps), "Adam", {}
    else:
        opt, name, kw = adamw(lr, b1, b2, eps, weight_decay=wd), "AdamW", {"weight_decay": wd}
    claim_id = ADAM if which == "adam" else ADAMW
    check = Check(claim_id, backend)
    params, X, y = mlp_problem(backend, seed)
    thetas, grads, hosts = mlp_closed_loop(backend, opt, params, X, y, steps, activation)
    assert_mlp_grads_match_torch(backend, grads, hosts, X, y, activation, claim_id)
    oracle = torch_open_loop(backend, name, thetas[0], grads, lr=lr, betas=(b1, b2), eps=eps, **kw)
    w_max = float(np.max(np.linalg.norm(thetas, axis=1)))
    B = _adam_error_scale(steps, lr, thetas.shape[1], b1, b2, w_max)
    # Clause a of both claims: adam = torch.optim.Adam, adamw = torch.optim.AdamW, step for step.
    with clause("a"):
        check.assert_close(
            thetas[-1],
            oracle[-1],
            dim=1,
            scale=B,
            what=f"MLP {which} after {steps} steps vs torch.optim.{name}",
        )


@claim(ADAMW)
@given(
    problem=regression_problems(n=(3, 10), d=(2, 6), shape="tall", max_cond=10.0),
    lam=log_uniform(1e-2, 1.0),
    lr=log_uniform(1e-3, 0.1),
    seed=seeds,
)
def test_adam_with_l2_is_not_adamw(problem, lam, lr, seed):
    """Adam on L + lam |w|^2 and AdamW(weight_decay = 2 lam) part after two steps; at lam = 0 they agree.

    At t = 2 Adam + L2 steps by lr (a^ + 2 lam w-part) / (sqrt(v^) + eps) while AdamW steps by
    lr a^/(sqrt(v^) + eps) + 2 lr lam w: the decay enters normalised in one and not in the other,
    so for generic data they differ by O(lr lam |w|), far above the rounding bound 8 eps B that two
    equal methods would stay within (equality would need a measure-zero coincidence).
    """
    check = Check(ADAMW, HOST)
    X, y = problem.X, problem.y
    w0 = 1.0 + np.random.default_rng(seed).standard_normal(problem.d)
    grad = lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}  # noqa: E731
    coupled, _ = run(coupled_weight_decay(adam(lr), 2 * lam), grad, {"w": w0}, 2)
    decoupled, _ = run(adamw(lr, weight_decay=2 * lam), grad, {"w": w0}, 2)
    plain, _ = run(adam(lr), grad, {"w": w0}, 2)
    zero_decay, _ = run(adamw(lr, weight_decay=0.0), grad, {"w": w0}, 2)
    B = _adam_error_scale(2, lr, problem.d, 0.9, 0.999, 2 * float(np.linalg.norm(w0)))
    with clause("d"):
        check.assert_close(zero_decay["w"], plain["w"], dim=1, scale=B)
    gap = float(np.linalg.norm(coupled["w"] - decoupled["w"]))
    floor = check.tolerance(kind="equivalence") * B
    with clause("c"):
        assert gap > floor, f"Adam + L2 and AdamW agree to {gap:.3e} (rounding {floor:.3e})"


# ---- bias correction --------------------------------------------------------------------------

BIAS = "adaptive.bias-correction"
EPS64 = float(np.finfo(np.float64).eps)


def _mixed_dim(base: int, backend, *conds: float) -> int:
    """dim with dim * eps_backend = base * eps_backend + sum eps64 * cond (host float64 corrections)."""
    return base + sum(math.ceil(EPS64 * c / backend.eps) for c in conds)


@claim(BIAS)
@pytest.mark.parametrize("backend", backend_params())
@given(
    d=st.integers(1, 6),
    betas=adam_betas(),
    lr=log_uniform(1e-3, 1.0),
    eps=log_uniform(1e-10, 1e-2),
    steps=st.integers(1, 40),
    seed=seeds,
)
def test_corrected_averages_of_a_constant_gradient_are_exact(
    backend, d, betas, lr, eps, steps, seed
):
    """Fed a constant g, a_t / (1 - b1^t) = g, v_t / (1 - b2^t) = g^2 and the step is -lr g / (|g| + eps).

    Error model: a_t and v_t are sums of same-signed terms, so the recursion errs by a relative
    (t + 2) eps of the backend; the corrections 1 - b^t are computed in float64 on the host and err
    by eps64 / (1 - b^t); the step adds the errors of a^, half of v^'s, and 4 roundings. The
    exact step lr |g| / (|g| + eps) is below lr; the computed one may round up to lr.
    """
    check = Check(BIAS, backend)
    b1, b2 = betas
    rng = np.random.default_rng(seed)
    g = rng.choice([-1.0, 1.0], d) * np.exp(rng.uniform(np.log(1e-3), np.log(1e3), d))
    opt = adam(lr, b1, b2, eps)
    p = {"w": backend.asarray(np.zeros(d))}
    state = opt.init(p)
    G = {"w": backend.asarray(g)}
    g_host = backend.to_numpy(G["w"])
    for t in range(1, steps + 1):
        u, state = opt.update(G, state, p)
        c1, c2 = 1 - b1**t, 1 - b2**t
        dim_a = _mixed_dim(t + 2, backend, 1 / c1)
        dim_v = _mixed_dim(t + 2, backend, 1 / c2)
        m_hat = backend.to_numpy(state.m["w"]) / c1
        v_hat = backend.to_numpy(state.v["w"]) / c2
        with clause("b"):
            check.assert_close(m_hat, g_host, dim=dim_a, what=f"a^_{t}")
            check.assert_close(v_hat, g_host**2, dim=dim_v, what=f"v^_{t}")
        expected = -lr * g_host / (np.abs(g_host) + eps)
        dim_u = dim_a + dim_v + 4
        slack = check.tolerance(kind="bound", dim=dim_u)
        with clause("c"):
            check.assert_close(u["w"], expected, dim=dim_u, what=f"step {t}")
            assert np.all(np.abs(backend.to_numpy(u["w"])) <= lr * (1 + slack)), f"step {t} > lr"


@claim(BIAS)
@pytest.mark.parametrize("backend", backend_params())
@given(
    d=st.integers(1, 6),
    betas=adam_betas(),
    steps=st.integers(1, 40),
    seed=seeds,
)
@example(d=1, betas=(0.0, 0.9984375), steps=2, seed=0)  # CI: the weights' sum, see below
def test_averages_weight_past_gradients_geometrically(backend, d, betas, steps, seed):
    """From a_0 = v_0 = 0, a_t = sum_{k<t} beta (1-beta)^k g_{t-k} (and v_t likewise with g^2).

    The weights beta (1-beta)^k = (1-b1) b1^k are computed here, not by dlcore, and sum to
    1 - b1^t (checked with math.fsum). Error model, per coordinate: each recursion step rounds at
    most 3 quantities of size <= 2 max|g| (2 max g^2 for v); the float64 reference rounds b1^k
    (1 ulp) and sums t terms of the same size: (6t + t + 4) eps max|g|, in norm over d
    coordinates sqrt(d) max|g| (the tolerance's scale).
    """
    check = Check(BIAS, backend)
    host_check = Check(BIAS, HOST)
    b1, b2 = betas
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((steps, d)) * np.exp(rng.uniform(-3, 3, d))
    G = np.array([backend.to_numpy(backend.asarray(g)) for g in G])
    opt = adam(0.1, b1, b2)
    p = {"w": backend.asarray(np.zeros(d))}
    state = opt.init(p)
    for g in G:
        _, state = opt.update({"w": backend.asarray(g)}, state, p)
    w1 = [(1 - b1) * b1**k for k in range(steps)]  # weight of g_{t-k}
    w2 = [(1 - b2) * b2**k for k in range(steps)]
    a_ref = sum(w * G[steps - 1 - k] for k, w in enumerate(w1))
    v_ref = sum(w * G[steps - 1 - k] ** 2 for k, w in enumerate(w2))
    dim = 7 * steps + 4
    gmax = float(np.max(np.abs(G)))
    with clause("a"):
        check.assert_close(state.m["w"], a_ref, kind="identity", dim=dim,
                     scale=math.sqrt(d) * gmax, what="a_t")  # fmt: skip
        check.assert_close(state.v["w"], v_ref, kind="identity", dim=dim,
                     scale=math.sqrt(d) * gmax**2, what="v_t")  # fmt: skip
        # Absolute, not relative: each weight (1-b) b^k is within (k+2)u of its size, so their
        # exact sum (fsum) within (t+1)u of 1 - b^t, whose float64 evaluation adds (t+1)u more;
        # relative to 1 - b^t that is unbounded as b -> 1 (CI: b = 0.9984375, t = 2).
        for weights, b in ((w1, b1), (w2, b2)):
            host_check.assert_close(math.fsum(weights), 1 - b**steps, kind="identity", dim=steps + 2, scale=1.0,
                         what="sum of the weights")  # fmt: skip


@claim(BIAS, breaks="no bias correction")
@given(g=log_uniform(1e-3, 1e3), lr=log_uniform(1e-3, 1.0))
def test_uncorrected_first_step_is_about_three_times_eta(g, lr):
    """At PyTorch's defaults the uncorrected first step -lr a_1 / (sqrt(v_1) + eps) is lr (0.1 g) / (sqrt(0.001) g + 1e-8).

    Read from dlcore's (uncorrected) state after one step; it exceeds lr for every |g| >= 1e-3,
    while the corrected step stays below lr. Its size over lr is 0.1 / sqrt(0.001) = 3.1623
    divided by 1 + 1e-8 / (sqrt(0.001) g) <= 1 + 3.2e-4: in [3.161, 3.163], 3.16 to two decimals.
    """
    check = Check(BIAS, HOST)
    opt = adam(lr)
    p = {"w": np.zeros(1)}
    u, state = opt.update({"w": np.array([g])}, opt.init(p), p)
    raw = -lr * state.m["w"] / (np.sqrt(state.v["w"]) + 1e-8)
    expected = -lr * (1 - 0.9) * g / (math.sqrt(1 - 0.999) * g + 1e-8)
    check.assert_close(raw, [expected], dim=6)
    assert abs(raw[0]) > lr > abs(u["w"][0]), f"uncorrected {raw[0]:.3e}, corrected {u['w'][0]:.3e}"
    assert round(abs(raw[0]) / lr, 2) == 3.16, abs(raw[0]) / lr


def _uncorrected_first_step(lr, b1, b2, eps, g):
    """dlcore's uncorrected first step -lr a_1 / (sqrt(v_1) + eps), read from its state."""
    opt = adam(lr, b1, b2, eps)
    p = {"w": np.zeros(1)}
    _, state = opt.update({"w": np.array([g])}, opt.init(p), p)
    return float(-lr * state.m["w"][0] / (np.sqrt(state.v["w"][0]) + eps))


@claim(BIAS)
@given(
    beta=st.floats(0.01, 0.99),
    over=st.booleans(),
    u=st.floats(0.0, 1.0),
    g=st.one_of(log_uniform(1e-3, 1e3), log_uniform(1e-3, 1e3).map(lambda x: -x)),
    lr=log_uniform(1e-3, 1.0),
    eps=log_uniform(1e-12, 1e-8),
)
def test_uncorrected_first_step_overshoots_iff_beta_prime_below_beta_squared(
    beta, over, u, g, lr, eps
):
    """The uncorrected first step is lr beta |g| / (sqrt(beta') |g| + eps); it exceeds lr iff beta' < beta^2.

    beta' is constructed on one side of beta^2: beta' = beta^2 (0.01 + 0.79 u) (overshoot side:
    (beta - sqrt(beta')) |g| >= 0.1 beta |g| >= 1e-6 > eps) or beta' = beta^2 + (1 - beta^2)(0.01 + 0.99 u)
    (undershoot side, beta / sqrt(beta') <= 1 - 1e-4 at beta = 0.99). The expected step is a
    float64 formula in beta = 1 - b1, beta' = 1 - b2 (the values dlcore uses). Rounding: dlcore's
    a_1, v_1 and the test's step from them take 9 roundings, the formula 5; all terms positive,
    14 u = 7 eps: dim 7. The margins above are far beyond that.

    At PyTorch's defaults the same step over lr is 0.1 / sqrt(0.001) = 3.1623 divided by
    1 + eps / (sqrt(0.001) |g|) <= 1 + 3.2e-4 (eps <= 1e-8, |g| >= 1e-3): 3.16 to two decimals. The
    statement's example beta = 0.1, beta' = 0.05 gives 0.1 / (sqrt(0.05) + 1e-8) = 0.4472 lr.
    """
    check = Check(BIAS, HOST)
    if over:
        beta_p = beta**2 * (0.01 + 0.79 * u)
    else:
        beta_p = beta**2 + (1 - beta**2) * (0.01 + 0.99 * u)
    b1, b2 = 1 - beta, 1 - beta_p
    beta, beta_p = 1 - b1, 1 - b2
    raw = _uncorrected_first_step(lr, b1, b2, eps, g)
    expected = -lr * beta * g / (math.sqrt(beta_p) * abs(g) + eps)
    with clause("d"):
        check.assert_close(raw, expected, kind="identity", dim=7)
    with clause("e"):
        assert (beta_p < beta**2) == over
        assert ((beta - math.sqrt(beta_p)) * abs(g) > eps) == over
        assert (abs(raw) > lr) == over, (raw / lr, beta, beta_p)
    with clause("f"):
        default = _uncorrected_first_step(lr, 0.9, 0.999, eps, g)
        assert round(abs(default) / lr, 2) == 3.16, abs(default) / lr
    with clause("g"):
        if not over:
            assert abs(raw) < lr, (raw / lr, beta, beta_p)
        example = _uncorrected_first_step(1.0, 0.9, 0.95, 1e-8, 1.0)
        assert (1 - 0.9) ** 2 < 1 - 0.95 < 1 - 0.9  # beta^2 < beta' < beta
        assert round(abs(example), 2) == 0.45, example


@claim(BIAS, breaks="beta' < beta but beta' > beta^2: the old 'overshoots while beta' < beta'")
def test_beta_prime_below_beta_is_not_enough_to_overshoot():
    """beta = 0.1, beta' = 0.05 (b1 = 0.9, b2 = 0.95), g = 1, eps = 1e-8, lr = 1.

    The old wording ("v is underestimated more than a^2 while beta' < beta") predicts an
    overshoot, since 0.05 < 0.1; the uncorrected first step is 0.1 / (sqrt(0.05) + 1e-8) = 0.4472
    lr, an undershoot, as beta' = 0.05 > beta^2 = 0.01 predicts.
    """
    check = Check(BIAS, HOST)
    beta, beta_p = 0.1, 0.05
    raw = _uncorrected_first_step(1.0, 1 - beta, 1 - beta_p, 1e-8, 1.0)
    assert beta_p < beta, "the old wording's premise"
    assert abs(raw) < 1.0, f"the old wording's overshoot: {raw}"
    assert beta_p > beta**2 and round(abs(raw), 2) == 0.45, raw
    check.assert_close(raw, -0.1 / (math.sqrt(0.05) + 1e-8), kind="identity", dim=7)  # fmt: skip


# ---- scale invariance -----------------------------------------------------------------------

SCALE = "adaptive.scale-invariance-and-units"


@claim(SCALE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    d=st.integers(1, 6),
    betas=adam_betas(),
    lr=log_uniform(1e-3, 0.3),
    eps=log_uniform(1e-10, 1e-2),
    c=log_uniform(1e-3, 1e3),
    diagonal=st.booleans(),
    steps=st.integers(1, 20),
    seed=seeds,
)
def test_adam_iterates_do_not_see_the_gradient_scale(
    backend, d, betas, lr, eps, c, diagonal, steps, seed
):
    """Adam fed D g_t with eps -> D eps gives the iterates of Adam fed g_t (D = c I or a positive diagonal).

    The same gradient sequence drives both (closed-loop equality on cL then follows by
    induction). dlcore's adam takes a scalar eps, so the diagonal case runs one coordinate per
    parameter array. Error model: `_adam_error_scale` B per implementation, plus the rounding of
    D g_t, one more eps |g| per step, which at most doubles the recursion terms: 2 B.
    """
    check = Check(SCALE, backend)
    b1, b2 = betas
    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((steps, d)) * np.exp(rng.uniform(-3, 3, d))
    scales = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), d)) if diagonal else np.full(d, c)
    w0 = rng.standard_normal(d)
    names = [f"w{i}" for i in range(d)]
    out = []
    for factor in (np.ones(d), scales):
        params = {k: backend.asarray(w0[i : i + 1]) for i, k in enumerate(names)}
        opts = {k: adam(lr, b1, b2, eps * float(factor[i])) for i, k in enumerate(names)}
        states = {k: opts[k].init({k: params[k]}) for k in names}
        for g in grads:
            for i, k in enumerate(names):
                gk = {k: backend.asarray(factor[i : i + 1] * g[i : i + 1])}
                u, states[k] = opts[k].update(gk, states[k], {k: params[k]})
                params[k] = params[k] + u[k]
        out.append(np.concatenate([backend.to_numpy(params[k]) for k in names]))
    w_max = max(float(np.linalg.norm(w0)), float(np.linalg.norm(out[0])))
    B = _adam_error_scale(steps, lr, d, b1, b2, w_max)
    if diagonal:
        with clause("b"):
            check.assert_close(out[1], out[0], dim=1, scale=2 * B)
    else:
        with clause("a"):
            check.assert_close(out[1], out[0], dim=1, scale=2 * B)


@claim(SCALE)
@given(
    d=st.integers(1, 6),
    lr=log_uniform(1e-3, 1.0),
    c=st.one_of(log_uniform(1e-3, 0.5), log_uniform(2.0, 1e3)),
    seed=seeds,
)
def test_gd_step_scales_with_the_loss(d, lr, c, seed):
    """GD's update on cL is c times its update on L (|c - 1| >= 1/2 here), unless eta is divided by c."""
    check = Check(SCALE, HOST)
    g = np.random.default_rng(seed).standard_normal(d)
    opt, p = gd(lr), {"w": np.zeros(d)}
    u1, _ = opt.update({"w": g}, opt.init(p), p)
    uc, _ = opt.update({"w": c * g}, opt.init(p), p)
    ue, _ = gd(lr / c).update({"w": c * g}, opt.init(p), p)
    gap = float(np.linalg.norm(uc["w"] - u1["w"]))
    floor = check.tolerance(kind="invariant", dim=2) * float(np.linalg.norm(u1["w"]))
    with clause("c"):
        # on cL, GD is GD on L with step c eta (its update is c times the update on L) ...
        check.assert_close(uc["w"], c * u1["w"], dim=2)
        check.assert_close(ue["w"], u1["w"], dim=3)
        # ... so it is not invariant
        assert gap > floor, f"GD's update did not change with the loss scale c = {c}"


# ---- coordinate dependence ----------------------------------------------------------------------

COORD = "adaptive.adam-is-coordinate-dependent"


def _open_loop(opt, w0, grads):
    p = {"w": w0}
    state = opt.init(p)
    for g in grads:
        u, state = opt.update({"w": g}, state, p)
        p = apply_updates(p, u)
    return p["w"]


def _signed_permutation(d, rng):
    return np.eye(d)[rng.permutation(d)] * rng.choice([-1.0, 1.0], d)


@claim(COORD)
@pytest.mark.parametrize("backend", backend_params())
@given(
    d=st.integers(1, 6),
    which=st.sampled_from(["gd", "momentum"]),
    beta=st.floats(0.05, 1.0),
    lr=log_uniform(1e-3, 1.0),
    steps=st.integers(1, 20),
    seed=seeds,
)
def test_gd_and_momentum_are_rotation_equivariant(backend, d, which, beta, lr, steps, seed):
    """Fed Q^T g_t from Q^T w_0, GD and momentum reach Q^T w_T, for a Haar-random orthogonal Q.

    Open loop on one gradient sequence (closed loop on L(Qu) follows by induction, since its
    gradient is Q^T grad L(Qu)). Both runs are linear in the inputs; each step rounds the rotation
    (d eps) and the update (3 eps) of quantities bounded by S = |w_0| + lr T max |g|.
    """
    check = Check(COORD, backend)
    from dlcore.optim import ema_momentum

    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    grads = rng.standard_normal((steps, d))
    w0 = rng.standard_normal(d)
    opt = gd(lr) if which == "gd" else ema_momentum(lr, beta)
    xb = backend.asarray
    plain = backend.to_numpy(_open_loop(opt, xb(w0), [xb(g) for g in grads]))
    rotated = _open_loop(opt, xb(Q.T @ w0), [xb(Q.T @ g) for g in grads])
    S = float(np.linalg.norm(w0)) + lr * steps * float(np.max(np.linalg.norm(grads, axis=1)))
    with clause("a"):
        check.assert_close(rotated, Q.T @ plain, dim=steps * (d + 3), scale=S)


@claim(COORD)
@pytest.mark.parametrize("backend", backend_params())
@given(
    d=st.integers(1, 6),
    betas=adam_betas(),
    lr=log_uniform(1e-3, 0.3),
    steps=st.integers(1, 20),
    seed=seeds,
)
def test_adam_is_equivariant_under_signed_permutations(backend, d, betas, lr, steps, seed):
    """For a signed permutation P, Adam fed P^T g_t from P^T w_0 reaches P^T w_T exactly.

    Permuting and flipping signs are exact in floating point and commute with Adam's elementwise
    arithmetic, so the runs agree bit for bit (the identity tolerance is only the floor).
    """
    check = Check(COORD, backend)
    b1, b2 = betas
    rng = np.random.default_rng(seed)
    P = _signed_permutation(d, rng)
    grads = rng.standard_normal((steps, d)) * np.exp(rng.uniform(-3, 3, d))
    w0 = rng.standard_normal(d)
    opt, xb = adam(lr, b1, b2), backend.asarray
    plain = backend.to_numpy(_open_loop(opt, xb(w0), [xb(g) for g in grads]))
    permuted = _open_loop(opt, xb(P.T @ w0), [xb(P.T @ g) for g in grads])
    with clause("b"):
        check.assert_close(permuted, P.T @ plain, kind="identity")


@claim(COORD)
@given(d=st.integers(2, 6), lr=log_uniform(1e-3, 0.3), steps=st.integers(1, 10), seed=seeds)
def test_adam_is_not_rotation_equivariant(d, lr, steps, seed):
    """For a Haar-random Q (d >= 2), Adam fed Q^T g_t does not reach Q^T w_T.

    Its first step is about lr sign(Q^T g_0), which is not Q^T lr sign(g_0) for a generic Q; the
    gap exceeds the rounding bound 8 eps B within which two equal runs would agree.
    """
    host_check = Check(COORD, HOST)
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    grads = rng.standard_normal((steps, d))
    w0 = rng.standard_normal(d)
    plain = _open_loop(adam(lr), w0, list(grads))
    rotated = _open_loop(adam(lr), Q.T @ w0, [Q.T @ g for g in grads])
    B = _adam_error_scale(steps, lr, d, 0.9, 0.999, float(np.linalg.norm(w0)) + lr * steps * 8)
    gap = float(np.linalg.norm(rotated - Q.T @ plain))
    floor = host_check.tolerance(kind="invariant") * B
    with clause("c"):
        assert gap > floor, f"Adam looked rotation-equivariant: gap {gap:.3e} <= {floor:.3e}"


# ---- optimizer memory ---------------------------------------------------------------------------

MEM = "adaptive.optimizer-memory"

shapes = st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=3), min_size=1, max_size=4)


def _state_arrays(state):
    """The arrays held in an optimizer state (NamedTuple of dicts and ints)."""
    out = []
    for field in state:
        if isinstance(field, dict):
            out += list(field.items())
    return out


@claim(MEM)
@pytest.mark.parametrize("backend", backend_params())
@given(
    shape_list=shapes,
    steps=st.integers(0, 5),
    lr=log_uniform(1e-3, 1.0),
    beta=st.floats(0.01, 1.0),
    mu=st.floats(0.0, 0.99),
    betas=adam_betas(),
    seed=seeds,
)
def test_state_is_zero_one_or_two_parameter_copies(
    backend, shape_list, steps, lr, beta, mu, betas, seed
):
    """After 0 to 5 steps, count the arrays and elements in each optimizer's state.

    GD: none; momentum (both forms), Nesterov, the EMA: one per parameter; Adam, AdamW: two per
    parameter, each of the parameter's shape and dtype; the only other field is the int step
    counter, equal to the number of steps taken. Hyper-parameters are drawn. The counts are exact
    integers.
    """
    from dlcore.optim import ema_momentum, ema_nesterov, sgd, sgd_momentum

    b1, b2 = betas
    rng = np.random.default_rng(seed)
    params = {f"p{i}": backend.asarray(rng.standard_normal(s)) for i, s in enumerate(shape_list)}
    n = sum(int(np.prod(s)) for s in shape_list)
    expected = {
        "gd": (sgd(lr), 0),
        "momentum": (ema_momentum(lr, beta), 1),
        "sgd_momentum": (sgd_momentum(lr, mu), 1),
        "nesterov": (ema_nesterov(lr, beta), 1),
        "ema": (ema(beta), 1),
        "adam": (adam(lr, b1, b2), 2),
        "adamw": (adamw(lr, b1, b2), 2),
    }

    def check_state(name, opt, copies):
        state, p = opt.init(params), params
        for _ in range(steps):
            u, state = opt.update({k: 0.5 * v for k, v in p.items()}, state, p)
            if name != "ema":  # the EMA returns the average, not a step: keep the parameters
                p = apply_updates(p, u)
        arrays = _state_arrays(state)
        assert len(arrays) == copies * len(params), f"{name}: {len(arrays)} arrays"
        for k, a in arrays:
            assert tuple(a.shape) == tuple(params[k].shape) and a.dtype == params[k].dtype, name
        stored = sum(int(np.prod(a.shape)) for _, a in arrays)
        assert stored == copies * n, name
        others = [f for f in state if not isinstance(f, dict)]
        assert all(isinstance(f, int) for f in others), f"{name}: {others}"
        if copies == 2:
            assert others == [steps], f"{name}: step counter {others}"
        return (n + stored) / n

    totals = {}
    with clause("a"):
        totals["gd"] = check_state("gd", *expected["gd"])
    with clause("b"):
        for name in ("momentum", "sgd_momentum", "nesterov", "ema"):
            totals[name] = check_state(name, *expected[name])
    with clause("c"):
        for name in ("adam", "adamw"):
            totals[name] = check_state(name, *expected[name])
    with clause("d"):
        assert totals == {name: 1 + copies for name, (_, copies) in expected.items()}, totals


# ---- epsilon and the step-size bound ------------------------------------------------------------

EPSB = "adaptive.epsilon-and-step-size-bound"


@claim(EPSB)
@pytest.mark.parametrize("backend", backend_params())
@given(
    seq=st.lists(st.lists(gradient_values, min_size=3, max_size=3), min_size=1, max_size=40),
    betas=adam_betas(),
    eps=log_uniform(1e-8, 1.0),
)
@example(  # a float32 step of 1.1e-45 rounds to the smallest subnormal, 1.4e-45 (CI seed 1629692941)
    seq=[[0.0, 0.0, 1.0000000000000004e-06], [0.0, 0.0, 0.0]],
    betas=(1.1754943508222875e-38, 0.9),
    eps=1.0,
)
def test_every_step_obeys_the_epsilon_and_cauchy_schwarz_bounds(backend, seq, betas, eps):
    """For an arbitrary gradient sequence (zeros, signs, six decades): |a_t| <= K_t sqrt(v_t) and |step| <= eta |a^| / eps.

    a_t and v_t are read from dlcore's (uncorrected) state. Both bounds are inequalities between
    computed quantities, each a sum of at most t terms: they hold up to a relative (t + 4) eps of
    the backend (the identity tolerance on the right-hand side).
    """
    check = Check(EPSB, backend)
    b1, b2 = betas
    lr = 0.1
    opt = adam(lr, b1, b2, eps)
    p = {"w": backend.asarray(np.zeros(3))}
    state = opt.init(p)
    for t, g in enumerate(seq, start=1):
        u, state = opt.update({"w": backend.asarray(np.array(g))}, state, p)
        m, v = backend.to_numpy(state.m["w"]), backend.to_numpy(state.v["w"])
        slack = 1 + check.tolerance(kind="identity", dim=t + 4)
        K = adam_ratio_bound(t, b1, b2, bias_correction=False)
        with clause("b"):
            assert np.all(np.abs(m) <= K * np.sqrt(v) * slack), f"Cauchy-Schwarz broken at t={t}"
        m_hat = np.abs(m) / (1 - b1**t)
        step = np.abs(backend.to_numpy(u["w"]))
        # A subnormal step (b1 near 0 makes a_t tiny) carries an absolute rounding error beyond
        # the relative slack: from the stored a_t three operations round (a_t / (1 - b1^t), the
        # division by sqrt(v^) + eps >= eps, the product with eta), their errors scaled by the
        # later operations by eta / eps, eta and 1.
        floor = check.underflow(lr / eps + lr + 1)
        with clause("a"):
            assert np.all(np.isfinite(step)), f"non-finite step at t={t}"
            bound = lr * m_hat / eps * slack + floor
            assert np.all(step <= bound), f"epsilon bound broken at t={t}"
        # K_t sqrt(1 - b2^t) / (1 - b1^t), the corrected bound (closed form, test-side)
        Kc = K * math.sqrt(1 - b2**t) / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        with clause("h"):
            assert np.all(m_hat <= Kc * np.sqrt(v_hat) * slack), f"corrected ratio > K at t={t}"
            assert np.all(step <= lr * Kc * slack), f"step above eta K_t at t={t}"


def _ratio_after(b1, b2, grads):
    """|a_t| / sqrt(v_t), read from dlcore's (uncorrected) Adam state after the given gradients."""
    opt, p = adam(0.1, b1, b2), {"w": np.zeros(1)}
    state = opt.init(p)
    for g in grads:
        _, state = opt.update({"w": np.array([float(g)])}, state, p)
    return float(abs(state.m["w"][0]) / np.sqrt(state.v["w"][0]))


@claim(EPSB)
@given(b1=st.floats(0.0, 0.95), u=st.floats(0.0, 0.999), t=st.integers(1, 30))
def test_the_bound_is_attained_and_finite_iff_b1_squared_below_b2(b1, u, t):
    """K_t is attained by g_{t-k} = (b1/b2)^k, its limit is sqrt((1-b1)^2 / ((1-b2)(1 - b1^2/b2))).

    b2 is drawn in (b1^2, 1); at PyTorch's defaults the limit is 7.27. A single gradient k steps
    back gives |a|/sqrt(v) = (1-b1) b1^k / sqrt((1-b2) b2^k), which is the k-th term of the sum.
    Attainment: the gradients (b1/b2)^k (lecture: ((1-beta)/(1-beta'))^k) make the two vectors in
    Cauchy-Schwarz parallel; a_t, v_t and K_t^2 are sums of t positive terms (each with a power
    accurate to 1 ulp), so their ratio errs by at most (2t + 8) eps.
    """
    check = Check(EPSB, HOST)
    b2 = b1**2 + (1 - b1**2) * (0.001 + 0.998 * u)
    limit = math.sqrt((1 - b1) ** 2 / ((1 - b2) * (1 - b1**2 / b2)))
    r = b1**2 / b2
    T = max(1, math.ceil(math.log(1e-20) / math.log(r))) if r > 0 else 1
    with clause("c"):
        check.assert_close(
            adam_ratio_bound(T, b1, b2, bias_correction=False),
            limit,
            kind="identity",
            dim=T,
            cond=1 / (1 - r),
        )
    default = adam_ratio_bound(3000, 0.9, 0.999, bias_correction=False)
    with clause("d"):
        check.assert_close(default, math.sqrt(0.01 / (0.001 * (1 - 0.81 / 0.999))), kind="identity", dim=3000,
                     cond=1 / (1 - 0.81 / 0.999))  # fmt: skip
        assert round(default, 2) == 7.27, default
    attained = _ratio_after(b1, b2, [(b1 / b2) ** (t - s) for s in range(1, t + 1)])
    with clause("e"):
        check.assert_close(attained, adam_ratio_bound(t, b1, b2, bias_correction=False), kind="identity", dim=2 * t + 8,
                     what="K_t attained")  # fmt: skip
    k = 5
    opt, p = adam(0.1, b1, b2), {"w": np.zeros(1)}
    state = opt.init(p)
    for g in [1.0] + [0.0] * k:
        _, state = opt.update({"w": np.array([g])}, state, p)
    ratio = float(state.m["w"][0] / np.sqrt(state.v["w"][0]))
    term = (1 - b1) * b1**k / math.sqrt((1 - b2) * b2**k)
    with clause("f"):
        check.assert_close(ratio, term, kind="identity", dim=2 * k + 4)
    # The other side of the iff: with b1^2 > b2 (b2' = b1^2 / (1 + over)) the single-gradient
    # ratio grows by (b1^2 / b2')^10 = (1 + over)^10 from k = 20 to k = 40 (as in the breaking
    # case below, same tolerance). b1 >= 0.1 keeps b1^k and b2'^k far from underflow.
    if b1 >= 0.1:
        over = 0.05 + u
        ratios = [_ratio_after(b1, b1**2 / (1 + over), [1.0] + [0.0] * kk) for kk in (20, 40)]
        with clause("c", "g"):
            check.assert_close(ratios[1] / ratios[0], (1 + over) ** 10, kind="identity", dim=90)  # fmt: skip
            assert ratios[1] > ratios[0] > 0


@claim(EPSB, breaks="a single nonzero gradient does not attain K_t (the old wording)")
def test_a_single_gradient_does_not_attain_the_bound():
    """At PyTorch's defaults and t = 10, every single nonzero gradient (any of the 10 slots) stays below K_10.

    The old wording said the bound is attained by a single nonzero gradient k steps back. The
    largest single-gradient ratio is the largest term of the sum, 0.1 / sqrt(0.001) = 3.16 at
    k = 0, while K_10 = 6.81: the gap is far above rounding. The geometric gradients (0.9/0.999)^k
    attain K_10 (to (2t + 8) eps).
    """
    check = Check(EPSB, HOST)
    b1, b2, t = 0.9, 0.999, 10
    K = adam_ratio_bound(t, b1, b2, bias_correction=False)
    singles = [_ratio_after(b1, b2, [1.0 if s == j else 0.0 for s in range(t)]) for j in range(t)]
    assert max(singles) < 0.6 * K, (singles, K)
    attained = _ratio_after(b1, b2, [(b1 / b2) ** (t - s) for s in range(1, t + 1)])
    check.assert_close(attained, K, kind="identity", dim=2 * t + 8)


@claim(EPSB, breaks="b1^2 > b2")
@given(b2=st.floats(0.5, 0.9), over=st.floats(0.05, 1.0))
def test_ratio_grows_without_bound_when_b1_squared_exceeds_b2(b2, over):
    """With b1^2 = b2 (1 + over) (< 1), one gradient k steps back gives |a|/sqrt(v) growing like (b1/sqrt b2)^k.

    Read from dlcore's state after k = 20 and k = 40 zero gradients: the ratio grows by exactly
    (b1^2 / b2)^10 = (1 + over)^10.
    """
    check = Check(EPSB, HOST)
    b1 = min(math.sqrt(b2 * (1 + over)), 0.999)
    grow = b1**2 / b2
    ratios = []
    for k in (20, 40):
        opt, p = adam(0.1, b1, b2), {"w": np.zeros(1)}
        state = opt.init(p)
        for g in [1.0] + [0.0] * k:
            _, state = opt.update({"w": np.array([g])}, state, p)
        ratios.append(float(state.m["w"][0] / np.sqrt(state.v["w"][0])))
    check.assert_close(ratios[1] / ratios[0], grow**10, kind="identity", dim=90)
    assert ratios[1] > ratios[0] > 0


# ---- sign-GD: the size estimate must be smoothed -------------------------------------------------

SIGN = "adaptive.size-estimate-must-be-smoothed"
TINY = 1e-300  # eps > 0 is required; |g| / (|g| + 1e-300) rounds to 1 for every |g| > 1e-284


@claim(SIGN)
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(
    n=st.integers(0, 40),
    f=st.floats(0.1, 0.9),
    eta=log_uniform(1e-3, 1.0),
    h=log_uniform(1e-2, 1e2),
    w0=st.floats(-10.0, 10.0),
    side=st.sampled_from([-1.0, 1.0]),
)
def test_sign_gd_walks_then_cycles_around_the_minimum(backend, n, f, eta, h, w0, side):
    """adam(eta, 0, 0, eps=1e-300) on h (w - c)^2 moves by eta every step and ends in the f eta / (1 - f) eta cycle.

    float64 only: eps = 1e-300 is below float32's range. Each step rounds w +- eta with an error
    of eps (|w| + eta), so after t steps the positions err by t eps (|w_0| + |c| + eta) (the
    tolerance's scale).
    """
    check = Check(SIGN, backend)
    c = w0 + side * (n + f) * eta
    opt = adam(eta, 0.0, 0.0, TINY)
    p = {"w": backend.asarray(np.array([w0]))}
    state = opt.init(p)
    steps = n + 21
    ws = [w0]
    for _ in range(steps):
        w = p["w"]
        u, state = opt.update({"w": 2 * h * (w - c)}, state, p)
        p = apply_updates(p, u)
        ws.append(float(backend.to_numpy(p["w"])[0]))
    W = np.array(ws)
    scale = abs(w0) + abs(c) + eta
    with clause("a"):
        check.assert_close(np.abs(np.diff(W)), np.full(steps, eta), dim=steps, scale=scale, what="|w_{t+1} - w_t|")  # fmt: skip
    # n steps toward c: the distance falls by eta per step, from (n + f) eta to f eta
    walk = np.abs(W[: n + 1] - c)
    dist = np.abs(W[n:] - c)
    expected = np.where(np.arange(len(dist)) % 2 == 0, f * eta, (1 - f) * eta)
    with clause("b"):
        check.assert_close(walk, (n + f - np.arange(n + 1)) * eta, dim=steps, scale=scale, what="the walk toward c")  # fmt: skip
        check.assert_close(dist, expected, dim=steps, scale=scale,
                     what="the period-2 tail")  # fmt: skip
        assert dist.min() > 0


@claim(SIGN, breaks="(c - w_0) / eta an integer")
@given(n=st.integers(1, 40), k=st.integers(0, 10), w0=st.integers(-100, 100))
def test_sign_gd_lands_exactly_when_the_distance_is_a_multiple_of_eta(n, k, w0):
    """With eta = 2^-k and integer w_0, c = w_0 + n eta: every iterate is exact, w_n = c, and the gradient is 0 from then on."""
    check = Check(SIGN, HOST)
    eta = 2.0**-k
    c = w0 + n * eta
    opt = adam(eta, 0.0, 0.0, TINY)
    p = {"w": np.array([float(w0)])}
    state = opt.init(p)
    for _ in range(n + 5):
        u, state = opt.update({"w": 2 * (p["w"] - c)}, state, p)
        p = apply_updates(p, u)
    check.assert_close(p["w"], [c], kind="identity", scale=abs(c) + eta)
    assert p["w"][0] == c, "sign-GD stopped short of (or past) an exactly reachable minimum"


# ---- bigger steps where gradients are small --------------------------------------------------------

BIG = "adaptive.bigger-steps-where-gradients-are-small"


@claim(BIG)
@pytest.mark.parametrize("backend", backend_params())
@given(
    h_small=log_uniform(1e-4, 1e-2),
    lr=log_uniform(1e-4, 1e-2),
    eps=log_uniform(1e-12, 1e-8),
    far=st.one_of(st.just(1.0), log_uniform(1.0, 100.0)),
    seed=seeds,
)
@example(  # c_0 = -4.28, d = 0.1: GD ratio 5.577e-15 > 3.553e-15 at dim 4 (counterexamples ledger)
    h_small=0.009954054173515277, lr=0.00010000000000000009, eps=1e-10, far=1.0, seed=242658
)
def test_adam_moves_flat_and_steep_coordinates_alike(backend, h_small, lr, eps, far, seed):
    """h = (1, h_small), both coordinates d = 1000 far lr from c (far >= 1): Adam's first 10 steps are lr |g|/(|g| + eps) within 1 +- 10 K lr / d each.

    Over 10 steps each coordinate moves at most 10 K lr (K = adam_ratio_bound(10, 0.9, 0.999)), so
    its gradient stays within a factor 1 +- 10 K lr / d of the first; a^ and sqrt(v^) are averages of
    those gradients, so their ratio is within that factor too. GD at lr / h_max moves the
    coordinates in the ratio h_small exactly (to rounding) in its first step.

    Rounding of that ratio (host float64, u = eps / 2): w0 = c + s d is rounded (u |w0_i|), and
    w0 - c recovers s d only to u |w0_i| + u, relative u (|w0_i| / d + 1): the test's own
    cancellation, |c| / d up to ~50 at d = 0.1 (lr = 1e-4). Then h_small (w0_1 - c_1) and the
    division round once each (2 h_0 = 2 and the step 0.5 / h_max = 0.5 are exact): in all
    ((|w0_0| + |w0_1|) / d + 4) u. dim counts these rounding units; the former dim 4 counted the
    four roundings but not the cancellation, and failed at the example above (|c_0| = 4.28).
    """
    check = Check(BIG, HOST)
    rng = np.random.default_rng(seed)
    h = np.array([1.0, h_small])
    d = 1000 * far * lr
    c = rng.standard_normal(2)
    w0 = c + rng.choice([-1.0, 1.0], 2) * d
    grad = lambda w: 2 * h * (w - c)  # noqa: E731
    K = adam_ratio_bound(10, 0.9, 0.999)
    spread = 10 * K * lr / d
    opt = adam(lr, eps=eps)
    p = {"w": backend.asarray(w0)}
    state = opt.init(p)
    for t in range(10):
        g = grad(backend.to_numpy(p["w"]))
        u, state = opt.update({"w": backend.asarray(g)}, state, p)
        p = apply_updates(p, u)
        step = np.abs(backend.to_numpy(u["w"]))
        nominal = lr * np.abs(g) / (np.abs(g) + eps)
        slack = tolerance(backend.eps, kind="bound", dim=t + 5)
        with clause("b"):
            assert np.all(step >= nominal * (1 - spread) * (1 - slack)), (t, step, nominal)
            assert np.all(step <= nominal * (1 + spread) * (1 + slack)), (t, step, nominal)
    u_gd, _ = gd(0.5 / h.max()).update({"w": grad(w0)}, gd(1.0).init({"w": w0}), {"w": w0})
    moves = np.abs(u_gd["w"])
    cancel = float(np.sum(np.abs(w0))) / d  # u |w0_i| lost in w0 - c, relative to |w0_i - c_i| = d
    with clause("c"):
        check.assert_close(moves[1] / moves[0], h_small, kind="identity", dim=4 + cancel)


@claim(BIG)
@given(
    v0=log_uniform(1e-8, 1e4),
    ratio=log_uniform(1.01, 100.0),
    k=st.integers(2, 8),
    t=st.integers(1, 50),
)
def test_effective_step_decreases_in_v(v0, ratio, k, t):
    """From an Adam state with equal a and v_i = v0 ratio^i, a zero-gradient step is strictly smaller where v is larger.

    eps = 1e-3 sqrt(v0) keeps eps from flattening the comparison. Consecutive steps differ by a
    factor of at least about (1 + sqrt(ratio - 1) / 2), far beyond the few roundings of each step.
    """
    host_check = Check(BIG, HOST)
    v = v0 * ratio ** np.arange(k)
    opt = adam(0.1, eps=1e-3 * math.sqrt(v0))
    p = {"w": np.zeros(k)}
    state = AdamState({"w": np.ones(k)}, {"w": v}, t)
    u, _ = opt.update({"w": np.zeros(k)}, state, p)
    steps = np.abs(u["w"])
    slack = host_check.tolerance(kind="bound", dim=8)
    with clause("a"):
        assert np.all(steps[1:] < steps[:-1] * (1 - slack)), steps


# ---- per-coordinate step sizes ---------------------------------------------------------------------

PER = "adaptive.per-coordinate-step-sizes"


@claim(PER)
@pytest.mark.parametrize("backend", backend_params())
@given(
    h=st.lists(log_uniform(1e-3, 1.0), min_size=1, max_size=8),
    seed=seeds,
)
def test_diagonal_steps_solve_a_diagonal_quadratic_in_one_step(backend, h, seed):
    """On sum h_i (w_i - c_i)^2, GD fed D g with D = diag(1 / (2 h_i)) lands on c in one step.

    Each coordinate is w - (1 / (2h)) 2h (w - c): a few roundings of |w| + |c| (identity tolerance).
    """
    check = Check(PER, backend)
    rng = np.random.default_rng(seed)
    hv, c, w0 = np.array(h), rng.standard_normal(len(h)), rng.standard_normal(len(h))
    xb = backend.asarray
    g = 2 * xb(hv) * (xb(w0) - xb(c))
    u, _ = gd(1.0).update({"w": g / (2 * xb(hv))}, gd(1.0).init({"w": xb(w0)}), {"w": xb(w0)})
    w1 = apply_updates({"w": xb(w0)}, u)["w"]
    scale = float(np.linalg.norm(w0) + np.linalg.norm(c))
    with clause("b"):
        check.assert_close(w1, c, kind="identity", dim=6, scale=scale)


@claim(PER)
@given(kappa=log_uniform(2.0, 1e4), grid=st.integers(20, 80))
def test_no_diagonal_preconditioner_beats_a_scalar_on_a_rotated_quadratic(kappa, grid):
    """For H = R diag(1, 1/kappa) R^T (45 degrees) and D = diag(1, r), r over six decades: the best rho(I - alpha D H) is never below (k-1)/(k+1).

    For each r the best alpha is 2 / (lam_min + lam_max) of DH (real positive eigenvalues, DH being
    similar to D^1/2 H D^1/2), giving rho = (c_r - 1)/(c_r + 1) with c_r the condition number; the
    spectral radius is computed by dlcore's spectral_radius. r = 1 attains the bound.
    """
    check = Check(PER, HOST)
    R = np.array([[1.0, -1.0], [1.0, 1.0]]) / math.sqrt(2)
    H = R @ np.diag([1.0, 1.0 / kappa]) @ R.T
    target = (kappa - 1) / (kappa + 1)
    best = []
    for r in np.concatenate([np.geomspace(1e-3, 1e3, grid), [1.0]]):
        DH = np.diag([1.0, r]) @ H
        lam = np.sort(np.linalg.eigvals(DH).real)
        alpha = 2 / (lam[0] + lam[1])
        best.append(spectral_radius(np.eye(2) - alpha * DH))
    # eigenvalues of DH err by eps |DH| kappa; rho by that times alpha
    slack = check.tolerance(kind="bound", dim=4, cond=kappa)
    with clause("c"):
        assert min(best) >= target - slack, (min(best), target)
        check.assert_close(best[-1], target, cond=kappa, what="scalar D")
    # the per-mode step, H^-1 = R diag(1, kappa) R^T (built from the eigenbasis): rho(I - H^-1 H) = 0,
    # to the rounding of a 2x2 product with |H^-1| |H| = kappa
    newton = spectral_radius(np.eye(2) - (R @ np.diag([1.0, kappa]) @ R.T) @ H)
    with clause("a"):
        check.assert_close(newton, 0.0, kind="identity", dim=4, cond=kappa,
                     scale=1.0, what="Newton's per-mode step")  # fmt: skip


# ---- the second moment is smoothed more ------------------------------------------------------------

SECOND = "adaptive.second-moment-smoothed-more"


def _stationary_gain(beta, K=None):
    """sum_k h_k^2 of dlcore's ema impulse response (K = 60/beta terms: the tail is below e^-60)."""
    K = K or math.ceil(60 / beta)
    opt, p = ema(beta), {"u": np.zeros(1)}
    state, total = opt.init(p), 0.0
    for k in range(K):
        a, state = opt.update({"u": np.array([1.0 if k == 0 else 0.0])}, state, p)
        total += float(a["u"][0]) ** 2
    return total, K


def _relative_variances(beta, beta_p, m, s):
    """Closed forms, with E g^2 and Var g^2 by Gauss-Hermite quadrature (exact for these degrees)."""
    x, w = np.polynomial.hermite_e.hermegauss(20)
    w = w / w.sum()
    g = m + s * x
    e2, e4 = float(w @ g**2), float(w @ g**4)
    rel_a = beta / (2 - beta) * s * s / (m * m)
    rel_v = beta_p / (2 - beta_p) * (e4 - e2 * e2) / (e2 * e2)
    return rel_a, rel_v, e2, e4 - e2 * e2


@claim(SECOND)
@given(
    m=st.one_of(log_uniform(1e-3, 1e3), log_uniform(1e-3, 1e3).map(lambda x: -x)),
    ratio=log_uniform(1e-4, 1e4),
    beta=st.floats(0.01, 1.0),
    q=st.floats(0.01, 1.0),
)
def test_v_fluctuates_less_than_a_at_the_defaults(m, ratio, beta, q):
    """The defaults are beta = 0.1, beta' = 0.001; the stationary relative variances satisfy rel_v < rel_a.

    The same holds for every (beta, beta') with 4 beta'/(2 - beta') = q beta/(2 - beta), q <= 1
    (beta' constructed from a drawn beta and q): rel_v / rel_a = q m^2 (4 m^2 + 2 s^2) / (4 (m^2 +
    s^2)^2) = q (1 + r/2) / (1 + r)^2 with r = s^2 / m^2: a relative margin 1 - (1 + r/2)/(1 + r)^2,
    increasing in r, >= 1.5e-4 at r = 1e-4, far above the quadrature's cancellation in
    E g^4 - (E g^2)^2 (relative eps (1 + r)^2 / (4r + 2r^2) <= 2.5e3 eps).

    The EMA's stationary variance gain sum h_k^2 = beta/(2 - beta) is read off dlcore's impulse
    response (identity tolerance over K terms; at beta' = 0.001, K = 60000 steps is too slow, so
    the gain is checked at beta = 0.1 and the closed form used for both). Moments of g^2 are
    exact by Gauss-Hermite quadrature and match 4 m^2 s^2 + 2 s^4 and m^2 + s^2.
    """
    check = Check(SECOND, HOST)
    sig = inspect.signature(adam)
    b1, b2 = sig.parameters["b1"].default, sig.parameters["b2"].default
    beta, beta_p = 1 - b1, 1 - b2
    with clause("a"):
        assert (round(1 / beta), round(1 / beta_p)) == (10, 1000)
    gain, K = _stationary_gain(beta)
    s = abs(m) * math.sqrt(ratio)
    rel_a, rel_v, e2, var2 = _relative_variances(beta, beta_p, m, s)
    with clause("b"):
        check.assert_close(gain, beta / (2 - beta), kind="identity",
                     dim=3 * K)  # fmt: skip
        check.assert_close([e2, var2], [m * m + s * s, 4 * m * m * s * s + 2 * s**4], kind="identity", dim=40, cond=(m * m + s * s) ** 2 / (s * s * (m * m + s * s)))  # fmt: skip
    with clause("d"):
        assert beta_p < beta and 4 * beta_p / (2 - beta_p) <= beta / (2 - beta)
        assert (round(4 * beta_p / (2 - beta_p), 4), round(beta / (2 - beta), 4)) == (0.002, 0.0526)
        assert rel_v < rel_a, (rel_v, rel_a)
    x = q * beta / (2 - beta) / 4  # beta'/(2 - beta') = x
    bp = 2 * x / (1 + x)
    rel_a, rel_v, _, _ = _relative_variances(beta, bp, m, s)
    with clause("c"):
        assert rel_v < rel_a, (beta, bp, rel_v, rel_a)
    # Equal smoothing: rel_v / rel_a = (4 + 2 r) / (1 + r)^2 with r = s^2 / m^2 (same quadrature
    # tolerance as the breaking case), above 1 iff r^2 < 3; strictly checked where the margin,
    # >= 1.5 % at r <= 1.7, dominates the rounding.
    rel_a, rel_v, _, _ = _relative_variances(beta, beta, m, s)
    with clause("e"):
        check.assert_close(rel_v / rel_a, (4 + 2 * ratio) / (1 + ratio) ** 2, kind="identity", dim=40, cond=max(1.0, 1 / ratio))  # fmt: skip
        if ratio <= 1.7:
            assert rel_v > rel_a, (ratio, rel_v, rel_a)


@claim(SECOND, breaks="equal smoothing, beta' = beta")
@given(beta=st.floats(0.01, 0.5), ratio=st.floats(1e-3, 1.7))
def test_with_equal_smoothing_v_fluctuates_more(beta, ratio):
    """With beta' = beta and s^2 = ratio m^2 < sqrt(3) m^2, rel_v / rel_a = (4 + 2 r)/(1 + r)^2 > 1."""
    check = Check(SECOND, HOST)
    m = 1.0
    rel_a, rel_v, _, _ = _relative_variances(beta, beta, m, math.sqrt(ratio))
    check.assert_close(rel_v / rel_a, (4 + 2 * ratio) / (1 + ratio) ** 2, kind="identity", dim=40, cond=max(1.0, 1 / ratio))  # fmt: skip
    assert rel_v > rel_a
