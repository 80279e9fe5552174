"""The shape of dlcore's public API: names exist, are documented and typed; the import is light.

A name assigned at module level (`Array = Any`, `gd = sgd`, `ACTIVATIONS = (...)`) carries an
attribute docstring, the string literal right after the assignment, as mkdocstrings reads it;
functions, classes and modules carry their own `__doc__`.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import subprocess
import sys
import textwrap
from types import ModuleType
from typing import Any

import pytest

import dlcore
from tests.support.optim_oracles import OPTIMIZERS, make_optimizer

MODULES: list[ModuleType] = [dlcore] + [getattr(dlcore, name) for name in dlcore.__all__]
PUBLIC: list[tuple[ModuleType, str]] = [(m, name) for m in MODULES for name in m.__all__]


def _id(item: tuple[ModuleType, str]) -> str:
    return f"{item[0].__name__}.{item[1]}"


def _attribute_docstrings(module: ModuleType) -> dict[str, str]:
    """`{name: docstring}` for module-level assignments followed by a string literal."""
    tree = ast.parse(inspect.getsource(module))
    out: dict[str, str] = {}
    body = tree.body
    for stmt, nxt in itertools.pairwise(body):
        if isinstance(stmt, ast.Assign):
            targets = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            targets = [stmt.target.id]
        else:
            continue
        if (
            isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            for name in targets:
                out[name] = nxt.value.value
    return out


def _assigned_names(module: ModuleType) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            names |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
    return names


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_module_has_docstring_and_all(module: ModuleType) -> None:
    assert (module.__doc__ or "").strip(), f"{module.__name__} has no module docstring"
    assert isinstance(module.__all__, list), f"{module.__name__}.__all__ must be a list"
    assert len(set(module.__all__)) == len(module.__all__), (
        f"duplicates in {module.__name__}.__all__"
    )


@pytest.mark.parametrize("item", PUBLIC, ids=_id)
def test_public_name_exists_and_is_documented(item: tuple[ModuleType, str]) -> None:
    module, name = item
    assert hasattr(module, name), f"{module.__name__}.__all__ lists {name!r}, which does not exist"
    if name in _assigned_names(module):
        doc = _attribute_docstrings(module).get(name, "")
        where = "attribute docstring (a string literal after the assignment)"
    else:
        obj = getattr(module, name)
        doc = obj.__doc__ if isinstance(obj, (type, ModuleType)) else inspect.getdoc(obj)
        where = "docstring"
    assert (doc or "").strip(), f"{module.__name__}.{name} has no {where}"


def _public_functions() -> list[tuple[str, Any]]:
    out = []
    for module, name in PUBLIC:
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            out.append((f"{module.__name__}.{name}", obj))
    # the closures a GradientTransformation carries are public too
    for fname in OPTIMIZERS:
        opt = make_optimizer(fname)
        out += [(f"dlcore.optim.{fname}().init", opt.init)]
        out += [(f"dlcore.optim.{fname}().update", opt.update)]
    return out


@pytest.mark.parametrize(
    ("qualname", "func"), _public_functions(), ids=[q for q, _ in _public_functions()]
)
def test_public_function_is_fully_annotated(qualname: str, func: Any) -> None:
    sig = inspect.signature(func)
    missing = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
    assert not missing, f"{qualname}: parameters without a type hint: {missing}"
    assert sig.return_annotation is not inspect.Signature.empty, f"{qualname}: no return annotation"


def test_import_dlcore_does_not_import_torch() -> None:
    code = textwrap.dedent(
        """
        import sys
        import dlcore
        import dlcore.backend, dlcore.linear, dlcore.kernels, dlcore.losses, dlcore.init
        import dlcore.mlp, dlcore.optim, dlcore.dynamics, dlcore.train
        heavy = sorted(m for m in ("torch", "array_api_strict", "sklearn", "scipy") if m in sys.modules)
        print(",".join(heavy))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "torch" not in result.stdout.strip().split(","), (
        f"import dlcore imported: {result.stdout.strip()}"
    )
    assert result.stdout.strip() == "", f"import dlcore imported optional packages: {result.stdout}"
