"""Ridge and kernel ridge fit times against scikit-learn, float64, the same problems.

Three groups, for n in {500, 3000} and d in {50, 200, 2000}:

- "ridge fit": `kernel_ridge_fit(kernel="linear")`, which picks the d x d primal when d < n and
  the n x n dual otherwise, against `Ridge(alpha=lam, fit_intercept=False)` (same objective).
- "kernel ridge fit, linear": the same dlcore call against `KernelRidge(kernel="linear")`, which
  always solves the n x n system; at n = 3000, d = 200 the target is 20x faster.
- "kernel ridge fit, rbf": `kernel_ridge_fit(kernel="rbf")` against `KernelRidge(kernel="rbf")`.

Quick mode runs n = 500 with d in {50, 200} only.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Case
from dlcore.kernels import kernel_ridge_fit

LAM = 1.0


def _problem(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n * 10_000 + d)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def cases(quick: bool) -> list[Case]:
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.linear_model import Ridge

    sizes = (
        [(500, 50), (500, 200)] if quick else [(n, d) for n in (500, 3000) for d in (50, 200, 2000)]
    )
    out = []
    for n, d in sizes:
        X, y = _problem(n, d)
        gamma = 1.0 / d
        name = f"n={n} d={d}"
        out.append(
            Case(
                group="ridge fit",
                name=name,
                dlcore=lambda X=X, y=y: kernel_ridge_fit(X, y, LAM, kernel="linear"),
                reference=lambda X=X, y=y: Ridge(alpha=LAM, fit_intercept=False).fit(X, y),
                reference_name="sklearn Ridge",
                target=1.0,
            )
        )
        out.append(
            Case(
                group="kernel ridge fit, linear",
                name=name,
                dlcore=lambda X=X, y=y: kernel_ridge_fit(X, y, LAM, kernel="linear"),
                reference=lambda X=X, y=y: KernelRidge(alpha=LAM, kernel="linear").fit(X, y),
                reference_name="sklearn KernelRidge",
                target=0.05 if (n, d) == (3000, 200) else 1.0,
            )
        )
        out.append(
            Case(
                group="kernel ridge fit, rbf",
                name=name,
                dlcore=lambda X=X, y=y, g=gamma: kernel_ridge_fit(X, y, LAM, kernel="rbf", gamma=g),
                reference=lambda X=X, y=y, g=gamma: KernelRidge(
                    alpha=LAM, kernel="rbf", gamma=g
                ).fit(X, y),
                reference_name="sklearn KernelRidge",
                target=1.0,
            )
        )
    return out
