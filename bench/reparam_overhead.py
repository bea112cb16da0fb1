"""Training-time overhead of the weight reparameterizations of ``regprune.reparam``.

Paper 001 (Cakaj et al.) reports 7-14 % runtime overhead for its weight compander. This
benchmark measures, for each reparameterization (and for a magnitude-pruning mask, also a
parametrization), the time of one training step relative to the plain network, both
measured in the same run:

* **variants**: ``plain`` (the reference), ``compander`` (arctan, a=1, b=0.6, fixed),
  ``compander_fine`` (arctan, a=0.5, b=1, learned per layer), ``powerprop`` (alpha=2),
  ``weight_norm``, and ``mask`` (a :class:`regprune.pruning.WeightMask` from
  ``std_thresholds(model, 0.5, 0.5)``);
* **one timed unit** is a training step exactly as :func:`regprune.train.fit` does it:
  forward, cross-entropy, plus the effective weight decay the engine adds when a reparam asks
  for it (folded into the compander's backward since 2026-12-04 21:00, a penalty for the others;
  forward and penalty inside the engine's ``parametrized.effective_decay`` step context, so each
  parametrized weight is computed once per step), ``zero_grad``, backward, SGD step
  (momentum 0.9, weight decay 5e-4 through ``parameter_groups``), conv nets in channels_last as
  the engine's ``"auto"``; malloc keeps freed memory (:mod:`regprune.allocator`), as in ``fit``.
  Before 2026-12-04 18:00 it did not: glibc then mapped and unmapped the step's temporaries
  while the variants took turns (about 700 page faults a step for the LeNet-300-100 compander,
  35 for plain), which a real fit does only in its first epochs, so the stored overheads were off;
  inputs are random MNIST-shaped (1x28x28) or CIFAR-shaped (3x32x32) batches of 128,
  10 classes, 32 of them cycled through (the lr is 0.01 so nothing diverges). Speed does depend on
  the values in one way: gradients that fall below the smallest normal float (subnormals) take
  this CPU many times as long. Until 2026-12-04 23:00 the bench cycled through 4 batches, which the
  learned compander memorized (loss 3e-8) until its gradients went subnormal, and its stored
  LeNet-300-100 overhead (+370%) was that, not the compander (+74% with subnormals flushed, +71%
  on 32 batches). Each row counts the subnormal values in its last step's gradients and warns
  if there are any;
* **method**: one model per variant (same seed), each warmed up, then interleaved: for
  every repeat, every variant (starting one further along each repeat) times ``steps``
  steps with ``time.perf_counter()``. Per variant: the ratio of its step time to plain's in
  the same repeat, and the median of those ratios over repeats (overhead % = (ratio - 1) * 100):
  paired, as the book compares methods, since this CPU's speed drifts by +-20% between repeats.
  Interleaving keeps drift (thermal, other load) from favouring one variant;
* **kernel floor** (fixed companders): the compander's own kernels (``Psi(v)``, the backward's
  two passes) timed bare on the model's weights, over plain's step time: what an eager
  implementation cannot go below however little else it does;
* **alone** (companders): each parametrized weight read through ``parametrize`` in the step
  context and backpropagated from a fixed gradient, nothing else, less plain's time for the same
  (its weights are leaves), over plain's step time: the
  kernels plus every layer's Python and autograd machinery (``parametrize``'s property, the
  autograd function's forward and backward). The overhead minus this is how the variant fits
  into the step (caches, allocation), not its own work;
* **baked inference**: after training, a copy of each variant is baked
  (:func:`regprune.reparam.bake`) and its eval forward (no grad, batch 128) is timed the same
  interleaved way against the plain model's forward: a ratio near 1.0 shows baking restores
  the plain network's inference cost.

Default sizes (per model, unless ``--steps`` sets one value for all): lenet300 60 steps,
lenet5 15, resnet20 3, each 7 repeats after 5 warm-up steps, so one timed interval is
about 0.2-2 s. Training 6 x (5 + 7 x steps) steps per model plus the baked inference takes
about 2 minutes in all on a 2-core CPU whose fp32 matmul runs at about 230 GFLOP/s, and about
3.5 minutes on one at 70 GFLOP/s (both seen on this repo's machines). ``--quick`` (lenet300, 3 steps, 2
repeats) takes a few seconds.

``--compile``: every variant's model, plain included, goes through ``torch.compile`` as
``TrainConfig(compile=True)`` has the engine do (the penalty stays eager); the first warm-up
step compiles (about 15 s a variant on LeNet-300-100), so compiled runs need a C++ compiler.

``--device cuda``: the same on a GPU, the setting paper 001 measured its 7-14 % in (the timer
waits for the GPU at each start and stop). Ready and run on a CPU through the same code
(``--device cpu``), not yet on a GPU: ``python bench/reparam_overhead.py --device cuda --models
resnet20`` when one is lent.

Output: a table on stdout and ``bench/results/reparam_overhead.json`` (``--compile``:
``reparam_overhead_compiled.json``; ``--device cuda``: ``_cuda`` before ``.json``), written atomically;
``make bench-reparam`` runs it with the defaults.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torch.nn.utils import parametrize

from common import finish
from regprune import allocator, environment, models, parametrized, pruning, reparam
from regprune.losses import CrossEntropy
from regprune.train import OPTIMIZERS, TrainConfig, parameter_groups, uses_conv

BATCH = 128
NUM_CLASSES = 10
SEED = 0
MASK_THETA = 0.5  # theta_conv = theta_fc for the mask variant (prunes |w| < 0.5 * std per layer)
DEFAULT_STEPS = {"lenet300": 60, "lenet5": 15, "resnet20": 12}  # ResNet-20 at 3 steps a round spread +-25%
DEFAULT_REPEATS = 7
DEFAULT_WARMUP = 5
DATA_BATCHES = 32  # distinct random batches cycled through, as a loader hands them out (4 got memorized)
OUT = Path(__file__).resolve().parent / "results" / "reparam_overhead.json"
OUT_COMPILED = OUT.with_name("reparam_overhead_compiled.json")

# variant name -> reparam spec (None: plain; "mask" is handled apart, it is not a reparam)
VARIANTS: dict[str, Any] = {
    "plain": None,
    "compander": {"name": "compander", "fn": "arctan", "a": 1.0, "b": 0.6},
    "compander_fine": {"name": "compander", "fn": "arctan", "a": 0.5, "b": 1.0, "learnable": "fine"},
    "powerprop": {"name": "powerprop", "alpha": 2.0},
    "weight_norm": {"name": "weight_norm"},
    "mask": {"name": "mask", "theta_conv": MASK_THETA, "theta_fc": MASK_THETA},
}

COLUMNS = {
    "model": "regprune.models name",
    "variant": "short name of the weight parametrization; 'plain' is the reference",
    "spec": "reparam spec passed to regprune.reparam.apply (null: plain); for 'mask': "
            "pruning.apply_masks(magnitude_masks(std_thresholds(model, theta_conv, theta_fc)))",
    "samples_per_s": "training samples per second: batch * steps / median timed interval",
    "step_time_s": "median over repeats of the time of one training step, seconds",
    "step_times_s": "time of one training step in each repeat (interval / steps), seconds",
    "time_ratio": "median over repeats of (step time / plain's step time in the same repeat): paired, drift cancels",
    "time_ratios": "that ratio in each repeat",
    "ratio_of_medians": "step_time_s / step_time_s of plain (medians over repeats; the figure before 2026-12-03 12:50)",
    "overhead_pct": "(time_ratio - 1) * 100",
    "penalty": "whether the step adds reparam.EffectiveWeightDecay (weight decay on Psi(v))",
    "final_loss": "training loss at the last timed step (null if not finite: timing then suspect)",
    "subnormal_grads": "values below the smallest normal float in the parameters' gradients of the last timed step: "
                       "above 0, the step's time may include the CPU's subnormal slowdown (the random data learned by heart)",
    "baked_inference_samples_per_s": "eval forward samples per second after reparam.bake",
    "baked_inference_ratio": "median eval-forward time of the baked variant / that of plain "
                             "(1.0 for plain by definition)",
    "kernel_floor_pct": "compander rows: the time of the compander's own tensor kernels on this model's weights "
                        "(Psi forward, the two backward passes), run bare, over plain's step time, x 100: "
                        "the overhead no eager implementation of these kernels goes below",
    "alone_pct": "compander rows: the time of the weights alone (each read through parametrize in the step context, "
                 "then backpropagated from a fixed gradient), less plain's time for the same (its weights are leaves), "
                 "over plain's step time, x 100: kernels plus every layer's Python and autograd machinery, "
                 "without the rest of the step",
    "repeats": "timed intervals per variant (interleaved across variants)",
    "steps": "training steps (and inference forwards) per timed interval",
}


def build_variant(name: str, spec: Any, model_name: str) -> nn.Module:
    torch.manual_seed(SEED)
    model = models.build(model_name, NUM_CLASSES)
    if name == "mask":
        thresholds = pruning.std_thresholds(model, spec["theta_conv"], spec["theta_fc"])
        pruning.apply_masks(model, pruning.magnitude_masks(model, thresholds))
    else:
        reparam.apply(model, spec)
    return model


class Trainer:
    """One variant's model, optimizer and penalty, set up as :func:`regprune.train.fit` does."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, channels_last: bool):
        self.model, self.cl = model, channels_last
        allocator.reuse_freed_memory()  # as fit does
        self.step_model = torch.compile(model) if cfg.compile else model  # as fit does: the model only
        if channels_last:
            model.to(memory_format=torch.channels_last)
        self.optimizer = OPTIMIZERS.get(cfg.optimizer)(parameter_groups(model, cfg), cfg, model)
        self.penalties, self.step_context = parametrized.effective_decay(model, cfg.weight_decay)
        self.loss = CrossEntropy()
        self.last_loss = torch.zeros(())
        model.train()

    def steps(self, batches: list[tuple[torch.Tensor, torch.Tensor]], n: int, start: int) -> None:
        model, optimizer, loss = self.model, self.optimizer, self.loss
        step_model = self.step_model
        for i in range(start, start + n):
            x, y = batches[i % len(batches)]
            if self.cl:
                x = x.contiguous(memory_format=torch.channels_last)
            with self.step_context():
                out = step_model(x)
                batch_loss = loss(out, y)
                total = batch_loss
                for p in self.penalties:
                    total = total + p(model)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
        self.last_loss = batch_loss.detach()


def subnormal_grads(model: nn.Module) -> int:
    """Nonzero gradient values below the smallest normal float of their dtype."""
    return sum(int(((g != 0) & (g.abs() < torch.finfo(g.dtype).tiny)).sum())
               for p in model.parameters() if (g := p.grad) is not None)


def median_time(once: Callable[[], None], repeats: int, n: int, sync: Callable[[], None]) -> float:
    """Median over ``repeats`` of the mean time of ``n`` calls of ``once`` (after one untimed call)."""
    once()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            once()
        sync()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def kernel_floor(model: nn.Module, repeats: int, n: int = 20, sync: Callable[[], None] = lambda: None) -> float:
    """Median seconds a step spends in a fixed compander's own kernels alone (``reparam._f_over``
    for ``Psi(v)``, ``reparam._grad_v`` for the backward), on ``model``'s weights, no autograd."""
    chains = [layer.parametrizations.weight for layer in reparam.weight_layers(model).values()]
    work = [(plist.original.detach(), plist[0]) for plist in chains if isinstance(plist[0], reparam.Compander)]

    def once() -> None:
        for v, c in work:
            t, _ = reparam._f_over(c.fn, v, c.b)
            reparam._grad_v(c.fn, t, v, c.a, c.b)

    return median_time(once, repeats, n, sync)


def alone(trainer: "Trainer", repeats: int, n: int = 20, sync: Callable[[], None] = lambda: None) -> float:
    """Median seconds a step spends on its weights alone: each weight read (through ``parametrize``
    in the step context, the decay folded where the engine folds it), then backpropagated from a
    fixed random gradient into what the optimizer updates, nothing else. Minus plain's figure
    (the same backward call into leaf weights): the kernels and the Python and autograd machinery
    of every layer's chain, without the rest of the step."""
    layers = list(reparam.weight_layers(trainer.model).values())
    g = torch.Generator().manual_seed(SEED)
    grads = [torch.randn(m.weight.shape, generator=g).to(m.weight.device) * 1e-3 for m in layers]
    originals = [p for m in layers for p in (m.parametrizations.weight.parameters() if parametrize.is_parametrized(m)
                                             else [m.weight])]

    def once() -> None:
        for p in originals:
            p.grad = None
        with trainer.step_context():
            ws = [m.weight for m in layers]
        torch.autograd.backward(ws, grads)

    seconds = median_time(once, repeats, n, sync)
    for p in originals:
        p.grad = None
    return seconds


def make_inference(model: nn.Module, channels_last: bool) -> Callable[[list, int, int], None]:
    model.eval()

    @torch.no_grad()
    def run(batches: list[tuple[torch.Tensor, torch.Tensor]], n: int, start: int) -> None:
        for i in range(start, start + n):
            x = batches[i % len(batches)][0]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            model(x)

    return run


def interleaved(runners: dict[str, Callable[[list, int, int], None]], batches: list, steps: int,
                repeats: int, warmup: int, sync: Callable[[], None] = lambda: None) -> dict[str, list[float]]:
    """Per runner: the time of one step in each repeat, runners interleaved (rotated order);
    ``sync`` waits for the device (a GPU runs asynchronously) before a timer starts and stops."""
    names = list(runners)
    for name in names:
        runners[name](batches, warmup, 0)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            sync()
            t0 = time.perf_counter()
            runners[name](batches, steps, warmup + r * steps)
            sync()
            times[name].append((time.perf_counter() - t0) / steps)
    return times


def bench_model(model_name: str, variants: dict[str, Any], steps: int, repeats: int, warmup: int,
                cfg: TrainConfig, log: Callable[[str], None], device: str = "cpu") -> list[dict[str, Any]]:
    g = torch.Generator().manual_seed(SEED)
    shape = models.input_shape(model_name)
    batches = [(torch.randn(BATCH, *shape, generator=g).to(device),
                torch.randint(0, NUM_CLASSES, (BATCH,), generator=g).to(device)) for _ in range(DATA_BATCHES)]
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    trainers = {}
    for name, spec in variants.items():
        model = build_variant(name, spec, model_name).to(device)  # on the device before the optimizer, as fit does
        trainers[name] = Trainer(model, cfg, channels_last=uses_conv(model))

    t0 = time.perf_counter()
    log(f"{model_name}: training, {len(variants)} variants x {repeats} repeats x {steps} steps "
        f"(+{warmup} warm-up)")
    train_times = interleaved({n: t.steps for n, t in trainers.items()}, batches, steps, repeats, warmup, sync)

    floor = {name: kernel_floor(t.model, repeats, sync=sync) for name, t in trainers.items()
             if name != "plain" and (spec := variants[name]) and spec.get("name") == "compander" and not spec.get("learnable")}

    own = {name: alone(t, repeats, sync=sync) for name, t in trainers.items()
           if name == "plain" or variants[name].get("name") == "compander"}

    log(f"{model_name}: baked inference")
    infer = {}
    for name, t in trainers.items():
        model = reparam.bake(copy.deepcopy(t.model))
        if t.cl:  # a weight rebuilt by bake keeps the layout the engine trains in
            model.to(memory_format=torch.channels_last)
        infer[name] = make_inference(model, t.cl)
    infer_times = interleaved(infer, batches, steps, repeats, max(1, warmup // 2), sync)
    log(f"{model_name}: done in {time.perf_counter() - t0:.1f} s")

    ref_train = statistics.median(train_times["plain"])
    ref_infer = statistics.median(infer_times["plain"])
    rows = []
    for name, spec in variants.items():
        step_time = statistics.median(train_times[name])
        infer_time = statistics.median(infer_times[name])
        # paired: each repeat times every variant back to back, so the ratio within a repeat cancels
        # the drift between repeats (other load, clock); the median over repeats is the figure
        paired = [t / p for t, p in zip(train_times[name], train_times["plain"])]
        ratio = statistics.median(paired)
        last = float(trainers[name].last_loss)
        rows.append({
            "model": model_name,
            "variant": name,
            "spec": spec,
            "samples_per_s": BATCH / step_time,
            "step_time_s": step_time,
            "step_times_s": train_times[name],
            "time_ratio": ratio,
            "time_ratios": paired,
            "ratio_of_medians": step_time / ref_train,
            "overhead_pct": (ratio - 1) * 100,
            "penalty": bool(trainers[name].penalties),
            "final_loss": last if math.isfinite(last) else None,
            "subnormal_grads": subnormal_grads(trainers[name].model),
            **({"kernel_floor_pct": floor[name] / ref_train * 100} if name in floor else {}),
            **({"alone_pct": (own[name] - own["plain"]) / ref_train * 100} if name in own and name != "plain" else {}),
            "baked_inference_samples_per_s": BATCH / infer_time,
            "baked_inference_ratio": infer_time / ref_infer,
            "repeats": repeats,
            "steps": steps,
        })
    plain_loss = next(r["final_loss"] for r in rows if r["variant"] == "plain")
    for r in rows:
        loss = r["final_loss"]
        if plain_loss is not None and (loss is None or (loss > 1.0 and loss > 10 * plain_loss)):
            log(f"warning: {model_name} {r['variant']}: last training loss {loss} against plain's {plain_loss:.2g}: "
                "it may not be training (a compiled compander did not, until 317adcf), so its time may not be its cost")
        if r["subnormal_grads"]:
            log(f"warning: {model_name} {r['variant']}: {r['subnormal_grads']} subnormal gradient values in the last "
                f"step (last loss {r['final_loss']:.2g}): its time may include the CPU's subnormal slowdown")
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = ("model", "variant", "samples/s", "train ratio", "overhead %", "kernels %", "alone %", "baked inf. ratio")
    lines = [f"{head[0]:<10} {head[1]:<15} {head[2]:>10} {head[3]:>12} {head[4]:>11} {head[5]:>10} {head[6]:>8} "
             f"{head[7]:>17}"]
    for r in rows:
        kernels, own = (f"{r[k]:+.1f}" if k in r else "" for k in ("kernel_floor_pct", "alone_pct"))
        lines.append(f"{r['model']:<10} {r['variant']:<15} {r['samples_per_s']:>10.0f} {r['time_ratio']:>12.3f} "
                     f"{r['overhead_pct']:>+11.1f} {kernels:>10} {own:>8} {r['baked_inference_ratio']:>17.3f}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="lenet300,lenet5,resnet20", help="comma-separated model names")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help="comma-separated variants ('plain' is always measured, as the reference)")
    p.add_argument("--steps", type=int, default=None,
                   help=f"training steps per timed interval (default per model: {DEFAULT_STEPS}, else 10)")
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="timed intervals per variant")
    p.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, help="untimed steps per variant first")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's default)")
    p.add_argument("--quick", action="store_true", help="lenet300 only, 3 steps, 2 repeats: a smoke run")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="where to train (cuda: the paper's own setting; default --out gains '_cuda')")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile every variant's model, plain included, as TrainConfig(compile=True) "
                        f"does (default --out: {OUT_COMPILED.name})")
    p.add_argument("--out", type=Path, default=None, help=f"JSON results file (default: {OUT.name})")
    args = p.parse_args(argv)
    if args.quick:
        args.models, args.steps, args.repeats = "lenet300", 3, 2
    if args.out is None:
        base = OUT_COMPILED if args.compile else OUT
        args.out = base.with_name(base.name.replace(".json", "_cuda.json")) if args.device == "cuda" else base
    for name in ("steps", "repeats", "warmup"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "warmup" else 1):
            p.error(f"--{name} must be positive")
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in models.names()]
    if unknown:
        p.error(f"unknown model(s) {unknown}; known: {models.names()}")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}")
    args.variants = ["plain"] + [v for v in variants if v != "plain"]
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cfg = TrainConfig(optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=5e-4, batch_size=BATCH,
                      compile=args.compile)
    variants = {v: VARIANTS[v] for v in args.variants}
    steps = {m: args.steps or DEFAULT_STEPS.get(m, 10) for m in args.models}

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    rows = []
    for m in args.models:
        rows += bench_model(m, variants, steps[m], args.repeats, args.warmup, cfg, log, args.device)
    elapsed = time.perf_counter() - started

    result = {
        "benchmark": "reparam_overhead",
        "description": "Training-step time of each weight parametrization relative to the plain network, "
                       "and eval-forward time after reparam.bake relative to the plain network, "
                       "all measured in the same run (interleaved repeats, medians).",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "environment": environment.describe(args.device),
        "settings": {
            "device": args.device,
            "models": args.models,
            "variants": variants,
            "steps": steps,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "threads": torch.get_num_threads(),
            "threads_arg": args.threads,
            "quick": args.quick,
            "out": str(args.out),
            "batch_size": BATCH,
            "num_classes": NUM_CLASSES,
            "data": f"{DATA_BATCHES} random batches per model, input shape from regprune.models.input_shape",
            "seed": SEED,
            "optimizer": {"name": cfg.optimizer, "lr": cfg.lr, "momentum": cfg.momentum,
                          "weight_decay": cfg.weight_decay, "decay_norm_and_bias": cfg.decay_norm_and_bias},
            "loss": "cross_entropy",
            "channels_last": "auto (conv nets)",
            "precision": cfg.precision,
            "compile": cfg.compile,
            "reference": "plain",
            "elapsed_s": elapsed,
        },
        "columns": COLUMNS,
        "rows": rows,
    }
    return finish(result, table(rows), elapsed, args.out)


if __name__ == "__main__":
    main()
