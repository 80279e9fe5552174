"""The bookkeeping checks between spec, tests and docs, as pure functions.

Each returns a list of problems (empty when all is well). test_coverage.py runs them on the real
tree, and on deliberately broken inputs to show that each one can fail.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path

from spec.registry import CLAIM_MARKER, Claim, ClaimRef, split_fences

MARKER = CLAIM_MARKER


def claims_without_tests(claims: dict[str, Claim], refs: list[ClaimRef]) -> list[str]:
    """Claims (other than illustrated remarks) with no non-breaking test."""
    tested = {r.claim_id for r in refs if r.breaks is None}
    return [cid for cid, c in claims.items() if c.check == "property" and cid not in tested]


def unknown_test_ids(claims: dict[str, Claim], refs: list[ClaimRef]) -> list[str]:
    return [
        f"{r.path.name}::{r.function} -> {r.claim_id}" for r in refs if r.claim_id not in claims
    ]


def markers(docs_dir: Path) -> dict[str, list[str]]:
    """Page stem -> claim ids marked on it (outside fenced code, as the docs hook reads them)."""
    return {
        p.stem: [
            m["id"]
            for chunk, is_code in split_fences(p.read_text(encoding="utf-8"))
            if not is_code
            for m in MARKER.finditer(chunk)
        ]
        for p in Path(docs_dir).glob("*.md")
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


# --- clauses: every mathematical assertion of a statement is asserted by a test ---------------


def claims_without_clauses(claims: dict[str, Claim]) -> list[str]:
    """Property claims whose statement marks no clause `⟨a⟩` (nothing a test could be held to)."""
    return [cid for cid, c in claims.items() if c.check == "property" and not c.clauses]


def illustrations_with_clauses(claims: dict[str, Claim]) -> list[str]:
    """Illustrated remarks that assert something: a clause needs a test, a figure is not one."""
    return [cid for cid, c in claims.items() if c.check == "illustration" and c.clauses]


def untested_clauses(claims: dict[str, Claim], refs: list[ClaimRef]) -> list[str]:
    """`id ⟨x⟩: text` for each clause that no non-breaking test asserts in a `clause` block."""
    checked: dict[str, set[str]] = {}
    for r in refs:
        if r.breaks is None:
            checked.setdefault(r.claim_id, set()).update(r.clauses)
    return [
        f"{cid} ⟨{label}⟩: {text[:120]}"
        for cid, c in claims.items()
        for label, text in c.clauses.items()
        if label not in checked.get(cid, set())
    ]


def unknown_clause_labels(claims: dict[str, Claim], refs: list[ClaimRef]) -> list[str]:
    """`with clause(...)` blocks naming a label the test's claim does not have."""
    return [
        f"{r.path.name}:{chk.lineno} {r.function}: clause {label!r} not in {r.claim_id}"
        for r in refs
        if r.claim_id in claims
        for chk in r.clause_checks
        for label in chk.labels
        if label not in claims[r.claim_id].clauses
    ]


def clause_blocks_without_assertion(refs: list[ClaimRef]) -> list[str]:
    """`with clause(...)` blocks whose body asserts nothing (a mapping that cannot fail)."""
    return [
        f"{r.path.name}:{chk.lineno} {r.function}: clause{chk.labels} asserts nothing"
        for r in refs
        for chk in r.clause_checks
        if not chk.asserts
    ]


# --- the lecture's voice and ours ---------------------------------------------------------------

_LECTURE_VOICE = re.compile(r"\blectur|\"|“|”")


def statements_in_lecture_voice(claims: dict[str, Claim]) -> list[str]:
    """Statements that speak of, or quote, the lecture: that belongs in the `lecture` field."""
    return [
        f"{cid}: {m.group(0)!r} in {c.statement[max(0, m.start() - 40) : m.end() + 40]!r}"
        for cid, c in claims.items()
        if (m := _LECTURE_VOICE.search(c.statement))
    ]


_LINES = re.compile(r"\blines? \d+")


def claims_without_lecture(claims: dict[str, Claim]) -> list[str]:
    """Claims with no `lecture` paraphrase, or one that cites no transcript line."""
    return [cid for cid, c in claims.items() if not (c.lecture and _LINES.search(c.lecture))]


# --- numbers in a page's prose come from a claim or from the page's code ------------------------

_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+?\$", re.S)
_CODE = re.compile(r"`[^`\n]+`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)|\]\[[^\]]*\]")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML = re.compile(r"<[^>]+>")
_NAMED = re.compile(
    # numbers that name something rather than measure it: lectures, transcript lines, dtypes,
    # the 0-1 loss, an n-D picture, ordinals, identifiers such as H100 or ReLU6
    r"\b(?:Lectures?|lines?|Figures?|Sections?|PEP|Python|mkdocs|MathJax|torch)"
    r"\s*\d+(?:[–-]\d+)?(?:(?:,| and| or|–|-)\s*\d+(?:[–-]\d+)?)*"
    r"|\b0[–-]1\b|\b\d-D\b|\d+(?:st|nd|rd|th)\b|\b[A-Za-z]+\d+\b"
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?")
_NUMBER_WORD = re.compile(
    r"\b(?:twice|thrice|doubl\w*|halv\w*|tenfold|hundreds?|thousands?|millions?|billions?|"
    r"percent|\w+-fold|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|"
    r"(?:twen|thir|for|fif|six|seven|eigh|nine)ty)\b|%",
    re.I,
)
_SCRIPT = re.compile(r"[_^](?:\{[^{}]*\}|\\?[A-Za-z]+|\d)")
_CLAIM_REF = re.compile(r"`([a-z]+(?:-[a-z]+)*\.[a-z0-9-]+)`|#([a-z]+(?:-[a-z]+)*)--([a-z0-9-]+)")
_CITES_LINES = re.compile(r"\blines? \d+")
_LIST_ITEM = re.compile(r"^[ \t]*\d+\.[ \t]", re.M)


def quantities(sentence: str) -> list[str]:
    """The numbers and number words of one prose sentence.

    Code spans, link targets, HTML tags and comments are not prose. In math, sub- and superscripts
    (`x_1`, `\\|w\\|^2`, `X^{-1}`) are notation, not quantities; every other digit counts.
    """
    s = _HTML.sub(" ", _LINK_TARGET.sub("]", _CODE.sub(" ", _COMMENT.sub(" ", sentence))))
    s = _LIST_ITEM.sub(" ", s)
    found = []
    for m in _MATH.finditer(s):
        tex = re.sub(r"\\[A-Za-z]+", " ", _SCRIPT.sub(" ", m.group(0)))
        found += _NUMBER.findall(tex)
    text = _NAMED.sub(" ", _MATH.sub(" ", s))
    return found + _NUMBER.findall(text) + [m.group(0) for m in _NUMBER_WORD.finditer(text)]


def _sentences(paragraph: str) -> list[str]:
    """Split at sentence ends (. ! ? ; : then a capital), never inside math; a table by rows."""
    if paragraph.lstrip().startswith("|"):
        return [row for row in paragraph.splitlines() if row.strip()]
    out, buf = [], ""
    for part in re.split(r"(\$\$.*?\$\$|\$[^$\n]+?\$)", paragraph, flags=re.S):
        if part.startswith("$"):
            buf += part
            continue
        first, *rest = re.split(r"(?<=[.!?;:])\s+(?=[A-Z(\"“*`\[])", part)
        buf += first
        for piece in rest:
            out.append(buf)
            buf = piece
    out.append(buf)
    return [s for s in out if s.strip()]


def _paragraphs(text: str) -> list[tuple[int, str | None]]:
    """(first line, paragraph) outside fenced code; a claim marker is `(line, None)`, a fenced
    block `(line, "")`."""
    items: list[tuple[int, str | None]] = []
    lineno = 0
    for chunk, is_code in split_fences(text):
        par: list[str] = []
        start = 0
        if is_code and chunk:
            items.append((lineno + 1, ""))  # code stands between a paragraph and a marker
        for line in chunk.splitlines():
            lineno += 1
            if is_code:
                continue
            if not line.strip() or MARKER.fullmatch(line):
                if par:
                    items.append((start, "\n".join(par)))
                    par = []
                if line.strip():
                    items.append((lineno, None))
                continue
            if not par:
                start = lineno
            par.append(line)
        if par:
            items.append((start, "\n".join(par)))
    return items


def prose_numbers(text: str, claim_ids: set[str]) -> list[str]:
    """`line: [numbers] sentence` for each prose sentence whose numbers come from nowhere.

    A number in prose is backed when its sentence names a claim (its backticked id or a link to
    its anchor), when its paragraph leads straight into a claim marker (the claim block that
    follows states it), or when the sentence cites the transcript lines it reports. A number the
    page's code computes is not in the Markdown source at all: print it from the code block.
    """
    problems = []
    items = _paragraphs(text)
    for k, (line, par) in enumerate(items):
        if not par or (k + 1 < len(items) and items[k + 1][1] is None):
            continue
        for s in _sentences(par):
            found = quantities(s)
            refs = {a or f"{b}.{c}" for a, b, c in _CLAIM_REF.findall(s)}
            if found and not refs & claim_ids and not _CITES_LINES.search(s):
                problems.append(f"{line}: {found} {' '.join(s.split())[:200]}")
    return problems


_QUOTE = re.compile(r"\"|“")


def errata_without_quotes(claims: dict[str, Claim]) -> list[str]:
    """Errata that do not quote the lecture (a double-quoted phrase) and cite its lines."""
    return [
        cid
        for cid, c in claims.items()
        if c.erratum and not (_LINES.search(c.erratum) and _QUOTE.search(c.erratum))
    ]
