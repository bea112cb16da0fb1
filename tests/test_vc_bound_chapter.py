"""Paper 003's chapter: the staged search grid, the post-training hook (threshold sweep and
quantization of the selected network), the t-SNE hook, and the frames the notebook reads."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import fake_store

from regprune import chapters, experiment, results, sweeps
from regprune.chapters import vc_bound as vc
from regprune.registry import ConfigError


def test_grid_is_staged_lr_then_c_and_d_then_every_depth_and_seed(tmp_path):
    first = chapters.configs("vc_bound", "cpu", results_dir=tmp_path)
    search = [c for c in first if c["train"]["batch_size"] == 128 or vc.dataset_of(c) == "w8a"]
    assert [(vc.describe(c)["dataset"], c["train"]["lr"], c["train"]["batch_size"]) for c in first] == [
        (d, lr, 16 if d == "w8a" else 128) for d in ("dna", "a9a", "w8a", "mnist") for lr in vc.LRS
    ][:6] + [("w8a", lr, 128) for lr in vc.LRS] + [("mnist", lr, 128) for lr in vc.LRS]  # w8a's batch-128 evidence
    assert all(c["seed"] == 0 and c["model"]["name"] == vc.SEARCH_MODEL and vc.method_of(c) == "H" for c in search)
    assert [c["train"]["epochs"] for c in first if vc.dataset_of(c) == "w8a"] == [20, 20, 100, 100]
    dna = [c for c in first if vc.dataset_of(c) == "dna"]
    fake_store(tmp_path, dna, lambda c: 0.9 if c["train"]["lr"] == 0.1 else 0.5)
    second = [c for c in chapters.configs("vc_bound", "cpu", results_dir=tmp_path) if vc.dataset_of(c) == "dna"]
    stage2 = second[len(dna):]
    assert all(c["train"]["lr"] == 0.1 for c in stage2)
    assert sorted(vc.describe(c)["C"] for c in stage2 if vc.method_of(c) == "H+W2") == vc.CS
    assert sorted(vc.describe(c)["D"] for c in stage2 if vc.method_of(c) == "H+LCA") == vc.DS
    assert len(stage2) == 2 * len(vc.CS) + len(vc.DS)
    # C = 1e-2 best for W2, 1e-3 for W1 (tie with 1e-1: the smaller, first in grid order), D = 1e-6
    best = {("H+W2", 1e-2), ("H+W1", 1e-3), ("H+W1", 1e-1), ("H+LCA", 1e-6)}
    fake_store(tmp_path, stage2, lambda c: 0.95 if (vc.method_of(c), vc.describe(c)["C"] or vc.describe(c)["D"]) in best else 0.9)
    cell = vc.cells("cpu", results_dir=tmp_path)["dna"]
    assert cell["chosen"] == {"lr": 0.1, "C (W2)": 1e-2, "C (W1)": 1e-3, "D": 1e-6}
    main = [vc.describe(c) for c in cell["main"]]
    assert len(main) == len(vc.METHODS) * 3 * 5 and {c["seed"] for c in cell["main"]} == {0, 1, 2, 3, 4}
    # the main runs quantize as the paper's tool does (fraction bits may reach the total); the search
    # runs keep the analysis they were stored with (their keys), which chooses nothing from quantization
    assert all(c["hooks"][0] == {**vc.POST, "allow_frac_ge_total": True} for c in cell["main"])
    assert all(c["hooks"][0] == vc.POST for c in cell["search"])
    combined = {(d["method"], d["C"], d["D"]) for d in main if d["method"].endswith("+LCA")}
    assert combined == {("H+LCA", None, 1e-6), ("H+W2+LCA", 1e-2, 1e-6), ("H+W1+LCA", 1e-3, 1e-6)}
    assert cell["epochs"] == []  # dna runs the paper's 500 epochs already
    assert all(c["train"]["epochs"] == 500 and c["train"]["schedule"] == "inverse" for c in cell["main"])
    grid = chapters.configs("vc_bound", "cpu", results_dir=tmp_path)
    assert len({results.run_key(c) for c in grid}) == len(grid)
    assert sum(vc.dataset_of(c) == "dna" for c in grid) == len(cell["search"]) + len(main)  # none shared


def test_method_names_round_trip():
    for method in vc.METHODS:
        config = {"model": {"name": "fnn1"}, "loss": {"name": "multiclass_hinge"}, "penalties": vc.penalty(method, 1e-3, 1e-6)}
        assert vc.method_of(config) == method
    for c in chapters.configs("vc_bound_cifar", "paper"):
        assert vc.method_of(c) in vc.CIFAR_CELLS[c["model"]["name"]]
    cpu = chapters.configs("vc_bound_cifar", "cpu")  # the quick net's five softmax rows on the JPEG copy
    assert sorted({vc.method_of(c) for c in cpu}) == sorted(vc.CIFAR_CELLS["quicknet"]) and len(cpu) == 15
    assert {c["data"]["name"] for c in cpu} == {"cifar10-jpeg"} and [c["seed"] for c in cpu[:6]] == [0] * 5 + [1]
    assert all(c["train"]["milestones"] == [13, 26] and c["train"]["epochs"] == 30 for c in cpu)


def test_cifar_paper_grid_follows_section_5_1():
    for c in chapters.configs("vc_bound_cifar", "paper"):
        t = c["train"]
        iterations_per_epoch = 45000 // t["batch_size"]
        assert round(t["epochs"] * iterations_per_epoch, -4) == 230000
        assert [round(m * iterations_per_epoch, -4) for m in t["milestones"]] == [100000, 200000]
        assert c["hooks"][0]["steps"] == 100  # CNNs: 100 threshold steps


def test_bad_hook_settings_are_named():
    with pytest.raises(ConfigError, match="steps"):
        experiment.validate({"chapter": "t", "profile": "smoke", "data": {"name": "synthetic-mnist"}, "model": "fnn1",
                             "hooks": [{"name": "threshold_sweep", "steps": 0}]})
    with pytest.raises(ConfigError, match="tolerance_pp"):
        experiment.validate({"chapter": "t", "profile": "smoke", "data": {"name": "synthetic-mnist"}, "model": "fnn1",
                             "hooks": [{"name": "threshold_sweep", "tolerance_pp": -1}]})
    with pytest.raises(ConfigError, match="per_class"):
        experiment.validate({"chapter": "t", "profile": "smoke", "data": {"name": "synthetic-mnist"}, "model": "fnn1",
                             "hooks": [{"name": "tsne_embedding", "per_class": 1}]})


@pytest.fixture(scope="module")
def smoke_run():
    config = {"chapter": "tests", "profile": "smoke", "seed": 0,
              "data": {"name": "synthetic-mnist", "n_train": 256, "n_test": 100, "val_split": 64, "normalize": "unit"},
              "model": {"name": "fnn2"}, "loss": {"name": "multiclass_hinge"},
              "penalties": [{"name": "vc_bound", "D": 1e-4, "layers": "all", "C": 1e-4, "weight_term": "l1"}],
              "hooks": [{"name": "threshold_sweep", "steps": 10, "tolerance_pp": 2.0, "totals": [8, 6, 4], "fracs": [3, 5]},
                        {"name": "tsne_embedding", "per_class": 5}],
              "train": {"epochs": 2, "batch_size": 32, "lr": 0.1, "momentum": 0.0, "schedule": "inverse"}}
    run = experiment.execute(config, device="cpu", progress="none")
    return config, {**run, "config": config, "key": results.run_key(config)}  # as the results store keeps it


def test_threshold_hook_stores_sweep_pick_and_quantization(smoke_run):
    config, run = smoke_run
    sweep, quant = run["extras"]["threshold_sweep"], run["extras"]["quantization"]
    steps = sweep["steps"]
    assert [s["step"] for s in steps] == list(range(10))
    assert sweep["dense"]["val_acc"] == pytest.approx(run["metrics"]["val_acc"])  # the selected network is the one swept
    assert sweep["dense"]["test_acc"] == pytest.approx(run["metrics"]["test_acc"])
    assert all(s["compression"] == pytest.approx(s["nonzero_before"] / s["nonzero_after"]) for s in steps)
    assert [s["nonzero_after"] for s in steps] == sorted((s["nonzero_after"] for s in steps), reverse=True)
    picked = sweep["picked"]
    assert picked["val_acc"] >= sweep["dense"]["val_acc"] - 0.02 - 1e-12
    assert all(s["val_acc"] < sweep["dense"]["val_acc"] - 0.02 for s in steps if s["step"] > picked["step"])
    for network in ("trained", "pruned"):
        assert [q["total_bits"] for q in quant[network]] == [8, 6, 4]
        assert all(q["frac_bits"] in (3, 5) and q["frac_bits"] < q["total_bits"] for q in quant[network])
        assert all(math.isfinite(q["margin"]) and q["margin"] > 0 for q in quant[network])
    frame = sweeps.threshold_frame([run], lambda c: {"method": vc.method_of(c)})
    assert frame.loc[0, "method"] == "H+W1+LCA" and frame.loc[0, "compression"] == picked["compression"]
    assert frame.loc[0, "pruned_test_acc_%"] == pytest.approx(100 * picked["test_acc"])
    q = sweeps.quantization_frame([run], lambda c: {})
    assert len(q) == 6 and set(q["network"]) == {"trained", "pruned"}
    assert len(sweeps.threshold_steps_frame([run], lambda c: {})) == 10


def test_tsne_hook_maps_per_class_test_samples(smoke_run):
    _, run = smoke_run
    tsne = run["extras"]["tsne"]
    assert tsne["layer"] == "classifier.fc3"  # fnn2: the output layer reads the second hidden layer
    labels = torch.tensor(tsne["labels"])
    assert torch.bincount(labels, minlength=10).tolist() == [5] * 10
    assert len(tsne["coords"]) == len(labels) and all(len(xy) == 2 for xy in tsne["coords"])
    assert len({tuple(xy) for xy in tsne["coords"]}) > 1


@pytest.mark.parametrize("name", list(vc.DATA))
def test_majority_class_shares_match_the_data(name, mnist_root):
    """One case per data set: a missing one skips itself only."""
    from regprune import data

    spec = dict(vc.DATA[name])
    try:
        splits = data.load(spec.pop("name"), mnist_root, **spec)
    except data.DataError as err:
        pytest.skip(f"{name}: {err}")
    y = splits.test.y
    assert round(100 * torch.bincount(y).max().item() / len(y), 2) == vc.MAJORITY_TEST[name]
