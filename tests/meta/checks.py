"""The bookkeeping checks between spec, tests and docs, as pure functions.

Each returns a list of problems (empty when all is well). test_coverage.py runs them on the real
tree, and on deliberately broken inputs to show that each one can fail.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path

from spec.registry import Claim, ClaimRef

MARKER = re.compile(r"<!--\s*claim:\s*([a-z0-9.-]+)\s*-->")


def claims_without_tests(claims: dict[str, Claim], refs: list[ClaimRef]) -> list[str]:
    """Claims (other than illustrated remarks) with no non-breaking test."""
    tested = {r.claim_id for r in refs if r.breaks is None}
    return [cid for cid, c in claims.items() if c.check == "property" and cid not in tested]


def unknown_test_ids(claims: dict[str, Claim], refs: list[ClaimRef]) -> list[str]:
    return [
        f"{r.path.name}::{r.function} -> {r.claim_id}" for r in refs if r.claim_id not in claims
    ]


def markers(docs_dir: Path) -> dict[str, list[str]]:
    """Chapter page stem -> claim ids marked on it."""
    return {
        p.stem: MARKER.findall(p.read_text(encoding="utf-8")) for p in Path(docs_dir).glob("*.md")
    }


def chapters_without_pages(claims: dict[str, Claim], docs_dir: Path) -> list[str]:
    return sorted(
        {c.chapter for c in claims.values()} - {p.stem for p in Path(docs_dir).glob("*.md")}
    )


def claims_without_markers(claims: dict[str, Claim], docs_dir: Path) -> list[str]:
    found = markers(docs_dir)
    return [cid for cid, c in claims.items() if cid not in found.get(c.chapter, [])]


def unknown_markers(claims: dict[str, Claim], docs_dir: Path) -> list[str]:
    return [
        f"{page}.md: {cid}"
        for page, ids in markers(docs_dir).items()
        for cid in ids
        if cid not in claims
    ]


def unresolved_code_paths(claims: dict[str, Claim]) -> list[str]:
    bad = []
    for c in claims.values():
        for path in c.code:
            module, _, name = path.rpartition(".")
            try:
                if not hasattr(importlib.import_module(module), name):
                    bad.append(f"{c.id}: {path}")
            except ImportError:
                bad.append(f"{c.id}: {path}")
    return bad


def catalogue_claimed_twice(claims: dict[str, Claim]) -> list[str]:
    counts = Counter(cat for c in claims.values() for cat in c.catalogue)
    return sorted(k for k, n in counts.items() if n > 1)


def catalogue_ids(catalogue_dir: Path) -> set[str]:
    pattern = re.compile(r"^### `([a-z0-9.-]+)`", re.M)
    return {
        m
        for p in Path(catalogue_dir).glob("*.md")
        for m in pattern.findall(p.read_text(encoding="utf-8"))
    }


def unknown_catalogue_ids(claims: dict[str, Claim], known: set[str]) -> list[str]:
    return [f"{c.id}: {cat}" for c in claims.values() for cat in c.catalogue if cat not in known]
