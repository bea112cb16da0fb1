"""views.weight_compander_cifar (the paper's CIFAR tables, Figs. 3-4, the ResNet-20 stand-in) on
hand-made records; expected numbers worked out by hand or read from the paper's tables."""

import pandas as pd
import pytest

from regprune import chapters, results, views
from regprune.chapters.weight_compander import describe
from regprune.claims import AWAITS_GPU
from regprune.views import weight_compander_cifar as wcc


def record(config, *, test_acc, val_acc=0.9):
    return {"key": results.run_key(config), "config": config, "seed": config["seed"], "status": "completed",
            "chapter": config["chapter"], "profile": config["profile"],
            "metrics": {"val_acc": val_acc, "test_acc": test_acc},
            "counts": {"params": 1000}, "data": {"dataset": config["data"]["name"],
                                                 "sizes": {"train": 45_000, "val": 5_000, "test": 10_000}},
            "history": [{"epoch": 1, "train_acc": 0.5}]}


def configs(profile, tmp_path):
    return {(d["model"], d["method"], d["dataset"], d["seed"]): c
            for c, d in ((c, describe(c)) for c in chapters.configs(wcc.NOTEBOOK, profile, results_dir=tmp_path))}


WC = "WC (arctan, a, b searched)"


def test_the_grid_lists_each_cells_methods_in_grid_order(tmp_path):
    grid = wcc.grid_frame(chapters.configs(wcc.NOTEBOOK, "smoke", results_dir=tmp_path))
    assert grid.values.tolist() == [
        ["CIFAR-10", "ResNet18", "none, pp, wn, wc, wc_fine, arsinh, erf"],
        ["CIFAR-10", "ResNet34", WC], ["CIFAR-10", "VGG16-BN", WC], ["CIFAR-100", "VGG19-BN", WC]]  # one method: its label
    assert list(grid.columns) == ["dataset", "model", "methods"]


def test_table1_puts_our_choice_beside_the_papers():
    empty = wcc.table1_frame({})
    assert (empty["our_a"] == AWAITS_GPU).all() and (empty["our_b"] == AWAITS_GPU).all()
    table = wcc.table1_frame({("resnet18", "cifar10", "wc"): (0.7, 0.8)}).set_index(["model", "dataset"])
    row = table.loc[("ResNet18", "CIFAR-10")]
    assert (row["paper_a"], row["paper_b"], row["our_a"], row["our_b"]) == (1.0, 0.6, 0.7, 0.8)  # paper: Table I
    assert pd.isna(table.loc[("ResNet34", "CIFAR-10"), "our_a"])  # not searched yet


def test_accuracy_tables_before_and_after_runs(tmp_path):
    before = wcc.accuracy_frames(pd.DataFrame())
    assert list(before) == ["Table II", "Table III", "Table VI", "Table VII"]
    assert (before["Table II"]["ours_mean"] == AWAITS_GPU).all()
    pick = configs("smoke", tmp_path)
    runs = [record(pick[("resnet18", "none", "cifar10", 0)], test_acc=0.94),
            record(pick[("resnet18", "none", "cifar10", 1)], test_acc=0.95)]
    main, _, _ = wcc.ours(runs)
    table = wcc.accuracy_frames(main)["Table II"].set_index(["model", "dataset", "method"])
    plain = table.loc[("ResNet18", "CIFAR-10", "plain")]
    assert plain["paper_mean"] == 94.04 and plain["paper_std"] == 0.08  # the paper's Table II
    assert plain["ours_mean"] == pytest.approx(94.5) and plain["seeds"] == 2
    assert plain["ours_std"] == pytest.approx(0.5 ** 0.5)  # 94 and 95: sample std sqrt(1/2)
    assert plain["difference"] == pytest.approx(94.5 - 94.04)
    assert pd.isna(table.loc[("ResNet18", "CIFAR-10", "WC (arctan, a, b searched)"), "ours_mean"])


def test_the_standin_table_sets_resnet20_beside_the_papers_resnet18(tmp_path):
    pick = configs("cpu", tmp_path)
    runs = [record(pick[("resnet20", "none", "cifar10-jpeg", s)], test_acc=acc) for s, acc in ((0, 0.90), (1, 0.92))]
    runs.append(record(pick[("resnet20", "wc", "cifar10-jpeg", 0)], test_acc=0.91))
    table = wcc.standin_frame(runs).set_index("method")
    assert table.loc["plain", "seeds"] == 2 and table.loc["plain", "ours_mean"] == pytest.approx(91.0)
    assert table.loc["WC (arctan, a, b searched)", "ours_mean"] == pytest.approx(91.0)
    assert table.loc["plain", "paper_resnet18_mean"] == 94.04
    assert table.loc["WC (arctan, a, b searched)", "paper_resnet18_mean"] == 94.44
    assert wcc.standin_frame([]).empty


def test_fig3_needs_resnet34_on_cifar10(tmp_path):
    pick = configs("smoke", tmp_path)
    runs = [record(pick[("resnet18", "none", "cifar10", 0)], test_acc=0.94)]
    main, _, _ = wcc.ours(runs)
    assert wcc.fig3_runs(main).empty and wcc.fig3_runs(pd.DataFrame()).empty
    runs.append(record(pick[("resnet34", "wc", "cifar10", 0)], test_acc=0.9))
    assert wcc.fig3_runs(wcc.ours(runs)[0])["method"].tolist() == ["wc"]


def test_a_cpu_build_shows_the_stored_paper_runs_and_trains_nothing(tmp_path, capsys):
    view = views.open_chapter(wcc.NOTEBOOK, "cpu", needs_gpu=True, results_dir=tmp_path / "results",
                              tables_dir=tmp_path / "tables")
    assert view.grid_profile == "paper" and view.records == [] and len(view.missing) == len(view.configs) > 100
    assert "profile 'paper'" in capsys.readouterr().out
    assert wcc.data_label(view.records) == "CIFAR-10/100 (not yet run)"
    view.display = lambda obj: None
    for section in (wcc.grid, wcc.table1, wcc.accuracy, wcc.weights_during_training):
        section(view)
    wcc.standin(view)
    assert [(s.kind, s.name) for s in view.shown] == [
        ("table", "grid"), ("table", "table1"), ("table", "table_ii"), ("table", "table_iii"), ("table", "table_vi"),
        ("table", "table_vii"), ("note", "fig3"), ("note", "standin"), ("table", "claims_standin")]
    assert sorted(p.name for p in (tmp_path / "tables" / wcc.NOTEBOOK).glob("*.csv")) == [
        "claims_standin.csv", "grid.csv", "table1.csv", "table_ii.csv", "table_iii.csv", "table_vi.csv",
        "table_vii.csv"]


def test_the_data_label_names_the_first_runs_data(tmp_path):
    pick = configs("smoke", tmp_path)
    runs = [record(pick[("resnet18", "none", "cifar10", 0)], test_acc=0.94)]
    assert wcc.data_label(runs) == "synthetic-cifar10 and others, 45,000 train / 5,000 validation / 10,000 test"
