"""Figures of the learning chapter (docs/learning.md): one function per figure, each returning it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle

from dlcore.linear import ridge
from dlcore.losses import (
    empirical_risk,
    empirical_risk_grad,
    hinge_loss,
    hinge_loss_grad,
    logistic_loss,
    logistic_loss_grad,
    softmax,
    squared_loss,
    squared_loss_grad,
    zero_one_loss,
)
from dlcore.optim import apply_updates, gd
from dlcore.train import best_checkpoint, train
from figures import leave_note, new_figure

__all__ = [
    "softmax_temperature",
    "loss_zoo",
    "surrogate_bound",
    "test_error_concentration",
    "selection_bias",
    "joint_lambda",
    "pipeline",
    "validation_curve",
    "bias_variance_order",
    "bias_variance_ridge",
    "training_strategies",
]


def softmax_temperature() -> Any:
    """The softmax of fixed scores $z/T$ against $1/T$: as the temperature $T \\to 0$, softmax tends to
    argmax."""
    z = np.array([2.0, 1.5, 0.3, -1.0])
    inv_T = np.logspace(-1.5, 1.5, 200)
    P = np.array([softmax(z * b) for b in inv_T])
    fig, ax = new_figure(1, width=5.5, height=3.0)
    for k in range(len(z)):
        ax.semilogx(inv_T, P[:, k], label=f"z = {z[k]}")
    ax.set(xlabel="1 / T", ylabel="softmax(z / T)", title="temperature → 0: softmax → argmax")
    ax.legend(fontsize=9)
    return fig


def loss_zoo() -> Any:
    """The 0-1, squared, hinge and logistic losses against the margin $m = ys$, and their derivatives
    with respect to the score, what GD sees."""
    m = np.linspace(-3, 3, 601)  # margins m = y s, with y = +1
    ones = np.ones_like(m)
    fig, (ax, ax_g) = new_figure(2, height=3.3)
    ax.plot(m, (m <= 0).astype(float), "k", lw=2, label="0-1:  𝟙[m ≤ 0]")
    ax.plot(m, (1 - m) ** 2, label="squared  (1 − m)²")
    ax.plot(m, hinge_loss(m, ones), label="hinge  max(0, 1 − m)")
    ax.plot(m, logistic_loss(m, ones) / np.log(2), label="logistic  log₂(1 + e⁻ᵐ)")
    ax.set(xlabel="margin m = ys", ylabel="loss", ylim=(-0.1, 4), title="the loss zoo")
    ax.legend(fontsize=9)
    ax_g.plot(m, np.zeros_like(m), "k", lw=2, label="0-1 (zero a.e.)")
    ax_g.plot(m, -2 * (1 - m), label="squared")
    ax_g.plot(m, hinge_loss_grad(m, ones), label="hinge (subgradient 0 at m = 1)")
    ax_g.plot(m, logistic_loss_grad(m, ones) / np.log(2), label="logistic / ln 2")
    ax_g.set(xlabel="margin m = ys", ylabel="∂ℓ/∂s  (y = +1)", ylim=(-3, 1), title="what GD sees")
    ax_g.legend(fontsize=9)
    return fig


def surrogate_bound() -> Any:
    """Training with GD on the squared surrogate: the surrogate stays above the 0-1 error at every
    step."""
    rng = np.random.default_rng(6)
    n, d = 200, 5
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.8 * rng.standard_normal(n) > 0, 1.0, -1.0)
    hist = train(
        gd(float(0.2 / (np.linalg.norm(X, 2) ** 2 / n))),
        lambda p, t: {"w": empirical_risk_grad(p["w"], X, y)},  # trained on the squared surrogate
        {"w": np.zeros(d)},
        60,
        loss_fn=lambda p: empirical_risk(p["w"], X, y),
        checkpoint_every=1,
    )
    steps = [t for t, _ in hist.checkpoints]
    surrogate = [float(empirical_risk(p["w"], X, y)) for _, p in hist.checkpoints]
    error = [zero_one_loss(X @ p["w"], y).mean() for _, p in hist.checkpoints]
    assert all(e <= q for e, q in zip(error, surrogate, strict=True))  # the debug check passes
    fig, ax = new_figure(1, width=5.5, height=3.0)
    ax.plot(steps, surrogate, label="training squared loss (the surrogate)")
    ax.plot(steps, error, label="training 0-1 error (the true loss)")
    ax.set(
        xlabel="step t",
        ylabel="mean over the training set",
        ylim=(0, 1.05),
        title="the surrogate bounds the 0-1 error from above",
    )
    ax.legend(fontsize=9)
    return fig


def test_error_concentration() -> Any:
    """The test error of one fixed classifier on many independent test sets: unbiased for the risk $R$,
    with standard deviation $\\sqrt{R(1 - R)/n_{\\text{test}}}$."""
    paragraphs_: list[str] = []
    rng = np.random.default_rng(1)
    mu, w = (
        np.array([0.5, 0.3]),
        np.array([1.0, 0.4]),
    )  # classes y·mu + N(0, I); a fixed classifier w
    risk = 0.5 * math.erfc(w @ mu / np.linalg.norm(w) / math.sqrt(2))  # its exact 0-1 risk
    reps, sizes = 1000, np.array([25, 50, 100, 200, 400, 800])
    fig, (ax, ax2) = new_figure(2, height=3.3)
    stds, means = [], []
    for n_test in sizes:
        y = rng.choice([-1.0, 1.0], (n_test, reps))  # reps independent test sets
        X = y[..., None] * mu + rng.standard_normal((n_test, reps, 2))
        err = zero_one_loss(X @ w, y).mean(axis=0)
        stds.append(err.std())
        means.append(err.mean())
        if n_test in (25, 100, 400):
            k = max(1, n_test // 40)  # bins aligned with the attainable values j / n_test
            edges = (np.arange(0, n_test + 2, k) - 0.5) / n_test
            ax.hist(err, bins=edges, density=True, histtype="step", label=f"n_test = {n_test}")
    ax.axvline(risk, color="k", ls=":", label=f"risk R = {risk:.3f}")
    ax.set(
        xlabel="test error",
        ylabel=f"density ({reps} test sets)",
        xlim=(0, 0.65),
        title="unbiased, concentrating",
    )
    ax.legend(fontsize=9)
    ax2.loglog(sizes, stds, "o", label="std of the test error")
    ax2.loglog(sizes, np.sqrt(risk * (1 - risk) / sizes), "k--", lw=0.8, label="√(R(1 − R)/n_test)")
    ax2.set(xlabel="n_test", ylabel="standard deviation", title="slope −½")
    ax2.set_xticks(sizes, [str(k) for k in sizes], minor=False)
    ax2.set_yticks([0.02, 0.05, 0.1], ["0.02", "0.05", "0.1"], minor=False)
    ax2.minorticks_off()
    ax2.legend(fontsize=9)
    line = np.sqrt(risk * (1 - risk) / sizes)  # the binomial standard deviation
    # the averages of the reps test errors lie within 4 standard errors of R (unbiased), and the
    # measured standard deviations within 15% of the binomial line (their own error is ~2%)
    assert np.all(np.abs(np.array(means) - risk) <= 4 * line / np.sqrt(reps))
    dev = float(np.max(np.abs(np.array(stds) / line - 1)))
    assert dev < 0.15
    paragraphs_.append(
        f"<p>One fixed classifier with known risk R = {risk:.3f}, evaluated on {reps} independent "
        f"test sets of each size. Left: the histograms are centred on R (unbiased) and narrow as "
        f"n_test grows. Right: their standard deviation falls like 1/√n_test; at every size it is "
        f"within {dev:.0%} of the binomial line √(R(1 − R)/n_test).</p>"
    )
    leave_note(test_error_concentration, "\n".join(paragraphs_))
    return fig


def selection_bias() -> Any:
    """Selecting the best of $M$ label-independent classifiers on $n$ held-out pairs: the held-out
    error of the winner falls like $\\tfrac12 - \\tfrac12\\sqrt{2\\ln M/n}$, its error on fresh data
    stays at one half."""
    rng = np.random.default_rng(0)
    n, n_fresh = 100, 10_000
    y, y_fresh = rng.choice([-1.0, 1.0], n), rng.choice([-1.0, 1.0], n_fresh)
    Ms = np.unique(np.logspace(0, 3.5, 15).astype(int))
    held, fresh = [], []
    for M in Ms:
        S = rng.choice([-1.0, 1.0], (n, M))  # M label-independent classifiers
        err = zero_one_loss(S, np.repeat(y[:, None], M, axis=1)).mean(axis=0)
        held.append(err.min())
        fresh.append(zero_one_loss(rng.choice([-1.0, 1.0], n_fresh), y_fresh).mean())
    fig, ax = new_figure(1, width=5.5, height=3.0)
    ax.semilogx(Ms, held, "o-", label="held-out error of the selected classifier")
    ax.semilogx(Ms, fresh, "s-", label="its error on fresh data")
    ax.semilogx(Ms, 0.5 - 0.5 * np.sqrt(2 * np.log(Ms) / n), "k:", label="½ − ½√(2 ln M / n)")
    ax.set(
        xlabel="number of candidates M",
        ylabel="0-1 error",
        title=f"selection on n = {n} held-out pairs",
    )
    ax.legend(fontsize=9)
    return fig


def joint_lambda() -> Any:
    """Joint GD on the weights and the ridge parameter $\\lambda$: $\\partial J/\\partial\\lambda =
    \\|\\theta\\|^2$ pushes $\\lambda$ down, free to $-\\infty$ or projected to 0."""
    paragraphs_: list[str] = []
    rng = np.random.default_rng(7)
    X = 0.3 * rng.standard_normal((20, 3))
    y = X @ np.array([2.0, -2.0, 1.5]) + 0.3 * rng.standard_normal(20)
    lam0 = 2.0
    lr = float(1 / (2 * (np.linalg.norm(X, 2) ** 2 + lam0)))

    def J(p: Any) -> Any:  # D(theta) + lam |theta|^2, for any sign of lam
        return float(squared_loss(p["w"], X, y) + p["lam"][0] * p["w"] @ p["w"])

    fig, (ax, ax2) = new_figure(2, height=3.3)
    runs = {}
    for project, name in [(False, "λ free"), (True, "λ projected onto λ ≥ 0")]:
        p = {"w": ridge(X, y, lam0), "lam": np.array([lam0])}  # start at the ridge solution
        opt = gd(lr)
        state, lams, objs = opt.init(p), [lam0], [J(p)]
        while len(objs) < 25 and objs[-1] > -1e6:
            grads = {  # dJ/dlam = |theta|^2 >= 0: lam only goes down
                "w": squared_loss_grad(p["w"], X, y) + 2 * p["lam"][0] * p["w"],
                "lam": np.array([p["w"] @ p["w"]]),
            }
            upd, state = opt.update(grads, state, p)
            p = apply_updates(p, upd)
            if project:
                p["lam"] = np.maximum(p["lam"], 0.0)
            lams.append(p["lam"][0])
            objs.append(J(p))
        ax.plot(lams, ".-", ms=3, label=name)
        ax2.plot(objs, ".-", ms=3, label=name)
        runs[project] = (np.array(lams), np.array(objs))
    ols = float(squared_loss(ridge(X, y, 0.0), X, y))
    (lam_free, J_free), (lam_proj, J_proj) = runs[False], runs[True]
    assert np.all(np.diff(lam_free) < 0) and np.all(np.diff(lam_proj) <= 0)  # λ only goes down
    t_free = len(J_free) - 1  # steps until J < -10^6
    t_zero = int(np.argmax(lam_proj == 0.0))  # first step with λ = 0; it stays there
    assert J_free[-1] < -1e6 and lam_free[-1] < 0 and np.all(lam_proj[t_zero:] == 0.0)
    rel = abs(J_proj[-1] - ols) / ols
    assert rel < 1e-5
    ax2.axhline(ols, color="k", ls=":", lw=0.8, label="least-squares objective")
    ax.set(xlabel="step t", ylabel="λ_t", title="joint GD pushes λ down", yscale="symlog")
    ax2.set(xlabel="step t", ylabel="J(θ_t, λ_t)", title="…and J to −∞", yscale="symlog")
    ax.legend(fontsize=9)
    ax2.legend(fontsize=9)
    paragraphs_.append(
        f"<p>Joint GD on (θ, λ) from the ridge solution at λ₀ = {lam0:g}: ∂J/∂λ = ‖θ‖² only "
        f"pushes λ down. Left free, λ turns negative and J falls below −10⁶ after {t_free} steps. "
        f"Projected onto λ ≥ 0, λ reaches 0 at step {t_zero} and stays there, and after "
        f"{len(J_proj) - 1} steps J is within a relative {rel:.0e} of the unregularised "
        f"least-squares objective (dotted).</p>"
    )
    leave_note(joint_lambda, "\n".join(paragraphs_))
    return fig


def pipeline() -> Any:
    """The train / validation / test pipeline, run on a ridge problem: fit on train, choose $\\lambda$
    on validation, read the test error once."""
    paragraphs_: list[str] = []
    rng = np.random.default_rng(1)
    n, d = 100, 20
    X = rng.standard_normal((n, d))
    y = X @ (rng.standard_normal(d) / np.sqrt(d)) + rng.standard_normal(n)
    tr, va, te = slice(0, 60), slice(60, 80), slice(80, 100)  # a 60 / 20 / 20 split, fixed once
    lams = np.logspace(-2, 3, 11)
    cands = [(lam, ridge(X[tr], y[tr], lam)) for lam in lams]  # inner: fit on train
    lam_star, w_best = best_checkpoint(cands, lambda w: empirical_risk(w, X[va], y[va]))  # outer
    test = float(empirical_risk(w_best, X[te], y[te]))  # looked at once
    fig, ax = new_figure(1, width=7.0, height=2.4)
    ax.set_axis_off()
    ax.set(xlim=(0, 100), ylim=(0, 10))
    splits = [(0, 60, "train", "tab:blue"), (60, 80, "validation", "tab:orange")]
    for lo, hi, name, color in [*splits, (80, 100, "test", "tab:green")]:
        ax.add_patch(Rectangle((lo, 6.5), hi - lo, 2.5, color=color, alpha=0.35))
        ax.text(
            (lo + hi) / 2, 7.75, f"{name}\n{hi - lo} pairs", ha="center", va="center", fontsize=9
        )
    notes = [
        (30, f"inner loop: ridge(X_train, y_train, λ)\nfits θ̂(λ) for {len(lams)} values of λ"),
        (70, f"outer loop:\nbest_checkpoint on\nvalidation: λ* = {lam_star:.3g}"),
        (90, f"once, at the end:\ntest MSE\n= {test:.2f}"),
    ]
    for x, text in notes:
        ax.add_patch(FancyArrowPatch((x, 6.3), (x, 4.4), arrowstyle="->", mutation_scale=12))
        ax.text(x, 2.4, text, ha="center", va="center", fontsize=9)
    paragraphs_.append(
        f"<p>The pipeline, run on a ridge problem (n = {n}, d = {d}): the inner fit sees only the "
        f"training split, the outer search compares only validation errors, and the test split is "
        f"read once, after λ* is fixed.</p>"
    )
    leave_note(pipeline, "\n".join(paragraphs_))
    return fig


def validation_curve() -> Any:
    """Training loss, validation 0-1 error and exact 0-1 risk of a ridge classifier against $\\lambda$,
    with the validation choice $\\lambda^*$."""
    rng = np.random.default_rng(3)
    d, n_train, n_val = 20, 22, 2000  # nearly square: lam -> 0 overfits
    mu = np.full(d, 0.35)

    def sample(n: Any) -> Any:
        y = rng.choice([-1.0, 1.0], n)
        return y[:, None] * mu + rng.standard_normal((n, d)), y

    (X, y), (Xv, yv) = sample(n_train), sample(n_val)
    lams = np.logspace(-4, 3, 29)
    cands = [(lam, ridge(X, y, lam)) for lam in lams]
    train = [empirical_risk(w, X, y) for _, w in cands]
    val = [zero_one_loss(Xv @ w, yv).mean() for _, w in cands]
    risk = [0.5 * math.erfc(w @ mu / np.linalg.norm(w) / math.sqrt(2)) for _, w in cands]
    lam_star, _ = best_checkpoint(cands, lambda w: zero_one_loss(Xv @ w, yv).mean())
    fig, ax = new_figure(1, width=6.0, height=3.2)
    ax.semilogx(lams, train, label="training squared loss (mean)")
    ax.semilogx(lams, val, "o", ms=3, label=f"validation 0-1 error (n = {n_val})")
    ax.semilogx(lams, risk, "k", label="0-1 risk (exact)")
    ax.axvline(lam_star, color="k", ls=":", lw=0.8, label="validation choice λ*")
    ax.set(xlabel="λ", ylabel="loss", title=f"ridge classifier, d = {d}, n_train = {n_train}")
    ax.legend(fontsize=9)
    return fig


def bias_variance_order() -> Any:
    """Bias$^2$, variance, their sum and a Monte Carlo estimate of the in-sample risk of least-squares
    polynomial fits against the model order $k$."""
    n, sigma, R = 20, 1.0, 500
    x = np.cos(np.pi * (np.arange(n) + 0.5) / n)  # Chebyshev nodes
    norms = np.full(n, np.sqrt(2 / n))
    norms[0] = np.sqrt(1 / n)
    Q = np.polynomial.chebyshev.chebvander(x, n - 1) * norms  # orthonormal nested basis
    j = np.arange(n)
    c2 = np.where(j <= 5, 2 + 0.6 * (5 - j), 0.25 * 0.64 ** np.maximum(j - 6, 0))  # decaying
    b = sigma * np.sqrt(c2)
    f = Q @ b
    rng = np.random.default_rng(0)
    Y = f[:, None] + sigma * rng.standard_normal((n, R))
    orders = np.arange(n)
    bias, mc_risk, train = [], [], []
    for k in orders:
        Phi = np.polynomial.chebyshev.chebvander(x, k)  # degree-k polynomial features
        fitted = Phi @ ridge(Phi, Y, 0.0)  # least squares for all R noise draws at once
        bias.append(np.sum((Phi @ ridge(Phi, f, 0.0) - f) ** 2) / n)
        mc_risk.append(np.mean(np.sum((fitted - f[:, None]) ** 2, axis=0)) / n)
        train.append(np.mean(np.sum((fitted - Y) ** 2, axis=0)) / n)
    variance = sigma**2 * (orders + 1) / n
    fig, ax = new_figure(1, width=6.0, height=3.3)
    ax.plot(orders, bias, label="bias² = ‖(I − P_k) f‖² / n")
    ax.plot(orders, variance, label="variance = σ²(k + 1) / n")
    ax.plot(orders, np.array(bias) + variance, "k", label="in-sample risk (exact)")
    ax.plot(orders, mc_risk, "ko", ms=3, label=f"Monte Carlo risk, {R} noise draws")
    ax.plot(orders, train, "--", label="training error")
    ax.axvline(int(np.argmin(mc_risk)), color="k", ls=":", lw=0.8)
    ax.set(
        xlabel="model order k (polynomial degree)",
        ylabel="mean squared error",
        ylim=(0, 2.0),
        title=f"n = {n} Chebyshev nodes, σ = {sigma}",
    )
    ax.legend(fontsize=9)
    return fig


def bias_variance_ridge() -> Any:
    """Bias$^2$ and variance of ridge on a fixed design against $\\lambda$, their sum plus the noise,
    and the Monte Carlo test error on fresh labels."""
    paragraphs_: list[str] = []
    rng = np.random.default_rng(10)
    n, d, sigma, R = 30, 20, 1.0, 400
    X = rng.standard_normal((n, d))
    f = X @ (rng.standard_normal(d) / np.sqrt(d) * 2)  # the noiseless targets on the fixed design
    Y = f[:, None] + sigma * rng.standard_normal((n, R))  # R training sets: fresh noise each
    Y_new = f[:, None] + sigma * rng.standard_normal((n, R))  # fresh test labels, same inputs
    lams = np.logspace(-2, 3, 26)
    bias2, var, total = [], [], []
    for lam in lams:
        S = X @ ridge(X, np.eye(n), lam)  # the smoother: fitted values = S y
        bias2.append(np.mean((S @ f - f) ** 2))  # exact, averaged over the design points
        var.append(sigma**2 * np.sum(S**2) / n)  # exact: sigma^2 ||S||_F^2 / n
        F = X @ ridge(X, Y, lam)  # fitted values for every training set
        total.append(np.mean((F - Y_new) ** 2))
    fig, ax = new_figure(1, width=6.0, height=3.3)
    ax.semilogx(lams, bias2, label="bias²")
    ax.semilogx(lams, var, label="variance")
    ax.semilogx(lams, np.full_like(lams, sigma**2), ":", label="noise σ²")
    ax.semilogx(lams, np.array(bias2) + var + sigma**2, "k", label="bias² + variance + σ²")
    ax.semilogx(lams, total, "ko", ms=3, mfc="none", label=f"test error, {R} Monte Carlo draws")
    ax.set(
        xlabel="ridge λ",
        ylabel="mean squared error (in-sample)",
        title=f"ridge on a fixed design, n = {n}, d = {d}",
    )
    ax.legend(fontsize=9)
    predicted = np.array(bias2) + var + sigma**2
    assert np.all(np.diff(bias2) > 0) and np.all(np.diff(var) < 0)  # the exact curves
    mismatch = float(np.max(np.abs(np.array(total) / predicted - 1)))
    assert mismatch < 0.05
    best = int(np.argmin(predicted))
    assert 0 < best < len(lams) - 1  # an interior minimum
    paragraphs_.append(
        f"<p>Ridge on a fixed design, refitted on {R} fresh noise draws for each λ. Bias² grows with "
        f"λ and variance shrinks; their sum plus the noise floor σ² (black) matches the Monte Carlo "
        f"test error on fresh labels (circles) within {mismatch:.1%} at every λ, with a minimum at an "
        f"intermediate λ ≈ {lams[best]:.2g}.</p>"
    )
    leave_note(bias_variance_ridge, "\n".join(paragraphs_))
    return fig


def training_strategies() -> Any:
    """The 0-1 training error of the same linear model trained by GD on the squared and on the logistic
    loss, with outliers, and each run's best validation checkpoint (dotted)."""
    rng = np.random.default_rng(4)
    n, d = 200, 2
    X = rng.standard_normal((n, d))
    y = np.where(X @ np.array([1.0, 0.3]) + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    X[:20] += 6 * np.array([1.0, 0.0]) * (y[:20, None] > 0)  # confidently correct outliers
    Xtr, ytr, Xva, yva = X[:150], y[:150], X[150:], y[150:]
    fig, ax = new_figure(1, width=6.0, height=3.3)
    for loss in ("squared", "logistic"):
        lr = float(0.5 / (np.linalg.norm(Xtr, 2) ** 2 / len(ytr)))
        hist = train(
            gd(lr),
            lambda p, t: {"w": empirical_risk_grad(p["w"], Xtr, ytr, loss=loss)},  # noqa: B023 (called in this iteration)
            {"w": np.zeros(d)},
            300,
            checkpoint_every=10,
        )
        steps = [t for t, _ in hist.checkpoints]
        err = [zero_one_loss(Xtr @ p["w"], ytr).mean() for _, p in hist.checkpoints]
        (line,) = ax.plot(steps, err, label=f"train 0-1 error, trained on {loss} loss")
        t_best, _ = best_checkpoint(
            hist.checkpoints, lambda p: zero_one_loss(Xva @ p["w"], yva).mean()
        )
        ax.axvline(t_best, color=line.get_color(), ls=":", lw=0.8)
    ax.set(
        xlabel="step t",
        ylabel="0-1 error",
        title="same model and optimiser, two training strategies",
    )
    ax.legend(fontsize=9)
    return fig
