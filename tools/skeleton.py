"""Write a homework skeleton of dlcore: `python tools/skeleton.py DIR` (or `nox -s skeleton -- DIR`).

DIR/dlcore/ gets every public module of dlcore with every function's signature, decorators and
docstring, and a body that raises `NotImplementedError`; classes, constants and `__all__` are
kept whole. The infrastructure, `INFRASTRUCTURE` (array namespaces and argument contracts, the
fused optimizer step), is copied whole, so that a student writes only the lecture's algorithms.
`nox -s conformance -- DIR` on the untouched skeleton reports every claim as not-implemented and
none as failed; copying one real module over its stub turns that module's claims to passed.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "dlcore"
INFRASTRUCTURE = ("__init__.py", "backend.py", "_fused.py")
"""Copied whole: the package, the array-API layer with the argument contracts, the fused step."""
INFRASTRUCTURE_HEADER = (
    "# Infrastructure of dlcore, shipped whole by tools/skeleton.py: not part of the homework.\n"
    "# The conformance report lists, per claim, the infrastructure its tests rest on (rests_on).\n"
)


def stub_module(source: str, module: str) -> str:
    """`source` with each function body replaced by `raise NotImplementedError(...)` (its
    docstring kept); a function the module calls at import (`_called_at_import`) keeps its body
    but has the functions it defines stubbed; everything else (imports, classes, constants,
    `__all__`) unchanged."""
    tree = ast.parse(source)
    builders = _called_at_import(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name not in builders:
                _stub(node, f"dlcore.{module}.{node.name}")
                continue
            for inner in node.body:
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                    _stub(inner, f"dlcore.{module}.{node.name}.{inner.name}")
    return (
        f"# Skeleton of dlcore.{module}, written by tools/skeleton.py: implement the bodies.\n"
        + ast.unparse(tree)
        + "\n"
    )


def _stub(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> None:
    """Replace the body of `node` by its docstring and `raise NotImplementedError(...)`."""
    doc = ast.get_docstring(node, clean=False)
    message = f"{qualname} is not implemented yet"
    body: list[ast.stmt] = [ast.parse(f"raise NotImplementedError({message!r})").body[0]]
    if doc is not None:
        body.insert(0, ast.Expr(ast.Constant(doc)))
    node.body = body


def _called_at_import(tree: ast.Module) -> set[str]:
    """The names that the module's own top-level statements call: a function that builds public
    functions at import (`init._initializer`) must run in the skeleton too, or the stub could not
    be imported; the functions it builds are stubbed."""
    calls = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            calls |= {
                sub.func.id
                for sub in ast.walk(node)
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
            }
    return calls


def write_skeleton(target: Path) -> list[Path]:
    """Write `target/dlcore/`; refuses to overwrite an existing package. Returns the files."""
    out = target / "dlcore"
    if out.exists():
        raise FileExistsError(f"{out} exists: the skeleton never overwrites a package")
    out.mkdir(parents=True)
    written = []
    for path in sorted(SOURCE.glob("*.py")):
        dest = out / path.name
        if path.name in INFRASTRUCTURE:
            dest.write_text(INFRASTRUCTURE_HEADER + path.read_text(encoding="utf-8"), "utf-8")
        else:
            dest.write_text(stub_module(path.read_text(encoding="utf-8"), path.stem), "utf-8")
        written.append(dest)
    return written


def main(argv: list[str]) -> int:
    if argv in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        print(f"usage: python tools/skeleton.py DIR (got {' '.join(argv) or 'no arguments'})")
        print(__doc__.splitlines()[0])
        return 2
    files = write_skeleton(Path(argv[0]))
    stubs = [f.name for f in files if f.name not in INFRASTRUCTURE]
    print(f"wrote {len(files)} files to {Path(argv[0]) / 'dlcore'}: stubs {', '.join(stubs)}")
    print(f"kept whole (infrastructure): {', '.join(INFRASTRUCTURE)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
