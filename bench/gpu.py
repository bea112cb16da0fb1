"""ResNet-20 on CIFAR-10-sized data on whatever GPU is present: epoch time, samples/s, and the
`paper` profile's cost in GPU-hours from that figure (issue 31, item 5).

Each case is :func:`regprune.train.fit` as every chapter runs it (data resident on the device,
the engine's batched crop and flip, channels_last), on 45,000 random training images (the size
of CIFAR-10's training split less its 5,000 validation images; speed does not depend on pixel
values), batch 128, in a fresh process. Epoch time is the median of the epochs after the first
(warm-up, and compilation where ``compile`` is on). Cases:

* **precision**: fp32, bf16 (autocast) and fp16 (autocast with ``torch.amp.GradScaler``, what a
  GPU without bf16 such as Colab's T4 gets from ``precision="auto"``);
* **compile**: bf16 with ``torch.compile`` (opt-in, ``train.compile``), in its default mode and in
  ``reduce-overhead``, whose CUDA graphs replay a step's kernels without launching each (the eager
  step is launch-bound here: ``bench/gpu_step.py``); fp16 in ``reduce-overhead`` too, Colab's T4 path;
* **parallel**: K copies of the bf16 case at once on the one GPU, as ``tools/device_grid.sh``
  runs a grid: the aggregate samples/s is what a grid gets from the device.

The projection prices every chapter's `paper` grid at the best aggregate rate, as FLOP/s of
ResNet-20 (6 x forward MACs per training sample), the same rough rule as ``bench/throughput.py``'s
CPU projection (kept beside it: CPU-hours from that file, GPU-hours from this one, the GPU named).
Small networks reach a smaller share of a GPU than ResNet-20 does, so the MNIST chapters' figures
are a lower bound.

    python bench/gpu.py [--epochs 3] [--cases fp32:0 bf16:1 bf16:reduce-overhead] [--parallel 4 8] [--no-compile]

The file is rewritten after each case, so a run cut short (a lease's end) keeps the cases done.
``--device cpu --quick`` runs every code path in seconds on a CPU (the test does).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import finish  # noqa: E402
from throughput import SHAPES, _engine_splits, _transforms, projection  # noqa: E402

from regprune import atomic, counting, environment, models  # noqa: E402
from regprune.speed_targets import compile_label  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "gpu.json"
TRAIN_SAMPLES = 45000
BATCH = 128
TARGET_EPOCH_S = 2.0  # issue 31: ResNet-20 CIFAR-10 epoch <= 2 s on an H100-class GPU
TARGET_PAPER_GPU_HOURS = 100.0  # issue 31: the CIFAR-10 chapters' paper profile <= 100 GPU-hours


CASES = ["fp32:0", "bf16:0", "fp16:0", "bf16:1", "bf16:reduce-overhead", "fp16:reduce-overhead"]


def parse_case(case: str) -> tuple[str, bool | str]:
    """``PRECISION:COMPILE`` -> (precision, ``train.compile``): COMPILE 0 (eager), 1 (compiled) or a
    ``torch.compile`` mode (``COMPILE_MODES``)."""
    from regprune.train import COMPILE_MODES

    precision, _, compile_ = case.partition(":")
    if compile_ in ("0", "1"):
        return precision, compile_ == "1"
    if compile_ in COMPILE_MODES:
        return precision, compile_
    raise ValueError(f"{case}: each case is PRECISION:COMPILE, COMPILE 0, 1 or one of {', '.join(COMPILE_MODES)} "
                     "(e.g. bf16:1, bf16:reduce-overhead)")


def run_case(precision: str, compile_: bool | str, n: int, epochs: int, device: str) -> dict[str, Any]:
    from regprune.train import TrainConfig, fit

    cfg = TrainConfig(epochs=epochs, batch_size=BATCH, lr=0.1, momentum=0.9, weight_decay=1e-4, select="last",
                      precision=precision, compile=compile_)
    torch.manual_seed(0)
    result = fit(models.build("resnet20"), _engine_splits("resnet20", n), cfg, transforms=_transforms("resnet20"),
                 device=device, progress="none")
    times = [row["time"] for row in result.history]
    epoch = statistics.median(times[1:]) if len(times) > 1 else times[0]
    return {"precision": precision, "compile": compile_,
            "samples": n, "epochs": epochs, "epoch_times_s": times, "epoch_s": epoch, "samples_per_s": n / epoch,
            "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None}


def spawn(args: argparse.Namespace, precision: str, compile_: bool | str, copies: int = 1) -> list[dict[str, Any]]:
    """``copies`` processes of one case, started together; each returns its own figures."""
    flag = compile_ if isinstance(compile_, str) else str(int(compile_))
    cmd = [sys.executable, __file__, "--case", f"{precision}:{flag}", "--device", args.device,
           "--epochs", str(args.epochs), "--samples", str(args.samples)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(copies)]
    out = []
    for p in procs:
        stdout, stderr = p.communicate()
        if p.returncode != 0:  # kept as a row that says why: one failing case must not lose the others
            print(f"case {precision} compile={compile_} failed:\n{stderr[-3000:]}", file=sys.stderr)
            return [{"precision": precision, "compile": compile_, "error": stderr.strip().splitlines()[-1:]}]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    p.add_argument("--epochs", type=int, default=3, help="epochs per case (the first is warm-up)")
    p.add_argument("--samples", type=int, default=TRAIN_SAMPLES)
    p.add_argument("--parallel", type=int, nargs="*", default=[4, 8], help="copies of the bf16 case run at once")
    p.add_argument("--cases", nargs="*", default=CASES,
                   help="single-process cases, PRECISION:COMPILE (COMPILE 0, 1 or a torch.compile mode)")
    p.add_argument("--no-compile", action="store_true", help="drop the compiled cases")
    p.add_argument("--quick", action="store_true", help="tiny sizes on any device: every code path in seconds")
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device is visible here (allowed: cpu, cuda; use --device cpu --quick to test)")
    try:
        cases = [parse_case(c) for c in args.cases]
    except ValueError as e:
        p.error(f"--cases {e}")
    if args.quick:
        args.samples, args.epochs, args.parallel = 256, 2, [2]
    if args.case:
        print(json.dumps(run_case(*parse_case(args.case), args.samples, args.epochs, args.device)))
        return
    t_start = time.perf_counter()
    cases = [(prec, comp) for prec, comp in cases if not (comp and args.no_compile)]
    macs = counting.count_macs(models.build("resnet20"), SHAPES["resnet20"])["total"]
    at_one_flop = projection(1.0)  # device-hours scale as 1 / rate: priced once, scaled per result
    name = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    rows: list[dict[str, Any]] = []

    def keep(row: dict[str, Any]) -> None:
        """Add a case's row and rewrite the file: a run cut short (a lease's end) keeps the cases done."""
        rows.append(row)
        result = result_of(args, name, rows, macs, at_one_flop)
        if result is not None:
            atomic.write_text(args.out, json.dumps(result, indent=1, allow_nan=False) + "\n")

    for prec, comp in cases:
        keep({**spawn(args, prec, comp)[0], "copies": 1})
    for k in args.parallel:
        runs = spawn(args, "bf16", False, k)
        if "error" in runs[0]:
            keep({**runs[0], "copies": k})
            continue
        keep({"precision": "bf16", "compile": False, "copies": k, "samples": args.samples,
              "epochs": args.epochs, "epoch_s": max(r["epoch_s"] for r in runs),
              "samples_per_s": sum(r["samples_per_s"] for r in runs),
              "per_copy_samples_per_s": [r["samples_per_s"] for r in runs]})
    result = result_of(args, name, rows, macs, at_one_flop)
    if result is None:
        sys.exit(f"every case failed: {rows}")
    good, failed, chapters_ = result["rows"], result["failed"], result["projection"]["chapters"]
    single = reference_case(good)
    lines = [f"{name}, torch {torch.__version__}: ResNet-20, {args.samples} samples an epoch, batch {BATCH}",
             f"{'precision':9} {'compile':15} {'copies':>6} {'epoch s':>8} {'samples/s':>10}"]
    lines += [f"{r['precision']:9} {str(r['compile']):15} {r['copies']:>6} {r['epoch_s']:8.2f} {r['samples_per_s']:10.0f}"
              for r in good]
    lines += [f"{r['precision']:9} {str(r['compile']):15} {r.get('copies', 1):>6} failed: {r['error']}" for r in failed]
    fastest = min((r for r in good if r["copies"] == 1), key=lambda r: r["epoch_s"], default=single)
    lines.append(f"{single['precision']}{compile_label(single['compile'])} epoch {single['epoch_s']:.2f} s; "
                 f"fastest single run {fastest['precision']}"
                 f"{compile_label(fastest['compile'])} {fastest['epoch_s']:.2f} s "
                 f"(target <= {TARGET_EPOCH_S:g} s on an H100-class GPU)")
    lines += [f"paper profile, {c['chapter']}: {c['runs']} runs, {c['device_hours']:.1f} GPU-hours"
              f"{' (lower bound: staged grid)' if c.get('lower_bound') else ''}" if "device_hours" in c
              else f"paper profile, {c['chapter']}: not projected ({c['error'][:80]})" for c in chapters_]
    lines.append(f"CIFAR-10 chapters' paper profile: {result['projection']['gpu_hours_cifar']:.1f} GPU-hours at "
                 f"{result['projection']['basis']} (target <= {TARGET_PAPER_GPU_HOURS:g})")
    finish(result, "\n".join(lines), time.perf_counter() - t_start, args.out)


def reference_case(good: list[dict[str, Any]]) -> dict[str, Any]:
    """The row whose epoch the file reports as ``epoch_s``: bf16 eager in one process, else the fastest row."""
    return next((r for r in good if r["precision"] == "bf16" and not r["compile"] and r["copies"] == 1),
                max(good, key=lambda r: r["samples_per_s"]))


def result_of(args: argparse.Namespace, name: str, rows: list[dict[str, Any]], macs: int,
              at_one_flop: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The file's content from the cases done so far (None while none has succeeded): the paper grids
    priced at the best aggregate rate among them."""
    failed = [r for r in rows if "error" in r]
    good = [r for r in rows if "error" not in r]
    if not good:
        return None
    best = max(good, key=lambda r: r["samples_per_s"])
    rate = 6 * macs * best["samples_per_s"]
    chapters_ = [{**c, "device_hours": c["device_hours"] / rate} if "device_hours" in c else c for c in at_one_flop]
    cifar = sum(c.get("device_hours", 0) for c in chapters_ if c.get("cifar"))
    single = reference_case(good)
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": {"device": args.device, "device_name": name, "cpu_count": os.cpu_count(),
                        "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
                        **environment.git_commit(str(Path(__file__).parent))},
        "settings": {"model": "resnet20", "batch_size": BATCH, "samples": args.samples, "epochs": args.epochs,
                     "quick": args.quick},
        "rows": good, "failed": failed, "macs_per_sample": macs,
        "epoch_s": single["epoch_s"], "target_epoch_s": TARGET_EPOCH_S,
        "projection": {"basis": f"{best['precision']}{compile_label(best['compile'])} x{best['copies']} "
                                f"aggregate, {best['samples_per_s']:.0f} samples/s", "flops_per_s": rate,
                       "gpu_hours_cifar": cifar, "target_gpu_hours_cifar": TARGET_PAPER_GPU_HOURS,
                       "chapters": chapters_},
    }


if __name__ == "__main__":
    main()
