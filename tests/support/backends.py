"""The discrete test axes: array library, device and dtype, and the example budget of each.

A test takes the `backend` fixture (parametrized over `BACKENDS`), builds its inputs in NumPy
float64 from Hypothesis draws, and moves them with `backend.asarray`. The reference combination
(NumPy, float64) runs the profile's full example count; the others run the fraction
`EXAMPLE_FRACTION[profile][backend.id]` of it (conftest applies it, in one place).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pytest

from dlcore.backend import to_numpy

__all__ = [
    "Backend",
    "BACKENDS",
    "CPU_BACKENDS",
    "EXAMPLE_FRACTION",
    "HOST",
    "backend_params",
    "eigvalsh64",
    "has_cuda",
]

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_STRICT = importlib.util.find_spec("array_api_strict") is not None


def has_cuda() -> bool:
    """True when torch is installed and sees a CUDA device."""
    if not HAS_TORCH:
        return False
    import torch

    return bool(torch.cuda.is_available())


@dataclass(frozen=True)
class Backend:
    """One (library, device, dtype) combination."""

    library: str  # "numpy" | "torch" | "array_api_strict"
    device: str  # "cpu" | "cuda"
    dtype_name: str  # "float64" | "float32"

    @property
    def id(self) -> str:
        dev = f"-{self.device}" if self.library == "torch" else ""
        return f"{self.library}{dev}-{self.dtype_name}"

    @cached_property
    def xp(self) -> Any:
        if self.library == "numpy":
            import array_api_compat.numpy as xp
        elif self.library == "torch":
            import array_api_compat.torch as xp
        else:
            import array_api_strict as xp
        return xp

    @property
    def dtype(self) -> Any:
        return getattr(self.xp, self.dtype_name)

    @property
    def eps(self) -> float:
        return float(np.finfo(self.dtype_name).eps)

    def asarray(self, x: Any) -> Any:
        """Move a NumPy array (or anything NumPy converts) to this backend."""
        host = np.asarray(x, dtype=self.dtype_name)
        if self.library == "torch":
            import torch

            return torch.as_tensor(host, device=self.device)
        return self.xp.asarray(host)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(to_numpy(x), dtype=np.float64)

    def __str__(self) -> str:
        return self.id


BACKENDS: tuple[Backend, ...] = (
    Backend("numpy", "cpu", "float64"),
    Backend("numpy", "cpu", "float32"),
    Backend("torch", "cpu", "float64"),
    Backend("torch", "cpu", "float32"),
    Backend("array_api_strict", "cpu", "float64"),
    Backend("torch", "cuda", "float64"),
    Backend("torch", "cuda", "float32"),
)
CPU_BACKENDS = tuple(b for b in BACKENDS if b.device == "cpu")
REFERENCE = BACKENDS[0]
# The host: NumPy float64, the backend of every check computed test-side (closed forms, float64
# oracles, identities of the tests' own helpers). It is the reference combination, so a host check
# states its tolerance in float64's eps and names numpy-float64 in a failure.
HOST: Backend = REFERENCE

# Fraction of the profile's max_examples that each combination runs. The reference gets all of
# them; array_api_strict is a compliance check (does the code stay inside the standard?), not a
# numerical one, and it is ~20x slower per operation, so a handful of examples is enough there.
EXAMPLE_FRACTION: dict[str, dict[str, float]] = {
    "dev": {
        "numpy-float64": 1.0,
        "numpy-float32": 0.5,
        "torch-cpu-float64": 0.5,
        "torch-cpu-float32": 0.5,
        "array_api_strict-float64": 0.1,
        "torch-cuda-float64": 0.5,
        "torch-cuda-float32": 0.5,
    },
    "ci": {
        "numpy-float64": 1.0,
        "numpy-float32": 0.4,
        "torch-cpu-float64": 0.4,
        "torch-cpu-float32": 0.4,
        "array_api_strict-float64": 0.1,
        "torch-cuda-float64": 0.5,
        "torch-cuda-float32": 0.5,
    },
    "thorough": {},  # every combination at the full count
}


def backend_params(
    backends: tuple[Backend, ...] = BACKENDS, *, float64_only: bool = False
) -> list[Any]:
    """`pytest.param`s for `backends`, with the `cuda` marker and clean skips where unavailable."""
    out = []
    for b in backends:
        if float64_only and b.dtype_name != "float64":
            continue
        marks: list[Any] = []
        if b.device == "cuda":
            marks += [pytest.mark.cuda, pytest.mark.skipif(not has_cuda(), reason="no CUDA device")]
        if b.library == "torch" and not HAS_TORCH:
            marks.append(pytest.mark.skip(reason="torch is not installed"))
        if b.library == "array_api_strict" and not HAS_STRICT:
            marks.append(pytest.mark.skip(reason="array_api_strict is not installed"))
        out.append(pytest.param(b, id=b.id, marks=marks))
    return out


def eigvalsh64(backend: Backend, A: Any) -> np.ndarray:
    """The eigenvalues of the symmetric matrix `A` that `backend` formed, computed by NumPy in
    float64 (ascending).

    A test's eigenvalues are an oracle, so they do not come from the backend's own solver: torch's
    float32 `eigvalsh` returned NaN for a finite rank-1 43 x 43 matrix (counterexample ledger,
    implicit-bias, seed 4132611193). The rounding of forming `A` in the backend's dtype is kept;
    the float64 solver adds only about dim * 1e-16 * |A|.
    """
    return np.linalg.eigvalsh(np.asarray(backend.to_numpy(A), dtype=np.float64))
