"""Figures of the implicit-bias chapter (docs/implicit-bias.md): one function per figure, each
returning it."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import block_diag

from dlcore.linear import min_norm_solution, null_space_projector
from dlcore.losses import minibatch_grad, per_example_losses, squared_loss, squared_loss_grad
from dlcore.mlp import init_mlp, param_jacobian
from dlcore.optim import adam, gd, sgd
from dlcore.train import run
from figures import leave_note, new_figure, new_figure_3d

__all__ = [
    "row_space_3d",
    "row_space_2d",
    "half_pipe",
    "many_interpolants",
    "gd_sgd_min_norm",
    "adam_leaves_row_space",
    "adam_vs_gd_test",
    "jacobian_flat_directions",
]


def row_space_3d() -> Any:
    """GD and SGD iterates on an underdetermined least-squares problem in three dimensions: they stay
    in $w_0 + \\mathrm{row}(X)$ and end at $X^+y + P_{\\mathrm{null}}w_0$."""
    X, y = np.array([[1.0, 0.2, 0.1], [0.3, 1.0, 0.2]]), np.array([1.0, 0.8])  # n = 2, d = 3
    P_null = null_space_projector(X)
    rng = np.random.default_rng(0)
    batches = rng.integers(0, 2, (60, 1))

    def iterates(w0: Any, batched: Any) -> Any:
        def grad(p: Any, t: Any) -> Any:
            if batched:
                return {"w": minibatch_grad(p["w"], X, y, batches[t])}
            return {"w": squared_loss_grad(p["w"], X, y)}

        _, traj = run(gd(0.08), grad, {"w": w0}, 60, record_every=1)
        return np.array([p["w"] for p in traj])

    w0 = np.array([0.2, -0.3, 1.0])
    fig, (ax,) = new_figure_3d(1, width=5.5, height=4.4)
    a, b = np.meshgrid(np.linspace(-0.3, 1.2, 2), np.linspace(-0.3, 1.2, 2))
    plane = a[..., None] * X[0] + b[..., None] * X[1]
    for offset, color in [(np.zeros(3), "C0"), (P_null @ w0, "C2")]:
        ax.plot_surface(*np.moveaxis(plane + offset, -1, 0), color=color, alpha=0.12)
    runs = [
        ("GD from 0", np.zeros(3), False, "C0"),
        ("SGD (b = 1) from 0", np.zeros(3), True, "C1"),
        ("GD from w₀", w0, False, "C2"),
    ]
    for name, start, batched, color in runs:
        W = iterates(start, batched)
        drift = np.abs((W - start) @ P_null.T).max()
        ax.plot(
            *W.T,
            ".-",
            ms=3,
            lw=0.8,
            color=color,
            label=f"{name}: max‖P_null(w_t − w₀)‖ = {drift:.0e}",
        )
    w_star = min_norm_solution(X, y)
    ax.plot(*w_star, "k*", ms=10, label="X⁺y")
    ax.plot(*np.stack([w_star, w_star + P_null @ w0], axis=1), "k:", lw=1)
    ax.plot(*w0, "o", color="C2", ms=5)
    ax.text(*w0, "  w₀", fontsize=9)
    ax.text(*(w_star + P_null @ w0), "  X⁺y + P_null w₀", fontsize=9)
    ax.set(xlabel="w₁", ylabel="w₂", zlabel="w₃", xticklabels=[], yticklabels=[], zticklabels=[])
    ax.set_title("d = 3, n = 2: iterates stay in w₀ + row(X)", fontsize=9)
    ax.legend(fontsize=9, loc="upper left")
    ax.view_init(elev=15, azim=-50)
    return fig


def row_space_2d() -> Any:
    """GD from two starts on one equation in two unknowns (paths to the line of minimizers), and on a
    random underdetermined problem the distance to $w_\\infty$ and the null-space drift of GD and
    SGD."""

    def trajectory(X: Any, y: Any, w0: Any, lr: Any, steps: Any, batches: Any = None) -> Any:
        def grad(p: Any, t: Any) -> Any:
            if batches is None:
                return {"w": squared_loss_grad(p["w"], X, y)}
            return {"w": minibatch_grad(p["w"], X, y, batches[t])}

        _, traj = run(gd(lr), grad, {"w": w0}, steps, record_every=1)
        return np.array([p["w"] for p in traj])

    fig, (ax, ax_t) = new_figure(2, height=4.8)

    # Left: X = [1 2], y = 2. sigma_max^2 = 5, so the lecture's bound is lr < 1/5.
    X, y = np.array([[1.0, 2.0]]), np.array([2.0])
    w_star = min_norm_solution(X, y)
    s = np.linspace(-2.5, 3.5, 2)
    ax.plot(s, (2 - s) / 2, color="k", lw=1, label="minimizers  w₁ + 2w₂ = 2")
    ax.plot([0, 0.9], [0, 1.8], color="grey", ls=":", lw=1, label="row space span{(1, 2)}")
    for w0, name in [(np.zeros(2), "GD from 0"), (np.array([-2.0, -0.5]), "GD from w₀")]:
        W = trajectory(X, y, w0, lr=0.02, steps=40)
        ax.plot(W[:, 0], W[:, 1], ".-", ms=3, label=name)
    ax.plot(*w_star, "k*", ms=10, label="X⁺y (min norm)")
    ax.set(xlabel="w₁", ylabel="w₂", title="2 unknowns, 1 equation", aspect="equal")
    ax.set_xlim(-2.5, 4.0)
    ax.set_ylim(-1.0, 2.6)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2))

    # Right: a random 2x3 problem, GD and SGD (b = 1) from a random w0.
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((2, 3)), rng.standard_normal(2)
    w0 = rng.standard_normal(3)
    P_null = null_space_projector(X)
    w_inf = min_norm_solution(X, y) + P_null @ w0
    lr = 0.45 / np.linalg.norm(X, 2) ** 2  # the lecture's bound is 1 / sigma_max^2
    steps = 100
    runs = {
        "GD": trajectory(X, y, w0, lr, steps),
        "SGD, b = 1": trajectory(X, y, w0, lr / 2, steps, batches=rng.integers(0, 2, (steps, 1))),
    }
    for name, W in runs.items():
        (line,) = ax_t.semilogy(np.linalg.norm(W - w_inf, axis=1), label=f"‖w_t − w_∞‖, {name}")
        drift = np.linalg.norm((W - w0) @ P_null.T, axis=1)
        ax_t.semilogy(
            np.maximum(drift, 1e-18),
            ":",
            color=line.get_color(),
            label=f"‖P_null (w_t − w₀)‖, {name}",
        )
    ax_t.set(xlabel="step t", title="2 equations, 3 unknowns")
    ax_t.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return fig


def half_pipe() -> Any:
    """The half-pipe loss $(w_1 - 1)^2$ as a surface and as contours, with GD paths from several
    starts: GD moves straight to the valley floor, keeping $w_2$."""
    X, y = np.array([[1.0, 0.0]]), np.array([1.0])
    g1, g2 = np.meshgrid(np.linspace(-2, 3, 60), np.linspace(-2, 2, 50))
    grid = np.stack([g1.ravel(), g2.ravel()], axis=1)
    # L(w) = (x·w − y)²: the per-example loss of "weights" x on "data points" w, so one call fills the grid
    L = per_example_losses(X[0], grid, np.full(len(grid), y[0])).reshape(g1.shape)
    fig, (ax3, ax) = new_figure_3d(2, width=7.5, height=3.8, flat=(1,))
    ax3.plot_surface(g1, g2, L, cmap="Greys", alpha=0.5, lw=0, rstride=2, cstride=2)
    ax.contourf(g1, g2, L, levels=15, cmap="Greys")
    for start in ([-1.5, 1.5], [-1.0, -1.0], [2.5, 0.5], [0.0, 0.0], [2.8, -1.6]):
        _, traj = run(
            gd(0.15),
            lambda p, t: {"w": squared_loss_grad(p["w"], X, y)},
            {"w": np.array(start)},
            15,
            record_every=1,
        )
        W = np.array([p["w"] for p in traj])
        (line,) = ax.plot(W[:, 0], W[:, 1], ".-", ms=4)
        losses = [squared_loss(w, X, y) for w in W]
        ax3.plot(W[:, 0], W[:, 1], losses, ".-", ms=3, color=line.get_color(), zorder=5)
    ax.axvline(1.0, color="C3", lw=2, label="minimizers w₁ = 1")
    ax3.plot([1, 1], [-2, 2], [0, 0], color="C3", lw=2)
    ax3.set(xlabel="w₁", ylabel="w₂", zlabel="L(w)", title="the surface: a flat-bottomed valley")
    ax3.set(xticks=[-2, 0, 2], yticks=[-2, 0, 2], zticks=[0, 4, 8])
    ax3.view_init(elev=28, azim=-70)
    ax.set(xlabel="w₁", ylabel="w₂", title="half-pipe (w₁ − 1)²: GD keeps w₂")
    ax.legend(loc="lower right")
    return fig


def many_interpolants() -> Any:
    """The minimum-norm polynomial interpolant $A^+y$ and two others $A^+y + P_{\\mathrm{null}}z$: they
    agree on the training points only."""
    rng = np.random.default_rng(2)
    x = np.sort(rng.uniform(-1, 1, 8))
    y = np.sin(3 * x)
    features = lambda t: np.stack([t**k for k in range(12)], axis=1)  # noqa: E731
    A = features(x)
    w = min_norm_solution(A, y)
    P = null_space_projector(A)
    grid = np.linspace(-1.1, 1.1, 300)
    fig, ax = new_figure(1, width=6.0)
    ax.plot(grid, features(grid) @ w, lw=2, label="min-norm interpolant A⁺y")
    for k in range(2):
        w2 = w + P @ rng.standard_normal(12)
        ax.plot(grid, features(grid) @ w2, lw=1, label=f"A⁺y + P_null z{k + 1}")
    ax.plot(x, y, "ko", label="training points")
    ax.set(xlabel="x", ylabel="prediction", title="interpolants agree on the data only")
    ax.set_ylim(-3, 3)
    ax.legend(fontsize=9)
    fig.supxlabel(
        f"{len(x)} points, monomials of degree 0 to {A.shape[1] - 1}: "
        f"d = {A.shape[1]} features, n = {len(x)} points.",
        fontsize=10,
    )
    return fig


def gd_sgd_min_norm() -> Any:
    """The distance of GD and SGD iterates from the minimum-norm solution $X^+y$, from $w_0 = 0$."""
    rng = np.random.default_rng(0)
    n, d = 5, 20
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    target = min_norm_solution(X, y)
    steps = 1500
    batches = rng.integers(0, n, (steps, 1))
    lr_gd = 0.5 / (2 * np.linalg.norm(X, 2) ** 2)
    lr_sgd = 0.5 / (n * 2 * np.max(np.sum(X**2, axis=1)))
    fig, ax = new_figure(1, width=6.0)
    for name, lr, grad in [
        ("GD", lr_gd, lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}),
        ("SGD, b = 1", lr_sgd, lambda p, t: {"w": minibatch_grad(p["w"], X, y, batches[t])}),
    ]:
        _, traj = run(sgd(lr), grad, {"w": np.zeros(d)}, steps, record_every=5)
        ax.semilogy(
            np.arange(len(traj)) * 5, [np.linalg.norm(p["w"] - target) for p in traj], label=name
        )
    ax.set(
        xlabel="step t",
        ylabel="‖w_t − X⁺y‖",
        title=f"both reach the minimum-norm solution (n = {n}, d = {d})",
    )
    ax.legend()
    return fig


def adam_leaves_row_space() -> Any:
    """The null-space component and the norm of GD and Adam iterates from zero: Adam leaves the row
    space and ends at a larger norm."""
    rng = np.random.default_rng(0)
    n, d = 5, 20
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    P = null_space_projector(X)
    grad = lambda p, t: {"w": squared_loss_grad(p["w"], X, y)}  # noqa: E731
    zero = {"w": np.zeros(d)}
    steps = 4000
    lrs = {"GD": float(0.9 / (2 * np.linalg.norm(X, 2) ** 2)), "Adam": 1e-2}
    runs = {"GD": gd(lrs["GD"]), "Adam": adam(lrs["Adam"])}
    fig, (ax_null, ax_norm) = new_figure(2)
    for name, opt in runs.items():
        _, traj = run(opt, grad, zero, steps, record_every=10)
        W = np.array([p["w"] for p in traj])
        t = np.arange(len(W)) * 10
        ax_null.semilogy(
            t[1:],
            np.maximum(np.linalg.norm(W[1:] @ P.T, axis=1), 1e-17),
            label=f"{name}, η = {lrs[name]:.2g}",
        )
        ax_norm.plot(
            t,
            np.linalg.norm(W, axis=1),
            label=f"{name} (final loss {squared_loss(W[-1], X, y):.1e})",
        )
    ax_norm.axhline(np.linalg.norm(min_norm_solution(X, y)), color="k", ls=":", label="‖X⁺y‖")
    ax_null.set(
        xlabel="step t", ylabel="‖P_null w_t‖", title=f"null-space component (n = {n}, d = {d})"
    )
    ax_norm.set(xlabel="step t", ylabel="‖w_t‖", title="norm of the iterate")
    ax_null.legend()
    ax_norm.legend(fontsize=9)
    return fig


def adam_vs_gd_test() -> Any:
    """The difference in test error between Adam's and GD's interpolants over many random
    underdetermined regression problems."""
    paragraphs_: list[str] = []
    seeds, n, d, m, noise, steps, gd_frac, lr_adam = 40, 5, 20, 500, 0.1, 3000, 0.9, 1e-2
    Xs, ys, tests = [], [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        w_star = rng.standard_normal(d)
        X, X_test = rng.standard_normal((n, d)), rng.standard_normal((m, d))
        Xs.append(X)
        ys.append(X @ w_star + noise * rng.standard_normal(n))
        tests.append((X_test, X_test @ w_star))
    A, b = block_diag(*Xs), np.concatenate(ys)  # all seeds at once: blocks do not interact
    grad = lambda p, t: {"w": squared_loss_grad(p["w"], A, b)}  # noqa: E731
    runs = {"GD": gd(float(gd_frac / (2 * np.linalg.norm(A, 2) ** 2))), "Adam": adam(lr_adam)}
    test_err, train_loss, final = {}, {}, {}
    for name, opt in runs.items():
        w, _ = run(opt, grad, {"w": np.zeros(seeds * d)}, steps)
        W = final[name] = w["w"].reshape(seeds, d)
        test_err[name] = np.array([squared_loss(W[s], *tests[s]) / m for s in range(seeds)])
        train_loss[name] = max(float(squared_loss(W[s], Xs[s], ys[s])) for s in range(seeds))
    # GD reaches each block's minimum-norm solution X_s^+ y_s.
    gap = max(
        np.linalg.norm(final["GD"][s] - np.linalg.pinv(Xs[s]) @ ys[s])
        / np.linalg.norm(np.linalg.pinv(Xs[s]) @ ys[s])
        for s in range(seeds)
    )
    assert gap < 1e-6, gap
    diff = test_err["Adam"] - test_err["GD"]
    fig, ax = new_figure(1, width=6.0)
    ax.hist(diff, bins=16, color="C1", alpha=0.7, label="seeds")
    ax.axvline(0, color="k", lw=0.8)
    ax.axvline(diff.mean(), color="C3", ls="--", label=f"mean {diff.mean():+.2f}")
    ax.plot([], [], " ", label=f"(GD's mean test MSE {test_err['GD'].mean():.1f})")
    ax.set(
        xlabel="test MSE of Adam − test MSE of GD",
        ylabel="number of seeds",
        title=f"{seeds} seeds: Adam worse on {np.mean(diff > 0):.0%}\n"
        f"max train loss: GD {train_loss['GD']:.0e}, Adam {train_loss['Adam']:.0e}",
    )
    ax.legend()
    paragraphs_.append(
        f"<p>{seeds} seeds; per seed X is {n}×{d} standard normal, w* ~ N(0, I), "
        f"y = Xw* + {noise}·N(0, I), {m} noiseless test points; {steps} steps of GD "
        f"(step {gd_frac}/(2 max_s ‖X_s‖²), largest relative distance to X_s⁺y_s {gap:.0e}) "
        f"and of Adam (η = {lr_adam}).</p>"
    )
    leave_note(adam_vs_gd_test, "\n".join(paragraphs_))
    return fig


def jacobian_flat_directions() -> Any:
    """The eigenvalues of $J^\\top J$ for the Jacobian $J$ of a small tanh network: at least $p - n$ of
    them are zero to rounding."""
    paragraphs_: list[str] = []
    rng = np.random.default_rng(0)
    sizes, n = [3, 8, 1], 10
    X = rng.standard_normal((n, sizes[0]))
    params = init_mlp(sizes, rng=rng)
    J = param_jacobian(params, X, activation="tanh")
    p = J.shape[1]
    eig = np.sort(np.abs(np.linalg.eigvalsh(J.T @ J)))[::-1]
    # zero to rounding: below 8 (n + p) eps |J|^2 (Weyl, as in the claim's test)
    flat = int(np.sum(eig <= 8 * (n + p) * np.finfo(float).eps * eig[0]))
    assert flat >= p - n, (flat, p - n)
    fig, ax = new_figure(1, width=6.0)
    ax.semilogy(np.arange(1, len(eig) + 1), np.maximum(eig, 1e-20), "o", ms=3)
    ax.axvline(n + 0.5, color="grey", ls=":", label=f"n = {n}")
    ax.set(xlabel="index", ylabel="eigenvalue of JᵀJ", title=f"p = {p} parameters, n = {n} points")
    ax.legend()
    paragraphs_.append(
        f"<p>Layer sizes {sizes}: p = {p} parameters, n = {n} training points; "
        f"{flat} eigenvalues of JᵀJ are zero to rounding, p − n = {p - n}.</p>"
    )
    leave_note(jacobian_flat_directions, "\n".join(paragraphs_))
    return fig
