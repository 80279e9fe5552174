"""Chapter relu-networks: elbows, piecewise-linear representation, backpropagation, local features."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlcore.constructions import relu_net_from_pwl, relu_net_from_slopes, sigmoidal_net_from_samples
from dlcore.init import kink_location
from dlcore.mlp import (
    activation_patterns,
    backward,
    flatten_params,
    forward,
    forward_with,
    init_mlp,
    param_jacobian,
    preactivations,
    value_and_grad,
)
from dlcore.optim import apply_updates, sgd
from tests.support.backends import HOST, backend_params
from tests.support.claims import claim, clause
from tests.support.mlp_oracles import (
    feature_magnitudes,
    output_magnitude,
    torch_mlp_grad,
    torch_mlp_jacobian,
)
from tests.support.strategies import (
    lipschitz_sine_targets,
    log_uniform,
    mlps,
    pwl_functions,
    seeds,
    sine_targets,
)
from tests.support.tolerances import Check, record_ratio, tolerance

UA = "relu-networks.universal-approximation-by-width"
LIN = "relu-networks.linearized-net-is-linear-model-on-jacobian-features"


# ---- helpers -----------------------------------------------------------------------------------


def _phi(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "identity":
        return z
    if name == "tanh":
        return np.tanh(z)
    return 1.0 / (1.0 + np.exp(-z))


def _to(backend, params: dict[str, np.ndarray]) -> dict:
    return {k: backend.asarray(v) for k, v in params.items()}


def _host(backend, params: dict) -> dict[str, np.ndarray]:
    return {k: backend.to_numpy(v) for k, v in params.items()}


# ---- universal approximation -------------------------------------------------------------------


def _elbow_scale(knots: np.ndarray, values: np.ndarray, x: np.ndarray) -> float:
    """Reference magnitude S of the rounding error of the width-k elbow sum at the points x.

    f(x) = v_0 + sum_j c_j (x - t_j)^+ with c_j the slope changes. Rounding the values and the
    slope differences perturbs the slopes by <= 3 eps V / h (V = max |v|); the perturbations
    telescope over the pieces to <= 3 eps V k in the sum. Rounding each term and the (k+1)-term
    sum adds <= (k + 2) eps sum_j |c_j| (|x| + |t_j|). So the error is <= c (k + 2) eps S with
    S = 3 V + sum_j |c_j| (max|x| + |t_j|): kind `convergence`, dim k + 2.
    """
    s = np.diff(values) / np.diff(knots)
    c = np.concatenate([s[:1], np.diff(s)])
    xmax = float(np.max(np.abs(x)))
    return float(3 * np.max(np.abs(values)) + np.sum(np.abs(c) * (xmax + np.abs(knots[:-1]))))


def _check_sup_error(backend, f, a: float, b: float, k: int) -> tuple[float, float]:
    """(sup |f - net| over a grid of [a, b] plus every piece's midpoint, rounding slack).

    Also checks that the net has k hidden units and reproduces np.interp (the PWL interpolant
    I_k f) on the grid.
    """
    check = Check(UA, backend)
    knots = np.linspace(a, b, k + 1)
    values = f(knots)
    net = relu_net_from_pwl(backend.asarray(knots), backend.asarray(values))
    assert tuple(net["W1"].shape) == (1, k), "a one-hidden-layer net of width k"
    x = np.union1d(np.linspace(a, b, 2001), (knots[1:] + knots[:-1]) / 2)
    out = backend.to_numpy(forward(net, backend.asarray(x[:, None])))[:, 0]
    S = _elbow_scale(knots, values, x)
    # sup-norm error <= tol * S  <=>  2-norm error over len(x) points <= tol * sqrt(len(x)) * S
    check.assert_close(
        out,
        np.interp(x, knots, values),
        dim=k + 2,
        scale=math.sqrt(len(x)) * S,
        what="width-k net vs np.interp",
    )
    slack = check.tolerance(kind="convergence", dim=k + 2) * S
    return float(np.max(np.abs(out - f(x)))), slack


def _record_excess(excess: float, slack: float) -> None:
    """Record how much of the rounding slack a bound check used (0 when inside the bound)."""
    record_ratio(0.0 if excess <= 0 else excess / slack if slack > 0 else math.inf)


@claim(UA)
@pytest.mark.parametrize("backend", backend_params())
@given(
    target=sine_targets(),
    a=st.floats(-3, 0),
    length=st.floats(0.5, 4),
    k=st.integers(1, 200),
)
def test_relu_interpolant_meets_c2_bound(backend, target, a, length, k):
    """sup |f - f_theta| <= h^2 M / 8 (+ rounding slack) for the width-k net of relu_net_from_pwl.

    Targets are sums of up to 3 sines, M = sum |a_j| omega_j^2 >= max |f''|. The sup is taken over
    2001 grid points plus every piece's midpoint (a lower estimate of the true sup, so the check
    is sound). The slack is the derived rounding bound of the elbow sum (see _elbow_scale); in
    float32 at large k it is the float32 floor, which the h^2 bound cannot beat.
    """
    f, M = target
    b = a + length
    with clause("c"):
        err, slack = _check_sup_error(backend, f, a, b, k)
    bound = (length / k) ** 2 * M / 8
    _record_excess(err - bound, slack)
    with clause("b"):
        assert err <= bound + slack, (
            f"claim {UA} [{backend}]: sup error {err:.3e} > h^2 M/8 = {bound:.3e} + slack {slack:.3e}"
        )


@claim(UA)
@pytest.mark.parametrize("backend", backend_params())
@given(
    alpha=st.floats(0.1, 1.0),
    scale=st.floats(0.1, 3.0),
    x0=st.floats(0, 1),
    k=st.integers(1, 200),
)
def test_relu_interpolant_meets_modulus_of_continuity(backend, alpha, scale, x0, k):
    """For the Hoelder target f(x) = s |x - x0|^alpha on [0, 1], sup |f - I_k f| <= omega(h) = s h^alpha.

    f is continuous but not C^2 at x0 (not even Lipschitz for alpha < 1): the width-k net still
    converges, at the slower rate of the modulus of continuity. On [0, 1],
    omega_f(t) = s min(t, M)^alpha exactly, M = max(x0, 1 - x0): |u^alpha - v^alpha| is at most
    |u - v|^alpha (same side of x0) or max(u, v)^alpha (either side), and x0 with a point at
    distance min(t, M) attains it. The bound omega_f(h) -> 0 as k grows.
    """

    def f(x):
        return scale * np.abs(x - x0) ** alpha

    with clause("c"):
        err, slack = _check_sup_error(backend, f, 0.0, 1.0, k)
    bound = scale * min(1.0 / k, max(x0, 1.0 - x0)) ** alpha  # omega_f(h)
    _record_excess(err - bound, slack)
    with clause("a"):
        assert err <= bound + slack


@claim(UA, breaks="the bound with m knots in place of k pieces: max|f''| / (8 m^2)")
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(c=st.floats(0.1, 10), a=st.floats(-3, 3), length=st.floats(0.5, 4), m=st.integers(2, 100))
def test_knot_count_bound_is_false(backend, c, a, length, m):
    """f(x) = c x^2 with m knots (m - 1 pieces) errs by exactly c h^2 / 4 at each midpoint, h =
    L/(m-1); the knot-count form c L^2 / (4 m^2) is smaller by the factor ((m-1)/m)^2 and fails.
    """

    def f(x):
        return c * x * x

    err, slack = _check_sup_error(backend, f, a, a + length, m - 1)
    wrong = (length / m) ** 2 * (2 * c) / 8
    exact = (length / (m - 1)) ** 2 * c / 4
    assert exact - wrong > 2 * slack, "test design: the gap must exceed the rounding slack"
    assert err > wrong + slack
    assert abs(err - exact) <= slack


# ---- linearization: local features -------------------------------------------------------------


def _masks(backend, params, X, activation: str):
    """The ReLU pattern found by dlcore on the backend (None for smooth activations)."""
    if activation != "relu":
        return None
    return [backend.to_numpy(m) > 0 for m in activation_patterns(params, X)]


@claim(LIN)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps())
def test_loss_gradient_is_minus_two_phi_transpose_residual(backend, net):
    """Backprop's loss gradient = -2 Phi^T r_0 = the linearized loss's gradient; first GD steps agree.

    Phi (dlcore.param_jacobian) is checked entry by entry against torch.func.jacrev in float64 on
    the same parameters (with dlcore's ReLU pattern, see torch_mlp). The loss gradient from
    dlcore.value_and_grad is checked against -2 Phi^T r_0 computed from that oracle, and one
    dlcore.optim.sgd step of the network against the linearized model's first step
    Delta_1 = 2 eta Phi^T r_0 (the step's rounding adds eps |theta|). Error model: every entry is a chain of sums and products bounded
    entrywise by the magnitudes M of feature_magnitudes, so errors are <= c dim eps ||M|| (dim = sum of
    layer sizes + depth); the gradient's magnitude is ||2 M^T (|y| + |f|)|| (n more terms).
    """
    check = Check(LIN, backend)
    sizes, activation, P, X, y = net
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    host = _host(backend, params)  # the parameters as rounded to the backend's dtype
    hX = backend.to_numpy(bX)
    masks = _masks(backend, params, bX, activation)
    Phi = param_jacobian(params, bX, activation=activation)
    oracle = torch_mlp_jacobian(host, hX, activation, masks)
    M = feature_magnitudes(host, hX, activation)
    dim = sum(sizes) + len(sizes)
    with clause("a"):
        check.assert_close(
            Phi,
            oracle,
            kind="gradient",
            dim=dim,
            scale=float(np.linalg.norm(M)),
            what="param_jacobian vs torch.func.jacrev",
        )
    f0 = backend.to_numpy(forward(params, bX, activation=activation))[:, 0]
    r0 = backend.to_numpy(by) - f0
    loss, grads = value_and_grad(params, bX, by, activation=activation)
    g_scale = float(np.linalg.norm(2 * M.T @ (np.abs(y) + np.abs(f0))))
    with clause("b"):
        check.assert_close(
            flatten_params(grads),
            -2 * oracle.T @ r0,
            dim=dim + X.shape[0],
            scale=g_scale,
            what="backprop gradient vs -2 Phi^T r0",
        )
        check.assert_close(
            loss,
            r0 @ r0,
            dim=X.shape[0],
            scale=float(np.sum(np.abs(r0) * (np.abs(y) + np.abs(f0)))),
            what="loss",
        )
    eta = 1.0 / (2 * (np.linalg.norm(oracle, 2) ** 2 + 1.0))
    opt = sgd(eta)
    updates, _ = opt.update(grads, opt.init(params), params)
    step = flatten_params(apply_updates(params, updates)) - flatten_params(params)
    with clause("c"):
        check.assert_close(
            step,
            2 * eta * oracle.T @ r0,
            dim=dim + X.shape[0],
            scale=eta * g_scale + float(np.linalg.norm(flatten_params(host))),
            what="network GD step vs linearized step",
        )


@claim(LIN, breaks="beyond the first step: Phi moves with theta")
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(net=mlps(d0=(1, 3), width=(2, 6), depth=(2, 3), n=(2, 8), activations=("tanh",)))
def test_second_step_differs_from_linearized_model(backend, net):
    """After one step the network's gradient is no longer -2 Phi_0^T r: the second GD steps differ.

    Tanh network (no dead units), step eta = 1 / (2 ||Phi_0||^2 + 2). The linearized model's
    second step is 2 eta Phi_0^T (r_0 - Phi_0 Delta_1); the network's uses Phi_1 and the true
    residual. Their gap is O(eta^2) but far above the equivalence test's rounding tolerance.
    """
    check = Check(LIN, backend)
    sizes, activation, P, X, y = net
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    Phi0 = backend.to_numpy(param_jacobian(params, bX, activation=activation))
    r0 = y - backend.to_numpy(forward(params, bX, activation=activation))[:, 0]
    eta = 1.0 / (2 * (np.linalg.norm(Phi0, 2) ** 2 + 1.0))
    delta1 = 2 * eta * Phi0.T @ r0
    lin_step2 = 2 * eta * Phi0.T @ (r0 - Phi0 @ delta1)
    opt = sgd(eta)
    state = opt.init(params)
    steps = []
    for _ in range(2):
        _, grads = value_and_grad(params, bX, by, activation=activation)
        updates, state = opt.update(grads, state, params)
        steps.append(backend.to_numpy(flatten_params(updates)))
        params = apply_updates(params, updates)
    M = feature_magnitudes(P, X, activation)
    g_scale = float(np.linalg.norm(2 * M.T @ (np.abs(y) + np.abs(r0 - y))))
    dim = sum(sizes) + len(sizes) + X.shape[0]
    tol = check.tolerance(kind="equivalence", dim=dim) * eta * g_scale
    gap = float(np.linalg.norm(steps[1] - lin_step2))
    assert gap > tol, f"second steps agree within rounding ({gap:.3e} <= {tol:.3e})"


# ---- backpropagation ---------------------------------------------------------------------------

BP = "relu-networks.backprop-computes-exact-gradients"


def _np_loss(theta: np.ndarray, like: dict[str, np.ndarray], X, y, activation: str, masks):
    """||f_theta(X) - y||^2 on the host, real or complex theta; ReLU as z * mask (fixed piece).

    Without a conjugate, the complex continuation is analytic for identity, tanh, sigmoid and the
    masked ReLU, so the complex step Im L(theta + i h e_j) / h is the derivative without
    cancellation.
    """
    L = len(like) // 2
    p, start = {}, 0  # theta split test-side (row-major, W1, b1, W2, ...): it may be complex
    for k in [f"{kind}{ell}" for ell in range(1, L + 1) for kind in "Wb"]:
        size = like[k].size
        p[k] = theta[start : start + size].reshape(like[k].shape)
        start += size
    h = X.astype(theta.dtype)
    for ell in range(1, L + 1):
        z = h @ p[f"W{ell}"] + p[f"b{ell}"]
        if ell < L:
            h = z * masks[ell - 1] if activation == "relu" else _phi(activation, z)
    r = z[:, 0] - y
    return np.sum(r * r)


def _finite_difference_grad(host, X, y, activation, masks) -> np.ndarray:
    """The host float64 oracle without autodiff.

    Piecewise-linear activations (relu on its fixed piece, identity): f is affine in each single
    parameter (the network is multilinear in its layers), so L is quadratic along each coordinate
    and the central difference with step 1 is exact up to rounding. Smooth activations (tanh,
    sigmoid): the complex step with h = 1e-30, whose truncation error h^2 |L'''| / 6 is far below
    rounding.
    """
    theta = flatten_params(host)
    g = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = 1.0
        if activation in ("relu", "identity"):
            g[j] = (
                _np_loss(theta + e, host, X, y, activation, masks)
                - _np_loss(theta - e, host, X, y, activation, masks)
            ) / 2
        else:
            g[j] = np.imag(_np_loss(theta + 1e-30j * e, host, X, y, activation, masks)) / 1e-30
    return g


@claim(BP)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps())
def test_backward_matches_autograd_and_finite_differences(backend, net):
    """dlcore's hand-written backward = torch autograd (float64) = central FD / complex step.

    The oracles run in float64 on the parameters as rounded to the backend's dtype, on the linear
    piece that dlcore's forward pass found (torch_mlp). Error model: the gradient is a chain of
    sums and products bounded by the magnitudes M of feature_magnitudes and the residual magnitude
    |y| + |f|, so errors are <= c dim eps ||2 M^T (|y| + |f|)|| with dim = sum of sizes + depth + n.
    The central difference with step 1 adds the rounding of L(theta +- e_j), <= dim eps L_mag per
    entry, L_mag = sum_a (m_a + |y_a|)^2 with magnitudes of |theta| + 1.
    """
    check = Check(BP, backend)
    host_check = Check(BP, HOST)
    sizes, activation, P, X, y = net
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    host, hX, hy = _host(backend, params), backend.to_numpy(bX), backend.to_numpy(by)
    masks = _masks(backend, params, bX, activation)
    _, grads = value_and_grad(params, bX, by, activation=activation)
    f0 = backend.to_numpy(forward(params, bX, activation=activation))[:, 0]
    M = feature_magnitudes(host, hX, activation)
    g_scale = float(np.linalg.norm(2 * M.T @ (np.abs(hy) + np.abs(f0))))
    dim = sum(sizes) + len(sizes) + X.shape[0]
    auto = torch_mlp_grad(host, hX, hy, activation, masks)
    with clause("a"):
        check.assert_close(
            flatten_params(grads),
            auto,
            dim=dim,
            scale=g_scale,
            what="dlcore backward vs torch autograd",
        )
    fd = _finite_difference_grad(host, hX, hy, activation, masks)
    bumped = {k: np.abs(v) + 1.0 for k, v in host.items()}
    m_out = np.abs(hX)
    for ell in range(1, len(sizes)):
        m_out = m_out @ bumped[f"W{ell}"] + bumped[f"b{ell}"] + (activation == "sigmoid")
    L_mag = float(np.sum((m_out[:, 0] + np.abs(hy)) ** 2))
    with clause("a"):
        host_check.assert_close(
            fd,
            auto,
            dim=dim,
            scale=g_scale + math.sqrt(fd.size) * L_mag,
            what="finite differences vs autograd",
        )


@claim(BP)
@pytest.mark.parametrize("backend", backend_params())
@given(k=st.integers(1, 8), n=st.integers(1, 6), zero_rows=st.integers(1, 6), seed=seeds)
def test_backward_at_a_kink_returns_relu_prime_zero(backend, k, n, zero_rows, seed):
    """Rows with x = 0 and b^1 = 0 put every hidden pre-activation exactly at 0 (0 * w + 0 is
    exact). Backprop uses ReLU'(0) = 0 there, as torch.relu's autograd does: with every row at the
    kink, grad b^1 and grad W^2 are exactly 0 in dlcore and in torch; otherwise the rows at the kink
    add nothing, so grad b^1 equals dlcore's gradient over the other rows alone and torch's (kind
    gradient, magnitudes of feature_magnitudes as in the backward test). The convention ReLU'(0) = 1 would
    add 2 v_j sum (b^2 - y_a) over the kink rows, far above that tolerance."""
    check = Check(BP, backend)
    import torch

    rng = np.random.default_rng(seed)
    m = min(zero_rows, n)
    P = {
        "W1": rng.standard_normal((1, k)),
        "b1": np.zeros(k),
        "W2": rng.standard_normal((k, 1)),
        "b2": rng.standard_normal(1),
    }
    X = np.concatenate([np.zeros((m, 1)), rng.uniform(0.5, 2.0, (n - m, 1))])
    y = rng.standard_normal(n)
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    _, grads = value_and_grad(params, bX, by, activation="relu")
    host, hX, hy = _host(backend, params), backend.to_numpy(bX), backend.to_numpy(by)
    tp = {key: torch.tensor(v, dtype=torch.float64, requires_grad=True) for key, v in host.items()}
    tX = torch.as_tensor(hX, dtype=torch.float64)
    tf = (torch.relu(tX @ tp["W1"] + tp["b1"]) @ tp["W2"] + tp["b2"])[:, 0]
    torch.sum((tf - torch.as_tensor(hy)) ** 2).backward()
    with clause("b"):
        if m == n:  # every row at the kink: the convention makes these gradients exactly 0
            assert np.all(backend.to_numpy(grads["b1"]) == 0.0)
            assert np.all(backend.to_numpy(grads["W2"]) == 0.0)
            assert np.all(tp["b1"].grad.numpy() == 0.0) and np.all(tp["W2"].grad.numpy() == 0.0)
        else:  # the rows at the kink add nothing: the gradient of the rows off it
            _, g_off = value_and_grad(params, bX[m:, :], by[m:], activation="relu")
            f0 = backend.to_numpy(forward(params, bX))[:, 0]
            M = feature_magnitudes(host, hX, "relu")
            scale = float(np.linalg.norm(2 * M.T @ (np.abs(hy) + np.abs(f0))))
            check.assert_close(
                backend.to_numpy(grads["b1"]),
                backend.to_numpy(g_off["b1"]),
                dim=k + n + 4,
                scale=scale,
                what="grad b1 with rows at the kink vs without them",
            )
            check.assert_close(
                backend.to_numpy(grads["b1"]),
                tp["b1"].grad.numpy(),
                dim=k + n + 4,
                scale=scale,
                what="grad b1 vs torch.relu autograd",
            )


@claim(BP, breaks="a ReLU pre-activation exactly at 0 (not differentiable there)")
@pytest.mark.parametrize("backend", backend_params())
@given(k=st.integers(1, 8), n=st.integers(1, 6), seed=seeds)
def test_backward_at_a_kink_is_a_convention(backend, k, n, seed):
    """With X = 0 and b^1 = 0 every hidden pre-activation is exactly 0 and L has a kink in b^1.

    Backprop returns the ReLU'(0) = 0 convention: the gradient in b^1 is exactly 0. The one-sided
    derivatives in b^1_j are 2 v_j sum_a (b^2 - y_a) (right) and 0 (left), so the central
    difference with step h, v_j sum_a (b^2 - y_a) + n v_j^2 h / 2 (exact for this quadratic),
    is not 0: the value returned is a convention, not a derivative. Checked in float64 on the
    host with h = 1e-3 against rounding eps L / h.
    """
    host_check = Check(BP, HOST)
    rng = np.random.default_rng(seed)
    P = {
        "W1": rng.standard_normal((1, k)),
        "b1": np.zeros(k),
        "W2": rng.standard_normal((k, 1)),
        "b2": rng.standard_normal(1),
    }
    X, y = np.zeros((n, 1)), rng.standard_normal(n)
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    _, grads = value_and_grad(params, bX, by, activation="relu")
    assert np.all(backend.to_numpy(grads["b1"]) == 0.0), "backprop returns ReLU'(0) = 0"
    h = 1e-3

    def loss(b1):
        f = P["b2"][0] + np.maximum(b1, 0.0) @ P["W2"][:, 0]
        return float(np.sum((f - y) ** 2))

    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        central = (loss(e) - loss(-e)) / (2 * h)
        rounding = host_check.tolerance(kind="gradient", dim=n + k) * loss(e) / h
        assert abs(central) > rounding, "the loss is differentiable after all"


# ---- representation ----------------------------------------------------------------------------

PWL = "relu-networks.pwl-is-constant-plus-elbows"
COLLAPSE = "relu-networks.depth-collapses-without-nonlinearity"
RESCALE = "relu-networks.positive-rescaling-redundancy"


def _pwl_direct(knots, slopes, c, x):
    """f(x) by integrating the slopes from t_1 (host float64): values at knots, then lines."""
    v = c + np.concatenate([[0.0], np.cumsum(slopes[1:-1] * np.diff(knots))])
    j = np.searchsorted(knots, x, side="right")  # piece index 0..k
    anchor = np.where(j == 0, 0, j - 1)
    return v[anchor] + slopes[j] * (x - knots[anchor])


@claim(PWL)
@pytest.mark.parametrize("backend", backend_params())
@given(fn=pwl_functions())
def test_pwl_equals_constant_plus_elbows(backend, fn):
    """relu_net_from_slopes reproduces the PWL function on all of R; elbows and slope changes read back.

    Evaluated at 200 points spread over [t_1 - 10, t_k + 10] (outside the knot range too) and at
    the knots. Error model: the elbow sum has k + 2 terms of size |c_j| (|x| + |t_j|), rounded in
    the backend's dtype (dim k + 2, scale the sum of the term magnitudes); the kinks -b/w and
    products v w are single roundings (kind identity).
    """
    check = Check(PWL, backend)
    knots, slopes, c = fn
    rng = np.random.default_rng(len(knots))
    x = np.concatenate([rng.uniform(knots[0] - 10, knots[-1] + 10, 200), knots])
    net = relu_net_from_slopes(
        backend.asarray(knots), backend.asarray(slopes), backend.asarray([c])
    )
    out = backend.to_numpy(forward(net, backend.asarray(x[:, None])))[:, 0]
    coef = np.concatenate([[slopes[0]], [slopes[1]], np.diff(slopes[1:])])
    scale = abs(c) + float(
        np.sum(np.abs(coef) * (np.max(np.abs(x)) + np.abs(np.r_[knots[0], knots])))
    )
    with clause("a"):
        check.assert_close(
            out,
            _pwl_direct(knots, slopes, c, x),
            dim=len(knots) + 2,
            scale=math.sqrt(len(x)) * scale,
            what="elbow sum vs PWL",
        )
    with clause("b"):
        assert tuple(net["W1"].shape) == (1, len(knots) + 1)
    w, b = net["W1"][0, :], net["b1"]
    kinks = backend.to_numpy(kink_location(w, b))
    rounded = backend.to_numpy(backend.asarray(knots))  # the knots as the backend holds them
    changes = backend.to_numpy(net["W2"][:, 0] * w)
    with clause("c"):
        check.assert_close(
            kinks,
            np.r_[rounded[0], rounded],
            dim=1,
            what="elbows -b/w vs knots",
        )
        check.assert_close(
            changes,
            np.r_[slopes[0], slopes[1], np.diff(slopes[1:])],
            dim=2,
            what="slope products v w vs slope changes",
        )


@claim(PWL, breaks="a discontinuous function (a jump)")
@pytest.mark.parametrize("backend", backend_params(float64_only=True))
@given(fn=pwl_functions(k=(1, 8)), jump=st.floats(0.1, 5), width=st.integers(1, 32), seed=seeds)
def test_a_jump_is_not_a_sum_of_elbows(backend, fn, jump, width, seed):
    """Every ReLU net is continuous: |f(t + d) - f(t - d)| <= 2 d Lip(f), so no net has a jump.

    For a random width-w net (Lip(f) <= sum_j |v_j w_j|) and a jump J at t, at d = J / (8 (Lip + 1))
    the two sides differ by at most J / 4 plus rounding, so the net misses the jump by > J / 2.
    """
    check = Check(PWL, backend)
    rng = np.random.default_rng(seed)
    params = init_mlp([1, width, 1], rng=rng)
    params["b1"] = rng.standard_normal(width)
    t = fn[0][0]
    lip = float(np.sum(np.abs(params["W2"][:, 0] * params["W1"][0])))
    d = jump / (8 * (lip + 1))
    side = forward(_to(backend, params), backend.asarray(np.array([[t - d], [t + d]])))
    gap = abs(float(backend.to_numpy(side)[1, 0] - backend.to_numpy(side)[0, 0]))
    assert gap <= 2 * d * lip + check.tolerance(kind="identity", dim=width) * (
        lip * (abs(t) + 1) + 1
    )
    assert gap < jump / 2


def _collapse(params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(A, c) with f(X) = X A + c for an identity-activation net (host float64)."""
    L = len(params) // 2
    A, c = params["W1"], params["b1"]
    for ell in range(2, L + 1):
        A, c = A @ params[f"W{ell}"], c @ params[f"W{ell}"] + params[f"b{ell}"]
    return A, c


@claim(COLLAPSE)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(width=(1, 16), depth=(1, 6), activations=("relu",)), shift=st.floats(0, 3))
def test_depth_collapses_to_one_affine_map(backend, net, shift):
    """(a) The identity-activation net equals X A + c. (b) With every unit active on the data the
    ReLU net equals the identity net, hence X A + c on the data.

    For (b) the hidden biases are raised layer by layer until every pre-activation on the batch
    is >= shift (activation_patterns all True); this constructs the assumption, it does not filter.
    Error model: chains of sums bounded by the magnitudes of feature_magnitudes (dim = sum of sizes + depth).
    """
    check = Check(COLLAPSE, backend)
    sizes, _, P, X, _ = net
    P = dict(P)
    h = X
    for ell in range(1, len(sizes) - 1):  # make every hidden unit active on every input
        z = h @ P[f"W{ell}"] + P[f"b{ell}"]
        P[f"b{ell}"] = P[f"b{ell}"] + np.maximum(shift - z.min(axis=0), 0.0) + 1.0
        h = h @ P[f"W{ell}"] + P[f"b{ell}"]
    params, bX = _to(backend, P), backend.asarray(X)
    host, hX = _host(backend, params), backend.to_numpy(bX)
    A, c = _collapse(host)
    scale = output_magnitude(host, hX, "identity")
    dim = sum(sizes) + len(sizes)
    lin = forward(params, bX, activation="identity")
    with clause("a"):
        check.assert_close(
            lin,
            hX @ A + c,
            dim=dim,
            scale=scale,
            what="identity net vs X A + c",
        )
    assert all(bool(np.all(backend.to_numpy(p) > 0)) for p in activation_patterns(params, bX))
    with clause("b"):
        check.assert_close(
            forward(params, bX),
            hX @ A + c,
            dim=dim,
            scale=scale,
            what="all-active ReLU net vs X A + c",
        )


@claim(COLLAPSE, breaks="a kink inside the data (some unit active on part of it only)")
@pytest.mark.parametrize("backend", backend_params())
@given(
    w=st.floats(0.1, 10),
    c=st.floats(-3, 3),
    v=st.floats(0.1, 10),
    sign=st.sampled_from([-1, 1]),
    d1=st.floats(0.1, 2),
    d2=st.floats(0.1, 2),
)
def test_kink_inside_data_is_not_affine(backend, w, c, v, sign, d1, d2):
    """v ReLU(w (x - c)) on x in {c - d1, c, c + d2}: the second divided difference is
    v |w| / (d1 + d2) != 0 (one side is flat, the other has slope v |w|), so no affine map fits.
    """
    check = Check(COLLAPSE, backend)
    ww = sign * w
    params = {
        "W1": np.array([[ww]]),
        "b1": np.array([-ww * c]),
        "W2": np.array([[v]]),
        "b2": np.zeros(1),
    }
    x = np.array([c - d1, c, c + d2])
    f = backend.to_numpy(forward(_to(backend, params), backend.asarray(x[:, None])))[:, 0]
    dd = ((f[2] - f[1]) / d2 - (f[1] - f[0]) / d1) / (d1 + d2)
    slack = check.tolerance(kind="identity", dim=3) * v * w * (abs(c) + 2) / min(d1, d2) ** 2
    assert abs(dd - v * w / (d1 + d2)) <= slack
    assert abs(dd) > slack


@claim(RESCALE)
@pytest.mark.parametrize("backend", backend_params())
@given(
    net=mlps(depth=(2, 4), activations=("relu", "identity")),
    log_alpha=st.floats(-3, 3),
    data=st.data(),
)
def test_positive_rescaling_leaves_the_network_unchanged(backend, net, log_alpha, data):
    """Scaling unit j of hidden layer l by alpha = 10^u in, 1/alpha out leaves f unchanged; the
    rescaling direction (W^l[:, j], b^l_j, -W^{l+1}[j, :]) is a null vector of Phi.

    Error model: magnitudes of feature_magnitudes, with the rescaled unit's in- and out-weights each at
    most alpha or 1/alpha times larger, so the scale is multiplied by max(alpha, 1/alpha).
    """
    check = Check(RESCALE, backend)
    sizes, activation, P, X, _ = net
    ell = data.draw(st.integers(1, len(sizes) - 2))
    j = data.draw(st.integers(0, sizes[ell] - 1))
    alpha = 10.0**log_alpha
    Q = {k: v.copy() for k, v in P.items()}
    Q[f"W{ell}"][:, j] *= alpha
    Q[f"b{ell}"][j] *= alpha
    Q[f"W{ell + 1}"][j, :] /= alpha
    bX = backend.asarray(X)
    f_P = forward(_to(backend, P), bX, activation=activation)
    f_Q = forward(_to(backend, Q), bX, activation=activation)
    M = feature_magnitudes(P, X, activation)
    dim = sum(sizes) + len(sizes)
    amp = max(alpha, 1 / alpha)
    scale = amp * output_magnitude(P, X, activation)
    with clause("a"):
        check.assert_close(
            f_Q,
            backend.to_numpy(f_P),
            dim=dim,
            scale=scale,
            what="rescaled vs original output",
        )
    params = _to(backend, P)
    Phi = backend.to_numpy(param_jacobian(params, bX, activation=activation))
    direction = {k: np.zeros_like(v) for k, v in P.items()}
    direction[f"W{ell}"][:, j] = P[f"W{ell}"][:, j]
    direction[f"b{ell}"][j] = P[f"b{ell}"][j]
    direction[f"W{ell + 1}"][j, :] = -P[f"W{ell + 1}"][j, :]
    u = flatten_params(direction)
    with clause("b"):
        check.assert_close(
            Phi @ u,
            np.zeros(X.shape[0]),
            dim=dim,
            scale=float(np.linalg.norm(M @ np.abs(u))),
            what="Phi times the rescaling direction",
        )


@claim(RESCALE, breaks="alpha < 0 (ReLU is only positively homogeneous)")
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(depth=(2, 2), activations=("relu",)), data=st.data())
def test_negative_rescaling_changes_the_network(backend, net, data):
    """alpha = -1 on unit j of a one-hidden-layer net changes f by exactly -v_j |z_j(x)|, which is
    nonzero wherever z_j(x) != 0 (-v ReLU(-z) - v ReLU(z) = -v |z|)."""
    check = Check(RESCALE, backend)
    sizes, _, P, X, _ = net
    j = data.draw(st.integers(0, sizes[1] - 1))
    Q = {k: v.copy() for k, v in P.items()}
    Q["W1"][:, j] *= -1
    Q["b1"][j] *= -1
    Q["W2"][j, :] *= -1
    bX = backend.asarray(X)
    diff = backend.to_numpy(forward(_to(backend, Q), bX)) - backend.to_numpy(
        forward(_to(backend, P), bX)
    )
    z = np.abs(X @ P["W1"][:, j] + P["b1"][j])
    scale = output_magnitude(P, X, "relu")
    check.assert_close(
        diff[:, 0],
        -P["W2"][j, 0] * z,
        kind="identity",
        dim=sum(sizes) + 2,
        scale=scale,
        what="change under alpha = -1",
    )
    assert (
        float(np.linalg.norm(P["W2"][j, 0] * z))
        > check.tolerance(kind="identity", dim=sum(sizes) + 2) * scale
    )


@claim(RESCALE)
@pytest.mark.parametrize("backend", backend_params())
@given(k=st.integers(1, 12), seed=seeds)
def test_rescaling_null_vectors_bound_the_rank(backend, k, seed):
    """Width-k net 1 -> k -> 1 (3k + 1 parameters) on n = 3k + 6 inputs: the (2k + 2)-th singular
    value of Phi is 0 up to rounding, so rank Phi <= 2k + 1. By Weyl, sigma_{2k+2}(Phi + E) <= ||E||
    with ||E|| <= tol ||M|| (the entrywise magnitudes of feature_magnitudes, as in the linearization test),
    plus the float64 SVD's own rounding of sigma_max."""
    check = Check(RESCALE, backend)
    host_check = Check(RESCALE, HOST)
    rng = np.random.default_rng(seed)
    P = init_mlp([1, k, 1], rng=rng)
    P["b1"] = rng.standard_normal(k)
    X = rng.uniform(-3, 3, (3 * k + 6, 1))
    params, bX = _to(backend, P), backend.asarray(X)
    host, hX = _host(backend, params), backend.to_numpy(bX)
    Phi = backend.to_numpy(param_jacobian(params, bX))
    assert Phi.shape == (3 * k + 6, 3 * k + 1)
    s = np.linalg.svd(Phi, compute_uv=False)
    M = feature_magnitudes(host, hX, "relu")
    bound = check.tolerance(kind="gradient", dim=k + 5) * float(np.linalg.norm(M))
    bound += host_check.tolerance(kind="identity", dim=Phi.shape[0]) * float(s[0])
    record_ratio(float(s[2 * k + 1]) / bound)
    with clause("c"):
        assert s[2 * k + 1] <= bound, f"sigma_(2k+2) = {s[2 * k + 1]:.3e} > {bound:.3e}"


# ---- dead units ----------------------------------------------------------------------------------

DEAD = "relu-networks.dead-relus-get-no-gradient"


def _kill(backend, P: dict[str, np.ndarray], X: np.ndarray, j: int, margin: float) -> None:
    """Make first-layer unit j dead on X: b_j = -max_a x_a^T w_j - margin (constructed).

    The margin is at least the rounding bound of z_j in the backend's dtype (identity kind, dim
    d_0 + 1, scale max_a |x_a|^T |w_j| + |b_j|), so z_j <= 0 holds after rounding too.
    """
    mag = float(np.max(np.abs(X) @ np.abs(P["W1"][:, j])))
    b = -float(np.max(X @ P["W1"][:, j]))
    rounding = tolerance(backend.eps, kind="identity", dim=X.shape[1] + 1) * (mag + abs(b))
    P["b1"][j] = b - max(margin, 2 * rounding)


@claim(DEAD)
@pytest.mark.parametrize("backend", backend_params())
@given(
    net=mlps(width=(2, 8), depth=(2, 3), n=(2, 10), activations=("relu",)),
    steps=st.integers(1, 30),
    batch=st.integers(1, 10),
    data=st.data(),
)
def test_dead_unit_is_frozen_under_sgd(backend, net, steps, batch, data):
    """A first-layer unit made dead on the training set keeps zero gradients and bit-identical
    weights through `steps` SGD steps on random minibatches; the set of units dead on the whole
    training set never shrinks. Exact comparisons: the gradient entries are sums of products with
    an exact 0 factor, and the updates -lr * 0 leave the weights untouched. The step size
    1 / (4 n (1 + ||W||^2 (1 + ||X||^2))) keeps the run finite (asserted).
    """
    sizes, _, P, X, y = net
    j = data.draw(st.integers(0, sizes[1] - 1))
    _kill(backend, P, X, j, data.draw(st.floats(0.0, 1.0)))
    rng = np.random.default_rng(data.draw(seeds))
    params, bX, _by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    frozen = {k: backend.to_numpy(v).copy() for k, v in params.items()}
    lr = 1.0 / (
        4
        * len(y)
        * (1 + sum(float(np.sum(v * v)) for v in P.values()) * (1 + float(np.sum(X * X))))
    )
    opt = sgd(lr)
    state = opt.init(params)
    dead_before = ~np.any(backend.to_numpy(activation_patterns(params, bX)[0]) > 0, axis=0)
    assert dead_before[j]
    for _ in range(steps):
        rows = rng.integers(0, len(y), size=min(batch, len(y)))
        _, grads = value_and_grad(params, backend.asarray(X[rows]), backend.asarray(y[rows]))
        with clause("a"):
            for key, idx in (("W1", (slice(None), j)), ("b1", j), ("W2", (j, slice(None)))):
                assert np.all(backend.to_numpy(grads[key])[idx] == 0.0)
        updates, state = opt.update(grads, state, params)
        params = apply_updates(params, updates)
        dead_now = ~np.any(backend.to_numpy(activation_patterns(params, bX)[0]) > 0, axis=0)
        now = {k: backend.to_numpy(v) for k, v in params.items()}
        with clause("b"):
            assert dead_now[j], "the dead unit revived"
            assert np.array_equal(now["W1"][:, j], frozen["W1"][:, j])
            assert now["b1"][j] == frozen["b1"][j]
            assert np.array_equal(now["W2"][j, :], frozen["W2"][j, :])
        with clause("c"):
            assert np.all(dead_now[dead_before]), "a dead first-layer unit revived"
        dead_before = dead_now
    final = {k: backend.to_numpy(v) for k, v in params.items()}
    assert all(np.all(np.isfinite(v)) for v in final.values()), "test design: the run diverged"


@claim(DEAD, breaks="momentum or Adam state accumulated while the unit was alive")
@pytest.mark.parametrize("backend", backend_params())
@given(
    net=mlps(width=(2, 8), depth=(2, 2), n=(2, 10), activations=("relu",)),
    optimizer=st.sampled_from(["sgd_momentum", "adam"]),
    data=st.data(),
)
def test_dead_unit_moves_with_momentum(backend, net, optimizer, data):
    """Step 0 with unit j active on every input (b_j raised), then kill it: its gradient is now 0,
    but the optimizer's state is not, and the next update moves b_j.

    Heavy ball: the update of b_j is exactly -lr * mu * g_0 (g_0 its step-0 gradient); Adam:
    -lr * m_hat / (sqrt(v_hat) + eps) with m = b1 (1 - b1) g_0, nonzero with the sign of -g_0.
    g_0 = 2 v_j sum_a (f(x_a) - y_a) is nonzero for these draws (asserted).
    """
    check = Check(DEAD, backend)
    from dlcore.optim import adam, sgd_momentum

    sizes, _, P, X, y = net
    j = data.draw(st.integers(0, sizes[1] - 1))
    P["b1"][j] = -float(np.min(X @ P["W1"][:, j])) + 1.0  # active on every input
    lr, mu = 1e-2, 0.9
    opt = sgd_momentum(lr, mu) if optimizer == "sgd_momentum" else adam(lr)
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    state = opt.init(params)
    _, grads = value_and_grad(params, bX, by)
    g0 = float(backend.to_numpy(grads["b1"])[j])
    scale = float(np.abs(P["W2"][j, 0]) * np.sum(np.abs(y) + output_magnitude(P, X, "relu")))
    assert abs(g0) > check.tolerance(kind="invariant", dim=sum(sizes) + len(y)) * scale, (
        "test design: the unit must receive a gradient while alive"
    )
    updates, state = opt.update(grads, state, params)
    host = _host(backend, apply_updates(params, updates))
    _kill(backend, host, backend.to_numpy(bX), j, 1.0)
    params = _to(backend, host)
    _, grads = value_and_grad(params, bX, by)
    assert float(backend.to_numpy(grads["b1"])[j]) == 0.0  # dead: no gradient
    updates, state = opt.update(grads, state, params)
    moved = float(backend.to_numpy(updates["b1"])[j])
    if optimizer == "sgd_momentum":
        check.assert_close(
            moved,
            -lr * mu * g0,
            kind="identity",
            dim=2,
            what="heavy-ball update of a dead unit",
        )
    assert moved != 0.0 and np.sign(moved) == -np.sign(g0)


@claim(DEAD, breaks="a unit in layer 2, whose inputs (the layer-1 outputs) change with training")
@pytest.mark.parametrize("backend", backend_params())
@given(
    n=st.integers(1, 10),
    target=st.floats(3.0, 10.0),
    gap=st.floats(0.1, 2.0),
    rho=st.floats(0.5, 2.0),
    seed=seeds,
)
def test_layer_two_dead_unit_revives(backend, n, target, gap, rho, seed):
    """A constructed net 1 -> 2 -> 2 -> 1 on inputs x_a in [0, 1] with targets y_a = T >= 3:

    layer 1: unit A dead (w = 1, b = -max x - 1, z_A <= -1), unit B alive (w = 1, b = 1, h_B = x + 1);
    layer 2: unit C = ReLU(h_B + c_C), c_C = -(2 + gap), dead on every input (z_C <= -gap);
    unit D = ReLU(h_B), alive; output f = h_D + u_C h_C (u_C drawn, irrelevant while C is dead).

    C's own parameters get no gradient, but B's bias does: dL/db_B = 2 sum_a (x_a + 1 - T) < 0.
    One plain GD step with lr = (1 + gap + rho) / (2 n (T - 2)) raises b_B by
    2 lr sum_a (T - 1 - x_a) >= 1 + gap + rho and w_B by 2 lr sum_a x_a (T - 1 - x_a) >= 0, so
    afterwards z_C(x) = h_B(x) + c_C >= x + rho >= rho > 0 on every input: C revived, certainly.
    Unit A's gradients are exactly 0 and its parameters bit-identical: it stays dead.
    """
    check = Check(DEAD, backend)
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (n, 1))
    y = np.full(n, target)
    u_C = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)
    P = {
        "W1": np.array([[1.0, 1.0]]),
        "b1": np.array([-float(np.max(X)) - 1.0, 1.0]),
        "W2": np.array([rng.standard_normal(2), [1.0, 1.0]]),  # row A (dead), row B
        "b2": np.array([-(2.0 + gap), 0.0]),
        "W3": np.array([[u_C], [1.0]]),
        "b3": np.zeros(1),
    }
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    host, hX = _host(backend, params), backend.to_numpy(bX)
    z1, z2 = (backend.to_numpy(z) for z in preactivations(params, bX)[:2])
    assert np.all(z1[:, 0] < 0) and np.all(z2[:, 0] < 0), "construction: A and C dead on the data"
    lr = (1.0 + gap + rho) / (2 * n * (target - 2.0))
    _, grads = value_and_grad(params, bX, by)
    g = _host(backend, grads)
    for key, idx in (("W1", (slice(None), 0)), ("b1", 0), ("W2", (0, slice(None)))):
        assert np.all(g[key][idx] == 0.0), f"first-layer dead unit A got a gradient in {key}"
    for key, idx in (("W2", (slice(None), 0)), ("b2", 0), ("W3", (0, slice(None)))):
        assert np.all(g[key][idx] == 0.0), f"dead unit C got a gradient in {key}"
    # B's bias gradient: 2 sum_a (f(x_a) - y_a), f = x + 1 while C is dead
    predicted = 2 * float(np.sum(hX[:, 0] + 1 - y))
    check.assert_close(
        g["b1"][1],
        predicted,
        kind="gradient",
        dim=n + 4,
        scale=2 * float(np.sum(np.abs(hX[:, 0]) + 1 + target)),
        what="dL/db_B",
    )
    opt = sgd(lr)
    updates, _ = opt.update(grads, opt.init(params), params)
    new = apply_updates(params, updates)
    after = _host(backend, new)
    for key, idx in (("W1", (slice(None), 0)), ("b1", 0), ("W2", (0, slice(None)))):
        assert np.array_equal(after[key][idx], host[key][idx])
    z1n, z2n = (backend.to_numpy(z) for z in preactivations(new, bX)[:2])
    assert np.all(z1n[:, 0] < 0), "first-layer dead unit A revived"
    # z_C >= x + rho, up to the rounding of the step (n + 1 summed terms, each at most
    # 4 + 2 T + gap + rho in magnitude) and of the forward pass
    rounding = check.tolerance(kind="gradient", dim=n + 4) * (n + 1) * (4 + 2 * target + gap + rho)
    assert rho > 2 * rounding, "test design: the revival margin must exceed rounding"
    assert np.all(z2n[:, 0] >= hX[:, 0] + rho - rounding), "layer-2 unit C did not revive"
    assert np.all(z2n[:, 0] > 0)


LEARN = "relu-networks.expressivity-is-not-learnability"


@claim(LEARN)
@pytest.mark.parametrize("backend", backend_params())
@given(
    net=mlps(d0=(1, 1), width=(1, 8), depth=(2, 2), n=(2, 10), activations=("relu",)),
    steps=st.integers(1, 20),
    data=st.data(),
)
def test_all_inactive_units_get_zero_first_layer_gradients(backend, net, steps, data):
    """Every hidden unit of a 1-D one-hidden-layer ReLU net made inactive on all training inputs
    (`_kill`): through `steps` full-batch GD steps the gradients in W1, b1 and W2 are exactly 0
    (each entry is a sum of products with an exact 0 factor, ReLU'(z) = 0 for z <= 0), so W1, b1,
    W2 and the elbows -b/w stay bit-identical, and the output on every training input is exactly
    the current output bias b2 (sum of 0 * W2 terms, plus b2), whatever the targets. Step size as
    in test_dead_unit_is_frozen_under_sgd (finiteness asserted).
    """
    check = Check(LEARN, backend)
    sizes, _, P, X, y = net
    X = np.sort(X, axis=0) + 1e-2 * np.arange(len(y))[:, None]  # n distinct inputs, gaps >= 1e-2
    for j in range(sizes[1]):
        _kill(backend, P, X, j, data.draw(st.floats(0.0, 1.0)))
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    frozen = {k: backend.to_numpy(v).copy() for k, v in params.items()}
    elbows = backend.to_numpy(kink_location(params["W1"][0, :], params["b1"])).copy()
    assert not np.any(backend.to_numpy(activation_patterns(params, bX)[0]) > 0)
    lr = 1.0 / (
        4
        * len(y)
        * (1 + sum(float(np.sum(v * v)) for v in P.values()) * (1 + float(np.sum(X * X))))
    )
    opt = sgd(lr)
    state = opt.init(params)
    for _ in range(steps):
        _, grads = value_and_grad(params, bX, by)
        with clause("a"):
            for key in ("W1", "b1", "W2"):
                assert np.all(backend.to_numpy(grads[key]) == 0.0), key
        out = backend.to_numpy(forward(params, bX))
        with clause("c"):
            assert np.all(out == backend.to_numpy(params["b2"])[None, :])
        updates, state = opt.update(grads, state, params)
        params = apply_updates(params, updates)
        moved = backend.to_numpy(kink_location(params["W1"][0, :], params["b1"]))
        with clause("b"):
            assert np.array_equal(moved, elbows, equal_nan=True)
    final = {k: backend.to_numpy(v) for k, v in params.items()}
    assert all(np.all(np.isfinite(v)) for v in final.values()), "test design: the run diverged"
    with clause("b"):
        for key in ("W1", "b1", "W2"):
            assert np.array_equal(final[key], frozen[key]), key
    with clause("c"):
        assert np.all(backend.to_numpy(forward(params, bX)) == final["b2"][None, :])
    # the same architecture expresses the targets: relu_net_from_pwl through the n sorted inputs
    # (width n - 1) interpolates them, up to the elbow-sum rounding of _elbow_scale (dim n + 1)
    order = np.argsort(X[:, 0])
    knots, values = X[order, 0], y[order]
    net = relu_net_from_pwl(backend.asarray(knots), backend.asarray(values))
    fit = backend.to_numpy(forward(net, backend.asarray(X)))[:, 0]
    with clause("d"):
        assert tuple(net["W1"].shape) == (1, len(y) - 1)
        check.assert_close(
            fit,
            y,
            kind="convergence",
            dim=len(y) + 1,
            scale=math.sqrt(len(y)) * _elbow_scale(knots, values, X[:, 0]),
            what="width n - 1 interpolating net vs the targets",
        )


# ---- features: penultimate, 1-D shapes -----------------------------------------------------------

PEN = "relu-networks.penultimate-features-are-a-subset"
SHAPES = "relu-networks.relu-local-feature-shapes"
DEPTH_EFF = "relu-networks.depth-can-be-exponentially-efficient"


@claim(PEN)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(width=(1, 16), depth=(1, 4)))
def test_penultimate_features_are_last_layer_jacobian_columns(backend, net):
    """Phi's last m + 1 columns are (h^{L-1}, 1), computed by the same forward pass (kind identity,
    scale of h); P = sum (d_{l-1} d_l + d_l) and P > m + 1 as soon as there is a hidden layer."""
    check = Check(PEN, backend)
    sizes, activation, P, X, _ = net
    params, bX = _to(backend, P), backend.asarray(X)
    Phi = backend.to_numpy(param_jacobian(params, bX, activation=activation))
    zs = preactivations(params, bX, activation=activation)
    g = backend.to_numpy(zs[-2]) if len(zs) > 1 else backend.to_numpy(bX)
    g = _phi(activation, g) if len(zs) > 1 else g
    m = sizes[-2]
    n_params = sum(a * b + b for a, b in itertools.pairwise(sizes))
    with clause("b"):
        assert Phi.shape == (X.shape[0], n_params) == (X.shape[0], flatten_params(P).size)
    with clause("a"):
        check.assert_close(
            Phi[:, -(m + 1) : -1],
            g,
            dim=2,
            scale=float(np.linalg.norm(g))
            + float(np.linalg.norm(backend.to_numpy(zs[-2]) if len(zs) > 1 else 0)),
            what="last-layer Jacobian columns vs penultimate features",
        )
        assert np.all(Phi[:, -1] == 1.0)
    with clause("c"):
        assert (n_params > m + 1) == (len(sizes) > 2)


@claim(SHAPES)
@pytest.mark.parametrize("backend", backend_params())
@given(k=st.integers(1, 32), n=st.integers(1, 40), seed=seeds, d=log_uniform(1e-3, 1.0))
def test_relu_local_features_have_the_stated_shapes(backend, k, n, seed, d):
    """Phi of f(x) = sum_i a_i ReLU(w_i x + b_i) + c against the hinge / step / ramp / constant
    formulas, with unit 0 made dead on the inputs (its columns are exactly 0), and the jump of
    d f / d w_i at the kink: a_i (x* + s d) on the active side and exactly 0 on the other.

    Unit i's columns depend only on z_i and a_i; on random inputs the formulas use dlcore's pattern
    and the pattern is checked against the host sign of z_i wherever |z_i| exceeds its rounding
    bound. The kink probes sit at distance d (1 + |x*|), far beyond rounding.
    """
    check = Check(SHAPES, backend)
    rng = np.random.default_rng(seed)
    w, b, a = rng.standard_normal(k), rng.standard_normal(k), rng.standard_normal(k)
    x = rng.uniform(-3, 3, n)
    b[0] = -abs(w[0]) * 3 - 1.0  # unit 0: dead on [-3, 3]
    P = {"W1": w[None, :], "b1": b, "W2": a[:, None], "b2": rng.standard_normal(1)}
    params = _to(backend, P)
    host = _host(backend, params)
    w, b, a = host["W1"][0], host["b1"], host["W2"][:, 0]
    Phi = backend.to_numpy(param_jacobian(params, backend.asarray(x[:, None])))
    mask = backend.to_numpy(activation_patterns(params, backend.asarray(x[:, None]))[0]) > 0
    xh = backend.to_numpy(backend.asarray(x))
    z = np.outer(xh, w) + b
    sure = np.abs(z) > check.tolerance(kind="identity", dim=2) * (
        np.abs(np.outer(xh, w)) + np.abs(b)
    )
    Wcols, bcols, acols, ccol = Phi[:, :k], Phi[:, k : 2 * k], Phi[:, 2 * k : 3 * k], Phi[:, 3 * k]
    scale = float(np.linalg.norm(np.abs(np.outer(xh, w)) + np.abs(b)))
    with clause("a"):
        check.assert_close(
            acols,
            np.maximum(z, 0) * mask,
            kind="identity",
            dim=2,
            scale=scale,
            what="d f / d a: hinge",
        )
    with clause("b"):
        assert np.array_equal(mask[sure], (z > 0)[sure])  # the indicator is 1[w x + b > 0]
        assert np.array_equal(bcols, a * mask), "d f / d b: step of height a_i"
    with clause("c"):
        check.assert_close(
            Wcols,
            a * xh[:, None] * mask,
            kind="identity",
            dim=1,
            what="d f / d w: a_i x 1[active]",
        )
    with clause("d"):
        assert np.all(ccol == 1.0)
    with clause("e"):
        assert np.all(Phi[:, [0, k, 2 * k]] == 0.0)
    i = int(rng.integers(1, k)) if k > 1 else 0
    if i > 0:
        star = -b[i] / w[i]
        side = np.sign(w[i])  # active for w (x - x*) > 0
        probes = np.array([star + side * d * (1 + abs(star)), star - side * d * (1 + abs(star))])
        Phi_p = backend.to_numpy(param_jacobian(params, backend.asarray(probes[:, None])))
        hp = backend.to_numpy(backend.asarray(probes))
        with clause("c"):
            check.assert_close(
                Phi_p[0, i],
                a[i] * hp[0],
                kind="identity",
                dim=1,
                what="d f / d w_i just on the active side",
            )
            assert Phi_p[1, i] == 0.0
            check.assert_close(
                abs(a[i] * star),
                abs(a[i] * b[i] / w[i]),
                kind="identity",
                dim=2,
                what="jump size |a b / w|",
            )


def _tent_net(L: int) -> dict[str, np.ndarray]:
    """t^{oL} as an MLP of sizes (1, 2, ..., 2, 1): t(h) = 2 ReLU(h) - 4 ReLU(h - 1/2)."""
    P = {"W1": np.array([[1.0, 1.0]]), "b1": np.array([0.0, -0.5])}
    for ell in range(2, L + 1):
        P[f"W{ell}"] = np.array([[2.0, 2.0], [-4.0, -4.0]])
        P[f"b{ell}"] = np.array([0.0, -0.5])
    P[f"W{L + 1}"], P[f"b{L + 1}"] = np.array([[2.0], [-4.0]]), np.zeros(1)
    return P


@claim(DEPTH_EFF)
@pytest.mark.parametrize("backend", backend_params())
@given(L=st.integers(1, 10))
def test_tent_composition_has_two_to_the_L_pieces(backend, L):
    """On the dyadic grid j / 2^{L+2} (exact in float32 and float64: every value is a dyadic
    rational with at most L + 3 bits), t^{oL} has nonzero second differences at exactly the
    2^L - 1 interior kinks j / 2^L; values stay in [0, 1]. The net has L + 1 layers of two hidden
    units and equals the host composition of t exactly. t itself (L = 1) is linear between the
    grid points 0, 1/2, 1 and takes the values 0, 1, 0 there: it maps [0, 1] onto [0, 1]."""
    x = np.arange(2 ** (L + 2) + 1) / 2 ** (L + 2)
    net = _tent_net(L)
    f = backend.to_numpy(forward(_to(backend, net), backend.asarray(x[:, None])))[:, 0]
    tent = backend.to_numpy(forward(_to(backend, _tent_net(1)), backend.asarray(x[:, None])))[:, 0]
    with clause("a"):
        assert np.array_equal(tent[[0, len(x) // 2, -1]], [0.0, 1.0, 0.0])
        assert tent.min() == 0.0 and tent.max() == 1.0
    second = f[2:] - 2 * f[1:-1] + f[:-2]
    kinks = x[1:-1][second != 0]
    with clause("b"):
        assert np.array_equal(kinks, np.arange(1, 2**L) / 2**L)
        assert f.min() == 0.0 and f.max() == 1.0
    host = x
    for _ in range(L):
        host = 2 * np.maximum(host, 0.0) - 4 * np.maximum(host - 0.5, 0.0)
    with clause("c"):
        assert len(net) == 2 * (L + 1)
        assert all(net[f"b{ell}"].shape == (2,) for ell in range(1, L + 1))
        assert np.array_equal(f, host)


DYADIC_GRID = np.arange(-512, 513) / 128.0
"""[-4, 4] in steps of 1/128: every point exact in float32 and float64."""


@claim(DEPTH_EFF)
@pytest.mark.parametrize("backend", backend_params())
@given(k=st.integers(1, 16), seed=seeds)
def test_shallow_net_has_at_most_k_kinks(backend, k, seed):
    """A width-k one-hidden-layer net has nonzero second differences on a grid only next to its
    k kinks -b_i/w_i, so at most k + 1 pieces; it needs k >= 2^L - 1 for the sawtooth.

    Rounding: the net's value errs by <= c (k + 2) eps S(x), S = |c| + sum |a_i| (|w_i x| + |b_i|),
    so a second difference on a linear stretch is at most 4 times that (kind identity). The grid
    is dyadic (multiples of 1/128 in [-4, 4], exact in float32 and float64), so a linear stretch has
    an exactly zero second difference before rounding; a rounded grid (linspace) would add
    |w a| x-rounding ~ 4 eps that S(x) does not cover near x = 0.
    """
    check = Check(DEPTH_EFF, backend)
    rng = np.random.default_rng(seed)
    P = init_mlp([1, k, 1], rng=rng)
    P["b1"] = rng.standard_normal(k)
    x = DYADIC_GRID
    params = _to(backend, P)
    f = backend.to_numpy(forward(params, backend.asarray(x[:, None])))[:, 0]
    S = (
        np.abs(P["b2"][0])
        + np.abs(np.outer(x, P["W1"][0]) + 0) @ np.abs(P["W2"][:, 0])
        + np.abs(P["b1"]) @ np.abs(P["W2"][:, 0])
    )
    tol = 4 * check.tolerance(kind="identity", dim=k + 2) * np.maximum(S[2:], S[:-2])
    bent = np.flatnonzero(np.abs(f[2:] - 2 * f[1:-1] + f[:-2]) > tol) + 1
    kinks = backend.to_numpy(kink_location(params["W1"][0, :], params["b1"]))
    pieces = 1 + len({int(np.searchsorted(x, c)) for c in kinks if x[0] < c < x[-1]})
    with clause("d"):
        for i in bent:
            assert np.any((kinks >= x[i - 1]) & (kinks <= x[i + 1])), (
                f"bend at {x[i]} without a kink"
            )
        assert pieces <= k + 1


# ---- single units ------------------------------------------------------------------------------

RELU = "relu-networks.relu-definition"
ELBOW = "relu-networks.elbow-location-and-slope"
DOWN = "relu-networks.output-weights-needed-for-downward-elbows"
NONLIN = "relu-networks.networks-are-nonlinear-in-parameters"
LINUNIT = "relu-networks.effectively-linear-units"
PRUNE = "relu-networks.dead-units-can-be-pruned"


def _unit(backend, w: float, b: float, v: float, x: np.ndarray) -> np.ndarray:
    """v ReLU(w x + b) through dlcore's forward (a width-1 net, output bias 0)."""
    P = {"W1": np.array([[w]]), "b1": np.array([b]), "W2": np.array([[v]]), "b2": np.zeros(1)}
    return backend.to_numpy(
        forward(_to(backend, P), backend.asarray(np.asarray(x, float)[:, None]))
    )[:, 0]


def _finite(backend, bound: float):
    width = 32 if backend.dtype_name == "float32" else 64
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=width)


@claim(RELU)
@pytest.mark.parametrize("backend", backend_params())
@given(data=st.data())
def test_relu_is_max_zero_homogeneous_and_odd_part_identity(backend, data):
    """dlcore's ReLU (a 1-unit net with unit weights: the products by 1 and sums with 0 are exact)
    equals max(0, z) bit for bit, including +-0 and subnormals; ReLU(alpha z) = alpha ReLU(z) and
    ReLU(z) - ReLU(-z) = z hold exactly."""
    big = 2.0**100 if backend.dtype_name == "float32" else 2.0**1000
    z = np.array(data.draw(st.lists(_finite(backend, big), min_size=1, max_size=20)))
    alpha = data.draw(st.floats(0, 2.0**10, width=32))
    z = backend.to_numpy(backend.asarray(z))
    r = _unit(backend, 1.0, 0.0, 1.0, z)
    with clause("c"):
        assert np.array_equal(r, np.maximum(0.0, z))
    az = backend.to_numpy(backend.asarray(alpha * z.astype(backend.dtype_name)))
    with clause("a", "c"):
        assert np.array_equal(
            _unit(backend, 1.0, 0.0, 1.0, az),
            backend.to_numpy(backend.asarray(alpha * r.astype(backend.dtype_name))),
        )
    with clause("b", "c"):
        assert np.array_equal(r - _unit(backend, 1.0, 0.0, 1.0, -z), z)


@claim(ELBOW)
@pytest.mark.parametrize("backend", backend_params())
@given(
    w=log_uniform(1e-3, 1e3),
    sign=st.sampled_from([-1, 1]),
    b=st.one_of(
        st.just(0.0),
        st.tuples(st.sampled_from([-1, 1]), log_uniform(1e-6, 10)).map(lambda t: t[0] * t[1]),
    ),
    x=st.lists(st.floats(-10, 10), min_size=1, max_size=20),
)
@example(w=0.0010000000000000002, sign=1, b=0.0, x=[1.9982070334450228e-42])  # see ledger
def test_elbow_case_formula_and_one_sided_slopes(backend, w, sign, b, x):
    """The unit equals w (x - x*) on its active side and 0 on the other (up to rounding of w x + b,
    kind identity, dim 2); one-sided differences at x* -+ d give slopes 0 and w in the right order;
    kink_location returns -b/w, and NaN for w = 0 (the constant max(0, b)).

    b is 0 or of magnitude >= 1e-6, so -b/w (|w| <= 1e3) stays a normal float32 number: a
    subnormal b (found on CUDA: b = 3.7e-43, w = 1e3) makes -b/w underflow to 0, a rounding
    event of the dtype, not a property of the unit.
    """
    check = Check(ELBOW, backend)
    rounded = backend.to_numpy(backend.asarray([sign * w, b, *x]))  # as the backend holds them
    w, b, x = float(rounded[0]), float(rounded[1]), rounded[2:]
    star = -b / w
    u = _unit(backend, w, b, 1.0, x)
    active = w * (x - star) > 0
    expected = np.where(active, w * (x - star), 0.0)
    # each of w x, + b and max(0, .) errs by eps/2 relative plus, on underflow, half the smallest
    # subnormal s: absolute 2 s per entry beyond the relative model, sqrt(n) 2 s in norm, which
    # n s / eps in the scale covers (tol = 8 eps; found at x = 2e-42, w = 1e-3 in float32)
    subnormal = float(np.finfo(backend.dtype_name).smallest_subnormal)
    scale = float(np.linalg.norm(np.abs(w * x) + abs(b))) + x.size * subnormal / backend.eps
    with clause("b"):
        check.assert_close(u, expected, dim=2, scale=scale, what="case formula")
    loc = backend.to_numpy(kink_location(backend.asarray([w, 0.0]), backend.asarray([b, b])))
    with clause("a"):
        check.assert_close(loc[0], star, dim=2, what="kink -b/w")
    with clause("c"):
        assert np.isnan(loc[1])
        assert np.all(
            _unit(backend, 0.0, b, 1.0, x) == backend.to_numpy(backend.asarray(max(0.0, b)))
        )
    d = 1 + abs(star)
    left, mid, right = _unit(backend, w, b, 1.0, np.array([star - d, star, star + d]))
    slopes = np.array([(mid - left) / d, (right - mid) / d])
    expected_slopes = np.array([0.0, w]) if w > 0 else np.array([w, 0.0])
    with clause("a", "b"):  # flat on the inactive side, slope w on the side the sign of w picks
        check.assert_close(
            slopes,
            expected_slopes,
            dim=2,
            scale=abs(w) + (abs(w * star) + abs(b)) / d,
            what="one-sided slopes",
        )


@claim(DOWN)
@pytest.mark.parametrize("backend", backend_params())
@given(w=st.floats(-1e3, 1e3), b=st.floats(-1e3, 1e3), v=log_uniform(1e-2, 1e2))
@example(w=0.0, b=0.0, v=0.010000000000000004)  # float32: the grid must be compared as rounded
def test_single_unit_cannot_point_down(backend, w, b, v):
    """ReLU(w x + b) >= 0 exactly on a grid of [0, 1], so its sup distance to -ReLU(x) is >= 1
    (at x = 1); the four sign choices of (w, v) give four orientations: active side right
    (w > 0) or left (w < 0), values >= 0 (v > 0) or <= 0 (v < 0)."""
    x = np.linspace(0, 1, 101)
    u = _unit(backend, w, b, 1.0, x)
    with clause("a"):
        assert np.all(u >= 0)
    with clause("b"):  # -ReLU(x) = -x on [0, 1]; at x = 1 the distance is u(1) + 1 >= 1
        assert float(np.max(np.abs(u + x))) >= 1.0
        assert float(u[-1] + x[-1]) >= 1.0
    sharp = _unit(backend, 0.0, 0.0, 1.0, x)  # w = b = 0: the distance is exactly max x = 1
    with clause("c"):
        assert float(np.max(np.abs(sharp + x))) == 1.0
    with clause("d"):  # -ReLU(x) = -1 * ReLU(1 * x + 0): products by +-1 and sums with 0 are exact
        both = backend.to_numpy(backend.asarray(np.r_[-x[::-1], x]))  # as the backend holds them
        down = _unit(backend, 1.0, 0.0, -1.0, both)
        assert np.array_equal(down, -np.maximum(both, 0.0))
    grid = np.array([-2.0, -1.0, 1.0, 2.0])
    for sw in (-1, 1):
        for sv in (-1, 1):
            f = _unit(backend, sw * 1.0, 0.0, sv * v, grid)  # kink at 0
            active = f != 0
            # on the active side f = v w x: slope v w, read off the two active grid points
            slope = (f[3] - f[2]) if sw > 0 else (f[1] - f[0])
            with clause("e"):
                assert np.array_equal(active, grid * sw > 0)
                assert np.all(np.sign(f[active]) == sv)
                assert np.sign(slope) == sw * sv


@claim(NONLIN)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(depth=(2, 2), activations=("identity",)), seed=seeds)
def test_deep_linear_model_is_bilinear_in_parameters(backend, net, seed):
    """Midpoint defect of a one-layer net is 0 (up to rounding); of a two-layer linear net it is
    -(1/4) (X dW1 + db1) dW2, checked against that formula (kind identity, magnitudes of
    output_magnitude over the three parameter sets)."""
    check = Check(NONLIN, backend)
    sizes, _, P, X, _ = net
    rng = np.random.default_rng(seed)
    Q = {k: v + rng.standard_normal(v.shape) for k, v in P.items()}
    mid = {k: (P[k] + Q[k]) / 2 for k in P}
    bX = backend.asarray(X)
    f = {
        name: backend.to_numpy(forward(_to(backend, p), bX, activation="identity"))
        for name, p in (("P", P), ("Q", Q), ("mid", mid))
    }
    defect = f["mid"] - (f["P"] + f["Q"]) / 2
    formula = -0.25 * (X @ (P["W1"] - Q["W1"]) + (P["b1"] - Q["b1"])) @ (P["W2"] - Q["W2"])
    scale = sum(output_magnitude(p, X, "identity") for p in (P, Q, mid))
    dim = sum(sizes) + 2
    with clause("b"):
        check.assert_close(
            defect,
            formula,
            dim=dim,
            scale=scale,
            what="two-layer midpoint defect",
        )
    one = {"W1": P["W1"], "b1": P["b1"]}
    one_q = {"W1": Q["W1"], "b1": Q["b1"]}
    one_m = {k: (one[k] + one_q[k]) / 2 for k in one}
    g = [
        backend.to_numpy(forward(_to(backend, p), bX, activation="identity"))
        for p in (one, one_q, one_m)
    ]
    with clause("a"):
        check.assert_close(
            g[2],
            (g[0] + g[1]) / 2,
            dim=sizes[0] + 2,
            scale=sum(output_magnitude(p, X, "identity") for p in (one, one_q, one_m)),
            what="one-layer midpoint",
        )
    with clause("c"):  # |formula| > tol * scale and |defect - formula| <= tol * scale: defect != 0
        assert float(np.linalg.norm(formula)) > check.tolerance(kind="identity", dim=dim) * scale


@claim(LINUNIT)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(depth=(2, 2), width=(2, 8), n=(2, 10), activations=("relu",)), data=st.data())
def test_always_active_unit_is_affine_with_gradient(backend, net, data):
    """Unit j raised to be active on every input (b_j = -min_a x_a^T w_j + margin): its
    contribution v_j ReLU(z_j) equals the affine v_j (x^T w_j + b_j) on the data (as the change of
    f when its outgoing weight is zeroed), and d L / d b_j = v_j sum_a 2 (f(x_a) - y_a), nonzero."""
    check = Check(LINUNIT, backend)
    sizes, _, P, X, y = net
    j = data.draw(st.integers(0, sizes[1] - 1))
    P["b1"][j] = -float(np.min(X @ P["W1"][:, j])) + data.draw(st.floats(0.1, 2.0))
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    assert bool(np.all(backend.to_numpy(activation_patterns(params, bX)[0])[:, j] > 0))
    Q = {k: v.copy() for k, v in P.items()}
    Q["W2"][j, :] = 0.0
    contrib = backend.to_numpy(forward(params, bX)) - backend.to_numpy(forward(_to(backend, Q), bX))
    affine = ((X @ P["W1"][:, j] + P["b1"][j]) * P["W2"][j, 0])[:, None]
    scale = output_magnitude(P, X, "relu")
    with clause("a"):
        check.assert_close(
            contrib,
            affine,
            dim=sum(sizes) + 2,
            scale=scale,
            what="contribution vs affine map",
        )
    _, grads = value_and_grad(params, bX, by)
    f = backend.to_numpy(forward(params, bX))[:, 0]
    g_b = float(backend.to_numpy(grads["b1"])[j])
    expected = 2 * P["W2"][j, 0] * float(np.sum(f - backend.to_numpy(by)))
    g_scale = 2 * abs(P["W2"][j, 0]) * float(np.sum(np.abs(f) + np.abs(y)))
    with clause("b"):  # squared loss: dL/df(x_a) = 2 (f(x_a) - y_a)
        check.assert_close(
            g_b,
            expected,
            dim=len(y) + 2,
            scale=g_scale,
            what="bias gradient of an always-active unit",
        )


@claim(PRUNE)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(depth=(2, 2), width=(2, 16), n=(1, 10), activations=("relu",)), data=st.data())
def test_pruning_dead_units_leaves_training_outputs_unchanged(backend, net, data):
    """Make a random subset of first-layer units dead on X, find the dead ones with
    activation_patterns, delete them: the outputs on X agree up to the rounding of the shorter
    sum (kind invariant, dim = width + 2)."""
    check = Check(PRUNE, backend)
    sizes, _, P, X, _ = net
    k = sizes[1]
    chosen = data.draw(st.lists(st.integers(0, k - 1), max_size=k - 1, unique=True))
    for j in chosen:
        _kill(backend, P, X, j, data.draw(st.floats(0.0, 1.0)))
    params, bX = _to(backend, P), backend.asarray(X)
    alive = np.any(backend.to_numpy(activation_patterns(params, bX)[0]) > 0, axis=0)
    assert not np.any(alive[chosen])
    pruned = {"W1": P["W1"][:, alive], "b1": P["b1"][alive], "W2": P["W2"][alive, :], "b2": P["b2"]}
    silenced = {**P, "W2": np.where(alive[:, None], P["W2"], 0.0)}
    with clause("a"):
        # contribution exactly 0: zeroing the dead units' outgoing weights changes no output bit
        # (their terms are 0 * v = +-0 either way)
        assert np.array_equal(
            backend.to_numpy(forward(_to(backend, silenced), bX)),
            backend.to_numpy(forward(params, bX)),
        )
        check.assert_close(
            forward(_to(backend, pruned), bX),
            backend.to_numpy(forward(params, bX)),
            dim=k + 2,
            scale=output_magnitude(P, X, "relu"),
            what="pruned vs full outputs on the training set",
        )


# ---- derivatives, saturation, PWL, linearization, SVD --------------------------------------------

DERIV = "relu-networks.relu-derivative"
SAT = "relu-networks.relu-is-non-saturating"
ONEPWL = "relu-networks.one-hidden-layer-net-is-pwl"
LOCAL = "relu-networks.local-linearization"
SVD = "relu-networks.jacobian-svd-orders-the-fit"


@claim(DERIV)
@pytest.mark.parametrize("backend", backend_params())
@given(w=st.floats(-5, 5), b=st.floats(-5, 5), x=st.floats(-5, 5))
@example(w=1.401298464324817e-45, b=0.0, x=0.5)
def test_relu_unit_derivatives(backend, w, b, x):
    """For u = ReLU(w x + b) (a width-1 net with output weight 1): param_jacobian gives
    du/dw = x 1[.] and du/db = 1[.]; du/dx is du/dW1 of the net with the roles of x and w
    swapped. The indicator is dlcore's pattern, which matches the exact sign of w x + b (exact
    rational arithmetic on the rounded inputs) wherever |w x + b| exceeds its rounding bound.
    At x = b = 0 (z = 0 exactly) every derivative is the convention 0, as in torch."""
    from fractions import Fraction

    import torch

    w, b, x = (float(v) for v in backend.to_numpy(backend.asarray([w, b, x])))

    def jac(weight, inp):
        P = {
            "W1": np.array([[weight]]),
            "b1": np.array([b]),
            "W2": np.ones((1, 1)),
            "b2": np.zeros(1),
        }
        return backend.to_numpy(param_jacobian(_to(backend, P), backend.asarray([[inp]])))[0]

    J, Jx = jac(w, x), jac(x, w)
    on = float(J[1])  # du/db = 1[z > 0] as dlcore found it
    exact = Fraction(w) * Fraction(x) + Fraction(b)
    # Each of the product and the sum errs by eps/2 relative, or by half the smallest subnormal
    # absolutely where it underflows (sweep seed 2964475047: w = 2^-149, x = 1/2 in float32, where
    # w x rounds to 0): |fl(z) - z| <= eps (|w x| + |b|) + smallest subnormal.
    tiny = float(np.finfo(backend.dtype_name).smallest_subnormal)
    with clause("a"):
        assert on in (0.0, 1.0)
        if abs(exact) > Fraction(2 * backend.eps * (abs(w * x) + abs(b))) + Fraction(tiny):
            assert on == float(exact > 0)
    with clause("c"):
        assert J[0] == x * on and Jx[0] == w * on
    zero = {"W1": np.array([[w]]), "b1": np.zeros(1), "W2": np.ones((1, 1)), "b2": np.zeros(1)}
    J0 = backend.to_numpy(param_jacobian(_to(backend, zero), backend.asarray([[0.0]])))[0]
    t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.relu(t).sum().backward()
    with clause("b"):
        assert J0[1] == float(t.grad[0]) == 0.0


@claim(SAT)
@pytest.mark.parametrize("backend", backend_params())
@given(z=st.lists(st.floats(-50, 50), min_size=1, max_size=30), x=st.floats(0.1, 10))
def test_sigmoid_and_tanh_saturate_relu_does_not(backend, z, x):
    """phi'(z) from param_jacobian (the b-column of units with weight 1 on input 0) obeys
    sigma' <= min(1/4, e^-|z|) and tanh' <= 4 e^-2|z| (plus the rounding of 1 - h^2 or h (1 - h):
    4 eps absolute, 4 eps relative); ReLU' is exactly 1 for z > 0 and 0 for z < 0; at |z| >= 10
    the sigmoid unit's d/dw is < 1e-4 x (below e^-10 x), the ReLU unit's is x. (The rounding of
    1 - h for h near 1 is absolute: eps, not eps times the tiny derivative.)"""
    check = Check(SAT, backend)
    z = backend.to_numpy(backend.asarray(z))
    k = len(z)
    P = {"W1": np.ones((1, k)), "b1": z, "W2": np.ones((k, 1)), "b2": np.zeros(1)}
    d = {
        a: backend.to_numpy(
            param_jacobian(_to(backend, P), backend.asarray([[0.0]]), activation=a)
        )[0, k : 2 * k]
        for a in ("sigmoid", "tanh", "relu")
    }
    e = backend.eps
    with clause("a"):
        assert np.all(d["sigmoid"] <= np.minimum(0.25, np.exp(-np.abs(z))) * (1 + 4 * e) + 4 * e)
    with clause("b"):
        assert np.all(d["tanh"] <= 4 * np.exp(-2 * np.abs(z)) + 4 * e)
    with clause("d"):
        assert np.array_equal(d["relu"], (z > 0).astype(float))
    # the units (w, b) = (1, z - x) on input x: pre-activation fl(fl(z - x) + x), within
    # 2 eps (|z| + x) of z, so e^{-|pre-activation|} <= e^{-|z|} e^{2 eps (|z| + x)}
    xb = float(backend.to_numpy(backend.asarray(x)))
    Pw = {"W1": np.ones((1, k)), "b1": z - xb, "W2": np.ones((k, 1)), "b2": np.zeros(1)}
    J = {
        a: backend.to_numpy(
            param_jacobian(_to(backend, Pw), backend.asarray([[xb]]), activation=a)
        )[0, :k]
        for a in ("sigmoid", "relu")
    }
    shift = np.exp(2 * e * (np.abs(z) + xb))
    with clause("c"):  # d/dw = sigma'(z) x: sigma' rounded as in (a), then one product by x
        bound = (np.exp(-np.abs(z)) * shift * (1 + 4 * e) + 4 * e) * xb * (1 + e)
        assert np.all(J["sigmoid"] <= bound)
    on = z > 2 * e * (np.abs(z) + xb)  # surely active after the rounding of the pre-activation
    with clause("e"):
        check.assert_close(
            J["relu"][on],
            np.full(int(on.sum()), xb),
            kind="identity",
            dim=2,
            what="ReLU unit d/dw on its active side",
        )


@claim(SAT)
@pytest.mark.parametrize("backend", backend_params())
@given(z=st.lists(st.floats(0.0, 30.0), min_size=1, max_size=10))
def test_computed_sigmoid_derivative_is_exactly_zero_past_the_rounding_point(backend, z):
    """The statement's float32 clause, in every dtype: for z >= ln(4 / eps) (17.3 in float32,
    37.4 in float64; the drawn offsets start there) e^-z <= eps / 4, so 1 + e^-z rounds to 1,
    sigma(z) is computed as exactly 1 and dlcore's sigmoid derivative (the b-column of
    param_jacobian, as in the test above) is exactly 0. Exact: no tolerance."""
    zz = math.log(4 / backend.eps) + np.array(z)
    k = len(zz)
    P = {"W1": np.ones((1, k)), "b1": zz, "W2": np.ones((k, 1)), "b2": np.zeros(1)}
    J = backend.to_numpy(
        param_jacobian(_to(backend, P), backend.asarray([[0.0]]), activation="sigmoid")
    )[0, k : 2 * k]
    with clause("f"):
        assert round(math.log(4 / np.finfo(np.float32).eps), 1) == 17.3
        assert round(math.log(4 / np.finfo(np.float64).eps), 1) == 37.4
        assert np.all(J == 0.0), (zz, J)


@claim(ONEPWL)
@pytest.mark.parametrize("backend", backend_params())
@given(k=st.integers(1, 16), zeros=st.integers(0, 3), seed=seeds)
@example(k=1, zeros=0, seed=683)
def test_one_hidden_layer_net_is_pwl_with_at_most_k_kinks(backend, k, zeros, seed):
    """Random width-k nets (some first-layer weights exactly 0): second differences on a grid are
    nonzero (beyond rounding, as in test_shallow_net_has_at_most_k_kinks) only in cells holding a
    kink -b/w of a unit with w != 0; units with w = 0 have no kink (NaN); 3k + 1 parameters. The
    grid is dyadic (sweep seed 543738929: linspace's rounded points bent a linear stretch)."""
    check = Check(ONEPWL, backend)
    rng = np.random.default_rng(seed)
    P = init_mlp([1, k, 1], rng=rng)
    P["b1"] = rng.standard_normal(k)
    P["W1"][0, : min(zeros, k)] = 0.0
    params = _to(backend, P)
    with clause("b"):
        assert flatten_params(P).size == 3 * k + 1
    x = DYADIC_GRID
    f = backend.to_numpy(forward(params, backend.asarray(x[:, None])))[:, 0]
    S = abs(P["b2"][0]) + (np.abs(np.outer(x, P["W1"][0])) + np.abs(P["b1"])) @ np.abs(
        P["W2"][:, 0]
    )
    tol = 4 * check.tolerance(kind="identity", dim=k + 2) * np.maximum(S[2:], S[:-2])
    bent = np.flatnonzero(np.abs(f[2:] - 2 * f[1:-1] + f[:-2]) > tol) + 1
    kinks = backend.to_numpy(kink_location(params["W1"][0, :], params["b1"]))
    real = kinks[~np.isnan(kinks)]
    with clause("a"):
        assert np.all(np.isnan(kinks[: min(zeros, k)]))
        for i in bent:
            assert np.any((real >= x[i - 1]) & (real <= x[i + 1])), f"bend at {x[i]} without a kink"
        assert len(real) <= k


@claim(ONEPWL)
@pytest.mark.parametrize("backend", backend_params())
@given(fn=pwl_functions(k=(2, 13)), values=st.lists(st.floats(-5, 5), min_size=13, max_size=13))
def test_pwl_functions_are_nets_of_the_stated_width(backend, fn, values):
    """(c) relu_net_from_pwl through k + 1 knots t_0 < ... < t_k (the drawn knots) with drawn
    values is a width-k net, equal to np.interp on [t_0, t_k] (rounding of the elbow sum as in
    _elbow_scale), with elbows t_0, ..., t_{k-1} and slope products s_1, s_{j+1} - s_j.
    (d) relu_net_from_slopes writes a PWL function with m kinks as a width-(m + 1) net (its values
    are checked in test_pwl_equals_constant_plus_elbows). (e) ReLU(x), one kink, is exactly the
    width-1 net (1, 0, 1, 0) on the dyadic grid (products by 1 and sums with 0 are exact)."""
    check = Check(ONEPWL, backend)
    knots, slopes, c = fn
    k = len(knots) - 1  # >= 1 pieces
    v = np.array(values[: k + 1])
    net = relu_net_from_pwl(backend.asarray(knots), backend.asarray(v))
    t, vv = backend.to_numpy(backend.asarray(knots)), backend.to_numpy(backend.asarray(v))
    x = np.union1d(np.linspace(t[0], t[-1], 201), t)
    hx = backend.to_numpy(backend.asarray(x))
    out = backend.to_numpy(forward(net, backend.asarray(x[:, None])))[:, 0]
    s = np.diff(vv) / np.diff(t)
    w = net["W1"][0, :]
    with clause("c"):
        assert tuple(net["W1"].shape) == (1, k)
        check.assert_close(
            out,
            np.interp(hx, t, vv),
            kind="convergence",
            dim=k + 2,
            scale=math.sqrt(len(x)) * _elbow_scale(t, vv, hx),
            what="width-k net vs the PWL interpolant",
        )
        check.assert_close(
            kink_location(w, net["b1"]),
            t[:-1],
            dim=1,
            what="elbows vs t_0 .. t_{k-1}",
        )
        # each slope is 3 roundings (two differences, a quotient), the change one more:
        # <= 4 u (|s_j| + |s_{j-1}|) per entry, u <= eps the unit roundoff, to first order;
        # dim 2 covers the higher-order terms
        check.assert_close(
            net["W2"][:, 0] * w,
            np.r_[s[0], np.diff(s)],
            dim=2,
            scale=float(np.linalg.norm(np.r_[s[0], np.abs(s[1:]) + np.abs(s[:-1])])),
            what="slope products vs s_1, s_{j+1} - s_j",
        )
    wide = relu_net_from_slopes(
        backend.asarray(knots), backend.asarray(slopes), backend.asarray([c])
    )
    with clause("d"):
        assert tuple(wide["W1"].shape) == (1, len(knots) + 1)
    one = {"W1": np.ones((1, 1)), "b1": np.zeros(1), "W2": np.ones((1, 1)), "b2": np.zeros(1)}
    f1 = backend.to_numpy(forward(_to(backend, one), backend.asarray(DYADIC_GRID[:, None])))[:, 0]
    with clause("e"):
        assert np.array_equal(f1, np.maximum(DYADIC_GRID, 0.0))


@claim(ONEPWL, breaks="'with m kinks it needs width m + 1': ReLU(x) has one kink and width 1")
@pytest.mark.parametrize("backend", backend_params())
def test_one_kink_can_need_only_width_one(backend):
    """ReLU(x) (one kink, at 0) is exactly the width-1 net (w, b, v, c) = (1, 0, 1, 0) on the dyadic
    grid, so 'needs width m + 1 = 2' is false; relu_net_from_slopes gives the width-2 net, which
    equals it too (an upper bound, not a need). Exact: sums with 0 and products by 1."""
    x = DYADIC_GRID
    one = {"W1": np.ones((1, 1)), "b1": np.zeros(1), "W2": np.ones((1, 1)), "b2": np.zeros(1)}
    f1 = backend.to_numpy(forward(_to(backend, one), backend.asarray(x[:, None])))[:, 0]
    assert np.array_equal(f1, np.maximum(x, 0.0))
    kinks = backend.to_numpy(kink_location(_to(backend, one)["W1"][0, :], _to(backend, one)["b1"]))
    assert kinks.shape == (1,) and kinks[0] == 0.0
    two = relu_net_from_slopes(
        backend.asarray([0.0]), backend.asarray([0.0, 1.0]), backend.asarray([0.0])
    )
    assert tuple(two["W1"].shape) == (1, 2)
    f2 = backend.to_numpy(forward(two, backend.asarray(x[:, None])))[:, 0]
    assert np.array_equal(f2, np.maximum(x, 0.0))


@claim(LOCAL)
@pytest.mark.parametrize("backend", backend_params())
@given(
    net=mlps(depth=(2, 2), width=(1, 16), activations=("relu",)),
    seed=seeds,
    frac=st.floats(0.01, 0.9),
)
def test_relu_remainder_is_exactly_quadratic_on_a_fixed_pattern(backend, net, seed, frac):
    """One hidden ReLU layer, direction Delta, step eps = frac * eps_max with eps_max = min |z| / |dz|
    (so no pattern changes; constructed): f(theta + eps Delta) - f(theta) - eps Phi Delta equals
    eps^2 ((X dW1 + db1) o m) dW2 exactly in real arithmetic; checked up to rounding relative to
    the output magnitudes of both parameter sets (the subtraction cancels them)."""
    check = Check(LOCAL, backend)
    sizes, _, P, X, _ = net
    rng = np.random.default_rng(seed)
    D = {k: rng.standard_normal(v.shape) for k, v in P.items()}
    params = _to(backend, P)
    host, hX = _host(backend, params), backend.to_numpy(backend.asarray(X))
    z = hX @ host["W1"] + host["b1"]
    dz = hX @ D["W1"] + D["b1"]
    ratio = np.abs(z) / np.maximum(np.abs(dz), 1e-300)
    eps_max = float(np.min(ratio))
    eps = frac * eps_max
    m = z > 0
    moved = {k: host[k] + eps * D[k] for k in host}
    f0 = backend.to_numpy(forward(params, backend.asarray(hX)))[:, 0]
    f1 = backend.to_numpy(forward(_to(backend, moved), backend.asarray(hX)))[:, 0]
    Phi = backend.to_numpy(param_jacobian(params, backend.asarray(hX)))
    remainder = f1 - f0 - eps * Phi @ flatten_params(D)
    expected = eps**2 * ((dz * m) @ D["W2"])[:, 0]
    scale = output_magnitude(host, hX, "relu") + output_magnitude(
        {k: np.abs(v) for k, v in moved.items()}, hX, "relu"
    )
    with clause("a"):
        check.assert_close(
            remainder,
            expected,
            dim=sum(sizes) + 2,
            scale=scale,
            what="remainder vs eps^2 c",
        )


@claim(SVD)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(width=(1, 8), depth=(1, 3)), kappa=st.floats(0.1, 0.9), T=st.integers(1, 50))
@example(  # rank-2 Phi: a singular value at rounding level, whose factor rounds to 1 in floats
    net=(
        [1, 1, 1],
        "relu",
        {
            "W1": np.array([[0.17780938]]),
            "b1": np.array([0.64042265]),
            "W2": np.array([[-0.18682449]]),
            "b2": np.array([0.10490012]),
        },
        np.array([[-0.53566937], [0.36159505], [1.30400005]]),
        np.array([0.94708096, -0.70373524, -1.26542147]),
    ),
    kappa=0.5,
    T=1,
)
def test_gd_on_linearized_model_shrinks_each_singular_direction(backend, net, kappa, T):
    """T steps of dlcore GD (train.run + optim.sgd on losses.squared_loss_grad(Delta, Phi, r_0)) from
    0, eta = kappa / s_max^2: the residual is r_0 - U diag(1 - (1 - 2 eta s_i^2)^T) U^T r_0 (SVD of
    the backend's Phi in float64). Error model: each step rounds vectors of size <= 2 ||r_0|| (a
    stable GD on least squares from 0 keeps ||Phi Delta_t|| <= 2 ||r_0||), with dim n + P terms,
    and the errors propagate without growth (|1 - 2 eta s^2| <= 1): kind convergence, cond T."""
    check = Check(SVD, backend)
    from dlcore.losses import squared_loss_grad
    from dlcore.train import run

    _sizes, activation, P, X, y = net
    params, bX = _to(backend, P), backend.asarray(X)
    Phi = param_jacobian(params, bX, activation=activation)
    r0 = backend.asarray(y) - forward(params, bX, activation=activation)[:, 0]
    hPhi, hr0 = backend.to_numpy(Phi), backend.to_numpy(r0)
    U, s, _ = np.linalg.svd(hPhi, full_matrices=False)
    eta = kappa / float(s[0] ** 2)
    delta0 = {"d": backend.asarray(np.zeros(hPhi.shape[1]))}
    final, _ = run(sgd(eta), lambda p, t: {"d": squared_loss_grad(p["d"], Phi, r0)}, delta0, T)
    rT = hr0 - hPhi @ backend.to_numpy(final["d"])
    predicted = hr0 - U @ ((1 - (1 - 2 * eta * s**2) ** T) * (U.T @ hr0))
    with clause(
        "a", "b"
    ):  # along each u_i the factor (1 - 2 eta s_i^2)^T; off range(Phi) untouched
        check.assert_close(
            rT,
            predicted,
            kind="convergence",
            dim=sum(hPhi.shape),
            cond=T,
            scale=4 * float(np.linalg.norm(hr0)),
            what="residual after T steps",
        )
    # (c): for steps up to 1 / (2 s_1^2) the per-step factors of (a) (just checked) lie in [0, 1)
    # for s_i > 0 and do not increase as s_i decreases: large-s_i directions are fitted first
    # (exact rational arithmetic on the computed, descending s_i: no rounding to allow for)
    from fractions import Fraction

    pos = [Fraction(float(v)) for v in s if v > 0]
    eta_c = min(Fraction(eta), 1 / (2 * pos[0] ** 2))
    factors = [1 - 2 * eta_c * v**2 for v in pos]
    with clause("c"):
        assert all(0 <= p < 1 for p in factors)
        assert all(a <= b for a, b in itertools.pairwise(factors))


@claim(SVD, breaks="a step above 1 / (2 s_1^2): the top direction overshoots")
@pytest.mark.parametrize("backend", backend_params())
@given(kappa=st.floats(0.85, 0.95), ratio=st.floats(0.6, 0.9), T=st.integers(1, 10))
def test_large_step_fits_the_top_direction_more_slowly(backend, kappa, ratio, T):
    """Phi = diag(1, r) (r = s_2/s_1 in [0.6, 0.9]), r_0 = (1, 1), eta = kappa / s_1^2 with kappa
    in [0.85, 0.95] (GD still converges, eta < 1/s_1^2). The factors are |1 - 2 kappa| and
    |1 - 2 kappa r^2|; kappa (1 + r^2) >= 1.156 > 1 makes the first the larger, by a ratio >= 1.6
    per step, so after T steps of dlcore GD the top direction's residual is the larger one: the
    ordering clause needs eta <= 1 / (2 s_1^2). Rounding: T steps of a 2 x 2 problem with
    |factors| <= 1 err by <= tol(convergence, dim 4, cond T) ||r_0||; the gap
    |r_T[0]| (1 - 1/1.6) >= 0.7^10 * 0.375 >= 0.01 is far above it."""
    check = Check(SVD, backend)
    from dlcore.losses import squared_loss_grad
    from dlcore.train import run

    Phi = backend.asarray(np.diag([1.0, ratio]))
    r0 = backend.asarray(np.ones(2))
    start = {"d": backend.asarray(np.zeros(2))}
    final, _ = run(sgd(kappa), lambda p, t: {"d": squared_loss_grad(p["d"], Phi, r0)}, start, T)
    rT = np.ones(2) - backend.to_numpy(Phi) @ backend.to_numpy(final["d"])
    slack = check.tolerance(kind="convergence", dim=4, cond=T) * math.sqrt(2)
    assert abs(rT[0]) > abs(rT[1]) + 2 * slack


# ---- steps, XOR, composition, linear probe -------------------------------------------------------

STEP = "relu-networks.step-units-cannot-be-trained"
XOR = "relu-networks.no-hidden-layer-cannot-express"
COMP = "relu-networks.mlp-is-layer-composition"
PROBE = "relu-networks.linear-probe-versus-fine-tuning"


@claim(STEP)
@pytest.mark.parametrize("backend", backend_params())
@given(
    w=st.floats(-5, 5),
    b=st.floats(-5, 5),
    v=st.floats(0.1, 5),
    x=st.floats(-5, 5),
    gap=st.floats(1e-3, 1),
)
def test_step_units_get_no_gradient_elbows_do(backend, w, b, v, x, gap):
    """Move b so that |w x + b| >= gap (constructed). The step unit's central differences in w and b
    with h = gap / (2 (|x| + 1)) are exactly 0 (the step does not change within h); the elbow's
    derivatives from param_jacobian are (v x, v) on its active side and 0 on the other."""
    check = Check(STEP, backend)
    z = w * x + b
    b = b + (np.sign(z) if z != 0 else 1.0) * gap
    z = w * x + b
    h = gap / (2 * (abs(x) + 1))

    def step(ww, bb):
        return v * float(ww * x + bb > 0)

    with clause("a"):
        assert (step(w + h, b) - step(w - h, b)) / (2 * h) == 0.0
        assert (step(w, b + h) - step(w, b - h)) / (2 * h) == 0.0
    P = {"W1": np.array([[w]]), "b1": np.array([b]), "W2": np.array([[v]]), "b2": np.zeros(1)}
    J = backend.to_numpy(param_jacobian(_to(backend, P), backend.asarray([[x]])))[0]
    host = _host(backend, _to(backend, P))
    on = float(z > 0)
    with clause("b"):
        check.assert_close(
            J[:2],
            [
                host["W2"][0, 0] * float(backend.to_numpy(backend.asarray(x))) * on,
                host["W2"][0, 0] * on,
            ],
            kind="identity",
            dim=2,
            scale=abs(v) * (abs(x) + 1),
            what="elbow derivatives (d/dw, d/db)",
        )
        if on:  # on the active side d/db = v != 0
            assert J[1] != 0.0


@claim(XOR)
@pytest.mark.parametrize("backend", backend_params())
@given(w1=st.floats(-1e6, 1e6), w2=st.floats(-1e6, 1e6), b=st.floats(-1e6, 1e6))
def test_no_linear_classifier_fits_xor(backend, w1, w2, b):
    """Any (w, b) (a depth-1 dlcore net) misclassifies at least one XOR point (sign 0 counts as an
    error), in floating point too: each sign on (0,0), (1,0), (0,1) is exact, and on (1,1) the
    exact value exceeds |b| whenever the other three are right, far above its rounding error.
    The ReLU net h and |x| = ReLU(x) + ReLU(-x) are exact."""
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([-1.0, -1.0, 1.0, 1.0])
    P = {"W1": np.array([[w1], [w2]]), "b1": np.array([b])}
    out = backend.to_numpy(forward(_to(backend, P), backend.asarray(X)))[:, 0]
    with clause("a"):
        assert int(np.sum(np.sign(out) != y)) >= 1
    H = {
        "W1": np.array([[1.0, 1.0], [1.0, 1.0]]),
        "b1": np.array([0.0, -1.0]),
        "W2": np.array([[1.0], [-2.0]]),
        "b2": np.zeros(1),
    }
    h = backend.to_numpy(forward(_to(backend, H), backend.asarray(X)))[:, 0]
    with clause("b"):
        assert np.array_equal(h, (y + 1) / 2) and np.array_equal(np.sign(2 * h - 1), y)
    A = {"W1": np.array([[1.0, -1.0]]), "b1": np.zeros(2), "W2": np.ones((2, 1)), "b2": np.zeros(1)}
    x = np.linspace(-1, 1, 41)
    with clause("d"):
        assert np.array_equal(
            backend.to_numpy(forward(_to(backend, A), backend.asarray(x[:, None])))[:, 0],
            np.abs(backend.to_numpy(backend.asarray(x))),
        )


@claim(XOR)
@pytest.mark.parametrize("backend", backend_params())
@given(m=st.integers(2000, 10000))
def test_best_affine_fit_of_abs_has_rms_sqrt_one_twelfth(backend, m):
    """dlcore.linear.min_norm_solution fits a + c x to |x| on m midpoints of [-1, 1]: by symmetry the
    slope is 0 and the RMS residual is the standard deviation of |x| on the grid (-> sqrt(1/12)),
    >= 0.288 for m >= 2000. The 2 x 2 normal equations have condition number <= 3 (cond 2 in the
    norm of the residual)."""
    check = Check(XOR, backend)
    from dlcore.linear import min_norm_solution

    x = -1 + (2 * np.arange(m) + 1) / m
    A = np.stack([np.ones(m), x], axis=1)
    coef = backend.to_numpy(min_norm_solution(backend.asarray(A), backend.asarray(np.abs(x))))
    rms = float(np.sqrt(np.mean((A @ coef - np.abs(x)) ** 2)))
    exact = math.sqrt(
        np.mean((np.abs(x) - np.mean(np.abs(x))) ** 2)
    )  # best constant; slope 0 by symmetry
    with clause("c"):
        check.assert_close(
            rms,
            exact,
            kind="identity",
            dim=m,
            cond=2.0,
            what="affine RMS vs best-constant RMS",
        )
        assert rms >= 0.288
        # the grid's |x| is N = m/2 equispaced midpoints of [0, 1] (m even; odd m adds 0 once),
        # whose variance is (N^2 - 1) / (12 N^2): the RMS is sqrt(1/12) - O(1/m^2), within 1/m^2
        assert abs(exact - math.sqrt(1 / 12)) <= 1 / m**2
        assert round(math.sqrt(1 / 12), 3) == 0.289


@claim(COMP)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(width=(1, 16), depth=(1, 6)))
def test_forward_is_the_left_fold_of_layers(backend, net):
    """forward equals the left fold h -> phi(h W + b) over the layers computed on the host in
    float64 from the same (rounded) parameters; rounding per feature_magnitudes (dim = sum of sizes +
    depth)."""
    check = Check(COMP, backend)
    sizes, activation, P, X, _ = net
    params, bX = _to(backend, P), backend.asarray(X)
    host, h = _host(backend, params), backend.to_numpy(bX)
    L = len(sizes) - 1
    for ell in range(1, L + 1):
        z = h @ host[f"W{ell}"] + host[f"b{ell}"]
        h = z if ell == L else _phi(activation, z)
    with clause("a"):
        check.assert_close(
            forward(params, bX, activation=activation),
            h,
            dim=sum(sizes) + len(sizes),
            scale=output_magnitude(host, backend.to_numpy(bX), activation),
            what="forward vs left fold",
        )


@claim(PROBE)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(width=(1, 8), depth=(2, 3)), kappa=st.floats(0.1, 0.9), T=st.integers(1, 30))
def test_head_only_training_is_least_squares_on_penultimate_features(backend, net, kappa, T):
    """T steps of dlcore GD on the network with the backbone's gradients discarded (frozen) give
    the same head as T steps of GD on ||G w - y||^2 from the same start, G = [h^{L-1}, 1]; the
    backbone is bit-identical. eta = kappa / (2 s_max(G)^2); rounding as in the SVD test (kind
    equivalence, cond T, scale max_t ||w_t|| + ||y|| / ||G||: a step rounds w_t and
    eta G^T (G w_t - y) with eta ||G||^2 <= 1/2)."""
    check = Check(PROBE, backend)
    from dlcore.losses import squared_loss_grad
    from dlcore.train import run

    sizes, activation, P, X, y = net
    L = len(sizes) - 1
    params, bX, by = _to(backend, P), backend.asarray(X), backend.asarray(y)
    G = _phi(activation, backend.to_numpy(preactivations(params, bX, activation=activation)[-2]))
    G = np.concatenate([G, np.ones((len(y), 1))], axis=1)
    eta = kappa / (2 * np.linalg.norm(G, 2) ** 2)
    head = (f"W{L}", f"b{L}")

    def frozen_grad(p, t):
        _, g = value_and_grad(p, bX, by, activation=activation)
        return {k: g[k] if k in head else 0 * g[k] for k in g}

    final, _ = run(sgd(eta), frozen_grad, params, T)
    bG = backend.asarray(G)
    w0 = backend.asarray(np.concatenate([P[f"W{L}"][:, 0], P[f"b{L}"]]))
    w_ls, path = run(
        sgd(eta),
        lambda p, t: {"w": squared_loss_grad(p["w"], bG, by)},
        {"w": w0},
        T,
        record_every=1,
    )
    got = np.concatenate([backend.to_numpy(final[f"W{L}"])[:, 0], backend.to_numpy(final[f"b{L}"])])
    scale = max(float(np.linalg.norm(backend.to_numpy(p["w"]))) for p in path)
    scale += float(np.linalg.norm(y)) / float(np.linalg.norm(G, 2))
    with clause("a"):
        check.assert_close(
            got,
            w_ls["w"],
            dim=sum(G.shape),
            cond=T,
            scale=scale,
            what="frozen-backbone head vs least-squares GD",
        )
    with clause("b"):
        for k in P:
            if k not in head:
                assert np.array_equal(backend.to_numpy(final[k]), backend.to_numpy(params[k]))


BACKENDS_AGREE = "relu-networks.backends-agree"


@claim(BACKENDS_AGREE)
@pytest.mark.parametrize("backend", backend_params())
@given(net=mlps(width=(1, 16), depth=(1, 4)), seed=seeds)
def test_backends_compute_the_same_mlp(backend, net, seed):
    """The same seed gives bit-identical initial weights on the backend and on NumPy (drawn on the
    CPU, then cast), and forward, backward and param_jacobian agree with NumPy float64 run on the
    same rounded inputs, within the backend dtype's rounding (magnitudes of feature_magnitudes)."""
    check = Check(BACKENDS_AGREE, backend)
    from tests.support.backends import REFERENCE as NP64

    sizes, activation, P, X, y = net
    like = backend.asarray(np.zeros(1))
    drawn = init_mlp(sizes, rng=np.random.default_rng(seed), like=like)
    ref_drawn = init_mlp(sizes, rng=np.random.default_rng(seed))
    with clause("b"):
        for k in drawn:
            assert np.array_equal(
                backend.to_numpy(drawn[k]), ref_drawn[k].astype(backend.dtype_name)
            )
    params, bX = _to(backend, P), backend.asarray(X)
    host, hX = _host(backend, params), backend.to_numpy(bX)
    G = np.ones((len(y), 1))
    out = {
        "forward": forward(params, bX, activation=activation),
        "backward": flatten_params(backward(params, bX, backend.asarray(G), activation=activation)),
        "jacobian": param_jacobian(params, bX, activation=activation),
    }
    ref = {
        "forward": forward(_to(NP64, host), hX, activation=activation),
        "backward": flatten_params(backward(_to(NP64, host), hX, G, activation=activation)),
        "jacobian": param_jacobian(_to(NP64, host), hX, activation=activation),
    }
    M = feature_magnitudes(host, hX, activation)
    scales = {
        "forward": output_magnitude(host, hX, activation),
        "backward": float(np.linalg.norm(M.sum(axis=0))),
        "jacobian": float(np.linalg.norm(M)),
    }
    dim = sum(sizes) + len(sizes) + len(y)
    masks_differ = False
    if activation == "relu":  # a pre-activation within rounding of 0 may take either side
        ours = [backend.to_numpy(m) > 0 for m in activation_patterns(params, bX)]
        theirs = [np.asarray(m) for m in activation_patterns(_to(NP64, host), hX)]
        masks_differ = any(not np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))
    with clause("a"):
        if not masks_differ:
            for key in out:
                check.assert_close(
                    out[key],
                    ref[key],
                    dim=dim,
                    scale=scales[key],
                    what=f"{key} vs numpy float64",
                )
        else:  # the forward pass is continuous across a kink: it still agrees
            check.assert_close(
                out["forward"],
                ref["forward"],
                dim=dim,
                scale=scales["forward"],
                what="forward vs numpy float64",
            )


# ---- non-polynomial activations ------------------------------------------------------------------

NONPOLY = "relu-networks.non-polynomial-activations-are-universal"
# Sigmoid arguments stay below 80 in magnitude (exp(80) is finite in float32), so dlcore's
# 1 / (1 + exp(-z)) never overflows: the sigmoid nets have s (b - a) = sh * k <= 80.
SIGMOID_ARG_MAX = 80.0


def _check_sigmoidal_sup_error(
    backend, f, a: float, b: float, k: int, sh: float, activation: str, omega_h: float
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(sup over a grid of |f - N_{k,s}|, rounding slack, grid, net output) for sharpness s = sh / h.

    The output is compared with the host float64 formula v_0 + sum_j Delta_j sigma(s (x - m_j))
    (sigma written with tanh, which never overflows). Rounding model (kind `convergence`):
    A = 3 V + sum_j |Delta_j| covers the cast values, the k + 1 products and the sum (dim k + 2);
    the arguments s (x - m_j) carry an absolute error of a few eps s (|x| + |m_j|), which moves
    term j by |Delta_j| sigma'(xi_j) times that, and sum_j sigma'(xi_j) <= 2 (1/4 + 1/sinh(sh/2))
    (the nearest midpoint's sigma' <= 1/4, the others' <= e^{-|u|} times e^{delta u} <= 2, summed
    as in the statement): B = omega(h) s (max|x| + max|m|) 2 (1/4 + 1/sinh(sh/2)) (dim 1).
    The comparison also checks that the net has k hidden units.
    """
    check = Check(NONPOLY, backend)
    knots = np.linspace(a, b, k + 1)
    h = (b - a) / k
    s = sh / h
    values = f(knots)
    net = sigmoidal_net_from_samples(
        backend.asarray(knots), backend.asarray(values), s, activation=activation
    )
    x = np.union1d(np.linspace(a, b, 2001), (knots[1:] + knots[:-1]) / 2)
    assert tuple(net["W1"].shape) == (1, k), "a one-hidden-layer net of width k"
    out = backend.to_numpy(forward(net, backend.asarray(x[:, None]), activation=activation))[:, 0]
    mids, jumps = (knots[1:] + knots[:-1]) / 2, np.diff(values)
    u = s * (x[:, None] - mids[None, :])
    host = values[0] + (0.5 * (1 + np.tanh(u / 2))) @ jumps
    xmax = float(np.max(np.abs(x)))
    A = 3 * float(np.max(np.abs(values))) + float(np.sum(np.abs(jumps)))
    delta_u = check.tolerance(kind="convergence") * s * (xmax + float(np.max(np.abs(mids))))
    assert delta_u <= math.log(2), "test design: argument rounding must stay below ln 2"
    B = omega_h * s * (xmax + float(np.max(np.abs(mids)))) * 2 * (0.25 + 1 / math.sinh(sh / 2))
    slack = (
        check.tolerance(kind="convergence", dim=k + 2) * A + check.tolerance(kind="convergence") * B
    )
    tol = check.tolerance(kind="convergence", dim=k + 2)
    check.assert_close(
        out,
        host,
        dim=k + 2,
        scale=math.sqrt(len(x)) * slack / tol,
        what=f"width-{k} {activation} net vs its formula",
    )
    return float(np.max(np.abs(out - f(x)))), slack, x, out


def _sigmoidal_bound(omega, h: float, sh: float) -> float:
    """omega(h/2) + omega(h) (1/2 + 1/sinh(sh/2)), the statement's bound."""
    return omega(h / 2) + omega(h) * (0.5 + 1 / math.sinh(sh / 2))


@claim(NONPOLY)
@pytest.mark.parametrize("backend", backend_params())
@given(
    target=lipschitz_sine_targets(),
    a=st.floats(-3, 0),
    length=st.floats(0.5, 4),
    sh=st.floats(1.0, 8.0),
    activation=st.sampled_from(["sigmoid", "tanh"]),
    data=st.data(),
)
def test_sigmoid_and_tanh_nets_meet_the_staircase_bound(
    backend, target, a, length, sh, activation, data
):
    """sup |f - N_{k,s}| <= L_f h (1 + 1/sinh(sh/2)) (+ rounding slack) for sine targets.

    L_f = sum_j |a_j| omega_j is a Lipschitz constant of the drawn target, so omega_f(t) <= L_f t.
    The sup is taken over 2001 grid points plus the midpoints (a lower estimate of the true sup,
    so the check is sound). Widths up to 200 for tanh; for the sigmoid, sh * k <= 80 keeps
    dlcore's exp(-z) finite in float32. The bound tends to 0 with h: width buys any accuracy.
    """
    f, lip = target
    kmax = 200 if activation == "tanh" else max(1, int(SIGMOID_ARG_MAX // sh))
    k = data.draw(st.integers(1, kmax), label="k")
    h = length / k
    err, slack, _, _ = _check_sigmoidal_sup_error(
        backend, f, a, a + length, k, sh, activation, lip * h
    )
    bound = lip * h * (1 + 1 / math.sinh(sh / 2))  # L_f h (1 + 1/sinh(sh/2))
    _record_excess(err - bound, slack)
    with clause("b"):
        assert err <= bound + slack, (
            f"claim {NONPOLY} [{backend}]: sup error {err:.3e} > bound {bound:.3e} + slack {slack:.3e}"
        )


@claim(NONPOLY)
@pytest.mark.parametrize("backend", backend_params())
@given(
    alpha=st.floats(0.1, 1.0),
    scale=st.floats(0.1, 3.0),
    x0=st.floats(0, 1),
    sh=st.floats(1.0, 8.0),
    data=st.data(),
)
def test_sigmoid_and_tanh_nets_meet_the_modulus_bound(backend, alpha, scale, x0, sh, data):
    """For the Hoelder target f(x) = s |x - x0|^alpha on [0, 1] (continuous, not Lipschitz for
    alpha < 1) and k >= 2 pieces, omega_f(t) = s t^alpha exactly for t <= h <= 1/2 (the point x0 has
    room t on one side; |u^alpha - v^alpha| <= |u - v|^alpha gives <=), so the statement's bound
    omega(h/2) + omega(h) (1/2 + 1/sinh(sh/2)) is checked as stated, for the sigmoid net and the
    tanh net of the same width; both compute N_{k,s} (up to rounding, see
    _check_sigmoidal_sup_error). Widths: sh * k <= 80 for the sigmoid (its exp stays finite)."""

    def f(x):
        return scale * np.abs(x - x0) ** alpha

    k = data.draw(st.integers(2, max(2, int(SIGMOID_ARG_MAX // sh))), label="k")
    h = 1.0 / k

    def omega(t):
        return scale * t**alpha

    bound = _sigmoidal_bound(omega, h, sh)
    with clause("c"):  # both nets equal the formula N_{k,s}: the same function
        results = [
            _check_sigmoidal_sup_error(backend, f, 0.0, 1.0, k, sh, act, omega(h))
            for act in ("sigmoid", "tanh")
        ]
    for err, slack, _, _ in results:
        _record_excess(err - bound, slack)
        with clause("a"):
            assert err <= bound + slack, (
                f"claim {NONPOLY} [{backend}]: sup error {err:.3e} > bound {bound:.3e} + {slack:.3e}"
            )


# (p, L) with p^L <= 4: the degree bound stays small enough that rho_{p^L}(|x - c|) >= 0.03
POLY_SHAPES = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (4, 1)]


def _ls_residual(x: np.ndarray, g: np.ndarray, degree: int) -> tuple[float, float]:
    """(rho, margin): the RMS least-squares residual of g by polynomials of degree <= `degree` on
    the points x in [-1, 1] (Chebyshev basis, host float64), and its rounding margin.

    The computed residual is the exact one of a problem perturbed by O(N eps cond(V)) relative to
    ||g|| (backward stability of the QR/SVD solve); margin = tol(bound, cond(V), dim N) ||g|| / sqrt N.
    """
    V = np.polynomial.chebyshev.chebvander(x, degree)
    coef = np.linalg.lstsq(V, g, rcond=None)[0]
    rho = float(np.sqrt(np.mean((g - V @ coef) ** 2)))
    margin = tolerance(
        float(np.finfo(np.float64).eps), kind="bound", cond=float(np.linalg.cond(V)), dim=len(x)
    ) * float(np.linalg.norm(g) / np.sqrt(len(x)))
    return rho, margin


@claim(NONPOLY)
@pytest.mark.parametrize("backend", backend_params())
@given(
    shape=st.sampled_from(POLY_SHAPES),
    widths=st.lists(st.integers(1, 64), min_size=2, max_size=2),
    c0=st.floats(-0.5, 0.5),
    seed=seeds,
)
def test_polynomial_activation_is_stuck_at_the_ls_residual(backend, shape, widths, c0, seed):
    """(d) dlcore's network with phi(z) = sum_i c_i z^i (degree p, L hidden layers, widths up to
    64) equals, on a grid of [-1, 1], its own Chebyshev interpolant of degree D = p^L through
    D + 1 Chebyshev points: it is a polynomial of degree <= D. Tolerance: the output's rounding
    is <= c dim eps M (M the magnitude bound of the forward recursion with |phi|(m) =
    sum |c_i| m^i), amplified by 1 + Lebesgue constant, Lambda_D <= (2/pi) ln(D + 1) + 1.
    (e) Hence every such net has sup |g - f| >= rho_D(g) for g = |x - c0|; the net at hand does
    (up to its rounding). (f) rho_D > 0, and a tanh net of the width k where the Lipschitz bound
    plus its slack drops below rho_D - margin has a smaller RMS error on the same points, which
    no polynomial-activation net of any width reaches.
    """
    check = Check(NONPOLY, backend)
    p, L = shape
    D = p**L
    rng = np.random.default_rng(seed)
    coeffs = rng.standard_normal(p + 1)
    coeffs[p] = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)  # exactly degree p
    sizes = [1, *widths[:L], 1]
    P = {}
    for ell, (m, n) in enumerate(itertools.pairwise(sizes), start=1):
        P[f"W{ell}"] = rng.standard_normal((m, n)) / math.sqrt(m)
        P[f"b{ell}"] = 0.5 * rng.standard_normal(n)
    params = _to(backend, P)
    host = _host(backend, params)
    cs = [float(c) for c in backend.to_numpy(backend.asarray(coeffs))]

    def phi(z):
        out = cs[p] * z
        for c in reversed(cs[1:p]):
            out = (out + c) * z
        return out + cs[0]

    nodes = np.cos(np.pi * (np.arange(D + 1) + 0.5) / (D + 1))
    x = np.linspace(-1, 1, 401)
    f_nodes = backend.to_numpy(forward_with(params, backend.asarray(nodes[:, None]), phi))[:, 0]
    f_grid = backend.to_numpy(forward_with(params, backend.asarray(x[:, None]), phi))[:, 0]
    interp = np.polynomial.chebyshev.Chebyshev.fit(nodes, f_nodes, D, domain=[-1, 1])(x)
    # magnitude bound M of the output (|x| <= 1), as in output_magnitude with |phi|
    m = np.ones((1, 1))
    for ell in range(1, L + 2):
        m = m @ np.abs(host[f"W{ell}"]) + np.abs(host[f"b{ell}"])
        if ell <= L:
            m = sum(abs(c) * m**i for i, c in enumerate(cs))
    M = float(np.max(m))
    lebesgue = 2 / math.pi * math.log(D + 1) + 1
    with clause("d"):
        check.assert_close(
            f_grid,
            interp,
            kind="bound",
            cond=1 + lebesgue,
            dim=sum(sizes) + (p + 1) * L,
            scale=math.sqrt(len(x)) * M,
            what=f"net with a degree-{p} activation, {L} hidden layers vs its degree-{D} interpolant",
        )
    g = np.abs(x - c0)
    rho, margin = _ls_residual(x, g, D)
    net_rounding = check.tolerance(kind="bound", dim=sum(sizes) + (p + 1) * L) * M
    rms_poly = float(np.sqrt(np.mean((g - f_grid) ** 2)))
    with clause("e"):  # sup over [-1, 1] >= RMS over the grid >= rho (f is a degree-D polynomial)
        assert rms_poly >= rho - margin - net_rounding
    with clause("f"):
        assert rho > margin, "rho_D(|x - c0|) > 0, resolvably"
    # the tanh net (sh = 4) of the first width whose guaranteed error is below rho - margin
    sh, lip = 4.0, 1.0
    k = 1
    while _sigmoidal_bound(lambda t: lip * t, 2.0 / k, sh) >= (rho - margin) / 2:
        k += 1

    def target(t):
        return np.abs(t - c0)

    with clause("f"):
        err, slack, xs, out = _check_sigmoidal_sup_error(
            backend, target, -1.0, 1.0, k, sh, "tanh", 2.0 / k
        )
        assert _sigmoidal_bound(lambda t: lip * t, 2.0 / k, sh) + slack < rho - margin, (
            "the tanh net's guaranteed error falls below the polynomial floor at a finite width"
        )
        assert err <= _sigmoidal_bound(lambda t: lip * t, 2.0 / k, sh) + slack
        on_grid = np.isin(xs, x)
        rms_tanh = float(np.sqrt(np.mean((out[on_grid] - g) ** 2)))
        assert rms_tanh < rho - margin, (
            f"claim {NONPOLY} [{backend}]: width-{k} tanh RMS {rms_tanh:.3e} not below the "
            f"degree-{D} floor {rho:.3e}"
        )
