"""views.efficiency_llr: the chapter's tables, checked on hand-made records (numbers worked out by
hand, never recomputed with the code under test)."""

import pandas as pd
import pytest

from regprune import chapters, results, views
from regprune.chapters.efficiency_llr import describe
from regprune.views import efficiency_llr as view_module

PARAMS = {"lenet300": 266_610, "lenet5": 431_080}
# nonzero parameters after pruning settings k = 0, 1, 2 (the largest)
SIZES = {"lenet300": (100_000, 30_000, 20_000), "lenet5": (100_000, 40_000, 30_000)}
PRUNED_VAL_ACC = (0.988, 0.986, 0.970)  # validation errors 1.2, 1.4, 3.0 points
FC1_KEPT = {0: 48_000, 1: 40_000}


def accuracy_of(coords):
    """Seed 0: 98% (LLR 99%), seed 1: 97% (LLR 98.5%)."""
    return {0: 0.98, 1: 0.97}[coords["seed"]] if coords["output"] == "softmax" else {0: 0.99, 1: 0.985}[coords["seed"]]


def fake_record(config, *, status="completed"):
    c = describe(config)
    model, test_acc = c["model"], accuracy_of(c)
    params, sizes = PARAMS[model], SIZES[model]
    sweep = [{"k": k, "theta_conv": 0.5 + 0.1 * k, "theta_fc": 1.25, "nonzero_params": n, "compression": params / n,
              "val_acc": v, "test_acc": test_acc - 0.01 * (k + 1),
              "layers": {"classifier.fc1": {"kept": FC1_KEPT[c["seed"]], "size": 400_000}}}
             for k, (n, v) in enumerate(zip(sizes, PRUNED_VAL_ACC))]
    layers = {name: {"counts": [1, 4, 4, 1], "below": 0, "above": 0, "std": 0.05 + 0.02 * c["seed"]}
              for name in ("fc1", "fc2", "fc3")}
    return {"key": results.run_key(config), "config": config, "seed": c["seed"], "status": status,
            "wall_time_s": 60.0, "data": {"dataset": "mnist", "sizes": {"train": 100, "val": 10, "test": 20}},
            "metrics": {"val_acc": 0.99, "test_acc": test_acc, "train_time_s": 50.0},
            "counts": {"params": params, "nonzero_params": params},
            "history": [{"epoch": 1, "train_acc": 0.9, "test_acc": 0.9, "val_acc": 0.9},
                        {"epoch": 2, "train_acc": 0.995, "test_acc": 0.975, "val_acc": 0.99}],
            "extras": {"pruning": {"dense": {"params": params, "nonzero_params": params, "val_acc": 0.99,
                                             "test_acc": test_acc},
                                   "sweep": sweep},
                       "weight_histogram": {"edges": [-0.5, -0.25, 0.0, 0.25, 0.5], "layers": layers}}}


@pytest.fixture(scope="module")
def records():
    configs = [c for c in chapters.configs("efficiency_llr", "cpu") if c["seed"] in (0, 1)]
    return [fake_record(c) for c in configs]


@pytest.fixture
def view(records, tmp_path):
    return views.ChapterView("efficiency_llr", "cpu", records=records, results_dir=tmp_path / "results",
                             tables_dir=tmp_path / "tables", display=lambda obj: None)


def row(frame, **coords):
    mask = pd.Series(True, index=frame.index)
    for column, value in coords.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, coords
    return frame[mask].iloc[0]


def test_run_lines_count_runs_and_name_those_not_completed(records):
    failed = fake_record(records[0]["config"], status="failed")
    lines = view_module.run_lines([*records, failed], "cpu", "MNIST")
    assert lines[0].startswith("25 runs of profile 'cpu' on MNIST; not completed: [({'model': 'lenet300'")
    assert "'failed')]" in lines[0]
    assert lines[1] == "training wall time, all runs: 25.0 min"  # 25 runs x 60 s
    assert view_module.run_lines(records, "cpu", "MNIST")[0].endswith("not completed: none")


def test_dense_summary_is_mean_and_std_over_seeds(records):
    summary = view_module.dense_summary(records)
    assert len(summary) == 12 and (summary["seeds"] == 2).all()
    softmax = row(summary, model="lenet300", output="softmax", regularizer="wd")
    assert softmax["test_error_%_mean"] == pytest.approx(2.5)  # errors 2.0 and 3.0
    assert softmax["test_error_%_std"] == pytest.approx(0.5 ** 0.5)
    assert softmax["gap_pp_mean"] == pytest.approx(2.0)  # 2.5 (last test error) - 0.5 (last training error)
    assert row(summary, model="lenet5", output="llr", regularizer="none")["test_error_%_mean"] == pytest.approx(1.25)


def test_weight_std_per_layer(records):
    spread = view_module.weight_std(records)
    assert list(spread.columns[:2]) == ["output", "regularizer"] and len(spread) == 6
    assert "std fc1_mean" in spread and spread["std fc1_mean"].round(6).eq(0.06).all()  # 0.05 and 0.07


def test_largest_setting_beside_the_paper(records):
    table = view_module.largest_beside_paper(records, "lenet5", "cpu")
    paper = table[table["source"].str.startswith("paper 000")]
    assert set(paper["method"]) == {"Han et al. 2015 (quoted)", "snapshot (paper)"}
    assert row(paper, method="Han et al. 2015 (quoted)")["pruned_params mean"] == 36000
    ours = row(table, method="LLR, SGD + L2 decay 5e-4")
    assert ours["source"] == "ours (cpu)" and ours["seeds"] == 2
    assert ours["pruned_params mean"] == 30_000 and ours["params mean"] == 431_080
    assert ours["compression mean"] == pytest.approx(431_080 / 30_000)
    assert ours["test_error_% mean"] == pytest.approx(1.25)  # dense: 1.0 and 1.5
    assert ours["pruned_test_error_% mean"] == pytest.approx(4.25)  # 3 points more at k = 2


def test_at_han_size_takes_each_runs_nearest_setting(records):
    near = view_module.at_han_size(records)
    # LeNet-300-100: 20K is nearest 22K (k = 2); LeNet-5: 40K is nearer 36K than 30K (k = 1)
    assert row(near, model="lenet300", output="softmax", regularizer="none")["nonzero_params_mean"] == 20_000
    lenet5 = row(near, model="lenet5", output="softmax", regularizer="none")
    assert lenet5["nonzero_params_mean"] == 40_000 and lenet5["han_params"] == 36_000
    assert lenet5["test_error_%_mean"] == pytest.approx(4.5)  # dense 2.5 + 2 points at k = 1


def test_operating_point_is_chosen_on_validation(records):
    # validation errors along the sweep: 1.2, 1.4, 3.0 against the dense 1.0
    tight = view_module.operating_points(records, 0.5)  # k = 1 is the smallest within 1.5
    assert row(tight, model="lenet300", output="llr", regularizer="wd")["nonzero_params_mean"] == 30_000
    loose = view_module.operating_points(records, 2.5)  # k = 2 is within 3.5
    assert row(loose, model="lenet5", output="llr", regularizer="wd")["nonzero_params_mean"] == 30_000
    none = view_module.operating_points(records, 0.1)  # only the dense network itself
    assert row(none, model="lenet5", output="llr", regularizer="wd")["nonzero_params_mean"] == 431_080


def test_fc1_note_reads_what_the_fc_setting_leaves(records):
    fc1 = view_module.fc1_kept(records)
    assert len(fc1) == 12  # LeNet-5 runs only
    text = view_module.fc1_sentence(fc1, "cpu", "seeds 0, 1")
    assert "keeps 11.0% (from 10.0% to 12.0% over 12 runs)" in text  # 48K and 40K of 400K
    assert "44K weights on its own (profile: cpu, seeds 0, 1)" in text
    assert "cannot come from this rule" in text  # every run keeps more than 31K
    assert "leaves room" in view_module.fc1_sentence(fc1.assign(kept=30_000), "cpu", "seeds 0, 1")


def test_every_section_shows_its_tables_and_figures(view, tmp_path, capsys):
    for section in ("runs", "trained_networks", "fig1_weights", "weight_spread", "fig2_softmax_llr", "fig3_adamw_sgd",
                    "fig6_error_curves", "table2", "lenet300_largest", "han_sizes", "claims", "fc1_note"):
        getattr(view_module, section)(view)
    view_module.chosen_on_validation(view, 0.5)
    assert capsys.readouterr().out.startswith("24 runs of profile 'cpu' on MNIST, 100 train")
    assert [(s.kind, s.name) for s in view.shown] == [
        ("table", "dense_summary"), ("figure", "fig1_weights"), ("table", "lenet300_weight_std"),
        ("figure", "fig2_softmax_llr"), ("figure", "fig3_adamw_sgd"), ("figure", "fig6_error_curves"),
        ("table", "table2_lenet5"), ("table", "lenet300_largest"), ("table", "at_han_size"), ("table", "claims"),
        ("verdicts", "verdicts"), ("note", "fc1_kept"), ("table", "operating_points")]
    written = pd.read_csv(tmp_path / "tables" / "efficiency_llr" / "dense_summary.csv")
    assert written["model"].iloc[0] == "LeNet-300-100" and written["regularizer"].iloc[0] == "SGD, no decay"
    # nothing stored under results_dir: every claim is judged "not yet measured", one verdict per claim
    verdicts = view.shown[10].value
    assert "snapshot_31k" in verdicts.index and set(verdicts["claim verdict"]) == {"not yet measured"}
