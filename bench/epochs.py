"""One epoch of every kind of `cpu`-profile run, timed on this machine: what regenerating the profile
here would take, however slow the machines that stored the runs were (issue 31, item 4).

The stored runs were trained on several machines, up to 5x apart (a LeNet-5 epoch of the comparison
grid: 36 s as stored on an AVX2-only CPU, 7 s on the AMD EPYC of 2026-12-05), so their own timings
price a regeneration on none of them. Here every run of every chapter's `cpu` grid is sorted by
what sets its speed (``gpu_models.speed_kind``: model, reparameterization, penalties, batch size) and
its data set; the first stored config of each kind is trained as ``regprune.experiment.execute``
trains it, on its real data set (``$REGPRUNE_DATA``), for 3 epochs without the hooks that analyse
after training. The kind's *epoch* is the mean time of the second and third (training and the
validation pass, as each run's history counts it; for a switcher, one epoch of each phase of its
alternation); its *fixed* cost is the rest of the run's wall time (loading the data, the test
split's evaluation). ``bench/regeneration.py`` prices each stored run at
``epochs x epoch + fixed`` of its kind, plus its post-training analysis as its "today" estimate has
it. A per-epoch test evaluation (``monitor_test`` grids) is counted three times here, not once per epoch:
a few percent low on those grids.

    REGPRUNE_DATA=... python bench/epochs.py [--grids comparison ...] [--max-kinds N]

The kinds with the most runs go first and the file is rewritten after each one, so a run that is
cut short keeps what it timed (the rest of the runs are then priced as before). Pause other work:
the timings must see the CPU alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from common import add_grids_option, chosen_grids, finish, group_by_kind, short_training, spec_name
from gpu_models import speed_kind

from regprune import atomic, chapters, environment, experiment

OUT = Path(__file__).resolve().parent / "results" / "epochs.json"
EPOCHS = 3  # the first warms the kernels and the allocator up; the mean of the other two is the kind's epoch
# (a switcher's alternation: one epoch of each phase, the SNN's and the task network's)


def kind(config: dict[str, Any]) -> str:
    """What a run's epoch costs follows: its speed kind and its data set (which sets the epoch's size)."""
    return f"{speed_kind(config)} on {spec_name(config['data'])}"


def kinds_of(grids: list[str]) -> dict[str, dict[str, Any]]:
    """kind -> its first config, how many runs and which grids have it, over the named `cpu` grids."""
    return group_by_kind({grid: chapters.configs(grid, "cpu") for grid in grids}, kind)


def timed(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` for :data:`EPOCHS` epochs, as :func:`common.short_training` shortens it."""
    return short_training(config, EPOCHS)


def time_kind(config: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    record = experiment.execute(timed(config), device="cpu", progress="none")
    wall = time.perf_counter() - t0
    times = [row["time"] for row in record["history"]]
    return {"epoch_s": statistics.mean(times[1:] or times), "epoch_times_s": times, "fixed_s": max(wall - sum(times), 0.0), "wall_s": wall,
            "status": record["status"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_grids_option(p)
    p.add_argument("--max-kinds", type=int, default=None, help="time only the N kinds with the most runs")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    grids = chosen_grids(p, args)
    t_start = time.perf_counter()
    kinds = kinds_of(grids)
    todo = sorted(kinds.items(), key=lambda kv: -kv[1]["runs"])[:args.max_kinds]
    rows: list[dict[str, Any]] = []
    for name, k in todo:
        row = {"kind": name, "runs": k["runs"], "grids": k["grids"], "epochs_per_run": k["config"]["train"]["epochs"]}
        try:
            row.update(time_kind(k["config"]))
        except Exception as err:  # one failing kind must not lose the others: a row that says why
            row["error"] = f"{type(err).__name__}: {err}"[:500]
        rows.append(row)
        print(f"{name:70} {row.get('epoch_s', float('nan')):8.2f} s an epoch  {row.get('error', '')}", flush=True)
        atomic.write_text(args.out, json.dumps(result_of(rows), indent=1) + "\n")
    table = "\n".join(f"{r['kind']:70} {r.get('epoch_s', float('nan')):8.2f} s  fixed {r.get('fixed_s', float('nan')):6.1f} s"
                      f"  x {r['runs']} runs" for r in rows)
    finish(result_of(rows), table, time.perf_counter() - t_start, args.out)


def result_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "environment": {**environment.describe("cpu"), "torch_threads": torch.get_num_threads()},
            "settings": {"epochs": EPOCHS}, "rows": rows}


if __name__ == "__main__":
    main()
