"""Paper 003's post-training threshold sweep (Sharma et al., Section 5.2): after training, each
layer gets ``steps`` thresholds in equal steps from 1e-3 to its own largest ``|w|``; at step k
every layer is pruned at its own k-th threshold (:func:`threshold_sweep`), with no retraining.
The hook also runs the paper's fixed-point quantization sweep of the trained and pruned nets.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from .. import counting
from ..callbacks import HOOKS, FitState, Hook
from ..data import Splits
from ..layers import weight_layers
from ..losses import Loss
from ..registry import ConfigError, check_choice
from ..train import TrainConfig, evaluate
from .masks import apply_masks, bake, magnitude_masks, prunable_count


MIN_THRESHOLD = 1e-3  # Section 5.2: "we select a minimum weight threshold of 1e-03"


def split_evaluator(splits: Splits, loss: Loss | None = None, *, batch_size: int = 500,
                    cfg: TrainConfig | None = None,
                    parts: Sequence[str] = ("val", "test")) -> Callable[[nn.Module], dict[str, float]]:
    """``evaluate_fn(model) -> {val_acc, val_loss, test_acc, test_loss, loss}`` on ``splits``
    (``loss`` is the validation loss), for :func:`threshold_sweep` and the quantization sweep;
    ``parts`` limits it to the validation or the test split (``loss`` comes with validation)."""
    for part in parts:
        check_choice("split_evaluator.parts", part, ("val", "test"))

    def evaluate_fn(model: nn.Module) -> dict[str, float]:
        out = {}
        for part in parts:
            m = evaluate(model, getattr(splits, part), loss, batch_size=batch_size, cfg=cfg)
            out.update({f"{part}_acc": m["acc"], f"{part}_loss": m["loss"]})
        if "val" in parts:
            out["loss"] = out["val_loss"]
        return out

    return evaluate_fn


def _check_sweep_args(steps: Any, min_threshold: Any, count: Any = "weights") -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps={steps!r} is not allowed; it must be an integer >= 1 (paper 003: 50 FNN, 100 CNN)")
    if isinstance(min_threshold, bool) or not isinstance(min_threshold, (int, float)) or not (
            math.isfinite(min_threshold) and min_threshold > 0):
        raise ConfigError(f"min_threshold={min_threshold!r} is not allowed; it must be a finite number > 0")
    check_choice("count", count, ("weights", "params"))


@torch.no_grad()
def layer_thresholds(model: nn.Module, steps: int, min_threshold: float = MIN_THRESHOLD) -> dict[str, list[float]]:
    """Per conv/linear layer, ``steps`` thresholds in equal steps from ``min_threshold`` to the
    layer's largest ``|w|`` (both ends included; a layer whose largest ``|w|`` is below
    ``min_threshold`` keeps ``min_threshold`` throughout). The last step keeps only each layer's
    largest weight(s), since weights *below* a threshold are pruned."""
    _check_sweep_args(steps, min_threshold)
    out = {}
    for name, m in weight_layers(model).items():
        top = max(float(m.weight.detach().abs().max()), float(min_threshold))
        out[name] = torch.linspace(float(min_threshold), top, steps, dtype=torch.float64).tolist()
    return out


def _nonzero(model: nn.Module, count: str) -> int:
    """Nonzero conv/linear weights (``"weights"``, the paper's count) or all nonzero effective
    parameters (``"params"``, biases and norms too), as :mod:`regprune.counting` counts them."""
    return prunable_count(model)[1] if count == "weights" else counting.count_parameters(model)["nonzero"]


def prune_at_step(model: nn.Module, step: int, steps: int, min_threshold: float = MIN_THRESHOLD) -> nn.Module:
    """A pruned copy of ``model`` at ``step`` (0-based) of :func:`layer_thresholds`: every layer at its
    own threshold, masks baked into plain weights (``model`` is untouched)."""
    _check_sweep_args(steps, min_threshold)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < steps:
        raise ConfigError(f"step={step!r} is not allowed; it must be an integer in [0, {steps - 1}]")
    pruned = copy.deepcopy(model)
    thresholds = {name: t[step] for name, t in layer_thresholds(pruned, steps, min_threshold).items()}
    return bake(apply_masks(pruned, magnitude_masks(pruned, thresholds)))


def threshold_sweep(
    model: nn.Module,
    evaluate_fn: Callable[[nn.Module], Mapping[str, float]],
    steps: int = 50,
    *,
    min_threshold: float = MIN_THRESHOLD,
    count: str = "weights",
    input_shape: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """The post-training pruning sweep of paper 003, Section 5.2 (no retraining).

    The paper divides, per layer, the range from 1e-3 to the layer's largest ``|w|`` into 50
    (FNN) or 100 (CNN) steps and "loops over these steps and prunes the weights whose absolute
    magnitude is below the step value"; we read this as all layers pruned together, each at its
    own k-th threshold (not one layer at a time). ``evaluate_fn(model)`` returns at least
    ``val_acc`` (see :func:`split_evaluator`). Compression ratio (Section 5.2.4):
    ``r = nonzero weights before pruning / nonzero weights after`` with ``count="weights"``
    (conv/linear weights, the paper's "weights"), or all parameters with ``count="params"``.

    Returns ``{"dense": {metrics, nonzero}, "steps": [row per step]}``; each row has ``step``
    (0-based), ``thresholds`` (per layer), the metrics, ``nonzero_before``, ``nonzero_after``
    and ``compression``; with ``input_shape`` (of one example) also ``macs_nonzero``, the
    multiply-accumulates over nonzero weights. :func:`pick_step` chooses a step.
    """
    _check_sweep_args(steps, min_threshold, count)
    thresholds = layer_thresholds(model, steps, min_threshold)
    before = _nonzero(model, count)
    dense = {**{k: float(v) for k, v in evaluate_fn(model).items()}, "nonzero": before}

    def sparse_macs(m: nn.Module) -> dict[str, int]:
        return {"macs_nonzero": counting.count_macs(m, input_shape)["nonzero"]} if input_shape else {}

    dense.update(sparse_macs(model))
    if "val_acc" not in dense:
        raise ConfigError(f"evaluate_fn must return a mapping with at least 'val_acc'; got keys {sorted(dense)}")
    rows = []
    for k in range(steps):
        pruned = prune_at_step(model, k, steps, min_threshold)
        after = _nonzero(pruned, count)
        rows.append({
            "step": k,
            "thresholds": {name: t[k] for name, t in thresholds.items()},
            **{key: float(v) for key, v in evaluate_fn(pruned).items()},
            "nonzero_before": before,
            "nonzero_after": after,
            "compression": before / after if after else math.inf,
            **sparse_macs(pruned),
        })
    return {"dense": dense, "steps": rows, "count": count, "min_threshold": float(min_threshold)}


def pick_step(sweep: dict[str, Any], tolerance_pp: float = 1.0, metric: str = "val_acc") -> dict[str, Any] | None:
    """The row of the largest step whose ``metric`` (an accuracy in [0, 1]) is at most
    ``tolerance_pp`` percentage points below the dense model's; None if no step qualifies.

    The paper does not say how it chose the pruned model of its Tables 6-12; its only stated
    tolerance is the "1% error tolerance" of the quantization search (Fig. 3 caption), and in
    its Tables 6-8 pruned test accuracy is 0 to 1.0 points (never more) below unpruned, so
    1.0 by default; the paper probably measured it on the test set, we use validation. The
    largest qualifying step is taken even if an earlier step fell outside.
    """
    if isinstance(tolerance_pp, bool) or not isinstance(tolerance_pp, (int, float)) or not (
            math.isfinite(tolerance_pp) and tolerance_pp >= 0):
        raise ConfigError(f"tolerance_pp={tolerance_pp!r} is not allowed; it must be a finite number >= 0")
    if metric not in sweep["dense"]:
        raise ConfigError(f"metric={metric!r} is not allowed; choose one of: {sorted(sweep['dense'])}")
    floor = sweep["dense"][metric] - tolerance_pp / 100
    ok = [row for row in sweep["steps"] if row[metric] >= floor - 1e-12]
    return max(ok, key=lambda row: row["step"]) if ok else None


@HOOKS.register("threshold_sweep")
class ThresholdSweepHook(Hook):
    """Paper 003's post-training analysis of the selected network, stored in the run's extras.

    ``threshold_sweep``: :func:`threshold_sweep` over ``steps`` thresholds per layer and the
    step :func:`pick_step` chooses on validation within ``tolerance_pp`` points. With
    ``quantize``, ``quantization``: the fixed-point sweep (:func:`regprune.quantize.quantization_sweep`,
    fraction bits chosen on validation) of the trained network and of the pruned one;
    ``allow_frac_ge_total`` lets the fraction bits reach or pass the total, as the paper's
    fixed-point tool does. ``keep_grid``: also store every (total, fraction) pair's validation
    accuracy (``quantization_grid``), so another choice rule can be scored later without
    retraining. Everything is evaluated in fp32, whatever precision the network trained in:
    bf16 arithmetic would blur the bit widths this analysis compares.
    """

    def __init__(self, steps: int = 50, tolerance_pp: float = 1.0, min_threshold: float = MIN_THRESHOLD,
                 quantize: bool = True, totals: Sequence[int] = tuple(range(16, 1, -1)),
                 fracs: Sequence[int] = tuple(range(3, 16)), allow_frac_ge_total: bool = False,
                 keep_grid: bool = False):
        _check_sweep_args(steps, min_threshold)
        pick_step({"dense": {"val_acc": 1.0}, "steps": []}, tolerance_pp)  # checks tolerance_pp
        check_choice("threshold_sweep.quantize", quantize, (True, False))
        check_choice("threshold_sweep.allow_frac_ge_total", allow_frac_ge_total, (True, False))
        check_choice("threshold_sweep.keep_grid", keep_grid, (True, False))
        self.steps, self.tolerance_pp, self.min_threshold = steps, float(tolerance_pp), float(min_threshold)
        self.quantize, self.totals, self.fracs = quantize, [int(t) for t in totals], [int(f) for f in fracs]
        self.allow_frac_ge_total, self.keep_grid = allow_frac_ge_total, keep_grid

    @torch.no_grad()
    def on_fit_end(self, state: FitState) -> dict[str, Any]:
        if state.status != "completed":
            return {}
        # kept in the training memory format: a channels_last LeNet-5 evaluates about 1.8x faster
        # (CPU), and this hook evaluates the network some 125 times
        model = copy.deepcopy(state.model).eval()
        cfg = dataclasses.replace(state.cfg, precision="fp32")
        evaluate_fn = split_evaluator(state.splits, state.loss, cfg=cfg)
        sweep = threshold_sweep(model, evaluate_fn, self.steps, min_threshold=self.min_threshold,
                                input_shape=tuple(state.splits.train.input_shape))
        picked = pick_step(sweep, self.tolerance_pp)
        rows = [{k: v for k, v in row.items() if k != "thresholds"} for row in sweep["steps"]]
        out: dict[str, Any] = {"threshold_sweep": {
            "dense": sweep["dense"], "steps": rows, "tolerance_pp": self.tolerance_pp,
            "min_threshold": self.min_threshold, "picked": picked,
        }}
        if self.quantize:
            from ..quantize import quantization_sweep  # lazy: pandas, for this hook only

            pruned = prune_at_step(model, picked["step"], self.steps, self.min_threshold) if picked else model
            # fraction bits are chosen on validation: the test split is measured on the chosen rows only
            on_val = split_evaluator(state.splits, state.loss, cfg=cfg, parts=("val",))
            on_test = split_evaluator(state.splits, state.loss, cfg=cfg, parts=("test",))
            grids: dict[str, list] = {}
            out["quantization"] = {
                which: quantization_sweep(net, on_val, self.totals, self.fracs, test_fn=on_test,
                                          allow_frac_ge_total=self.allow_frac_ge_total,
                                          grid_out=grids.setdefault(which, [])).to_dict("records")
                for which, net in (("trained", model), ("pruned", pruned))
            }
            if self.keep_grid:
                out["quantization_grid"] = {which: [{k: r[k] for k in ("total_bits", "frac_bits", "val_acc")}
                                                    for r in rows] for which, rows in grids.items()}
        return out
