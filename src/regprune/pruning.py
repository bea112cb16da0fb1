"""Magnitude pruning with masks, and the one-shot *snapshot* procedure of paper 000.

Masks are ``torch.nn.utils.parametrize`` parametrizations (:class:`WeightMask`), so a
pruned layer computes with ``original * mask`` while ``original`` stays a parameter that
other parametrizations compose with; :func:`bake` writes the masked weights back as
plain parameters for inference.

Snapshot pruning (paper 000, Appendix; Han et al. 2015 for the threshold rule): from one
trained snapshot, for each pruning setting theta, zero every weight whose magnitude is
below ``theta * std`` of its layer's weights, then adjust only the *non-weight*
parameters (biases, batch-norm affine; batch-norm running statistics are re-estimated on
the way) with a short backpropagation pass while the mask holds, and evaluate. Surviving
weights are never retrained.

Threshold sweep (paper 003, Sharma et al., Section 5.2): after training, each layer gets
``steps`` thresholds in equal steps from 1e-3 to its own largest ``|w|``; at step k every
layer is pruned at its own k-th threshold (:func:`threshold_sweep`), with no retraining.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn
from torch.nn.utils import parametrize

from . import counting
from .callbacks import HOOKS, FitState, Hook
from .data import Splits
from .layers import weight_layers
from .losses import Loss
from .progress import Progress
from .registry import ConfigError, check_choice
from .reparam import bake  # noqa: F401  (masks bake out like any parametrization)
from .train import OPTIMIZERS, TrainConfig, evaluate, fit


class WeightMask(nn.Module):
    """Parametrization ``w -> w * mask``: pruned entries stay exactly zero whatever trains."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w * self.mask


def layer_kind(module: nn.Module) -> str:
    """'conv' or 'fc': paper 000 gives the two kinds of layer different pruning settings."""
    return "fc" if isinstance(module, nn.Linear) else "conv"


def std_thresholds(model: nn.Module, theta_conv: float, theta_fc: float) -> dict[str, float]:
    """Per layer: theta times the standard deviation of that layer's (effective) weights."""
    out = {}
    for name, module in weight_layers(model).items():
        theta = theta_fc if layer_kind(module) == "fc" else theta_conv
        out[name] = float(theta) * module.weight.detach().float().std().item()
    return out


@torch.no_grad()
def magnitude_masks(model: nn.Module, thresholds: dict[str, float]) -> dict[str, torch.Tensor]:
    """Keep-masks: True where ``|w| >= threshold`` of the weight's layer."""
    layers = weight_layers(model)
    return {name: layers[name].weight.detach().abs() >= t for name, t in thresholds.items()}


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Register a :class:`WeightMask` on the ``weight`` of each named layer (in place)."""
    layers = weight_layers(model)
    for name, mask in masks.items():
        w = layers[name].weight
        parametrize.register_parametrization(layers[name], "weight", WeightMask(mask.to(w.device, w.dtype)))
    return model


def weight_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The weight tensors of conv and linear layers (their ``original`` when parametrized)."""
    out = []
    for module in weight_layers(model).values():
        if parametrize.is_parametrized(module, "weight"):
            out.append(module.parametrizations.weight.original)
        else:
            out.append(module.weight)
    return out


def non_weight_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """Every parameter that is not a conv/linear weight: biases, batch-norm affine, ..."""
    weights = {id(p) for p in weight_parameters(model)}
    return [(n, p) for n, p in model.named_parameters() if id(p) not in weights]


def prunable_count(model: nn.Module) -> tuple[int, int]:
    """(weights, nonzero weights) of the conv and linear layers, masks applied."""
    total = nonzero = 0
    for module in weight_layers(model).values():
        w = module.weight.detach()
        total += w.numel()
        nonzero += int(torch.count_nonzero(w))
    return total, nonzero


def adjust_non_weights(
    model: nn.Module,
    splits: Splits,
    loss: Loss,
    cfg: TrainConfig,
    *,
    samples: int,
    seed: int = 0,
    transforms: Sequence = (),
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """One short pass of the engine over ``samples`` training examples that moves only the
    non-weight parameters: conv/linear weights are frozen for its duration. Returns the
    engine's metrics (validation and test accuracy of the adjusted model)."""
    weights = weight_parameters(model)
    if samples <= 0 or not non_weight_parameters(model):
        return {}
    flags = [w.requires_grad for w in weights]
    for w in weights:
        w.requires_grad_(False)
    try:
        g = torch.Generator().manual_seed(seed)
        pick = torch.randperm(len(splits.train), generator=g)[: min(samples, len(splits.train))]
        part = Splits(splits.train.subset(pick.to(splits.train.x.device)), splits.val, splits.test, splits.info)
        result = fit(model, part, cfg, seed=seed, loss=loss, transforms=transforms, device=device, progress="none")
    finally:
        for w, flag in zip(weights, flags):
            w.requires_grad_(flag)
    return result.metrics


def sweep_settings(theta_conv: float | Sequence[float], theta_fc: float | Sequence[float]) -> list[tuple[float, float]]:
    """Pairs (theta_conv, theta_fc), one per pruning setting k; a scalar is held fixed."""
    conv = [float(t) for t in theta_conv] if isinstance(theta_conv, (list, tuple)) else None
    fc = [float(t) for t in theta_fc] if isinstance(theta_fc, (list, tuple)) else None
    if conv is None and fc is None:
        return [(float(theta_conv), float(theta_fc))]
    n = len(conv if conv is not None else fc)
    if conv is not None and fc is not None and len(fc) != n:
        raise ConfigError(f"snapshot_pruning: theta_conv and theta_fc lists differ in length ({n} vs {len(fc)})")
    conv = conv if conv is not None else [float(theta_conv)] * n
    fc = fc if fc is not None else [float(theta_fc)] * n
    for t in conv + fc:
        if not (t >= 0 and math.isfinite(t)):
            raise ConfigError(f"snapshot_pruning: pruning settings must be finite and >= 0; got {t!r}")
    return list(zip(conv, fc))


def snapshot_prune(
    snapshot: nn.Module,
    splits: Splits,
    loss: Loss,
    theta_conv: float,
    theta_fc: float,
    adjust: TrainConfig,
    *,
    adjust_samples: int,
    seed: int = 0,
    transforms: Sequence = (),
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Prune a copy of ``snapshot`` at one setting, adjust its non-weight parameters, evaluate."""
    model = copy.deepcopy(snapshot)
    thresholds = std_thresholds(model, theta_conv, theta_fc)
    apply_masks(model, magnitude_masks(model, thresholds))
    metrics = adjust_non_weights(
        model, splits, loss, adjust, samples=adjust_samples, seed=seed, transforms=transforms, device=device
    )
    if "test_acc" not in metrics:  # no pass (or nothing to adjust): evaluate as pruned
        val = evaluate(model, splits.val, loss, batch_size=adjust.eval_batch_size, cfg=adjust)
        test = evaluate(model, splits.test, loss, batch_size=adjust.eval_batch_size, cfg=adjust)
        metrics = {"val_acc": val["acc"], "test_acc": test["acc"]}
    bake(model)
    counts = counting.count_parameters(model)
    weights, nonzero_weights = prunable_count(model)
    macs = counting.count_macs(model, tuple(splits.train.input_shape))
    return {
        "theta_conv": theta_conv,
        "theta_fc": theta_fc,
        "val_acc": metrics["val_acc"],
        "test_acc": metrics["test_acc"],
        "params": counts["total"],
        "nonzero_params": counts["nonzero"],
        "weights": weights,
        "nonzero_weights": nonzero_weights,
        "macs_nonzero": macs["nonzero"],
        "layers": {
            name: {"threshold": thresholds[name], "kept": int(torch.count_nonzero(m.weight)), "size": m.weight.numel()}
            for name, m in weight_layers(model).items()
        },
    }


@HOOKS.register("snapshot_pruning")
class SnapshotPruning(Hook):
    """At the end of training, sweep snapshot pruning over the settings theta_k.

    ``theta_conv`` / ``theta_fc``: a fixed setting or a list (one per k) for conv and for
    fully connected layers; lists must have equal lengths. The adjustment pass runs the
    engine for one epoch over ``adjust_samples`` training examples with
    ``adjust_optimizer`` at ``adjust_lr`` (0 samples: no pass). Extras: ``pruning`` with the
    dense snapshot and one row per setting (nonzero parameters, errors, compression rate =
    parameters before / nonzero parameters after).
    """

    def __init__(
        self,
        theta_conv: float | Sequence[float] = 0.0,
        theta_fc: float | Sequence[float] = 0.0,
        adjust_samples: int = 10000,
        adjust_lr: float = 0.01,
        adjust_optimizer: str = "sgd",
        adjust_batch_size: int = 128,
    ):
        self.settings = sweep_settings(theta_conv, theta_fc)
        check_choice("snapshot_pruning.adjust_optimizer", adjust_optimizer, OPTIMIZERS.names())
        if int(adjust_samples) < 0:
            raise ConfigError(f"snapshot_pruning.adjust_samples must be >= 0; got {adjust_samples!r}")
        self.adjust_samples = int(adjust_samples)
        self.adjust = dict(optimizer=adjust_optimizer, lr=float(adjust_lr), batch_size=int(adjust_batch_size))

    def on_fit_end(self, state: FitState) -> dict[str, Any]:
        if state.status != "completed":
            return {}
        cfg = TrainConfig(
            epochs=1,
            momentum=0.9,
            weight_decay=0.0,
            select="last",
            precision=state.cfg.precision,
            channels_last=state.cfg.channels_last,
            eval_batch_size=state.cfg.eval_batch_size,
            **self.adjust,
        )
        snapshot = copy.deepcopy(state.model).to(memory_format=torch.contiguous_format)
        dense = counting.count_parameters(snapshot)
        rows = []
        bar = Progress(len(self.settings), "snapshot pruning")
        for k, (tc, tf) in enumerate(self.settings):
            row = snapshot_prune(
                snapshot, state.splits, state.loss, tc, tf, cfg,
                adjust_samples=self.adjust_samples, seed=state.seed + 1000 + k,
                transforms=state.transforms, device=state.device,
            )
            row["k"] = k
            row["compression"] = dense["total"] / max(row["nonzero_params"], 1)
            rows.append(row)
            bar.update()
        bar.close(f"{len(rows)} settings")
        return {
            "pruning": {
                "dense": {"params": dense["total"], "nonzero_params": dense["nonzero"],
                          "val_acc": state.metrics["val_acc"], "test_acc": state.metrics["test_acc"]},
                "adjust": {**self.adjust, "samples": self.adjust_samples},
                "sweep": rows,
            }
        }


# --------------------------------------------------------------------------- threshold sweep (paper 003)

MIN_THRESHOLD = 1e-3  # Section 5.2: "we select a minimum weight threshold of 1e-03"


def split_evaluator(splits: Splits, loss: Loss | None = None, *, batch_size: int = 1000,
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
            from .quantize import quantization_sweep

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
