"""Code lines of dlcore, the measure of issue 14: lines that are not blank, not comments and not
docstrings (any string-constant expression statement). Usage: python tools/loc.py [PATH...]"""

from __future__ import annotations

import ast
import pathlib
import sys


def code_lines(path: pathlib.Path) -> int:
    src = path.read_text()
    skip: set[int] = set()
    for node in ast.walk(ast.parse(src)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return sum(
        1
        for i, line in enumerate(src.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#") and i not in skip
    )


def main(argv: list[str]) -> int:
    paths = [pathlib.Path(p) for p in argv] or sorted(pathlib.Path("dlcore").glob("*.py"))
    total = 0
    for p in paths:
        n = code_lines(p)
        total += n
        print(f"{n:6d}  {p}")
    print(f"{total:6d}  total")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
