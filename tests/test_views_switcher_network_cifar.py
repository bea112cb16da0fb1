"""The CIFAR switcher-network view (notebooks/switcher_network_cifar.ipynb): its grid, Tables 2 and 3
beside our runs, and the figure, on hand-made records (numbers worked out by hand)."""

import math

import pandas as pd
import pytest

from regprune import chapters, results, views
from regprune.claims import AWAITS_GPU
from regprune.views import switcher_network_cifar as view_module


def fake_record(config, *, test_acc, nonzero=300, fc_nonzero=40):
    return {"key": results.run_key(config), "config": config, "seed": config["seed"], "status": "completed",
            "metrics": {"test_acc": test_acc, "val_acc": test_acc, "train_time_s": 1.0},
            "counts": {"params": 1000, "nonzero_params": nonzero, "fc_params": 100, "fc_nonzero": fc_nonzero},
            "data": {"dataset": "synthetic-cifar100", "sizes": {"train": 32, "val": 16, "test": 16}},
            "history": [{"epoch": 1, "train_acc": 0.5, "val_acc": test_acc}], "wall_time_s": 2.0}


def vgg16_cifar100_neuron(seed):
    config = next(c for c in chapters.configs("switcher_network_cifar", "smoke")
                  if c["model"]["name"] == "vgg16" and c["data"]["name"] == "synthetic-cifar100"
                  and c.get("reparam", {}).get("mode") == "neuron")
    return {**config, "seed": seed}


@pytest.fixture
def two_runs():
    """VGG16 on (synthetic) CIFAR-100, SNN neuron, seeds 0 and 1: 68% and 70% test accuracy."""
    return [fake_record(vgg16_cifar100_neuron(0), test_acc=0.68, nonzero=300),
            fake_record(vgg16_cifar100_neuron(1), test_acc=0.70, nonzero=500)]


def quiet_view(records, tmp_path, profile="smoke"):
    return views.ChapterView("switcher_network_cifar", profile, records=records, tables_dir=tmp_path,
                             display=lambda obj: None)


def test_a_cpu_build_lists_the_paper_grid_and_trains_nothing(tmp_path):
    view = views.ChapterView("switcher_network_cifar", "cpu", needs_gpu=True, results_dir=tmp_path / "results",
                             display=lambda obj: None)
    assert view.profile == "cpu" and view.grid_profile == "paper"
    # paper grid: CIFAR-10 x 4 models + CIFAR-100 x 3 models, x 3 methods x 3 seeds
    assert len(view.configs) == 63 and view.records == [] and len(view.missing) == 63
    assert not (tmp_path / "results").exists()
    assert "profile 'paper': 63 runs listed; stored or trained: 0; missing: 63" in view.status()


def test_the_grid_table_has_one_row_per_data_set_and_model():
    grid = view_module.grid_frame(chapters.configs("switcher_network_cifar", "paper"))
    assert len(grid) == 7
    assert grid.iloc[0].tolist() == ["cifar10", "resnet18", "dense, snn_neuron, snn_connection"]
    assert grid["dataset"].tolist().count("cifar100") == 3


def test_before_any_run_only_the_papers_snn_rows_await_the_gpu():
    tables = view_module.paper_tables(view_module.report.paper_numbers(paper="002"), pd.DataFrame())
    assert list(tables) == ["Table 2", "Table 3"]
    table2, table3 = tables.values()
    assert len(table2) == 17 and len(table3) == 11
    assert (table2["ours_acc"] == AWAITS_GPU).sum() == 7 and (table3["ours_acc"] == AWAITS_GPU).sum() == 5
    assert set(table2.loc[table2["method"] == "N2N", "ours_acc"]) == {""}


def test_our_runs_sit_beside_the_papers_snn_row(two_runs):
    ours = view_module.runs(two_runs)
    table3 = view_module.paper_tables(view_module.report.paper_numbers(paper="002"), ours)["Table 3"]
    row = table3[(table3["model"] == "vgg16") & (table3["method"] == "SNN neuron")].iloc[0]
    assert row["test_acc_%"] == 68.29  # the paper's
    assert row["ours_acc"] == pytest.approx(69.0)
    assert row["ours_std"] == pytest.approx(math.sqrt(2))  # sample std of 68 and 70
    assert row["ours_nonzero"] == 400 and row["seeds"] == 2
    assert table3["ours_acc"].notna().sum() == 1


def test_the_sections_save_tables_2_and_3_and_draw_our_runs(two_runs, tmp_path):
    view = quiet_view(two_runs, tmp_path)
    view_module.tables2_3(view)
    view_module.accuracy_against_sparsity(view)
    assert [(s.kind, s.name) for s in view.shown] == [("table", "table_2"), ("table", "table_3"),
                                                      ("figure", "snn_cifar")]
    written = pd.read_csv(tmp_path / "switcher_network_cifar" / "table_3.csv")
    assert written.loc[written["method"] == "SNN neuron", "ours_acc"].dropna().tolist() == [pytest.approx(69.0)]
    assert view_module.data_label(view) == "synthetic-cifar100 and others, 32 train / 16 validation / 16 test"


def test_with_no_run_the_figure_is_a_note(tmp_path):
    view = quiet_view([], tmp_path)
    view_module.accuracy_against_sparsity(view)
    assert view.shown[-1].kind == "note" and "Awaits the GPU run" in view.shown[-1].value
    assert view_module.data_label(view) == "CIFAR-10/100 (not yet run)"
