"""Paper 000's one-shot *snapshot* pruning (Appendix; Han et al. 2015 for the threshold rule).

From one trained snapshot, for each pruning setting theta, zero every weight whose magnitude is
below ``theta * std`` of its layer's weights, then adjust only the *non-weight* parameters
(biases, batch-norm affine; batch-norm running statistics are re-estimated on the way) with a
short backpropagation pass while the mask holds, and evaluate. Surviving weights are never
retrained.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Sequence

import torch
from torch import nn

from .. import counting
from ..callbacks import HOOKS, FitState, Hook
from ..data import Splits
from ..layers import weight_layers
from ..losses import Loss
from ..progress import Progress
from ..registry import ConfigError, check_choice
from ..train import OPTIMIZERS, TrainConfig, evaluate, fit
from .masks import apply_masks, bake, magnitude_masks, non_weight_parameters, prunable_count, weight_parameters


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
