"""views.efficiency_llr_cifar: the CIFAR half of paper 000's chapter on hand-made records (numbers
worked out by hand), and what a build shows before any run is stored."""

import pandas as pd
import pytest

from regprune import chapters, results, views
from regprune.chapters.efficiency_llr import describe
from regprune.views import efficiency_llr_cifar as view_module

PARAMS = {"resnet20": 270_000, "densenet40": 176_000}


def fake_record(config):
    """Dense test error 8% (LLR 7%) + 1 point per seed; pruning settings k = 0..3 keep 90%, 80%, 70%,
    60% of the parameters and add k + 1 points of test error."""
    c = describe(config)
    params = PARAMS[c["model"]]
    dense_acc = (0.92 if c["output"] == "softmax" else 0.93) - 0.01 * c["seed"]
    sweep = [{"k": k, "theta_conv": 0.5 + 0.05 * k, "theta_fc": 0.75, "nonzero_params": round(params * (0.9 - 0.1 * k)),
              "compression": 1 / (0.9 - 0.1 * k), "val_acc": 0.9, "test_acc": dense_acc - 0.01 * (k + 1)}
             for k in range(4)]
    return {"key": results.run_key(config), "config": config, "seed": c["seed"], "status": "completed",
            "data": {"sizes": {"train": 45_000, "val": 5_000, "test": 10_000}},
            "extras": {"pruning": {"dense": {"params": params, "nonzero_params": params, "val_acc": 0.91,
                                             "test_acc": dense_acc}, "sweep": sweep}}}


@pytest.fixture(scope="module")
def records():
    return [fake_record(c) for c in chapters.configs("efficiency_llr_cifar", "smoke", seeds=[0, 1])]


def test_data_labels_and_the_grid_of_the_cpu_profile():
    configs = chapters.configs("efficiency_llr_cifar", "cpu")
    assert view_module.data_labels(configs) == {"cifar10": "CIFAR-10 (JPEG q75 copy), 30 epochs, bf16"}
    grid = view_module.grid_table(configs)
    assert grid[["model", "output"]].values.tolist() == [["resnet20", "softmax"], ["resnet20", "llr"]]
    assert grid["seeds"].tolist() == ["0, 1, 2"] * 2 and grid["epochs"].tolist() == [30, 30]
    assert grid["lr"].tolist() == [0.1, 0.1] and grid["batch"].tolist() == [128, 128]


def test_dense_and_median_points(records):
    points = view_module.dense_and_median(view_module.sweeps.sweep_frame(records, describe))
    assert len(points) == 2 * len(records)  # each run's dense network and its median setting
    median = points[points["point"] == "median"]
    # the lower median of k = 0..3 is k = 1: 80% of the parameters
    resnet = median[(median["model"] == "resnet20") & (median["dataset"] == "cifar10")]
    assert set(resnet["nonzero_params"]) == {216_000}
    # k: each architecture's rank within its dataset, in the grid's order
    assert set(points.loc[points["model"] == "densenet40", "k"]) == {1}
    assert set(points.loc[points["model"] == "resnet20", "k"]) == {0}


def test_median_table(records):
    table = view_module.median_table(view_module.sweeps.sweep_frame(records, describe), "cifar10")
    assert table[["model", "output"]].values.tolist() == [["resnet20", "softmax"], ["resnet20", "llr"],
                                                          ["densenet40", "softmax"], ["densenet40", "llr"]]
    llr = table.iloc[1]
    assert llr["test_error_%_mean"] == pytest.approx(7.5)  # 7 and 8 over seeds 0 and 1
    assert llr["test_error_%_std"] == pytest.approx(0.5 ** 0.5)
    assert llr["pruned_test_error_%_mean"] == pytest.approx(9.5)  # 2 points more at k = 1
    assert llr["params_mean"] == 270_000 and llr["pruned_params_mean"] == 216_000
    assert llr["compression_mean"] == pytest.approx(1.25) and llr["seeds"] == 2
    assert view_module.sizes_label(records, "cifar100") == "45,000 train / 5,000 val / 10,000 test"


def test_the_sections_with_runs(records, tmp_path):
    view = views.ChapterView("efficiency_llr_cifar", "smoke", seeds=[0, 1], records=records, tables_dir=tmp_path,
                             results_dir=tmp_path / "results", display=lambda obj: None)
    for section in ("grid", "figs_4_5", "fig7", "tables_7_8", "claims"):
        getattr(view_module, section)(view)
    assert [(s.kind, s.name) for s in view.shown] == [
        ("figure", "fig4_cifar10"), ("figure", "fig5_cifar100"), ("figure", "fig7_sweeps"),
        ("table", "table7_cifar10"), ("table", "table8_cifar100"), ("table", "claims")]
    table8 = pd.read_csv(tmp_path / "efficiency_llr_cifar" / "table8_cifar100.csv")
    assert table8["model"].tolist() == ["ResNet-20", "ResNet-20"] and table8["output"].tolist() == ["softmax", "LLR"]


def test_a_build_with_nothing_stored_shows_the_grid_it_awaits(tmp_path):
    view = views.ChapterView("efficiency_llr_cifar", "cpu", records=[], tables_dir=tmp_path,
                             results_dir=tmp_path / "results", display=lambda obj: None)
    for section in ("grid", "figs_4_5", "fig7", "tables_7_8", "claims"):
        getattr(view_module, section)(view)
    assert [(s.kind, s.name) for s in view.shown] == [("note", "awaiting"), ("table", "grid"), ("table", "claims")]
    assert "none of the 6 runs" in view.shown[0].value
    claims = view.shown[2].value
    # the CIFAR-10 claims wait for their runs; the CIFAR-100 one can never have any here
    assert set(claims["verdict"]) == {"not yet measured", "data unavailable"}
    assert (claims["verdict"] == "data unavailable").sum() == 1
