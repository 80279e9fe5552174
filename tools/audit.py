"""Audit one chapter (or all): untested clauses, the lecture's voice, and unbacked prose numbers.

    python tools/audit.py [--catalogue DIR] [CHAPTER ...]

Prints what `tests/meta/test_clauses.py` and `tests/meta/test_prose_numbers.py` would fail on,
restricted to the named chapters, so that a chapter can be finished without running the suite.
With `--catalogue DIR` (the extraction catalogue the spec was drafted from, which is not part of
the repository and which no test reads), it also lists `catalogue` ids of the spec that DIR does
not define. Exits 1 when anything is found.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spec.registry import CHAPTERS, find_claim_refs, load  # noqa: E402
from tests.meta import checks  # noqa: E402


def main(chapters: list[str]) -> int:
    catalogue = None
    if "--catalogue" in chapters:
        i = chapters.index("--catalogue")
        catalogue = Path(chapters[i + 1])
        chapters = chapters[:i] + chapters[i + 2 :]
    unknown = set(chapters) - set(CHAPTERS)
    if unknown:
        print(f"unknown chapter(s) {sorted(unknown)}; chapters are {list(CHAPTERS)}")
        return 2
    chapters = chapters or list(CHAPTERS)
    every = load()
    claims = {k: c for k, c in every.items() if c.chapter in chapters}
    refs = [r for r in find_claim_refs(ROOT / "tests" / "claims") if r.claim_id in claims]
    sections = {
        "property claims with no clause marker": checks.claims_without_clauses(claims),
        "illustrations with clauses": checks.illustrations_with_clauses(claims),
        "untested clauses": checks.untested_clauses(claims, refs),
        "clause blocks naming an unknown label": checks.unknown_clause_labels(claims, refs),
        "clause blocks that assert nothing": checks.clause_blocks_without_assertion(refs),
        "statements in the lecture's voice": checks.statements_in_lecture_voice(claims),
        "claims without a lecture paraphrase citing lines": checks.claims_without_lecture(claims),
        "errata that quote no transcript lines": checks.errata_without_quotes(claims),
    }
    if catalogue is not None:
        known = checks.catalogue_ids(catalogue)
        sections[f"catalogue ids not in {catalogue}"] = checks.unknown_catalogue_ids(claims, known)
    for ch in chapters:
        text = (ROOT / "docs" / f"{ch}.md").read_text(encoding="utf-8")
        sections[f"docs/{ch}.md: unbacked numbers in prose"] = checks.prose_numbers(
            text, set(every)
        )
    found = 0
    for title, problems in sections.items():
        if problems:
            found += len(problems)
            print(f"## {title} ({len(problems)})")
            print("\n".join(f"  {p}" for p in problems))
    n_clauses = sum(len(c.clauses) for c in claims.values())
    print(f"{len(claims)} claims, {n_clauses} clauses, {found} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
