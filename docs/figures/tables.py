"""Tables and summaries of the non-chapter pages (docs/conventions.md, docs/benchmarks.md,
docs/backends.md), each function returning the Markdown its page prints.

They hold text, not figures, so `__all__` is empty: the figure smoke test calls every name
listed there and wants a figure.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from figures import ROOT

__all__: list[str] = []


def _support(name: str) -> Any:
    """The module `tests.support.<name>`, imported at call time (mypy checks docs/figures, not
    the test support it would follow from an import statement)."""
    return importlib.import_module(f"tests.support.{name}")


def tolerance_factors() -> str:
    """The kinds of `KIND_FACTOR` grouped by their factor (conventions page)."""
    lines: list[str] = []
    by_factor: dict[float, list[str]] = {}
    for kind, factor in _support("tolerances").KIND_FACTOR.items():
        by_factor.setdefault(factor, []).append(kind)
    lines.append("| kind | factor |\n|---|---:|")
    for factor, kinds in sorted(by_factor.items()):
        lines.append(f"| {', '.join(kinds)} | {factor:g} |")
    return "\n".join(lines)


def false_failure_budget() -> str:
    """The union bound on a false statistical failure in one run of the suite (conventions page)."""
    stats = _support("stats")
    worst = stats.MAX_STATISTICAL_TESTS * stats.MAX_EXAMPLES_PER_TEST * stats.FALSE_FAILURE
    assert worst <= stats.SUITE_FALSE_FAILURE
    return (
        f"One example fails falsely with probability at most {stats.FALSE_FAILURE:g}. One statistical "
        f"test runs at most {stats.MAX_EXAMPLES_PER_TEST} examples in one run of the suite (any "
        f"profile, every backend, at most {stats.MAX_EXPLICIT_EXAMPLES} explicit examples), and the "
        f"suite holds at most {stats.MAX_STATISTICAL_TESTS} such tests, so by the union bound a false "
        f"failure anywhere in one run has probability at most {worst:.3g} "
        f"(at most {stats.SUITE_FALSE_FAILURE:g})."
    )


def example_fractions() -> str:
    """The fraction of the example budget each backend runs under each profile (conventions page)."""
    lines: list[str] = []
    EXAMPLE_FRACTION = _support("backends").EXAMPLE_FRACTION
    profiles = list(EXAMPLE_FRACTION)
    lines.append("| backend | " + " | ".join(f"`{p}`" for p in profiles) + " |")
    lines.append("|---|" + "---:|" * len(profiles))
    backends = dict.fromkeys(b for p in profiles for b in EXAMPLE_FRACTION[p])
    for backend in backends:  # a backend a profile does not list runs its full count (1)
        cells = [f"{EXAMPLE_FRACTION[p].get(backend, 1.0):g}" for p in profiles]
        lines.append(f"| {backend} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _benchmark_table(title: str, path: Path) -> list[str]:
    data = json.loads((ROOT / path).read_text())
    lines = [f"### {title}\n"]
    lines.append(
        f"`{path.as_posix()}`: measured {data['created']} on {data['machine']}"
        + (" (quick mode)." if data.get("quick") else ".")
        + (f" {data['note']}" if data.get("note") else "")
    )
    lines.append("")
    notes = any("note" in r for r in data["rows"])
    floors = any("floor_s" in r for r in data["rows"])
    faults = any("faults/step" in r for r in data["rows"])
    lines.append(
        "| group | case | dlcore (ms) | reference | reference (ms) | ratio | target |"
        + (" floor (ms) |" if floors else "")
        + (" faults/step |" if faults else "")
        + (" note |" if notes else "")
    )
    lines.append(
        "|---|---|---:|---|---:|---:|---:|"
        + ("---:|" if floors else "")
        + ("---:|" if faults else "")
        + ("---|" if notes else "")
    )
    for r in data["rows"]:
        target = (
            "–"
            if r["target"] is None
            else f"≤ {r['target']:g}" + (" ✔" if r["meets_target"] else " ✘")
        )
        lines.append(
            f"| {r['group']} | {r['case']} | {1e3 * r['dlcore_s']:.3f} | {r['reference']} "
            f"| {1e3 * r['reference_s']:.3f} | {r['ratio']:.2f} | {target} |"
            + ((f" {1e3 * r['floor_s']:.3f} |" if "floor_s" in r else " – |") if floors else "")
            + ((f" {r['faults/step']:.0f} |" if "faults/step" in r else " – |") if faults else "")
            + (f" {r.get('note', '')} |" if notes else "")
        )
    lines.append("")
    return lines


def benchmarks() -> str:
    """The benchmark tables: this build machine's latest `nox -s bench` if there is one, then the
    recorded CPU and GPU runs (benchmarks page)."""
    lines: list[str] = []
    local = Path("build/benchmarks.json")
    if (ROOT / local).exists():
        lines += _benchmark_table("This build machine (latest `nox -s bench`)", local)
    lines += _benchmark_table("Recorded: 2-core CPU machine", Path("docs/data/benchmarks-cpu.json"))
    lines += _benchmark_table("Recorded: lent GPU machine", Path("docs/data/benchmarks-cuda.json"))
    return "\n".join(lines)


def cuda_run_summary() -> str:
    """One sentence summarising the recorded CUDA run of the claims (backends page)."""
    path = ROOT / "docs/data/cuda-claims-report.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    results = [r for c in report["claims"].values() for r in c["results"]]
    outcomes = Counter(r["outcome"] for r in results)
    env = report["environment"]
    return (
        f"{report['created'][:10]}, {env['cuda_device']}, torch {env['torch']}, profile "
        f"`{report['profile']}`, commit `{report['commit']}`: {len(results)} CUDA test cases of "
        f"{len(report['claims'])} claims, "
        + ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        + f", in {sum(r.get('duration') or 0 for r in results):.0f} s of test time."
    )
