r"""dlcore's initialisers drawn by `torch.nn.init`.

Each initialiser fills a torch tensor in torch's own layout, `(d_out, d_in)` (that of
`nn.Linear.weight`), where torch's `mode="fan_in"` reads `d_in`, and returns its transpose, dlcore's
`(d_in, d_out)`:

| dlcore | `torch.nn.init` |
|---|---|
| `he_normal` / `he_uniform` | `kaiming_normal_` / `kaiming_uniform_` (`mode="fan_in"`, `nonlinearity="relu"`) |
| `lecun_normal` / `lecun_uniform` | `kaiming_normal_` / `kaiming_uniform_` (`mode="fan_in"`, `nonlinearity="linear"`) |
| `glorot_normal` / `glorot_uniform` | `xavier_normal_` / `xavier_uniform_` (gain 1) |

The randomness is torch's: a `torch.Generator` on the CPU seeded with one draw from `rng`, so one
`rng` state still gives the same weights on every backend. The draw is in float64 and moved
with `asarray(..., like=like)`. `variance`, `kink_location` and `kink_mass` are dlcore's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from dlcore.backend import Array, asarray, contract

from ._reference import load

_ref = load("init")
variance = _ref.variance
kink_location = _ref.kink_location
kink_mass = _ref.kink_mass

__all__ = list(_ref.__all__)  # dlcore's API, name for name

_TORCH = {
    "he_normal": ("kaiming_normal_", {"mode": "fan_in", "nonlinearity": "relu"}),
    "he_uniform": ("kaiming_uniform_", {"mode": "fan_in", "nonlinearity": "relu"}),
    "lecun_normal": ("kaiming_normal_", {"mode": "fan_in", "nonlinearity": "linear"}),
    "lecun_uniform": ("kaiming_uniform_", {"mode": "fan_in", "nonlinearity": "linear"}),
    "glorot_normal": ("xavier_normal_", {}),
    "glorot_uniform": ("xavier_uniform_", {}),
}


def _torch_init(name: str) -> Callable[..., Array]:
    reference = getattr(_ref, name)
    fn_name, kwargs = _TORCH[name]

    def draw(
        d_in: int, d_out: int, *, rng: np.random.Generator, like: Array | None = None
    ) -> Array:
        import torch

        gen = torch.Generator().manual_seed(int(rng.integers(2**63)))
        weight = torch.empty(d_out, d_in, dtype=torch.float64)  # nn.Linear.weight's layout
        getattr(torch.nn.init, fn_name)(weight, generator=gen, **kwargs)
        w = weight.T.contiguous().numpy()
        return w if like is None else asarray(w, like=like)

    draw.__name__ = draw.__qualname__ = name
    source = inspect.cleandoc(reference.__wrapped__.__doc__)  # contract adds the Raises clauses
    draw.__doc__ = f"{source}\n\nDrawn by `torch.nn.init.{fn_name}`{_args(kwargs)}."
    return contract(reference.__contract__)(draw)  # dlcore's argument checks and messages


def _args(kwargs: dict[str, Any]) -> str:
    return "" if not kwargs else "(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


he_normal = _torch_init("he_normal")
he_uniform = _torch_init("he_uniform")
lecun_normal = _torch_init("lecun_normal")
lecun_uniform = _torch_init("lecun_uniform")
glorot_normal = _torch_init("glorot_normal")
glorot_uniform = _torch_init("glorot_uniform")


def __getattr__(name: str) -> Any:
    """Everything else (private helpers that dlcore's other modules import) is dlcore's."""
    return getattr(_ref, name)
