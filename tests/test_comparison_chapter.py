"""The comparison chapter: its grid puts every method under one budget, and the operating
points and Pareto fronts it draws are counted as stated."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from regprune import chapters, counting, experiment, models, pruning, sweeps
from regprune.chapters import comparison
from regprune.layers import weight_layers


def test_one_budget_every_method_and_sfp_only_where_there_are_convolutions():
    grid = chapters.configs("comparison", "cpu")
    for c in grid:
        experiment.validate(c)
    methods = {(c["model"]["name"], comparison.method_of(c)) for c in grid}
    for model in comparison.MODELS:
        assert {m for where, m in methods if where == model} == {
            m for m, parts in comparison.ALL_METHODS.items() if model in parts.get("models", comparison.MODELS)}
    assert {m for model, m in methods if model == "lenet5"} >= set(comparison.METHODS) | set(comparison.COMBINATIONS)
    assert "sfp" not in {m for model, m in methods if model == "lenet300"}
    assert len(grid) == 3 * len(methods)  # three seeds of each
    budgets = {(c["model"]["name"], c["train"]["epochs"], c["train"]["batch_size"]) for c in grid}
    assert budgets == {("lenet300", 30, 128), ("lenet5", 12, 128)}
    for c in grid:  # the same two post-training analyses, last, on every run
        assert [h["name"] for h in c["hooks"][-2:]] == ["snapshot_pruning", "threshold_sweep"]
        assert c["data"] == {"name": "mnist", "val_split": 5000, "split_seed": 0}


def test_methods_depart_from_the_plain_run_only_where_they_say():
    plain = comparison.run_config("cpu", "lenet5", "ce", 0)
    wd = comparison.run_config("cpu", "lenet5", "wd", 0)
    assert {k for k in plain if plain[k] != wd[k]} == {"train"}
    assert wd["train"] == {**plain["train"], "weight_decay": 5e-4}
    combo = comparison.run_config("cpu", "lenet5", "cutout+sfp", 0)
    assert combo["transforms"] == comparison.run_config("cpu", "lenet5", "cutout", 0)["transforms"]
    assert combo["hooks"][0] == comparison.SFP


def test_lca_strength_is_per_model_and_the_diverged_setting_stays_apart():
    """LeNet-5's conv layers give the LCA data term 37x LeNet-300-100's pre-activations: it takes its own D."""
    lca = {m: comparison.run_config("cpu", m, "hinge_lca", 0)["penalties"] for m in comparison.MODELS}
    assert lca["lenet300"] == [{"name": "vc_bound", "layers": "all", "D": comparison.VC_D}]
    assert lca["lenet5"] == [{"name": "vc_bound", "layers": "all", "D": comparison.VC_D_LENET5_LCA}]
    assert comparison.VC_D_LENET5_LCA < comparison.VC_D
    ablation = comparison.run_config("cpu", "lenet5", "hinge_lca_d1e-2", 0)
    assert ablation["penalties"] == lca["lenet300"]
    assert comparison.method_of(ablation) == "hinge_lca_d1e-2"
    assert comparison.method_of(comparison.run_config("cpu", "lenet5", "hinge_lca", 1)) == "hinge_lca"
    assert "hinge_lca_d1e-2" not in {comparison.method_of(c) for c in chapters.configs("comparison", "cpu")
                                     if c["model"]["name"] == "lenet300"}


def test_the_switcher_keeps_its_chapters_step_under_this_budgets_momentum():
    """Momentum 0.9 makes a step 10x the rate: the SNN's rate is cut 10x to take its chapter's step,
    and the runs at the uncut rate (two of three collapsed) stay apart as an ablation."""
    from regprune.chapters import switcher_network

    assert switcher_network.TRAIN["momentum"] == 0.0  # its chapter's rate is its step
    for model in comparison.MODELS:
        for method in ("snn_neuron", "snn_connection", "llr+snn_connection"):
            c = comparison.run_config("cpu", model, method, 0)
            step = c["train"]["lr"] * c["reparam"]["lr_scale"] / (1 - c["train"]["momentum"])
            assert step == pytest.approx(switcher_network.SNN_LR)
    fast = comparison.run_config("cpu", "lenet300", "snn_neuron_lr1", 0)
    assert fast["train"]["lr"] * fast["reparam"]["lr_scale"] == pytest.approx(switcher_network.SNN_LR)
    assert comparison.method_of(fast) == "snn_neuron_lr1"
    assert comparison.method_of(comparison.run_config("cpu", "lenet300", "snn_neuron", 0)) == "snn_neuron"
    assert "snn_neuron_lr1" not in {comparison.method_of(c) for c in chapters.configs("comparison", "cpu")
                                    if c["model"]["name"] == "lenet5"}


# LeNet-5-Caffe on 28x28, by hand: conv1 5x5 -> 24x24, pool -> 12x12, conv2 5x5 -> 8x8, pool -> 4x4 (800 features)
LENET5_POSITIONS = {"features.conv1": 24 * 24, "features.conv2": 8 * 8, "classifier.fc1": 1, "classifier.fc2": 1}
LENET5_WEIGHTS = 20 * 25 + 50 * 20 * 25 + 800 * 500 + 500 * 10
LENET5_MACS = 20 * 1 * 25 * 576 + 50 * 20 * 25 * 64 + 800 * 500 + 500 * 10  # 288,000 + 1,600,000 + 400,000 + 5,000


def test_threshold_sweep_counts_sparse_macs():
    """Oracle: a nonzero weight costs one MAC per output position it slides over (positions by hand)."""
    torch.manual_seed(0)
    model = models.build("lenet5").eval()
    sweep = pruning.threshold_sweep(model, lambda m: {"val_acc": 0.5}, 5, input_shape=(1, 28, 28))
    assert LENET5_MACS == 2_293_000 and LENET5_WEIGHTS + 20 + 50 + 500 + 10 == 431_080  # the paper's count
    assert sweep["dense"]["macs_nonzero"] == LENET5_MACS  # a fresh network has no zero weight
    assert counting.count_macs(model, (1, 28, 28))["total"] == LENET5_MACS

    def by_hand(net):
        return sum(int(torch.count_nonzero(layer.weight)) * LENET5_POSITIONS[name]
                   for name, layer in weight_layers(net).items())

    for row in sweep["steps"]:
        pruned = pruning.prune_at_step(model, row["step"], 5)
        assert row["macs_nonzero"] == by_hand(pruned)
        kept = sum(int(torch.count_nonzero(layer.weight)) for layer in weight_layers(pruned).values())
        assert (row["nonzero_before"], row["nonzero_after"]) == (LENET5_WEIGHTS, kept)
        assert row["compression"] == pytest.approx(LENET5_WEIGHTS / kept)
    assert sweep["steps"][-1]["macs_nonzero"] < sweep["dense"]["macs_nonzero"]


def fake_record() -> dict:
    config = comparison.run_config("smoke", "lenet300", "ce", 0)
    quant = [{"total_bits": 8, "frac_bits": 6, "val_acc": 0.9, "test_acc": 0.88, "margin": 1.0, "loss": 0.1}]
    return {
        "key": "k0", "status": "completed", "config": config,
        "metrics": {"val_acc": 0.95, "test_acc": 0.94},
        "counts": {"macs": {"nonzero": 1000}},
        "extras": {
            "pruning": {"sweep": [{"k": 0, "val_acc": 0.93, "test_acc": 0.92, "nonzero_weights": 600, "macs_nonzero": 600}]},
            "threshold_sweep": {
                "dense": {"val_acc": 0.95, "test_acc": 0.94, "nonzero": 1000, "macs_nonzero": 1000},
                "steps": [{"step": 0, "val_acc": 0.95, "test_acc": 0.93, "nonzero_after": 500, "macs_nonzero": 500}],
                "picked": {"step": 0, "nonzero_after": 500, "macs_nonzero": 500},
            },
            "quantization": {"trained": quant, "pruned": quant},
        },
    }


def test_operating_points_count_bits_as_nonzero_weights_times_width():
    points = sweeps.operating_points([fake_record()], comparison.describe).set_index("source")
    assert list(points.index) == ["dense", "snapshot", "threshold", "quantized", "quantized_pruned"]
    assert points.loc["dense", "bits"] == 1000 * 32 and points.loc["dense", "macs"] == 1000
    assert points.loc["snapshot", "nonzero_weights"] == 600 and points.loc["snapshot", "bits"] == 600 * 32
    assert points.loc["quantized", "bits"] == 1000 * 8 and points.loc["quantized_pruned", "bits"] == 500 * 8
    assert points.loc["quantized_pruned", "macs"] == 500
    assert points.loc["threshold", "test_error_%"] == pytest.approx(7.0)
    means = sweeps.mean_points(points.reset_index())
    assert (means["seeds"] == 1).all() and len(means) == 5


def test_pareto_front_keeps_exactly_the_undominated_points():
    frame = pd.DataFrame({"size": [1, 2, 2, 3, 4, 5], "error": [9.0, 5.0, 6.0, 5.0, 2.0, 2.0]})
    assert list(sweeps.pareto_front(frame, "size", "error")) == [True, True, False, False, True, False]
