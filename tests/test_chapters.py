"""Chapter grids: every config of every profile validates, and the grids have the shape the chapters promise."""

import math
import pandas as pd
import pytest

from regprune import chapters, experiment, results
from regprune.chapters.efficiency_llr import LABELS, describe
from regprune.registry import ConfigError


@pytest.mark.parametrize("chapter", chapters.CHAPTERS.names())
@pytest.mark.parametrize("profile", ["smoke", "cpu", "paper"])
def test_every_config_validates(chapter, profile):
    """Every run of every grid validates, no run is listed twice, and only the grids that have no
    runs on purpose (the CIFAR chapters' cpu profile: a CPU cannot train them) are empty."""
    grid = chapters.configs(chapter, profile)
    assert grid or (chapter, profile) in EMPTY_ON_PURPOSE
    for config in grid:
        experiment.validate(config)
    assert len({results.run_key(c) for c in grid}) == len(grid)


EMPTY_ON_PURPOSE = {("switcher_network_cifar", "cpu"), ("weight_compander_cifar", "cpu")}


def test_efficiency_llr_mnist_grid():
    cpu = chapters.configs("efficiency_llr", "cpu")
    cells = {(d["model"], d["output"], d["regularizer"]) for d in map(describe, cpu)}
    assert len(cpu) == 60 and len(cells) == 12 and {c["seed"] for c in cpu} == {0, 1, 2, 3, 4}
    assert all(c["data"]["name"] == "mnist" and c["data"]["val_split"] == 5000 for c in cpu)
    lenet5 = next(c for c in cpu if c["model"]["name"] == "lenet5")
    prune = next(h for h in lenet5["hooks"] if h["name"] == "snapshot_pruning")
    assert prune["theta_conv"] == pytest.approx([0.5 + 0.1 * k for k in range(10)]) and prune["theta_fc"] == 1.25
    assert all(c["data"]["name"].startswith("synthetic") for c in chapters.configs("efficiency_llr", "smoke"))
    assert chapters.configs("efficiency_llr", "cpu", seeds=[7])[0]["seed"] == 7


def test_efficiency_llr_cifar_grid():
    paper = chapters.configs("efficiency_llr_cifar", "paper")
    coords = [describe(c) for c in paper]
    assert {d["model"] for d in coords} == {f"resnet{d}" for d in (20, 32, 56)} | {f"densenet{d}" for d in (40, 60, 100)}
    assert {d["dataset"] for d in coords} == {"cifar10", "cifar100"} and len(paper) == 72
    prune = paper[0]["hooks"][0]
    assert prune["theta_conv"] == pytest.approx([0.5 + 0.05 * k for k in range(10)]) and prune["theta_fc"] == 0.75
    cpu = chapters.configs("efficiency_llr_cifar", "cpu")  # ResNet-20 on the JPEG copy, softmax and LLR
    assert [(c["seed"], describe(c)["output"]) for c in cpu] == [(s, o) for s in (0, 1, 2) for o in ("softmax", "llr")]
    assert {c["data"]["name"] for c in cpu} == {"cifar10-jpeg"} and {describe(c)["dataset"] for c in cpu} == {"cifar10"}
    assert all(c["train"]["epochs"] == 30 and c["train"]["milestones"] == [15, 23] for c in cpu)
    smoke = chapters.configs("efficiency_llr_cifar", "smoke")
    assert {describe(c)["dataset"] for c in smoke} == {"cifar10", "cifar100"}
    assert {describe(c)["family"] for c in smoke} == {"resnet", "densenet"}
    assert all(d["model"] in LABELS for d in coords)


def test_unknown_chapter_and_profile_are_named():
    with pytest.raises(ConfigError, match="quickstart"):
        chapters.configs("nosuch", "cpu")
    with pytest.raises(ConfigError, match="profile"):
        chapters.configs("efficiency_llr", "huge")


# ---------------------------------------------------------------- weight compander (paper 001)

from conftest import fake_store  # noqa: E402
from regprune import results  # noqa: E402
from regprune.chapters import weight_compander as wc  # noqa: E402


def test_weight_compander_mnist_grid_is_staged_on_the_search(tmp_path):
    before = chapters.configs("weight_compander", "cpu", results_dir=tmp_path)
    cells = [wc.describe(c) for c in before]
    search300 = [c for c, d in zip(before, cells) if d["method"] == "wc" and d["model"] == "lenet300"]
    assert len(search300) == 9 and {c["seed"] for c in search300} == {0}
    assert {(d["a"], d["b"]) for d in cells if d["method"] == "wc" and d["model"] == "lenet5"} == {(0.5, 0.5), (1.0, 0.5)}
    for method in ("none", "wc_fine", "pp", "wn"):
        assert sorted(d["seed"] for d in cells if d["method"] == method and d["model"] == "lenet5"
                      and not d["lr_trial"]) == [0, 1, 2, 3, 4]
    assert sorted(d["seed"] for d in cells if d["method"] == "wc_coarse" and d["model"] == "lenet300") == [0, 1, 2, 3, 4]
    assert not any(d["method"] == "wc" and d["seed"] > 0 for d in cells)  # not until the search is stored
    # the search finds a = 0.75, b = 0.5 best on validation for LeNet-300-100; ties go to the first in grid order
    best = {"a": 0.75, "b": 0.5}
    fake_store(tmp_path, search300, lambda c: 0.99 if c["reparam"]["a"] == 0.75 and c["reparam"]["b"] in (0.5, 1.0) else 0.9)
    after = chapters.configs("weight_compander", "cpu", results_dir=tmp_path)
    new = [c for c in after if c not in before]
    assert [c["seed"] for c in new] == [1, 2, 3, 4]
    assert all(c["reparam"] == {"name": "compander", "fn": "arctan", **best} for c in new)
    assert all(c["train"] == search300[0]["train"] and c["hooks"] == search300[0]["hooks"] for c in new)
    frame = pd.DataFrame([{**wc.describe(c), "key": results.run_key(c), "val_error_%": 100 * (1 - (0.99 if c["reparam"]["a"] == 0.75 and c["reparam"]["b"] in (0.5, 1.0) else 0.9))} for c in search300])
    main, search, chosen = wc.split_search(frame)
    assert chosen[("lenet300", "mnist", "wc")] == (0.75, 0.5) and len(main) == 1 and len(search) == 9


def test_weight_compander_gives_the_other_methods_the_searchs_budget_as_learning_rates(tmp_path):
    """Issue 29: plain, PP and WN get as many trials as the compander's a, b search (9 on LeNet-300-100,
    2 on LeNet-5) over the same width of effective rate ((a/b)^2 from 1/4 to 4: 0.0025 to 0.04 around
    the recipe's 0.01); their other seeds follow the rate chosen on validation, none when 0.01 wins."""
    before = chapters.configs("weight_compander", "cpu", results_dir=tmp_path)
    cells = [wc.describe(c) for c in before]
    for model, trials in (("lenet300", 8), ("lenet5", 1)):
        for method in ("none", "pp", "wn"):
            mine = [d for d in cells if d["model"] == model and d["method"] == method and d["lr_trial"]]
            assert len(mine) == trials and {d["seed"] for d in mine} == {0}, (model, method)
    rates = sorted(d["lr"] for d in cells if d["model"] == "lenet300" and d["method"] == "none" and d["seed"] == 0)
    assert rates[0] == 0.0025 and rates[-1] == 0.04 and len(rates) == 9
    assert all(math.isclose(b / a, 2 ** 0.5, rel_tol=5e-3) for a, b in zip(rates, rates[1:]))  # half-octaves, rounded
    assert not any(d["lr_trial"] for d in cells if d["method"] not in ("none", "pp", "wn"))

    def val_acc(c):  # plain LeNet-300-100 is best at 0.02; PP best at the recipe's 0.01
        lr, method = c["train"]["lr"], wc.method_of(c)
        return 0.99 if (method, lr) in (("none", 0.02), ("pp", 0.01)) else 0.9

    seed0 = [c for c, d in zip(before, cells) if d["model"] == "lenet300" and d["method"] in ("none", "pp")
             and d["seed"] == 0]
    fake_store(tmp_path, seed0, val_acc)
    new = [c for c in chapters.configs("weight_compander", "cpu", results_dir=tmp_path) if c not in before]
    assert [(wc.method_of(c), c["seed"], c["train"]["lr"]) for c in new] == [("none", s, 0.02) for s in (1, 2, 3, 4)]
    frame = pd.DataFrame([{**wc.describe(c), "key": results.run_key(c), "val_error_%": 100 * (1 - val_acc(c))}
                          for c in seed0 + new])
    runs, chosen = wc.lr_tuned(frame)
    assert chosen == {("lenet300", "mnist", "none"): (0.02, 9), ("lenet300", "mnist", "pp"): (0.01, 9)}
    assert sorted(runs[runs["method"] == "none"]["seed"]) == [0, 1, 2, 3, 4]
    main, _, _ = wc.split_search(frame)
    assert set(main["lr"]) == {0.01}  # the main runs stay at the recipe's rate


def test_weight_compander_learnable_runs_log_their_scales_and_decay_as_the_paper_says():
    cfgs = chapters.configs("weight_compander", "cpu", results_dir="/nonexistent")
    fine = [c for c in cfgs if wc.method_of(c) == "wc_fine"]
    assert fine and all(c["reparam"]["learnable"] == "fine" and c["reparam"]["a"] == 0.5 and c["reparam"]["b"] == 1.0
                        and {"name": "compander_scales"} in c["hooks"] for c in fine)
    assert all("decay" not in c["reparam"] for c in cfgs if c.get("reparam"))  # "auto": the paper's rule


def test_weight_compander_cifar_cpu_grid_is_table_one_direction_on_a_resnet20_stand_in():
    cpu = chapters.configs("weight_compander_cifar", "cpu", results_dir="/nonexistent")
    # before the seed-0 compander run is stored, its other seeds are not listed (a staged grid)
    assert [(c["seed"], wc.method_of(c)) for c in cpu] == [(0, "none"), (0, "wc"), (1, "none"), (2, "none")]
    assert all(c["model"] == {"name": "resnet20"} and c["data"]["name"] == "cifar10-jpeg" for c in cpu)
    assert all((c["train"]["epochs"], c["train"]["milestones"], c["train"]["precision"]) == (30, [15, 23], "bf16")
               for c in cpu)
    assert [(c["reparam"]["a"], c["reparam"]["b"]) for c in cpu if c.get("reparam")] == [(1.0, 0.6)]  # Table I
    assert chapters.stored_only("weight_compander_cifar")


def test_weight_compander_cifar_paper_grid_has_the_papers_schedules():
    paper = chapters.configs("weight_compander_cifar", "paper", results_dir="/nonexistent")
    for c in paper:
        d, t = wc.describe(c), c["train"]
        assert (t["batch_size"], t["optimizer"], t["momentum"], t["lr"], t["epochs"]) == (128, "sgd", 0.9, 0.1, 200)
        assert c["data"]["val_split"] == 5000 and c["transforms"] == [{"name": "random_crop_flip", "padding": 4}]
        if d["dataset"] == "cifar10" and d["model"].startswith("resnet"):
            assert (t["milestones"], t["gamma"], t["weight_decay"]) == ([90, 136], 0.1, 1e-4)
        else:
            assert (t["milestones"], t["gamma"], t["weight_decay"]) == ([60, 120, 160], 0.2, 5e-4)
    cells = {(d["dataset"], d["model"]) for d in map(wc.describe, paper)}
    assert ("cifar100", "wrn28_10") in cells and ("cifar10", "wrn28_10") not in cells
    search = [d for d in map(wc.describe, paper) if d["method"] == "wc" and (d["dataset"], d["model"]) == ("cifar10", "resnet18")]
    assert len(search) == 36 and {d["seed"] for d in search} == {0}
    fine = {(d["dataset"], d["model"]) for d in map(wc.describe, paper) if d["method"] == "wc_fine"}
    assert fine == {("cifar10", m) for m in ("resnet18", "resnet34", "resnet50")}  # Table VI
    assert {c["seed"] for c in paper} == {0, 1, 2, 3, 4}


# ---------------------------------------------------------------- the one way to a chapter's runs


def test_records_follows_the_profile_rule(tmp_path, monkeypatch):
    """A stored-only grid in the cpu profile is loaded, never trained: a missing run is left out."""
    from regprune import results

    grid = chapters.configs("flops_pruning", "cpu")
    store = results.ResultStore(tmp_path)
    store.save({"config": grid[3], "key": results.run_key(grid[3]), "status": "completed", "metrics": {"test_acc": 0.9}})
    monkeypatch.setattr(results.experiment, "execute", lambda *a, **k: pytest.fail("a stored-only grid trained"))
    lines = []
    got = chapters.records("flops_pruning", "cpu", results_dir=tmp_path, recompute=True, report=lines.append)
    assert [r["key"] for r in got] == [results.run_key(grid[3])]
    assert "recompute does not apply" in lines[0]
    assert chapters.records("flops_pruning", "cpu", results_dir=tmp_path, train=False, report=lines.append) == got


def test_records_trains_what_is_missing_and_names_a_failure(tmp_path, monkeypatch):
    got = chapters.records("quickstart", "smoke", [0], results_dir=tmp_path, device="cpu", progress="none",
                           report=lambda line: None)
    assert len(got) == len(chapters.configs("quickstart", "smoke", [0])) and all(r["status"] == "completed" for r in got)
    again = chapters.records("quickstart", "smoke", [0], results_dir=tmp_path, report=lambda line: None)
    assert again == got  # loaded, not trained again
    from regprune import results

    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(results.experiment, "execute", broken)
    with pytest.raises(RuntimeError, match=r"quickstart \(smoke\): \d run\(s\) failed; first: .*disk on fire"):
        chapters.records("quickstart", "smoke", [1], results_dir=tmp_path, report=lambda line: None)


def test_a_config_is_checked_once_and_again_only_when_it_changes(monkeypatch):
    """chapters.configs checks each config where it is made; the store and the runner call
    validate again as a guard, which for the same content is a lookup, not a second check."""
    checked = []
    real = experiment._check
    monkeypatch.setattr(experiment, "_check", lambda c: (checked.append(c), real(c)))
    monkeypatch.setattr(experiment, "_VALIDATED", set())
    config = chapters.configs("quickstart", "smoke")[0]
    assert len(checked) == 1
    experiment.validate(config)
    results.stored([config])
    assert len(checked) == 1
    assert chapters.configs("quickstart", "smoke")[0]["train"]["epochs"] > 0
    config["train"]["epochs"] = -1  # changed in place: checked again, and the bad value is caught
    assert chapters.configs("quickstart", "smoke")[0]["train"]["epochs"] > 0  # the grid's settings are not shared
    with pytest.raises(ConfigError):
        experiment.validate(config)
    with pytest.raises(ConfigError):  # a config that failed is never remembered as checked
        experiment.validate(config)
    assert len(checked) == 3
