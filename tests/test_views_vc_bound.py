"""Paper 003's notebook as a view (regprune.views.vc_bound): every table checked on hand-made records
and a hand-made staged grid, with the expected numbers worked out by hand in the comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from regprune import chapters, results, views
from regprune.chapters.vc_bound import DATA, at_majority, dataset_of, describe, penalty
from regprune.claims import AWAITS_GPU
from regprune.views import vc_bound as V


def config(dataset, model, method, seed, *, lr=0.1, C=None, epochs=None, batch=None):
    epochs = epochs or {"dna": 500, "w8a": 20}[dataset]
    batch = batch or {"dna": 128, "w8a": 16}[dataset]
    return {"chapter": "vc_bound", "profile": "cpu", "seed": seed, "data": DATA[dataset], "model": {"name": model},
            "loss": {"name": "multiclass_hinge"}, "penalties": penalty(method, C, None), "hooks": [],
            "train": {"optimizer": "sgd", "lr": lr, "epochs": epochs, "batch_size": batch, "schedule": "inverse"}}


def record(cfg, *, acc, r, quant=None, tsne=None, wall=10.0, best_epoch=3):
    """A completed run: test accuracy ``acc`` (%), validation 1 point lower; pruned 1 point below each
    at compression ``r``; ``quant``: {network: {total_bits: test accuracy (%)}}."""
    val, test = (acc - 1) / 100, acc / 100
    dense = {"val_acc": val, "test_acc": test, "nonzero": 1000}
    picked = {"val_acc": val - 0.01, "test_acc": test - 0.01, "compression": r, "step": 5, "nonzero_after": 1000 / r}
    steps = [{"step": 1, "val_acc": val, "test_acc": test, "compression": 1.0, "nonzero_after": 1000}, {**picked}]
    extras = {"threshold_sweep": {"dense": dense, "picked": picked, "steps": steps},
              "quantization": {net: [{"total_bits": b, "frac_bits": 3, "val_acc": a / 100, "test_acc": a / 100,
                                      "margin": 1.0, "loss": 0.1} for b, a in by_bits.items()]
                               for net, by_bits in (quant or {}).items()}}
    if tsne is not None:
        extras["tsne"] = tsne
    return {"key": results.run_key(cfg), "config": cfg, "seed": cfg["seed"], "status": "completed",
            "chapter": "vc_bound", "profile": "cpu", "wall_time_s": wall,
            "metrics": {"val_acc": val, "test_acc": test, "best_epoch": best_epoch},
            "data": {"sizes": SIZES[dataset_of(cfg)]}, "extras": extras, "history": []}


SIZES = {"dna": {"train": 1400, "val": 600, "test": 1186}, "w8a": {"train": 24850, "val": 9949, "test": 14951}}
# four points, two per class: tight clusters 10 apart, or the same points with the labels crossed
TIGHT = {"coords": [[0, 0], [0, 1], [10, 0], [10, 1]], "labels": [0, 0, 1, 1]}
MIXED = {"coords": [[0, 0], [10, 0], [0, 1], [10, 1]], "labels": [0, 0, 1, 1]}
# dna main runs: (model, method, seed) -> (test accuracy %, compression r); fnn2 H seed 1 learned
# nothing (50.0 <= dna's majority 50.84 + 0.1)
DNA = {("fnn1", "H", 0): (90.0, 2.0), ("fnn1", "H", 1): (92.0, 8.0),
       ("fnn2", "H", 0): (94.0, 4.0), ("fnn2", "H", 1): (50.0, 100.0),
       ("fnn1", "H+W1", 0): (95.0, 10.0), ("fnn1", "H+W1", 1): (97.0, 1000.0),
       ("fnn2", "H+W1", 0): (96.0, 3.0), ("fnn2", "H+W1", 1): (96.0, 27.0)}


def quant_of(acc, seed):
    """Trained: +0.5 pp at 8 bits on seed 0, -0.5 on seed 1, -2 at 4 bits; pruned (acc - 1): 0 and -1."""
    return {"trained": {8: acc + (0.5 if seed == 0 else -0.5), 4: acc - 2},
            "pruned": {8: acc - 1, 4: acc - 2}}


def grid_and_records():
    search = [config("dna", "fnn2", "H", 0, lr=0.01), config("dna", "fnn2", "H+W1", 0, C=1e-4)]
    main = {k: config("dna", k[0], k[1], k[2], C=1e-3 if k[1] == "H+W1" else None) for k in DNA}
    epochs = [config("dna", "fnn2", "H", 0, epochs=1000)]
    w8a_main, w8a_abl = config("w8a", "fnn2", "H", 0), config("w8a", "fnn2", "H", 0, batch=128, epochs=100)
    grid = {"dna": {"search": search + [main[("fnn2", "H", 0)], main[("fnn2", "H+W1", 0)]], "main": list(main.values()),
                    "epochs": epochs, "ablation": [], "chosen": {"lr": 0.1, "C (W1)": 1e-3}},
            "w8a": {"search": [w8a_main], "main": [w8a_main], "epochs": [], "ablation": [w8a_abl],
                    "chosen": {"lr": 0.1}}}
    recs = [record(search[0], acc=99.0, r=500.0, quant={"trained": {8: 50.0, 4: 50.0}}, tsne=TIGHT),
            record(search[1], acc=80.0, r=2.0)]
    for (model, method, seed), (acc, r) in DNA.items():
        tsne = (TIGHT if method == "H+W1" else MIXED) if model == "fnn2" else None
        recs.append(record(main[(model, method, seed)], acc=acc, r=r, quant=quant_of(acc, seed), tsne=tsne))
    recs.append(record(epochs[0], acc=95.0, r=6.0, wall=50.0, best_epoch=7))
    recs += [record(w8a_main, acc=98.5, r=5.0), record(w8a_abl, acc=97.0, r=1.0, best_epoch=1)]
    return grid, recs


@pytest.fixture
def runs():
    grid, recs = grid_and_records()
    return V.FnnRuns.of(recs, grid)


@pytest.fixture
def view(tmp_path):
    grid, recs = grid_and_records()
    view = views.ChapterView("vc_bound", "cpu", records=recs, results_dir=tmp_path / "results",
                             tables_dir=tmp_path / "tables", display=lambda obj: None)
    V.fnn(view, grid)
    return view


def row(frame, **where):
    hit = frame
    for column, value in where.items():
        hit = hit[hit[column] == value]
    assert len(hit) == 1, where
    return hit.iloc[0]


def test_a_run_at_the_majority_share_learned_nothing():
    acc = pd.Series([50.94, 50.95, 10.0])
    assert at_majority(acc, pd.Series(["dna", "dna", "not-a-dataset"])).tolist() == [True, False, False]


def test_roles_and_overview(runs):
    assert runs.runs["role"].value_counts().to_dict() == {"main": 9, "search": 2, "epochs": 1, "ablation": 1}
    assert runs.runs["trivial"].sum() == 2  # dna fnn2 H seed 1 (50.0) and the w8a batch-128 run (97.0 <= 97.13)
    assert runs.epochs == {"dna": 500, "w8a": 20} and runs.seed_label == "seeds 0, 1"
    assert runs.data_label == "dna 1,400/600/1,186; w8a 24,850/9,949/14,951 (train/val/test)"
    assert V.overview_lines(runs, "cpu") == [
        "13 runs of profile 'cpu': 9 in the tables, 2 search-only, 1 epoch-budget checks, 1 ablations; "
        "not completed: none",
        "epochs per data set: dna 500, w8a 20",
        "training wall time, all runs: 170 s"]  # 12 runs x 10 s + the 1000-epoch run's 50 s


def test_search_marks_the_chosen_values(runs):
    table, chosen = V.search_frames(runs)
    marked = {(r.dataset, r.method, r.value): r.chosen for r in table.itertuples()}
    assert marked == {("dna", "H", 0.01): False, ("dna", "H", 0.1): True, ("dna", "H+W1", 1e-4): False,
                      ("dna", "H+W1", 1e-3): True, ("w8a", "H", 0.1): True}
    assert row(table, method="H", value=0.01)["val_acc_%"] == pytest.approx(98.0)
    assert chosen.set_index("dataset").loc["dna", "C (W1)"] == 1e-3
    assert math.isnan(chosen.set_index("dataset").loc["w8a", "C (W1)"])


def test_accuracy_beside_the_paper(runs):
    acc = V.accuracy_frame(runs)
    h1 = row(acc, dataset="dna", model="fnn1", method="H")
    assert h1["test_acc_%_mean"] == pytest.approx(91.0) and h1["test_acc_%_std"] == pytest.approx(math.sqrt(2))
    assert h1["pruned_test_acc_%_mean"] == pytest.approx(90.0)
    assert h1["paper test_acc_%"] == 85.1 and h1["paper pruned_test_acc_%"] == 84.5  # Table 6
    assert h1["difference (pp)"] == pytest.approx(91.0 - 85.1) and h1["majority %"] == 50.84
    h2 = row(acc, dataset="dna", model="fnn2", method="H")
    assert h2["test_acc_%_mean"] == pytest.approx(72.0) and h2["trivial runs"] == 1 and h2["seeds"] == 2
    assert h2["paper test_acc_%"] == 81.2  # Table 7
    assert len(acc) == 5  # dna: 2 depths x 2 methods; w8a: one cell


def test_compression_and_its_winners(runs):
    comp = V.compression_frame(runs)
    h2 = row(comp, dataset="dna", model="fnn2", method="H")
    assert h2["ours_geomean"] == pytest.approx(20.0)  # sqrt(4 x 100)
    assert (h2["ours_min"], h2["ours_max"], h2["trivial runs"]) == (4.0, 100.0, 1)
    assert row(comp, dataset="dna", model="fnn1", method="H+W1")["ours_geomean"] == pytest.approx(100.0)
    assert row(comp, dataset="dna", model="fnn1", method="H")["paper"] == 1.8  # Table 10
    assert not comp["paper at majority"].any()  # the paper's dna and w8a rows all sit above the majority share
    win = V.winners_frame(runs, comp)
    fnn2 = row(win, dataset="dna", model="fnn2")
    # all runs: H (20) beats H+W1 (sqrt(3 x 27) = 9); without the trivial run H has 4 and H+W1 wins
    assert (fnn2["our winner"], fnn2["our winner, non-trivial runs"]) == ("H", "H+W1")
    assert fnn2["our r"] == pytest.approx(20.0) and fnn2["its r"] == pytest.approx(9.0)
    assert (fnn2["paper's winner"], fnn2["paper's r"]) == ("H+W1", 172.8)  # Table 11
    assert row(win, dataset="dna", model="fnn1")["our winner"] == "H+W1"


def test_quantization_drops_of_the_main_runs_only(runs):
    drops = V.quantization_drops_frame(runs)
    trained = row(drops, dataset="dna", network="trained", method="H")
    # seeds 0 and 1 at 8 bits: +0.5 and -0.5 pp; at 4 bits -2; the peak is the 8-bit change: one run of
    # two per depth gains (the search run's +50 pp sweep is not a main run)
    assert trained["8 bits (pp)"] == pytest.approx(0.0) and trained["4 bits (pp)"] == pytest.approx(-2.0)
    assert (trained["runs_with_peak"], trained["runs"]) == (2, 4) and trained["peak_mean"] == pytest.approx(0.0)
    pruned = row(drops, dataset="dna", network="pruned", method="H")  # pruned accuracy is acc - 1
    assert pruned["8 bits (pp)"] == pytest.approx(0.0) and pruned["4 bits (pp)"] == pytest.approx(-1.0)
    assert pruned["runs_with_peak"] == 0
    assert list(drops.columns[3:5]) == ["8 bits (pp)", "4 bits (pp)"]


def test_w8a_batch_and_epoch_budget(runs):
    batch = V.w8a_batch_frame(runs)
    assert batch["batch_size"].tolist() == [128, 16] and batch["trivial"].tolist() == [True, False]
    assert batch["test_acc_%"].tolist() == pytest.approx([97.0, 98.5])
    budget = V.epoch_budget_frame(runs)
    assert len(budget) == 1  # only dna has a 500-epoch check here
    b = budget.iloc[0]
    assert (b["test_acc_% (our budget)"], b["test_acc_% (500 ep)"]) == pytest.approx((94.0, 95.0))
    assert (b["best_epoch (our budget)"], b["best_epoch (500 ep)"], b["our_epochs"]) == (3, 7, 500)


def test_tsne_maps_and_silhouettes(runs):
    maps = V.tsne_records(runs)
    assert len(maps) == 4  # the main fnn2 runs; the search run's map is left out
    deepest, first = V.first_map_per_method(maps)
    assert deepest == "fnn2" and first == {"H": MIXED, "H+W1": TIGHT}
    sil = V.silhouette_frame(maps).set_index("method")
    # tight: a = 1, b = (10 + sqrt(101)) / 2 for every point; crossed: a = 10, b = (1 + sqrt(101)) / 2
    assert sil.loc["H+W1", "mean"] == pytest.approx(1 - 2 / (10 + math.sqrt(101)))
    assert sil.loc["H", "mean"] == pytest.approx(((1 + math.sqrt(101)) / 2 - 10) / 10)
    assert sil.loc["H", "size"] == 2


def test_the_sections_show_the_notebooks_tables_and_figures(view, tmp_path):
    for section in (V.search, V.accuracy_tables, V.compression_tables, V.threshold_sweep, V.fig3_quantization,
                    V.quantization_drops, V.w8a_batch, V.epoch_budget, V.tsne, V.claims):
        section(view)
    assert [(s.kind, s.name) for s in view.shown] == [
        ("table", "search"), ("table", "chosen"), ("table", "table6_accuracy"), ("table", "table7_accuracy"),
        ("table", "table10_compression"), ("table", "table11_compression"), ("table", "compression_winners"),
        ("figure", "threshold_sweep"), ("figure", "fig3_quantization_test_acc"), ("figure", "fig3_quantization_margin"),
        ("figure", "fig3_quantization_loss"), ("table", "quantization_drops"), ("table", "w8a_batch"),
        ("table", "epoch_budget"), ("figure", "tsne"), ("table", "tsne_silhouette"), ("table", "claims")]
    written = pd.read_csv(tmp_path / "tables" / "vc_bound" / "table7_accuracy.csv")
    assert written["model"].unique().tolist() == ["fnn2"] and len(written) == 3  # dna H, H+W1; w8a H


def test_sections_without_their_runs_say_so(view):
    grid, recs = grid_and_records()
    grid["w8a"]["ablation"], grid["dna"]["epochs"] = [], []
    V.fnn(view, grid)
    V.w8a_batch(view)
    V.epoch_budget(view)
    assert [s.kind for s in view.shown] == ["note", "note"]
    assert "500 epochs" in view.shown[1].value


def cifar_record(cfg, acc):
    quant = [{"total_bits": b, "frac_bits": 4, "val_acc": acc / 100, "test_acc": acc / 100, "margin": 1.0, "loss": 0.1}
             for b in (8, 4)]
    picked = {"val_acc": acc / 100, "test_acc": (acc - 1) / 100, "compression": 2.0, "step": 3, "nonzero_after": 5}
    return {"key": results.run_key(cfg), "config": cfg, "seed": cfg["seed"], "status": "completed",
            "metrics": {"val_acc": acc / 100, "test_acc": acc / 100},
            "extras": {"threshold_sweep": {"dense": {"val_acc": acc / 100, "test_acc": acc / 100, "nonzero": 10},
                                           "picked": picked, "steps": []},
                       "quantization": {"trained": quant, "pruned": quant}, "tsne": TIGHT}}


def test_cifar_tables_3_to_5_beside_ours():
    configs = chapters.configs("vc_bound_cifar", "cpu")  # seed 0's five quick-net rows come first
    recs = [cifar_record(configs[0], 70.0), cifar_record(configs[5], 72.0), cifar_record(configs[1], 75.0)]
    assert [describe(c["config"])["method"] for c in recs] == ["S", "S", "S+W2"]
    frame = V.cifar_frame(V.paper_003(), recs, configs)
    s = row(frame, table="Table 3", method="S")
    assert s["test_acc_%_mean"] == pytest.approx(71.0) and s["seeds"] == 2 and s["compression_mean"] == 2.0
    assert s["ours"] == "in this profile's grid"
    assert row(frame, table="Table 3", method="S + W")["test_acc_%_mean"] == pytest.approx(75.0)  # our S+W2
    assert row(frame, table="Table 3", method="S + W + BN")["ours"] == AWAITS_GPU  # no batch norm in the quick net
    assert (frame.loc[frame["model"] == "densenet40", "ours"] == AWAITS_GPU).all()
    assert "key" not in frame
    deep, maps = V.cifar_tsne_maps(recs)
    assert deep == "quicknet" and list(maps) == ["S", "S+W2"]


def test_cifar_sections_show_fig1_fig2_and_the_tables(tmp_path):
    configs = chapters.configs("vc_bound_cifar", "cpu")
    cifar = views.ChapterView("vc_bound", "cpu", grid="vc_bound_cifar", results_dir=tmp_path / "results",
                              tables_dir=tmp_path / "tables", records=[cifar_record(configs[0], 70.0)],
                              display=lambda obj: None)
    V.cifar_tables(cifar)
    V.cifar_figures(cifar)
    assert [(s.kind, s.name) for s in cifar.shown] == [("table", "tables3_5"), ("table", "cifar_claims"),
                                                        ("figure", "fig1_cifar_quantization"),
                                                        ("figure", "fig2_cifar_tsne")]
    assert (tmp_path / "tables" / "vc_bound" / "tables3_5.csv").exists()
    assert V.cifar_run_label(cifar) == "30 epochs, bf16"
