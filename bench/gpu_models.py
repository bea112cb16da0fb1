"""The `paper` profile of the CIFAR chapters priced run by run from each run's own measured speed on
whatever GPU is present (issue 31, item 5).

``bench/gpu.py`` prices every grid at ResNet-20's FLOP rate, and ResNet-20's small kernels leave most
of a big GPU idle, so networks that fill it better (ResNet-18/50, VGG, WRN-28-10) are likely priced
too high. Here every run of the CIFAR chapters' paper grids is sorted by what sets its speed: the
model, its reparameterization (a switcher's mode, a compander learned or fixed), its penalties and
the batch size. One run of
each kind (the first in its grid) is trained as :func:`regprune.experiment.execute` trains it
(its transforms, penalties, loss, precision and the hooks that act during training; not those that
analyse after it) for ``--epochs`` short epochs of ``--steps``
batches of random CIFAR-shaped images (``synthetic-cifar10``/``-100``; speed does not depend on
pixel values), and its rate is the median of the epochs after the first. Each run of the kind is
then priced at ``45,000 x epochs / rate``, the grid's own epochs (training only: post-training
analysis is not counted). A staged grid lists its later runs only once its search is stored: its
figure is a lower bound, as in ``gpu.py``. Each run is priced alone on the GPU; small networks that
share it K at a time cost less (``gpu.py``'s parallel rows: 8 ResNet-20 runs at once reached 4.6x
one run's rate on an H200), so their figures lean high; the networks that dominate the total
(ResNet-18/34/50, VGG, WRN-28-10 in weight_compander_cifar) fill the GPU alone.

    python bench/gpu_models.py [--steps 20] [--epochs 3] [--chapters flops_pruning ...]

``--device cpu --quick`` runs the code path in seconds on a CPU (the test does).
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import finish, group_by_kind, is_cifar, short_training, spec_name  # noqa: E402

from regprune import atomic, chapters, environment, experiment  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "gpu_models.json"
TRAIN_SAMPLES = 45000  # CIFAR's 50,000 training images less the 5,000 of validation
HELD_OUT = 64  # validation and test images of a timed run: the epoch's validation pass stays small
TARGET_PAPER_GPU_HOURS = 100.0  # issue 31: the CIFAR-10 chapters' paper profile <= 100 GPU-hours


def speed_kind(config: dict[str, Any]) -> str:
    """What sets a run's speed, as a label: model (with its settings), reparameterization (with the
    settings that change the work: a switcher's mode, a compander learned), penalties (computed every
    step), batch size. Transforms, hooks and the loss cost little beside the network. Finer than
    ``retime.kind`` (the key of its stored rows), which leaves out model settings, a learned compander
    and penalties: on a GPU those change the work of a step."""
    model = config["model"] if isinstance(config["model"], dict) else {"name": config["model"]}
    model = {k: v for k, v in model.items() if k != "init"}  # the initializer costs nothing per step
    reparam = config.get("reparam") or {}
    work = {k: reparam[k] for k in ("name", "mode", "learnable") if reparam.get(k) is not None}
    label = ",".join([model.pop("name")] + [f"{k}={v}" for k, v in sorted(model.items())])
    if work:
        label += " + " + ",".join([work.pop("name")] + [f"{k}={v}" for k, v in sorted(work.items())])
    penalties = sorted(spec_name(p) for p in config.get("penalties", []))
    if penalties:
        label += " + penalty " + ",".join(penalties)
    return f"{label} @ batch {config['train'].get('batch_size', 128)}"


def paper_grids(names: list[str] | None) -> dict[str, list[dict[str, Any]]]:
    """The CIFAR chapters' paper grids (or those named), with whether each is staged."""
    out = {}
    for chapter in chapters.CHAPTERS.names():
        if names and chapter not in names:
            continue
        grid = chapters.configs(chapter, "paper", results_dir=tempfile.gettempdir() + "/regprune-empty")
        if is_cifar(grid):
            out[chapter] = grid
    return out


def timed_config(config: dict[str, Any], steps: int, epochs: int) -> dict[str, Any]:
    """``config`` trained on ``steps`` batches of random images an epoch, for ``epochs`` epochs."""
    c = short_training(copy.deepcopy(config), epochs)  # training is priced, not the analysis after it
    batch = c["train"].get("batch_size", 128)
    shape_of = "cifar100" if "100" in spec_name(c["data"]) else "cifar10"
    c["data"] = {"name": f"synthetic-{shape_of}", "n_train": steps * batch + HELD_OUT, "n_test": HELD_OUT,
                 "val_split": HELD_OUT}
    c["train"]["select"] = "last"
    return c


def time_kind(config: dict[str, Any], steps: int, epochs: int, device: str) -> dict[str, Any]:
    c = timed_config(config, steps, epochs)
    t0 = time.perf_counter()
    record = experiment.execute(c, device=device, progress="none")
    times = [row["time"] for row in record["history"]]
    epoch = statistics.median(times[1:]) if len(times) > 1 else times[0]
    samples = steps * c["train"].get("batch_size", 128)
    return {"samples_per_s": samples / epoch, "epoch_times_s": times, "samples_per_epoch": samples,
            "precision": record["metrics"]["precision"], "status": record["status"],
            "wall_s": time.perf_counter() - t0}


def price(grids: dict[str, list[dict[str, Any]]], rates: dict[str, float]) -> list[dict[str, Any]]:
    """GPU-hours of each grid: every run at its kind's measured rate; a run whose kind has no rate is
    counted as unpriced, and its grid's figure is then a lower bound."""
    out = []
    for chapter, grid in grids.items():
        seconds, unpriced = 0.0, 0
        for c in grid:
            rate = rates.get(speed_kind(c))
            if rate:
                seconds += TRAIN_SAMPLES * c["train"]["epochs"] / rate
            else:
                unpriced += 1
        staged = "results_dir" in inspect.signature(chapters.CHAPTERS.get(chapter)).parameters
        out.append({"chapter": chapter, "runs": len(grid), "unpriced_runs": unpriced, "device_hours": seconds / 3600,
                    "lower_bound": staged or unpriced > 0})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    p.add_argument("--steps", type=int, default=20, help="batches per timed epoch")
    p.add_argument("--epochs", type=int, default=3, help="epochs per kind (the first is warm-up)")
    p.add_argument("--chapters", nargs="*", default=None, help="only these chapters' grids")
    p.add_argument("--quick", action="store_true", help="two kinds of one grid, tiny sizes: the code path in seconds")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device is visible here (allowed: cpu, cuda; use --device cpu --quick to test)")
    known = chapters.CHAPTERS.names()
    bad = [c for c in args.chapters or [] if c not in known]
    if bad:
        p.error(f"--chapters {' '.join(bad)}: not a chapter (allowed: {', '.join(known)})")
    if args.quick:
        args.chapters, args.steps, args.epochs = args.chapters or ["flops_pruning"], 2, 2
    t_start = time.perf_counter()
    grids = paper_grids(args.chapters)
    kinds = group_by_kind(grids, speed_kind)
    todo = list(kinds.items())[:2] if args.quick else sorted(kinds.items(), key=lambda kv: -kv[1]["runs"])
    name = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    rows, rates = [], {}
    for kind, k in todo:  # the kinds with most runs first, the file rewritten after each: a cut run keeps them
        row = {"kind": kind, "runs": k["runs"], "chapters": k["grids"]}
        try:
            row.update(time_kind(k["config"], args.steps, args.epochs, args.device))
            rates[kind] = row["samples_per_s"]
        except Exception as err:  # kept as a row that says why: one failing kind must not lose the others
            row["error"] = f"{type(err).__name__}: {err}"[:500]
        if args.device == "cuda":
            row["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        rows.append(row)
        print(f"{kind:55} {row.get('samples_per_s', float('nan')):9.0f} samples/s  {row.get('error', '')}", flush=True)
        atomic.write_text(args.out, json.dumps(result_of(args, name, grids, rows, rates), indent=1) + "\n")
    result = result_of(args, name, grids, rows, rates)
    projected, cifar = result["projection"]["chapters"], result["projection"]["gpu_hours_cifar"]
    unit = "GPU-hours" if args.device == "cuda" else "CPU-hours"
    lines = [f"paper profile, {c['chapter']}: {c['runs']} runs, {c['device_hours']:.1f} {unit}"
             + (f" ({c['unpriced_runs']} runs not priced)" if c["unpriced_runs"] else "")
             + (" (lower bound)" if c["lower_bound"] else "") for c in projected]
    lines.append(f"CIFAR chapters' paper profile: {cifar:.1f} {unit} on {name}, each run at its own measured rate "
                 f"(target <= {TARGET_PAPER_GPU_HOURS:g})")
    finish(result, "\n".join(lines), time.perf_counter() - t_start, args.out)


def result_of(args: argparse.Namespace, name: str, grids: dict[str, list[dict[str, Any]]],
              rows: list[dict[str, Any]], rates: dict[str, float]) -> dict[str, Any]:
    """The file's content so far: the kinds timed and the grids priced from them."""
    projected = price(grids, rates)
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": {"device": args.device, "device_name": name, "cpu_count": os.cpu_count(),
                        "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
                        **environment.git_commit(str(Path(__file__).parent))},
        "settings": {"steps": args.steps, "epochs": args.epochs, "chapters": list(grids), "quick": args.quick},
        "rows": rows,
        "projection": {"basis": "each run at its own kind's measured rate",
                       "gpu_hours_cifar": sum(c["device_hours"] for c in projected),
                       "lower_bound": any(c["lower_bound"] for c in projected),
                       "target_gpu_hours_cifar": TARGET_PAPER_GPU_HOURS, "chapters": projected},
    }


if __name__ == "__main__":
    main()
