"""No string in the repository's Python holds a control character that an escape made by mistake.

In a string that is not raw, `\\top`, `\\theta` or `\\tau` begin with the escape `\\t` (a tab),
`\\approx` with `\\a` (a bell), `\\beta` with `\\b` (a backspace), `\\frac` with `\\f`, `\\vec` with
`\\v`, `\\rho` with `\\r`: valid escapes, so Python says nothing, and the docstring shows (on the
site too) a formula with a character missing. Two docstrings had `\\top` so. A string that holds
math (a `$`) must hold none of these characters; write it raw (`r\"\"\"...\"\"\"`).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("dlcore", "tests", "docs", "tools", "spec", "adapters", "benchmarks")
CONTROL = "\a\b\t\v\f\r"


def escaped_by_mistake(source: str, where: str) -> list[str]:
    """`where:line` and the first characters of each string with `$` and a control character."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if "$" in text and any(c in text for c in CONTROL):
                out.append(f"{where}:{node.lineno}: {text[:60]!r}")
    return out


def test_no_math_string_holds_an_escape_made_by_mistake() -> None:
    found = [
        hit
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for hit in escaped_by_mistake(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == [], "write these strings raw (r-prefix):\n" + "\n".join(found)


def test_the_check_finds_an_escape_made_by_mistake() -> None:
    broken = 'X = 1\n"""The score $s = x^\\top w$."""\n'  # the file's text: \top, not raw
    assert escaped_by_mistake(broken, "f.py") == ["f.py:2: 'The score $s = x^\\top w$.'"]
    assert escaped_by_mistake('r"""The score $s = x^\\top w$."""\n', "f.py") == []
