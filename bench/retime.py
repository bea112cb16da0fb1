"""How much faster today's code trains a sample of stored runs than the code before a speed-up:
the re-measured training sample behind `bench/regeneration.py`'s "today" estimate (issue 31).

A *kind* of run is (model, reparametrization, its mode, batch size). For each sampled kind, the
first stored run of that kind in ``--grid`` has its config trained for one epoch, its
post-training analysis hooks dropped, by two versions of the package on this machine, each in a
fresh process, alternately, ``--rounds`` times: ``--old`` (the commit before the speed-up, checked
out in a temporary git worktree) and the working tree. The factor is the median of the per-round ratios of the
epoch's time, new / old. The regeneration estimate multiplies the stored training time of every
run of that kind, in any grid, by it (the machines that stored the runs differ; a ratio measured
on one machine is assumed to carry over). Post-training analysis is re-measured by
`bench/analysis.py`, not here.

    REGPRUNE_DATA=... python bench/retime.py --old 680923e~1 [--grid comparison switcher_network]
                                             [--reparam switcher] [--rounds 1]

Rows of kinds not sampled in a run are kept from the file's earlier runs.

Pause other work on the machine while it runs: the two versions must see the same CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import finish, training_hooks  # noqa: E402

from regprune import chapters, environment, paths, results  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "retime.json"
CHILD = """
import json, sys, torch
from regprune import experiment
torch.set_num_threads(int(sys.argv[2]))
record = experiment.execute(json.loads(sys.argv[1]), device="cpu", progress="none")
print(json.dumps({"epoch_s": record["history"][0]["time"]}))
"""


def kind(config: dict[str, Any]) -> tuple[str, str, str, int]:
    """What decides a run's speed per sample: model, reparametrization and its mode, batch size."""
    model = config["model"]["name"] if isinstance(config["model"], dict) else str(config["model"])
    reparam = config.get("reparam") or {}
    return model, reparam.get("name", "none"), reparam.get("mode", ""), int(config["train"]["batch_size"])


def kind_of_row(row: dict[str, Any]) -> tuple[str, str, str, int]:
    return row["model"], row["reparam"], row["mode"], int(row["batch_size"])


def one_epoch(config: dict[str, Any]) -> dict[str, Any]:
    """The run's config for one epoch of training, without the hooks that analyse after it."""
    return {**config, "train": {**config["train"], "epochs": 1},
            "hooks": training_hooks(config)}


def epoch_time(src: Path, config: dict[str, Any], threads: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "REGPRUNE_PROGRESS": "none", "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(config), str(threads)], capture_output=True,
                          text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"one epoch with {src} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["epoch_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", required=True, help="the commit before the speed-up being priced")
    p.add_argument("--grid", nargs="+", default=["comparison"], help="the chapter grids whose stored runs are sampled")
    p.add_argument("--reparam", default="switcher", help="sample the kinds with this reparametrization")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    t0 = time.perf_counter()
    sample: dict[tuple, tuple[str, dict[str, Any]]] = {}
    for grid in args.grid:
        for r in results.stored(chapters.configs(grid, "cpu"))[0]:
            k = kind(r["config"])
            if k[1] == args.reparam and k not in sample:
                sample[k] = grid, r
    if not sample:
        p.error(f"--reparam {args.reparam!r}: no stored run of grids {args.grid} uses it")
    repo = paths.repo_root()
    old = subprocess.run(["git", "rev-parse", args.old], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), old], cwd=repo, check=True)
        try:
            for k, (grid, record) in sorted(sample.items()):
                config = one_epoch(record["config"])
                old_s, new_s = [], []
                for _ in range(args.rounds):
                    old_s.append(epoch_time(tree / "src", config, args.threads))
                    new_s.append(epoch_time(repo / "src", config, args.threads))
                ratios = [n / o for n, o in zip(new_s, old_s)]
                rows.append({"grid": grid, "old_commit": old, "model": k[0], "reparam": k[1], "mode": k[2], "batch_size": k[3],
                             "key": record["key"], "old_epoch_s": old_s, "new_epoch_s": new_s,
                             "factor": statistics.median(ratios)})
                print(f"{k}: old {old_s} s, new {new_s} s, factor {rows[-1]['factor']:.3f}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=repo, check=False)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    env = {**environment.git_commit(str(repo)), **environment.cpu_model(), "threads": args.threads}
    rows = [{**r, "created": created, "environment": env, "rounds": args.rounds} for r in rows]
    # kinds not re-timed now keep their earlier rows, each with its own date, commits and machine
    earlier = json.loads(args.out.read_text())["rows"] if args.out.exists() else []
    rows += [r for r in earlier if kind_of_row(r) not in {kind_of_row(n) for n in rows}]
    result = {"created": created, "rows": rows}
    lines = [f"{'model':9} {'reparam':9} {'mode':11} {'batch':>5} {'old s':>7} {'new s':>7} {'factor':>7}"]
    lines += [f"{r['model']:9} {r['reparam']:9} {r['mode']:11} {r['batch_size']:>5} "
              f"{statistics.median(r['old_epoch_s']):7.1f} {statistics.median(r['new_epoch_s']):7.1f} {r['factor']:7.3f}"
              for r in rows]
    finish(result, "\n".join(lines), time.perf_counter() - t0, args.out, args.threads)


if __name__ == "__main__":
    main()
