"""Every numerical safeguard in dlcore, tested where removing it changes the result.

A guard (a max subtraction, a stable branch, log1p/expm1, a clip, a centring) is only worth its
line if some input needs it. Each test below draws inputs from the range where the naive formula
fails, asserts that the naive formula (written here, test-side) does fail there, and asserts that
dlcore is exact to a few ulps against a high-precision oracle (mpmath at 60 digits), in every
dtype it accepts, with no RuntimeWarning (pytest turns dlcore's RuntimeWarnings into errors).

Tolerances: each function below is a composition of at most six correctly rounded elementary
operations on inputs of magnitude at most |u| (libm's exp/log1p are within 1 ulp); each rounding
adds at most one unit roundoff u = eps/2 of the running magnitude, so the result is within
8 eps (|value| + eps-scale of the cancelling terms) of the exact value, as written per test.
"""

from __future__ import annotations

import math
import re
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlcore import losses
from dlcore.dynamics import gd_filter_factors, gd_steps_to_tolerance, mode_eigenvalues
from dlcore.kernels import rbf_kernel
from dlcore.losses import (
    cross_entropy,
    log_softmax,
    logistic_loss,
    logistic_loss_grad,
    softmax,
)
from dlcore.mlp import forward
from tests.support.backends import CPU_BACKENDS, backend_params

mpmath.mp.dps = 60

# NumPy and torch in both dtypes (array_api_strict float64 adds nothing numerically here).
GUARD_BACKENDS = tuple(b for b in CPU_BACKENDS if b.library in ("numpy", "torch"))


def _overflow_edge(dtype_name: str) -> float:
    """The |u| beyond which exp(u) overflows in the dtype: log(max)."""
    return math.log(float(np.finfo(dtype_name).max))


def _no_warnings(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


def _close(actual: float, exact: mpmath.mpf, rel: float, tiny: float) -> bool:
    """|actual - exact| <= rel |exact| + tiny (tiny: the subnormal spacing where relevant)."""
    return abs(mpmath.mpf(actual) - exact) <= rel * abs(exact) + tiny


big = st.floats(1.0, 1e4)
signs = st.sampled_from([-1.0, 1.0])


# ---- softplus: log(1 + e^u) = max(u, 0) + log1p(e^{-|u|}) -------------------------------------


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(m=big, sign=signs)
@example(m=1e4, sign=-1.0)
@example(m=1e4, sign=1.0)
def test_logistic_loss_is_exact_at_large_margins(backend, m, sign):
    """log(1 + e^{-m}) for |m| up to 1e4: within 8 eps relative (max(u,0) is exact, log1p(e^-|u|)
    is two correctly rounded ops on a value <= log 2, and their sum rounds once), plus the
    smallest subnormal where e^{-m} underflows. The naive log(1 + exp(u)) is inf past log(max)."""
    margin = sign * m
    m_b = float(backend.to_numpy(backend.asarray(margin)))  # the margin as the dtype holds it
    out = _no_warnings(logistic_loss, backend.asarray([m_b]), backend.asarray([1.0]))
    value = float(backend.to_numpy(out)[0])
    exact = mpmath.log1p(mpmath.exp(-mpmath.mpf(m_b)))
    tiny = float(np.finfo(backend.dtype_name).smallest_subnormal)
    assert math.isfinite(value) and value >= 0
    assert _close(value, exact, 8 * backend.eps, tiny), (value, exact)
    if -m_b > _overflow_edge(backend.dtype_name):  # where the guard is needed
        with np.errstate(over="ignore"):
            naive = np.log(1 + np.exp(np.asarray(-m_b, dtype=backend.dtype_name)))
        assert not np.isfinite(naive)


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(m=big, sign=signs)
@example(m=1e4, sign=1.0)
@example(m=100.0, sign=1.0)
def test_logistic_grad_is_exact_at_large_margins(backend, m, sign):
    """-y sigma(-y s) with sigma(u) = e^{min(u,0)} / (1 + e^{-|u|}): three rounded ops, 4 eps
    relative, plus the subnormal spacing (e^{-m} may be subnormal). The naive 1 / (1 + e^{-u})
    overflows e^{-u} for u < -log(max): it returns 0 with a warning where float32 still holds
    e^{-100} = 3.7e-44 as a subnormal."""
    margin = float(backend.to_numpy(backend.asarray(sign * m)))
    out = _no_warnings(logistic_loss_grad, backend.asarray([margin]), backend.asarray([1.0]))
    value = float(backend.to_numpy(out)[0])
    u = -mpmath.mpf(margin)
    exact = -1 / (1 + mpmath.exp(-u))
    tiny = float(np.finfo(backend.dtype_name).smallest_subnormal)
    assert _close(value, exact, 4 * backend.eps, tiny), (value, exact)


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(u=big, sign=signs)
@example(u=1e4, sign=-1.0)
def test_sigmoid_activation_is_exact_at_large_inputs(backend, u, sign):
    """forward(..., activation="sigmoid") on a 1-1 identity layer: e^{-|z|} and one division,
    4 eps relative plus the subnormal spacing; no overflow warning at |z| up to 1e4."""
    z = float(backend.to_numpy(backend.asarray(sign * u)))
    # forward applies no activation after the last layer: two layers, the second the identity
    params = {
        "W1": backend.asarray([[1.0]]),
        "b1": backend.asarray([0.0]),
        "W2": backend.asarray([[1.0]]),
        "b2": backend.asarray([0.0]),
    }
    out = _no_warnings(forward, params, backend.asarray([[z]]), activation="sigmoid")
    value = float(backend.to_numpy(out)[0, 0])
    exact = 1 / (1 + mpmath.exp(-mpmath.mpf(z)))
    tiny = float(np.finfo(backend.dtype_name).smallest_subnormal)
    assert 0 <= value <= 1
    assert _close(value, exact, 4 * backend.eps, tiny), (value, exact)


# ---- log-softmax: the maximum subtracted first ------------------------------------------------


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(
    top=st.floats(-1e4, 1e4),
    gaps=st.lists(st.floats(0.0, 50.0), min_size=1, max_size=6),
)
@example(top=1e4, gaps=[0.0, 1.0])
def test_log_softmax_is_exact_for_large_logits(backend, top, gaps):
    """Logits top - gap_k with |top| up to 1e4: each entry within 8 eps (|z_k| + |M| + 1) of the
    exact log-probability (z_k - M is exact when the gap is small against |M|, or rounds once;
    the log of a sum of K <= 7 terms in [e^-50, 1] rounds K + 2 times on a value <= log 7), and
    softmax sums to 1 within 8 K eps. The naive log(sum exp(z)) overflows once top > log(max)."""
    z_host = np.array([top] + [top - g for g in gaps])
    z_b = backend.to_numpy(backend.asarray(z_host))  # as the dtype holds it
    z = backend.asarray(z_b)
    out = backend.to_numpy(_no_warnings(log_softmax, z))
    zs = [mpmath.mpf(float(v)) for v in z_b]
    lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in zs))
    M = max(abs(float(v)) for v in z_b)
    for k, v in enumerate(zs):
        exact = v - lse
        assert abs(mpmath.mpf(float(out[k])) - exact) <= 8 * backend.eps * (abs(v) + M + 1)
    K = len(zs)
    total = float(np.sum(backend.to_numpy(_no_warnings(softmax, z))))
    assert abs(total - 1) <= 8 * K * backend.eps
    if float(np.max(z_b)) > _overflow_edge(backend.dtype_name):
        with np.errstate(over="ignore"):
            naive = np.log(np.sum(np.exp(np.asarray(z_b, dtype=backend.dtype_name))))
        assert not np.isfinite(naive)


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(frac=st.floats(0.6, 1.0), k=st.integers(2, 5))
def test_cross_entropy_is_finite_for_finite_logits_of_any_spread(backend, frac, k):
    """Logits (a, -a, ..., -a) with a = frac * max: finite, but 2a overflows, so every other
    class's log-probability is -inf. The loss of the label 0 is log(1 + (k-1) e^{-2a}) = 0 (the
    exact value rounds to 0), never the NaN of 0 * -inf that a one-hot product gives."""
    a = frac * float(np.finfo(backend.dtype_name).max)
    z_host = np.array([[a] + [-a] * (k - 1)])
    z = backend.asarray(z_host)
    loss = float(backend.to_numpy(_no_warnings(cross_entropy, z, [0]))[0])
    assert loss == 0.0
    logp = backend.to_numpy(_no_warnings(log_softmax, z))[0]
    assert np.isneginf(logp[1:]).all()
    with np.errstate(invalid="ignore"):
        onehot = np.zeros(k, dtype=backend.dtype_name)
        onehot[0] = 1.0
        assert np.isnan(-np.sum(onehot * logp))  # what the guard prevents


# ---- losses of finite but huge inputs: refused, never inf ---------------------------------------

_OVERFLOWING = [
    ("squared_loss", {}),
    ("squared_loss_grad", {}),
    ("minibatch_grad", {"batch": [0, 1]}),
    ("per_example_losses", {}),
    ("per_example_grads", {}),
    ("empirical_risk", {}),
    ("empirical_risk_grad", {}),
    ("per_example_losses", {"loss": "logistic"}),
    ("per_example_grads", {"loss": "hinge"}),
]


@pytest.mark.parametrize(("name", "extra"), _OVERFLOWING)
@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(frac=st.floats(0.75, 1.0), sign=st.sampled_from([-1.0, 1.0]))
def test_losses_refuse_finite_inputs_whose_result_overflows(backend, name, extra, frac, sign):
    """w = (1, 1) and rows x_i = (a, a) with a = frac * max: every input is finite, but the score
    x_i^T w = 2a >= 1.5 max exceeds the dtype's largest value even after rounding (the float sum
    of two entries errs by half an ulp), so no result of these functions is finite.
    Each must raise a ValueError that says so and names the inputs, never return inf or NaN."""
    a = sign * frac * float(np.finfo(backend.dtype_name).max)
    w = backend.asarray(np.ones(2))
    X = backend.asarray(np.full((2, 2), a))
    y = backend.asarray(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"overflowed .*w.* X"):
        getattr(losses, name)(w, X, y, **extra)


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(frac=st.floats(0.6, 1.0), k=st.integers(2, 5))
def test_cross_entropy_refuses_a_loss_that_overflows(backend, frac, k):
    """Logits (a, -a, ...) with a = frac * max and the label of a -a class: the loss is 2a, above
    the dtype's largest value, so cross_entropy raises instead of returning inf."""
    a = frac * float(np.finfo(backend.dtype_name).max)
    z = backend.asarray(np.array([[a] + [-a] * (k - 1)]))
    with pytest.raises(ValueError, match=r"overflowed .*z"):
        cross_entropy(z, [1])


# ---- RBF kernel: centring and the clip at 0 ---------------------------------------------------


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(
    offset=st.floats(0.0, 8.0),
    n=st.integers(1, 6),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    gamma=st.floats(0.1, 2.0),
)
@example(offset=8.0, n=2, d=2, seed=0, gamma=1.0)
def test_rbf_kernel_far_from_the_origin(backend, offset, n, d, seed, gamma):
    """Points x_i = 10^offset + p_i with |p_i| <= 2 (so up to 1e8 away from the origin, a few units
    apart): rbf_kernel(X, X) has an exactly unit diagonal, all entries in [0, 1], and matches
    exp(-gamma |x_i - x_j|^2) (the oracle: float64 differences of the points as the dtype holds
    them, exact by Sterbenz) within the bound below. Without the centring, |a|^2 + |b|^2 - 2 a^T b
    loses eps 10^{2 offset}: at 1e8 the squared distance errs by ~2 in float64, every entry off.

    Bound. The computed centre c~ is off by at most n eps 10^offset, but the same c~ shifts both
    sets, so distances are unchanged as long as x - c~ is exact: Sterbenz's lemma holds once every
    x lies within a factor 2 of c~, i.e. for 10^offset >= 3; below that each shifted coordinate
    errs by eps (10^offset + 2). The shifted coordinates are at most s = max |x - mean| +
    n eps 10^offset + 1 in size, so |a'|^2 + |b'|^2 - 2 a'^T b' (d + 2 roundings of terms
    <= 4 d s^2) errs by 8 (d + 2) eps (4 d s^2 + shift error * s); exp multiplies that by gamma K
    <= gamma and adds 2 eps.
    """
    rng = np.random.default_rng(seed)
    P = rng.uniform(-1.0, 1.0, size=(n, d))
    X_host = 10.0**offset + P
    Xb = backend.asarray(X_host)
    Xh = backend.to_numpy(Xb)  # as the dtype holds them: the oracle uses these points
    K = backend.to_numpy(_no_warnings(rbf_kernel, Xb, Xb, gamma=gamma))
    assert np.all(np.diag(K) == 1.0)
    assert np.all((K >= 0) & (K <= 1))
    diff = Xh[:, None, :] - Xh[None, :, :]  # exact in float64 for these magnitudes (Sterbenz)
    exact = np.exp(-gamma * np.sum(diff * diff, axis=-1))
    eps = backend.eps
    spread = float(np.max(np.abs(Xh - Xh.mean(axis=0)))) + n * eps * 10.0**offset + 1.0
    shift_err = (10.0**offset + 2) if 10.0**offset < 3 else 0.0
    bound = 8 * (d + 2) * eps * gamma * (4 * d * spread**2 + shift_err * spread) + 2 * eps
    assert np.max(np.abs(K - exact)) <= bound
    # the copy (not the same object) is within the same bound, diagonal included
    K2 = backend.to_numpy(_no_warnings(rbf_kernel, Xb, backend.asarray(Xh), gamma=gamma))
    assert np.max(np.abs(K2 - exact)) <= bound


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@given(
    k=st.integers(-1, 1).map(lambda s: s * 500) | st.integers(-500, 500),
    n=st.integers(1, 5),
    m=st.integers(1, 5),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    gamma=st.floats(0.1, 2.0),
)
@example(k=500, n=3, m=2, d=2, seed=0, gamma=1.0)
@example(k=-500, n=3, m=2, d=2, seed=0, gamma=1.0)
def test_rbf_kernel_is_invariant_under_exact_rescaling(backend, k, n, m, d, seed, gamma):
    r"""$k(2^k a, 2^k b; \gamma 4^{-k}) = k(a, b; \gamma)$: points $2^k p$ with $|p| \le 1$
    (entries up to $10^{\pm150}$) and $\gamma 4^{-k}$ give the kernel of the points $p$ with
    $\gamma$, bit for bit. `rbf_kernel` rescales its points once they leave $2^{\pm256}$
    (float32: $2^{\pm32}$), so both of its routes are compared.

    Bound: 0, exactly. A multiplication by a power of two is exact for normal numbers, and
    every operation of the kernel (the mean, the shift, $\sqrt\gamma$, the products and sums)
    commutes with it, so the rescaled route computes the same significands as the direct one.
    In float32 the factors leave the range ($2^{\pm127}$), so there $k$ is cut to $\pm 60$."""
    if backend.dtype_name == "float32":
        k = max(-60, min(60, k))
    rng = np.random.default_rng(seed)
    A, B = rng.uniform(-1.0, 1.0, size=(n, d)), rng.uniform(-1.0, 1.0, size=(m, d))
    c = math.ldexp(1.0, k)
    K = backend.to_numpy(
        _no_warnings(rbf_kernel, backend.asarray(A), backend.asarray(B), gamma=gamma)
    )
    Ks = backend.to_numpy(
        _no_warnings(
            rbf_kernel,
            backend.asarray(A * c),
            backend.asarray(B * c),
            gamma=math.ldexp(gamma, -2 * k),
        )
    )
    np.testing.assert_array_equal(Ks, K)


@pytest.mark.parametrize(
    "backend", backend_params([b for b in GUARD_BACKENDS if b.dtype_name == "float64"])
)
@given(
    k=st.sampled_from([600, 1000, 1020]), gamma=st.floats(0.1, 2.0), seed=st.integers(0, 2**32 - 1)
)
def test_rbf_kernel_of_points_beyond_the_squares_range(backend, k, gamma, seed):
    """Distinct points $2^k p_i$ with $|p_i| \\le 1$ so large that $\\|a\\|^2$ overflows (float64
    from $2^{512}$; no float32 holds them): `rbf_kernel(X, X)` is exactly the identity, as
    $\\gamma\\|a - b\\|^2 \\ge 0.1 \\cdot 4^{600} \\min_{i \\ne j}|p_i - p_j|^2$ is far above 746,
    where $e^{-x}$ rounds to 0, and the diagonal is $e^0$ (the squared norms cancel exactly, as in
    the unscaled kernel). Before the rescaling, every entry was NaN ($\\infty - \\infty$).
    (A point repeated in a second array is not covered: its squared distance carries the product
    formula's rounding, $\\varepsilon\\|a\\|^2$, which at this scale is far above 746 as well.)"""
    rng = np.random.default_rng(seed)
    P = rng.uniform(-1.0, 1.0, size=(4, 3))
    gaps = np.sum((P[:, None] - P[None]) ** 2, axis=-1)
    assert math.log2(0.1 * float(gaps[~np.eye(4, dtype=bool)].min())) + 2 * k > math.log2(746)
    X = backend.asarray(P * math.ldexp(1.0, k))
    K = backend.to_numpy(_no_warnings(rbf_kernel, X, X, gamma=gamma))
    np.testing.assert_array_equal(K, np.eye(4))


@pytest.mark.parametrize(("trace", "det"), [(0.0, 0.0), (-0.0, 0.0), (0.0, -0.0)])
def test_mode_eigenvalues_of_a_zero_trace_and_determinant(trace: float, det: float) -> None:
    r"""$z^2 - \operatorname{tr} z + \det = z^2$ has the double root 0, exactly (no tolerance).
    The roots are computed at the scale $2^e \approx \max(|\operatorname{tr}|, \sqrt{|\det|})$,
    which is 0 here (`frexp(0)` gives $e = 0$); the root of larger modulus is then 0, so the other
    cannot come from $z_+ z_- = \det$ by a division: its branch gives 0 too."""
    assert mode_eigenvalues(trace, det) == (0j, 0j)


@given(
    e=st.integers(-1074, -990),
    lr=st.floats(0.5, 2.0),
    delta=st.floats(1e-300, 0.999),
)
@example(e=-1074, lr=1.0, delta=0.5)  # lam the smallest subnormal: 1 - rho rounded to 0 before
def test_gd_steps_to_tolerance_far_beyond_any_float(e, lr, delta):
    r"""$\eta\lambda$ down to $2^{-1074}$: the count $t = \lceil \ln\delta / \ln(1 - \eta\lambda)
    \rceil$ is an int far beyond the largest float (up to about $10^{326}$), where $1 - \rho$ is
    subnormal or rounds to 0 as a float (before: `ZeroDivisionError`, or `OverflowError` from
    `ceil(inf)`). Oracle: mpmath at 80 digits, `log1p` of the exact product $\eta\lambda$.

    Bound: $2^{-52} t + 1$. The count is $\lceil L/(1 - \rho)\rceil$ with $1 - \rho$ exact and
    $L$ = `math.log(1/delta)`, a float within an ulp ($2^{-52}$ relative); the series of
    $\ln\rho$ beyond $-(1 - \rho)$ adds $(1 - \rho)/2 < 2^{-1001}$ relative; the ceiling adds 1.
    That is the function's stated precision ($10^{-16}$ relative)."""
    lam = math.ldexp(1.0, e)
    t = gd_steps_to_tolerance(lam, lr, delta)
    with mpmath.workdps(80):
        exact = mpmath.log(delta) / mpmath.log1p(-mpmath.mpf(lr) * mpmath.mpf(lam))
        assert abs(t - exact) <= 2.0**-52 * exact + 1
    assert isinstance(t, int)


def test_rbf_kernel_centring_is_needed():
    """The case of issue 12: two points 1 apart near 1e8. The uncentred formula gives 1.0 (or
    another wrong value); dlcore gives e^{-1} to 2 eps."""
    X = np.array([[1e8, 1e8], [1e8 + 1, 1e8]])
    a2 = np.sum(X * X, axis=1)
    naive = np.exp(-np.maximum(a2[:, None] + a2[None, :] - 2 * X @ X.T, 0))
    assert abs(naive[0, 1] - math.exp(-1)) > 0.1
    K = rbf_kernel(X, X)
    assert abs(K[0, 1] - math.exp(-1)) <= 2 * np.finfo(float).eps
    assert K[0, 0] == K[1, 1] == 1.0


# ---- GD's filter factor: -expm1(t log1p(-a)) ---------------------------------------------------


@given(a_exp=st.floats(-16.0, -4.0), t=st.integers(1, 1000))
@example(a_exp=-16.0, t=1)
def test_gd_filter_factor_keeps_relative_accuracy(a_exp, t):
    """p = 1 - (1 - a)^t for a = 10^a_exp as small as 1e-16: within 8 eps relative of the exact
    value (log1p, one product and expm1, each correctly rounded; t a <= 0.1 keeps the expm1
    argument small). The naive 1 - (1 - a)^t loses all digits once a < eps."""
    a = 10.0**a_exp
    s = math.sqrt(a / 2)  # a = 2 eta s^2 with eta = 1
    p = float(gd_filter_factors(np.array([s]), 1.0, t)[0])
    a_held = 2 * s * s  # as float64 holds it
    exact = 1 - (1 - mpmath.mpf(a_held)) ** t
    assert abs(mpmath.mpf(p) - exact) <= 8 * np.finfo(float).eps * abs(exact)
    if a_held < 1e-10:  # what the guard prevents: the naive form fails the same tolerance
        naive = 1 - (1 - a_held) ** t
        assert abs(mpmath.mpf(naive) - exact) > 8 * np.finfo(float).eps * abs(exact)


@pytest.mark.parametrize("backend", backend_params(CPU_BACKENDS))
@given(
    bad=st.sampled_from([math.nan, math.inf, -math.inf]),
    layer=st.integers(1, 3),
    where=st.sampled_from(["W", "b", "X"]),
    dead=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_mlp_names_a_non_finite_input_that_a_dead_unit_multiplies(
    backend, bad, layer, where, dead, seed
):
    """The forward pass checks X and params through the pre-activations (one pass fewer). That
    relies on IEEE arithmetic in every library's matmul: `0 * inf` and `0 * nan` are NaN, so a
    non-finite weight fed by a dead ReLU unit (an all-zero column of h) still shows in z. The
    error must name the input (X or params['W<l>'] / params['b<l>']), not call it an overflow.

    The dead unit: hidden unit 0 of each layer gets bias -1e3 and zero incoming weights, so
    its ReLU output is exactly 0 for every example; the bad entry sits in row 0 of W^{l} (the
    weights that unit feeds) when `dead`, else anywhere."""
    rng = np.random.default_rng(seed)
    sizes = [3, 4, 4, 2]
    params = {}
    for ell in range(1, 4):
        W = rng.standard_normal((sizes[ell - 1], sizes[ell])) / 2
        b = rng.standard_normal(sizes[ell]) / 2
        if ell < 3:
            W[:, 0], b[0] = 0.0, -1e3  # unit 0 of layer ell is dead on every input
        params[f"W{ell}"], params[f"b{ell}"] = W, b
    X = rng.standard_normal((5, 3))
    if where == "X":
        X[rng.integers(5), rng.integers(3)] = bad
        name = "X"
    elif where == "W":
        W = params[f"W{layer}"]
        row = 0 if dead and layer > 1 else rng.integers(W.shape[0])
        W[row, rng.integers(W.shape[1])] = bad
        name = f"params['W{layer}']"
    else:
        params[f"b{layer}"][rng.integers(sizes[layer])] = bad
        name = f"params['b{layer}']"
    with pytest.raises(ValueError, match=re.escape(name) + " must be finite"):
        forward({k: backend.asarray(v) for k, v in params.items()}, backend.asarray(X))


# ---- kernel_ridge's definiteness check: a Cholesky factorization, no eigensolver ----------------


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
def test_kernel_ridge_refuses_an_indefinite_k_when_the_solver_returns_nan(backend, monkeypatch):
    """K = [[1, 2], [2, 1]] has the eigenvalue -1. torch's float32 eigvalsh has returned NaN for a
    finite symmetric matrix (counterexample ledger, implicit-bias); with a solver that returns
    NaN, every comparison with the smallest eigenvalue is False, so a check through eigvalsh
    would pass K silently. kernel_ridge checks definiteness by a Cholesky factorization of
    K + tol I instead, which fails for K; an eigvalsh that returns NaN changes nothing."""
    from dlcore.kernels import kernel_ridge

    K = backend.asarray(np.array([[1.0, 2.0], [2.0, 1.0]]))
    xp = backend.xp
    monkeypatch.setattr(xp.linalg, "eigvalsh", lambda A: xp.full((2,), math.nan, dtype=A.dtype))
    with pytest.raises(ValueError, match="positive semi-definite"):
        kernel_ridge(K, backend.asarray(np.ones(2)), 0.5)


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
def test_kernel_ridge_refuses_every_indefinite_k_without_an_eigensolver(backend, lam, monkeypatch):
    """K = Q diag(-0.3, 1, 2) Q^T is indefinite, but K + lam I is positive definite for lam = 0.5
    and 1: a single Cholesky factorization of K + lam I would let K through. kernel_ridge factors
    K + tol I first (tol = 8 n eps max|K_ij|, far below 0.3), so every lam refuses K, and never
    calls eigvalsh (it raises here)."""
    from dlcore.kernels import kernel_ridge

    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))
    K = backend.asarray((Q * np.array([-0.3, 1.0, 2.0])) @ Q.T)
    xp = backend.xp

    def no_eigensolver(A: object) -> object:
        raise AssertionError("kernel_ridge called eigvalsh")

    monkeypatch.setattr(xp.linalg, "eigvalsh", no_eigensolver)
    sym = (K + K.T) / 2  # exactly symmetric: the refusal is the definiteness check's
    with pytest.raises(ValueError, match="positive semi-definite"):
        kernel_ridge(sym, backend.asarray(np.ones(3)), lam)


@pytest.mark.parametrize("backend", backend_params(GUARD_BACKENDS))
def test_kernel_ridge_refuses_a_singular_k_at_lam_zero(backend):
    """K = x x^T (rank 1, positive semi-definite) with lam = 0: K + lam I is singular, refused by
    name (the Cholesky factorization of K fails), not solved into huge or non-finite values."""
    from dlcore.kernels import kernel_ridge

    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"singular.*lam=0\.0"):
        kernel_ridge(backend.asarray(np.outer(x, x)), backend.asarray(np.ones(3)), 0.0)
