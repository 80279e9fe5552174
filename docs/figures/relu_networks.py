"""Figures of the ReLU-networks chapter (docs/relu-networks.md): one function per figure, each
returning it."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from matplotlib.patches import FancyBboxPatch

from dlcore.constructions import relu_net_from_pwl, relu_net_from_slopes, sigmoidal_net_from_samples
from dlcore.data import sample_batch
from dlcore.init import kink_location
from dlcore.mlp import (
    activation_patterns,
    flatten_params,
    forward,
    forward_with,
    init_mlp,
    param_jacobian,
    preactivations,
    unflatten_params,
    value_and_grad,
)
from dlcore.optim import adam, sgd
from dlcore.train import run
from figures import new_figure, new_mosaic

__all__ = [
    "activations",
    "one_unit",
    "elbow_sum",
    "pwl_approximation",
    "relu_vs_step",
    "two_interpolants",
    "tanh_staircase",
    "circuit",
    "xor_and_abs",
    "identity_collapses",
    "tent_maps",
    "rescaling_symmetry",
    "dead_units",
    "timeline",
    "jacobian_spectrum",
    "penultimate_features",
    "local_features",
    "chebyshev_vs_relu",
    "linearization_drift",
    "linearization_remainder",
    "elbow_paths",
    "dead_unit_frozen",
    "triangle",
    "dead_init",
]


def activations() -> Any:
    """The activations $\\varphi$ (ReLU, sigmoid, tanh) with their derivatives $\\varphi'$, and the
    derivatives on a log scale: the saturating ones vanish away from the origin."""
    unit = {"W1": np.ones((1, 1)), "b1": np.zeros(1), "W2": np.ones((1, 1)), "b2": np.zeros(1)}
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.2)
    x = np.linspace(-6, 6, 601)[:, None]
    xx = np.linspace(-20, 20, 801)[:, None]
    for name, color in (("relu", "C0"), ("sigmoid", "C1"), ("tanh", "C2")):
        ax.plot(x, forward(unit, x, activation=name)[:, 0], color=color, label=name)
        ax.plot(x, param_jacobian(unit, x, activation=name)[:, 1], "--", color=color, lw=1.2)
        d = param_jacobian(unit, xx, activation=name)[:, 1]
        bx.semilogy(xx, np.where(d > 0, d, np.nan), color=color, label=f"{name}′")
    for a in (ax, bx):
        a.axvspan(-20, -4, color="0.93")
        a.axvspan(4, 20, color="0.93")
    ax.set(xlim=(-6, 6), ylim=(-1.2, 2.2), xlabel="z", title="φ (solid) and φ′ (dashed)")
    ax.legend(fontsize=9, loc="upper left")
    bx.set(xlim=(-20, 20), ylim=(1e-9, 2), xlabel="z", title="derivatives, log scale")
    bx.legend(fontsize=9, loc="lower center")
    return fig


def one_unit() -> Any:
    """One ReLU unit $x \\mapsto v\\,\\mathrm{ReLU}(wx + b)$ for the four sign patterns of $(w, v)$: an
    elbow at $-b/w$ with slope $wv$ on its active side."""
    x = np.linspace(-2, 2, 401)[:, None]
    fig, axes = new_figure(4, width=7.5, height=2.6)
    for ax, (w, v) in zip(axes, ((1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)), strict=False):
        unit = {
            "W1": np.array([[w]]),
            "b1": np.array([0.5]),
            "W2": np.array([[v]]),
            "b2": np.zeros(1),
        }
        ax.plot(x, forward(unit, x)[:, 0], lw=2)
        ax.axvline(kink_location(np.array([w]), np.array([0.5]))[0], ls=":", color="k", lw=1)
        ax.set(xlabel="x", ylim=(-2.7, 2.7), title=f"w = {w:+g}, v = {v:+g}\nslope wv = {w * v:+g}")
    return fig


def elbow_sum() -> Any:
    """A piecewise-linear function built by `relu_net_from_slopes` and its decomposition into a
    constant plus one elbow per hidden unit."""
    knots = np.array([-1.0, 0.0, 1.0])
    net = relu_net_from_slopes(knots, np.array([0.5, -1.0, 2.0, -0.5]), np.array([0.3]))
    x = np.linspace(-2.5, 2.5, 501)[:, None]
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.0)
    ax.plot(x, forward(net, x)[:, 0], "k", lw=2)
    ax.plot(knots, forward(net, knots[:, None])[:, 0], "ko", ms=4)
    ax.set(xlabel="x", title="a PWL function")
    total = np.full(x.shape[0], net["b2"][0])
    bx.plot(x, total, ":", color="0.5", label=f"constant c = {net['b2'][0]:g}")
    for j in range(net["W2"].shape[0]):
        single = {
            **net,
            "W2": np.where(np.arange(4)[:, None] == j, net["W2"], 0.0),
            "b2": np.zeros(1),
        }
        term = forward(single, x)[:, 0]
        total = total + term
        bx.plot(x, term, lw=1.2, label=f"elbow {j + 1}: kink {-net['b1'][j] / net['W1'][0, j]:g}")
    bx.plot(x, total, "k--", lw=1, label="sum")
    bx.set(xlabel="x", title="constant + elbows")
    bx.legend(fontsize=9)
    return fig


def pwl_approximation() -> Any:
    """A width-$k$ ReLU network interpolating $f$ at equally spaced knots, and its sup error against
    $k$ under the $C^2$ bound $h^2 \\max|f''|/8$."""

    def f(x: Any) -> Any:
        return np.sin(3 * x) + 0.5 * np.cos(7 * x)

    a, b, M = -2.0, 2.0, 9 + 0.5 * 49  # max|f''| <= 9 + 24.5
    x = np.linspace(a, b, 4001)
    fig, (ax0, ax1) = new_figure(2, width=7.5, height=3.2)
    k = 8
    knots = np.linspace(a, b, k + 1)
    net = relu_net_from_pwl(knots, f(knots))
    ax0.plot(x, f(x), lw=1.5, label="target f")
    ax0.plot(x, forward(net, x[:, None])[:, 0], lw=1.2, label=f"ReLU net, width {k}")
    elbows = -net["b1"] / net["W1"][0]
    ax0.plot(elbows, np.full(k, -1.9), "|", ms=12, color="k", label="elbows -b/w")
    ax0.set(xlabel="x", title=f"a width-{k} ReLU network")
    ax0.legend(loc="upper right", fontsize=9)
    ks = np.array([2, 4, 8, 16, 32, 64, 128, 256])
    errs = []
    for k in ks:
        knots = np.linspace(a, b, k + 1)
        xx = np.union1d(x, (knots[1:] + knots[:-1]) / 2)
        out = forward(relu_net_from_pwl(knots, f(knots)), xx[:, None])[:, 0]
        errs.append(np.max(np.abs(out - f(xx))))
    ax1.loglog(ks, errs, "o", label="sup |f - f_θ|")
    bound = ((b - a) / ks) ** 2 * M / 8
    assert np.all(np.array(errs) <= bound)  # the C^2 bound of the claim, on the grid
    ax1.loglog(ks, bound, "--", label="h² max|f''| / 8")
    ax1.set(xlabel="width k", title="error against width")
    ax1.legend(fontsize=9)
    return fig


def relu_vs_step() -> Any:
    """Piecewise-linear (ReLU) against piecewise-constant (step) networks on the same knots: the sup
    error falls like $k^{-2}$ against $k^{-1}$."""

    def f(x: Any) -> Any:
        return np.sin(3 * x) + 0.5 * np.cos(7 * x)

    def step(z: Any) -> Any:  # the step activation 1[z > 0]
        return (z > 0).astype(float)

    a, b = -2.0, 2.0
    x = np.linspace(a, b, 4001)
    fig, axd = new_mosaic("AB;CC", width=7.5, height=6.0)
    ax0, ax1, ax2 = axd["A"], axd["B"], axd["C"]
    for k in (2, 4, 8, 16):
        knots = np.linspace(a, b, k + 1)
        ax0.plot(
            x, forward(relu_net_from_pwl(knots, f(knots)), x[:, None])[:, 0], lw=1, label=f"k = {k}"
        )
        if k in (4, 16):
            stairs = sigmoidal_net_from_samples(
                knots, f(knots), 1.0
            )  # run with steps, not sigmoids
            ax1.plot(x, forward_with(stairs, x[:, None], step)[:, 0], lw=1, label=f"k = {k}")
    for ax, title in ((ax0, "ReLU net, k elbows"), (ax1, "step net, k steps")):
        ax.plot(x, f(x), color="k", lw=2, alpha=0.3, label="target")
        ax.set(xlabel="x", ylim=(-3.1, 2.0), title=title)
        ax.legend(fontsize=9, loc="lower center", ncol=3)
    ks = 2 ** np.arange(1, 9)
    pwl, pwc = [], []
    for k in ks.tolist():
        knots = np.linspace(a, b, k + 1)
        pwl.append(
            np.max(np.abs(forward(relu_net_from_pwl(knots, f(knots)), x[:, None])[:, 0] - f(x)))
        )
        stairs = sigmoidal_net_from_samples(knots, f(knots), 1.0)
        pwc.append(np.max(np.abs(forward_with(stairs, x[:, None], step)[:, 0] - f(x))))
    ax2.loglog(ks, pwl, "o-", ms=4, label="ReLU net")
    ax2.loglog(ks, pwc, "s-", ms=4, label="step net")
    ax2.loglog(ks, pwl[-1] * (ks / ks[-1]) ** -2.0, ":", color="gray", label="slope −2")
    ax2.loglog(ks, pwc[-1] * (ks / ks[-1]) ** -1.0, "--", color="gray", label="slope −1")
    ax2.set(xlabel="k", title="sup error against k")
    ax2.legend(fontsize=9)
    return fig


def two_interpolants() -> Any:
    """A polynomial and a ReLU network through the same samples of $|x|$: the polynomial swings outside
    the data, the network stays linear."""
    t = np.linspace(-1, 1, 8)
    y = np.abs(t)
    x = np.linspace(-1.3, 1.3, 401)
    poly = np.polynomial.Polynomial.fit(t, y, 7)
    net = relu_net_from_pwl(t, y)
    fig, ax = new_figure(1, width=6.5, height=3.0)
    ax.axvspan(-1, 1, color="0.94")
    ax.plot(x, np.abs(x), color="0.6", lw=1, label="|x|")
    ax.plot(x, poly(x), label=f"degree-{len(t) - 1} polynomial")
    ax.plot(x, forward(net, x[:, None])[:, 0], label=f"ReLU net, width {net['W1'].shape[1]}")
    ax.plot(t, y, "ko", ms=4, label="data")
    ax.set(xlabel="x", ylim=(-0.3, 3), title=f"same {len(t)} points, two interpolants")
    ax.legend(fontsize=9, loc="upper center")
    return fig


def tanh_staircase() -> Any:
    """tanh networks built as smoothed staircases approximating $|x|$: their sup error against width
    stays under the bound, and drops below the floor $\\rho$ of any network with a polynomial
    activation of fixed depth."""
    x = np.linspace(-1, 1, 2001)
    p, L, sh = 2, 2, 4.0  # a degree-p activation, L hidden layers; tanh nets with s h = sh
    V = np.polynomial.chebyshev.chebvander(x, p**L)
    resid = np.abs(x) - V @ np.linalg.lstsq(V, np.abs(x), rcond=None)[0]
    rho = np.sqrt(np.mean(resid**2))  # RMS floor of every polynomial of degree p^L on the grid
    fig, (ax0, ax1) = new_figure(2, width=7.5, height=3.2)
    ax0.plot(x, np.abs(x), lw=1.5, label="|x|")
    ks = np.array([2, 4, 8, 16, 32, 64, 128, 256])
    errs = []
    for k in ks:
        t = np.linspace(-1, 1, k + 1)
        net = sigmoidal_net_from_samples(t, np.abs(t), sh * k / 2.0, activation="tanh")
        out = forward(net, x[:, None], activation="tanh")[:, 0]
        errs.append(np.max(np.abs(out - np.abs(x))))
        if k in (4, 16):
            ax0.plot(x, out, lw=1.2, label=f"tanh net, width {k}")
    ax0.set(xlabel="x", title="smoothed staircases")
    ax0.legend(fontsize=9)
    ax1.loglog(ks, errs, "o", label="sup error, tanh net")
    bound = (2.0 / ks) * (1 + 1 / np.sinh(sh / 2))  # L_f h (1 + 1/sinh(sh/2)), L_f = 1, h = 2/k
    assert np.all(np.array(errs) <= bound)
    ax1.loglog(ks, bound, "--", label="bound")
    ax1.axhline(rho, color="gray", lw=1, label=f"floor ρ, degree-{p} activation, {L} hidden layers")
    ax1.set(xlabel="width k", title="error against width")
    ax1.legend(fontsize=9, loc="lower left")
    return fig


def _box(
    ax: Any,
    x: float,
    y: float,
    w: float,
    text: str,
    *,
    fc: str = "white",
    ec: str = "k",
    h: float = 0.9,
    pad: float = 0.05,
    fontsize: float = 9,
) -> None:
    """A rounded box of a block diagram, `w` wide and `h` high, its left edge at `x` and its middle
    at height `y`, with `text` centred in it."""
    ax.add_patch(FancyBboxPatch((x, y - h / 2), w, h, boxstyle=f"round,pad={pad}", fc=fc, ec=ec))
    ax.text(x + w / 2, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax: Any, a: Any, b: Any, color: str = "k", **style: Any) -> None:
    """An arrow of a block diagram from the point `a` to the point `b`."""
    props = {"arrowstyle": "-|>", "color": color, "lw": 1, "shrinkA": 2, "shrinkB": 2} | style
    ax.annotate("", b, a, arrowprops=props)


def circuit() -> Any:
    """A deep network as a chain of circuit elements with knobs $\\theta$ set by an optimizer from data;
    one hidden layer compact and expanded into one branch per unit (checked against `forward`)."""
    # the expanded circuit below is the forward pass: check it on a random width-5 net
    rng = np.random.default_rng(0)
    p = init_mlp([1, 5, 1], rng=rng)
    p["b1"] = rng.standard_normal(5)
    x = np.linspace(-2, 2, 41)
    branches = [p["W2"][j, 0] * np.maximum(x * p["W1"][0, j] + p["b1"][j], 0) for j in range(5)]
    assert np.allclose(sum(branches) + p["b2"][0], forward(p, x[:, None])[:, 0])

    blue, orange = "#d6e4f4", "#f4e6d6"
    fig, ax = new_figure(1, width=7.5, height=6.0)
    ax.set_axis_off()
    ax.set(xlim=(0, 18), ylim=(-0.6, 12.6))
    # a deep network: a chain of circuit elements whose knobs an optimizer sets from data
    ax.text(0, 12.2, "a deep network  f_θ = g_L ∘ … ∘ g₁", fontsize=10, va="center", weight="bold")
    _box(ax, 0.2, 10.8, 1.2, "x")
    xs = [2.4, 5.0, 7.6, 10.2]
    for i, (x0, name) in enumerate(zip(xs, ["g₁", "g₂", "…", "g_L"], strict=False)):
        _arrow(ax, ((xs[i - 1] + 1.6) if i else 1.4, 10.8), (x0, 10.8))
        _box(ax, x0, 10.8, 1.6, name, fc=blue)
        if name != "…":
            ax.plot([x0 + 0.8, x0 + 0.8], [10.3, 9.75], color="C1", lw=1)
            ax.plot(x0 + 0.8, 9.6, "o", color="C1", ms=8, mfc="white", mew=1.5)
    _arrow(ax, (11.8, 10.8), (12.8, 10.8))
    _box(ax, 12.8, 10.8, 1.6, "f_θ(x)")
    ax.text(12.0, 9.6, "knobs: the parameters θ", color="C1", fontsize=9, va="center")
    _box(ax, 4.4, 8.0, 3.0, "optimizer", fc=orange, ec="C1")
    _box(ax, 10.4, 8.0, 3.2, "data (xᵢ, yᵢ)", fc="0.93")
    _arrow(ax, (10.3, 8.0), (7.5, 8.0))
    for x0 in xs[:2] + xs[3:]:
        _arrow(ax, (5.9, 8.5), (x0 + 0.8, 9.4), color="C1")
    # one hidden layer, compact
    ax.text(0, 6.8, "one hidden layer, compact", fontsize=10, va="center", weight="bold")
    row = [
        (0.2, 1.0, "x", "white"),
        (2.2, 3.6, "h = ReLU(xW¹ + b¹)", blue),
        (6.8, 2.6, "hW² + b²", blue),
        (10.4, 1.6, "f(x)", "white"),
    ]
    for (x0, w, text, fc), nxt in zip(row, [*row[1:], None], strict=False):
        _box(ax, x0, 5.6, w, text, fc=fc)
        if nxt:
            _arrow(ax, (x0 + w, 5.6), (nxt[0], 5.6))
    # expanded: one branch per hidden unit j
    ax.text(
        0,
        4.3,
        "one hidden layer, expanded (unit j = 1 … k)",
        fontsize=10,
        va="center",
        weight="bold",
    )
    _box(ax, 0.2, 1.7, 1.0, "x")
    for y0, j in ((3.2, "₁"), (1.7, "ⱼ"), (0.2, "ₖ")):
        steps = [(2.2, f"× w¹{j}"), (4.6, f"+ b¹{j}"), (7.0, "ReLU"), (9.4, f"× w²{j}")]
        _arrow(ax, (1.2, 1.7), (2.2, y0))
        for (x0, text), after in zip(steps, [*steps[1:], (12.4, None)], strict=False):
            _box(ax, x0, y0, 1.6, text, fc=blue if text == "ReLU" else "white")
            _arrow(ax, (x0 + 1.6, y0), (after[0], 1.7 if after[1] is None else y0))
    for y0 in (2.45, 0.95):
        for x0 in (3.0, 5.4, 7.8, 10.2):
            ax.text(x0, y0, "⋮", ha="center", va="center", fontsize=10)
    _box(ax, 12.4, 1.7, 1.0, "Σ")
    _arrow(ax, (13.4, 1.7), (14.2, 1.7))
    _box(ax, 14.2, 1.7, 1.2, "+ b²")
    _arrow(ax, (15.4, 1.7), (16.2, 1.7))
    _box(ax, 16.2, 1.7, 1.4, "f(x)")
    return fig


def xor_and_abs() -> Any:
    """XOR solved by two ReLU units (its decision regions), and $|x|$, which no affine map fits but a
    width-2 ReLU network represents exactly."""
    net = {
        "W1": np.array([[1.0, -1.0], [-1.0, 1.0]]),
        "b1": np.zeros(2),
        "W2": np.array([[-1.0], [-1.0]]),
        "b2": np.array([1.0]),
    }
    P = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    labels = np.sign(P[:, 0] * P[:, 1])
    g = np.linspace(-1.6, 1.6, 161)
    G1, G2 = np.meshgrid(g, g)
    F = forward(net, np.column_stack([G1.ravel(), G2.ravel()]))[:, 0].reshape(G1.shape)
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.4)
    ax.contourf(G1, G2, F > 0, levels=[-0.5, 0.5, 1.5], colors=["#f4d6d6", "#d6e4f4"])
    ax.contour(G1, G2, F, levels=[0], colors="k", linewidths=1)
    assert np.array_equal(np.sign(forward(net, P)[:, 0]), labels)
    for lab, marker, color in ((1, "o", "C0"), (-1, "s", "C3")):
        ax.plot(*P[labels == lab].T, marker, color=color, ms=9, ls="none", label=f"label {lab:+d}")
    ax.plot(g, 0.4 * g + 0.2, "--", color="0.5", lw=1, label="a line: fails")
    ax.set(
        xlim=(-1.6, 1.6),
        ylim=(-1.6, 1.6),
        xlabel="x₁",
        ylabel="x₂",
        title="XOR with two ReLU units",
    )
    ax.set_aspect("equal")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    x = np.linspace(-1, 1, 201)
    A = np.column_stack([x, np.ones_like(x)])
    bx.plot(x, np.abs(x), "k", lw=2, label="|x|")
    bx.plot(x, A @ np.linalg.lstsq(A, np.abs(x), rcond=None)[0], label="best affine fit")
    exact = relu_net_from_pwl(np.array([-1.0, 0.0, 1.0]), np.array([1.0, 0.0, 1.0]))
    bx.plot(x, forward(exact, x[:, None])[:, 0], "--", label="ReLU net, width 2")
    bx.set(xlabel="x", title="|x|: no affine map fits it")
    bx.legend(fontsize=9)
    return fig


def identity_collapses() -> Any:
    """The same weights with the identity and with ReLU: without a nonlinearity a deep network is a
    straight line."""
    rng = np.random.default_rng(4)
    sizes = [1, 16, 16, 16, 1]
    params = init_mlp(sizes, rng=rng)
    params = {
        k: rng.standard_normal(v.shape) if k.startswith("b") else v for k, v in params.items()
    }
    x = np.linspace(-3, 3, 601)[:, None]
    lin = forward(params, x, activation="identity")[:, 0]
    assert np.allclose(np.diff(lin, 2), 0.0, atol=1e-9 * np.max(np.abs(lin)))  # a straight line
    fig, ax = new_figure(1, width=6.5, height=3.0)
    ax.plot(x, lin, label="identity activation")
    ax.plot(x, forward(params, x, activation="relu")[:, 0], label="ReLU")
    ax.set(xlabel="x", ylabel="f(x)", title=f"same weights, sizes {tuple(sizes)}")
    ax.legend(fontsize=9)
    return fig


def tent_maps() -> Any:
    """The tent map composed $L$ times by a depth-$L$ network of $2L$ units, and its number of linear
    pieces, $2^L$, against depth."""

    def tent_net(L: Any) -> Any:
        params = {"W1": np.array([[1.0, 1.0]]), "b1": np.array([0.0, -0.5])}
        for ell in range(2, L + 1):  # the next layer reads t = 2 h_1 - 4 h_2
            params[f"W{ell}"] = np.array([[2.0, 2.0], [-4.0, -4.0]])
            params[f"b{ell}"] = np.array([0.0, -0.5])
        params[f"W{L + 1}"] = np.array([[2.0], [-4.0]])
        params[f"b{L + 1}"] = np.zeros(1)
        return params

    x = ((np.arange(4096) + 0.5) / 4096)[:, None]  # midpoints: no input sits exactly on a kink
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.0)
    depths = np.arange(1, 9)
    pieces = []
    for L in depths:
        net = tent_net(L)
        if L <= 4:
            ax.plot(x, forward(net, x)[:, 0] + 1.2 * (L - 1), lw=1.2, label=f"L = {L}")
        pattern = np.hstack(activation_patterns(net, x))
        pieces.append(1 + int(np.sum(np.any(pattern[1:] != pattern[:-1], axis=1))))
    ax.set(xlabel="x", yticks=[], title="tent map composed L times (offset)")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    assert pieces == [2**L for L in depths]  # 2^L pieces from 2L units
    bx.semilogy(depths, pieces, "o", label="pieces, depth-L net (2L units)")
    bx.semilogy(depths, 2.0**depths, "--", label="2^L")
    bx.semilogy(depths, 2 * depths, ":", color="0.5", label="units used, 2L")
    bx.set(xlabel="L", title="pieces against depth")
    bx.legend(fontsize=9)
    return fig


def rescaling_symmetry() -> Any:
    """Rescaling unit $j$'s incoming weights by $\\alpha_j > 0$ and its outgoing weight by $1/\\alpha_j$:
    the same function, different parameters."""
    rng = np.random.default_rng(0)
    p = init_mlp([1, 6, 1], rng=rng)
    p["b1"] = rng.standard_normal(6)
    alpha = np.exp(rng.uniform(np.log(0.2), np.log(5), 6))
    q = {
        "W1": p["W1"] * alpha,
        "b1": p["b1"] * alpha,
        "W2": p["W2"] / alpha[:, None],
        "b2": p["b2"],
    }
    x = np.linspace(-3, 3, 401)[:, None]
    assert np.allclose(forward(p, x), forward(q, x), rtol=1e-12, atol=1e-12)
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.0)
    ax.plot(x, forward(p, x)[:, 0], lw=3, alpha=0.5, label="θ")
    ax.plot(x, forward(q, x)[:, 0], "k--", lw=1, label="θ rescaled")
    ax.set(xlabel="x", title="the same function")
    ax.legend(fontsize=9)
    idx = np.arange(flatten_params(p).size)
    bx.bar(idx - 0.2, flatten_params(p), width=0.4, label="θ")
    bx.bar(idx + 0.2, flatten_params(q), width=0.4, label="θ rescaled")
    bx.set(xlabel="parameter index (W1, b1, W2, b2)", title="different parameters")
    bx.legend(fontsize=9)
    return fig


def dead_units() -> Any:
    """The number of dead first-layer units (off on every training input) during SGD at several step
    sizes and during Adam."""
    n, width, batch = 64, 48, 8
    X = np.linspace(-2, 2, n)[:, None]
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 0]
    rng = np.random.default_rng(1)
    params = init_mlp([1, width, 1], rng=rng)
    params["b1"] = 0.5 * rng.standard_normal(width)
    batches = [sample_batch(n, batch, replace=False, rng=rng) for _ in range(600)]

    def grad(p: Any, t: Any) -> Any:
        return value_and_grad(p, X[batches[t]], y[batches[t]])[1]

    def dead(p: Any) -> Any:  # first-layer units off on every training input
        return int(np.sum(~np.any(activation_patterns(p, X)[0], axis=0)))

    steps = np.arange(0, 601, 5)
    fig, ax = new_figure(1, width=6.5, height=3.2)
    for opt, label, style in [
        (sgd(2e-3), "SGD, η = 0.002", "-"),
        (sgd(5e-3), "SGD, η = 0.005", "-"),
        (sgd(7e-3), "SGD, η = 0.007", "-"),
        (adam(1e-2), "Adam, η = 0.01", "--"),
    ]:
        _, traj = run(opt, grad, params, 600, record_every=5)
        count = np.array([dead(p) for p in traj])
        if label.startswith("SGD"):
            assert np.all(np.diff(count) >= 0)  # plain SGD: dead units only accumulate
        ax.step(steps + 1, count, style, where="post", label=label)
    ax.set_xscale("log")
    ax.set(xlabel="SGD step + 1", ylabel=f"dead units (of {width})", title="dead first-layer units")
    ax.legend(fontsize=9)
    fig.supxlabel(f"Width {width}, {n} training inputs, batches of {batch}.", fontsize=10)
    return fig


def timeline() -> Any:
    """A timeline of neural networks, from the McCulloch–Pitts neuron to AlexNet."""
    events = [
        (1943, "McCulloch–Pitts\nneuron", 1),
        (1957, "perceptron\nand LMS", -1),
        (1969, "Minsky–Papert:\nno XOR without\na hidden layer", 1),
        (1986, "backprop", -1),
        (1995, "mid-90s\ndecline", 1),
        (2006, "resurgence", -1),
        (2012, "AlexNet, GPUs,\ndatasets", 1),
    ]
    fig, ax = new_figure(1, width=7.5, height=2.3)
    ax.set_axis_off()
    ax.set(xlim=(1936, 2020), ylim=(-1.4, 1.9))
    ax.annotate("", (2019, 0), (1938, 0), arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.2})
    for year, text, side in events:
        ax.plot([year, year], [0, 0.55 * side], color="0.5", lw=1)
        ax.plot(year, 0, "o", color="C0", ms=5)
        ax.text(
            year, 0.65 * side, text, ha="center", va="bottom" if side > 0 else "top", fontsize=9
        )
        ax.text(
            year,
            -0.18 * side,
            str(year) if year != 1995 else "~1995",
            ha="center",
            va="top" if side > 0 else "bottom",
            fontsize=9,
            color="0.35",
        )
    return fig


def jacobian_spectrum() -> Any:
    """The singular values and top left singular vectors of the Jacobian $\\Phi$ of a one-hidden-layer
    ReLU network, and one GD step's residual factor along $u_i$ against the prediction $1 -
    2\\eta s_i^2$."""
    rng = np.random.default_rng(1)
    k, n = 16, 200
    params = init_mlp([1, k, 1], rng=rng)
    params["b1"] = rng.standard_normal(k)
    x = np.linspace(-3, 3, n)[:, None]
    Phi = param_jacobian(params, x)
    U, s, _Vt = np.linalg.svd(Phi, full_matrices=False)
    fig, axd = new_mosaic("AB;CC", width=7.5, height=6.0)
    ax0, ax1, ax2 = axd["A"], axd["B"], axd["C"]
    ax0.semilogy(np.arange(1, len(s) + 1), np.maximum(s, 1e-17), "o", ms=3)
    ax0.axvline(2 * k + 1, ls="--", lw=1, color="gray", label="2k + 1")
    ax0.set(xlabel="index i", ylabel="s_i", title=f"singular values of Φ ({Phi.shape[1]} params)")
    ax0.legend(fontsize=9)
    for i in range(4):
        ax1.plot(x[:, 0], U[:, i], lw=1.3, label=f"u_{i + 1}")
    ax1.set(xlabel="x", title="top left singular vectors")
    ax1.legend(fontsize=9)
    # one GD step of the true network on y = sin(2x): residual along u_i, measured against predicted
    y = np.sin(2 * x[:, 0])
    eta = 0.45 / s[0] ** 2
    _, grads = value_and_grad(params, x, y)
    stepped = unflatten_params(flatten_params(params) - eta * flatten_params(grads), params)
    r0 = y - forward(params, x)[:, 0]
    r1 = y - forward(stepped, x)[:, 0]
    top = np.arange(8)
    ax2.plot(top + 1, 1 - 2 * eta * s[top] ** 2, "-", color="gray", label="predicted 1 − 2ηs_i²")
    ax2.plot(
        top + 1,
        (U[:, top].T @ r1) / (U[:, top].T @ r0),
        "o",
        ms=4,
        label="measured (u_iᵀr₁)/(u_iᵀr₀)",
    )
    ax2.set(xlabel="index i", xticks=top + 1, title="one GD step: residual factor")
    ax2.legend(fontsize=9)
    fig.supxlabel(
        f"Width k = {k} on {n} inputs; the GD step is η = {eta * s[0] ** 2:g}/s₁².", fontsize=10
    )
    return fig


def penultimate_features() -> Any:
    """The penultimate features $g_1, \\dots, g_m$ of a deep network against its local features
    $\\partial f/\\partial\\theta$, and the spectra of $G = [g(X), 1]$ and of $\\Phi$ ($G$ is a
    column subset of $\\Phi$)."""
    # left: the diagram
    fig, axd = new_mosaic("A;B", width=7.5, height=6.4)
    ax, bx = axd["A"], axd["B"]
    ax.set_axis_off()
    ax.set(xlim=(0, 10), ylim=(0, 7))
    _box(ax, 0.2, 3.2, 0.9, "x", h=1.2, fontsize=11)
    _box(ax, 1.7, 3.2, 2.4, "backbone\nlayers 1 … L−1\n(W¹, b¹, …)", fc="#d6e4f4", h=4.0, pad=0.08)
    _arrow(ax, (1.1, 3.2), (1.7, 3.2))
    ys = [5.0, 4.1, 2.3, 1.4]
    for yy, name in zip(ys, ["g₁", "g₂", "gₘ₋₁", "gₘ"], strict=False):
        _box(ax, 5.0, yy, 1.1, name, h=0.6, pad=0.03)
        _arrow(ax, (4.2, 3.2), (5.0, yy))
        _arrow(ax, (6.1, yy), (8.0, 3.2), color="C3")
    ax.text(5.55, 3.25, "⋮", ha="center", va="center", fontsize=12)
    _box(ax, 8.0, 3.2, 1.7, "Σ wᵢgᵢ + c\n= f(x)", fc="#f4d6d6", ec="C3", h=1.2)
    ax.text(
        5.55,
        6.2,
        "penultimate features\ng₁ … gₘ (m, e.g. 27)",
        ha="center",
        va="center",
        fontsize=9,
    )
    ax.text(
        8.85,
        4.7,
        "final layer (w, c):\nm + 1 of the local\nfeatures",
        ha="center",
        va="center",
        fontsize=9,
        color="C3",
    )
    ax.text(
        5.0,
        0.35,
        "local features ∂f/∂θ: one per parameter of θ (P, e.g. 100k)",
        ha="center",
        va="center",
        fontsize=9,
    )

    # right: spectra of G = [g(X), 1] and of Phi for a small deep net
    rng = np.random.default_rng(2)
    sizes, n = [1, 32, 32, 1], 200
    params = init_mlp(sizes, rng=rng)
    params["b1"] = rng.standard_normal(sizes[1])
    X = np.linspace(-3, 3, n)[:, None]
    Phi = param_jacobian(params, X)
    g = np.maximum(preactivations(params, X)[-2], 0.0)  # penultimate outputs h^{L-1}
    G = np.column_stack([g, np.ones(len(X))])
    assert np.allclose(Phi[:, -G.shape[1] :], G)  # the last layer's columns of Phi
    sPhi, sG = np.linalg.svd(Phi, compute_uv=False), np.linalg.svd(G, compute_uv=False)
    assert np.all(sG <= sPhi[: len(sG)] * (1 + 1e-12))  # a column subset: s_i(G) <= s_i(Phi)
    sPhi, sG = sPhi[sPhi > 1e-10 * sPhi[0]], sG[sG > 1e-10 * sG[0]]  # numerically nonzero
    bx.semilogy(
        np.arange(1, len(sPhi) + 1), sPhi, "o", ms=2.5, label=f"Φ, all {Phi.shape[1]} columns"
    )
    bx.semilogy(
        np.arange(1, len(sG) + 1), sG, "s", ms=3, color="C3", label=f"G, last {G.shape[1]} columns"
    )
    bx.set(xlabel="index i", title=f"spectra of Φ and G, sizes {tuple(sizes)}, {n} inputs")
    bx.legend(fontsize=9)
    return fig


def local_features() -> Any:
    """The local features $\\partial f/\\partial\\theta$ of one ReLU unit: a hinge, a step, a jump-ramp
    and a constant, and zero for a dead unit."""
    params = {
        "W1": np.array([[1.5, 1.0]]),
        "b1": np.array([-0.75, -5.0]),  # unit 2: kink at 5, dead on [-2, 2]
        "W2": np.array([[-0.8], [1.0]]),
        "b2": np.array([0.3]),
    }
    x = np.linspace(-2, 2, 801)
    Phi = param_jacobian(params, x[:, None])  # columns: W1 (2), b1 (2), W2 (2), b2 (1)
    fig, ax = new_figure(1, width=6.5, height=3.2)
    for col, label in [
        (4, "∂f/∂a: hinge"),
        (2, "∂f/∂b: step"),
        (0, "∂f/∂w: jump-ramp"),
        (6, "∂f/∂c: constant"),
    ]:
        ax.plot(x, Phi[:, col], lw=1.5, label=label)
    ax.plot(x, Phi[:, 1], ":", color="gray", label="dead unit: ∂f/∂w ≡ 0")
    star = -params["b1"][0] / params["W1"][0, 0]
    ax.axvline(star, ls="--", lw=0.8, color="k")
    ax.set(xlabel="x", title=f"local features of one ReLU unit (kink at x* = {star:g})")
    ax.legend(fontsize=9)
    return fig


def chebyshev_vs_relu() -> Any:
    """Chebyshev interpolation of degree $k$ against a width-$k$ ReLU network on the smooth $\\exp(\\sin
    3x)$: the polynomial's error falls much faster."""

    def f(x: Any) -> Any:
        return np.exp(np.sin(3 * x))

    x = np.linspace(-1, 1, 5001)
    ks = np.array([2, 4, 8, 16, 32, 64])
    cheb, relu = [], []
    for k in ks:
        nodes = np.cos(np.pi * (np.arange(k + 1) + 0.5) / (k + 1))  # Chebyshev points
        p = np.polynomial.chebyshev.Chebyshev.fit(nodes, f(nodes), k, domain=[-1, 1])
        cheb.append(np.max(np.abs(p(x) - f(x))))
        knots = np.linspace(-1, 1, k + 1)
        relu.append(
            np.max(np.abs(forward(relu_net_from_pwl(knots, f(knots)), x[:, None])[:, 0] - f(x)))
        )
    assert all(b <= a for a, b in pairwise(cheb[1:]))  # light check: Chebyshev errors decrease
    fig, ax = new_figure(1, width=6.5, height=3.2)
    ax.semilogy(ks, cheb, "o-", label="Chebyshev interpolation, degree k")
    ax.semilogy(ks, relu, "s-", label="ReLU net, width k")
    ax.set(xlabel="k", ylabel="sup error", title="approximating exp(sin 3x) on [-1, 1]")
    ax.legend(fontsize=9)
    return fig


def linearization_drift() -> Any:
    """Loss of true GD on a tanh network against GD on its linearization at initialization: they agree
    at first and then part."""
    rng = np.random.default_rng(3)
    width, n = 32, 20
    X = np.linspace(-2, 2, n)[:, None]
    y = np.sin(2 * X[:, 0])
    params = init_mlp([1, width, 1], rng=rng)
    params["b1"] = rng.standard_normal(width)
    Phi = param_jacobian(params, X, activation="tanh")
    f0 = forward(params, X, activation="tanh")[:, 0]
    eta = 0.5 / np.linalg.norm(Phi, 2) ** 2
    theta0 = flatten_params(params)
    delta = np.zeros_like(theta0)
    true_loss, lin_loss = [], []
    p = params
    for _t in range(300):
        loss, grads = value_and_grad(p, X, y, activation="tanh")
        true_loss.append(float(loss))
        p = unflatten_params(flatten_params(p) - eta * flatten_params(grads), p)
        r = y - f0 - Phi @ delta
        lin_loss.append(float(r @ r))
        delta = delta + 2 * eta * Phi.T @ r
    assert abs(true_loss[0] - lin_loss[0]) <= 1e-12 * true_loss[0]  # same starting point
    fig, ax = new_figure(1, width=6.5, height=3.2)
    ax.semilogy(true_loss, label="true GD")
    ax.semilogy(lin_loss, "--", label="GD on the linearized model")
    ax.set(
        xlabel="step",
        ylabel="loss",
        title=f"the linearization is local (width {width}, {n} points)",
    )
    ax.legend(fontsize=9)
    return fig


def linearization_remainder() -> Any:
    """The network at $\\theta_0 + \\varepsilon\\delta$ against its linearization $f_0 +
    \\varepsilon\\Phi\\delta$, and the remainder, of second order in $\\varepsilon$."""
    rng = np.random.default_rng(3)
    X = np.linspace(-2, 2, 200)[:, None]
    params = init_mlp([1, 32, 1], rng=rng)
    params["b1"] = rng.standard_normal(32)
    Phi = param_jacobian(params, X, activation="tanh")
    f0 = forward(params, X, activation="tanh")[:, 0]
    theta0 = flatten_params(params)
    delta = rng.standard_normal(theta0.size)
    delta /= np.linalg.norm(delta)

    def f_at(eps: Any) -> Any:
        return forward(unflatten_params(theta0 + eps * delta, params), X, activation="tanh")[:, 0]

    fig, (ax, bx) = new_figure(2, width=7.5, height=3.0)
    for e0, color in ((0.5, "C0"), (2.0, "C1"), (5.0, "C2")):
        ax.plot(X, f_at(e0), color=color, label=f"ε = {e0:g}")
        ax.plot(X, f0 + e0 * Phi @ delta, "--", color=color, lw=1)
    ax.set(xlabel="x", title="network (solid) vs linearization (dashed)")
    ax.legend(fontsize=9)
    eps = np.geomspace(1e-3, 10, 25)
    rem = [np.max(np.abs(f_at(e) - f0 - e * Phi @ delta)) for e in eps]
    bx.loglog(eps, rem, "o", ms=3, label="max |remainder|")
    bx.loglog(eps, rem[8] * (eps / eps[8]) ** 2, "--", label="slope 2")
    bx.set(xlabel="ε", title="the remainder is second order")
    bx.legend(fontsize=9)
    small = eps <= 0.1
    slope = np.polyfit(np.log(eps[small]), np.log(np.array(rem)[small]), 1)[0]
    assert abs(slope - 2) < 0.1
    fig.supxlabel(
        f"Log-log slope of the remainder fitted for ε ≤ {eps[small].max():.2g}: {slope:.2f}.",
        fontsize=10,
    )
    return fig


def elbow_paths() -> Any:
    """The elbows $-b/w$ of a width-12 ReLU network during gradient descent."""
    rng = np.random.default_rng(0)
    X = np.linspace(-2, 2, 12)[:, None]
    y = np.abs(X[:, 0]) - 0.5 * np.cos(3 * X[:, 0])
    params = init_mlp([1, 12, 1], rng=rng)
    params["b1"] = rng.standard_normal(12)
    eta = 2e-3
    history: Any = []  # kink locations, an array once collected
    for t in range(3001):
        if t % 30 == 0:
            history.append(kink_location(params["W1"][0], params["b1"]))
        _, grads = value_and_grad(params, X, y)
        params = unflatten_params(flatten_params(params) - eta * flatten_params(grads), params)
    history = np.array(history)
    fig, ax = new_figure(1, width=6.5, height=3.2)
    ax.plot(np.arange(len(history)) * 30, history, lw=1)
    ax.set_ylim(-4, 4)
    ax.set(xlabel="GD step", ylabel="elbow -b/w", title="elbows of a width-12 ReLU net during GD")
    return fig


def dead_unit_frozen() -> Any:
    """A ReLU network at three SGD steps with its elbows marked; a unit dead at initialization keeps
    its elbow and its weights."""
    rng = np.random.default_rng(0)
    X = np.linspace(-2, 2, 12)[:, None]
    y = np.abs(X[:, 0]) - 0.5 * np.cos(3 * X[:, 0])
    params = init_mlp([1, 12, 1], rng=rng)
    params["b1"] = rng.standard_normal(12)
    dead = ~np.any(activation_patterns(params, X)[0], axis=0)  # units off on every training input
    _, traj = run(sgd(6e-3), lambda p, t: value_and_grad(p, X, y)[1], params, 1000, record_every=50)
    x = np.linspace(-2.5, 2.5, 401)[:, None]
    fig, axes = new_figure(3, width=7.5, height=2.9)
    for ax, t in zip(axes, (0, 100, 1000), strict=False):
        p = traj[t // 50]
        kinks = kink_location(p["W1"][0], p["b1"])
        ax.plot(X[:, 0], y, "ko", ms=3)
        ax.plot(x[:, 0], forward(p, x)[:, 0], lw=1.5)
        ax.plot(kinks[~dead], np.full((~dead).sum(), -1.9), "|", color="C1", ms=10, mew=1.5)
        ax.text(
            2.4,
            -1.5,
            f"dead unit's elbow: {kinks[dead][0]:.2f}",
            fontsize=9,
            color="C3",
            ha="right",
        )
        ax.set(xlim=(-2.5, 2.5), ylim=(-2.2, 2.6), xlabel="x", title=f"GD step {t}")
    fig.supxlabel("ticks: elbows −b/w", color="C1", fontsize=10)
    assert all(np.array_equal(p["W1"][:, dead], params["W1"][:, dead]) for p in traj)
    return fig


def triangle() -> Any:
    """Network, optimizer and initialization: expressivity is necessary but not sufficient for
    learning."""
    fig, ax = new_figure(1, width=6.5, height=3.4)
    ax.set_axis_off()
    ax.set(xlim=(0, 10), ylim=(0, 6))
    corners = {
        "network\n(architecture: expressivity)": (5.0, 5.0, "#d6e4f4"),
        "optimizer +\ntraining strategy": (1.7, 1.5, "#f4e6d6"),
        "initialization": (8.3, 1.5, "#e2f0d9"),
    }
    for text, (x, y, fc) in corners.items():
        _box(ax, x - 1.5, y, 3.0, text, fc=fc, h=1.1, pad=0.08)
    both_ways: dict[str, Any] = {"arrowstyle": "<|-|>", "shrinkA": 0, "shrinkB": 0}
    _arrow(ax, (2.3, 2.15), (3.9, 4.4), **both_ways)
    _arrow(ax, (7.7, 2.15), (6.1, 4.4), **both_ways)
    _arrow(ax, (3.3, 1.5), (6.7, 1.5), **both_ways)
    ax.text(
        5.0,
        2.9,
        "expressivity is necessary\nbut not sufficient",
        ha="center",
        va="center",
        fontsize=9,
        style="italic",
    )
    ax.text(
        5.0,
        0.3,
        "learnability: can it be trained, and does it learn from the data?",
        ha="center",
        va="center",
        fontsize=9,
        color="0.35",
    )
    return fig


def dead_init() -> Any:
    """A network whose units are all dead on the data trains only its last layer, while a construction
    of the same width interpolates."""
    rng = np.random.default_rng(1)
    X = np.linspace(-1, 1, 9)[:, None]
    y = np.sin(3 * X[:, 0])
    params = init_mlp([1, 8, 1], rng=rng)
    params["b1"] = np.full(8, -10.0)  # every unit dead on [-1, 1]
    W1 = params["W1"].copy()
    steps = 2000
    for _ in range(steps):
        _, grads = value_and_grad(params, X, y)
        assert not np.any(grads["W1"]) and not np.any(grads["b1"])  # no first-layer gradient
        params = unflatten_params(flatten_params(params) - 0.02 * flatten_params(grads), params)
    assert np.array_equal(params["W1"], W1)
    x = np.linspace(-1, 1, 401)[:, None]
    fig, ax = new_figure(1, width=6.5, height=3.2)
    ax.plot(X[:, 0], y, "o", label="data")
    ax.plot(x[:, 0], forward(params, x)[:, 0], label="trained, dead init")
    ax.plot(
        x[:, 0], forward(relu_net_from_pwl(X[:, 0], y), x)[:, 0], "--", label="width-8 construction"
    )
    ax.set(xlabel="x", title="same width: expressible, not learned")
    ax.legend(fontsize=9)
    built = relu_net_from_pwl(X[:, 0], y)
    assert built["W1"].shape[1] == params["W1"].shape[1] == len(X) - 1
    assert np.allclose(forward(built, X)[:, 0], y, atol=1e-12)  # the construction interpolates
    fig.supxlabel(f"{steps} GD steps; width {len(X) - 1} on {len(X)} data points.", fontsize=10)
    return fig
