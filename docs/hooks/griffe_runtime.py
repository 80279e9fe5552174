"""A Griffe extension: document dlcore's functions as they are at run time.

Each function declared with `backend.contract` gets its run-time docstring: the contract writes
what it refuses into the Raises section (static analysis sees only the source's own entries).

`dlcore.init` builds its six initialisers with one factory (`he_normal, ... = (_initializer(
scheme, law) ...)`): static analysis sees no function there. For every name in a dlcore
module's `__all__` whose value at run time is a function of that module but which static
analysis did not find as a function, this adds the inspected function (its signature and its
docstring), in `__all__` order; its line is that of the body that built it.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe


class RuntimeFunctions(griffe.Extension):
    """Add each public function a dlcore module builds at import, as inspection sees it."""

    def on_module_members(self, *, mod: griffe.Module, agent: Any, **kwargs: Any) -> None:
        if isinstance(agent, griffe.Inspector) or not mod.path.startswith("dlcore"):
            return
        runtime = importlib.import_module(mod.path)
        for name, member in list(mod.members.items()):
            value = getattr(runtime, name, None)
            if not member.is_alias and member.is_function and hasattr(value, "__contract__"):
                member.docstring = griffe.Docstring(
                    value.__doc__,
                    lineno=member.docstring and member.docstring.lineno,
                    endlineno=member.docstring and member.docstring.endlineno,
                    parent=member,
                    parser=agent.docstring_parser,
                    parser_options=agent.docstring_options,
                )
        built = [
            name
            for name in getattr(runtime, "__all__", [])
            if inspect.isfunction(value := getattr(runtime, name))
            and value.__module__ == mod.path
            and not (name in mod.members and mod.members[name].is_function)
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
            function.lineno = function.endlineno = inspect.getsourcelines(getattr(runtime, name))[1]
            mod.set_member(name, function)
