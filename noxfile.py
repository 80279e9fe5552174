"""Sessions: tests (CPU grid), tests_cuda, claims, docs, bench, lint, typecheck.

torch is pinned to 2.13.0: on these machines that resolves to a CPU build already on disk, while
an unpinned torch would download a CUDA build of several GB. The backend is nox's default
virtualenv (not uv, which ignores the local wheel).
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "virtualenv"
nox.options.sessions = ["lint", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
TORCH = os.environ.get("DLCORE_TORCH", "torch==2.13.0")
REPORT = "build/claims-report.json"


def _install(session: nox.Session, *groups: str, torch: bool = True) -> None:
    if torch:
        session.install(TORCH)
    session.install("-e", ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def tests(session: nox.Session) -> None:
    """The whole CPU grid: claim tests, meta-tests and API tests (CUDA cases skip cleanly)."""
    _install(session, "test")
    session.run("pytest", "-m", "not cuda", *session.posargs, env={"DLCORE_CLAIM_REPORT": REPORT})


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
        "tests/claims",
        *session.posargs,
        env={"DLCORE_CLAIM_REPORT": REPORT},
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Check every claim (refreshing the report), then build the site into site/."""
    _install(session, "test", "docs")
    session.run(
        "pytest", "-m", "not cuda", "-q", "tests/claims", env={"DLCORE_CLAIM_REPORT": REPORT}
    )
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


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against scikit-learn and torch; prints a table, writes build/benchmarks.json."""
    _install(session, "test")
    session.run("python", "-m", "benchmarks.run", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on dlcore."""
    _install(session, torch=False)
    session.install("mypy>=1.10")
    session.run("mypy", "dlcore")
