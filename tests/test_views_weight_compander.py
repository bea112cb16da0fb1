"""views.weight_compander (the MNIST notebook) on hand-made records of LeNet-300-100: plain, the
compander's a, b search and Powerpropagation, two seeds; every expected number worked out by hand."""

import copy
import json

import pandas as pd
import pytest

from regprune import chapters, results, views
from regprune.chapters.weight_compander import describe
from regprune.views import weight_compander as wc

LAYERS = ("classifier.fc1", "classifier.fc2", "classifier.fc3")
PERCENTILES = (100, 93, 84, 69, 50, 31, 16, 7, 0)


def stats(first_max, other_max, near001, near01):
    """One epoch's weight_stats row: per layer p100 = m, p0 = -m/2, p93 = m/4, p7 = -m/4, the rest 0."""
    row = {}
    for layer in LAYERS:
        m = first_max if layer == LAYERS[0] else other_max
        row.update({f"w.{layer}.p{p}": 0.0 for p in PERCENTILES})
        row.update({f"w.{layer}.p100": m, f"w.{layer}.p0": -m / 2, f"w.{layer}.p93": m / 4, f"w.{layer}.p7": -m / 4,
                    f"w.{layer}.near0.001": near001, f"w.{layer}.near0.01": near01})
    return row


def record(config, *, val_acc, test_acc, first_max=(1.0, 2.0), other_max=3.0, near=(0.1, 0.3)):
    history = [{"epoch": e + 1, "train_acc": 0.9, "train_loss": 0.3, "val_acc": val_acc, "val_loss": 0.4,
                **stats(first_max[e], other_max, *near)} for e in range(2)]
    return {"key": results.run_key(config), "config": config, "seed": config["seed"], "status": "completed",
            "chapter": config["chapter"], "profile": config["profile"], "wall_time_s": 10.0,
            "metrics": {"val_acc": val_acc, "test_acc": test_acc, "best_epoch": 2, "train_time_s": 9.0},
            "counts": {"params": 266_610, "nonzero_params": 266_610, "macs": {"total": 266_200}},
            "data": {"dataset": "synthetic-mnist", "sizes": {"train": 100, "val": 10, "test": 20}},
            "history": history,
            "extras": {"weight_histogram": {"edges": [-0.5, 0.0, 0.5],
                                            "layers": {n: {"counts": [1, 3], "below": 0, "above": 0} for n in LAYERS}}}}


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    configs = chapters.configs("weight_compander", "smoke", results_dir=tmp_path_factory.mktemp("results"))
    pick = {(d["model"], d["method"], d["a"], d["seed"]): c for c, d in ((c, describe(c)) for c in configs)
            if not d["lr_trial"]}  # the recipe's rate (the learning-rate trials are tested in test_chapters)
    wc_second_seed = copy.deepcopy(pick[("lenet300", "wc", 1.0, 0)])
    wc_second_seed["seed"] = 1
    return [
        record(pick[("lenet300", "none", None, 0)], val_acc=0.90, test_acc=0.80),
        record(pick[("lenet300", "none", None, 1)], val_acc=0.91, test_acc=0.82),
        # the search: a = 0.5 (validation error 15%) loses to a = 1.0 (5%)
        record(pick[("lenet300", "wc", 0.5, 0)], val_acc=0.85, test_acc=0.70, first_max=(9.0, 9.0)),
        record(pick[("lenet300", "wc", 1.0, 0)], val_acc=0.95, test_acc=0.90, first_max=(0.5, 0.4),
               other_max=0.6, near=(0.05, 0.1)),
        record(wc_second_seed, val_acc=0.93, test_acc=0.88, first_max=(0.5, 0.4), other_max=0.6, near=(0.05, 0.1)),
        record(pick[("lenet300", "pp", None, 0)], val_acc=0.88, test_acc=0.85),
        record(pick[("lenet300", "pp", None, 1)], val_acc=0.89, test_acc=0.86),
    ]


@pytest.fixture
def view(records, tmp_path):
    return views.ChapterView("weight_compander", "smoke", records=records, results_dir=tmp_path / "results",
                             tables_dir=tmp_path / "tables", display=lambda obj: None)


def test_the_search_keeps_the_best_validation_pair_and_its_seeds(records):
    run = wc.runs(records)
    assert run.chosen == {("lenet300", "mnist", "wc"): (1.0, 1.0)}
    assert len(run.search) == 3 and len(run.main) == 6  # the losing a = 0.5 run is in the search only
    assert sorted(run.main.loc[run.main["method"] == "wc", "seed"]) == [0, 1]
    assert run.seeds == [0, 1]
    grid = wc.search_grid(run.search, "lenet300")
    assert list(grid.columns) == ["a \\ b", "b = 1"]
    assert grid["b = 1"].round(6).tolist() == [15.0, 5.0]


def test_accuracy_is_the_mean_and_std_over_seeds(records):
    acc = wc.accuracy_frame(wc.runs(records).main).set_index("method")
    assert acc.loc["plain", "test_error_%_mean"] == pytest.approx(19.0)  # (20 + 18) / 2
    assert acc.loc["WC (arctan, a, b searched)", "test_error_%_mean"] == pytest.approx(11.0)  # (10 + 12) / 2
    assert acc.loc["Powerprop (alpha 2)", "test_error_%_mean"] == pytest.approx(14.5)
    assert acc.loc["plain", "test_error_%_std"] == pytest.approx(2 ** 0.5)  # 20 and 18: sample std sqrt(2)
    assert acc["seeds"].tolist() == [2, 2, 2]


def test_weight_effects_per_run(records):
    effects = wc.weight_effects(wc.runs(records).history).set_index(["method", "seed"])
    plain, comp = effects.loc[("none", 0)], effects.loc[("wc", 1)]
    assert plain["first_max_abs_w"] == 2.0  # epoch 2: p100 = 2 beats |p0| = 1 and epoch 1's 1
    assert plain["all_max_abs_w_end"] == 3.0  # fc2 and fc3 end at 3
    assert plain["first_near_1e-2_%"] == pytest.approx(30.0) and plain["first_near_1e-3_%"] == pytest.approx(10.0)
    assert plain["first_p93_minus_p7"] == pytest.approx(1.0)  # 2/4 - (-2/4)
    assert comp["first_max_abs_w"] == 0.5 and comp["all_max_abs_w_end"] == 0.6
    assert comp["first_p93_minus_p7"] == pytest.approx(0.2)
    assert len(effects) == 6  # the search's losing run is not a main run


def test_verdict_line_states_the_choice_and_the_comparison(records):
    run = wc.runs(records)
    line = wc.verdict_lines(run.main, run.chosen, wc.weight_effects(run.history))
    assert line == ("* **LeNet-300-100**: the search chose a = 1, b = 1 (bound a*pi/2 = 1.57); test error 11.00% with "
                    "WC against 19.00% plain; the first layer's largest |w| during training 0.500 with WC against "
                    "2.000 plain; weights with |w| < 0.01: 10.0% with WC against 30.0% plain.")


def test_verdict_line_adds_plain_training_at_its_own_rate_when_it_was_tuned(records):
    """Equal budget: plain's runs at the rate it chose (0.04: test errors 1.5 and 1.7, mean 1.60)."""
    run = wc.runs(records)
    tuned = pd.DataFrame({"model": ["lenet300"] * 3, "method": ["none", "none", "pp"], "test_error_%": [1.5, 1.7, 9.0]})
    line = wc.verdict_lines(run.main, run.chosen, wc.weight_effects(run.history), tuned,
                            {("lenet300", "mnist", "none"): (0.04, 9), ("lenet300", "mnist", "pp"): (0.01, 9)})
    assert ("test error 11.00% with WC against 19.00% plain at the recipe's learning rate, 1.60% plain at its own, "
            "0.04, chosen on validation with the compander's budget; the first layer's") in line


def test_percentiles_start_at_the_rebuilt_initialization(records):
    run = wc.runs(records)
    frame = wc.percentile_frame(records, run.main, "lenet300", ["none", "wc", "wn"])  # no wn run: left out
    assert sorted(set(frame["method"])) == ["none", "wc"]
    assert frame["epoch"].tolist() == [0, 1, 2, 0, 1, 2]
    assert frame["p100"].tolist()[1:3] == [1.0, 2.0] and frame["p100"].tolist()[4:] == [0.5, 0.4]
    init = frame[frame["epoch"] == 0]
    # PyTorch's default init of fc1 (784 inputs) is uniform on +-1/sqrt(784) = +-1/28
    assert (init["p100"] <= 1 / 28 + 1e-6).all() and (init["p0"] >= -1 / 28 - 1e-6).all()
    assert (init["p100"] > init["p50"]).all() and (init["p50"] > init["p0"]).all()


def test_overhead_frame_keeps_the_bench_columns_it_has_and_names_the_cpu():
    bench = {"rows": [{"model": "lenet300", "variant": "wc", "time_ratio": 1.5, "extra": 1, "alone_pct": 26.0}],
             "environment": {"device": "cpu", "device_name": "x86_64", "cpu_model": "Some CPU", "torch": "2.0"},
             "settings": {"batch_size": 64}, "created": "2026-12-05T09:00:00+00:00"}
    table, data = wc.overhead_frame(bench)
    assert list(table.columns) == ["model", "variant", "time_ratio", "alone_pct"]
    assert data == "random MNIST/CIFAR-shaped batches of 64; Some CPU, torch 2.0, 2026-12-05"


def test_the_sections_show_the_notebooks_tables_and_figures(view, tmp_path, capsys):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"rows": [{"model": "lenet300", "variant": "wc", "time_ratio": 1.5}],
                                 "environment": {"device": "cpu"}, "settings": {}}))
    for section in (wc.functions, wc.search, wc.convergence, wc.accuracy, wc.weights_during_training, wc.other_reparameterizations,
                    wc.effects_and_claims, wc.learned_scales, wc.distributions):
        section(view)
    wc.overhead(view, bench)
    wc.verdict(view)
    assert [(s.kind, s.name) for s in view.shown] == [
        ("figure", "fig2_functions"), ("table", "search_lenet300"), ("table", "convergence"), ("table", "accuracy"),
        ("figure", "fig3_percentiles_lenet300"), ("figure", "fig4_percentiles_zoomed_lenet300"),
        ("figure", "other_reparameterizations_lenet300"),  # pp only: no wc_fine, wc_coarse or wn run
        ("table", "weight_effects"), ("table", "claims"),  # no learnable run: no learned a, b figure
        ("figure", "weights_after_training"), ("table", "overhead"), ("note", "verdict")]
    written = pd.read_csv(tmp_path / "tables" / "weight_compander" / "weight_effects.csv")
    assert written.loc[written["method"] == "plain", "first_max_abs_w_mean"].item() == 2.0
    assert pd.read_csv(tmp_path / "tables" / "weight_compander" / "overhead.csv")["time_ratio"].tolist() == [1.5]
    wc.overview(view)
    out = capsys.readouterr().out
    assert "7 runs of profile 'smoke' (3 of them the a, b search)" in out
    assert "training wall time, all runs: 70 s" in out


def test_convergence_frame_reads_each_runs_last_epochs():
    """Two plain runs at the recipe's rate: losses 1.0, 0.8, 0.5, 0.4, 0.3 (fell (0.8 - 0.3) / 0.8 =
    62.5% over the last three epochs; best epoch 5, the last) and 1.0, 0.9, 0.6, 0.3, 0.2 (0.7 / 0.9 =
    77.8%; best epoch 3): mean fall 70.14%, 1 of 2 seeds best at the last epoch; one tuned run at 0.04
    with two epochs only: no fall is computed."""
    def rec(key, losses, best, train_acc=0.99):
        return {"key": key, "metrics": {"best_epoch": best},
                "history": [{"train_loss": x, "train_acc": train_acc} for x in losses]}
    records = [rec("a", [1.0, 0.8, 0.5, 0.4, 0.3], 5), rec("b", [1.0, 0.9, 0.6, 0.3, 0.2], 3), rec("c", [0.5, 0.1], 1)]
    main = pd.DataFrame({"model": "lenet300", "method": "none", "key": ["a", "b"], "lr": 0.01,
                         "train_error_%": [1.0, 3.0]})
    tuned = pd.DataFrame({"model": ["lenet300"], "method": ["none"], "key": ["c"], "lr": [0.04], "train_error_%": [0.5]})
    table = wc.convergence_frame(records, main, tuned)
    first, second = table.iloc[0], table.iloc[1]
    assert (first["method"], first["learning rate"], first["lr"]) == ("plain", "recipe", 0.01)
    assert first["train error, last epoch (%)"] == pytest.approx(2.0)
    assert first["train loss, last epoch"] == pytest.approx(0.25)
    assert first["loss drop, last 3 epochs (%)"] == pytest.approx((62.5 + 700 / 9) / 2)
    assert first["best epoch is the last"] == "1 of 2"
    assert (second["learning rate"], second["lr"], second["best epoch is the last"]) == ("chosen on validation", 0.04,
                                                                                       "0 of 1")
    assert pd.isna(second["loss drop, last 3 epochs (%)"])
    assert wc.convergence_frame(records, main, tuned.iloc[0:0])["learning rate"].tolist() == ["recipe"]


def test_a_missing_bench_is_a_note(view, tmp_path):
    wc.overhead(view, tmp_path / "none.json")
    assert view.shown[-1].kind == "note" and "make bench-reparam" in view.shown[-1].value


def test_equal_budget_table_shows_every_trial_and_the_choice():
    """Plain LeNet-300-100: the first seed at 0.01 (val 2.0%), 0.02 (1.5%) and 0.04 (1.8%): 0.02 is
    chosen, and its test error is the mean over its seeds (1.4, 1.6: 1.5). Powerprop has one trial of
    its three: no choice yet. Expected three rates per network here."""
    rows = [("none", 0, 0.01, 2.0, 2.1), ("none", 0, 0.02, 1.5, 1.4), ("none", 0, 0.04, 1.8, 1.9),
            ("none", 1, 0.01, 2.2, 2.3), ("none", 1, 0.02, 1.7, 1.6), ("pp", 0, 0.01, 3.0, 3.1),
            ("pp", 0, 0.02, 2.5, 2.6)]
    frame = pd.DataFrame([{"model": "lenet300", "dataset": "mnist", "method": m, "seed": s, "lr": lr,
                           "lr_trial": lr != 0.01, "val_error_%": v, "test_error_%": t, "a": None, "b": None}
                          for m, s, lr, v, t in rows])
    table = wc.tuning_frame(frame, {"lenet300": 3}).set_index("method")
    assert list(table.columns[1:4]) == ["lr 0.01", "lr 0.02", "lr 0.04"]
    assert table.loc["plain", "chosen lr"] == 0.02 and table.loc["plain", "seeds"] == 2
    assert table.loc["plain", "test error at chosen lr (%)"] == pytest.approx(1.5)
    assert table.loc["Powerprop (alpha 2)", "chosen lr"] == "trials not all stored"
    assert wc.tuning_frame(frame.iloc[0:0]).empty
