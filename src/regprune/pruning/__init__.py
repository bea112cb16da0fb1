"""Pruning by weight magnitude: masks (:mod:`.masks`), paper 000's snapshot procedure
(:mod:`.snapshot`) and paper 003's post-training threshold sweep (:mod:`.threshold_steps`).
Importing the package registers the ``snapshot_pruning`` and ``threshold_sweep`` hooks."""

from ..layers import weight_layers  # noqa: F401
from .masks import WeightMask, apply_masks, bake, magnitude_masks, non_weight_parameters, prunable_count, weight_parameters  # noqa: F401
from .snapshot import SnapshotPruning, adjust_non_weights, layer_kind, snapshot_prune, std_thresholds, sweep_settings  # noqa: F401
from .threshold_steps import (MIN_THRESHOLD, ThresholdSweepHook, layer_thresholds, pick_step, prune_at_step,  # noqa: F401
                              split_evaluator, threshold_sweep)
