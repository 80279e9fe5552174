r"""dlcore with PyTorch inside: `torch.optim` optimizers and `torch.nn.init` initialisers behind
dlcore's API, everything else the repository's dlcore.

This package's [`optim`][dlcore.optim] and [`init`][dlcore.init] come from this folder; every
other module (`backend`, `linear`, `mlp`, ...) is loaded from the repository's `dlcore/`, which
this file appends to the package's `__path__`. A reference module that imports
`from dlcore import init` or `from dlcore.optim import step` therefore gets the torch versions,
so `dlcore.mlp.init_mlp` draws with `torch.nn.init` and `dlcore.train.run` steps with
`torch.optim`. Run the lecture's claims on it with
`python tools/conformance.py adapters/torch` (see `adapters/torch/README.md`).
"""

import importlib
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[3] / "dlcore"
"""The repository's dlcore package, where every module not defined here is loaded from."""

if not (REFERENCE / "backend.py").is_file():  # pragma: no cover - a moved adapter
    raise ImportError(f"the torch adapter needs the repository's dlcore at {REFERENCE}")
__path__.append(str(REFERENCE))

__all__ = sorted(p.stem for p in REFERENCE.glob("*.py") if not p.stem.startswith("_"))
"""The public modules of the repository's dlcore; `init` and `optim` are this folder's."""
for _name in __all__:
    globals()[_name] = importlib.import_module(f"dlcore.{_name}")
__version__ = "0.1.0+torch"
