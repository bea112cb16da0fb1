"""How long regenerating the `cpu` profile takes: the headline cost of the book (issue 31).

From the stored records alone (no training): per chapter grid, the runs stored and missing, the
wall time the stored runs took (``wall_time_s``: training plus post-training analysis, of the
process that finished the run), and for missing runs a projection at the median of that grid's
stored runs. The machines
that trained the runs are named, since they differ up to 4x. Writes ``bench/results/regeneration.json``.

    python bench/regeneration.py [--target-hours 8]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

from common import finish

from regprune import chapters, results



def grid_costs() -> list[dict]:
    rows = []
    for grid in chapters.CHAPTERS.names():
        configs = chapters.configs(grid, "cpu")
        if not configs:
            continue
        found, missing = results.stored(configs)
        walls = [r["wall_time_s"] for r in found if r.get("wall_time_s")]
        cpus = Counter(r.get("env", {}).get("cpu_model") or r.get("env", {}).get("device_name", "?") for r in found)
        rows.append({"grid": grid, "runs": len(configs), "stored": len(found), "missing": len(missing),
                     "stored_hours": sum(walls) / 3600, "median_run_min": statistics.median(walls) / 60 if walls else None,
                     "cpus": dict(cpus)})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target-hours", type=float, default=8.0, help="the issue's target for the whole cpu profile")
    p.add_argument("--out", default=str(Path(__file__).with_name("results") / "regeneration.json"))
    args = p.parse_args()
    t0 = time.perf_counter()
    rows = grid_costs()
    for r in rows:
        r["projected_missing_hours"] = (r["missing"] * r["median_run_min"] / 60) if r["median_run_min"] else None
    stored = sum(r["stored_hours"] for r in rows)
    projected = sum(r["projected_missing_hours"] or 0 for r in rows)
    unknown = [r["grid"] for r in rows if r["missing"] and r["projected_missing_hours"] is None]
    lines = [f"{'grid':<22} {'runs':>5} {'stored':>7} {'missing':>8} {'stored h':>9} {'median min':>11} {'missing h':>10}"]
    for r in rows:
        med = f"{r['median_run_min']:.1f}" if r["median_run_min"] else "-"
        miss = f"{r['projected_missing_hours']:.1f}" if r["projected_missing_hours"] is not None else ("?" if r["missing"] else "0")
        lines.append(f"{r['grid']:<22} {r['runs']:>5} {r['stored']:>7} {r['missing']:>8} {r['stored_hours']:>9.1f} "
                     f"{med:>11} {miss:>10}")
    lines.append(f"whole cpu profile: {stored:.1f} h as stored"
                 + (f" + {projected:.1f} h projected for missing runs" if projected else "")
                 + (f" + unknown for {', '.join(unknown)} (no run stored yet)" if unknown else "")
                 + f"; target {args.target_hours:g} h")
    result = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "grids": rows,
              "stored_hours": stored, "projected_missing_hours": projected, "unknown": unknown,
              "target_hours": args.target_hours}
    finish(result, "\n".join(lines), time.perf_counter() - t0, Path(args.out))


if __name__ == "__main__":
    main()
