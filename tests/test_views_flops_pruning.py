"""The FLOP chapter's view (notebooks/flops_pruning.ipynb): FLOP columns, accuracy tables, latency
and the sections, on hand-made counts, records and bench rows (numbers worked out by hand, or the
paper's own printed numbers)."""

import math

import pandas as pd
import pytest

from regprune import chapters, results, views
from regprune.chapters.flops_pruning import describe
from regprune.claims import AWAITS_GPU
from regprune.views import flops_pruning as view_module

SMOKE = chapters.configs("flops_pruning", "smoke")  # ResNet-20, the six methods, seed 0


def config(method, seed=0):
    base = next(c for c in SMOKE if describe(c)["method"] == method)
    return {**base, "seed": seed}


def fake_record(config, *, test_acc):
    return {"key": results.run_key(config), "config": config, "seed": config["seed"], "status": "completed",
            "metrics": {"test_acc": test_acc, "val_acc": test_acc, "train_time_s": 1.0},
            "counts": {"params": 1000, "nonzero_params": 900},
            "data": {"dataset": "synthetic-cifar10", "sizes": {"train": 32, "val": 16, "test": 16}},
            "history": [{"epoch": 1, "train_acc": 0.5, "val_acc": test_acc}]}


def paper_rows(*rows):
    return pd.DataFrame(rows, columns=["table", "model", "method", "metric", "value"])


@pytest.fixture
def records():
    """ResNet-20, seeds 0 and 1: control 90% and 92%, pruning 89% and 92%."""
    return [fake_record(config("control", 0), test_acc=0.90), fake_record(config("control", 1), test_acc=0.92),
            fake_record(config("pruning", 0), test_acc=0.89), fake_record(config("pruning", 1), test_acc=0.92)]


def test_resnet20_is_counted_as_table_1_prints_it():
    counts = view_module.flop_counts("resnet20")
    assert round(counts["control (ours)"], 2) == 40.55 and round(counts["pruned (ours)"], 2) == 34.37  # Table 1
    # the compact network keeps whole filters, a full-width residual stream and the FC layer
    assert counts["pruned, compact network"] > counts["pruned (ours)"]


def test_the_flop_table_sets_our_counts_beside_the_papers():
    counts = pd.DataFrame([{"model": "resnet20", "control (ours)": 40.0, "pruned (ours)": 34.0,
                            "pruned, compact network": 36.0},
                           {"model": "resnet32", "control (ours)": 50.0, "pruned (ours)": 40.0,
                            "pruned, compact network": 45.0}])
    paper = paper_rows(("Table 1", "resnet20", "control", "mflops", 40.0),
                       ("Table 1", "resnet20", "pruning", "mflops", 34.0),
                       ("Table 1", "resnet32", "control", "mflops", 50.0),
                       ("Table 1", "resnet32", "pruning", "mflops", 41.0),
                       ("Table 1", "resnet20", "control", "test_acc_%", 91.0))
    table = view_module.flop_table(counts, paper).set_index("model")
    assert table["exact match"].tolist() == [True, False]
    assert table.loc["resnet20", "FLOP decrease, paper rule (%)"] == pytest.approx(15.0)  # 1 - 34/40
    assert table.loc["resnet20", "MAC decrease, compact network (%)"] == pytest.approx(10.0)  # 1 - 36/40
    assert table.loc["resnet32", "pruned (paper)"] == 41.0


def test_table1_accuracy_gives_our_mean_and_says_which_depths_await_a_gpu(records):
    paper = paper_rows(("Table 1", "resnet20", "control", "test_acc_%", 91.6),
                       ("Table 1", "resnet20", "pruning", "test_acc_%", 91.1),
                       ("Table 1", "resnet32", "control", "test_acc_%", 92.5),
                       ("Table 1", "resnet20", "control", "mflops", 40.55))
    table = view_module.accuracy_table(paper, view_module.runs(records), {"resnet20"}).set_index(["model", "method"])
    assert table.loc[("resnet20", "control"), "ours_acc"] == pytest.approx(91.0)  # 90, 92
    assert table.loc[("resnet20", "control"), "ours_std"] == pytest.approx(math.sqrt(2))
    assert table.loc[("resnet20", "pruning"), "ours_acc"] == pytest.approx(90.5) and \
        table.loc[("resnet20", "pruning"), "seeds"] == 2
    assert table.loc[("resnet32", "control"), "ours_acc"] == AWAITS_GPU
    empty = view_module.accuracy_table(paper, pd.DataFrame(), {"resnet20"}).set_index(["model", "method"])
    assert empty["ours_acc"].tolist() == ["no run stored", "no run stored", AWAITS_GPU]
    # a grid half trained: the control is stored, the pruned runs not yet (not a blank, not "awaits GPU")
    control_only = view_module.runs(records)
    control_only = control_only[control_only["method"] == "control"]
    half = view_module.accuracy_table(paper, control_only, {"resnet20"}).set_index(["model", "method"])
    assert half.loc[("resnet20", "control"), "ours_acc"] == pytest.approx(91.0)
    assert half.loc[("resnet20", "pruning"), "ours_acc"] == "not yet stored"
    assert half.loc[("resnet32", "control"), "ours_acc"] == AWAITS_GPU


def test_tables_2_to_4_get_our_difference_against_the_control(records):
    paper = paper_rows(("Table 3", "resnet20", "pruning", "acc_decrease_vs_control_%", 0.16),
                       ("Table 3", "resnet20", "pruning", "flops_decrease_%", 15.2),
                       ("Table 1", "resnet20", "pruning", "test_acc_%", 91.1))
    diffs = view_module.differences_table(paper, view_module.runs(records))
    assert len(diffs) == 1 and diffs["flops_decrease_%"].iloc[0] == 15.2
    assert diffs[view_module.DIFFERENCE].iloc[0] == pytest.approx(-0.5)  # 90.5 - 91.0
    assert view_module.differences_table(paper, pd.DataFrame())[view_module.DIFFERENCE].iloc[0] == AWAITS_GPU


BENCH = {
    "environment": {"device_name": "x86_64", "cpu_count": 2, "torch_threads": 2, "torch": "2.13.0"},
    "settings": {"repeats": 7}, "created": "2026-11-22T10:00:00",
    "rows": [{"model": "resnet20", "variant": v, "keep_rate": k, "layout": "contiguous", "batch": 1,
              "paper_mmacs": macs, "mac_ratio": mac_ratio, "time_ratio": time_ratio, "latency_s": 0.01,
              "max_rel_diff": 0.0}
             for v, k, macs, mac_ratio, time_ratio in (("control", 1.0, 40.0, 1.0, 1.0),
                                                       ("compact_0.9", 0.9, 34.0, 0.88, 0.95),
                                                       ("compact_0.9_keep2", 0.9, 34.0, 0.9, 0.97))],
}


def test_latency_rows_set_time_beside_flops_and_macs():
    table = view_module.latency_table(BENCH)
    assert len(table) == 1  # the control is the reference, the _keep2 variant is left out
    row = table.iloc[0]
    assert row["FLOP decrease, paper rule (%)"] == pytest.approx(15.0)  # 1 - 34/40
    assert row["MAC decrease, compact (%)"] == pytest.approx(12.0)
    assert row["time decrease (%)"] == pytest.approx(5.0)
    assert view_module.bench_label(BENCH) == ("x86_64 (2 cores, 2 torch threads), torch 2.13.0, "
                                              "7 interleaved repeats, 2026-11-22")


def test_the_sections_show_their_tables_and_figures(records, tmp_path):
    import json

    bench = tmp_path / "latency.json"
    bench.write_text(json.dumps(BENCH))
    shown = []
    view = views.ChapterView("flops_pruning", "smoke", records=records, tables_dir=tmp_path, display=shown.append)
    view_module.accuracy(view)
    view_module.latency(view, bench)
    assert "(profile: bench; data: random CIFAR-shaped inputs; x86_64 (2 cores" in shown[-1].caption
    assert [(s.kind, s.name) for s in view.shown] == [("table", "table1_accuracy"), ("table", "tables2_4"),
                                                      ("table", "latency"), ("figure", "latency")]
    written = pd.read_csv(tmp_path / "flops_pruning" / "table1_accuracy.csv").set_index(["model", "method"])
    assert float(written.loc[("ResNet-20", "control"), "ours_acc"]) == pytest.approx(91.0)
    assert written.loc[("ResNet-32", "control"), "ours_acc"] == AWAITS_GPU  # smoke trains ResNet-20 only
    assert view_module.data_label(view) == "synthetic-cifar10, 2 epochs, fp32; 32 train / 16 validation / 16 test"


def test_before_any_run_the_data_label_says_so(tmp_path):
    view = views.ChapterView("flops_pruning", "cpu", records=[], display=lambda obj: None)
    assert view_module.data_label(view) == "CIFAR-10 (JPEG q75 copy), 30 epochs, bf16; no run stored yet"
