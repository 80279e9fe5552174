"""A Griffe extension: document the public functions that a module builds at import.

`dlcore.init` builds its six initialisers with one factory (`he_normal = _initializer("he",
"normal")`): static analysis sees attributes without docstrings there. For every attribute whose
value at run time is a function of that module, this puts the inspected function (its
signature and docstring) in its place, at the attribute's line (so `members_order: source`
keeps the module's order).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe


class RuntimeFunctions(griffe.Extension):
    """Replace each attribute bound at import to a function of its module by that function."""

    def on_module_members(self, *, mod: griffe.Module, agent: Any, **kwargs: Any) -> None:
        if isinstance(agent, griffe.Inspector) or not mod.path.startswith("dlcore"):
            return
        runtime = importlib.import_module(mod.path)
        built = [
            name
            for name, member in mod.members.items()
            if not member.is_alias
            and member.is_attribute
            and inspect.isfunction(value := getattr(runtime, name, None))
            and value.__module__ == mod.path
        ]
        if not built:
            return
        inspected = griffe.inspect(
            mod.path,
            filepath=mod.filepath,
            docstring_parser=agent.docstring_parser,
            docstring_options=agent.docstring_options,
        )
        for name in built:
            function = inspected[name]
            function.lineno, function.endlineno = mod[name].lineno, mod[name].endlineno
            mod.set_member(name, function)
