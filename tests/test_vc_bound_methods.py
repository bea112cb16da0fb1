"""Paper 003 (Sharma et al.): multiclass hinge, the VC-bound penalty, threshold pruning sweep,
fixed-point quantization, FNN / quicknet models. Small hand-computed cases, no data files."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from regprune import counting, experiment, models, pruning, quantize
from regprune.losses import LOSSES, PENALTIES, MulticlassHinge, VCBound
from regprune.models.fnn import fnn_params
from regprune.registry import ConfigError

# --------------------------------------------------------------------------- multiclass hinge


def test_hinge_matches_hand_computation_and_takes_soft_targets():
    out = torch.tensor([[1.5, 1.0, -1.0], [0.5, 0.2, 0.9]])
    y = torch.tensor([0, 2])
    # example 1 (y=0): max(0, 1-1.5+1)=0.5, max(0, 1-1.5-1)=0 -> 0.5
    # example 2 (y=2): max(0, 1-0.9+0.5)=0.6, max(0, 1-0.9+0.2)=0.3 -> 0.9; batch mean 0.7
    assert MulticlassHinge()(out, y).item() == pytest.approx(0.7)
    # margin 2: 1.5 + 0 and 1.6 + 1.3 -> mean 2.2
    assert LOSSES.build("multiclass_hinge", margin=2.0)(out, y).item() == pytest.approx(2.2)
    soft = torch.tensor([[0.8, 0.2, 0.0], [0.1, 0.3, 0.6]])  # argmax gives the same labels
    assert MulticlassHinge()(out, soft).item() == pytest.approx(0.7)
    assert MulticlassHinge().predict(out).tolist() == [0, 2]


def test_hinge_is_zero_beyond_the_margin_and_never_counts_the_true_class():
    out = torch.tensor([[5.0, 3.9, -2.0]])
    assert MulticlassHinge()(out, torch.tensor([0])).item() == 0.0
    assert MulticlassHinge(margin=0.0)(torch.zeros(1, 4), torch.tensor([1])).item() == 0.0


# --------------------------------------------------------------------------- VC-bound penalty

X = torch.tensor([[1.0, 1.0], [2.0, -1.0]])


def tiny_net(zero_last: bool = False) -> nn.Sequential:
    """Linear(2,2) -> ReLU -> Linear(2,1) with set weights.

    Layer 1 pre-activations on X: [[3.5, -1.5], [0.5, -3.5]] (squares sum to 27.0);
    outputs: [7.25, 1.25] (squares sum to 54.125). ||W||^2 = 19.25, sum |W| = 9.5 (no biases).
    """
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 2.0], [-1.0, 0.5]]))
        net[0].bias.copy_(torch.tensor([0.5, -1.0]))
        net[2].weight.copy_(torch.tensor([[0.0, 0.0]]) if zero_last else torch.tensor([[2.0, -3.0]]))
        net[2].bias.copy_(torch.tensor([0.0 if zero_last else 0.25]))
    return net


def penalty_on(net: nn.Module, **kw) -> torch.Tensor:
    p = VCBound(**kw)
    p.attach(net)
    net.train()
    net(X)
    return p(net)


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(D=0.1, layers="last"), 0.05 * 54.125 / 2),
        (dict(D=0.1, layers="all"), 0.05 * (27.0 + 54.125) / 2),
        (dict(D=0.1, layers="all", reduction="sum"), 0.05 * (27.0 + 54.125)),
        (dict(D=0.0, C=0.2, weight_term="l2"), 0.1 * 19.25),
        (dict(D=0.0, C=0.2, weight_term="l1"), 0.2 * 9.5),
        (dict(D=0.1, C=0.2, layers="last", weight_term="l2"), 0.05 * 54.125 / 2 + 0.1 * 19.25),
    ],
)
def test_vc_bound_matches_hand_computation(kw, expected):
    assert penalty_on(tiny_net(), **kw).item() == pytest.approx(expected)
    assert PENALTIES.build("vc_bound", **kw).D == kw["D"]


def test_last_sees_only_the_output_and_all_every_layer():
    # With the last layer zeroed the output is 0: "last" has nothing to penalize and no gradient
    # anywhere, while "all" penalizes layer 1 with gradient D * a1^T x / N on its weight.
    a1 = torch.tensor([[3.5, -1.5], [0.5, -3.5]])
    for layers, expected in (("last", torch.zeros(2, 2)), ("all", 0.1 * a1.T @ X / 2)):
        net = tiny_net(zero_last=True)
        value = penalty_on(net, D=0.1, layers=layers)
        value.backward()
        assert value.item() == pytest.approx(0.0 if layers == "last" else 0.05 * 27.0 / 2)
        assert torch.allclose(net[0].weight.grad, expected)


def test_hooks_store_only_in_training_with_grad_and_are_consumed():
    net = tiny_net()
    p = VCBound(D=1.0, layers="all")
    p.attach(net)
    net.eval()
    net(X)
    assert p._stored == []
    net.train()
    with torch.no_grad():
        net(X)
    assert p._stored == []
    for _ in range(3):  # forwards without a penalty call in between: only the latest one is kept
        net(X)
    assert len(p._stored) == 2
    copy.deepcopy(net)  # a model carrying the hooks still copies (stored tensors are not copied)
    p(net)
    assert p._stored == []
    assert p.data_term().item() == 0.0  # nothing left to consume
    p.attach(net)  # attaching again replaces the hooks instead of doubling them
    net(X)
    assert len(p._stored) == 2


def test_penalty_needs_attach_when_it_has_a_data_term():
    with pytest.raises(RuntimeError, match="attach"):
        VCBound(D=1.0)(tiny_net())
    assert VCBound(C=1.0, weight_term="l2")(tiny_net()).item() == pytest.approx(0.5 * 19.25)


# --------------------------------------------------------------------------- threshold sweep


def weight_nonzeros(model: nn.Module) -> int:
    """Nonzero conv/linear weights as regprune.counting sees them (effective tensors)."""
    return sum(int(torch.count_nonzero(t)) for name, t in counting.effective_parameters(model)
               if name.endswith("weight"))


def small_fnn() -> nn.Module:
    torch.manual_seed(0)
    return models.build("fnn2", num_classes=3, input_dim=20, hidden=8)


def test_threshold_sweep_prunes_every_layer_at_its_own_step_and_counts_like_counting():
    model = small_fnn()
    steps = 7
    thresholds = pruning.layer_thresholds(model, steps)
    for name, m in pruning.weight_layers(model).items():
        assert thresholds[name][0] == pytest.approx(1e-3)
        assert thresholds[name][-1] == pytest.approx(m.weight.abs().max().item())
    sweep = pruning.threshold_sweep(model, lambda m: {"val_acc": 1.0, "test_acc": 0.5}, steps)
    assert sweep["dense"]["nonzero"] == weight_nonzeros(model)
    assert [r["step"] for r in sweep["steps"]] == list(range(steps))
    for row in sweep["steps"]:
        pruned = pruning.prune_at_step(model, row["step"], steps)
        for name, m in pruning.weight_layers(pruned).items():
            w0 = pruning.weight_layers(model)[name].weight.detach()
            assert torch.equal(m.weight.detach() == 0, w0.abs() < row["thresholds"][name])
        assert row["nonzero_after"] == weight_nonzeros(pruned)
        assert row["compression"] == pytest.approx(weight_nonzeros(model) / weight_nonzeros(pruned))
    assert sweep["steps"][-1]["nonzero_after"] == 3  # only each layer's largest weight survives
    params = pruning.threshold_sweep(model, lambda m: {"val_acc": 1.0}, 3, count="params")
    for row in params["steps"]:
        after = counting.count_parameters(pruning.prune_at_step(model, row["step"], 3))["nonzero"]
        assert row["compression"] == pytest.approx(counting.count_parameters(model)["nonzero"] / after)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), small_fnn().state_dict().values()))


def test_threshold_sweep_defaults_and_argument_errors_by_hand():
    model = small_fnn()
    calls = []

    def evaluate_fn(m):
        calls.append(m)
        return {"val_acc": 1.0}

    assert len(pruning.threshold_sweep(model, evaluate_fn)["steps"]) == 50  # the paper's 50 steps for FNNs
    sweep = pruning.threshold_sweep(model, evaluate_fn, 4, min_threshold=0.05)
    assert all(r["thresholds"][name] == pytest.approx(0.05) for r in sweep["steps"][:1] for name in r["thresholds"])
    calls.clear()
    with pytest.raises(ConfigError) as err:
        pruning.threshold_sweep(model, evaluate_fn, 4, count="biases")
    assert str(err.value) == "count='biases' is not allowed; choose one of: 'weights', 'params'" and not calls
    with pytest.raises(ConfigError) as err:
        pruning.threshold_sweep(model, lambda m: {"acc": 1.0}, 4)
    assert str(err.value) == "evaluate_fn must return a mapping with at least 'val_acc'; got keys ['acc', 'nonzero']"
    for bad in (4, -1, True, 1.0):
        with pytest.raises(ConfigError) as err:
            pruning.prune_at_step(model, bad, 4)
        assert str(err.value) == f"step={bad!r} is not allowed; it must be an integer in [0, 3]"


def test_threshold_sweep_prunes_at_its_min_threshold_and_says_how_it_counted():
    model = small_fnn()
    w = torch.cat([m.weight.detach().abs().flatten() for m in pruning.weight_layers(model).values()])
    sweep = pruning.threshold_sweep(model, lambda m: {"val_acc": 1.0}, 4, min_threshold=0.05, count="params")
    assert (sweep["count"], sweep["min_threshold"]) == ("params", 0.05)
    first = pruning.threshold_sweep(model, lambda m: {"val_acc": 1.0}, 4, min_threshold=0.05)["steps"][0]
    assert first["nonzero_after"] == int((w >= 0.05).sum())  # step 0 prunes below min_threshold, by hand
    everything = pruning.threshold_sweep(model, lambda m: {"val_acc": 1.0}, 2, min_threshold=float(w.max()) + 1)
    assert [r["compression"] for r in everything["steps"]] == [math.inf, math.inf]  # all weights pruned


def test_split_evaluator_uses_its_loss_precision_and_batch_size():
    from regprune import data
    from regprune.losses import CrossEntropy
    from regprune.train import TrainConfig

    splits = data.load("synthetic-mnist", val_split=600, n_train=700, n_test=50)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).eval()
    seen = []
    model.register_forward_pre_hook(lambda m, inp: seen.append(len(inp[0])))
    x, y = splits.val.x.float(), splits.val.y
    hinge = MulticlassHinge()
    with torch.no_grad():  # the oracles: the loss and the autocast written out here, not through evaluate
        want_hinge = float(hinge(model(x), y))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out16 = model(x)
        want_bf16 = float(CrossEntropy()(out16, y).float())
    seen.clear()
    got = pruning.split_evaluator(splits, hinge, parts=("val",))(model)
    assert got["val_loss"] == pytest.approx(want_hinge, rel=1e-5) and seen == [500, 100]  # default batch 500
    seen.clear()
    got = pruning.split_evaluator(splits, parts=("val",), batch_size=600, cfg=TrainConfig(precision="bf16"))(model)
    assert got["val_loss"] == pytest.approx(want_bf16, rel=1e-6) and seen == [600]
    with pytest.raises(ConfigError) as err:
        pruning.split_evaluator(splits, parts=("train",))
    assert str(err.value) == "split_evaluator.parts='train' is not allowed; choose one of: 'val', 'test'"


def test_pick_step_takes_the_largest_step_within_tolerance():
    sweep = {"dense": {"val_acc": 0.900},
             "steps": [{"step": k, "val_acc": a} for k, a in enumerate([0.905, 0.897, 0.880, 0.8951, 0.70])]}
    assert pruning.pick_step(sweep, 0.5)["step"] == 3
    assert pruning.pick_step(sweep, 0.2)["step"] == 0
    assert pruning.pick_step(sweep, 2.0)["step"] == 3
    assert pruning.pick_step(sweep, 25.0)["step"] == 4
    sweep["dense"]["val_acc"] = 0.99
    assert pruning.pick_step(sweep, 0.1) is None


def test_pick_step_boundaries_default_and_messages_by_hand():
    sweep = {"dense": {"val_acc": 0.75}, "steps": [{"step": 0, "val_acc": 0.75}, {"step": 1, "val_acc": 0.5}]}
    assert pruning.pick_step(sweep, 25.0)["step"] == 1  # exactly at the floor 0.75 - 0.25 (exact in binary)
    assert pruning.pick_step(sweep, 0)["step"] == 0  # tolerance 0 is allowed: no loss at all
    near = {"dense": {"val_acc": 0.9}, "steps": [{"step": 0, "val_acc": 0.895}, {"step": 1, "val_acc": 0.885}]}
    assert pruning.pick_step(near)["step"] == 0 and pruning.pick_step(near, 2.0)["step"] == 1  # 1 point by default
    for bad, message in ((True, "tolerance_pp=True is not allowed; it must be a finite number >= 0"),
                         (-0.5, "tolerance_pp=-0.5 is not allowed; it must be a finite number >= 0")):
        with pytest.raises(ConfigError) as err:
            pruning.pick_step(sweep, bad)
        assert str(err.value) == message
    with pytest.raises(ConfigError) as err:
        pruning.pick_step(sweep, 1.0, metric="test_acc")
    assert str(err.value) == "metric='test_acc' is not allowed; choose one of: ['val_acc']"


def test_sweep_arguments_at_their_limits_by_hand():
    model = small_fnn()
    assert all(len(t) == 1 for t in pruning.layer_thresholds(model, 1).values())  # one step is allowed
    for kwargs, message in (
            (dict(steps=0), "steps=0 is not allowed; it must be an integer >= 1 (paper 003: 50 FNN, 100 CNN)"),
            (dict(steps=True), "steps=True is not allowed; it must be an integer >= 1 (paper 003: 50 FNN, 100 CNN)"),
            (dict(steps=3, min_threshold=True), "min_threshold=True is not allowed; it must be a finite number > 0")):
        with pytest.raises(ConfigError) as err:
            pruning.layer_thresholds(model, **kwargs)
        assert str(err.value) == message


def test_threshold_sweep_hook_defaults_are_the_papers_and_bad_flags_are_named():
    hook = pruning.ThresholdSweepHook()
    assert (hook.steps, hook.tolerance_pp, hook.quantize, hook.allow_frac_ge_total, hook.keep_grid) == (
        50, 1.0, True, False, False)
    assert (hook.totals, hook.fracs) == (list(range(16, 1, -1)), list(range(3, 16)))  # Sec. 5.3: 16..2, 3..15
    off = pruning.ThresholdSweepHook(quantize=False, allow_frac_ge_total=True, keep_grid=True)
    assert (off.quantize, off.allow_frac_ge_total, off.keep_grid) == (False, True, True)
    for flag in ("quantize", "allow_frac_ge_total", "keep_grid"):
        with pytest.raises(ConfigError) as err:
            pruning.ThresholdSweepHook(**{flag: "yes"})
        assert str(err.value) == f"threshold_sweep.{flag}='yes' is not allowed; choose one of: True, False"


# --------------------------------------------------------------------------- quantization


@pytest.mark.parametrize("total, frac", [(8, 3), (6, 5), (4, 3), (16, 12)])
def test_quantized_values_lie_on_the_grid_and_saturate(total, frac):
    x = torch.randn(5000, generator=torch.Generator().manual_seed(1)) * 2 ** (total - frac - 1)
    q = quantize.quantize_tensor(x, total, frac)
    k = q.double() * 2 ** frac
    assert torch.equal(k, k.round())
    lo, hi = -(2 ** (total - 1)), 2 ** (total - 1) - 1
    assert k.min() >= lo and k.max() <= hi and k.min() == lo and k.max() == hi  # both ends reached
    inside = (x * 2 ** frac >= lo) & (x * 2 ** frac <= hi)
    assert ((q - x)[inside].abs() <= 2.0 ** -(frac + 1) + 1e-7).all()
    z = quantize.quantize_tensor(x, total, frac, rounding="zero")
    assert (z.abs() <= x.abs()).all()


def test_quantize_tensor_rounding_and_clipping_by_hand():
    x = torch.tensor([0.0625, -0.0625, 0.2, 100.0, -100.0, 0.19])
    assert quantize.quantize_tensor(x, 6, 3).tolist() == [0.125, 0.0, 0.25, 3.875, -4.0, 0.25]
    assert quantize.quantize_tensor(x, 6, 3, rounding="zero").tolist() == [0.0, 0.0, 0.125, 3.875, -4.0, 0.125]


def test_quantize_model_quantizes_weights_and_biases_of_a_copy():
    model = small_fnn()
    before = copy.deepcopy(model.state_dict())
    q = quantize.quantize_model(model, 6, 4)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    for name, t in q.state_dict().items():
        k = t.double() * 16
        assert torch.equal(k, k.round()) and k.abs().max() <= 32, name


def test_quantization_sweep_measures_test_on_chosen_rows_only_with_the_same_result():
    """With ``test_fn`` the grid is chosen on validation and only the chosen rows meet the test
    split: the rows must be exactly those of one evaluator measuring both splits."""
    from regprune import data
    from regprune.pruning import split_evaluator

    splits = data.load("synthetic-mnist", val_split=64, n_train=128, n_test=96)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10)).eval()
    calls = {"test": 0}
    on_test = split_evaluator(splits, parts=("test",))

    def counted_test(q):
        calls["test"] += 1
        return on_test(q)

    # 16 and 12 bits hold every weight of this net at the chosen fraction widths: the same quantized
    # net, measured on test once
    totals, fracs = [16, 12, 8, 5, 4, 2], range(1, 8)
    both = quantize.quantization_sweep(model, split_evaluator(splits), totals, fracs)
    split = quantize.quantization_sweep(model, split_evaluator(splits, parts=("val",)), totals, fracs,
                                        test_fn=counted_test)
    nets = {tuple(torch.cat([p.detach().flatten() for p in quantize.quantize_model(model, t, f).parameters()]).tolist())
            for t, f in zip(both["total_bits"], both["frac_bits"])}
    assert len(both) == 6 and calls["test"] == len(nets) < 6
    assert split.to_dict("records") == both[list(split.columns)].to_dict("records")
    assert set(split.columns) == set(both.columns)
    assert set(split_evaluator(splits, parts=("test",))(model)) == {"test_acc", "test_loss"}
    with pytest.raises(ConfigError, match="split_evaluator.parts"):
        split_evaluator(splits, parts=("train",))


def test_quantization_sweep_never_picks_frac_bits_at_or_above_total():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.4, 0.4)
    ref = [p.detach().clone() for p in model.parameters()]

    def evaluate_fn(q):  # fewer rounding errors score higher, so the largest allowed fraction wins
        err = sum((a - b).abs().sum() for a, b in zip(q.parameters(), ref)).item()
        return {"val_acc": 1 - err / 1e4, "test_acc": 0.5, "loss": err}

    best = quantize.quantization_sweep(model, evaluate_fn, totals=range(16, 1, -1), fracs=range(3, 16))
    assert (best["frac_bits"] < best["total_bits"]).all()
    assert best["total_bits"].tolist() == list(range(16, 3, -1))  # totals 3 and 2 have no valid fraction width
    assert best["frac_bits"].tolist() == [min(t - 1, 15) for t in range(16, 3, -1)]
    assert list(best.columns[:6]) == ["total_bits", "frac_bits", "val_acc", "test_acc", "margin", "loss"]
    w2 = sum(float(m.weight.detach().double().pow(2).sum()) for m in quantize.quantize_model(model, 16, 15).modules()
             if isinstance(m, nn.Linear))
    assert best["margin"].iloc[0] == pytest.approx(2 / w2)
    grid = quantize.quantization_grid(model, evaluate_fn, [4], [3, 4, 5], allow_frac_ge_total=True)
    assert grid["frac_bits"].tolist() == [3, 4, 5]


@pytest.mark.parametrize("kwargs, message", [
    (dict(totals=[33]), "totals=33 is not allowed; it must be an integer >= 2 and <= 32"),
    (dict(totals=[1]), "totals=1 is not allowed; it must be an integer >= 2 and <= 32"),
    (dict(fracs=[63]), "fracs=63 is not allowed; it must be an integer >= 0 and <= 62"),
    (dict(fracs=[-1]), "fracs=-1 is not allowed; it must be an integer >= 0 and <= 62"),
    (dict(rounding="up"), "rounding='up' is not allowed; choose one of: 'nearest', 'zero'"),
    (dict(margin_of="first"), "margin_of='first' is not allowed; choose one of: 'all', 'last'"),
    (dict(allow_frac_ge_total="yes"), "allow_frac_ge_total='yes' is not allowed; choose one of: True, False"),
])
def test_quantization_grid_names_each_bad_argument_and_what_is_allowed(kwargs, message):
    args = dict(totals=[8], fracs=[3]) | kwargs
    with pytest.raises(ConfigError) as err:
        quantize.quantization_grid(nn.Linear(2, 2), lambda m: {"val_acc": 1.0}, **args)
    assert str(err.value) == message


def test_quantization_grid_accepts_the_ends_of_each_range():
    grid = quantize.quantization_grid(nn.Linear(2, 2), lambda m: {"val_acc": 1.0}, [2, 32], [0, 62],
                                      allow_frac_ge_total=True)
    assert list(zip(grid["total_bits"], grid["frac_bits"])) == [(2, 0), (2, 62), (32, 0), (32, 62)]


def test_an_evaluator_without_val_acc_is_named():
    with pytest.raises(ConfigError) as err:
        quantize.quantization_grid(nn.Linear(2, 2), lambda m: {"acc": 1.0}, [8], [3])
    assert str(err.value) == "evaluate_fn must return a mapping with at least 'val_acc'; got {'acc': 1.0}"


def test_quantization_grid_skips_only_the_formats_it_must_in_any_order():
    grid = quantize.quantization_grid(nn.Linear(2, 2), lambda m: {"val_acc": 1.0}, [4], [6, 2, 5, 3])
    assert grid["frac_bits"].tolist() == [2, 3]  # 6 and 5 are at or past the total: skipped, not a stop


def test_quantization_grid_uses_its_rounding_margin_and_columns():
    model = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1))
    with torch.no_grad():  # by hand, at 1 fraction bit: 0.3 -> 0.5 (nearest) or 0.0 (zero); 1.2 -> 1.0 either way
        for layer, w in ((model[0], 0.3), (model[1], 1.2)):
            layer.weight.fill_(w)
            layer.bias.zero_()

    def evaluate_fn(q):
        return {"val_acc": float(q[0].weight.detach()), "test_acc": 0.5, "loss": 0.25, "extra": 1.0}

    for rounding, first in (("nearest", 0.5), ("zero", 0.0)):
        grid = quantize.quantization_grid(model, evaluate_fn, [8], [1], rounding=rounding, margin_of="last")
        assert list(grid.columns) == ["total_bits", "frac_bits", "val_acc", "test_acc", "margin", "loss", "extra"]
        assert grid["val_acc"].tolist() == [first]
        assert grid["margin"].tolist() == [2 / 1.0 ** 2]  # the last layer's 1.0 only; "all" would add first**2
        best = quantize.quantization_sweep(model, lambda q: {"val_acc": 1.0}, [8], [1], rounding=rounding,
                                           test_fn=lambda q: {"test_w": float(q[0].weight.detach())})
        assert best["test_w"].tolist() == [first]  # the chosen row is tested with the grid's rounding
    best = quantize.quantization_sweep(model, lambda q: {"val_acc": 1.0}, [8, 2], [1],
                                       test_fn=lambda q: {"test_w": float(q[1].weight.detach())})
    assert best["test_w"].tolist() == [1.0, 0.5]  # each chosen row tested on its own weights: 2 bits saturate


@pytest.mark.parametrize("total, frac, message", [
    (33, 3, "total_bits=33 is not allowed; it must be an integer >= 2 and <= 32"),
    (8, 63, "frac_bits=63 is not allowed; it must be an integer >= 0 and <= 62"),
    (True, 0, "total_bits=True is not allowed; it must be an integer >= 2 and <= 32"),
    (8, 2.0, "frac_bits=2.0 is not allowed; it must be an integer >= 0 and <= 62"),
])
def test_quantize_tensor_names_a_bad_format_and_its_range(total, frac, message):
    with pytest.raises(ConfigError) as err:
        quantize.quantize_tensor(torch.zeros(2), total, frac)
    assert str(err.value) == message
    with pytest.raises(ConfigError) as err:
        quantize.quantize_tensor(torch.zeros(2), 8, 3, rounding="up")
    assert str(err.value) == "rounding='up' is not allowed; choose one of: 'nearest', 'zero'"
    widest = quantize.quantize_tensor(torch.tensor([1.0], dtype=torch.float64), 32, 62)
    assert widest.tolist() == [(2 ** 31 - 1) / 2 ** 62]  # allowed, and saturates at its largest value


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_fnn_parameter_counts(depth):
    m = models.build(f"fnn{depth}", num_classes=2, input_dim=123)
    widths = [123] + [50] * depth + [2]
    expected = sum(a * b + b for a, b in zip(widths, widths[1:]))
    assert sum(p.numel() for p in m.parameters()) == expected == fnn_params(123, 2, 50, depth)
    assert [n for n, _ in m.named_children()] == ["features", "classifier"]
    assert len([x for x in m.modules() if isinstance(x, nn.ReLU)]) == depth
    assert m(torch.zeros(4, 123)).shape == (4, 2)


def test_fnn_defaults_and_quicknet_count():
    assert sum(p.numel() for p in models.build("fnn1").parameters()) == 780 * 50 + 50 + 50 * 10 + 10
    quick = models.build("quicknet")
    assert sum(p.numel() for p in quick.parameters()) == 145_578
    assert quick.features(torch.zeros(2, 3, 32, 32)).shape == (2, 64 * 4 * 4)
    assert quick.classifier.ip1.weight.std().item() == pytest.approx(0.1, rel=0.05)
    assert quick.features.conv1.weight.std().item() == pytest.approx(1e-4, rel=0.1)
    assert not any(isinstance(x, nn.ReLU) for x in quick.classifier)  # ip1 -> ip2 directly, as in Caffe


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    "make, param",
    [
        (lambda: MulticlassHinge(margin=-1), "margin"),
        (lambda: VCBound(D=-1e-3), "vc_bound.D"),
        (lambda: VCBound(C=float("nan"), weight_term="l2"), "vc_bound.C"),
        (lambda: VCBound(layers="first"), "vc_bound.layers"),
        (lambda: VCBound(weight_term="l3"), "vc_bound.weight_term"),
        (lambda: VCBound(C=1e-3), "vc_bound.C"),  # C with no weight term
        (lambda: VCBound(reduction="max"), "vc_bound.reduction"),
        (lambda: quantize.quantize_tensor(torch.zeros(2), 1, 0), "total_bits"),
        (lambda: quantize.quantize_tensor(torch.zeros(2), 8, -1), "frac_bits"),
        (lambda: quantize.quantize_tensor(torch.zeros(2), 8, 3, rounding="up"), "rounding"),
        (lambda: quantize.quantization_sweep(nn.Linear(2, 2), lambda m: {"val_acc": 1.0}, [8], [3], margin_of="x"),
         "margin_of"),
        (lambda: pruning.threshold_sweep(nn.Linear(2, 2), lambda m: {"val_acc": 1.0}, 0), "steps"),
        (lambda: pruning.layer_thresholds(nn.Linear(2, 2), 5, min_threshold=0.0), "min_threshold"),
        (lambda: pruning.pick_step({"dense": {"val_acc": 1.0}, "steps": []}, -1.0), "tolerance_pp"),
        (lambda: models.build("fnn2", hidden=0), "hidden"),
        (lambda: models.build("quicknet", caffe_init="yes"), "caffe_init"),
    ],
)
def test_bad_values_name_the_parameter(make, param):
    with pytest.raises(ConfigError, match=param):
        make()


def test_bad_penalty_in_a_run_config_fails_before_training():
    config = {"chapter": "tests", "profile": "smoke", "data": {"name": "synthetic-mnist"}, "model": "fnn1",
              "penalties": [{"name": "vc_bound", "D": 1e-4, "layers": "middle"}]}
    with pytest.raises(ConfigError, match="vc_bound.layers"):
        experiment.validate(config)


# --------------------------------------------------------------------------- end to end


def write_connect4(root, n: int = 160) -> None:
    """A tiny file in LIBSVM's connect-4 format (126 features, labels -1/0/1), random content."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n):
        cols = np.sort(rng.choice(126, size=20, replace=False)) + 1
        lines.append(f"{(-1, 0, 1)[i % 3]} " + " ".join(f"{c}:1" for c in cols))
    path = root / "libsvm" / "connect-4" / "connect-4"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")


def test_hinge_and_vc_bound_run_config_trains_one_epoch(tmp_path):
    write_connect4(tmp_path)
    config = {
        "chapter": "tests", "profile": "smoke", "seed": 0,
        "data": {"name": "connect-4", "test_from_train": 0.2, "val_split": 0.2},
        "model": {"name": "fnn2"},
        "loss": {"name": "multiclass_hinge"},
        "penalties": [{"name": "vc_bound", "D": 1e-4, "C": 1e-4, "layers": "all", "weight_term": "l2"}],
        "train": {"epochs": 1, "batch_size": 16, "lr": 0.01},
    }
    run = experiment.execute(config, device="cpu", data_root=tmp_path)
    assert run["status"] == "completed"
    assert run["counts"]["params"] == fnn_params(126, 3, 50, 2)
    assert math.isfinite(run["history"][0]["train_loss"])
