"""CPU inference latency of CIFAR ResNets against their compact soft-pruned versions (paper 004).

Paper 004 reports FLOPs only ("about 15 % fewer" at keep rate 0.9) and takes them as a proxy
for inference cost. This benchmark measures what removing the pruned filters buys in wall
time on the CPU, for the networks :func:`regprune.filter_pruning.compact_resnet` extracts:

* **variants**: ``control`` (the dense ResNet, the reference) and, for each keep rate ``r``
  (default 0.9, 0.8, 0.7), a copy of the same network with the ``floor((1 - r) n)``
  lowest-norm filters of every conv zeroed (one SFP step) and then physically removed
  (residual stream kept at full width, constants folded; see ``compact_resnet``):
  ``compact_<r>`` removes every zero filter and scatters each block's ``conv2`` outputs into
  the stream; ``compact_<r>_keep2`` keeps ``conv2`` at full output width (no scatter). Weights are
  the seeded initialization with random batch-norm statistics (timing does not depend on
  trained values; nonzero BN constants exercise the folding paths);
* **one timed unit** is an eval-mode forward under ``torch.inference_mode()`` of a batch of 1
  or 128 random CIFAR-shaped images, in channels_last (the layout the training engine uses for
  conv nets) and in the default contiguous layout; oneDNN's channels_last kernels pad channel
  counts to blocks of 8 or 16, so 29 filters may cost what 32 do;
* **method**: per model and batch size, every variant is warmed up, the number of forwards per
  timed interval is calibrated on the control network (about ``--interval`` seconds), and
  then for every repeat every variant (starting one further along each repeat) times that
  many forwards with ``time.perf_counter()``. Per variant: the median over repeats of the time
  of one forward, and ``time_ratio`` = that / the control's median in the same run.
  Interleaving keeps drift (thermal, other load) from favouring one variant;
* **also recorded** per variant: conv MACs as paper 004 counts them (He et al.'s continuous
  rate rule) and as the compact network really has them, parameters, and the largest output
  difference between the compact and the zero-filter (masked) network on the timed batch.

Timings need an otherwise idle machine: the full run (5 depths x 2 layouts x 2 batch sizes x
7 variants, 7 repeats of about 0.25 s) takes about 6-8 minutes on the 2-core CPU; ``--quick``
(ResNet-20, 3 repeats of about 0.05 s) some 10-20 seconds. Output: a table on stdout and
``bench/results/latency.json`` (written atomically).

    .venv/bin/python bench/latency.py                  # full run
    .venv/bin/python bench/latency.py --quick          # smoke run
    .venv/bin/python bench/latency.py --models resnet56 --threads 1
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from common import finish
from regprune import counting, environment, filter_pruning, models

SEED = 0
NUM_CLASSES = 10
SHAPE = (3, 32, 32)
DEPTHS = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110")
KEEP_RATES = (0.9, 0.8, 0.7)
BATCHES = (1, 128)
DEFAULT_REPEATS = 7
DEFAULT_INTERVAL = 0.25
DEFAULT_WARMUP = 3
OUT = Path(__file__).resolve().parent / "results" / "latency.json"

COLUMNS = {
    "model": "regprune.models name",
    "variant": "'control' (dense, the reference), 'compact_<keep rate>' (conv2_outputs='remove') or "
               "'compact_<keep rate>_keep2' (conv2_outputs='keep')",
    "conv2_outputs": "compact_resnet's conv2_outputs (null for control)",
    "keep_rate": "fraction of filters kept per conv (1.0 for control)",
    "layout": "memory format of weights and inputs: channels_last or contiguous (NCHW)",
    "batch": "images per forward",
    "latency_s": "median over repeats of the time of one forward, seconds",
    "latencies_s": "time of one forward in each repeat (interval / forwards), seconds",
    "samples_per_s": "batch / latency_s",
    "time_ratio": "latency_s / latency_s of control on the same model and batch in the same run",
    "speedup": "1 / time_ratio",
    "paper_mmacs": "conv MACs (millions) by He et al. 2018's rule at keep_rate, paper 004's 'MegaFLOPs'",
    "compact_mmacs": "conv + linear MACs (millions) of the network timed (counting.count_macs)",
    "mac_ratio": "compact_mmacs / compact_mmacs of control",
    "params": "parameters of the network timed",
    "max_abs_diff": "largest |compact - masked| output difference on the timed batch (0 for control)",
    "max_rel_diff": "max_abs_diff / the largest |masked| output: random BN statistics make deep nets' outputs large",
    "forwards": "forwards per timed interval (calibrated on control)",
    "repeats": "timed intervals per variant (interleaved across variants)",
}


def _random_bn(model: nn.Module, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.num_features, generator=g))
    return model


def build_variants(model_name: str, keep_rates: tuple[float, ...], modes: tuple[str, ...]) -> dict[str, dict]:
    """name -> {"model": eval-mode network, "masked": the zero-filter network it equals, "keep_rate", "mode"}."""
    torch.manual_seed(SEED)
    dense = _random_bn(models.build(model_name, NUM_CLASSES), SEED).eval()
    out = {"control": {"model": dense, "masked": None, "keep_rate": 1.0, "mode": None}}
    for r in keep_rates:
        masked = copy.deepcopy(dense)
        filter_pruning.zero_filters(masked, r)
        for mode in modes:
            name = f"compact_{r:g}" + ("_keep2" if mode == "keep" else "")
            out[name] = {"model": filter_pruning.compact_resnet(masked, conv2_outputs=mode).eval(),
                         "masked": masked, "keep_rate": r, "mode": mode}
    return out


def make_runner(model: nn.Module) -> Callable[[torch.Tensor, int], None]:
    @torch.inference_mode()
    def run(x: torch.Tensor, n: int) -> None:
        for _ in range(n):
            model(x)

    return run


def interleaved(runners: dict[str, Callable], x: torch.Tensor, forwards: int, repeats: int) -> dict[str, list[float]]:
    names = list(runners)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            t0 = time.perf_counter()
            runners[name](x, forwards)
            times[name].append((time.perf_counter() - t0) / forwards)
    return times


def bench_model(model_name: str, keep_rates: tuple[float, ...], modes: tuple[str, ...], batches: tuple[int, ...],
                layouts: tuple[str, ...], repeats: int, interval: float, warmup: int,
                log: Callable[[str], None]) -> list[dict]:
    variants = build_variants(model_name, keep_rates, modes)
    for v in variants.values():
        v["macs"] = counting.count_macs(v["model"], SHAPE)
        v["params"] = counting.count_parameters(v["model"])["total"]
        v["paper"] = filter_pruning.sfp_paper_macs(variants["control"]["model"], v["keep_rate"], SHAPE)
    rows = []
    g = torch.Generator().manual_seed(SEED + 1)
    inputs = {b: torch.randn(b, *SHAPE, generator=g) for b in batches}
    for layout in layouts:
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        for v in variants.values():
            v["model"].to(memory_format=fmt)
        for batch in batches:
            x = inputs[batch].contiguous(memory_format=fmt)
            runners = {n: make_runner(v["model"]) for n, v in variants.items()}
            for run in runners.values():
                run(x, warmup)
            t0 = time.perf_counter()
            runners["control"](x, 1)
            forwards = max(1, round(interval / max(time.perf_counter() - t0, 1e-6)))
            log(f"{model_name} {layout} batch {batch}: {len(runners)} variants x {repeats} repeats x "
                f"{forwards} forwards")
            times = interleaved(runners, x, forwards, repeats)
            ref = statistics.median(times["control"])
            for name, v in variants.items():
                diff = rel = 0.0
                if v["masked"] is not None:
                    with torch.inference_mode():
                        want = v["masked"](x.contiguous())
                        diff = float((v["model"](x) - want).abs().max())
                        rel = diff / max(float(want.abs().max()), 1e-30)
                lat = statistics.median(times[name])
                rows.append({
                    "model": model_name, "variant": name, "keep_rate": v["keep_rate"],
                    "conv2_outputs": v["mode"], "layout": layout, "batch": batch,
                    "latency_s": lat, "latencies_s": times[name], "samples_per_s": batch / lat,
                    "time_ratio": lat / ref, "speedup": ref / lat,
                    "paper_mmacs": v["paper"] / 1e6, "compact_mmacs": v["macs"]["total"] / 1e6,
                    "mac_ratio": v["macs"]["total"] / variants["control"]["macs"]["total"],
                    "params": v["params"], "max_abs_diff": diff, "max_rel_diff": rel, "forwards": forwards, "repeats": repeats,
                })
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'model':<10} {'layout':<13} {'variant':<19} {'batch':>5} {'ms':>9} {'time ratio':>10} "
             f"{'MAC ratio':>9} {'paper MMACs':>11} {'rel. diff':>9}"]
    for r in rows:
        lines.append(f"{r['model']:<10} {r['layout']:<13} {r['variant']:<19} {r['batch']:>5} "
                     f"{1000 * r['latency_s']:>9.3f} {r['time_ratio']:>10.3f} {r['mac_ratio']:>9.3f} "
                     f"{r['paper_mmacs']:>11.2f} {r['max_rel_diff']:>9.1e}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(DEPTHS), help="comma-separated CIFAR ResNets")
    p.add_argument("--keep-rates", default=",".join(f"{r:g}" for r in KEEP_RATES),
                   help="comma-separated keep rates of the compact variants, each in (0, 1)")
    p.add_argument("--modes", default="remove,keep",
                   help="comma-separated conv2_outputs modes of compact_resnet: remove, keep")
    p.add_argument("--batches", default=",".join(map(str, BATCHES)), help="comma-separated batch sizes")
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="timed intervals per variant")
    p.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds per timed interval (about)")
    p.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, help="untimed forwards per variant first")
    p.add_argument("--layouts", default="channels_last,contiguous",
                   help="comma-separated memory layouts timed: channels_last, contiguous")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's default)")
    p.add_argument("--quick", action="store_true", help="resnet20 only, 3 repeats of about 0.05 s: a smoke run")
    p.add_argument("--out", type=Path, default=OUT, help="JSON results file")
    args = p.parse_args(argv)
    if args.quick:
        args.models, args.repeats, args.interval = "resnet20", 3, 0.05
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in args.models if m not in DEPTHS]
    if bad:
        p.error(f"--models: unknown or not a CIFAR ResNet {bad}; choose from {list(DEPTHS)}")
    try:
        args.keep_rates = tuple(float(r) for r in args.keep_rates.split(",") if r.strip())
        args.batches = tuple(int(b) for b in args.batches.split(",") if b.strip())
    except ValueError as err:
        p.error(f"--keep-rates / --batches: {err}")
    args.layouts = tuple(m.strip() for m in args.layouts.split(",") if m.strip())
    if not args.layouts or not set(args.layouts) <= {"channels_last", "contiguous"}:
        p.error(f"--layouts: choose from channels_last, contiguous; got {list(args.layouts)}")
    args.modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not args.modes or not set(args.modes) <= {"remove", "keep"}:
        p.error(f"--modes: choose from remove, keep; got {list(args.modes)}")
    if not all(0 < r < 1 for r in args.keep_rates):
        p.error(f"--keep-rates must lie in (0, 1); got {list(args.keep_rates)}")
    if not args.batches or min(args.batches) < 1:
        p.error(f"--batches must be positive integers; got {list(args.batches)}")
    if args.repeats < 1 or args.warmup < 0 or not args.interval > 0:
        p.error("--repeats must be >= 1, --warmup >= 0 and --interval > 0")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    rows = []
    for m in args.models:
        rows += bench_model(m, args.keep_rates, args.modes, args.batches, args.layouts, args.repeats,
                            args.interval, args.warmup, log)
    elapsed = time.perf_counter() - started
    result = {
        "benchmark": "latency",
        "description": "CPU eval-forward latency of compact soft-pruned CIFAR ResNets relative to the dense "
                       "network, measured in the same run (interleaved repeats, medians), with paper 004's "
                       "FLOP convention and the compact networks' real MACs beside them.",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "environment": environment.describe("cpu"),
        "settings": {
            "models": args.models, "keep_rates": list(args.keep_rates), "conv2_outputs": list(args.modes),
            "batches": list(args.batches),
            "repeats": args.repeats, "interval_s": args.interval, "warmup": args.warmup,
            "layouts": list(args.layouts), "threads": torch.get_num_threads(), "threads_arg": args.threads,
            "quick": args.quick, "out": str(args.out), "seed": SEED, "num_classes": NUM_CLASSES,
            "input_shape": list(SHAPE), "mode": "eval, torch.inference_mode",
            "weights": "seeded initialization, random batch-norm running statistics and biases",
            "pruning": "filter_pruning.zero_filters (all convs, lowest L2 norms, floor((1 - r) n) per conv), "
                       "then filter_pruning.compact_resnet",
            "reference": "control", "elapsed_s": elapsed,
        },
        "columns": COLUMNS,
        "rows": rows,
    }
    return finish(result, table(rows), elapsed, args.out)


if __name__ == "__main__":
    main()
