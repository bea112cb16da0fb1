"""Where the switcher's time goes: one parameter update of LeNet-300-100 (batch 64, the chapter's
setting) plain, and with switchers on every fully connected layer in each phase of the alternation
(SNN phase: forward and backward through the SNNs; TNN phase: their forward only), the SNNs'
forward alone ("gates only"), and the mean of the two phases ("alternation": a run trains as many
updates in each, so this is its cost per update, the figure issue 31 sets at <= 3x plain).

Variants are timed interleaved in one process, ``--repeats`` rounds of ``--steps`` updates each;
a variant's ratio to plain is taken within a round (paired: a busy CPU slows a round alike) and
its median over rounds is reported, with every round's ratio kept for the summary's interval.
Beside each ratio, its floor by arithmetic: the variant's floating-point operations over the plain
update's (counted by ``torch.utils.flop_counter`` on the very calls timed), the ratio it would reach
if the SNNs' small convolutions ran as efficiently per operation as the plain network's matrix
products.

Each variant cycles through ``DATA_BATCHES`` random batches. Until 2026-12-04 23:00 it took one batch
again and again: a network that memorizes its data drives its gradients into subnormal floats,
which this CPU computes at a fraction of the normal rate (a connection-switcher update grew from
43 to 270 ms within 70 updates on one batch; with subnormals flushed it stayed at 43 ms). Real
training does not go there: two epochs of a stored switcher run on MNIST took the same time and
gave the same accuracy with subnormals flushed or not.

    python bench/switcher.py            # ~15-30 seconds on 2 cores
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from common import finish
from regprune import allocator, environment, models, reparam
from regprune.switcher import switched_layers

BATCH = 64  # paper 002, Sec. 4
DATA_BATCHES = 32  # cycled through, as a loader hands them out; one batch gets memorized (docstring)


def build(mode: str | None) -> nn.Module:
    torch.manual_seed(0)
    model = models.build("lenet300")
    return reparam.apply(model, {"name": "switcher", "mode": mode, "channels": 4, "depth": 2}) if mode else model


def set_phase(model: nn.Module, phase: str) -> None:
    snn = {id(p) for _, sw in switched_layers(model).values() for p in sw.parameters()}
    for p in model.parameters():
        p.requires_grad_((id(p) in snn) == (phase == "snn"))


def step_fn(model: nn.Module):
    opt = torch.optim.SGD([p for p in model.parameters()], lr=0.01, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(BATCH, 1, 28, 28, generator=g), torch.randint(0, 10, (BATCH,), generator=g))
               for _ in range(DATA_BATCHES)]
    i = 0

    def step() -> None:
        nonlocal i
        x, y = batches[i % DATA_BATCHES]
        i += 1
        out = model(x)
        loss = nn.functional.cross_entropy(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def gates_fn(model: nn.Module):
    layers = list(switched_layers(model).values())

    def gates() -> None:
        with torch.no_grad():
            for layer, sw in layers:
                sw.gates(layer.parametrizations.weight.original)
    return gates


def flops(fn) -> int:
    """Floating-point operations of one call, counted by torch per aten op (convolutions and
    matrix products, forward and backward alike)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def time_block(fn, steps: int) -> float:
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    allocator.reuse_freed_memory()  # as fit does (before 2026-12-04 18:00 the bench ran without it)
    t0 = time.perf_counter()
    variants = {"plain": step_fn(build(None))}
    for mode in ("connection", "neuron"):
        for phase in ("snn", "tnn"):
            model = build(mode)
            set_phase(model, phase)
            variants[f"{mode}/{phase}"] = step_fn(model)
        variants[f"{mode}/gates only"] = gates_fn(build(mode))
    work = {name: flops(fn) for name, fn in variants.items()}  # also the warm-up
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            times[name].append(time_block(fn, args.steps))
    for mode in ("connection", "neuron"):  # a run's cost per update: as many updates in each phase
        times[f"{mode}/alternation"] = [(a + b) / 2 for a, b in zip(times[f"{mode}/snn"], times[f"{mode}/tnn"])]
        work[f"{mode}/alternation"] = (work[f"{mode}/snn"] + work[f"{mode}/tnn"]) / 2
    order = ["plain"] + [f"{m}/{v}" for m in ("connection", "neuron") for v in ("alternation", "snn", "tnn", "gates only")]
    rows = []
    for k in order:
        ratios = [t / p for t, p in zip(times[k], times["plain"])]
        rows.append({"variant": k, "step_ms": round(1000 * statistics.median(times[k]), 2),
                     "ratio_to_plain": round(statistics.median(ratios), 2),
                     "time_ratios": [round(r, 3) for r in ratios], "gflop": round(work[k] / 1e9, 4),
                     "floor_ratio": round(work[k] / work["plain"], 2)})
    table = "\n".join(f"{r['variant']:>24}  {r['step_ms']:9.2f} ms  {r['ratio_to_plain']:6.2f}x  (floor {r['floor_ratio']:5.2f}x)"
                      for r in rows)
    out = Path(__file__).resolve().parent / "results" / "switcher.json"
    finish({"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "model": "lenet300", "batch": BATCH,
            "steps": args.steps, "repeats": args.repeats, "data_batches": DATA_BATCHES, "rows": rows, "target_ratio": 3.0,
            "target_variants": ["connection/alternation", "neuron/alternation"],
            "environment": environment.describe("cpu")}, table, time.perf_counter() - t0, out)


if __name__ == "__main__":
    main()
