"""MkDocs hook: render claim markers from spec/ + tests/claims/ + the latest claim report.

On a page, `<!-- claim: <id> -->` becomes the claim's block: anchor, title and status badge, the
statement, assumptions, source, erratum, the test's code, the breaking cases ("Where it breaks")
and the latest results per backend. On `claims.md`, `<!-- claims-board -->` becomes the status
board of every claim. On `pytorch.md`, `<!-- torch-board -->` becomes the conformance board of
the torch adapter (`$DLCORE_TORCH_REPORT`, default `build/conformance-torch.json`, written by
`nox -s conformance -- adapters/torch --report ...`), rendered by the same board code
(`conformance_board`, which `tools/conformance.py --html` calls too). An unknown id fails the
build.

Everything is read from `spec.registry` (the one loader) and from the JSON report that
`tests/support/report.py` writes (`build/claims-report.json`, or `$DLCORE_CLAIM_REPORT`). Nothing
depends on the nav: a chapter page is found by its file name, `<chapter>.md`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mathblocks import DisplayMathExtension
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HOOKS = str(Path(__file__).resolve().parent)
DOCS = str(ROOT / "docs")  # docs/figures is the package `figures`
SOURCES = ("tests/claims/*.py", "tests/support/*.py", "docs/figures/*.py")
"""Source files rendered as pages under `source/` (linked from claim blocks and figures)."""

from spec import registry  # noqa: E402

TESTS_DIR = ROOT / "tests" / "claims"
CLAIM_MARKER = registry.CLAIM_MARKER
BOARD_MARKER = re.compile(r"^[ \t]*<!--\s*claims-board\s*-->[ \t]*$", re.MULTILINE)
CHAPTERS_MARKER = re.compile(r"^[ \t]*<!--\s*chapters\s*-->[ \t]*$", re.MULTILINE)
TORCH_MARKER = re.compile(r"^[ \t]*<!--\s*torch-board\s*-->[ \t]*$", re.MULTILINE)
LEDGER_MARKER = re.compile(r"^[ \t]*<!--\s*counterexamples\s*-->[ \t]*$", re.MULTILINE)
LEDGER = ROOT / "docs" / "data" / "counterexamples.toml"

_state: dict[str, Any] = {}


def report_path() -> Path:
    """The claim report: `$DLCORE_CLAIM_REPORT` (relative to the repo root) or the default."""
    return ROOT / os.environ.get("DLCORE_CLAIM_REPORT", "build/claims-report.json")


def torch_report_path() -> Path:
    """The torch adapter's conformance report: `$DLCORE_TORCH_REPORT` or the default that
    `nox -s docs` writes (`nox -s conformance -- adapters/torch --report <it>`)."""
    return ROOT / os.environ.get("DLCORE_TORCH_REPORT", "build/conformance-torch.json")


def sweep_report_path() -> Path:
    """The recorded sweep: `$DLCORE_SWEEP_REPORT` or `docs/data/sweep-report.json`.

    `nox -s sweep -- N --record` writes it: each claim's pass rate over N random seeds and its
    worst error/tolerance ratio, with the commit and date of the sweep.
    """
    return ROOT / os.environ.get("DLCORE_SWEEP_REPORT", "docs/data/sweep-report.json")


def cuda_report_path() -> Path:
    """The recorded CUDA report: `$DLCORE_CUDA_REPORT` or `docs/data/cuda-claims-report.json`.

    CI has no GPU, so the CUDA results on the site come from the last run on a GPU machine
    (`nox -s tests_cuda` or `tools/cuda_check.sh`), committed with its commit, date and device.
    """
    return ROOT / os.environ.get("DLCORE_CUDA_REPORT", "docs/data/cuda-claims-report.json")


@event_priority(100)  # before mkdocstrings, which reads markdown_extensions in its on_config
def on_config(config: Any) -> Any:
    if not any(isinstance(e, DisplayMathExtension) for e in config.markdown_extensions):
        config.markdown_extensions.append(DisplayMathExtension())
    # MkDocs restores sys.path after importing a hook, so this is done here, not at import.
    # `python exec="on"` blocks `import figures` (docs/figures/), and the conventions page
    # prints its tables from `tests.support` (the repository root).
    for path in (str(ROOT), HOOKS, DOCS):
        if path not in sys.path:
            sys.path.insert(0, path)
    registry.load.cache_clear()  # `mkdocs serve` reloads: read the spec afresh
    claims = registry.load()
    refs = registry.find_claim_refs(TESTS_DIR) if TESTS_DIR.is_dir() else []
    path = report_path()
    report = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    cuda_path = cuda_report_path()
    cuda = json.loads(cuda_path.read_text(encoding="utf-8")) if cuda_path.is_file() else None
    if cuda is not None:
        unknown = sorted(set(cuda.get("claims", {})) - set(claims))
        if unknown:
            raise PluginError(
                f"{cuda_path}: recorded CUDA report names claims not in spec/: {unknown}"
            )
    sweep_path = sweep_report_path()
    sweep = json.loads(sweep_path.read_text(encoding="utf-8")) if sweep_path.is_file() else None
    _state.update(claims=claims, refs=refs, report=report, cuda=cuda, sweep=sweep)
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    src = page.file.src_uri

    def claim_block(match: re.Match[str]) -> str:
        cid = match["id"]
        if cid not in _state["claims"]:
            raise PluginError(f"{src}: marker names unknown claim {cid!r} (not in spec/*.toml)")
        return render_claim(_state["claims"][cid])

    up = "../" * src.count("/")  # from this page's folder to docs/

    def id_link(match: re.Match[str]) -> str:
        c = _state["claims"].get(match[1])
        if c is None or files.get_file_from_path(f"{c.chapter}.md") is None:
            return match[0]
        return f"[`{c.id}`]({up}{c.chapter}.md#{c.anchor})"

    out = []
    for chunk, is_code in registry.split_fences(markdown):
        if not is_code:
            chunk = _CLAIM_ID.sub(id_link, chunk)  # claim ids in prose become links
            chunk = CLAIM_MARKER.sub(claim_block, chunk)
            chunk = BOARD_MARKER.sub(lambda _: render_board(files), chunk)
            chunk = TORCH_MARKER.sub(lambda _: render_torch_board(files), chunk)
            chunk = LEDGER_MARKER.sub(lambda _: render_ledger(files), chunk)
            chunk = CHAPTERS_MARKER.sub(lambda _: render_chapters(files), chunk)
        out.append(chunk)
    return "".join(out)


def on_pre_build(config: Any) -> None:
    """Fill the figure cache in parallel, one figure module per worker process (largest first),
    before the pages are built one after the other; a warm cache makes this a no-op."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import figures

    modules = sorted(
        (p for p in (ROOT / "docs" / "figures").glob("*.py") if p.stem != "__init__"),
        key=lambda p: -p.stat().st_size,
    )
    names = [p.stem for p in modules if p.stem not in figures.UNCACHED]
    workers = min(len(names), os.cpu_count() or 1)
    if workers > 1:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            list(pool.map(figures.prerender, names))
    else:
        for name in names:
            figures.prerender(name)


def on_files(files: Any, config: Any) -> Any:
    """Add a page per source file of `SOURCES`, at `source/<path>/`, with a `#L<n>` anchor per
    line, kept out of the search index (claims rank first)."""
    from mkdocs.structure.files import File

    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            rel = path.relative_to(ROOT).as_posix()
            files.append(File.generated(config, f"source/{rel}.md", content=source_page(rel)))
    return files


def source_page(rel: str) -> str:
    import html

    lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
    body = "\n".join(
        f'<span id="L{i}" class="dl-line"><a href="#L{i}">{i}</a>{html.escape(line)}</span>'
        for i, line in enumerate(lines, 1)
    )
    return (
        f"---\nsearch:\n  exclude: true\n---\n\n# `{rel}`\n\n"
        f'<pre class="dl-source"><code>{body}</code></pre>\n'
    )


_CLAIM_ID = re.compile(r"(?<![\[\w])`([a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*)`(?![\]\w])")
"""A backticked claim id in prose, not already a link's text."""

_SRC_LINK = re.compile(r'href="dlsrc:([^"#]+)(#L\d+)?"')
_FIGNUM = '<span class="dl-fignum"></span>'


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Number the page's figures, and point figure and source links relative to the page."""
    import figures

    up = "../" * page.url.count("/")  # use_directory_urls: "ridge/" -> 1, "" (home) -> 0
    html = html.replace(f'src="{figures.FIGURE_URL}', f'src="{up}figures/')
    html = _SRC_LINK.sub(lambda m: f'href="{up}source/{m[1]}/{m[2] or ""}"', html)
    if page.file.src_uri.startswith("reference/"):
        html = _api_claims(html, up)
    parts = html.split(_FIGNUM)
    out = [parts[0]]
    for n, rest in enumerate(parts[1:], 1):
        out.append(f'<span class="dl-fignum" id="figure-{n}">Figure {n}.</span>{rest}')
    return "".join(out)


def _api_claims(html: str, up: str) -> str:
    """After each API entry's heading, the claims whose `code` names it, linked."""
    by_name: dict[str, list[registry.Claim]] = {}
    for c in _state["claims"].values():
        for name in c.code:
            by_name.setdefault(name, []).append(c)

    def add(m: re.Match[str]) -> str:
        claims = by_name.get(m["name"], [])
        if not claims:
            return m[0]
        links = ", ".join(
            f'<a href="{up}{c.chapter}/#{c.anchor}"><code>{c.id}</code></a>' for c in claims
        )
        return f'{m[0]}<p class="dl-api-claims">Claims that check it: {links}</p>'

    return re.sub(
        r'<h(?P<level>[1-6]) id="(?P<name>dlcore\.[\w.]+)"[^>]*>.*?</h(?P=level)>',
        add,
        html,
        flags=re.S,
    )


def on_post_build(config: Any) -> None:
    """Write the figures the pages rendered into `<site>/figures/`."""
    import figures

    out = Path(config.site_dir) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    for name, text in figures.FIGURES.items():
        (out / name).write_text(text, encoding="utf-8")


# --- facts about one claim ------------------------------------------------------------------


def refs_of(cid: str) -> list[registry.ClaimRef]:
    return [r for r in _state["refs"] if r.claim_id == cid]


def results_of(cid: str) -> list[dict[str, Any]]:
    report = _state["report"] or {}
    return report.get("claims", {}).get(cid, {}).get("results", [])


def status_of(claim: registry.Claim) -> str:
    if claim.check == "illustration":
        return "illustration"
    if not refs_of(claim.id):
        return "no test yet"
    if _state["report"] is None:
        return "not yet run"
    entry = _state["report"].get("claims", {}).get(claim.id)
    return entry["status"] if entry else "untested"


_BADGE_LOOK = {"passed": "passed verified", "not-implemented": "not-implemented untested"}
"""A conformance status drawn as the claim status it resembles (docs/stylesheets/claims.css)."""


def badge(status: str) -> str:
    css = _BADGE_LOOK.get(status, status.replace(" ", "-"))
    return f'<span class="dl-badge {css}">{status}</span>'


def _indent(text: str, n: int = 4) -> str:
    return textwrap.indent(text, " " * n)


def _code(ref: registry.ClaimRef) -> str:
    link = f"In {_where_link(ref)}, rendered with the rest of its file."
    return _indent(f"{link}\n\n```python\n{textwrap.dedent(ref.source)}\n```")


def _where(ref: registry.ClaimRef) -> str:
    return f"{ref.path.relative_to(ROOT).as_posix()}:{ref.lineno}"


def _where_link(ref: registry.ClaimRef) -> str:
    """`path:line` linked to the rendered source page (`on_files`), at that line."""
    rel = ref.path.relative_to(ROOT).as_posix()
    return f"[`{rel}:{ref.lineno}`](dlsrc:{rel}#L{ref.lineno})"


# --- rendering ------------------------------------------------------------------------------


def _clause_marks(c: registry.Claim) -> str:
    """The statement with each `⟨a⟩` rendered as an anchored label; ours are marked so."""

    def mark(m: re.Match[str]) -> str:
        label = m["label"]
        ours = label in c.added
        cls = "dl-clause dl-ours" if ours else "dl-clause"
        title = "not in the lecture: we add it" if ours else "a clause the lecture makes"
        return f'<span class="{cls}" id="{c.anchor}--{label}" title="{title}">{label}</span>'

    return registry.CLAUSE.sub(mark, c.statement)


def render_clause_map(c: registry.Claim) -> str:
    """Clause by clause, the tests whose `with clause(...)` blocks assert it."""
    if not c.clauses:
        return ""
    entry = ((_state.get("report") or {}).get("claims") or {}).get(c.id)
    ran = None if entry is None or "clauses_ran" not in entry else set(entry["clauses_ran"])
    rows = ["| clause | asserted by | in the latest report |", "|---|---|---|"]
    for label in c.clauses:
        tests = [
            f"`{r.function}` ({_where_link(r)})"
            for r in refs_of(c.id)
            if r.breaks is None and label in r.clauses
        ]
        ours = " (ours)" if label in c.added else ""
        link = (
            f'<a class="dl-clause{" dl-ours" * bool(ours)}" href="#{c.anchor}--{label}">{label}</a>'
        )
        latest = "–" if ran is None else "asserted, passed" if label in ran else "**not reached**"
        rows.append(f"| {link}{ours} | {', '.join(tests) or '**no test**'} | {latest} |")
    return '??? info "Clause by clause: the test that asserts each"\n\n' + _indent("\n".join(rows))


def render_claim(c: registry.Claim) -> str:
    status = status_of(c)
    out = [
        f'<div class="dl-claim" markdown="block">\n\n### {c.title} {{ #{c.anchor} }}\n',
        f'{badge(status)} <span class="dl-meta">`{c.id}` · {c.kind} · {c.priority}</span>\n',
    ]
    if c.lecture:
        out.append(f'!!! quote "What the lecture says"\n\n{_indent(c.lecture)}\n')
    out.append(f'!!! abstract "Statement"\n\n{_indent(_clause_marks(c))}\n')
    if c.added:
        labels = ", ".join(f'<span class="dl-clause dl-ours">{a}</span>' for a in c.added)
        out.append(
            f"*Beyond the lecture:* clause{'s' * (len(c.added) > 1)} {labels} "
            f"{'are' if len(c.added) > 1 else 'is'} not in the lecture; we add "
            f"{'them' if len(c.added) > 1 else 'it'}.\n"
        )
    if c.assumptions:
        out.append("**Assumptions**\n\n" + "\n".join(f"- {a}" for a in c.assumptions) + "\n")
    out.append(f"**Source:** {c.source}\n")
    if c.float32:
        out.append(f"**Not checked in float32:** {c.float32}\n")
    if c.erratum:
        out.append(f'!!! warning "Erratum: the lecture is wrong here"\n\n{_indent(c.erratum)}\n')

    refs = refs_of(c.id)
    checks = [r for r in refs if r.breaks is None]
    breaking = [r for r in refs if r.breaks is not None]
    if c.check == "illustration":
        out.append("*Checked by illustration: the figure on this page, not a property test.*\n")
    elif not checks:
        out.append('!!! failure "No test yet"\n\n    No test in `tests/claims/` carries this id.\n')
    for r in checks:
        out.append(f'??? example "Test: `{r.function}` ({_where(r)})"\n\n{_code(r)}\n')
    if breaking:
        out.append("**Where it breaks**\n")
        for r in breaking:
            out.append(f"Dropping the assumption **{r.breaks}** makes the conclusion fail.\n")
            kind = "failure" if _failed(r) else "info"  # red only when the breaking test failed
            out.append(f'??? {kind} "Breaking case: `{r.function}` ({_where(r)})"\n\n{_code(r)}\n')
    out.append(render_clause_map(c))
    out.append(render_failures(c))
    out.append(render_results(c))
    out.append("</div>\n")
    cls = "dl-claim dl-failed" if status == "failed" else "dl-claim"
    out[0] = out[0].replace('class="dl-claim"', f'class="{cls}"', 1)
    return "\n".join(out)


def _failed(ref: registry.ClaimRef) -> bool:
    return any(r.get("function") == ref.function for r in failed_results(ref.claim_id))


def failed_results(cid: str) -> list[dict[str, Any]]:
    return [r for r in results_of(cid) if r.get("outcome") == "failed"]


def render_failures(c: registry.Claim) -> str:
    """Each failed test of the latest run: its message, falsifying example and replay command."""
    out = []
    for r in failed_results(c.id):
        body = [f"`{r.get('test', r.get('function'))}`\n"]
        if r.get("message"):
            body.append("Assertion:\n\n```text\n" + r["message"].strip() + "\n```\n")
        if r.get("example"):
            body.append("Falsifying example:\n\n```text\n" + r["example"].strip() + "\n```\n")
        if r.get("reproduce"):
            body.append("Replay:\n\n```bash\n" + r["reproduce"] + "\n```\n")
        if r.get("reproduce_pytest"):
            body.append("Or with pytest alone:\n\n```bash\n" + r["reproduce_pytest"] + "\n```\n")
        title = f"Failed: {r.get('function')} on {r.get('backend', 'n/a')}"
        out.append(f'!!! failure "{title}"\n\n' + _indent("\n".join(body)) + "\n")
    return "\n".join(out)


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.3g}"


def cuda_results_of(cid: str) -> list[dict[str, Any]]:
    cuda = _state.get("cuda") or {}
    return cuda.get("claims", {}).get(cid, {}).get("results", [])


def cuda_provenance() -> str:
    cuda = _state.get("cuda") or {}
    env = cuda.get("environment", {})
    return (
        f"{env.get('cuda_device', 'a CUDA device')}, torch {env.get('torch', '?')}, "
        f"{cuda.get('created', '?')[:10]}, commit `{cuda.get('commit') or 'unknown'}`"
    )


def _results_table(results: list[dict[str, Any]], *, with_time: bool) -> tuple[str, Counter[str]]:
    """The results of one claim, one row per test, its backends as chips coloured by outcome
    (hover for examples, ratio and time); and the count of outcomes."""
    by_test: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(results, key=lambda r: (r.get("breaks") is not None, r["function"])):
        by_test.setdefault(r["function"], []).append(r)
    rows = [
        "| test | backends | examples | worst error / tolerance |" + (" time (s) |" * with_time),
        "|---|---|---:|---:|" + ("---:|" * with_time),
    ]
    for function, runs in by_test.items():
        name = f"`{function}`" + (" (breaking case)" if runs[0].get("breaks") else "")
        chips = " ".join(_chip(r) for r in runs)
        examples = sum(r.get("examples") or 0 for r in runs)
        ratios = [r["worst_ratio"] for r in runs if r.get("worst_ratio") is not None]
        time = sum(r.get("duration") or 0.0 for r in runs)
        rows.append(
            f"| {name} | {chips} | {examples or '–'} | {_ratio(max(ratios, default=None))} |"
            + (f" {time:.2f} |" if with_time else "")
        )
    return "\n".join(rows), Counter(r.get("outcome", "?") for r in results)


def _chip(r: dict[str, Any]) -> str:
    outcome = r.get("outcome", "?")
    css = {"passed": "ok", "failed": "bad"}.get(outcome, "other")
    tip = f"{outcome}; examples {r.get('examples') or '–'}; worst {_ratio(r.get('worst_ratio'))}"
    return f'<span class="dl-chip {css}" title="{tip}">{r.get("backend", "n/a")}</span>'


def _admonition(title: str, counts: Counter[str], body: str) -> str:
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    opener = "???+" if counts.get("failed") else "???"  # open when something failed
    return f'{opener} note "{title}: {summary}"\n\n' + _indent(body) + "\n"


def render_cuda_results(c: registry.Claim) -> str:
    results = cuda_results_of(c.id)
    if not results:
        return ""
    table, counts = _results_table(results, with_time=False)
    where = f"On {cuda_provenance()} (the last GPU run; CI has no GPU).\n\n"
    return _admonition("Recorded CUDA run", counts, where + table)


def render_results(c: registry.Claim) -> str:
    return _render_cpu_results(c) + "\n" + render_cuda_results(c)


def _render_cpu_results(c: registry.Claim) -> str:
    results = results_of(c.id)
    if not results:
        if _state["report"] is None:
            return "*Latest results: not yet run (no claim report; run `nox -s tests`).*\n"
        return "*Latest results: none in the current report.*\n"
    table, counts = _results_table(results, with_time=True)
    return _admonition("Latest results", counts, table)


def render_board(files: Any) -> str:
    report = _state["report"]
    if report is None:
        head = "*No claim report yet: run `nox -s tests` (or `nox -s docs`) to fill this table.*"
    else:
        head = (
            f"Report created **{report.get('created', '?')}**, commit "
            f"`{report.get('commit') or 'unknown'}`, Hypothesis profile "
            f"`{report.get('profile', '?')}`."
        )
    if _state.get("cuda") is not None:
        head += (
            f" CUDA column: the recorded GPU run on {cuda_provenance()}, profile "
            f"`{_state['cuda'].get('profile', '?')}`."
        )
    sweep = _state.get("sweep")
    if sweep is not None:
        head += (
            f" Sweep columns: {len(sweep.get('seeds', []))} random seeds, profile "
            f"`{sweep.get('profile', '?')}`, {sweep.get('created', '?')[:10]}, commit "
            f"`{sweep.get('commit') or 'unknown'}` (`nox -s sweep -- N --record`); a worst "
            f"error/tolerance ratio above {THIN_MARGIN} is marked *thin margin*."
        )
    return board(files, head)


def board(files: Any, head: str) -> str:
    """The board of the report in `_state`: `head`, a summary of the statuses, the failed claims,
    then the sortable table. One body for the claims board (`render_board`) and every
    conformance board (`conformance_board`)."""
    statuses = Counter(status_of(c) for c in _state["claims"].values())
    summary = ", ".join(f"{n} {status}" for status, n in statuses.most_common())
    intro = f"{head}\n\n**{len(_state['claims'])} claims:** {summary}.\n"
    return intro + "\n" + render_failure_list(files) + "\n" + board_table() + "\n"


# --- conformance boards: the same board over a report of `tools/conformance.py` -------------

CONFORMANCE_ORDER = ["failed", "not-implemented", "skipped", "untested", "no test yet", "passed"]
"""A conformance board's default order: failures first, then what is left to implement."""


class _NoPages:
    """`files` for a board outside the site (`tools/conformance.py --html`): no chapter pages."""

    def get_file_from_path(self, path: str) -> None:
        return None


@contextmanager
def _board_of(**state: Any) -> Iterator[None]:
    """Render with `state` in place of the claim report's (restored afterwards)."""
    saved = dict(_state)
    _state.update(state)
    try:
        yield
    finally:
        _state.clear()
        _state.update(saved)


def conformance_board(report: dict[str, Any], files: Any = None) -> str:
    """The board of a conformance report (`tools/conformance.py`), by the claims board's code:
    its statuses (passed, failed, not-implemented, skipped), the failed claims first, each with
    its statement, source, assertion, falsifying example and replay commands. `files` is the
    site's (claim links go to the chapter pages), or None outside the site."""
    site = files is not None
    claims = _state.get("claims") or registry.load()
    refs = _state.get("refs") or registry.find_claim_refs(TESTS_DIR)
    entries = {
        cid: {**e, "results": [_named(t) for t in e.get("tests", [])]}
        for cid, e in report["claims"].items()
    }
    with _board_of(
        claims=claims,
        refs=refs,
        report={**report, "claims": entries},
        cuda=None,
        sweep=None,
        conformance=True,
        order=CONFORMANCE_ORDER,
        href=None if site else (lambda c: f"#{c.anchor}"),
    ):
        return board(files if site else _NoPages(), conformance_head(report))


def _named(test: dict[str, Any]) -> dict[str, Any]:
    """A conformance test record with its function's name (from its node id where a report
    written before the name was recorded lacks it)."""
    nodeid = test.get("test") or "?"
    return {"function": nodeid.split("::")[-1].split("[")[0], **test}


def conformance_head(report: dict[str, Any]) -> str:
    where = report.get("implementation", "?")
    budget = report.get("examples") or "the default"
    seed = report.get("seed")
    return (
        f"Implementation `{where}`: conformance report created **{report.get('created', '?')}**, "
        f"commit `{report.get('commit') or 'unknown'}`, Hypothesis profile "
        f"`{report.get('profile', '?')}`, {budget} examples per test, "
        + (f"seed `{seed}`." if seed is not None else "derandomized (no seed).")
    )


def render_torch_board(files: Any) -> str:
    """The torch adapter's board on `pytorch.md`, or how to produce its report."""
    path = torch_report_path()
    if not path.is_file():
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        return (
            f'!!! info "No conformance report of the torch adapter yet"\n\n'
            f"    `{rel}` is missing, so this page shows no results. Produce it with\n\n"
            f"    ```bash\n    nox -s conformance -- adapters/torch --report {rel}\n    ```\n\n"
            "    then rebuild the site (`nox -s docs` does both).\n"
        )
    return conformance_board(json.loads(path.read_text(encoding="utf-8")), files)


STATUS_ORDER = ["failed", "partial", "untested", "no test yet", "not yet run", "verified"]
"""The board's default order: failures first, then by chapter and the spec's order."""

_FILTERS = ("status", "chapter", "kind", "priority")


def board_table() -> str:
    """The board as one HTML table whose rows carry `data-*` sort keys (sorted and filtered by
    `docs/javascripts/board.js`), failures first."""
    claims = list(_state["claims"].values())
    order = {
        cid: i
        for i, cid in enumerate(
            c.id for cs in registry.claims_by_chapter(_state["claims"]).values() for c in cs
        )
    }

    statuses = _state.get("order", STATUS_ORDER)
    href = _state.get("href") or (lambda c: f"../{c.chapter}/#{c.anchor}")

    def rank(c: registry.Claim) -> tuple[int, int]:
        st = status_of(c)
        return (statuses.index(st) if st in statuses else len(statuses), order[c.id])

    rows = []
    for c in sorted(claims, key=rank):
        refs = refs_of(c.id)
        n_break = sum(r.breaks is not None for r in refs)
        passed = backends_passed(c.id)
        ran = sorted({r.get("backend") for r in results_of(c.id)} - {None, "n/a"})
        chips = "".join(
            f'<span class="dl-chip {"ok" if b in passed else "bad"}">{b}</span>' for b in ran
        )
        cuda_passed = backends_passed(c.id, cuda_results_of(c.id))
        cuda_ran = {r.get("backend") for r in cuda_results_of(c.id)} - {None, "n/a"}
        worst = worst_ratio(c.id)
        status = status_of(c)
        cells = {
            "claim": (
                f'<a href="{href(c)}"><code>{c.id}</code></a>'
                f'<br><span class="dl-title">{html_escape(c.title)}</span>',
                c.id,
            ),
            "status": (badge(status), str(rank(c)[0])),
            "margin": (_ratio(worst), "" if worst is None else f"{worst:.6e}"),
            "backends": (chips or "–", str(len(passed))),
            "chapter": (registry.CHAPTERS[c.chapter], str(order[c.id]).zfill(4)),
            "kind": (c.kind, c.kind),
            "priority": (c.priority, c.priority),
            "tests": (
                f"{len(refs)}" + (f" ({n_break} breaking)" if n_break else ""),
                str(len(refs)).zfill(3),
            ),
            "sweep": (sweep_cell(c.id), sweep_key(c.id)),
            "cuda": (
                f"{len(cuda_passed)}/{len(cuda_ran)}" if cuda_ran else "–",
                str(len(cuda_passed)),
            ),
        }
        if _state.get("conformance"):  # no sweep or GPU run; the infrastructure a claim rests on
            del cells["sweep"], cells["cuda"]
            rests = rests_on(c.id)
            cells["rests"] = (", ".join(f"<code>{m}</code>" for m in rests) or "–", " ".join(rests))
        data = " ".join(
            f'data-{k}="{html_escape(v)}"'
            for k, v in (
                ("status", status),
                ("chapter", c.chapter),
                ("kind", c.kind),
                ("priority", c.priority),
            )
        )
        tds = "".join(
            f'<td class="dl-col-{k}" data-key="{html_escape(key)}">{cell}</td>'
            for k, (cell, key) in cells.items()
        )
        rows.append(f"<tr {data}>{tds}</tr>")
    heads = {
        "claim": "claim",
        "status": "status",
        "margin": "worst err/tol",
        "backends": "CPU backends",
        "chapter": "chapter",
        "kind": "kind",
        "priority": "priority",
        "tests": "tests",
        "sweep": "sweep pass rate",
        "cuda": "CUDA (recorded)",
    }
    if _state.get("conformance"):
        del heads["sweep"], heads["cuda"]
        heads["rests"] = "rests on"
    ths = "".join(
        f'<th class="dl-col-{k}"><button type="button" data-sort="{k}">{label}</button></th>'
        for k, label in heads.items()
    )
    options = {
        "status": sorted(
            {status_of(c) for c in claims},
            key=lambda s: (s not in statuses, statuses.index(s) if s in statuses else 0, s),
        ),
        "chapter": [ch for ch in registry.CHAPTERS if any(c.chapter == ch for c in claims)],
        "kind": sorted({c.kind for c in claims}),
        "priority": sorted({c.priority for c in claims}),
    }
    selects = "".join(
        f'<label>{name} <select data-filter="{name}"><option value="">all</option>'
        + "".join(
            f'<option value="{html_escape(v)}">{html_escape(registry.CHAPTERS.get(v, v) if name == "chapter" else v)}</option>'
            for v in values
        )
        + "</select></label>"
        for name, values in options.items()
    )
    controls = (
        f'<div class="dl-board-controls">{selects}'
        '<label>search <input type="search" data-filter="text" placeholder="id or title"></label>'
        '<span class="dl-board-count"></span></div>'
    )
    return (
        f'<div class="dl-board">{controls}<div class="dl-board-scroll"><table class="dl-board-table">'
        f"<thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></div>"
    )


def html_escape(text: str) -> str:
    import html

    return html.escape(str(text), quote=True)


def sweep_key(cid: str) -> str:
    entry = (_state.get("sweep") or {}).get("claims", {}).get(cid)
    if not entry or not entry.get("runs"):
        return ""
    return f"{entry['passed'] / entry['runs']:.6f}"


THIN_MARGIN = 0.5
"""A worst error/tolerance ratio above this over a sweep marks a thin margin."""


def worst_ratio(cid: str) -> float | None:
    ratios = [r["worst_ratio"] for r in results_of(cid) if r.get("worst_ratio") is not None]
    return max(ratios, default=None)


def sweep_cell(cid: str) -> str:
    """`passed/runs` over the recorded sweep, with the sweep's worst ratio and a thin-margin flag."""
    entry = (_state.get("sweep") or {}).get("claims", {}).get(cid)
    if not entry or not entry.get("runs"):
        return "–"
    cell = f"{entry['passed']}/{entry['runs']}"
    worst = entry.get("worst_ratio")
    if worst is not None:
        cell += f" (worst {worst:.2g})"
        if worst > THIN_MARGIN:
            cell += ' <span class="dl-badge thin-margin">thin margin</span>'
    return cell


def rests_on(cid: str) -> list[str]:
    """The infrastructure modules (shipped whole by the skeleton) a conformance report says the
    claim's tests exercise."""
    entry = ((_state.get("report") or {}).get("claims") or {}).get(cid) or {}
    return list(entry.get("rests_on") or ())


def render_failure_details(c: registry.Claim) -> str:
    """A failed claim on a conformance board: what it states, where the lecture makes it, what
    it rests on, and each failed test (assertion, example, replay commands)."""
    rests = ", ".join(f"`{m}`" for m in rests_on(c.id))
    body = [f"**Statement.** {_clause_marks(c)}\n", f"**Source:** {c.source}\n"]
    if c.lecture:
        body.append(f"**What the lecture says.** {c.lecture}\n")
    if rests:
        body.append(f"**Rests on the infrastructure** (shipped whole by the skeleton): {rests}\n")
    body.append(render_failures(c))
    return (
        f'<a id="{c.anchor}"></a>\n\n!!! failure "`{c.id}`: {c.title}"\n\n'
        + _indent("\n".join(body))
        + "\n"
    )


def render_failure_list(files: Any) -> str:
    """The failed claims of the latest report, first on the board, each linked to its block
    (on a conformance board, each followed by its details)."""
    failed = [c for c in _state["claims"].values() if failed_results(c.id)]
    if not failed:
        return ""
    lines = [f'!!! failure "{len(failed)} claim(s) failed in the latest report"\n']
    for c in failed:
        page = f"{c.chapter}.md"
        link = f"[`{c.id}`]({page}#{c.anchor})" if files.get_file_from_path(page) else f"`{c.id}`"
        if _state.get("conformance") and not files.get_file_from_path(page):
            link = f"[`{c.id}`](#{c.anchor})"  # outside the site: to its details below
        tests = ", ".join(
            f"`{r.get('function')}` on {r.get('backend', 'n/a')}" for r in failed_results(c.id)
        )
        lines.append(f"    - {link}: {tests}")
    if _state.get("conformance"):
        lines += ["", *(render_failure_details(c) for c in failed)]
    return "\n".join(lines) + "\n"


def backends_passed(cid: str, results: list[dict[str, Any]] | None = None) -> list[str]:
    """Backends on which every recorded test of the claim passed (in `results`, or the report)."""
    by_backend: dict[str, list[str]] = {}
    for r in results_of(cid) if results is None else results:
        by_backend.setdefault(r.get("backend", "n/a"), []).append(r.get("outcome", "?"))
    return [b for b, outs in by_backend.items() if b != "n/a" and all(o == "passed" for o in outs)]


def render_chapters(files: Any) -> str:
    """The chapters in the course's order, each with its claim count and status, then the board."""
    lines = []
    for chapter, claims in registry.claims_by_chapter(_state["claims"]).items():
        if files.get_file_from_path(f"{chapter}.md") is None:
            continue
        counts = Counter(status_of(c) for c in claims)
        summary = ", ".join(f"{n} {st}" for st, n in counts.most_common())
        lines.append(f"1. [{registry.CHAPTERS[chapter]}]({chapter}.md): {summary}.")
    lines.append("\nEvery claim, with its status, is on the [claims board](claims.md).\n")
    return "\n".join(lines)


def render_ledger(files: Any) -> str:
    """The counterexample ledger (`docs/data/counterexamples.toml`), one block per entry."""
    import tomllib

    entries = tomllib.loads(LEDGER.read_text(encoding="utf-8")).get("counterexample", [])
    out = [f"**{len(entries)} counterexamples**, each pinned as an `@example` on its test.\n"]
    for e in entries:
        c = _state["claims"].get(e["claim"])
        if c is None:
            raise PluginError(f"{LEDGER}: unknown claim {e['claim']!r}")
        page = f"{c.chapter}.md"
        link = f"[`{c.id}`]({page}#{c.anchor})" if files.get_file_from_path(page) else f"`{c.id}`"
        out.append(
            f"### {c.title}\n\n{link} · `{e['test'].split('::')[-1]}` · found by {e['found']}\n\n"
            f"```python\n@example({e['example']})\n```\n\n"
            f"**Cause.** {e['cause']}\n\n**Fix.** {e['fix']}\n"
        )
    return "\n".join(out)
