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

Writes `build/conformance-report.json` (`{"claims": {id: {"status", "chapter", "tests": [...]}},
...}`) and prints a per-chapter table and each failure with its message, falsifying example and
replay command. Exits 1 if and only if a claim failed (`--strict`: or is not implemented).

Options: `--strict`; `--seed S` and `--examples N` (an instructor's private run: a seed and an
example budget the public run does not use); anything after `--` goes to pytest (e.g.
`-k ridge`).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "build" / "conformance-raw.json"
REPORT = ROOT / "build" / "conformance-report.json"
MANIFEST = ROOT / "build" / "dlcore-api.json"
NOT_IMPLEMENTED = "NotImplementedError"


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


def classify(results: list[dict]) -> str:
    """One claim's status from its test results (see the module docstring)."""
    ran = [r for r in results if r.get("outcome") in ("passed", "failed")]
    if not ran:
        return "skipped"
    failed = [r for r in ran if r["outcome"] == "failed"]
    if any(NOT_IMPLEMENTED not in (r.get("message") or "") for r in failed):
        return "failed"
    return "not-implemented" if failed else "passed"


def conformance_report(raw: dict, target: Path) -> dict:
    claims = {}
    for cid, entry in sorted(raw.get("claims", {}).items()):
        tests = [
            {
                k: r.get(k)
                for k in ("test", "backend", "outcome", "message", "example", "reproduce", "breaks")
                if r.get(k) is not None
            }
            for r in entry.get("results", [])
        ]
        claims[cid] = {
            "chapter": entry.get("chapter"),
            "status": classify(entry.get("results", [])),
            "tests": tests,
        }
    counts = Counter(c["status"] for c in claims.values())
    return {
        "implementation": str(target),
        "created": raw.get("created"),
        "profile": raw.get("profile"),
        "seed": raw.get("seed"),
        "summary": dict(counts),
        "claims": claims,
    }


def print_table(report: dict) -> None:
    by_chapter: dict[str, Counter] = {}
    for c in report["claims"].values():
        by_chapter.setdefault(c["chapter"] or "?", Counter())[c["status"]] += 1
    cols = ("passed", "failed", "not-implemented", "skipped")
    print(f"\n{'chapter':18s}" + "".join(f"{c:>17s}" for c in cols))
    for chapter, n in by_chapter.items():
        print(f"{chapter:18s}" + "".join(f"{n.get(c, 0):17d}" for c in cols))
    total = Counter(report["summary"])
    print(f"{'all':18s}" + "".join(f"{total.get(c, 0):17d}" for c in cols))
    for cid, c in report["claims"].items():
        if c["status"] != "failed":
            continue
        for t in c["tests"]:
            if t.get("outcome") == "failed" and NOT_IMPLEMENTED not in (t.get("message") or ""):
                print(f"\nFAILED {cid}: {t.get('test')}\n{(t.get('message') or '').strip()[:1500]}")
                if t.get("example"):
                    print(t["example"].strip()[:1500])
                print(f"replay: {t.get('reproduce')}")


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
    parser.add_argument("--examples", type=int, help="examples per test (default 30)")
    args = parser.parse_args(argv)
    target = args.dir.resolve()
    if not (target / "dlcore" / "__init__.py").is_file():
        parser.error(f"{args.dir} holds no package dlcore (no {args.dir}/dlcore/__init__.py)")
    MANIFEST.parent.mkdir(exist_ok=True)
    MANIFEST.write_text(json.dumps(api_manifest(), indent=1), encoding="utf-8")
    env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": "conformance",
        "DLCORE_API_MANIFEST": str(MANIFEST),
        "DLCORE_CLAIM_REPORT": str(RAW),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tools"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("CI", None)  # the profile is fixed here, not by CI's
    if args.examples is not None:
        env["DLCORE_CONFORMANCE_EXAMPLES"] = str(args.examples)
    seed = []
    if args.seed is not None:
        env["DLCORE_CONFORMANCE_SEED"] = str(args.seed)
        seed = [f"--hypothesis-seed={args.seed}"]
    workers = [] if "-n" in extra else ["-n", os.environ.get("DLCORE_WORKERS", "auto")]
    cmd = [
        # -P: no current directory at sys.path[0]; --import-mode=append: pytest does not put the
        # repository first when it imports conftest.py. So sys.path is [DIR, repository, ...].
        sys.executable, "-P", "-m", "pytest", "tests/claims", "-m", "not cuda", "-q",
        "-p", "no:cacheprovider", "-p", "conformance_plugin", "--import-mode=append",
        "-o", f"pythonpath={target} .", *seed, *workers, *extra,
    ]  # fmt: skip
    print("conformance:", target, flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=False)
    if not RAW.is_file():
        print("conformance: the test run wrote no claim report", file=sys.stderr)
        return 2
    report = conformance_report(json.loads(RAW.read_text(encoding="utf-8")), target)
    REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print_table(report)
    print(f"\nconformance report: {REPORT.relative_to(ROOT)}")
    counts = report["summary"]
    bad = counts.get("failed", 0) + (counts.get("not-implemented", 0) if args.strict else 0)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
