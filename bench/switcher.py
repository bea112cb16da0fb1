"""Where the switcher's time goes: one parameter update of LeNet-300-100 (batch 64, the chapter's
setting) plain, and with switchers on every fully connected layer in each phase of the alternation,
split into the SNNs' forward (the gates), the rest of the step, and the SNNs' backward.

Variants are timed interleaved in one process (medians of ``--repeats`` blocks of ``--steps``
updates), so a busy CPU slows them alike and the ratios stay comparable.

    python bench/switcher.py            # ~1-2 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from common import finish
from regprune import environment, models, reparam
from regprune.switcher import switched_layers

BATCH = 64  # paper 002, Sec. 4


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
    x, y = torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))

    def step() -> None:
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


def time_block(fn, steps: int) -> float:
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    t0 = time.perf_counter()
    variants = {"plain": step_fn(build(None))}
    for mode in ("connection", "neuron"):
        for phase in ("snn", "tnn"):
            model = build(mode)
            set_phase(model, phase)
            variants[f"{mode}/{phase}"] = step_fn(model)
        variants[f"{mode}/gates only"] = gates_fn(build(mode))
    for fn in variants.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            times[name].append(time_block(fn, args.steps))
    plain = statistics.median(times["plain"])
    rows = [{"variant": k, "step_ms": round(1000 * statistics.median(v), 2),
             "ratio_to_plain": round(statistics.median(v) / plain, 2)} for k, v in times.items()]
    table = "\n".join(f"{r['variant']:>24}  {r['step_ms']:9.2f} ms  {r['ratio_to_plain']:6.2f}x" for r in rows)
    out = Path(__file__).resolve().parent / "results" / "switcher.json"
    finish({"model": "lenet300", "batch": BATCH, "steps": args.steps, "repeats": args.repeats, "rows": rows,
            "target_ratio": 3.0, "environment": environment.describe("cpu")}, table, time.perf_counter() - t0, out)


if __name__ == "__main__":
    main()
