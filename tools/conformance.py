"""Judge any implementation of dlcore by the claims: `nox -s conformance -- DIR [options]`.

DIR holds a package named `dlcore` (a student's repository, a fork, an adapter, or a skeleton
from `nox -s skeleton`). The claim tests run against it, DIR first on the import path, under a
fixed Hypothesis profile (`conformance`: derandomized, so two runs on one implementation agree).
Each claim gets one status:

- `passed`: every test of the claim that ran passed;
- `failed`: some test failed on its assertions (or raised anything but NotImplementedError);
- `not-implemented`: a test reached `NotImplementedError` or a name the package lacks (stubbed
  by `tools/conformance_plugin.py`), and none failed; never counted as failed;
- `skipped`: nothing ran (a backend that is absent, say).

Writes `build/conformance-report.json` (`--report PATH`): `{"claims": {id: {"status", "chapter",
"title", "statement", "source", "lecture", "rests_on", "tests": [...]}}, ...}`, where each
failed test keeps its assertion message (expected against actual), its falsifying example and
two commands that replay it (`reproduce`: the nox line; `reproduce_pytest`: pytest alone), and
`rests_on` names the infrastructure modules (shipped whole by `tools/skeleton.py`) that the
claim's tests exercise. Prints a per-chapter table, the claims resting on each infrastructure
module, and each failed claim with its statement, lecture source, assertion, example and replay
commands. Exits 1 if and only if a claim failed (`--strict`: or is not implemented).

Options: `--strict`; `--seed S` and `--examples N` (an instructor's private run: a seed and an
example budget the public run does not use); `--report PATH`; `--html OUT` (the board, rendered
by the claims board's code, `docs/hooks/claims.py`, into OUT/index.html, or OUT if it ends in
`.html`, with MathJax beside it in `mathjax/`); anything after `--` goes to pytest (e.g. `-k
ridge`, or test files or node ids, which then replace `tests/claims`).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import inspect
import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "build" / "conformance-report.json"
MANIFEST = ROOT / "build" / "dlcore-api.json"
NOT_IMPLEMENTED = "NotImplementedError"
EXAMPLES = 30
"""Examples per test of the conformance profile (`--examples` changes it)."""


def api_manifest() -> dict[str, list[str]]:
    """The reference API: each public module of the repository's dlcore and its `__all__`."""
    sys.path.insert(0, str(ROOT))
    import importlib

    out = {}
    for path in sorted((ROOT / "dlcore").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        mod = importlib.import_module(f"dlcore.{path.stem}")
        out[path.stem] = [
            n for n in getattr(mod, "__all__", []) if not inspect.ismodule(getattr(mod, n, None))
        ]
    return out


def raw_path(report: Path) -> Path:
    """Where the test run writes its claim report (tests/support/report.py), next to `report`."""
    return report.with_name(report.stem + "-raw.json")


def implementation_digest(target: Path) -> str:
    """SHA-256 over the implementation under test (`target/dlcore`), this tool and the tree
    digest of the specification (tests/support/digest.py): equal digests, equal verdicts.
    Standard library only: the noxfile calls it to decide whether a report is stale."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_digest", ROOT / "tests/support/digest.py")
    assert spec is not None and spec.loader is not None
    digest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(digest)
    h = hashlib.sha256(digest.tree_digest().encode())
    files = sorted((target / "dlcore").rglob("*.py")) + sorted(ROOT.glob("tools/conformance*.py"))
    for f in files:
        if "__pycache__" not in f.parts:
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _imports(tree: ast.AST) -> dict[str, str]:
    """Each name that `tree` imports from dlcore or tests.support -> its module there
    (`dlcore.optim`, `tests.support.tolerances`, ...)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(("dlcore", "tests.support")):
                for a in node.names:
                    whole = node.module in ("dlcore", "tests.support")
                    out[a.asname or a.name] = f"{node.module}.{a.name}" if whole else node.module
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(("dlcore.", "tests.support.")):
                    out[a.asname or a.name] = a.name
    return out


def _dlcore_modules(imports: dict[str, str], names: set[str] | None = None) -> set[str]:
    """The dlcore modules among `imports` (of the imported `names`, if given)."""
    return {
        m.split(".")[1]
        for n, m in imports.items()
        if m.startswith("dlcore.") and (names is None or n in names)
    }


def infrastructure_map() -> dict[str, list[str]]:
    """Claim id -> the infrastructure modules (`tools/skeleton.py` `INFRASTRUCTURE`, the package
    `__init__` aside) that its tests exercise: those that the dlcore modules named by the claim's
    `code` and used by its tests (directly or through `tests/support`) import, transitively, in
    the repository's dlcore."""
    sys.path.insert(0, str(ROOT))
    from skeleton import INFRASTRUCTURE

    from spec.registry import find_claim_refs, load

    def imports_of(path: Path) -> dict[str, str]:
        return _imports(ast.parse(path.read_text(encoding="utf-8")))

    infra = {Path(n).stem for n in INFRASTRUCTURE} - {"__init__"}
    deps = {p.stem: _dlcore_modules(imports_of(p)) for p in (ROOT / "dlcore").glob("*.py")}
    support = {
        f"tests.support.{p.stem}": _dlcore_modules(imports_of(p))
        for p in (ROOT / "tests" / "support").glob("*.py")
    }

    def closure(mods: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(mods)
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo += deps.get(m, ())
        return seen

    per_file: dict[Path, dict[str, str]] = {}
    used: dict[str, set[str]] = {}
    for ref in find_claim_refs(ROOT / "tests" / "claims"):
        if ref.path not in per_file:
            per_file[ref.path] = imports_of(ref.path)
        imports = per_file[ref.path]
        fn = ast.parse(textwrap.dedent(ref.source))
        names = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
        local = _imports(fn)  # imports inside the test function
        mods = _dlcore_modules(imports, names) | _dlcore_modules(local)
        for n, m in {**imports, **local}.items():  # through the tests/support names it uses
            if n in names and m in support:
                mods |= support[m]
        used.setdefault(ref.claim_id, set()).update(mods)
    out = {}
    for cid, c in load().items():
        mods = used.get(cid, set()) | {name.split(".")[1] for name in c.code if "." in name}
        out[cid] = sorted(closure(mods) & infra)
    return out


def replay_commands(
    nodeid: str, target: Path, seed: int | None, examples: int | None
) -> dict[str, str]:
    """Two commands, run from the repository root, that replay one test on `target`: through
    nox (`reproduce`) and with pytest alone (`reproduce_pytest`)."""
    where = target.relative_to(ROOT).as_posix() if target.is_relative_to(ROOT) else str(target)
    opts = (f" --seed {seed}" if seed is not None else "") + (
        f" --examples {examples}" if examples is not None else ""
    )
    env = f"HYPOTHESIS_PROFILE=conformance DLCORE_CONFORMANCE_EXAMPLES={examples or EXAMPLES}"
    if seed is not None:
        env += f" DLCORE_CONFORMANCE_SEED={seed}"
    seed_opt = f" --hypothesis-seed={seed}" if seed is not None else ""
    return {
        "reproduce": f"nox -s conformance -- {shlex.quote(where)}{opts} -- -n 0 {shlex.quote(nodeid)}",
        "reproduce_pytest": (
            f"{env} DLCORE_API_MANIFEST={MANIFEST.relative_to(ROOT)} PYTHONPATH=tools "
            f"python -P -m pytest -p no:cacheprovider -p conformance_plugin --import-mode=append "
            f"-o {shlex.quote(f'pythonpath={where} .')} {shlex.quote(nodeid)}{seed_opt}"
        ),
    }


def pytest_command(target: Path, extra: list[str], seed: int | None) -> list[str]:
    """The pytest run on `target`; test files or node ids in `extra` replace `tests/claims`."""
    workers = [] if "-n" in extra else ["-n", os.environ.get("DLCORE_WORKERS", "auto")]
    chosen = any(a.startswith("tests/") for a in extra)
    seeded = [] if seed is None else [f"--hypothesis-seed={seed}"]
    return [
        # -P: no current directory at sys.path[0]; --import-mode=append: pytest does not put the
        # repository first when it imports conftest.py. So sys.path is [DIR, repository, ...].
        sys.executable, "-P", "-m", "pytest", *([] if chosen else ["tests/claims"]),
        "-m", "not cuda", "-q", "-p", "no:cacheprovider", "-p", "conformance_plugin",
        "--import-mode=append", "-o", f"pythonpath={target} .", *seeded, *workers, *extra,
    ]  # fmt: skip


def classify(results: list[dict]) -> str:
    """One claim's status from its test results (see the module docstring)."""
    ran = [r for r in results if r.get("outcome") in ("passed", "failed")]
    if not ran:
        return "skipped"
    failed = [r for r in ran if r["outcome"] == "failed"]
    if any(NOT_IMPLEMENTED not in (r.get("message") or "") for r in failed):
        return "failed"
    return "not-implemented" if failed else "passed"


_KEEP = (
    "function",
    "backend",
    "outcome",
    "examples",
    "worst_ratio",
    "message",
    "example",
    "breaks",
)


def conformance_report(
    raw: dict,
    target: Path,
    *,
    seed: int | None = None,
    examples: int | None = None,
    rests: dict[str, list[str]] | None = None,
) -> dict:
    """The conformance report from the test run's claim report `raw` (tests/support/report.py):
    each claim's status, statement, source and infrastructure, and its tests, a failed one with
    its replay commands."""
    from spec.registry import load

    spec = load()
    claims = {}
    for cid, entry in sorted(raw.get("claims", {}).items()):
        tests = []
        for r in entry.get("results", []):
            t = {"test": r.get("test"), **{k: r[k] for k in _KEEP if r.get(k) is not None}}
            if r.get("outcome") == "failed" and r.get("test"):
                t.update(replay_commands(r["test"], target, seed, examples))
            tests.append(t)
        c = spec.get(cid)
        claims[cid] = {
            "chapter": entry.get("chapter"),
            "status": classify(entry.get("results", [])),
            "title": c.title if c else None,
            "statement": c.statement if c else None,
            "source": c.source if c else None,
            "lecture": c.lecture if c else None,
            "rests_on": (rests or {}).get(cid, []),
            "tests": tests,
        }
    counts = Counter(c["status"] for c in claims.values())
    where = target.relative_to(ROOT).as_posix() if target.is_relative_to(ROOT) else str(target)
    return {
        "implementation": where,
        "created": raw.get("created"),
        "commit": raw.get("commit"),
        "profile": raw.get("profile"),
        "seed": raw.get("seed"),
        "examples": examples or EXAMPLES,
        "digest": implementation_digest(target),
        "complete": raw.get("complete", False),
        "summary": dict(counts),
        "claims": claims,
    }


COLS = ("passed", "failed", "not-implemented", "skipped")


def format_table(report: dict) -> str:
    """The per-chapter table, the claims resting on each infrastructure module, and each failed
    claim with everything needed to act on it."""
    by_chapter: dict[str, Counter] = {}
    for c in report["claims"].values():
        by_chapter.setdefault(c["chapter"] or "?", Counter())[c["status"]] += 1
    out = [f"\n{'chapter':18s}" + "".join(f"{c:>17s}" for c in COLS)]
    for chapter, n in by_chapter.items():
        out.append(f"{chapter:18s}" + "".join(f"{n.get(c, 0):17d}" for c in COLS))
    total = Counter(report["summary"])
    out.append(f"{'all':18s}" + "".join(f"{total.get(c, 0):17d}" for c in COLS))
    resting: dict[str, list[str]] = {}
    for cid, c in report["claims"].items():
        for m in c.get("rests_on") or ():
            resting.setdefault(m, []).append(cid)
    if resting:
        out.append("\nclaims resting on infrastructure shipped whole by the skeleton:")
        for m, ids in sorted(resting.items()):
            bad = [i for i in ids if report["claims"][i]["status"] == "failed"]
            out.append(
                f"  dlcore/{m}.py: {len(ids)} claim(s)"
                + (f", failed: {', '.join(bad)}" if bad else "")
            )
    for cid, c in report["claims"].items():
        if c["status"] == "failed":
            out.append(format_failure(cid, c))
    return "\n".join(out)


def format_failure(cid: str, c: dict) -> str:
    """One failed claim: statement, source, infrastructure, then each failed test function with
    its first failure in full (assertion, example, replay commands) and the other backends on
    which it failed."""
    lines = [
        f"\n{'=' * 78}\nFAILED {cid}: {c.get('title') or ''}",
        f"statement: {(c.get('statement') or '').strip()}",
        f"lecture source: {c.get('source') or '?'}",
    ]
    if c.get("rests_on"):
        lines.append(f"rests on (infrastructure): {', '.join(c['rests_on'])}")
    by_function: dict[str, list[dict]] = {}
    for t in c["tests"]:
        if t.get("outcome") == "failed" and NOT_IMPLEMENTED not in (t.get("message") or ""):
            by_function.setdefault(t.get("function") or t.get("test") or "?", []).append(t)
    for tests in by_function.values():
        t = tests[0]
        lines += [f"\n--- {t.get('test')}", (t.get("message") or "").strip()[:1500]]
        if t.get("example"):
            lines.append(t["example"].strip()[:1500])
        lines.append(f"replay: {t.get('reproduce')}")
        lines.append(f"   or: {t.get('reproduce_pytest')}")
        if len(tests) > 1:
            lines.append("also failed on: " + ", ".join(str(u.get("backend")) for u in tests[1:]))
    return "\n".join(lines)


def write_html(report: dict, out: Path) -> Path:
    """The conformance board as one standalone page: the claims board's code
    (`docs/hooks/claims.py` `conformance_board`), its script, stylesheet and MathJax
    configuration inlined, and the formulas typeset by the site's MathJax, copied beside the page
    into `mathjax/` (see `copy_mathjax`)."""
    import markdown

    sys.path[:0] = [str(ROOT), str(ROOT / "docs" / "hooks")]
    import claims as hooks

    text = markdown.markdown(
        f"# Conformance of `{report.get('implementation')}`\n\n" + hooks.conformance_board(report),
        extensions=[
            "admonition", "attr_list", "md_in_html", "tables", "pymdownx.details",
            "pymdownx.superfences", "pymdownx.arithmatex",
        ],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},  # as in mkdocs.yml
    )  # fmt: skip
    css = (ROOT / "docs" / "stylesheets" / "claims.css").read_text(encoding="utf-8")
    js = (ROOT / "docs" / "javascripts" / "board.js").read_text(encoding="utf-8")
    config = (ROOT / "docs" / "javascripts" / "mathjax-config.js").read_text(encoding="utf-8")
    path = out if out.suffix == ".html" else out / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    copy_mathjax(path.parent / "mathjax")
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no favicon request
        f"<title>dlcore conformance: {report.get('implementation')}</title>"
        f"<style>{css}\n{_PAGE_CSS}</style>\n<script>{config}</script>\n"
        '<script src="mathjax/tex-mml-chtml.js" defer></script></head>\n<body>\n'
        f"{text}\n<script>{js}</script></body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path


# what the board loads of the site's MathJax: the bundle, the lazy-typesetting module the shared
# configuration asks for, and the fonts of the CHTML output (1.6 MB of the package's 24 MB)
MATHJAX_PARTS = ("ui/lazy.js", "output/chtml/fonts/woff-v2")


def copy_mathjax(target: Path) -> None:
    """Copy the site's MathJax (`docs/hooks/mathjax.py` `TARGET`) to `target`, installing it first
    with that script where it is missing (from npm; without npm it writes a loader that fetches
    MathJax from a CDN, and only that loader is copied)."""
    hooks = str(ROOT / "docs" / "hooks")
    if hooks not in sys.path:
        sys.path.insert(0, hooks)
    import mathjax

    if not (mathjax.TARGET / mathjax.ENTRY).exists():
        mathjax.main()
    for part in (mathjax.ENTRY, *MATHJAX_PARTS):
        src, dst = mathjax.TARGET / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


_PAGE_CSS = """body { font: 15px/1.5 system-ui, sans-serif; margin: 1rem auto; max-width: 80rem;
  padding: 0 1rem; --md-primary-fg-color: #3f51b5; }
.admonition, details { border-left: 0.25rem solid #757575; padding: 0.2rem 0.8rem;
  margin: 0.8rem 0; background: #f5f5f5; }
.admonition.failure, details.failure { border-left-color: #c62828; }
.admonition-title { font-weight: 700; }
pre { overflow-x: auto; background: #eee; padding: 0.5rem; }
.dl-board-scroll { overflow-x: auto; } table { border-collapse: collapse; }
td, th { border-bottom: 1px solid #ddd; padding: 0.2rem 0.4rem; vertical-align: top; }
.dl-chip { display: inline-block; margin: 0 0.2em; padding: 0 0.3em; border-radius: 0.3em;
  font-size: 0.75rem; } .dl-chip.ok { background: #c8e6c9; } .dl-chip.bad { background: #ffcdd2; }
"""


def main(argv: list[str]) -> int:
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    else:
        extra = []
    parser = argparse.ArgumentParser(
        prog="nox -s conformance --", description=__doc__.splitlines()[0]
    )
    parser.add_argument("dir", type=Path, help="a folder holding a package named dlcore")
    parser.add_argument("--strict", action="store_true", help="also fail on not-implemented")
    parser.add_argument("--seed", type=int, help="a private Hypothesis seed (random search)")
    parser.add_argument("--examples", type=int, help=f"examples per test (default {EXAMPLES})")
    parser.add_argument("--report", type=Path, default=REPORT, help="where to write the report")
    parser.add_argument("--html", type=Path, help="also render the board into this folder")
    args = parser.parse_args(argv)
    target = args.dir.resolve()
    if not (target / "dlcore" / "__init__.py").is_file():
        parser.error(f"{args.dir} holds no package dlcore (no {args.dir}/dlcore/__init__.py)")
    report_file = args.report.resolve()
    raw = raw_path(report_file)
    raw.unlink(missing_ok=True)
    MANIFEST.parent.mkdir(exist_ok=True)
    MANIFEST.write_text(json.dumps(api_manifest(), indent=1), encoding="utf-8")
    env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": "conformance",
        "DLCORE_API_MANIFEST": str(MANIFEST),
        "DLCORE_CLAIM_REPORT": str(raw),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tools"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("CI", None)  # the profile is fixed here, not by CI's
    if args.examples is not None:
        env["DLCORE_CONFORMANCE_EXAMPLES"] = str(args.examples)
    if args.seed is not None:
        env["DLCORE_CONFORMANCE_SEED"] = str(args.seed)
    cmd = pytest_command(target, extra, args.seed)
    print("conformance:", target, flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=False)
    if not raw.is_file():
        print("conformance: the test run wrote no claim report", file=sys.stderr)
        return 2
    report = conformance_report(
        json.loads(raw.read_text(encoding="utf-8")),
        target,
        seed=args.seed,
        examples=args.examples,
        rests=infrastructure_map(),
    )
    report_file.parent.mkdir(parents=True, exist_ok=True)
    report_file.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(format_table(report))
    print(f"\nconformance report: {report_file}")
    if args.html is not None:
        print(f"conformance board: {write_html(report, args.html.resolve())}")
    counts = report["summary"]
    bad = counts.get("failed", 0) + (counts.get("not-implemented", 0) if args.strict else 0)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
