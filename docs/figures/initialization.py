"""Figures of the initialization chapter (docs/initialization.md): one function per figure, each
returning it (and the page's tables, each returning its Markdown)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

from dlcore.data import standardize
from dlcore.init import kink_location, kink_mass, variance
from dlcore.mlp import (
    flatten_params,
    forward,
    init_mlp,
    preactivations,
    unflatten_params,
    value_and_grad,
)
from figures import leave_note, new_figure

__all__ = [
    "sum_of_signs",
    "fan_in_diagram",
    "relu_of_a_gaussian",
    "second_moment_by_layer",
    "standardized_inputs",
    "kink_histograms",
    "kink_running_means",
    "kink_mean_integral",
    "kink_tails",
    "dead_and_linear_units",
    "kinks_by_bias_init",
    "curvature_against_scale",
    "gain_in_float16",
]


def sum_of_signs() -> Any:
    r"""Sums of $d$ random signs: $\sum_i x_i/\sqrt d$ against the standard normal density (left),
    and the standard deviation of $\sum_i x_i$ against $d$, on $\sqrt d$ (right)."""
    rng = np.random.default_rng(0)
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.0)
    z = np.linspace(-4, 4, 200)
    shown, reps, reps_std = (4, 16, 256), 20_000, 4000
    for d in shown:
        s = rng.choice([-1.0, 1.0], size=(reps, d)).sum(axis=1) / np.sqrt(d)
        ax.hist(
            s,
            bins=np.arange(-4.25, 4.3, 0.5 if d == 4 else 0.25),
            density=True,
            histtype="step",
            lw=1.2,
            label=f"d = {d}",
        )
    ax.plot(z, np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi), "k--", lw=1, label="N(0, 1)")
    ax.set(xlabel="Σ xᵢ / √d", title="the sum has size √d")
    ax.legend()
    ds = 2 ** np.arange(0, 11)
    std = [rng.choice([-1.0, 1.0], size=(reps_std, d)).sum(axis=1).std() for d in ds]
    bx.loglog(ds, std, "o", label="std of Σ xᵢ")
    bx.loglog(ds, np.sqrt(ds), "--", label="√d")
    bx.loglog(ds, ds, ":", color="0.5", label="d")
    bx.set(xlabel="d", title="size of a sum of d terms")
    bx.legend()
    leave_note(
        sum_of_signs,
        f"<p>Left: d = {', '.join(map(str, shown))}, {reps:,} sums each. Right: d = {ds[0]} to "
        f"{ds[-1]}, {reps_std:,} sums each.</p>",
    )
    return fig


def scheme_table() -> str:
    r"""The initialization schemes, their variance formulas and torch names, with `variance` at one
    rectangular layer (Markdown)."""
    lines: list[str] = []
    rows = [
        ('LeCun (the lecture\'s "Xavier")', "lecun", "1/fan_in", "—", "identity, tanh"),
        ("Glorot", "glorot", "2/(fan_in + fan_out)", "`xavier_normal_`", "tanh (forward and back)"),
        ("He", "he", "2/fan_in", "`kaiming_normal_`", "ReLU"),
    ]
    fan_in, fan_out = 256, 64
    lines.append(
        f"| scheme | Var w | torch | intended nonlinearity | Var w at (fan_in, fan_out) = ({fan_in}, {fan_out}) |"
    )
    lines.append("|---|---|---|---|---:|")
    for name, scheme, formula, torch_name, act in rows:
        lines.append(
            f"| {name} | {formula} | {torch_name} | {act} | {variance(scheme, fan_in, fan_out):.5f} |"
        )
    return "\n".join(lines)


def fan_in_diagram() -> Any:
    r"""One unit of a dense layer with fan-in $d$ (left), and a masked (convolution-like) layer whose
    units' fan-in, counted from the mask, sets their LeCun variance (right)."""

    def arrow(ax: Any, a: Any, b: Any, **kw: Any) -> None:
        style: dict[str, Any] = {"arrowstyle": "-|>", "mutation_scale": 8, "color": "k", "lw": 0.8}
        ax.add_patch(FancyArrowPatch(a, b, **({"shrinkA": 7, "shrinkB": 9} | style | kw)))

    fig, (ax, bx) = new_figure(2, width=7.5, height=3.9)
    # dense unit: inputs x_1, x_2, x_3, ..., x_d into one sum
    ys = [3.0, 2.0, 1.0, -1.0]
    names = ["1", "2", "3", "d"]
    for yy, k in zip(ys, names, strict=True):
        ax.add_patch(Circle((0, yy), 0.28, fc="tab:blue", alpha=0.3, ec="k"))
        ax.text(0, yy, f"$x_{k}$", ha="center", va="center")
        arrow(ax, (0, yy), (3, 1))
        ax.text(1.5, (yy + 1) / 2 + 0.15, f"$w_{k}$", fontsize=9)
    ax.text(0, 0.05, "⋮", ha="center", va="center", fontsize=14)
    ax.add_patch(Circle((3, 1), 0.35, fc="white", ec="k"))
    ax.text(3, 1, "Σ", ha="center", va="center", fontsize=12)
    ax.text(3, 2.75, "bias b", ha="center", fontsize=9)
    arrow(ax, (3, 2.7), (3, 1))
    ax.add_patch(Rectangle((4.2, 0.65), 0.7, 0.7, fc="tab:orange", alpha=0.3, ec="k"))
    ax.text(4.55, 1, "φ", ha="center", va="center", fontsize=12)
    arrow(ax, (3, 1), (4.2, 1), shrinkB=1)
    arrow(ax, (4.9, 1), (5.8, 1), shrinkA=1, shrinkB=1)
    ax.text(5.85, 1, "next\nlayer", va="center", fontsize=9)
    ax.text(3.6, 0.3, "z = Σᵢ wᵢxᵢ + b", ha="center", va="top", fontsize=9)
    ax.annotate("", (-0.55, -1.3), (-0.55, 3.3), arrowprops={"arrowstyle": "|-|", "lw": 0.8})
    ax.text(-0.75, 1, "fan-in d", rotation=90, ha="right", va="center", fontsize=9)
    ax.text(0, 3.6, "previous layer\n(after its φ)", ha="center", fontsize=9)
    ax.set(xlim=(-1.6, 6.8), ylim=(-1.8, 4.4), aspect="equal", title="one dense unit: fan-in d")
    ax.axis("off")
    # masked layer: the band of a width-3 convolution over 6 inputs, no padding inputs
    n_in, kernel = 6, 3
    mask = np.array([[abs(i - j) <= kernel // 2 for i in range(n_in)] for j in range(n_in)])
    fan_in = mask.sum(axis=1)
    i: Any
    for i in range(n_in):
        bx.add_patch(Circle((0, -i), 0.25, fc="tab:blue", alpha=0.3, ec="k"))
    for j in range(n_in):
        bx.add_patch(Circle((3, -j), 0.25, fc="white", ec="k"))
        for i in np.flatnonzero(mask[j]):
            arrow(bx, (0, -i), (3, -j), mutation_scale=6)
        bx.text(
            3.45,
            -j,
            f"fan-in {fan_in[j]}:  Var w = {variance('lecun', int(fan_in[j]), 1):.3g}",
            va="center",
            fontsize=9,
        )
    bx.text(0, 0.6, "inputs", ha="center", fontsize=9)
    bx.text(3, 0.6, "units", ha="center", fontsize=9)
    bx.set(
        xlim=(-0.6, 7.2),
        ylim=(-n_in + 0.3, 1.2),
        aspect="equal",
        title="masked layer: fan-in per unit",
    )
    bx.axis("off")
    assert fan_in[0] == fan_in[-1] < kernel == fan_in[1:-1].min() == fan_in[1:-1].max()
    leave_note(
        fan_in_diagram,
        f"<p>Right: kernel width {kernel} over {n_in} inputs; the edge units have fan-in "
        f"{fan_in[0]}, the others {kernel}.</p>",
    )
    return fig


def relu_of_a_gaussian() -> Any:
    r"""ReLU of standard normal pre-activations through `forward`: half the mass at zero, second
    moment $\tfrac12$, variance $\tfrac12 - \tfrac1{2\pi}$."""
    rng = np.random.default_rng(0)
    n = 100_000
    z = rng.standard_normal((n, 1))
    net = {"W1": np.ones((1, 1)), "b1": np.zeros(1), "W2": np.ones((1, 1)), "b2": np.zeros(1)}
    h = forward(net, z)[:, 0]  # = ReLU(z)
    fig, ax = new_figure(1, width=6.0, height=2.8)
    ax.hist(z[:, 0], bins=np.linspace(-4, 4, 81), density=True, color="0.8", label="z ~ N(0, 1)")
    zero = np.mean(h == 0)
    ax.hist(
        h[h > 0],
        bins=np.linspace(-4, 4, 81),
        weights=np.full((h > 0).sum(), 10 / len(h)),
        alpha=0.7,
        label="ReLU(z), positive part",
    )
    ax.bar([0], [zero], width=0.12, color="C3", label=f"mass at 0: {zero:.3f}")
    ax.set(
        xlabel="value", title=f"E[ReLU(z)²] = {np.mean(h**2):.3f},  Var ReLU(z) = {np.var(h):.3f}"
    )
    ax.legend()
    # the prose, checked: each sample mean is within 5 standard errors (< 0.02) of its exact value
    assert abs(zero - 0.5) < 0.02 and abs(np.mean(h**2) - 0.5) < 0.02
    assert abs(np.var(h) - (0.5 - 1 / (2 * np.pi))) < 0.02
    leave_note(
        relu_of_a_gaussian,
        f"<p>{n:,} samples: mass at zero {zero:.3f}, mean of ReLU(z)² {np.mean(h**2):.3f}, "
        f"variance of ReLU(z) {np.var(h):.3f}.</p>",
    )
    return fig


def second_moment_by_layer() -> Any:
    r"""The measured second moment of the pre-activations by layer of a square ReLU network under He,
    LeCun and Glorot weights, against $q_\ell = c^{\ell-1}q_1$ (dashed)."""
    width, depth, n = 256, 30, 512
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, width))
    layers = np.arange(1, depth + 1)
    fig, ax = new_figure(1, width=6.5, height=3.6)
    for weights, c, marker in [
        ("he_normal", 1.0, "o"),
        ("lecun_normal", 0.5, "s"),
        ("glorot_normal", 0.5, "x"),
    ]:
        params = init_mlp([width] * (depth + 1), rng=rng, weights=weights)
        q = np.array([np.mean(z**2) for z in preactivations(params, X)])
        (line,) = ax.plot(layers, q, marker, ms=4, ls="none", label=weights)
        ax.plot(layers, q[0] * c ** (layers - 1), "--", lw=1, color=line.get_color())
    ax.set_yscale("log", base=2)
    ax.set(
        xlabel="layer ℓ",
        ylabel="second moment of z^ℓ",
        title=f"pre-activation second moment through a width-{width} ReLU net",
    )
    ax.legend()
    leave_note(second_moment_by_layer, f"<p>Width {width}, depth {depth}, {n} inputs.</p>")
    return fig


def standardized_inputs() -> Any:
    r"""The per-layer second moment $q_\ell$ averaged over many ReLU networks: He and LeCun on
    standardized input, He on raw input, against $2c^\ell$ and $2s^2$ (dashed)."""
    rng = np.random.default_rng(0)
    n, d0, width, nets, depth, scale = 16, 16, 64, 48, 12, 30.0
    raw = scale * rng.uniform(0.5, 2.0, d0) * rng.standard_normal((n, d0))
    std = standardize(raw)
    layers = np.arange(1, depth + 1)
    fig, ax = new_figure(1, width=6.5, height=3.4)
    for X, weights, label, pred in [
        (std, "he_normal", "He, standardized input", 2.0 * np.ones(depth)),
        (std, "lecun_normal", "LeCun, standardized input", 2.0 * 0.5**layers),
        (raw, "he_normal", "He, raw input", 2.0 * np.mean(raw**2) * np.ones(depth)),
    ]:
        q = np.zeros(depth)
        for _ in range(nets):
            params = init_mlp([d0, *([width] * depth)], rng=rng, weights=weights)
            q += [np.mean(z**2) / nets for z in preactivations(params, X)]
        (line,) = ax.semilogy(layers, q, "o", ms=4, label=label)
        ax.semilogy(layers, pred, "--", lw=1, color=line.get_color())
    ax.set(xlabel="layer ℓ", ylabel="q_ℓ", title="second moment of the pre-activations by layer")
    ax.legend()
    leave_note(
        standardized_inputs,
        f"<p>{nets} networks of width {width} and depth {depth}, one batch of {n} inputs of dimension "
        f"{d0}; raw column scales {scale:g} times U(0.5, 2), mean square s² = {np.mean(raw**2):.0f}.</p>",
    )
    return fig


def kink_histograms() -> Any:
    r"""Histograms of the kinks $-b/w$ against the Cauchy density of scale $\sigma_b/\sigma_w$, for
    two scale ratios, with the mass in a central interval in the titles."""
    rng = np.random.default_rng(0)
    c = np.linspace(-15, 15, 601)
    n, scales, bands = 200_000, (1.0, 4.0), ((3, 0.12), (10, 0.06))
    fig, axes = new_figure(2, width=7.5, height=3.2)
    for ax, s in zip(axes, scales, strict=True):
        kinks = kink_location(rng.standard_normal(n), s * rng.standard_normal(n))
        ax.hist(kinks, bins=np.linspace(-15, 15, 121), density=True, alpha=0.5, label="kinks -b/w")
        ax.plot(c, 1 / (np.pi * s * (1 + (c / s) ** 2)), lw=1.5, label=f"Cauchy, scale {s:g}")
        for a, alpha in bands:
            ax.axvspan(-a, a, color="gray", alpha=alpha)
        ax.set(
            xlabel="kink location c", title=f"σ_b/σ_w = {s:g}: {kink_mass(10, s):.1%} in [-10, 10]"
        )
        ax.legend()
    leave_note(
        kink_histograms,
        f"<p>{n:,} units per panel; σ_b/σ_w = {scales[0]:g} (left) and {scales[1]:g} (right). "
        f"Shaded: {' and '.join(f'[−{a}, {a}]' for a, _ in bands)}.</p>",
    )
    return fig


def kink_running_means() -> Any:
    r"""Running means of Cauchy kinks (solid) and of Gaussian samples (dashed) for several seeds."""
    n = np.arange(1, 100_001)
    shown = np.unique(np.logspace(0, 5, 400).astype(int)) - 1  # plot 400 points on a log grid
    fig, ax = new_figure(1, width=6.5, height=3.2)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        kinks = kink_location(rng.standard_normal(n.size), rng.standard_normal(n.size))
        (line,) = ax.plot(n[shown], (np.cumsum(kinks) / n)[shown], lw=1)
        gauss = np.cumsum(rng.standard_normal(n.size)) / n
        ax.plot(n[shown], gauss[shown], "--", lw=1, color=line.get_color())
    ax.set_xscale("log")
    ax.set_ylim(-6, 6)
    ax.set(xlabel="n", ylabel="running mean", title="Cauchy kinks (solid) vs Gaussian (dashed)")
    return fig


def kink_mean_integral() -> Any:
    r"""The partial integral $\int_0^R c\,p(c)\,dc$ estimated from kinks, against
    $\ln(1+R^2)/(2\pi)$: the mean diverges."""
    rng = np.random.default_rng(0)
    n = 1_000_000
    c = np.sort(kink_location(rng.standard_normal(n), rng.standard_normal(n)))
    R = np.geomspace(0.1, 1e4, 60)
    positive = np.where(c > 0, c, 0.0)
    partial = np.cumsum(positive)[np.searchsorted(c, R) - 1] / c.size  # mean of c·1{0 < c < R}
    fig, ax = new_figure(1, width=6.0, height=2.8)
    ax.semilogx(R, partial, "o", ms=3, label=f"from {n:,} kinks")
    ax.semilogx(R, np.log1p(R**2) / (2 * np.pi), "--", label="ln(1 + R²) / (2π)")
    ax.set(
        xlabel="R", ylabel="∫₀ᴿ c p(c) dc", title="the mean's integral diverges (logarithmically)"
    )
    ax.legend()
    return fig


def kink_tails() -> Any:
    r"""The tail $P(|{-B/W}| > c)$ of the kinks for three weight laws, against slope $-1$."""
    rng = np.random.default_rng(0)
    n = 200_000
    laws = {
        "W ~ N(0, 1)": rng.standard_normal(n),
        "W ~ U(−1, 1)": rng.uniform(-1, 1, n),
        "|W| ~ U(0.5, 1.5), random sign": rng.choice([-1, 1], n) * rng.uniform(0.5, 1.5, n),
    }
    c = np.geomspace(0.1, 1e3, 80)
    fig, ax = new_figure(1, width=6.0, height=3.0)
    for name, w in laws.items():
        k = np.sort(np.abs(kink_location(w, rng.standard_normal(n))))
        tail = 1 - np.searchsorted(k, c) / n
        ax.loglog(c, np.where(tail > 0, tail, np.nan), label=name)
    ax.loglog(c, 2 / (np.pi * c), "k--", lw=1, label="slope −1")
    ax.set(xlabel="c", ylabel="P(|kink| > c)", ylim=(1e-5, 1.5), title="tail of the kink law")
    ax.legend()
    leave_note(kink_tails, f"<p>{n:,} kinks per weight law, biases B ~ N(0, 1).</p>")
    return fig


def kink_mass_table() -> str:
    r"""The Cauchy mass $P(|C| \le a)$ from `kink_mass` at a few $a$ (Markdown lines)."""
    lines: list[str] = []
    for a in (1, 3, 10, 100):
        lines.append(f"P(|C| <= {a:>3}) = {kink_mass(a):.5f}  ")
    return "\n".join(lines)


def dead_and_linear_units() -> Any:
    r"""ReLU units at initialization coloured as kinked, dead or linear on the data (left), and the
    dead and linear fractions against the data half-width $a$, against
    $\tfrac12(1 - \tfrac2\pi\arctan(a\sigma_w/\sigma_b))$ (right)."""
    rng = np.random.default_rng(2)
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.2)
    a, x, units = 1.0, np.linspace(-3, 3, 200), 40
    w, b = rng.standard_normal(units), rng.standard_normal(units)
    kinks = kink_location(w, b)
    for wi, bi, ki in zip(w, b, kinks, strict=True):
        inside = abs(ki) <= a
        dead = not inside and bi <= 0  # kink outside: the sign of b decides
        color = "C2" if inside else ("C3" if dead else "C0")
        ax.plot(x, np.maximum(0, wi * x + bi), color=color, lw=1, alpha=0.8)
    ax.axvspan(-a, a, color="0.9")
    for color, label in (("C2", "kinked on the data"), ("C3", "dead"), ("C0", "linear")):
        ax.plot([], [], color=color, label=label)
    ax.set(xlabel="x", ylim=(-0.1, 4), title=f"units at initialisation, data in [−{a:g}, {a:g}]")
    ax.legend(loc="upper left")
    n = 100_000
    aa = np.geomspace(0.1, 100, 25)
    for s, marker in ((1.0, "o"), (4.0, "s")):
        w, b = rng.standard_normal(n), s * rng.standard_normal(n)
        k = kink_location(w, b)
        dead = np.array([np.mean((np.abs(k) > ai) & (b < 0)) for ai in aa])
        linear = np.array([np.mean((np.abs(k) > ai) & (b > 0)) for ai in aa])
        pred = np.array([(1 - kink_mass(ai, s)) / 2 for ai in aa])
        bx.semilogx(aa, dead, marker, color="C3", ms=3, mfc="none", label=f"dead, σ_b/σ_w = {s:g}")
        bx.semilogx(aa, linear, marker, color="C0", ms=3, label=f"linear, σ_b/σ_w = {s:g}")
        bx.semilogx(aa, pred, "k-", lw=0.8)
    bx.set(xlabel="data half-width a", ylabel="fraction of units", title="dead and linear at init")
    bx.legend()
    leave_note(
        dead_and_linear_units,
        f"<p>Left: {units} units, a = {a:g}. Right: {n:,} units per scale ratio.</p>",
    )
    return fig


def kinks_by_bias_init() -> Any:
    r"""The kinks of one He-initialized layer under zero, constant and uniform biases, and under zero
    biases after a short GD run."""
    rng = np.random.default_rng(0)
    width, const, half, steps, lr, freq = 20, 0.1, 0.5, 50, 0.05, 3
    base = init_mlp([1, width, 1], rng=rng, weights="he_normal")
    w = base["W1"][0]
    rows = {
        "zeros": np.zeros(width),
        f"constant {const:g}": np.full(width, const),
        f"uniform(−{half:g}, {half:g})": rng.uniform(-half, half, width),
    }
    X = np.linspace(-1, 1, 32)[:, None]
    y = np.sin(freq * X[:, 0])
    params = dict(base)
    for _ in range(steps):
        _, grads = value_and_grad(params, X, y)
        params = unflatten_params(flatten_params(params) - lr * flatten_params(grads), params)
    fig, ax = new_figure(1, width=6.5, height=2.8)
    kinks = [kink_location(w, b) for b in rows.values()]
    kinks.append(kink_location(params["W1"][0], params["b1"]))
    labels = [*rows, f"zeros, after {steps} GD steps"]
    for i, k in enumerate(kinks):
        ax.plot(k, np.full(k.size, -i), "|", ms=14, mew=1.5)
    ax.axvspan(-1, 1, color="0.93")
    ax.set_yticks(-np.arange(len(labels)), labels)
    ax.set(
        xlim=(-2, 2),
        ylim=(-len(labels) + 0.4, 0.6),
        xlabel="kink location −b/w",
        title="where the kinks start, by bias initialisation",
    )
    ax.grid(False)
    assert np.all(kinks[0] == 0) and np.ptp(kinks[-1]) > 0  # zeros at 0; spread after training
    leave_note(
        kinks_by_bias_init,
        f"<p>Width {width}; constant {const:g}; uniform on [−{half:g}, {half:g}]; {steps} GD steps "
        f"of size {lr:g} on sin({freq}x) at {len(X)} points of [−1, 1] (shaded).</p>",
    )
    return fig


def curvature_against_scale() -> Any:
    r"""The top Hessian eigenvalue at initialization of deep linear networks against the weight scale
    $s$, against $s^{2(L-1)}$ (dashed)."""
    rng = np.random.default_rng(0)
    n, width, depths = 32, 3, (2, 3, 4)
    X = rng.standard_normal((n, width))
    y = rng.standard_normal(n)
    scales = np.geomspace(0.5, 4, 6)
    slopes = {}
    fig, ax = new_figure(1, width=6.0, height=3.0)
    for depth in depths:
        base = init_mlp([width] * depth + [1], rng=rng, weights="lecun_normal")
        top = []
        for s in scales:
            p = {k: s * v if k.startswith("W") else v for k, v in base.items()}
            theta = flatten_params(p)

            def g(th: Any, p: Any = p) -> Any:
                return flatten_params(
                    value_and_grad(unflatten_params(th, p), X, y, activation="identity")[1]
                )

            h = 1e-5 * max(1.0, s ** (depth - 1))
            g0 = g(theta)
            Hs = np.array([(g(theta + h * e) - g0) / h for e in np.eye(theta.size)])
            top.append(np.linalg.eigvalsh((Hs + Hs.T) / 2)[-1])
        slopes[depth] = np.log(top[-1] / top[-2]) / np.log(scales[-1] / scales[-2])
        (line,) = ax.loglog(scales, top, "o", ms=4, label=f"depth L = {depth}")
        ax.loglog(
            scales,
            top[-1] * (scales / scales[-1]) ** (2 * (depth - 1)),
            "--",
            lw=1,
            color=line.get_color(),
        )
    ax.set(
        xlabel="weight scale s",
        ylabel="λ_max of the Hessian",
        title="the curvature explodes with s",
    )
    ax.legend()
    # the prose, checked: between the two largest scales the log-log slope is 2(L - 1)
    assert all(abs(slopes[L] - 2 * (L - 1)) < 0.1 for L in depths), slopes
    leave_note(
        curvature_against_scale,
        f"<p>Width {width}, {n} points, s from {scales[0]:g} to {scales[-1]:g}. Log-log slope between "
        f"the two largest scales: "
        + ", ".join(f"{slopes[L]:.2f} at L = {L} (2(L−1) = {2 * (L - 1)})" for L in depths)
        + ".</p>",
    )
    return fig


def gain_in_float16() -> Any:
    r"""The per-layer second moment of a deep ReLU network under gains $2$, $1$, $\tfrac12$ in float64
    and float16 (left), and the share of float16 entries that overflow or vanish (right)."""
    rng = np.random.default_rng(0)
    width, depth = 64, 60
    X = rng.standard_normal((128, width))
    base = init_mlp([width] * (depth + 1), rng=rng, weights="he_normal")
    layers = np.arange(1, depth + 1)
    fig, (ax, bx) = new_figure(2, width=7.5, height=3.4)
    first = {}  # gain: first layer with an inf, a nan, a majority of exact zeros (float16)
    survived = {}  # gain: (float16 second moment finite and nonzero at every layer, max zero share)
    gains = {2.0: "C3", 1.0: "C0", 0.5: "C2"}
    for gain, color in gains.items():
        p = {k: np.sqrt(gain) * v if k.startswith("W") else v for k, v in base.items()}
        q64 = [np.mean(z**2) for z in preactivations(p, X)]
        p16 = {k: v.astype(np.float16) for k, v in p.items()}
        # dlcore refuses to hand on an overflowed layer (a ValueError naming it), so the float16
        # chain is written out here, ReLU layers as preactivations computes them, to show the inf
        with np.errstate(over="ignore", invalid="ignore"):
            zs, h = [], X.astype(np.float16)
            for ell in range(1, depth + 1):
                zs.append(h @ p16[f"W{ell}"] + p16[f"b{ell}"])
                h = np.maximum(zs[-1], np.float16(0))
            q16 = np.array([np.mean(z.astype(np.float64) ** 2) for z in zs])
        ok = np.isfinite(q16) & (q16 > 0)
        bad = [np.mean(~np.isfinite(z)) if gain > 1 else np.mean(z == 0) for z in zs]
        zero_share = np.array([np.mean(z == 0) for z in zs])
        first[gain] = [
            int(layers[np.flatnonzero(hit)[0]]) if hit.any() else None
            for hit in (
                np.array([np.isinf(z).any() for z in zs]),
                np.array([np.isnan(z).any() for z in zs]),
                zero_share > 0.5,
            )
        ]
        survived[gain] = bool(ok.all()), float(zero_share.max())
        bx.plot(layers, bad, ".-", color=color, ms=3, label=f"gain {gain:g}")
        ax.plot(layers, np.log2(q64), color=color, lw=1, label=f"gain {gain:g}, float64")
        ax.plot(
            layers[ok], np.log2(q16[ok]), "o", color=color, ms=3, label=f"gain {gain:g}, float16"
        )
    ax.axhline(np.log2(65504.0**2), color="0.5", ls=":", lw=1)
    ax.annotate(
        "float16 max², overflow",
        (1, np.log2(65504.0**2)),
        xytext=(0, 3),
        textcoords="offset points",
        fontsize=9,
    )
    ax.set(xlabel="layer ℓ", ylabel="log₂ of mean z²", title="per-layer gain in finite precision")
    ax.legend(ncol=2, loc="lower left")
    bx.set(
        xlabel="layer ℓ",
        ylabel="share of entries",
        title="float16: inf/nan or zeros",
    )
    bx.legend()
    # the prose, checked: gain 2 gives inf, then nan; gain 1/2 mostly exact zeros; gain 1 survives
    (inf2, nan2, _), (inf1, nan1, zero1), (_, _, zero_half) = first[2.0], first[1.0], first[0.5]
    assert inf2 is not None and nan2 is not None and inf2 <= nan2 and zero_half is not None
    assert inf1 is None and nan1 is None and zero1 is None and survived[1.0][0]
    leave_note(
        gain_in_float16,
        f"<p>Width {width}, depth {depth}, {len(X)} inputs, gains {', '.join(f'{g:g}' for g in gains)}. "
        f"In float16, gain 2 gives "
        f"the first inf at layer {inf2} and the first nan at layer {nan2}; under gain ½ most entries "
        f"are exact zeros from layer {zero_half}; under gain 1 the second moment stays finite and "
        f"nonzero, with at most {survived[1.0][1]:.2%} exact zeros (rounding cancellations).</p>",
    )
    return fig
