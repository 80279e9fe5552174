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
    "KINDS",
    "PRIORITIES",
    "Claim",
    "ClaimRef",
    "SpecError",
    "load",
    "claims_by_chapter",
    "find_claim_refs",
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
CHECKS = ("property", "illustration")
_ID = re.compile(r"^(?P<chapter>[a-z]+(?:-[a-z]+)*)\.[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = ("id", "title", "kind", "priority", "statement", "source")
_OPTIONAL = ("assumptions", "catalogue", "code", "erratum", "check", "float32")


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
        check: `"property"` (a test) or `"illustration"` (a figure; remarks only).
        float32: Why the claim is not checked in float32, if it is not.
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
    check: str = "property"
    float32: str | None = None

    @property
    def anchor(self) -> str:
        """The HTML anchor of the claim on its chapter page."""
        return self.id.replace(".", "--")


@dataclass(frozen=True)
class ClaimRef:
    """A test function that carries `@claim(id)` or `@claim(id, breaks=...)`."""

    claim_id: str
    breaks: str | None
    path: Path
    function: str
    lineno: int
    source: str = field(repr=False)

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
    check = entry.get("check", "property")
    if check not in CHECKS:
        raise SpecError(f"{cid}: check {check!r} not in {CHECKS}")
    if check == "illustration" and entry["priority"] != "remark":
        raise SpecError(f"{cid}: only remarks may be checked by illustration")
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
        check=check,
        float32=(entry.get("float32") or "").strip() or None,
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
                refs.append(ClaimRef(cid, breaks, path, node.name, start, src))
    return refs
