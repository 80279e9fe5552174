"""The one loader of the spec: `spec/<chapter>.toml` -> frozen `Claim` objects.

It also finds the `@claim("<id>")` references in the test suite (by parsing, not importing), so
that the meta-tests and the documentation hook read the same facts. It imports nothing of dlcore.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

__all__ = [
    "CHAPTERS",
    "CLAIM_MARKER",
    "CLAUSE",
    "KINDS",
    "PRIORITIES",
    "Claim",
    "ClaimRef",
    "ClauseCheck",
    "SpecError",
    "load",
    "claims_by_chapter",
    "find_claim_refs",
    "split_fences",
    "SPEC_DIR",
]

SPEC_DIR = Path(__file__).resolve().parent

CHAPTERS: dict[str, str] = {
    "learning": "Learning, losses and surrogates",
    "gradient-descent": "Gradient descent",
    "sgd": "Stochastic gradient descent",
    "ridge": "Least squares and ridge",
    "kernels": "Kernels: the dual view of ridge",
    "implicit-bias": "The implicit bias of GD and SGD",
    "relu-networks": "ReLU networks",
    "initialization": "Initialisation",
    "momentum": "Momentum",
    "adaptive": "Adaptive methods: Adam and AdamW",
}
"""Chapter slug -> title, in the order of the course."""

KINDS = (
    "identity",
    "equivalence",
    "bound",
    "convergence",
    "statistical",
    "gradient",
    "invariant",
    "illustration",
)
PRIORITIES = ("core", "standard", "remark")
_ID = re.compile(r"^(?P<chapter>[a-z]+(?:-[a-z]+)*)\.[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = ("id", "title", "kind", "priority", "statement", "source")
_OPTIONAL = (
    "assumptions",
    "catalogue",
    "code",
    "erratum",
    "float32",
    "lecture",
    "added",
)
CLAIM_MARKER = re.compile(r"^[ \t]*<!--\s*claim:\s*(?P<id>\S+)\s*-->[ \t]*$", re.MULTILINE)
"""A claim marker on a page: a line of its own, `<!-- claim: <id> -->`. The docs hook replaces it
with the claim's block; the meta-tests find claims without markers with the same pattern."""
FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
CLAUSE = re.compile(r"⟨(?P<label>[a-z])⟩")
"""A clause marker in a statement: `⟨a⟩`, `⟨b⟩`, ... in order, each once."""


class SpecError(ValueError):
    """A spec file is malformed: unknown field, bad id, duplicate id, bad enum value."""


@dataclass(frozen=True)
class Claim:
    """One normative claim.

    Attributes:
        id: `<chapter>.<kebab-slug>`, stable forever.
        chapter: The chapter slug (the file the claim lives in).
        title: One line.
        kind: One of `KINDS`.
        priority: One of `PRIORITIES`.
        statement: The precise statement, Markdown with `$...$` math.
        source: Where the lecture makes it (lecture and transcript lines).
        assumptions: The assumptions, one per entry.
        catalogue: Catalogue ids it covers (provenance).
        code: Dotted paths of the dlcore names that implement it.
        erratum: Where the lecture is wrong, what is true instead.
        float32: Why the claim is not checked in float32, if it is not.
        lecture: What the lecture says, in its own terms: a short paraphrase citing its
            transcript lines. The statement is ours; this is the lecture's voice.
        added: Labels of the clauses the lecture does not state (we add them).
    """

    id: str
    chapter: str
    title: str
    kind: str
    priority: str
    statement: str
    source: str
    assumptions: tuple[str, ...] = ()
    catalogue: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    erratum: str | None = None
    float32: str | None = None
    lecture: str | None = None
    added: tuple[str, ...] = ()

    @property
    def check(self) -> str:
        """How the claim is checked: `"illustration"` (a figure; remarks of that kind only) or
        `"property"` (a test). The kind says it; there is no second field."""
        return "illustration" if self.kind == "illustration" else "property"

    @property
    def clauses(self) -> dict[str, str]:
        """Clause label -> the statement's text from its marker to the next marker.

        Each mathematical assertion of a statement (an equality, a bound, a rate, a step count,
        an ordering) is a clause, marked `⟨a⟩`, `⟨b⟩`, ... before its text; a test names the
        clause an assertion checks with `with clause("a"): ...`.
        """
        marks = list(CLAUSE.finditer(self.statement))
        ends = [m.start() for m in marks[1:]] + [len(self.statement)] * bool(marks)
        return {
            m["label"]: " ".join(self.statement[m.end() : end].split()).rstrip(" -")
            for m, end in zip(marks, ends, strict=True)
        }

    @property
    def anchor(self) -> str:
        """The HTML anchor of the claim on its chapter page."""
        return self.id.replace(".", "--")


@dataclass(frozen=True)
class ClauseCheck:
    """One `with clause("a", ...):` block in a test: the labels it names and where it is."""

    labels: tuple[str, ...]
    lineno: int
    asserts: bool
    """Whether the block's body asserts something: an `assert` statement, or a call of a name
    containing `assert`, `check` or `raises` (a helper that asserts must be named so)."""


@dataclass(frozen=True)
class ClaimRef:
    """A test function that carries `@claim(id)` or `@claim(id, breaks=...)`."""

    claim_id: str
    breaks: str | None
    path: Path
    function: str
    lineno: int
    source: str = field(repr=False)
    clause_checks: tuple[ClauseCheck, ...] = ()

    @property
    def clauses(self) -> set[str]:
        """The clause labels this test checks (in `with clause(...)` blocks that assert)."""
        return {label for c in self.clause_checks if c.asserts for label in c.labels}

    @property
    def nodeid_suffix(self) -> str:
        return f"{self.path.name}::{self.function}"


def _claim_from(entry: dict, chapter: str, path: Path) -> Claim:
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise SpecError(f"{path.name}: unknown field(s) {sorted(unknown)} in {entry.get('id')!r}")
    missing = [k for k in _REQUIRED if not entry.get(k)]
    if missing:
        raise SpecError(f"{path.name}: claim {entry.get('id')!r} lacks {missing}")
    cid = entry["id"]
    m = _ID.match(cid)
    if not m or m["chapter"] != chapter:
        raise SpecError(f"{path.name}: id {cid!r} must look like '{chapter}.<kebab-slug>'")
    if entry["kind"] not in KINDS:
        raise SpecError(f"{cid}: kind {entry['kind']!r} not in {KINDS}")
    if entry["priority"] not in PRIORITIES:
        raise SpecError(f"{cid}: priority {entry['priority']!r} not in {PRIORITIES}")
    if entry["kind"] == "illustration" and entry["priority"] != "remark":
        raise SpecError(f"{cid}: only remarks may be checked by illustration")
    labels = CLAUSE.findall(entry["statement"])
    outside_math = CLAUSE.findall(
        re.sub(r"\$\$.*?\$\$|\$[^$]*?\$", " ", entry["statement"], flags=re.S)
    )
    if outside_math != labels:
        raise SpecError(f"{cid}: a clause marker sits inside math; put it before the formula")
    expected = [chr(ord("a") + i) for i in range(len(labels))]
    if labels != expected:
        raise SpecError(f"{cid}: clause markers {labels} must be {expected} (each once, in order)")
    added = tuple(entry.get("added", ()))
    if set(added) - set(labels):
        raise SpecError(f"{cid}: added={list(added)} names no clause of {labels}")
    return Claim(
        id=cid,
        chapter=chapter,
        title=entry["title"].strip(),
        kind=entry["kind"],
        priority=entry["priority"],
        statement=entry["statement"].strip(),
        source=entry["source"].strip(),
        assumptions=tuple(a.strip() for a in entry.get("assumptions", ())),
        catalogue=tuple(entry.get("catalogue", ())),
        code=tuple(entry.get("code", ())),
        erratum=(entry.get("erratum") or "").strip() or None,
        float32=(entry.get("float32") or "").strip() or None,
        lecture=" ".join((entry.get("lecture") or "").split()) or None,
        added=added,
    )


@cache
def load(spec_dir: Path = SPEC_DIR) -> dict[str, Claim]:
    """Load every `<chapter>.toml` in `spec_dir`.

    Returns:
        Claims by id, in chapter order and file order.

    Raises:
        SpecError: On an unknown chapter file, a malformed claim or a duplicate id.
    """
    claims: dict[str, Claim] = {}
    files = {p.stem: p for p in Path(spec_dir).glob("*.toml")}
    for stem in files:
        if stem not in CHAPTERS:
            raise SpecError(f"{stem}.toml is not a chapter; chapters are {list(CHAPTERS)}")
    for chapter in CHAPTERS:
        if chapter not in files:
            continue
        path = files[chapter]
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for entry in data.get("claim", []):
            c = _claim_from(entry, chapter, path)
            if c.id in claims:
                raise SpecError(f"duplicate claim id {c.id!r} in {path.name}")
            claims[c.id] = c
    return claims


def claims_by_chapter(claims: dict[str, Claim] | None = None) -> dict[str, list[Claim]]:
    """Group claims by chapter, chapters in course order (only chapters that have claims)."""
    claims = load() if claims is None else claims
    out: dict[str, list[Claim]] = {}
    for c in claims.values():
        out.setdefault(c.chapter, []).append(c)
    return {ch: out[ch] for ch in CHAPTERS if ch in out}


def _literal(node: ast.AST, names: dict[str, str]) -> str | None:
    """A string literal, or a module-level string constant referred to by name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def _module_constants(tree: ast.Module) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if (
                isinstance(target, ast.Name)
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                out[target.id] = value.value
    return out


_ASSERTING = re.compile(r"assert|check|raises")


def _callee(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _asserts(nodes: list[ast.stmt]) -> bool:
    for stmt in nodes:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assert):
                return True
            if isinstance(node, ast.Call) and _ASSERTING.search(_callee(node)):
                return True
    return False


def _clause_checks(fn: ast.AST, names: dict[str, str]) -> tuple[ClauseCheck, ...]:
    """The `with clause("a", ...):` blocks inside a test function."""
    out = []
    for node in ast.walk(fn):
        if not isinstance(node, (ast.With, ast.AsyncWith)):
            continue
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and _callee(call) == "clause":
                labels = tuple(_literal(a, names) or "?" for a in call.args)
                others = [i.context_expr for i in node.items if i is not item]
                asserts = _asserts(node.body) or any(
                    isinstance(o, ast.Call) and _ASSERTING.search(_callee(o)) for o in others
                )
                out.append(ClauseCheck(labels, node.lineno, asserts))
    return tuple(out)


def find_claim_refs(tests_dir: Path) -> list[ClaimRef]:
    """Find every test function decorated with `@claim("<id>"[, breaks="..."])` under `tests_dir`.

    Files are parsed, not imported, so a broken test file still shows up here.
    """
    refs: list[ClaimRef] = []
    for path in sorted(Path(tests_dir).rglob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        names = _module_constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for dec in node.decorator_list:
                if not (isinstance(dec, ast.Call) and getattr(dec.func, "id", None) == "claim"):
                    continue
                cid = _literal(dec.args[0], names) if dec.args else None
                if cid is None:
                    continue
                breaks = None
                for kw in dec.keywords:
                    if kw.arg == "breaks":
                        breaks = _literal(kw.value, names)
                start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                src = "\n".join(text.splitlines()[start - 1 : node.end_lineno])
                checks = _clause_checks(node, names)
                refs.append(ClaimRef(cid, breaks, path, node.name, start, src, checks))
    return refs


def split_fences(markdown: str) -> list[tuple[str, bool]]:
    """Split into (text, is_fenced_code) chunks, so that markers shown in code stay verbatim."""
    chunks: list[tuple[str, bool]] = []
    buf: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        m = FENCE.match(line)
        if fence is None and m:
            chunks.append(("".join(buf), False))
            buf, fence = [line], m["fence"]
        elif fence is not None and m and m["fence"].startswith(fence) and not m["info"].strip():
            buf.append(line)
            chunks.append(("".join(buf), True))
            buf, fence = [], None
        else:
            buf.append(line)
    chunks.append(("".join(buf), fence is not None))
    return chunks
