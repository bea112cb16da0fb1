"""The chapter views: what a notebook shows comes from these package functions, checked here on
hand-made records (numbers worked out by hand, not by the code under test)."""

import pandas as pd
import pytest

from regprune import chapters, results, views
from regprune.views import quickstart


def fake_record(config, *, test_acc, val_acc=0.99, status="completed"):
    return {"key": results.run_key(config), "config": config, "seed": config["seed"], "status": status,
            "chapter": config["chapter"], "profile": config["profile"],
            "metrics": {"test_acc": test_acc, "val_acc": val_acc, "best_epoch": 3, "train_time_s": 1.0},
            "counts": {"params": 266_610, "nonzero_params": 266_000, "macs": {"total": 266_200}},
            "data": {"sizes": {"train": 100, "val": 10, "test": 20}},
            "history": [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.2, "train_acc": 0.5, "val_acc": 0.6}]}


@pytest.fixture
def quick_view():
    configs = chapters.configs("quickstart", "cpu")
    records = [fake_record(c, test_acc=acc) for c, acc in zip(configs, (0.98, 0.975, 0.99))]
    return views.ChapterView("quickstart", "cpu", records=records, display=lambda obj: None)


def test_a_view_knows_what_is_missing():
    configs = chapters.configs("quickstart", "cpu")
    view = views.ChapterView("quickstart", "cpu", records=[fake_record(configs[0], test_acc=0.9)],
                             display=lambda obj: None)
    assert len(view.missing) == len(configs) - 1
    assert view.status().endswith(f"stored or trained: 1; missing: {len(configs) - 1}")
    assert view.data_label() == "MNIST, 100 train / 10 validation / 20 test"


def test_a_view_with_nothing_stored_says_so_and_the_sections_can_skip():
    view = views.ChapterView("quickstart", "cpu", records=[], display=lambda obj: None)
    assert view.awaiting() is True
    assert view.shown[-1].kind == "note" and "Not yet measured" in view.shown[-1].value


def test_quickstart_accuracy_tables(quick_view, tmp_path):
    quick_view.tables_dir = tmp_path
    quickstart.accuracy(quick_view)
    per_seed, summary = (s.value for s in quick_view.shown)
    assert per_seed["test_error_%"].round(6).tolist() == [2.0, 2.5, 1.0]
    assert summary["test_acc_mean"].iloc[0] == pytest.approx((0.98 + 0.975 + 0.99) / 3)
    assert summary["seeds"].iloc[0] == 3
    written = pd.read_csv(tmp_path / "quickstart" / "accuracy_per_seed.csv")
    assert written["seed"].tolist() == [0, 1, 2]


def test_quickstart_layers_note_reads_the_stored_counts(quick_view, tmp_path):
    quick_view.tables_dir = tmp_path
    quickstart.layers(quick_view)
    table, note = quick_view.shown
    assert table.value["params"].sum() == 266_610  # 784*300+300 + 300*100+100 + 100*10+10
    assert "nonzero after training: 266,000" in note.value
