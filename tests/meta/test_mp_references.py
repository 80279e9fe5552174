r"""Meta-test: the mpmath oracles of the contract test's scale checks agree with NumPy at unit scale.

`tests/support/mp_references.py` is the reference the scale checks trust. At unit scale, on the
contracts' own valid calls (well conditioned, condition number at most about 4), a plain NumPy
float64 computation of the same quantity is within Higham's backward-stable bound
$4(n+d)d\kappa^2\varepsilon \le 675\varepsilon$ (`tests/api/test_contract.py`), so the two must
agree within $4096\varepsilon$ relative to the largest entry (the oracle adds one rounding); a
wrong formula in an oracle is off by order 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import mp_references as mpr
from tests.support.contracts import CONTRACTS


def _log_softmax(kw):
    z = kw["z"]
    zmax = np.max(z, axis=-1, keepdims=True)
    return (z - zmax) - np.log(np.sum(np.exp(z - zmax), axis=-1, keepdims=True))


def _pinv(kw):
    return np.linalg.pinv(kw["X"])


NUMPY = {
    mpr.ridge: lambda kw: np.linalg.solve(
        kw["X"].T @ kw["X"] + kw["lam"] * np.eye(kw["X"].shape[1]), kw["X"].T @ kw["y"]
    ),
    mpr.min_norm_solution: lambda kw: np.linalg.lstsq(kw["X"], kw["y"], rcond=None)[0],
    mpr.row_space_projector: lambda kw: _pinv(kw) @ kw["X"],
    mpr.null_space_projector: lambda kw: np.eye(kw["X"].shape[1]) - _pinv(kw) @ kw["X"],
    mpr.kernel_ridge: lambda kw: np.linalg.solve(
        kw["K"] + kw["lam"] * np.eye(len(kw["K"])), kw["y"]
    ),
    mpr.rbf_kernel: lambda kw: np.exp(
        -kw["gamma"] * np.sum((kw["A"][:, None, :] - kw["B"][None, :, :]) ** 2, axis=-1)
    ),
    mpr.ridge_filter_factors: lambda kw: kw["s"] ** 2 / (kw["s"] ** 2 + kw["lam"]),
    mpr.log_softmax: _log_softmax,
    mpr.softmax: lambda kw: np.exp(_log_softmax(kw)),
    mpr.mode_eigenvalues: lambda kw: tuple(
        sorted(
            (complex(z) for z in np.roots([1.0, -kw["trace"], kw["det"]])),
            key=lambda z: (z.real, z.imag),
        )
    ),
    mpr.standardize: lambda kw: (kw["X"] - kw["X"].mean(axis=0)) / kw["X"].std(axis=0),
    mpr.spectral_radius: lambda kw: float(np.max(np.abs(np.linalg.eigvals(kw["M"])))),
    mpr.kink_location: lambda kw: -kw["b"] / kw["w"],
}


def test_every_oracle_is_cross_checked() -> None:
    used = {c.reference for c in CONTRACTS.values() if c.reference is not None}
    assert used <= set(NUMPY), f"oracles without a NumPy cross-check: {used - set(NUMPY)}"
    assert {getattr(mpr, n) for n in mpr.__all__} == set(NUMPY)


@pytest.mark.parametrize("name", sorted(n for n, c in CONTRACTS.items() if c.reference is not None))
def test_oracle_agrees_with_numpy_at_unit_scale(name: str) -> None:
    contract = CONTRACTS[name]
    kw = contract.valid(np.random.default_rng(0))
    got = np.asarray(contract.reference(kw))
    want = np.asarray(NUMPY[contract.reference](kw))
    assert got.shape == want.shape
    scale = float(np.max(np.abs(want)))
    assert float(np.max(np.abs(got - want))) <= 4096 * np.finfo(np.float64).eps * scale
