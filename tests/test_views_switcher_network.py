"""The MNIST switcher-network view (notebooks/switcher_network.ipynb): Table 1, the gap to the paper,
collapses, gates and ablations, on hand-made records (numbers worked out by hand)."""

import math

import pandas as pd
import pytest

from regprune import chapters, report, results, views
from regprune.chapters.switcher_network import describe
from regprune.views import switcher_network as view_module

CONFIGS = chapters.configs("switcher_network", "cpu")


def config(model, method, seed, variant="main"):
    return next(c for c in CONFIGS if describe(c) == {"model": model, "method": method, "dataset": "mnist",
                                                       "seed": seed, "variant": variant})


def gates(zero, below1, above1, gates=100, weights=100):
    return {"gates": gates, "zero": zero, "below1": below1, "above1": above1, "mean": 1.0,
            "nonzero": gates - zero, "weights": weights}


def fake_record(config, *, test_acc, val_accs=(0.9, 0.95), params=1000, nonzero=250, fc_nonzero=200,
                layers=None, status="completed"):
    history = [{"epoch": e, "train_loss": 2.5 - e, "train_acc": 0.9, "val_acc": v, "test_acc": test_acc,
                "fc_density": 0.5, "phase": "snn" if e % 2 else "tnn"} for e, v in enumerate(val_accs, start=1)]
    return {"key": results.run_key(config), "config": config, "seed": config["seed"], "status": status,
            "metrics": {"test_acc": test_acc, "val_acc": val_accs[-1], "train_time_s": 1.0},
            "counts": {"params": params, "nonzero_params": nonzero, "fc_params": 800, "fc_nonzero": fc_nonzero},
            "data": {"dataset": "mnist", "sizes": {"train": 100, "val": 10, "test": 20}},
            "extras": {"switcher_gates": layers} if layers else {}, "history": history, "wall_time_s": 1.25}


@pytest.fixture
def records():
    """LeNet-300-100: dense (seeds 0-2), SNN connection (seeds 0-2; seed 1 collapses in epoch 2),
    and the SNN-learning-rate ablation on seed 0."""
    dense = [fake_record(config("lenet300", "dense", s), test_acc=a, nonzero=1000)
             for s, a in zip((0, 1, 2), (0.97, 0.98, 0.99))]
    snn = [fake_record(config("lenet300", "snn_connection", 0), test_acc=0.975, val_accs=(0.3, 0.9, 0.95),
                       layers={"fc1": gates(25, 25, 50), "fc2": gates(5, 15, 30, gates=50, weights=50)}),
           fake_record(config("lenet300", "snn_connection", 1), test_acc=0.980, val_accs=(0.9, 0.2, 0.8),
                       layers={"fc1": gates(50, 0, 50)}),
           fake_record(config("lenet300", "snn_connection", 2), test_acc=0.985, layers={"fc1": gates(75, 0, 25)})]
    ablation = fake_record(config("lenet300", "snn_connection", 0, "snn_lr=0.1"), test_acc=0.2,
                           layers={"fc1": gates(100, 0, 0)})
    return dense + snn + [ablation]


def quiet_view(records, tmp_path, display=lambda obj: None):
    return views.ChapterView("switcher_network", "cpu", records=records, tables_dir=tmp_path, display=display)


def test_runs_carry_accuracy_and_compression(records):
    runs = view_module.runs(records)
    assert runs["test_acc_%"].round(6).tolist()[:3] == [97.0, 98.0, 99.0]
    assert runs["compression"].tolist()[:4] == [1.0, 1.0, 1.0, 4.0]  # 1000 / 1000, then 1000 / 250
    assert len(view_module.main_runs(runs)) == 6


def test_table1_puts_the_papers_rows_above_ours(records):
    main = view_module.main_runs(view_module.runs(records))
    table = view_module.table1_frame(report.paper_numbers(paper="002", dataset="mnist"), main, "lenet300", "cpu")
    paper_snn = table[(table["method"] == "SNN connection") & table["source"].str.startswith("paper")].iloc[0]
    assert paper_snn["test_acc_% mean"] == 98.43 and paper_snn["nonzero_params mean"] == 42_500
    ours = table[table["source"] == "ours (cpu)"].set_index("method")
    assert ours.loc["SNN connection", "test_acc_% mean"] == pytest.approx(98.0)  # 97.5, 98.0, 98.5
    assert ours.loc["SNN connection", "test_acc_% std"] == pytest.approx(0.5)
    assert ours.loc["dense (ours)", "compression mean"] == 1.0 and ours.loc["dense (ours)", "seeds"] == 3


def test_the_gap_to_the_paper_is_ours_minus_theirs(records):
    main = view_module.main_runs(view_module.runs(records))
    gap = view_module.gap_frame(report.paper_numbers(paper="002", dataset="mnist"), main)
    assert gap[["model", "method"]].values.tolist() == [["lenet300", "snn_connection"]]  # no SNN neuron run here
    assert gap["ours - paper (pp)"].iloc[0] == pytest.approx(98.0 - 98.43)


def test_a_run_collapses_when_validation_falls_below_half_after_the_first_epoch(records):
    frame = view_module.collapse_frame(records).set_index(["variant", "seed"])
    assert len(frame) == 4  # the SNN runs, the ablation included; no dense run
    first_epoch_low = frame.loc[("main", 0)]
    assert not first_epoch_low["collapsed"] and first_epoch_low["at epoch"] == 1
    assert first_epoch_low["worst val acc %"] == pytest.approx(30.0)
    assert first_epoch_low["first-epoch train loss"] == 1.5 and first_epoch_low["ln 10"] == pytest.approx(math.log(10))
    fell = frame.loc[("main", 1)]
    assert fell["collapsed"] and fell["at epoch"] == 2 and fell["phase then"] == "tnn"
    assert fell["final val acc %"] == pytest.approx(80.0)


def test_gate_shares_per_layer_leave_the_ablation_out(records):
    frame = view_module.gate_frame(records)
    assert len(frame) == 4  # seed 0: two layers, seeds 1 and 2: one each
    fc2 = frame[(frame["seed"] == 0) & (frame["layer"] == "fc2")].iloc[0]
    assert (fc2["zero_%"], fc2["below1_%"], fc2["above1_%"], fc2["weights_left_%"]) == (10.0, 30.0, 60.0, 90.0)


def test_the_share_of_zero_gates_pools_the_layers(records):
    zero = view_module.zero_gates(records)
    assert zero[records[3]["key"]] == pytest.approx(20.0)  # (25 + 5) of (100 + 50)
    assert records[0]["key"] not in zero  # a dense run has no gates


def test_an_ablation_sits_beside_the_main_run_with_its_model_method_and_seed(records):
    frame = view_module.ablation_frame(records)
    assert frame["variant"].tolist() == ["main", "snn_lr=0.1"] and frame["seed"].tolist() == [0, 0]
    assert frame["gates_zero_%"].tolist() == [pytest.approx(20.0), 100.0]
    assert view_module.ablation_frame(records[:6]).empty


def test_the_sections_name_the_main_seeds_and_save_their_tables(records, tmp_path):
    displayed = []
    view = quiet_view(records, tmp_path, displayed.append)
    for section in (view_module.run_summary, view_module.table1, view_module.gap_to_paper, view_module.alternating,
                    view_module.collapses, view_module.gates, view_module.ablations):
        section(view)
    assert [(s.kind, s.name) for s in view.shown] == [
        ("note", "runs"), ("table", "table1_lenet300"), ("table", "gap_to_paper"),
        ("figure", "alternating_lenet300"), ("table", "collapses"), ("table", "gates"), ("figure", "gates"),
        ("table", "ablations")]
    assert view.shown[0].value == ("7 runs on MNIST, 100 train / 10 validation / 20 test; not completed: none; "
                                   "training wall time, all runs: 9 s")  # 7 x 1.25 s
    # every table names the main runs' seeds, also where it has no seed column (seeds 1 and 2 have no ablation)
    captions = [d.caption for d in displayed if hasattr(d, "caption")]
    assert len(captions) == 5 and all("[seeds 0, 1, 2] (profile: cpu; data: MNIST, 100 train" in c for c in captions)
    summary = pd.read_csv(tmp_path / "switcher_network" / "gates.csv").set_index("layer")
    assert summary.loc["fc1", "zero_%_mean"] == pytest.approx(50.0) and summary.loc["fc1", "seeds"] == 3


def test_without_ablation_or_gates_the_sections_say_so(records, tmp_path):
    view = quiet_view(records[:3], tmp_path)
    view_module.gates(view)
    view_module.ablations(view)
    assert [s.value for s in view.shown] == ["No switcher runs stored.", "No ablation runs in this profile."]


def test_cost_frame_counts_collapses_apart_and_keeps_the_fair_baselines(records):
    """SNN connection: seed 1 collapses (val 20% in epoch 2), so 1 of 3 is counted apart and the mean
    is over seeds 0 and 2: (97.5 + 98.5) / 2 = 98.0%. The ablation is left out; a fair baseline at
    half the epochs is kept as its own row; a diverged one counts as stored but not averaged."""
    extra = [fake_record(config("lenet300", "dense", 0, "equal_updates"), test_acc=0.96, nonzero=1000),
             fake_record(config("lenet300", "dense", 0, "lr=0.01"), test_acc=0.5, status="diverged")]
    frame = view_module.cost_frame(records + extra).set_index(["method", "variant"])
    snn = frame.loc[("SNN connection", "main")]
    assert (snn["runs"], snn["diverged or collapsed"]) == (3, 1)
    assert snn["test_acc_pct"] == pytest.approx(98.0) and snn["train_time_s"] == pytest.approx(1.0)
    assert frame.loc[("dense (ours)", "main"), "test_acc_pct"] == pytest.approx(98.0)
    assert frame.loc[("dense (ours)", "equal_updates"), "test_acc_pct"] == pytest.approx(96.0)
    diverged = frame.loc[("dense (ours)", "lr=0.01")]
    assert (diverged["runs"], diverged["diverged or collapsed"]) == (1, 1) and math.isnan(diverged["test_acc_pct"])
    assert "snn_lr=0.1" not in frame.index.get_level_values("variant")


def test_the_alternation_figure_reads_only_the_main_runs(records):
    extra = fake_record(config("lenet300", "dense", 0, "equal_updates"), test_acc=0.96, nonzero=1000)
    steps = view_module.history(records + [extra])
    assert extra["key"] not in set(steps["key"]) and len(set(steps["key"])) == 6  # 3 dense + 3 SNN


def test_runs_that_did_not_complete_are_named_in_words_not_as_a_list_of_dicts(records):
    assert view_module.unfinished_text(records) == "none"
    diverged = [fake_record(config("lenet5", "dense", s, "lr=0.1"), test_acc=0.1, status="diverged") for s in (0, 2)]
    assert view_module.unfinished_text(records + diverged) == \
        "2 (LeNet-5-Caffe, dense (ours), lr=0.1, seeds 0, 2: diverged)"
