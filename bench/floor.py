"""The floor under regenerating the `cpu` profile on this machine: every stored run's matrix kernels
(products and convolutions), each called alone, with nothing else to do (issue 31, item 4).

``bench/epochs.py`` prices a regeneration at what each kind of run takes here. This script asks
how low that could go with today's kernels and the same results. For every kind of run
(``epochs.kind``: model, reparameterization, penalties, batch size, data set) it records, in the
layout (channels_last) and precision (autocast) the engine trains in, every call of a matrix
kernel (the ops ``torch.utils.flop_counter`` counts) made by

* one training step at the run's batch size, and by the epoch's last, shorter batch (for a
  switcher under alternating learning, once per phase: the SNN's epochs and the task network's
  differentiate different parts);
* one evaluation of the validation split, as ``train.evaluate`` runs it (each epoch; the test
  split too where the run sets ``monitor_test``), and of the test split at the end.

Each recorded call is then replayed alone on random tensors of its recorded shapes, strides and
dtype, in a loop, best of 5: its kernel with warm caches and nothing between calls. A run's floor
is its epochs of these (in its phases), and a grid's is the sum of its stored runs. Elementwise
work (activations, normalization, the optimizer, augmentation, a compander's ``atan2``), the
engine's own work and the post-training analysis count zero, so the floor is a lower bound on a
regeneration with these kernels. Where it exceeds the target, no change outside the kernels that
keeps the results meets the target on this machine.

Beside it, each kind's FLOPs (the counter's formulas), and where ``bench/results/epochs.json``
timed the kinds on the same CPU, the kernels' share of its measured epoch and its GFLOP/s.

    python bench/floor.py [--grids comparison ...]     (about a minute on 2 cores)

No data is read: sizes and shapes come from each kind's first stored record.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

import epochs
from common import add_grids_option, chosen_grids, finish, is_cifar, spec_name
from regeneration import here_epochs

from regprune import chapters, environment, experiment, results, switcher, train
from regprune.data import ArrayDataset
from regprune.hooks import HOOKS

OUT = Path(__file__).resolve().parent / "results" / "floor.json"
MATRIX_OPS = set(flop_registry)  # the ops torch's FLOP counter counts: products and convolutions
REPEATS = 5
MIN_LOOP_S = 2e-3  # a call is timed in loops at least this long, so tiny calls are not timer noise


@dataclass(frozen=True)
class TensorSpec:
    """A recorded tensor argument: what a replay needs to make one like it."""
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    dtype: torch.dtype

    def make(self) -> torch.Tensor:
        t = torch.empty_strided(self.shape, self.stride, dtype=self.dtype)
        return t.uniform_(-1, 1) if t.is_floating_point() else t.zero_()


def _spec(x: Any) -> Any:
    return TensorSpec(tuple(x.shape), tuple(x.stride()), x.dtype) if isinstance(x, torch.Tensor) else x


class MatrixCalls(TorchDispatchMode):
    """Records every matrix-kernel call (op, argument shapes, strides and dtypes) made inside it,
    with how often each distinct call was made, and counts their FLOPs."""

    def __init__(self):
        super().__init__()
        self.calls: dict[tuple, list] = {}  # (op, repr of its arguments) -> [arguments, calls]
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func.overloadpacket in MATRIX_OPS:
            spec = pytree.tree_map(_spec, (args, kwargs))
            self.calls.setdefault((func, repr(spec)), [spec, 0])[1] += 1
            self.flops += flop_registry[func.overloadpacket](*pytree.tree_map(_shape, args),
                                                             **pytree.tree_map(_shape, kwargs),
                                                             out_val=pytree.tree_map(_shape, out))
        return out


def _shape(x: Any) -> Any:
    return x.shape if isinstance(x, torch.Tensor) else x


def _materialize(x: Any) -> Any:
    return x.make() if isinstance(x, TensorSpec) else x


def replay_seconds(calls: dict[tuple, list]) -> float:
    """The recorded calls, each alone on fresh random tensors of its recorded layout, best of
    :data:`REPEATS` loops, times how often it was made: the matrix kernels' time with nothing else."""
    total = 0.0
    for (func, _), (spec, count) in calls.items():
        args, kwargs = pytree.tree_map(_materialize, spec)
        t0 = time.perf_counter()
        func(*args, **kwargs)  # warm-up, and the size of a loop
        n = max(1, int(MIN_LOOP_S / max(time.perf_counter() - t0, 1e-7)))
        best = math.inf
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            for _ in range(n):
                func(*args, **kwargs)
            best = min(best, (time.perf_counter() - t0) / n)
        total += best * count
    return total


def _measure(fn) -> dict[str, float]:
    with MatrixCalls() as calls:
        fn()
    return {"flops": calls.flops, "kernel_s": replay_seconds(calls.calls)}


def _alternation(config: dict[str, Any]) -> switcher.Alternation | None:
    """The run's alternating-learning hook, built from its config as the engine builds it (None: none)."""
    specs = [h for h in config.get("hooks", []) if spec_name(h) == "switcher_alternation"]
    return experiment._build(HOOKS, specs[0], "hooks") if specs else None


def count_kind(record: dict[str, Any]) -> dict[str, Any]:
    """FLOPs and matrix-kernel seconds of a training epoch (per phase) and of the evaluations, for
    ``record``'s kind, in the layout (channels_last) and precision (autocast) the engine uses."""
    config = record["config"]
    info = record["data"]
    shape, classes, sizes = tuple(info["input_shape"]), info["num_classes"], info["sizes"]
    cfg = train.TrainConfig.from_dict(config.get("train"))
    cpu = torch.device("cpu")
    model = experiment.build_model(config, classes, shape)
    channels_last = train._channels_last(cfg, model, cpu)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    loss = experiment._build(experiment.LOSSES, config.get("loss", "cross_entropy"), "loss")
    penalties = [experiment._build(experiment.PENALTIES, p, "penalties") for p in config.get("penalties", [])]
    for p in penalties:
        if hasattr(p, "attach"):  # as train.fit does: a penalty that reads the forward's activations
            p.attach(model)

    def step(batch: int) -> dict[str, float]:
        x, y = torch.randn(batch, *shape), torch.randint(0, classes, (batch,))
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)

        def run() -> None:
            model.train()
            with train._autocast(cfg, cpu):
                total = loss(model(x), y)
            for p in penalties:
                total = total + p(model)
            total.backward()
            model.zero_grad(set_to_none=True)
        return _measure(run)

    def evaluation(n: int) -> dict[str, float]:
        ds = ArrayDataset(torch.randn(n, *shape), torch.randint(0, classes, (n,)), classes)
        return _measure(lambda: train.evaluate(model, ds, loss, batch_size=cfg.eval_batch_size, cfg=cfg))

    alternation = _alternation(config)
    full, last = divmod(sizes["train"], cfg.batch_size)
    if cfg.drop_last:
        last = 0
    per_phase = {}
    for epoch in ((None,) if alternation is None else (0, 1)):  # an alternation: one epoch of each phase
        state = SimpleNamespace(model=model, epoch=epoch)  # what the hook reads of the engine's FitState
        if alternation is not None:
            alternation.on_epoch_start(state)  # freezes what the phase does not train, as in training
        one, rest = step(cfg.batch_size), (step(last) if last else {"flops": 0, "kernel_s": 0.0})
        per_phase["all" if alternation is None else alternation.phase(epoch)] = {
            key: full * one[key] + rest[key] for key in one}
    if alternation is not None:
        alternation.on_fit_end(SimpleNamespace(model=model, epoch=None))  # everything trainable again
    return {"train_epoch": per_phase, "val": evaluation(sizes["val"]), "test": evaluation(sizes["test"]),
            "first_phase": alternation.phase(0) if alternation else None, "monitor_test": bool(cfg.monitor_test),
            "precision": train.resolve_precision(cfg.precision, cpu)}


def epoch_cost(kind: dict[str, Any], epoch: int, key: str) -> float:
    """``key`` (``flops`` or ``kernel_s``) of epoch ``epoch`` of a run of ``kind``: its training in
    its phase, its validation, and its test evaluation where monitored."""
    phases = kind["train_epoch"]
    phase = "all" if "all" in phases else switcher.Alternation(first=kind["first_phase"]).phase(epoch)
    return phases[phase][key] + kind["val"][key] + (kind["test"][key] if kind["monitor_test"] else 0)


def run_cost(kind: dict[str, Any], epochs_run: int, key: str) -> float:
    """``key`` of a whole run: its epochs, and the test split's evaluation at the end."""
    return sum(epoch_cost(kind, e, key) for e in range(epochs_run)) + kind["test"][key]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_grids_option(p)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    chosen = chosen_grids(p, args)
    t_start = time.perf_counter()
    timed, timed_cpu = here_epochs()
    same_cpu = timed_cpu == environment.describe("cpu").get("cpu_model")
    kinds: dict[str, dict[str, Any]] = {}
    grids = []
    for grid in chosen:
        found, missing = results.stored(chapters.configs(grid, "cpu"))
        floor_s = flops = 0.0
        for r in found:
            name = epochs.kind(r["config"])
            if name not in kinds:
                kinds[name] = {"kind": name, "runs": 0, **count_kind(r)}
                print(f"{name:70} {kinds[name]['val']['kernel_s']:.3f} s kernels a validation", flush=True)
            k = kinds[name]
            k["runs"] += 1
            epochs_run = len(r.get("history") or []) or r["config"]["train"]["epochs"]
            run_s = run_cost(k, epochs_run, "kernel_s")
            k["floor_hours"] = k.get("floor_hours", 0.0) + run_s / 3600
            floor_s += run_s
            flops += run_cost(k, epochs_run, "flops")
        grids.append({"grid": grid, "cifar": is_cifar([r["config"] for r in found]), "runs": len(found),
                      "missing": len(missing), "flops": flops, "floor_hours": floor_s / 3600})
    for k in kinds.values():  # where the kinds were timed on this CPU: the kernels' share of an epoch
        t = timed.get(k["kind"]) if same_cpu else None
        if t is not None:
            kernel_s, flops = (sum(epoch_cost(k, e, key) for e in (1, 2)) / 2  # epochs 2 and 3, as epochs.py times
                               for key in ("kernel_s", "flops"))
            k["epoch_s"] = t["epoch_s"]
            k["kernel_share"] = kernel_s / t["epoch_s"]
            k["achieved_gflops"] = flops / t["epoch_s"] / 1e9
    result = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "environment": environment.describe("cpu"),
              "settings": {"repeats": REPEATS, "min_loop_s": MIN_LOOP_S, "epochs_timed_on_this_cpu": same_cpu},
              "grids": grids, "kinds": list(kinds.values()),
              "floor_hours": sum(g["floor_hours"] for g in grids),
              "floor_cifar_hours": sum(g["floor_hours"] for g in grids if g["cifar"]),
              "floor_other_hours": sum(g["floor_hours"] for g in grids if not g["cifar"])}
    lines = [f"{g['grid']:24} {g['runs']:4d} runs  {g['flops'] / 1e15:7.3f} PFLOP  floor {g['floor_hours']:6.2f} h"
             for g in grids]
    lines.append(f"whole cpu profile: floor {result['floor_hours']:.2f} h (MNIST and LIBSVM "
                 f"{result['floor_other_hours']:.2f} h, CIFAR {result['floor_cifar_hours']:.2f} h)")
    lines += [f"  {k['kind']:64} kernels {k['kernel_share']:4.0%} of its epoch, {k['achieved_gflops']:5.0f} GFLOP/s"
              for k in kinds.values() if "kernel_share" in k]
    finish(result, "\n".join(lines), time.perf_counter() - t_start, args.out)


if __name__ == "__main__":
    main()
