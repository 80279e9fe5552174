r"""dlcore: a small, readable implementation of an introductory deep-learning course.

Every module is written against the array API standard and runs on NumPy, torch (CPU and CUDA)
and `array_api_strict`. Importing dlcore needs NumPy and array-api-compat only.

Modules, bottom to top: [`backend`][dlcore.backend]; [`linear`][dlcore.linear],
[`kernels`][dlcore.kernels], [`losses`][dlcore.losses], [`init`][dlcore.init];
[`mlp`][dlcore.mlp], [`constructions`][dlcore.constructions]; [`optim`][dlcore.optim], [`dynamics`][dlcore.dynamics];
[`data`][dlcore.data], [`train`][dlcore.train].
"""

from dlcore import (
    backend,
    constructions,
    data,
    dynamics,
    init,
    kernels,
    linear,
    losses,
    mlp,
    optim,
    train,
)

__all__ = [
    "backend",
    "constructions",
    "data",
    "dynamics",
    "init",
    "kernels",
    "linear",
    "losses",
    "mlp",
    "optim",
    "train",
]
__version__ = "0.1.0"
