"""Paper 001's MNIST claims as code, on fake records whose per-seed numbers are chosen here; every
expected verdict is worked out by hand from them (Student-t, 2 degrees of freedom: 4.303)."""

from __future__ import annotations

from regprune.chapters.weight_compander import METHODS
from regprune.claims import rule
from regprune.scorecard import UNMEASURED
from regprune.claims import weight_compander as W

LAYERS = {"lenet300": ("classifier.fc1", "classifier.fc2", "classifier.fc3"),
          "lenet5": ("features.conv1", "features.conv2", "classifier.fc1", "classifier.fc2")}
# test error (%) per model, method and seed
PLAIN = {"lenet300": [2.0, 2.2, 1.8], "lenet5": [1.0, 0.9, 1.1]}
DIFF = {  # method - plain (pp) per seed
    "lenet300": {"none": [0, 0, 0], "wc": [-0.3, -0.32, -0.28], "wc_fine": [-0.4, -0.1, -0.3],
                 "wc_coarse": [-0.3, -0.3, -0.3], "pp": [-0.5, -0.52, -0.48], "wn": [-0.1, -0.12, -0.08]},
    "lenet5": {"none": [0, 0, 0], "wc": [-0.2, 0.3, -0.1], "wc_fine": [0, 0, 0], "pp": [-0.5, -0.5, -0.55],
               "wn": [0.5, 0.5, 0.52]},
}


def _history(model, method, seed):
    """Two epochs. Plain: the largest |w| grows to 0.8; the compander keeps it at 0.3 (+0.01 x seed).
    Near-zero share: plain 10% in every layer; the compander 40% in the first layer (more, not fewer),
    5% in the second, and the others at noise level."""
    wc = method == "wc"
    out = []
    for epoch in (1, 2):
        row = {"epoch": epoch, "train_acc": 0.99}
        for i, layer in enumerate(LAYERS[model]):
            top = (0.3 + 0.01 * seed) if wc else (0.4 * epoch + 0.01 * seed)
            near = 0.10
            if wc:
                near = [0.40, 0.05 + 0.001 * seed][i] if i < 2 else 0.10 + [0.01, -0.02, 0.005][seed]
            row.update({f"w.{layer}.p100": top, f"w.{layer}.p0": -top / 2, f"w.{layer}.near0.01": near})
        out.append(row)
    return out


def _record(model, method, seed, test_error, a=1.0, b=0.5, val_acc=0.98, lr=None):
    spec = METHODS[method]
    config = {"chapter": "weight_compander", "profile": "cpu", "seed": seed, "model": {"name": model},
              "data": {"name": "mnist", "val_split": 5000, "split_seed": 0}, "hooks": [],
              "train": {} if lr is None else {"lr": lr}}
    if spec is not None:
        config["reparam"] = {**spec, **({"a": a, "b": b} if method == "wc" else {})}
    return {"key": f"{model}-{method}-{seed}-{a}-{b}" + ("" if lr is None else f"-lr{lr}"), "config": config,
            "status": "completed",
            "metrics": {"val_acc": val_acc, "test_acc": 1 - test_error / 100},
            "history": _history(model, method, seed), "counts": {"params": 1000}}


def records(search_run: bool = True):
    out = [_record(m, method, s, PLAIN[m][s] + d[s]) for m, diffs in DIFF.items() for method, d in diffs.items()
           for s in range(3)]
    if search_run:  # the search's losing a, b on seed 0 (lower validation accuracy): must be left out
        out.append(_record("lenet300", "wc", 0, 5.0, a=0.5, b=0.5, val_acc=0.90))
    return out


def test_a_collapsed_run_is_counted_apart():
    """LeNet-5's Powerprop seed 2 at 89% test error (11% accuracy: one class) is left out: WC - PP on
    seeds 0 and 1 is +0.3, +0.8 (t(1) = 12.71: [-2.63, 3.73]), n = 2, and the reason counts it."""
    recs = [r for r in records() if r["key"] != "lenet5-pp-2-1.0-0.5"]
    recs.append(_record("lenet5", "pp", 2, 89.0))
    claim = {c.id: c for c in W.CLAIMS}["wc_beats_pp"]
    _, parts = claim.evaluate(recs)
    e = parts[2][1]  # LeNet-5 at the recipe's rate (parts: per network, recipe then equal budget)
    assert parts[2][0].startswith("LeNet-5: ") and e.n == 2 and abs(e.mean - 0.55) < 1e-9 and e.verdict == rule.NOT_RESOLVED
    assert "left out, 1 of 15 runs collapsed to one class (Powerprop (alpha 2) 1)" in e.reason
    assert "collapsed" not in parts[0][1].reason  # LeNet-300-100 lost none


def evaluate():
    recs = records()
    return {c.id: c.evaluate(recs) for c in W.CLAIMS}


def by_part(result):
    return {name: e.verdict if e is not None else UNMEASURED for name, e in result[1]}


def test_accuracy_claims():
    v = evaluate()
    # LeNet-300-100: -0.3 ± 4.303 * 0.02 / sqrt 3 = [-0.35, -0.25] < 0; LeNet-5: -0.2, +0.3, -0.1 contains 0
    # (no learning-rate trial is in these records: the equal-budget parts are not yet measured)
    tuned = " at equal tuning budget (rate chosen on validation)"
    assert by_part(v["wc_improves_accuracy"]) == {
        "LeNet-300-100: WC (arctan, a, b searched) - plain (test error, pp)": rule.REPRODUCED,
        f"LeNet-300-100: WC (arctan, a, b searched) - plain{tuned} (test error, pp)": UNMEASURED,
        "LeNet-5: WC (arctan, a, b searched) - plain (test error, pp)": rule.NOT_RESOLVED,
        f"LeNet-5: WC (arctan, a, b searched) - plain{tuned} (test error, pp)": UNMEASURED}
    assert v["wc_improves_accuracy"][0] == rule.PARTLY
    # WC - PP: +0.2 on LeNet-300-100 (every seed), +0.3, +0.8, +0.45 on LeNet-5 ([-0.12, 1.15]: noise)
    assert list(by_part(v["wc_beats_pp"]).values()) == [rule.NOT_REPRODUCED, UNMEASURED, rule.NOT_RESOLVED, UNMEASURED]
    assert v["wc_beats_pp"][0] == rule.NOT_REPRODUCED
    # WC - WN: -0.2 on LeNet-300-100 (every seed), -0.7, -0.2, -0.62 on LeNet-5 ([-1.17, 0.16]: noise)
    assert list(by_part(v["wc_beats_wn"]).values()) == [rule.REPRODUCED, UNMEASURED, rule.NOT_RESOLVED, UNMEASURED]
    # fine - coarse on LeNet-300-100 only: -0.1, +0.2, 0 contains 0
    assert v["wc_fine_beats_coarse"][0] == rule.NOT_RESOLVED and len(v["wc_fine_beats_coarse"][1]) == 1


def test_at_equal_tuning_budget_a_win_that_was_extra_tuning_is_not_reproduced():
    """Plain LeNet-300-100's nine rates on seed 0: 0.02 has the best validation accuracy (0.99 against the
    recipe's 0.98 and the others' 0.90), so seeds 1, 2 train at 0.02 too; there plain errs 1.6, 1.8, 1.4 %,
    0.4 below the recipe's rate. WC - tuned plain = +0.1, +0.08, +0.12 (mean 0.1, sd 0.02,
    t(2) 4.303: [0.05, 0.15]) > 0: the compander loses, where against the recipe's rate it won
    (-0.3: reproduced). The trials themselves are in neither comparison's rows."""
    others = [0.0025, 0.00354, 0.005, 0.00707, 0.01414, 0.02828, 0.04]  # the cpu grid's other trials
    recs = records() + [*(_record("lenet300", "none", 0, 9.0, val_acc=0.90, lr=lr) for lr in others),
                        *(_record("lenet300", "none", s, PLAIN["lenet300"][s] - 0.4, val_acc=0.99 if s == 0 else 0.5,
                                  lr=0.02) for s in range(3))]
    claim = {c.id: c for c in W.CLAIMS}["wc_improves_accuracy"]
    # with one trial missing, the choice could still change: that part is not judged yet
    _, partial = claim.evaluate([r for r in recs if r["config"]["train"].get("lr") != 0.04])
    assert partial[1][1] is None
    verdict, parts = claim.evaluate(recs)
    recipe, tuned = parts[0][1], parts[1][1]
    assert recipe.verdict == rule.REPRODUCED and recipe.n == 3 and abs(recipe.mean - (-0.3)) < 1e-9
    assert tuned.verdict == rule.NOT_REPRODUCED and tuned.n == 3 and abs(tuned.mean - 0.1) < 1e-9
    assert abs(tuned.low - (0.1 - 4.303 * 0.02 / 3 ** 0.5)) < 1e-3
    assert "equal tuning budget" in parts[1][0]
    frame = W.frame(recs)
    mine = frame[frame["model"] == "lenet300"]
    assert sorted(mine[mine["method"] == "none@lr"]["seed"]) == [0, 1, 2]
    assert sorted(mine[mine["method"] == "none"]["seed"]) == [0, 1, 2]  # the recipe's runs only


def test_the_search_runs_are_left_out():
    """Seed 0's losing a, b (5% test error) would turn the LeNet-300-100 win into noise if it were counted."""
    (name, e) = evaluate()["wc_improves_accuracy"][1][0]
    assert e.n == 3 and abs(e.mean - (-0.3)) < 1e-9


def test_bound_claim_judges_the_empirical_part_not_the_construction():
    """|w| < a pi/2 holds by construction and is said so; the judged part is the weights' largest
    magnitude against plain training's, over every layer and epoch: 0.3 + 0.01 s against 0.8 + 0.01 s."""
    claim = {c.id: c for c in W.CLAIMS}["wc_bounds_weights"]
    assert "by construction" in claim.scope.lower()
    verdict, parts = evaluate()["wc_bounds_weights"]
    assert verdict == rule.REPRODUCED
    assert all(abs(e.mean - (-0.5)) < 1e-9 for _, e in parts)  # over all epochs: plain's max is epoch 2's 0.8


def test_spread_claim_measures_every_layer_conv_included():
    """Issue 29: not the first layer alone. Plain keeps 10% near zero everywhere; the compander 40% in
    the first layer (more: not reproduced), 5% in the second (fewer: reproduced), the rest within noise
    (+1, -2, +0.5 pp: [-4.16, 3.83])."""
    verdict, parts = evaluate()["wc_fewer_near_zero"]
    names = [name for name, _ in parts]
    assert len(names) == 7 and all(any(f"({layer}:" in n for n in names) for m in LAYERS for layer in LAYERS[m])
    first = [e.verdict for name, e in parts if "classifier.fc1:" in name and name.startswith("LeNet-300")]
    assert first == [rule.NOT_REPRODUCED]
    verdicts = [e.verdict for _, e in parts]
    assert verdicts == [rule.NOT_REPRODUCED, rule.REPRODUCED, rule.NOT_RESOLVED,  # LeNet-300-100 fc1-3
                        rule.NOT_REPRODUCED, rule.REPRODUCED, rule.NOT_RESOLVED, rule.NOT_RESOLVED]  # LeNet-5
    assert verdict == rule.PARTLY
