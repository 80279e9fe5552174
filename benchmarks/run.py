"""Run every benchmark case, print a table, write build/benchmarks.json.

Usage: `python -m benchmarks.run [--quick] [--only SUBSTRING]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import sys
from pathlib import Path

from benchmarks.harness import paired_best_times

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("DLCORE_BENCH_REPORT", ROOT / "build" / "benchmarks.json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sizes, shorter timing loops")
    parser.add_argument("--only", default="", help="run only groups containing this text")
    args = parser.parse_args(argv)
    modules = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    rows = []
    for name in modules:
        module = importlib.import_module(f"benchmarks.{name}")
        for case in module.cases(args.quick):
            if args.only and args.only not in case.group:
                continue
            print(f"[bench] {case.group}: {case.name} ...", flush=True)
            kw = {"min_time": 0.05, "repeats": 3} if args.quick else {}
            t_dl, t_ref = paired_best_times(case.dlcore, case.reference, **kw)
            ratio = t_dl / t_ref
            ok = None if case.target is None else ratio <= case.target
            rows.append(
                {
                    "group": case.group,
                    "case": case.name,
                    "dlcore_s": t_dl,
                    "reference": case.reference_name,
                    "reference_s": t_ref,
                    "ratio": ratio,
                    "target": case.target,
                    "meets_target": ok,
                    **case.extra,
                    **{k: fn() for k, fn in case.extra_fn.items()},
                }
            )
    header = f"{'group':<28}{'case':<28}{'dlcore (ms)':>12}{'reference':>26}{'ref (ms)':>10}{'ratio':>8}{'target':>8}"
    print(header)
    for r in rows:
        target = "-" if r["target"] is None else f"<={r['target']:g}"
        flag = "" if r["meets_target"] in (None, True) else "  MISSED"
        print(
            f"{r['group']:<28}{r['case']:<28}{1e3 * r['dlcore_s']:>12.3f}{r['reference']:>26}{1e3 * r['reference_s']:>10.3f}{r['ratio']:>8.2f}{target:>8}{flag}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                "quick": args.quick,
                "rows": rows,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"written {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
