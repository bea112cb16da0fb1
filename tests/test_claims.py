"""Claims written as code, judged by the one rule on stored runs (fake records here: the
expected verdicts are worked out by hand from the numbers below, not by the code under test)."""

from __future__ import annotations

import pandas as pd
import pytest

from regprune import chapters, claims, results, scorecard
from regprune.chapters import flops_pruning
from regprune.claims import cifar, rule
from regprune.claims.base import UNMEASURED, Claim, Part, paired, single

# per-seed test accuracy (%) of ResNet-20 by method: cutout +0.6 on every seed, mixup -0.5 (a short
# schedule's shortfall), pruning -0.3, the combinations at the noise level against their parts
CONTROL = [90.5, 91.0, 91.5]
DIFF = {  # per-seed difference from the control (pp)
    "control": [0.0, 0.0, 0.0],
    "cutout": [0.6, 0.61, 0.59],
    "mixup": [-0.5, -0.48, -0.52],
    "pruning": [-0.3, -0.31, -0.29],
    "mixup_pruning": [-0.1, -0.6, -0.1],
    "cutout_pruning": [0.5, 0.2, 0.6],
}
ACC = {m: [c + d for c, d in zip(CONTROL, diffs)] for m, diffs in DIFF.items()}


def _store(tmp_path, acc=ACC, seeds=(0, 1, 2)):
    store = results.ResultStore(tmp_path)
    for config in chapters.configs("flops_pruning", "cpu"):
        method, seed = flops_pruning.method_of(config), config["seed"]
        if seed not in seeds:
            continue
        store.save({"config": config, "key": results.run_key(config), "status": "completed",
                    "metrics": {"val_acc": 0.9, "test_acc": acc[method][seed] / 100},
                    "history": [{"train_acc": 0.99}], "counts": {"params": 270_000}})
    return tmp_path


def verdicts(results_dir):
    """The CIFAR accuracy claims of the flops_pruning grid (its FLOP claims need no run: claims.flops_pruning)."""
    coded = claims.by_id()
    return {c.id: claims.evaluate(coded[c.id], "cpu", results_dir)[0] for c in cifar.CLAIMS
            if c.grid == "flops_pruning"}


def test_flops_claims_from_stored_runs(tmp_path):
    v = verdicts(_store(tmp_path))
    assert v["cutout_raises_accuracy"] == rule.REPRODUCED  # +0.6 with a spread of 0.01
    assert v["mixup_raises_accuracy"] == rule.NOT_RESOLVED  # below the control, but the short schedule is the likely cause
    assert v["pruning_costs_accuracy"] == rule.REPRODUCED  # -0.3 on every seed, and above -5
    assert v["cutout_pruning_beats_control"] == rule.NOT_RESOLVED  # +0.5, +0.2, +0.6: t(2) interval contains 0
    assert v["control_accuracy"] == rule.REPRODUCED  # 91 ± 4.303 * 0.5 / sqrt(3) = [89.76, 92.24], inside 91.63 ± 3
    # named parts: cutout & pruning is above pruning on every seed (+0.8, +0.51, +0.89); each combination
    # is within 5 points of its regularizer alone (+0.4, -0.12, +0.42 and -0.1, -0.41, +0.01: intervals far
    # above -5); mixup & pruning - pruning (+0.2, -0.29, +0.19) is at noise level: partly reproduced
    _, parts = claims.evaluate(claims.by_id()["combination_beats_each_alone"], "cpu", tmp_path)
    by = {name.split(" (test accuracy")[0]: e.verdict for name, e in parts}
    assert by["cutout & pruning - pruning"] == rule.REPRODUCED
    assert by["mixup & pruning - mixup"] == by["cutout & pruning - cutout"] == rule.REPRODUCED
    assert by["mixup & pruning - pruning"] == rule.NOT_RESOLVED
    assert v["combination_beats_each_alone"] == rule.PARTLY


def test_nothing_stored_is_not_a_verdict(tmp_path):
    v = verdicts(tmp_path)
    # the trends over depth need depths the cpu profile never trains: they await a GPU, stored runs or not
    assert v.pop("regularization_depth_trends") == rule.AWAITS_GPU
    assert set(v.values()) == {UNMEASURED}


def test_one_seed_of_three_is_interim_not_a_verdict(tmp_path):
    """The cpu grid fixes 3 seeds: with only seed 0 stored the claim is not yet measured, its one-seed
    numbers shown as interim (one seed would resolve nothing anyway: no interval)."""
    results_dir = _store(tmp_path, seeds=(0,))
    assert verdicts(results_dir)["cutout_raises_accuracy"] == UNMEASURED
    _, [(_, e)] = claims.evaluate(claims.by_id()["cutout_raises_accuracy"], "cpu", results_dir)
    assert e.n == 1 and e.reason.startswith("interim, 1 of 3 seeds stored (judged when all are): one seed")


def test_the_scorecard_reads_claims_as_code(tmp_path):
    card = scorecard.gather(profile="cpu", results_dir=_store(tmp_path / "res"))
    row = card.set_index("claim").loc["Cutout raises accuracy over the control for every depth."]
    assert row["verdict"] == "reproduced" and "ResNet-20 only" in row["data"] and "interval" in row["ours"]
    assert "combination_beats_each_alone" in set(scorecard.load_claims()["claim_id"])
    assert set(claims.by_id()) <= set(scorecard.load_claims()["claim_id"])  # every coded claim is transcribed


def test_caveat_turns_only_a_contradiction_into_not_resolved():
    frame = pd.DataFrame({"seed": [0, 1, 2] * 2, "m": ["a"] * 3 + ["b"] * 3, "x": [1, 2, 3, 0, 1, 2.02]})
    part = Part("b - a", paired("m", "a", "b", "x"), "direction", side="higher", caveat="stated first")
    e = part.judge(frame)
    assert e.verdict == rule.NOT_RESOLVED and e.reason.endswith("stated first")
    plain = Part("b - a", paired("m", "a", "b", "x"), "direction", side="higher")
    assert plain.judge(frame).verdict == rule.NOT_REPRODUCED


def test_claim_rows_show_n_interval_tolerance_and_reason():
    frame = pd.DataFrame({"seed": [0, 1, 2], "m": ["a"] * 3, "x": [79.0, 80.0, 81.0]})
    c = Claim("x", "003", "Table 4", "text", "vc_bound_cifar", "scope",
              (Part("value", single("m", "a", "x"), "value", paper=79.0, tolerance=3.0),), frame=lambda r: frame)
    row = c.rows([]).iloc[0]
    assert row["verdict"] == rule.NOT_RESOLVED  # 80 ± 2.48 reaches below 76: straddles the band's edge
    assert row["n"] == 3 and row["paper"] == 79.0 and row["tolerance"] == 3.0 and row["low"] == pytest.approx(77.516, abs=1e-3)
