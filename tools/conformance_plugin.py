"""pytest plugin of `tools/conformance.py` (loaded with `-p conformance_plugin`).

- Registers the Hypothesis profile `conformance`: derandomized (two runs on the same
  implementation agree) unless `DLCORE_CONFORMANCE_SEED` is set, no example database, no
  deadline, no shrinking, `DLCORE_CONFORMANCE_EXAMPLES` examples (default 30).
- Before collection, gives every public name of the reference API (the manifest
  `DLCORE_API_MANIFEST`, written by the runner from the repository's dlcore) that the
  implementation under test lacks a stub raising `NotImplementedError`, and a stub module for a
  missing module, so one missing function is reported as not implemented by the claims that use
  it instead of failing the import of a whole chapter.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings

_examples = int(os.environ.get("DLCORE_CONFORMANCE_EXAMPLES", "30"))
settings.register_profile(
    "conformance",
    max_examples=_examples,
    derandomize="DLCORE_CONFORMANCE_SEED" not in os.environ,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # No shrinking: a verdict per claim needs the first failing example, and shrinking an
    # example that raises NotImplementedError (or a student's wrong value) can take minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def _stub(qualname: str) -> Any:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{qualname} is missing from the implementation under test")

    missing.__name__ = qualname.rsplit(".", 1)[-1]
    return missing


def _in_package(package: types.ModuleType, module: str) -> bool:
    return any(
        (Path(d) / f"{module}.py").is_file() or (Path(d) / module / "__init__.py").is_file()
        for d in getattr(package, "__path__", ())
    )


def fill_missing(manifest: dict[str, list[str]]) -> list[str]:
    """Stub each name of `manifest` ({module: [names]}) that `dlcore` lacks; return them."""
    package = importlib.import_module("dlcore")
    filled = []
    for module, names in manifest.items():
        full = f"dlcore.{module}"
        # Only a module in the package's own folder counts: an editable install of the
        # repository (`pip install -e .`) would otherwise supply the reference module.
        if _in_package(package, module):
            mod = importlib.import_module(full)
        else:
            mod = types.ModuleType(full, f"stub: {full} is missing from the implementation")
            sys.modules[full] = mod
            setattr(package, module, mod)
            filled.append(full)
        for name in names:
            if not hasattr(mod, name):
                setattr(mod, name, _stub(f"{full}.{name}"))
                filled.append(f"{full}.{name}")
    return filled


def pytest_configure(config: Any) -> None:
    path = os.environ.get("DLCORE_API_MANIFEST")
    if path:
        with open(path, encoding="utf-8") as f:
            filled = fill_missing(json.load(f))
        config._dlcore_missing = filled  # read by the runner's summary
        if filled:
            print(f"conformance: {len(filled)} missing name(s) stubbed: {', '.join(filled[:8])}")
