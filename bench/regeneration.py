"""How long regenerating the `cpu` profile takes: the headline cost of the book (issue 31).

From the stored records alone (no training): per chapter grid, the runs stored and missing, the
wall time the stored runs took (``wall_time_s``: training plus post-training analysis, of the
process that finished the run), split into training (``metrics.train_time_s``) and what came after
it (the analysis hooks), and for missing runs a projection at the median of that grid's stored
runs (for a grid with none stored yet, of stored runs of the same model, data set and epochs in
other grids). The machines that trained the runs are named, since they differ up to 4x.

*Re-measured sample*: where ``bench/analysis.py`` has timed a grid's post-training analysis with
today's code (``bench/results/analysis_<case>.json``), the estimate "with today's code" replaces
that model's stored after-training time by the re-measured one; where ``bench/retime.py`` has
timed one epoch of a kind of run (model, reparametrization and mode, batch size) with today's
code against the code before a speed-up (``bench/results/retime.json``), it multiplies the stored
training time of every run of that kind by the measured factor. The stored runs' own figures
stay as they are (they are what the runs took).

*Alone*: many runs shared the 2 cores with tests, benchmarks or another run, which only ever
lengthens an epoch. The estimate "alone" gives each stored run its epochs times the lower
quartile of its own epoch times (``history[].time``; runs with fewer than 4 epochs keep their
training time), scaled by the re-timed factor like "today", plus the same analysis time: what the
run would take with the CPU to itself. Missing runs are projected the same way from these.

*Here*: the machines that stored the runs differ up to 5x (a LeNet-5 epoch of the comparison grid:
36 s on the AVX2-only CPU that stored it, 7 s on the AMD EPYC of 2026-12-05), so no stored timing
prices a regeneration on today's machine. Where ``bench/epochs.py`` has timed one epoch of every
kind of run (model, reparametrization, penalties, batch size, data set) on one machine
(``bench/results/epochs.json``), each stored run is priced there at its epochs x its kind's epoch
plus its kind's fixed cost, with its post-training analysis as "today" has it: what regenerating
the profile on that machine takes, one run at a time. A run of a kind not timed keeps its "alone"
figure, and the runs so kept are counted. The speed target is judged on this figure where it
exists (issue 31 asks for the whole profile in 8 hours "on this machine").

The CIFAR grids (JPEG copy) are shown apart: issue 27 gives them their own budget (about 12
machine-hours), beside issue 31's target for the whole profile (8 hours). Every run of this
script appends its totals to ``bench/results/regeneration_history.csv``: the trend.

    python bench/regeneration.py [--target-hours 8]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from collections import Counter
from pathlib import Path

import epochs
from common import finish, is_cifar
from retime import kind, kind_of_row

from regprune import chapters, environment, results

RESULTS = Path(__file__).with_name("results")
CIFAR_BUDGET_HOURS = 12.0  # issue 27: the CIFAR part of the cpu profile, at most about 12 machine-hours
HISTORY_FIELDS = ["created", "commit", "stored_hours", "train_hours", "projected_missing_hours",
                  "today_hours", "cifar_hours", "other_hours", "unknown", "alone_hours", "here_hours"]
ALONE_MIN_EPOCHS = 4  # fewer epochs give no quartile worth the name


def train_s(record: dict) -> float:
    """The training part of a run's wall time (all of it when the record does not split it)."""
    return min(record.get("metrics", {}).get("train_time_s") or record["wall_time_s"], record["wall_time_s"])


def alone_train_s(record: dict) -> float:
    """A run's training time had it had the CPU to itself: its epochs x the lower quartile of its
    epoch times (never more than the training time it took)."""
    train = train_s(record)
    times = sorted(t for row in record.get("history", []) if isinstance(t := row.get("time"), (int, float)))
    if len(times) < ALONE_MIN_EPOCHS:
        return train
    return min(train, len(times) * times[len(times) // 4])


def remeasured_analysis(root: Path = RESULTS) -> dict[tuple[str, str], float]:
    """(grid, model) -> seconds of post-training analysis re-measured by ``bench/analysis.py``."""
    out = {}
    for path in sorted(root.glob("analysis_*.json")):
        r = json.loads(path.read_text())
        if r.get("grid") and r.get("key_config", {}).get("name") and r.get("total_s") is not None:
            out[(r["grid"], r["key_config"]["name"])] = float(r["total_s"])
    return out


def retimed(path: Path = RESULTS / "retime.json") -> dict[tuple, float]:
    """Kind of run (``retime.kind``) -> today's training time over the stored one, as re-measured."""
    if not path.exists():
        return {}
    return {kind_of_row(r): float(r["factor"]) for r in json.loads(path.read_text())["rows"]}


def here_epochs(path: Path = RESULTS / "epochs.json") -> tuple[dict[str, dict], str | None]:
    """``bench/epochs.py``'s timings: kind (``epochs.kind``) -> its row (``epoch_s``, ``fixed_s``),
    for the kinds that trained; and the CPU they were timed on. Empty where it has not run."""
    if not path.exists():
        return {}, None
    timed = json.loads(path.read_text())
    env = timed.get("environment", {})
    rows = {r["kind"]: r for r in timed["rows"] if r.get("epoch_s") is not None and r.get("status") == "completed"}
    return rows, env.get("cpu_model") or env.get("device_name")


def here_s(config: dict, epochs_run: int, timed: dict[str, dict]) -> float | None:
    """A run's training on the machine ``bench/epochs.py`` ran on: its epochs x its kind's epoch, plus
    its kind's fixed cost (data, test split); None where its kind was not timed."""
    k = timed.get(epochs.kind(config))
    return None if k is None else epochs_run * k["epoch_s"] + k["fixed_s"]


def shape(config: dict) -> tuple:
    """What a run's cost follows when its own grid has no run stored: model, data set, epochs."""
    model = config["model"]["name"] if isinstance(config["model"], dict) else str(config["model"])
    return model, config["data"]["name"], config["train"].get("epochs")


def grid_costs(remeasured: dict[tuple[str, str], float], factors: dict[tuple, float] | None = None,
               kinds: dict[str, dict] | None = None) -> list[dict]:
    kinds = kinds or {}
    grids = {grid: results.stored(configs) for grid in chapters.CHAPTERS.names()
             if (configs := chapters.configs(grid, "cpu"))}
    by_shape: dict[tuple, list[float]] = {}  # stored wall times of every grid, by run shape
    alone_by_shape: dict[tuple, list[float]] = {}  # and the same runs alone
    for found, _ in grids.values():
        for r in found:
            if r.get("wall_time_s"):
                by_shape.setdefault(shape(r["config"]), []).append(r["wall_time_s"])
                alone_by_shape.setdefault(shape(r["config"]), []).append(r["wall_time_s"] - train_s(r) + alone_train_s(r))
    rows = []
    for grid, (found, missing) in grids.items():
        configs = [r["config"] for r in found] + list(missing)
        timed = [r for r in found if r.get("wall_time_s")]
        walls = [r["wall_time_s"] for r in timed]
        train = [train_s(r) for r in timed]
        after = [remeasured.get((grid, r["config"]["model"]["name"]), r["wall_time_s"] - t) for r, t in zip(timed, train)]
        scale = [(factors or {}).get(kind(r["config"]), 1.0) for r in timed]
        today = [t * f + a for t, f, a in zip(train, scale, after)]
        alone = [alone_train_s(r) * f + a for r, f, a in zip(timed, scale, after)]
        # here: each run's training at its kind's epoch on the machine bench/epochs.py timed, its analysis
        # as "today" has it; a run of a kind not timed keeps its "alone" figure and is counted
        here = [here_s(r["config"], len(r.get("history") or []) or r["config"]["train"]["epochs"], kinds)
                for r in timed]
        here_missing = [here_s(c, c["train"]["epochs"], kinds) for c in missing]
        here_unpriced = sum(h is None for h in here + here_missing)
        here_total = (sum(al if h is None else h + a for h, al, a in zip(here, alone, after))
                      + sum(h + remeasured.get((grid, c["model"]["name"]), 0.0) for h, c in zip(here_missing, missing)
                            if h is not None))
        cpus = Counter(r.get("env", {}).get("cpu_model") or r.get("env", {}).get("device_name", "?") for r in found)
        median = statistics.median(walls) / 60 if walls else None
        # no run of this grid stored yet: each missing run at the median of stored runs of its shape elsewhere
        alike = [statistics.median(by_shape[shape(c)]) for c in missing if shape(c) in by_shape] if not walls else []
        by_analogy = bool(alike) and len(alike) == len(missing)
        projected = len(missing) * median / 60 if median else sum(alike) / 3600 if by_analogy else None
        alone_alike = [statistics.median(alone_by_shape[shape(c)]) for c in missing] if by_analogy else []
        alone_projected = (len(missing) * statistics.median(alone) / 3600 if alone
                           else sum(alone_alike) / 3600 if by_analogy else None)
        rows.append({"grid": grid, "cifar": is_cifar(configs), "runs": len(configs), "stored": len(found),
                     "missing": len(missing), "stored_hours": sum(walls) / 3600, "train_hours": sum(train) / 3600,
                     "today_hours": sum(today) / 3600, "median_run_min": median,
                     "projected_missing_hours": projected, "projected_by_analogy": by_analogy,
                     "alone_hours": sum(alone) / 3600, "alone_projected_missing_hours": alone_projected,
                     "here_hours": here_total / 3600 if kinds else None, "here_unpriced_runs": here_unpriced,
                     "remeasured": sorted(m for g, m in remeasured if g == grid),
                     "retimed_runs": sum(kind(r["config"]) in (factors or {}) for r in timed), "cpus": dict(cpus)})
    return rows


def append_history(path: Path, row: dict) -> None:
    """One row per run of this script; a file written with fewer fields gets the new header, its
    rows kept as they were (the new fields empty)."""
    if path.exists():
        with path.open(newline="") as f:
            old = list(csv.DictReader(f))
        if old and list(old[0]) != HISTORY_FIELDS:
            with path.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=HISTORY_FIELDS, restval="")
                w.writeheader()
                w.writerows(old)
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HISTORY_FIELDS)
        if new:
            w.writeheader()
        w.writerow({k: (f"{v:.2f}" if isinstance(v := row.get(k, ""), float) else v) for k in HISTORY_FIELDS})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target-hours", type=float, default=8.0, help="the issue's target for the whole cpu profile")
    p.add_argument("--out", default=str(RESULTS / "regeneration.json"))
    p.add_argument("--history", default=str(RESULTS / "regeneration_history.csv"))
    args = p.parse_args()
    t0 = time.perf_counter()
    factors = retimed()
    kinds, here_cpu = here_epochs()
    rows = grid_costs(remeasured_analysis(), factors, kinds)
    total = {k: sum(r[k] for r in rows) for k in ("stored_hours", "train_hours", "today_hours")}
    projected = sum(r["projected_missing_hours"] or 0 for r in rows)
    unknown = [r["grid"] for r in rows if r["missing"] and r["projected_missing_hours"] is None]
    part = {flag: sum(r["today_hours"] + (r["projected_missing_hours"] or 0) for r in rows if r["cifar"] == flag)
            for flag in (True, False)}
    alone = {flag: sum(r["alone_hours"] + (r["alone_projected_missing_hours"] or 0) for r in rows if r["cifar"] == flag)
             for flag in (True, False)}
    lines = [f"{'grid':<22} {'runs':>5} {'stored':>7} {'missing':>8} {'stored h':>9} {'train h':>8} "
             f"{'today h':>8} {'median min':>11} {'missing h':>10} {'alone h':>8} {'here h':>7}"]
    for r in rows:
        med = f"{r['median_run_min']:.1f}" if r["median_run_min"] else "-"
        miss = (f"{r['projected_missing_hours']:.1f}{'*' if r['projected_by_analogy'] else ''}"
                if r["projected_missing_hours"] is not None else ("?" if r["missing"] else "0"))
        lines.append(f"{r['grid']:<22} {r['runs']:>5} {r['stored']:>7} {r['missing']:>8} {r['stored_hours']:>9.1f} "
                     f"{r['train_hours']:>8.1f} {r['today_hours']:>8.1f} {med:>11} {miss:>10} "
                     f"{r['alone_hours'] + (r['alone_projected_missing_hours'] or 0):>8.1f} "
                     + (f"{r['here_hours']:>7.1f}" if r["here_hours"] is not None else f"{'-':>7}"))
    unknown_txt = f" + unknown for {', '.join(unknown)} (no run stored yet)" if unknown else ""
    lines.append(f"whole cpu profile: {total['stored_hours']:.1f} h as stored ({total['train_hours']:.1f} h of it "
                 f"training), {total['today_hours']:.1f} h with today's code (re-measured analysis"
                 f"{', and training of ' + str(sum(r['retimed_runs'] for r in rows)) + ' runs of re-timed kinds' if factors else ''})"
                 + (f", + {projected:.1f} h projected for missing runs" if projected else "") + unknown_txt
                 + f"; target {args.target_hours:g} h")
    if any(r["projected_by_analogy"] for r in rows):
        lines.append("  * no run of the grid stored yet: each missing run at the median of stored runs of the same model, "
                     "data set and epochs in other grids")
    lines.append(f"  MNIST and LIBSVM grids: {part[False]:.1f} h; CIFAR-10 (JPEG q75 copy) grids: {part[True]:.1f} h"
                 f"{unknown_txt} (issue 27's budget for them: about {CIFAR_BUDGET_HOURS:g} h)")
    lines.append(f"  alone (each run with the CPU to itself: its epochs x its lower-quartile epoch time, missing runs "
                 f"projected alike): {alone[True] + alone[False]:.1f} h, MNIST and LIBSVM {alone[False]:.1f} h, "
                 f"CIFAR {alone[True]:.1f} h")
    here = {flag: sum(r["here_hours"] for r in rows if r["cifar"] == flag) for flag in (True, False)} if kinds else None
    unpriced = sum(r["here_unpriced_runs"] for r in rows)
    if here:
        lines.append(f"  here (each kind's epoch timed on {here_cpu} by bench/epochs.py, the analysis as today's): "
                     f"{here[True] + here[False]:.1f} h, MNIST and LIBSVM {here[False]:.1f} h, CIFAR {here[True]:.1f} h"
                     + (f"; {unpriced} runs of kinds not timed kept at their 'alone' figure" if unpriced else ""))
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result = {"created": created, "grids": rows, "stored_hours": total["stored_hours"],
              "train_hours": total["train_hours"], "today_hours": total["today_hours"],
              "projected_missing_hours": projected, "unknown": unknown, "target_hours": args.target_hours,
              "cifar_hours": part[True], "other_hours": part[False], "cifar_budget_hours": CIFAR_BUDGET_HOURS,
              "alone_hours": alone[True] + alone[False], "alone_cifar_hours": alone[True],
              "alone_other_hours": alone[False],
              **({"here_hours": here[True] + here[False], "here_cifar_hours": here[True],
                  "here_other_hours": here[False], "here_cpu": here_cpu, "here_unpriced_runs": unpriced}
                 if here else {})}
    finish(result, "\n".join(lines), time.perf_counter() - t0, Path(args.out))
    commit = environment.git_commit(str(Path(__file__).parent)).get("git_commit", "")[:7]
    append_history(Path(args.history), {**result, "commit": commit, "unknown": " ".join(unknown)})


if __name__ == "__main__":
    main()
