"""Load a module of the repository's dlcore under a private name, beside this adapter's own."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from dlcore import REFERENCE

__all__ = ["load"]


def load(name: str) -> ModuleType:
    """The repository's `dlcore/<name>.py`, imported as `dlcore._reference_<name>` (once)."""
    key = f"dlcore._reference_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, REFERENCE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module
