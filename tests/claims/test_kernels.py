"""Chapter kernels: the dual view of ridge."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlcore.backend import device_of
from dlcore.kernels import (
    kernel_ridge,
    kernel_ridge_fit,
    kernel_ridge_predict,
    linear_kernel,
    polynomial_kernel,
    rbf_kernel,
)
from dlcore.linear import null_space_projector, ridge, ridge_dual, ridge_objective
from tests.support.backends import HOST, backend_params, eigvalsh64
from tests.support.claims import claim, clause
from tests.support.strategies import log_uniform, make_problem, regression_problems, seeds
from tests.support.tolerances import Check

ID = "kernels.primal-equals-dual"
EPS64 = float(np.finfo(np.float64).eps)


def _svd_ridge(problem, lam: float, Y: np.ndarray) -> np.ndarray:
    """The oracle: sum_i sigma_i / (sigma_i^2 + lam) (u_i^T y) v_i, in float64 from the known SVD."""
    r, s = problem.rank, problem.svals
    coef_times_uty = ((s / (s**2 + lam)) * (problem.U[:, :r].T @ Y).T).T
    return problem.V[:, :r] @ coef_times_uty


@claim(ID)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 12), rank="any"),
    lam=log_uniform(1e-3, 1e3),
    m=st.sampled_from([None, 1, 3, "operator"]),
)
def test_primal_equals_dual(backend, problem, lam, m):
    """Primal solve, dual solve via kernel_ridge on the linear kernel, and the SVD oracle agree.

    Any shape (n < d, n = d, n > d) and any rank; targets plain or batched, and Y = I_n, where
    both sides are the d x n operators themselves (the push-through identity). Both systems have
    condition number at most kappa = (sigma_max^2 + lam) / lam. A backward-stable solve errs by
    about eps * (kappa * |w| + |X| |y| / |A|): the second term is the rounding of X^T y (or of
    X^T alpha), which matters when y is nearly orthogonal to the column space and w is tiny.
    """
    check = Check(ID, backend)
    rng = np.random.default_rng(problem.seed)
    if m == "operator":
        Y = np.eye(problem.n)
    else:
        Y = problem.y if m is None else rng.standard_normal((problem.n, m))
    X, y = backend.asarray(problem.X), backend.asarray(Y)
    primal = ridge(X, y, lam)
    dual = X.T @ kernel_ridge(linear_kernel(X, X), y, lam)
    cond = (problem.sigma_max**2 + lam) / lam
    oracle = _svd_ridge(problem, lam, Y)
    scale = np.linalg.norm(oracle) + problem.sigma_max * np.linalg.norm(Y) / (
        problem.sigma_max**2 + lam
    )
    with clause("a"):
        assert tuple(primal.shape) == tuple(dual.shape) == (problem.d, *Y.shape[1:])
        check.assert_close(primal, dual, cond=cond, scale=scale, what="primal vs dual")
        check.assert_close(
            dual,
            ridge_dual(X, y, lam),
            cond=cond,
            scale=scale,
            kind="identity",
            what="kernel_ridge vs ridge_dual",
        )
    with clause("b"):
        check.assert_close(
            primal,
            oracle,
            cond=cond,
            scale=scale,
            what="primal vs SVD formula",
        )
    if m is not None:  # batched targets, and Y = I_n: the d x n operators themselves
        with clause("c"):
            check.assert_close(primal, dual, cond=cond, scale=scale, what="operators")


@claim(ID, breaks="lambda = 0 with d > n")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(1, 8), d=(2, 12), shape="wide"))
def test_primal_form_undefined_without_regularisation(backend, problem):
    """With lam = 0 and d > n, X^T X is singular: the primal form does not exist, the dual does.

    The primal solve refuses (its d x d matrix has rank n < d), while the dual form at lam = 0 is
    the minimum-norm interpolant X^+ y, so the identity cannot hold for lam = 0.
    """
    check = Check(ID, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    gram = problem.X.T @ problem.X
    assert np.linalg.matrix_rank(gram) == problem.n < problem.d
    with pytest.raises(ValueError, match="singular"):
        ridge(X, y, 0.0)
    pinv_y = problem.V[:, : problem.rank] @ (
        (problem.U[:, : problem.rank].T @ problem.y) / problem.svals
    )
    check.assert_close(
        ridge_dual(X, y, 0.0),
        pinv_y,
        cond=problem.cond**2,
        what="dual at lam=0 vs X^+ y",
    )


COMBO = "kernels.ridge-weights-are-combinations-of-data"
GRAM = "kernels.gram-matrix-of-inner-products"
SUBST = "kernels.kernel-substitution"
PREDICT = "kernels.prediction-by-inner-products"


def _ridge_cond(problem, lam: float) -> float:
    return (problem.sigma_max**2 + lam) / lam


def _ridge_scale(problem, lam: float, Y: np.ndarray) -> float:
    """|w| plus the rounding floor of X^T y (see test_primal_equals_dual)."""
    w = _svd_ridge(problem, lam, Y)
    s = problem.sigma_max
    return float(np.linalg.norm(w) + s * np.linalg.norm(Y) / (s**2 + lam))


@claim(COMBO)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 12), rank="any"),
    lam=log_uniform(1e-3, 1e3),
)
def test_ridge_weights_are_combinations_of_the_data(backend, problem, lam):
    """alpha (dual coefficients from kernel_ridge_fit) equals (X X^T + lam I)^{-1} y, X^T alpha
    equals the primal ridge weights, and their null-space component vanishes.

    Any shape and rank (null(X) is nontrivial whenever rank < d). Both solves are backward stable
    with condition (sigma_max^2 + lam) / lam; the oracle alpha = U diag(1 / (s^2 + lam)) U^T y
    (s padded with zeros to n) and P_null = V_0 V_0^T come from the known SVD. alpha errs by
    eps * cond * |alpha|: forming K = X X^T perturbs it by eps sigma_max^2, which moves alpha by
    at most |(K + lam I)^{-1}| eps sigma_max^2 |alpha| = eps (cond - 1) |alpha|.
    """
    check = Check(COMBO, backend)
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    model = kernel_ridge_fit(X, y, lam, kernel="linear", form="dual")
    assert model.form == "dual" and tuple(model.alpha.shape) == (problem.n,)
    w = ridge(X, y, lam)
    cond, scale = _ridge_cond(problem, lam), _ridge_scale(problem, lam, problem.y)
    s2 = np.zeros(problem.n)
    s2[: problem.rank] = problem.svals**2
    alpha_ref = problem.U @ ((problem.U.T @ problem.y) / (s2 + lam))
    with clause("a"):
        check.assert_close(
            model.alpha,
            alpha_ref,
            cond=cond,
            scale=float(np.linalg.norm(alpha_ref)),
            what="alpha vs (X X^T + lam I)^{-1} y",
        )
        check.assert_close(
            X.T @ model.alpha,
            w,
            cond=cond,
            scale=scale,
            what="X^T alpha vs ridge",
        )
    V0 = problem.V[:, problem.rank :]
    with clause("b"):
        check.assert_close(
            V0 @ (V0.T @ backend.to_numpy(w)),
            np.zeros(problem.d),
            cond=cond,
            scale=scale,
            what="P_null w_lam",
        )


@claim(GRAM)
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(1, 12), d=(1, 12), rank="any"), seed=seeds)
def test_gram_matrix_holds_inner_products_between_points(backend, problem, seed):
    """linear_kernel(X, X)[i, j] = <x_i, x_j>, symmetric and PSD with v^T K v = |X^T v|^2;
    linear_kernel(X^T, X^T)[k, l] = <X[:, k], X[:, l]> is the d x d feature Gram.

    Each entry is a length-d dot product (error d eps |x_i| |x_j|); a feature entry a length-n one
    (error n eps |X_k| |X_l|). v^T K v sums n^2 entries of size <= sigma_max^2 |v_i| |v_j|: error
    (n + d) eps sigma_max^2 |v|^2. The eigenvalues of a PSD matrix computed by a backward-stable
    eigensolver are >= -dim eps |K| (Weyl).
    """
    check = Check(GRAM, backend)
    X = backend.asarray(problem.X)
    K = linear_kernel(X, X)
    rows = np.linalg.norm(problem.X, axis=1)
    i, j = np.random.default_rng(seed).integers(0, problem.n, 2)
    K_np = backend.to_numpy(K)
    with clause("a"):
        assert tuple(K.shape) == (problem.n, problem.n)
        check.assert_close(
            np.array(K_np[i, j]),
            np.array(problem.X[i] @ problem.X[j]),
            scale=float(rows[i] * rows[j]),
            dim=problem.d,
            what=f"K[{i}, {j}] vs <x_i, x_j>",
        )
    cols = np.linalg.norm(problem.X, axis=0)
    p, q = np.random.default_rng(seed + 1).integers(0, problem.d, 2)
    F_np = backend.to_numpy(linear_kernel(X.T, X.T))
    with clause("c"):
        assert tuple((X.T @ X).shape) == F_np.shape == (problem.d, problem.d)
        check.assert_close(
            np.array(F_np[p, q]),
            np.array(problem.X[:, p] @ problem.X[:, q]),
            scale=float(cols[p] * cols[q]),
            dim=problem.n,
            what=f"(X^T X)[{p}, {q}] vs <X[:, {p}], X[:, {q}]>",
        )
    v = np.random.default_rng(seed + 2).standard_normal(problem.n)
    lowest = float(np.min(eigvalsh64(backend, K)))
    with clause("b"):
        check.assert_close(
            np.array(v @ K_np @ v),
            np.array(np.linalg.norm(problem.X.T @ v) ** 2),
            scale=problem.sigma_max**2 * float(v @ v),
            dim=problem.n + problem.d,
            what="v^T K v vs |X^T v|^2",
        )
        check.assert_close(
            K_np,
            K_np.T,
            scale=problem.sigma_max**2,
            dim=problem.d,
            what="K vs K^T",
        )
        check.assert_close(
            np.array(min(lowest, 0.0)),
            np.array(0.0),
            scale=problem.sigma_max**2,
            dim=problem.n + problem.d,
            what="negative part of the smallest eigenvalue",
        )


@claim(GRAM)
@pytest.mark.parametrize("backend", backend_params())
def test_feature_gram_is_not_the_point_gram(backend):
    """X = [[1, 1], [0, 0]] (n = d = 2): the points are x_1 = (1, 1), x_2 = 0, so the table of
    inner products between points is [[2, 0], [0, 0]], while X^T X = [[1, 1], [1, 1]] holds the
    inner products of the two (equal) feature columns. Reading X^T X as the point Gram would give
    <x_1, x_2> = 1 instead of 0. All entries are exact small integers in every dtype."""
    X = backend.asarray(np.array([[1.0, 1.0], [0.0, 0.0]]))
    points = backend.to_numpy(linear_kernel(X, X))
    features = backend.to_numpy(linear_kernel(X.T, X.T))
    with clause("d"):
        assert np.array_equal(points, np.array([[2.0, 0.0], [0.0, 0.0]]))
        assert np.array_equal(features, np.array([[1.0, 1.0], [1.0, 1.0]]))
        assert features[0, 1] != points[0, 1]


def _degree2_features(X: np.ndarray, gamma: float, coef0: float) -> np.ndarray:
    """phi with phi(x)^T phi(z) = (gamma x^T z + coef0)^2 (an independent float64 oracle)."""
    n, d = X.shape
    cols = [np.full(n, coef0), *(np.sqrt(2 * coef0 * gamma) * X[:, i] for i in range(d))]
    for i in range(d):
        for j in range(i, d):
            f = 1.0 if i == j else np.sqrt(2.0)
            cols.append(f * gamma * X[:, i] * X[:, j])
    return np.stack(cols, axis=1)


def _kernel_scale(K_test: np.ndarray, K: np.ndarray, y: np.ndarray, lam: float):
    """Prediction error model: K_test (K + lam I)^{-1} y has condition (|K| + lam) / lam and scale
    |K_test| |alpha| + |K_test| |y| / (|K| + lam) (the rounding floor of the right-hand side)."""
    top = float(np.linalg.norm(K, 2))
    alpha = np.linalg.solve(K + lam * np.eye(len(K)), y)
    kt = float(np.linalg.norm(K_test, 2))
    return (top + lam) / lam, kt * float(np.linalg.norm(alpha)) + kt * float(np.linalg.norm(y)) / (
        top + lam
    )


@claim(SUBST)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 6), rank="any"),
    lam=log_uniform(1e-3, 1e3),
    gamma=log_uniform(0.1, 2.0),
    coef0=st.floats(0.0, 2.0),
    seed=seeds,
)
def test_kernel_ridge_equals_ridge_on_the_feature_map(backend, problem, lam, gamma, coef0, seed):
    """Linear kernel: kernel ridge predictions equal ridge's, in both forms (auto picks the d x d
    primal exactly when d < n). Degree-2 polynomial kernel: predictions equal ridge on the explicit
    features phi(X) (oracle in float64). Error model: `_kernel_scale`.
    """
    check = Check(SUBST, backend)
    rng = np.random.default_rng(seed)
    Xt_np = rng.standard_normal((4, problem.d))
    X, y, Xt = (backend.asarray(a) for a in (problem.X, problem.y, Xt_np))
    auto = kernel_ridge_fit(X, y, lam)
    assert auto.form == ("primal" if problem.d < problem.n else "dual")
    w_ref = _svd_ridge(problem, lam, problem.y)
    cond = _ridge_cond(problem, lam)
    scale = float(np.linalg.norm(Xt_np, 2)) * _ridge_scale(problem, lam, problem.y)
    for form in ("primal", "dual"):
        model = kernel_ridge_fit(X, y, lam, kernel="linear", form=form)
        with clause("a"):
            check.assert_close(
                kernel_ridge_predict(model, Xt),
                Xt_np @ w_ref,
                cond=cond,
                scale=scale,
                what=f"linear kernel ({form}) vs ridge predictions",
            )
    model = kernel_ridge_fit(X, y, lam, kernel="polynomial", degree=2, gamma=gamma, coef0=coef0)
    F, Ft = _degree2_features(problem.X, gamma, coef0), _degree2_features(Xt_np, gamma, coef0)
    K, K_test = F @ F.T, Ft @ F.T
    expected = Ft @ np.linalg.solve(F.T @ F + lam * np.eye(F.shape[1]), F.T @ problem.y)
    kcond, kscale = _kernel_scale(K_test, K, problem.y, lam)
    # k(x_i, x_j) = (gamma <x_i, x_j> + c0)^2 against phi(x_i)^T phi(x_j): each side sums O(d^2)
    # terms of size <= (gamma |x_i| |x_j| + c0)^2, so the error is dim eps times that scale
    rows = np.linalg.norm(problem.X, axis=1)
    with clause("b"):
        check.assert_close(
            polynomial_kernel(X, X, degree=2, gamma=gamma, coef0=coef0),
            K,
            scale=float((gamma * np.max(rows) ** 2 + coef0) ** 2),
            dim=(problem.d + 1) ** 2,
            what="polynomial kernel vs phi(X) phi(X)^T",
        )
        check.assert_close(
            kernel_ridge_predict(model, Xt),
            expected,
            cond=kcond,
            scale=kscale,
            dim=problem.n + F.shape[1],
            what="polynomial kernel vs ridge on phi(X)",
        )


@claim(SUBST)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 6), rank="any"),
    lam=log_uniform(1e-3, 1e3),
    gamma=log_uniform(0.1, 10.0),
)
@example(problem=make_problem(n=3, d=5, svals=[1.9, 1.89999987], seed=243), lam=1e-3, gamma=10.0)
def test_rbf_kernel_ridge_is_well_posed(backend, problem, lam, gamma):
    """RBF kernel: K is PSD, so eig(K + lam I) >= lam up to rounding (Weyl: dim eps (|K| + lam)),
    and the returned alpha solves (K + lam I) alpha = y to a backward-stable residual.

    The fit forms K from the Gram matrix, this test from `rbf_kernel`: both round the squared
    distance s by at most 4 (d + 2) eps R^2 (R the largest row norm), so each entry exp(-gamma s)
    differs by up to gamma 8 (d + 2) eps R^2 between the two, and |(K - K_fit) alpha| by n times
    that |alpha|; this term is added to the residual's scale (sweep seed 1127345608: gamma = 10,
    float32, where it dominates)."""
    check = Check(SUBST, backend)
    xp = backend.xp
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    K = rbf_kernel(X, X, gamma=gamma)
    n = problem.n
    A = K + lam * xp.eye(n, dtype=X.dtype, device=device_of(X))
    top = float(np.linalg.norm(backend.to_numpy(A), 2))
    lowest = float(np.min(eigvalsh64(backend, A)))
    with clause("c"):
        check.assert_close(
            np.array(min(lowest - lam, 0.0)),
            np.array(0.0),
            scale=top,
            dim=n + problem.d,
            what="lam - lambda_min(K + lam I), positive part",
        )
    model = kernel_ridge_fit(X, y, lam, kernel="rbf", gamma=gamma)
    alpha = model.alpha
    R2 = float(np.max(np.sum(problem.X**2, axis=1)))
    with clause("c"):
        check.assert_close(
            A @ alpha,
            problem.y,
            scale=(top + gamma * 8 * (problem.d + 2) * R2)
            * float(np.linalg.norm(backend.to_numpy(alpha)))
            + float(np.linalg.norm(problem.y)),
            dim=n,
            what="(K + lam I) alpha vs y",
        )


@claim(SUBST)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 6), rank="any"),
    lam=log_uniform(1e-3, 1e3),
    kernel=st.sampled_from(["linear", "polynomial", "rbf"]),
    degree=st.integers(1, 3),
    gamma=log_uniform(0.1, 2.0),
    coef0=st.floats(0.0, 2.0),
    seed=seeds,
)
def test_kernel_ridge_matches_sklearn(backend, problem, lam, kernel, degree, gamma, coef0, seed):
    """Differential check against sklearn.kernel_ridge.KernelRidge (float64, Cholesky solve).

    sklearn's conventions are the same formulas: alpha = lam, polynomial (gamma x^T z + coef0)^p,
    rbf exp(-gamma |x - z|^2); gamma is passed explicitly because sklearn's default is 1/d. Error
    model: `_kernel_scale` on sklearn's own kernel matrices.
    """
    check = Check(SUBST, backend)
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.metrics.pairwise import pairwise_kernels

    Xt_np = np.random.default_rng(seed).standard_normal((5, problem.d))
    params = {
        "linear": {},
        "polynomial": {"degree": degree, "gamma": gamma, "coef0": coef0},
        "rbf": {"gamma": gamma},
    }[kernel]
    ref = KernelRidge(alpha=lam, kernel=kernel, **params).fit(problem.X, problem.y).predict(Xt_np)
    X, y, Xt = (backend.asarray(a) for a in (problem.X, problem.y, Xt_np))
    got = kernel_ridge_predict(kernel_ridge_fit(X, y, lam, kernel=kernel, **params), Xt)
    K = pairwise_kernels(problem.X, metric=kernel, **params)
    K_test = pairwise_kernels(Xt_np, problem.X, metric=kernel, **params)
    cond, scale = _kernel_scale(K_test, K, problem.y, lam)
    with clause("d"):
        check.assert_close(
            got,
            ref,
            cond=cond,
            scale=scale,
            dim=problem.n + problem.d,
            what=f"dlcore vs sklearn KernelRidge ({kernel})",
        )


@claim(SUBST, breaks="polynomial kernel with c0 < 0: no feature map")
@pytest.mark.parametrize("backend", backend_params())
def test_polynomial_kernel_with_negative_offset_has_no_feature_map(backend):
    """(gamma x^T z + c0)^2 with gamma = 1, c0 = -1 at the points 0 and 1 in one dimension: K =
    [[1, 1], [1, 0]] (exact), with determinant -1, so K has a negative eigenvalue and cannot be
    phi(X) phi(X)^T for any feature map phi. The same points with c0 = 1 give [[1, 1], [1, 4]],
    PSD (determinant 3 > 0, trace 5 > 0), which dlcore's polynomial_kernel returns exactly;
    dlcore refuses c0 < 0."""
    x = np.array([[0.0], [1.0]])
    K_bad = (x @ x.T - 1.0) ** 2
    assert np.array_equal(K_bad, np.array([[1.0, 1.0], [1.0, 0.0]]))
    assert np.linalg.det(K_bad) == -1.0  # LU of [[1, 1], [1, 0]]: pivots 1 and -1, exact
    X = backend.asarray(x)
    K_ok = backend.to_numpy(polynomial_kernel(X, X, degree=2, gamma=1.0, coef0=1.0))
    assert np.array_equal(K_ok, np.array([[1.0, 1.0], [1.0, 4.0]]))
    with pytest.raises(ValueError, match="coef0"):
        polynomial_kernel(X, X, degree=2, gamma=1.0, coef0=-1.0)


@claim(SUBST, breaks="a symmetric similarity that is not PSD")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=regression_problems(n=(2, 12), d=(1, 6), rank="any"), u=st.floats(0.05, 0.95))
def test_non_psd_similarity_is_not_a_kernel(backend, problem, u):
    """K_ij = -|x_i - x_j| is symmetric but not PSD; for lam < max_ij |x_i - x_j| the matrix
    K + lam I is indefinite (the Rayleigh quotient at (e_i + e_j)/sqrt2 is lam - D_ij < 0), so the
    dual objective is unbounded below and kernel_ridge refuses it instead of returning a solution.
    """
    host_check = Check(SUBST, HOST)
    D = np.linalg.norm(problem.X[:, None, :] - problem.X[None, :, :], axis=-1)
    i, j = np.unravel_index(np.argmax(D), D.shape)
    lam = u * float(D[i, j])
    v = np.zeros(problem.n)
    v[i], v[j] = 1 / np.sqrt(2), 1 / np.sqrt(2)
    # the quadratic form sums n^2 products of entries <= lam + D_max with weights v_k v_l (two
    # nonzero, 1/sqrt2 each, rounded by u): at most 2 n u (lam + D_max) off, as is lam - D_ij
    quad = v @ (-D + lam * np.eye(problem.n)) @ v
    # (4 n eps = identity's 4 x n x eps, at scale lam + D_max)
    host_check.assert_entrywise(
        quad, lam - D[i, j], kind="identity", dim=problem.n, scale=lam + float(D.max())
    )
    assert lam - D[i, j] < 0
    with pytest.raises(ValueError, match="positive semi-definite"):
        kernel_ridge(backend.asarray(-D), backend.asarray(problem.y), lam)


@claim(PREDICT)
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=regression_problems(n=(1, 12), d=(1, 12), rank="any"),
    lam=log_uniform(1e-3, 1e3),
    m=st.integers(1, 6),
    seed=seeds,
)
def test_prediction_needs_only_inner_products(backend, problem, lam, m, seed):
    """X_test @ ridge equals linear_kernel(X_test, X) @ alpha, the batch prediction
    kernel_ridge_predict equals K(X_test, X) alpha and the float64 SVD oracle X_test w, and one
    point predicts its own row.

    alpha comes from the n x n dual; the weights from the d x d primal. Error model as in
    test_primal_equals_dual, times |X_test|.
    """
    check = Check(PREDICT, backend)
    Xt_np = np.random.default_rng(seed).standard_normal((m, problem.d))
    X, y, Xt = (backend.asarray(a) for a in (problem.X, problem.y, Xt_np))
    model = kernel_ridge_fit(X, y, lam, form="dual")
    via_kernel = linear_kernel(Xt, X) @ model.alpha
    cond = _ridge_cond(problem, lam)
    scale = float(np.linalg.norm(Xt_np, 2)) * _ridge_scale(problem, lam, problem.y)
    with clause("a"):
        check.assert_close(
            Xt @ ridge(X, y, lam),
            via_kernel,
            cond=cond,
            scale=scale,
            what="x^T w vs k(x)^T alpha",
        )
    batch = backend.to_numpy(kernel_ridge_predict(model, Xt))
    oracle = Xt_np @ _svd_ridge(problem, lam, problem.y)
    for got, what in ((via_kernel, "K(X_test, X) alpha"), (batch, "kernel_ridge_predict")):
        with clause("a", "b"):
            check.assert_close(
                got,
                oracle,
                cond=cond,
                scale=scale,
                what=f"{what} vs X_test w (SVD oracle)",
            )
    for k in range(m):
        one = backend.to_numpy(kernel_ridge_predict(model, Xt[k : k + 1, :]))
        with clause("b"):
            check.assert_close(
                one,
                batch[k : k + 1],
                cond=cond,
                scale=scale,
                what=f"point {k} alone vs its row of the batch",
            )


# ---- breaking cases (issue 11) ----


def _null_direction(problem, seed: int) -> np.ndarray:
    """A unit vector in null(X), from the known SVD (d > rank, so null(X) is nontrivial)."""
    V0 = problem.V[:, problem.rank :]
    g = np.random.default_rng(seed).standard_normal(V0.shape[1])
    return V0 @ (g / np.linalg.norm(g))


def _min_norm(problem) -> np.ndarray:
    """X^+ y from the known SVD (float64 oracle)."""
    r = problem.rank
    return problem.V[:, :r] @ ((problem.U[:, :r].T @ problem.y) / problem.svals)


WIDE_FULL = regression_problems(n=(1, 8), d=(2, 12), shape="wide", max_cond=10.0)
"""Wide problems of full row rank: at lam = 0 the dual n x n system is nonsingular."""


@claim(COMBO, breaks="lambda = 0 with d > n: least-squares minimisers off the row space")
@pytest.mark.parametrize("backend", backend_params())
@given(problem=WIDE_FULL, beta=st.floats(0.5, 2.0), seed=seeds)
def test_unregularised_minimisers_leave_the_row_space(backend, problem, beta, seed):
    """With lam = 0 and d > n the objective ||Xw - y||^2 has a whole affine set of minimisers,
    X^+ y + null(X). w = X^+ y + beta u (u a unit vector of null(X)) attains the minimum 0 (dlcore's
    ridge_objective at lam = 0 is 0 up to rounding at both w and X^+ y), yet its null-space
    component, by dlcore's null_space_projector, is beta u, of norm beta >= 0.5: this minimiser
    is not X^T alpha for any alpha. dlcore's primal ridge refuses lam = 0 (X^T X singular).
    Tolerances: the objective is ||r||^2 with ||r|| a product's rounding, <= tol (||X|| ||w|| +
    ||y||); the projector is pinv-based, condition cond(X)."""
    check = Check(COMBO, backend)
    u = _null_direction(problem, seed)
    w_mn = _min_norm(problem)
    w = w_mn + beta * u
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    with pytest.raises(ValueError, match="singular"):
        ridge(X, y, 0.0)
    tol = check.tolerance(kind="identity", dim=problem.n + problem.d)
    for what, v in (("X^+ y", w_mn), ("X^+ y + beta u", w)):
        r_bound = tol * (problem.sigma_max * float(np.linalg.norm(v)) + np.linalg.norm(problem.y))
        J = float(backend.to_numpy(ridge_objective(backend.asarray(v), X, y, 0.0)))
        assert 0.0 <= J <= r_bound**2, (what, J, r_bound)
    P_null_w = backend.to_numpy(null_space_projector(X) @ backend.asarray(w))
    check.assert_close(
        P_null_w,
        beta * u,
        cond=problem.cond,
        scale=float(np.linalg.norm(w)),
        what="P_null w",
    )
    reach = check.tolerance(kind="invariant", cond=problem.cond, dim=problem.d)
    assert np.linalg.norm(P_null_w) >= beta - reach * float(np.linalg.norm(w)), P_null_w


@claim(PREDICT, breaks="lambda = 0 with d > n: a minimiser that inner products cannot see")
@pytest.mark.parametrize("backend", backend_params())
@given(
    problem=WIDE_FULL,
    beta=st.floats(0.5, 2.0),
    mu=st.floats(0.5, 2.0),
    seed=seeds,
)
@example(problem=make_problem(n=1, d=11, svals=[1.0], seed=0), beta=1.0, mu=1.0, seed=0)
def test_unregularised_prediction_is_not_a_function_of_inner_products(
    backend, problem, beta, mu, seed
):
    """lam = 0, d > n, X of full row rank. x = P_row z and x' = x + mu u (u a unit vector of
    null(X)) have the same inner products with every training point, X x' = X x, so dlcore's
    kernel prediction k(x')^T alpha (kernel_ridge_fit in dual form at lam = 0, then
    kernel_ridge_predict) equals x^T X^+ y (`assert_close`, condition cond(X)^2 of X X^T).
    w = X^+ y + beta u is also a least-squares minimiser (dlcore's ridge_objective at lam = 0 is
    0 up to rounding), and predicts x'^T w = x^T X^+ y + mu beta at x': it differs from the
    prediction through inner products by mu beta >= 0.25, against the prediction's rounding
    tol * scale (the claim test's error model)."""
    host_check = Check(PREDICT, HOST)
    check = Check(PREDICT, backend)
    rng = np.random.default_rng(seed)
    u = _null_direction(problem, seed)
    w_mn = _min_norm(problem)
    w = w_mn + beta * u
    r = problem.rank
    Vr = problem.V[:, :r]
    x = Vr @ (Vr.T @ rng.standard_normal(problem.d))
    x2 = x + mu * u
    X, y = backend.asarray(problem.X), backend.asarray(problem.y)
    tol = check.tolerance(kind="identity", dim=problem.n + problem.d)
    r_bound = tol * (problem.sigma_max * float(np.linalg.norm(w)) + np.linalg.norm(problem.y))
    J = float(backend.to_numpy(ridge_objective(backend.asarray(w), X, y, 0.0)))
    assert 0.0 <= J <= r_bound**2, (J, r_bound)
    model = kernel_ridge_fit(X, y, 0.0, kernel="linear", form="dual")
    Xt = backend.asarray(np.stack([x, x2]))
    via_kernel = backend.to_numpy(kernel_ridge_predict(model, Xt))
    cond = problem.cond**2
    scale = float(np.linalg.norm(x2)) * (
        float(np.linalg.norm(w_mn)) + float(np.linalg.norm(problem.y)) / problem.sigma_max
    )
    inner = float(x @ w_mn)
    check.assert_close(
        via_kernel,
        np.array([inner, inner]),
        cond=cond,
        scale=scale,
        what="k(x)^T alpha and k(x')^T alpha vs x^T X^+ y",
    )
    minimiser = float(x2 @ w)  # float64, test side: x^T X^+ y + mu beta (x, w_mn are _|_ u)
    # the kernel path's rounding (as checked above) plus that of the float64 oracle's dot product
    rounding = check.tolerance(kind="identity", cond=cond, dim=2) * scale
    rounding += host_check.tolerance(kind="identity", dim=problem.d) * float(
        np.linalg.norm(x2) * np.linalg.norm(w)
    )
    assert mu * beta > 2 * rounding, (mu * beta, rounding)  # the construction leaves room
    assert abs(minimiser - via_kernel[1]) >= mu * beta - rounding, (minimiser, via_kernel)
