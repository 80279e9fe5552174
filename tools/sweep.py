"""Random-seed sweep of the claim suite: `nox -s sweep -- [N] [--profile P] [--jobs J] [PATH ...]`.

A property is a promise about every input it admits; the derandomized `ci` profile checks one
fixed sample of them. The sweep searches: it runs `tests/claims` (or the given paths) N times,
each with a fresh random `--hypothesis-seed` and no example database, `--jobs` runs at a time
with one BLAS thread each. It prints a line per finished run, then

- a table of failures by test (how many of the N runs failed it, and on which seeds),
- for each failure: the seed, the assertion message, the falsifying example and one command
  that replays it,
- per claim: the pass rate over the runs and the worst error/tolerance ratio seen; a claim whose
  worst ratio is above 0.5 is flagged "thin margin".

It writes `build/sweep/seed-<S>.json` (each run's claim report), `build/sweep/seed-<S>.log` and
the summary `build/sweep-report.json`; `--record` also copies the summary to
`docs/data/sweep-report.json`, which the claims board shows. The exit status is 1 when any run
failed, so a sweep can gate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # spec and tests.support, imported where they are needed
OUT = ROOT / "build" / "sweep"
THIN = 0.5
"""A worst error/tolerance ratio above this marks a thin margin."""


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="nox -s sweep --", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "args",
        nargs="*",
        metavar="[N] [PATH ...]",
        help="number of seeds (default 10: about 15 min on 2 cores), then test paths or node ids "
        "(default tests/claims)",
    )
    ap.add_argument("--profile", default="dev", choices=("dev", "thorough"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at a time")
    ap.add_argument("--seeds", default="", help="comma-separated seeds instead of random ones")
    ap.add_argument("-k", default="", help="pytest -k expression")
    ap.add_argument("--record", action="store_true", help="copy the summary to docs/data/")
    args = ap.parse_args(argv)
    rest = list(args.args)
    args.n = int(rest.pop(0)) if rest and rest[0].isdigit() else 10
    args.paths = rest or ["tests/claims"]
    if args.n < 1:
        ap.error("N must be >= 1")
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    return args


def run_one(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """One pytest run with `seed`; returns its claim report (or a record of the crash)."""
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"seed-{seed}.json"
    log = OUT / f"seed-{seed}.log"
    report.unlink(missing_ok=True)
    env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": args.profile,
        "DLCORE_HYPOTHESIS_DB": "none",
        "DLCORE_CLAIM_REPORT": str(report),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
    }
    env.pop("CI", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not cuda"]
    cmd += [f"--hypothesis-seed={seed}", *(["-k", args.k] if args.k else []), *args.paths]
    if args.workers > 1:  # fewer seeds than cores: spread each run over pytest-xdist workers
        cmd += ["-n", str(args.workers)]
    t0 = time.perf_counter()
    with log.open("w", encoding="utf-8") as fh:
        rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
    elapsed = time.perf_counter() - t0
    data = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {"claims": {}}
    data.update(seed=seed, returncode=rc, wall_s=round(elapsed, 1), log=str(log.relative_to(ROOT)))
    data["tests"], data["failed_tests"] = log_outcomes(log.read_text(encoding="utf-8"))
    return data


_COUNT = re.compile(r"(\d+) (passed|failed|errors?)\b")


def log_outcomes(text: str) -> tuple[dict[str, int], list[dict[str, str]]]:
    """pytest's counts (its last line) and its `FAILED`/`ERROR` lines, from a run's log.

    The claim report records claim tests only; these also cover every other test (`tests/api`,
    `tests/meta`), so that a sweep over them fails when one of them does.
    """
    lines = text.splitlines()
    last = next((line for line in reversed(lines) if re.search(r" in [\d.]+s", line)), "")
    counts = {"passed": 0, "failed": 0, "error": 0}
    counts.update({kind.rstrip("s"): int(n) for n, kind in _COUNT.findall(last)})
    failed = []
    for line in lines:
        if line.startswith(("FAILED ", "ERROR ")):
            nodeid, _, message = line.split(" ", 1)[1].partition(" - ")
            failed.append({"test": nodeid, "message": message})
    return counts, failed


def _claim_kinds() -> dict[str, str]:
    from spec.registry import load

    return {cid: c.kind for cid, c in load().items()}


def summarize(runs: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """Per-claim pass rate and worst ratio; per-test failures with their details."""
    claims: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, Any]] = []
    for run in runs:
        for cid, entry in run.get("claims", {}).items():
            c = claims.setdefault(
                cid, {"chapter": entry.get("chapter"), "runs": 0, "passed": 0, "worst_ratio": None}
            )
            ran = [r for r in entry["results"] if r.get("outcome") in ("passed", "failed")]
            if not ran:
                continue
            c["runs"] += 1
            c["passed"] += all(r["outcome"] == "passed" for r in ran)
            ratios = [r["worst_ratio"] for r in ran if r.get("worst_ratio") is not None]
            passed_ratios = [
                r["worst_ratio"]
                for r in ran
                if r.get("worst_ratio") is not None and r["outcome"] == "passed"
            ]
            worst = max(passed_ratios or ratios, default=None)
            if worst is not None:
                c["worst_ratio"] = max(worst, c["worst_ratio"] or 0.0)
            for r in ran:
                if r["outcome"] == "failed":
                    failures.append({"claim": cid, "seed": run["seed"], **r})
    kinds = _claim_kinds()
    for cid, c in claims.items():
        c["kind"] = kinds.get(cid)
        c["pass_rate"] = round(c["passed"] / c["runs"], 4) if c["runs"] else None
        c["thin_margin"] = c["worst_ratio"] is not None and c["worst_ratio"] > THIN
    from tests.support.report import replay_command

    for run in runs:  # failures of tests that carry no claim, from pytest's own summary
        mine = {f["test"] for f in failures if f["seed"] == run["seed"]}
        for f in run.get("failed_tests", []):
            if f["test"] not in mine:
                replay = replay_command(f["test"], args.profile, run["seed"])
                failures.append({"claim": None, "seed": run["seed"], **f, "reproduce": replay})
    failed_seeds = {f["seed"] for f in failures}
    crashed = [  # an exit status of 1 with no failure found is a crash too: read its log
        r["seed"]
        for r in runs
        if r["returncode"] not in (0, 1) or (r["returncode"] == 1 and r["seed"] not in failed_seeds)
    ]
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": next((r.get("commit") for r in runs if r.get("commit")), None),
        "digest": next((r.get("digest") for r in runs if r.get("digest")), None),
        "profile": args.profile,
        "paths": args.paths,
        "seeds": [r["seed"] for r in runs],
        "crashed_seeds": crashed,
        "wall_s": [r["wall_s"] for r in runs],
        "claims": claims,
        "failures": failures,
    }


def print_summary(summary: dict[str, Any]) -> None:
    n = len(summary["seeds"])
    fails = summary["failures"]
    print(f"\n=== sweep: {n} seeds, profile {summary['profile']}, paths {summary['paths']} ===")
    if summary["crashed_seeds"]:
        print(f"runs that did not finish normally (see their logs): {summary['crashed_seeds']}")
    by_test: dict[str, list[int]] = {}
    for f in fails:
        by_test.setdefault(f["test"], [])
        if f["seed"] not in by_test[f["test"]]:
            by_test[f["test"]].append(f["seed"])
    if not by_test:
        print("failures by test: none")
    else:
        print(f"failures by test ({len(by_test)} tests):")
        width = max(len(t) for t in by_test)
        print(f"  {'test':<{width}}  runs failed  seeds")
        for test, seeds in sorted(by_test.items(), key=lambda kv: -len(kv[1])):
            print(f"  {test:<{width}}  {len(seeds):>4}/{n:<6}  {', '.join(map(str, seeds))}")
        print("\nfailure details:")
        seen: set[tuple[str, int]] = set()
        for f in fails:
            key = (f["test"], f["seed"])
            if key in seen:
                continue
            seen.add(key)
            claim = f" (claim {f['claim']})" if f["claim"] else ""
            print(f"\n- {f['test']}{claim}, seed {f['seed']}")
            msg = (f.get("message") or "").strip().splitlines()
            if msg:
                print("  message: " + "\n           ".join(msg[-6:]))
            if f.get("example"):
                print("  example: " + "\n           ".join(f["example"].splitlines()))
            print(f"  replay:  {f.get('reproduce')}")
    thin = {cid: c for cid, c in summary["claims"].items() if c["thin_margin"]}
    rates = [c["pass_rate"] for c in summary["claims"].values() if c["pass_rate"] is not None]
    print(
        f"\nclaims: {len(summary['claims'])}, pass rate 1.0 for "
        f"{sum(r == 1.0 for r in rates)}; thin margin (worst ratio > {THIN}): {len(thin)}"
    )
    for cid, c in sorted(thin.items(), key=lambda kv: -kv[1]["worst_ratio"]):
        print(
            f"  {cid:<60} worst ratio {c['worst_ratio']:.3f}  pass rate {c['pass_rate']}"
            f"  {c.get('kind', '')}"
        )


def main(argv: list[str]) -> int:
    args = parse(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()] or [
        secrets.randbelow(2**32) for _ in range(args.n)
    ]
    args.workers = max(1, args.jobs // len(seeds))
    args.jobs = min(args.jobs, len(seeds))
    print(
        f"sweep: {len(seeds)} runs of {' '.join(args.paths)} (profile {args.profile}, "
        f"{args.jobs} at a time, {args.workers} worker(s) each, no example database); "
        f"logs in {OUT.relative_to(ROOT)}/",
        flush=True,
    )
    runs: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, s, args) for s in seeds]
        for i, fut in enumerate(as_completed(futures), 1):
            run = fut.result()
            runs.append(run)
            outs = [
                r.get("outcome")
                for e in run.get("claims", {}).values()
                for r in e.get("results", [])
            ]
            tests = run["tests"]
            print(
                f"[{i}/{len(seeds)}] seed {run['seed']}: tests {tests['passed']} passed, "
                f"{tests['failed'] + tests['error']} failed (claim checks {outs.count('passed')} "
                f"passed, {outs.count('failed')} failed), exit {run['returncode']}, "
                f"{run['wall_s']} s (elapsed {time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    runs.sort(key=lambda r: seeds.index(r["seed"]))
    summary = summarize(runs, args)
    out = ROOT / "build" / "sweep-report.json"
    out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print_summary(summary)
    print(f"\nsummary: {out.relative_to(ROOT)}")
    if args.record:
        rec = ROOT / "docs" / "data" / "sweep-report.json"
        rec.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        print(f"recorded: {rec.relative_to(ROOT)}")
    bad = summary["failures"] or summary["crashed_seeds"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
