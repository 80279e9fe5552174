"""The digest of the tree a claim report was made from (standard library only).

`nox -s docs` reuses a claim report instead of running the claims again when the report's digest
equals the tree's: the same dlcore, spec, tests and project files, byte for byte. The noxfile
imports this module without the test dependencies, so it imports nothing outside the standard
library.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["SOURCES", "tree_digest"]

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("dlcore", "spec", "tests", "pyproject.toml", "noxfile.py")
"""What a claim verdict depends on: the implementation, the spec, the tests and their setup."""


def tree_digest(root: Path = ROOT) -> str:
    """SHA-256 over the paths and bytes of every `.py`/`.toml` file under `SOURCES`."""
    h = hashlib.sha256()
    files: list[Path] = []
    for name in SOURCES:
        p = root / name
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            files += [f for f in p.rglob("*") if f.suffix in (".py", ".toml") and f.is_file()]
    for f in sorted(files):
        if "__pycache__" in f.parts:
            continue
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


if __name__ == "__main__":
    print(tree_digest())
