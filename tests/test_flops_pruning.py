"""Paper 004: mixup, cutout, soft filter pruning, compact extraction and the FLOP conventions."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from regprune import augment as A
from regprune import counting, experiment, models, pruning
from regprune import filter_pruning as fp
from regprune.registry import ConfigError
from regprune.callbacks import Hook

# Paper 004, Table 1 (MegaFLOPs, He et al. 2018's counting): control, and soft filter pruning at keep rate 0.9.
TABLE1_CONTROL = {20: 40.55, 32: 68.86, 44: 97.17, 56: 125.49, 110: 252.89}
TABLE1_PRUNED = {20: 34.37, 32: 58.58, 44: 82.78, 56: 106.99, 110: 215.92}
# Table 3 / Table 4: decrease in FLOPs (%), the same for every pruned model of a depth.
TABLE3_DECREASE = {20: 15.2, 32: 14.9, 44: 14.8, 56: 14.7, 110: 14.6}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _batch(n: int = 16, h: int = 32, w: int = 32):
    g = _gen(123)
    return torch.randn(n, 3, h, w, generator=g), torch.randint(0, 10, (n,), generator=g)


# --------------------------------------------------------------------------- mixup


def test_mixup_inputs_and_targets_share_lambda_and_permutation():
    x, y = _batch()
    t = A.Mixup(alpha=1.0, num_classes=10)
    g = _gen(7)
    mx, my = t(x, y, g)
    # recompute from the generator's draws, in the documented order: 2 Gamma(alpha) in float64, then randperm
    r = _gen(7)
    gam = torch._standard_gamma(torch.full((2,), 1.0, dtype=torch.float64), generator=r)
    lam = gam[0] / gam.sum()
    perm = torch.randperm(len(x), generator=r)
    lam32 = lam.float()
    onehot = F.one_hot(y, 10).float()
    assert torch.equal(mx, lam32 * x + (1 - lam32) * x[perm])
    assert torch.equal(my, lam32 * onehot + (1 - lam32) * onehot[perm])
    assert my.shape == (16, 10) and my.dtype == torch.float32
    assert torch.allclose(my.sum(1), torch.ones(16), atol=1e-6)
    assert not torch.equal(perm, torch.arange(16)) and 0 < float(lam) < 1
    # the generator advanced by exactly these draws
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=r))


def test_mixup_soft_targets_lambda_distribution_and_compose():
    x, y = _batch(8)
    soft = torch.softmax(torch.randn(8, 10), 1)
    _, my = A.Mixup(alpha=0.4)(x, soft, _gen(0))  # soft targets need no num_classes
    assert torch.allclose(my.sum(1), torch.ones(8), atol=1e-6)
    t = A.Mixup(alpha=0.2)
    lams = torch.stack([t.draw(4, _gen(s), x)[0] for s in range(400)])
    assert float(((lams < 0.1) | (lams > 0.9)).float().mean()) > 0.5  # Beta(0.2, 0.2): mass near 0 and 1
    assert abs(float(torch.stack([A.Mixup(1.0).draw(4, _gen(s), x)[0] for s in range(400)]).mean()) - 0.5) < 0.05
    both = A.build(["random_crop_flip", {"name": "mixup", "alpha": 1.0, "num_classes": 10}])
    g1, g2 = _gen(3), _gen(3)
    cx, cy = both(x, y, g1)
    ex, ey = A.Mixup(1.0, 10)(*A.RandomCropFlip()(x, y, g2), g2)
    assert torch.equal(cx, ex) and torch.equal(cy, ey)
    unbound = A.build(["random_crop_flip", "mixup"])
    A.bind_num_classes(unbound, 10)
    assert unbound.transforms[1].num_classes == 10


# --------------------------------------------------------------------------- cutout


def test_cutout_zeroes_one_clipped_square_per_image():
    n, size = 256, 6
    x = torch.randn(n, 3, 12, 14) + 10  # no natural zeros
    out, y2 = A.Cutout(size=size)(x, torch.arange(n), _gen(5))
    assert torch.equal(y2, torch.arange(n))
    r = _gen(5)
    cy = torch.randint(0, 12, (n, 1), generator=r)
    cx = torch.randint(0, 14, (n, 1), generator=r)
    hole = out == 0
    assert bool((hole == hole[:, :1]).all())  # the same pixels in every channel
    seen_full = seen_clipped = False
    for i in range(n):
        m = hole[i, 0]
        rows, cols = torch.nonzero(m.any(1)).flatten(), torch.nonzero(m.any(0)).flatten()
        r0, c0 = int(cy[i]) - size // 2, int(cx[i]) - size // 2
        exp_rows = list(range(max(r0, 0), min(r0 + size, 12)))
        exp_cols = list(range(max(c0, 0), min(c0 + size, 14)))
        assert rows.tolist() == exp_rows and cols.tolist() == exp_cols
        assert int(m.sum()) == len(exp_rows) * len(exp_cols)  # a full rectangle
        assert torch.equal(out[i][~hole[i]], x[i][~hole[i]])  # nothing else touched
        if len(exp_rows) == len(exp_cols) == size:
            seen_full = True
        else:
            seen_clipped = True
            assert int(m.sum()) < size * size
    assert seen_full and seen_clipped


def test_cutout_paper_size_and_odd_size():
    x = torch.ones(64, 3, 32, 32)
    out, _ = A.Cutout()(x, torch.zeros(64), _gen(1))
    zeros = (out[:, 0] == 0).flatten(1).sum(1)
    assert int(zeros.max()) == 16 * 16 and int(zeros.min()) >= 8 * 8  # centre anywhere: at least a quarter
    odd, _ = A.Cutout(size=5)(torch.ones(400, 1, 20, 20), torch.zeros(400), _gen(2))
    assert int((odd[:, 0] == 0).flatten(1).sum(1).max()) == 25


# --------------------------------------------------------------------------- soft filter pruning


def _nontrivial_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    g = _gen(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 1.5 + 0.5)
                m.weight.copy_(1 + 0.3 * torch.randn(m.num_features, generator=g))
                m.bias.copy_(0.5 * torch.randn(m.num_features, generator=g))
    return model


@pytest.mark.parametrize("keep", [0.9, 0.8, 0.7])
def test_zero_filters_zeroes_exactly_the_lowest_norms(keep):
    torch.manual_seed(0)
    model = models.build("resnet20")
    norms = {n: fp.filter_norms(m) for n, m in fp.select_layers(model).items()}
    assert len(norms) == 19 and "conv1" in norms  # SFP prunes every conv, stem included
    zeroed = fp.zero_filters(model, keep)
    for name, conv in fp.select_layers(model).items():
        n = conv.out_channels
        k = int(n * (1 - keep))  # SFP's own count (floor)
        assert k == fp.pruned_count(n, keep) and len(zeroed[name]) == k
        assert sorted(torch.argsort(norms[name])[:k].tolist()) == zeroed[name]
        assert torch.nonzero(fp.zero_filter_mask(conv)).flatten().tolist() == zeroed[name]
    assert {m.out_channels - fp.pruned_count(m.out_channels, 0.9) for m in fp.select_layers(model).values()} \
        == {15, 29, 58}
    blocks = fp.select_layers(model, "blocks")
    assert len(blocks) == 18 and "conv1" not in blocks


class _Recorder(Hook):
    """Before SFP at each epoch end: the norms it will see. After SFP: which filters are zero."""

    def __init__(self, when: str, log: list):
        self.when, self.log = when, log

    def on_epoch_end(self, state):
        layers = fp.select_layers(state.model)
        if self.when == "before":
            self.log.append({"norms": {n: fp.filter_norms(m) for n, m in layers.items()}})
        else:
            self.log[-1]["zero"] = {n: torch.nonzero(fp.zero_filter_mask(m)).flatten().tolist()
                                    for n, m in layers.items()}
        return {}


def test_sfp_hook_each_epoch_and_filters_regrow():
    from regprune import data
    from regprune.train import TrainConfig, fit

    torch.manual_seed(0)
    model = models.build("resnet20")
    splits = data.load("synthetic-cifar10", n_train=64, n_test=16, val_split=16)
    log: list = []
    sfp = fp.SoftFilterPruning(keep_rate=0.8)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, select="last", channels_last=False)
    result = fit(model, splits, cfg, hooks=[_Recorder("before", log), sfp, _Recorder("after", log)], progress="none")
    assert result.status == "completed" and len(log) == 3
    for epoch in log:
        for name, norms in epoch["norms"].items():
            k = fp.pruned_count(len(norms), 0.8)
            assert epoch["zero"][name] == sorted(torch.argsort(norms, stable=True)[:k].tolist())
    for e, (before, after) in enumerate(zip(log, log[1:]), start=1):
        recovered = sum(len(set(before["zero"][n]) - set(after["zero"][n])) for n in before["zero"])
        assert result.history[e]["sfp.recovered"] == recovered
        conv2 = [float(after["norms"][n][idx].gt(0).float().mean()) for n, idx in before["zero"].items()
                 if n.endswith("conv2")]
        assert sum(conv2) / len(conv2) > 0.8  # zeroed at one epoch end, (nearly all) regrown by the next
        # stem and conv1 filters zeroed at initialization never get a gradient (see SoftFilterPruning)
        assert all(before["zero"][n] == after["zero"][n] for n in before["zero"] if not n.endswith("conv2"))
    assert sum(row["sfp.recovered"] for row in result.history[1:]) > 0
    row = result.history[-1]
    assert row["sfp.zeroed"] == sum(fp.pruned_count(m.out_channels, 0.8) for m in fp.select_layers(model).values())
    assert 0 <= row["sfp.recovered"] <= row["sfp.zeroed"]
    assert "val_acc" in row
    assert sfp.state_dict()["last"] and fp.SoftFilterPruning().load_state_dict(sfp.state_dict()) is None


def _step(model, seed):
    x, y = _batch(8)
    F.cross_entropy(model(x + seed), y).backward()


def test_zeroed_filters_regrow_after_a_step():
    torch.manual_seed(0)
    model = models.build("resnet20")
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    layers = fp.select_layers(model)
    # pruned at initialization: a stem / conv1 filter feeds BN -> ReLU, whose output relu(beta) = relu(0)
    # passes no gradient, so without momentum it stays zero; conv2 filters (no ReLU before the residual
    # add) get a gradient unless their channel is dead after the add (e.g. an option-A zero-padded one)
    zeroed = fp.zero_filters(model, 0.9)
    _step(model, 0)
    opt.step()
    modules = dict(model.named_modules())
    for name, idx in zeroed.items():
        grew = (fp.filter_norms(layers[name])[idx] > 0).tolist()
        if not name.endswith("conv2"):
            assert not any(grew)
            continue
        shortcut = modules[name[: -len(".conv2")]].shortcut
        lo = getattr(shortcut, "pad", 0) // 2
        n = layers[name].out_channels
        padded = [i < lo or i >= n - lo for i in idx]  # channels the option-A shortcut fills with zeros
        assert grew == [not p for p in padded]
    # pruned during training (momentum buffers filled), as at every epoch end: all of them train on
    torch.manual_seed(0)
    model = models.build("resnet20")
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    layers = fp.select_layers(model)
    _step(model, 0)
    opt.step()
    opt.zero_grad()
    zeroed = fp.zero_filters(model, 0.9)
    _step(model, 1)
    opt.step()
    assert all(bool((fp.filter_norms(layers[n])[idx] > 0).all()) for n, idx in zeroed.items())


# --------------------------------------------------------------------------- compact extraction


@pytest.mark.parametrize("depth,keep", [(20, 0.9), (20, 0.7), (32, 0.8)])
def test_compact_model_equals_masked_model(depth, keep):
    torch.manual_seed(depth)
    model = _nontrivial_bn(models.build(f"resnet{depth}"), seed=depth)
    fp.zero_filters(model, keep)
    model.eval()
    compact = fp.compact_resnet(model).eval()
    x = torch.randn(6, 3, 32, 32, generator=_gen(1))
    with torch.no_grad():
        ref, out = model(x), compact(x)
        model64 = copy.deepcopy(model).double()
        ref64, out64 = model64(x.double()), fp.compact_resnet(model64).eval()(x.double())
    assert (ref - out).abs().max() <= 1e-5 * max(1.0, float(ref.abs().max()))
    assert (ref64 - out64).abs().max() < 1e-10  # the extraction is exact; float32 differs only by rounding
    params, dense = counting.count_parameters(compact)["total"], counting.count_parameters(model)["total"]
    assert params < dense
    kept = fp.kept_filters(model)
    rows = {r["layer"]: r for r in counting.layer_table(compact, (3, 32, 32))}
    assert rows["stem.conv.conv"]["out_shape"][1] == kept["conv1"]
    assert rows["layer1.0.conv2.conv"]["in_shape"][1] == kept["layer1.0.conv1"]
    # ignoring what a zeroed filter's batch norm adds would not match: the test is sensitive to it
    naive = fp.compact_resnet(model)
    for m in naive.modules():
        if isinstance(m, fp.CompactBlock) and m.out_const is not None:
            m.out_const.zero_()
    with torch.no_grad():
        assert (naive.eval()(x) - ref).abs().max() > 1e-3


@pytest.mark.parametrize("conv2_outputs", ["remove", "keep"])
def test_compact_modes_and_channels_last(conv2_outputs):
    torch.manual_seed(3)
    model = _nontrivial_bn(models.build("resnet20"), seed=3)
    fp.zero_filters(model, 0.8)
    model.eval()
    compact = fp.compact_resnet(model, conv2_outputs=conv2_outputs).eval()
    x = torch.randn(5, 3, 32, 32, generator=_gen(4))
    with torch.no_grad():
        ref = model(x)
        tol = 1e-5 * max(1.0, float(ref.abs().max()))
        assert (compact(x) - ref).abs().max() <= tol
        cl = compact.to(memory_format=torch.channels_last)  # the scatter takes another path there
        assert (cl(x.contiguous(memory_format=torch.channels_last)) - ref).abs().max() <= tol
    conv2 = {r["layer"]: r["out_shape"][1] for r in counting.layer_table(compact, (3, 32, 32))}["layer2.1.conv2.conv"]
    assert conv2 == (32 if conv2_outputs == "keep" else 32 - fp.pruned_count(32, 0.8))
    with pytest.raises(ConfigError, match="conv2_outputs"):
        fp.compact_resnet(model, conv2_outputs="drop")


def test_compact_from_mask_parametrization_and_train_mode_flag():
    torch.manual_seed(1)
    model = _nontrivial_bn(models.build("resnet20"))
    pruning.apply_masks(model, fp.filter_keep_masks(model, 0.8))  # hard pruning with WeightMask
    model.eval()
    compact = fp.compact_resnet(model)
    assert not compact.training
    x = torch.randn(4, 3, 32, 32, generator=_gen(2))
    with torch.no_grad():
        assert (model(x) - compact(x)).abs().max() <= 1e-5 * max(1.0, float(model(x).abs().max()))


def test_compact_needs_a_cifar_resnet():
    with pytest.raises(ConfigError, match="CIFAR ResNet"):
        fp.compact_resnet(models.build("lenet5"))


# --------------------------------------------------------------------------- FLOPs


@pytest.mark.parametrize("depth", sorted(TABLE1_CONTROL))
def test_table1_megaflops_exactly(depth):
    model = models.build(f"resnet{depth}")
    control = fp.sfp_paper_macs(model, 1.0)
    pruned = fp.sfp_paper_macs(model, 0.9)
    assert round(control / 1e6, 2) == TABLE1_CONTROL[depth]
    assert round(pruned / 1e6, 2) == TABLE1_PRUNED[depth]
    assert control == counting.count_macs(model, (3, 32, 32))["conv"]  # dense: the plain conv MACs
    assert round(100 * (1 - pruned / control), 1) == TABLE3_DECREASE[depth]


def test_resnet20_rule_arithmetic_and_compact_macs():
    r = 0.9
    per_conv = 16 * 16 * 9 * 32 * 32  # = 32*32*9*16*16 = 64*64*9*8*8 = 2,359,296
    half = per_conv // 2  # first conv of stages 2 and 3 (half the input channels)
    expected = (3 * 16 * 9 * 32 * 32 * r  # stem
                + per_conv * (4 * r ** 2 + 2 * r)  # stage 1: both convs of block 0 and every conv2 at r^2
                + 2 * (half * r + per_conv * (3 * r ** 2 + 2 * r)))  # stages 2, 3
    got = fp.sfp_paper_macs(models.build("resnet20"), r)
    assert math.isclose(got, expected, rel_tol=1e-12) and math.isclose(got, 34_371_993.6, rel_tol=1e-12)
    torch.manual_seed(0)
    both = fp.sfp_macs(models.build("resnet20"), r)
    assert both["paper_mflops"] == 34.37 and both["dense_conv"] == 40_550_400
    assert both["paper_conv"] < both["compact_conv"] < both["dense_conv"]  # whole filters: 15/16, 29/32, 58/64
    assert both["compact_params"] < both["dense_params"]
    assert set(both["kept_filters"].values()) == {15, 29, 58}


# --------------------------------------------------------------------------- bad values


def test_bad_parameter_values_name_the_parameter():
    for bad in (0, -1.0, "x", float("nan"), float("inf"), True):
        with pytest.raises(ConfigError, match="alpha"):
            A.Mixup(alpha=bad)
    with pytest.raises(ConfigError, match="num_classes"):
        A.Mixup(num_classes=0)
    with pytest.raises(ConfigError, match="num_classes"):
        A.Mixup()(*_batch(4))  # hard labels and no class count
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ConfigError, match="size"):
            A.Cutout(size=bad)
    with pytest.raises(ConfigError, match="N, C, H, W"):
        A.Cutout()(torch.zeros(4, 10), torch.zeros(4), _gen(0))
    for bad in (0, 1.5, -0.1, "a", None):
        with pytest.raises(ConfigError, match="keep_rate"):
            fp.SoftFilterPruning(keep_rate=bad)
        with pytest.raises(ConfigError, match="keep_rate"):
            fp.sfp_paper_macs(models.build("resnet20"), bad)
    with pytest.raises(ConfigError, match="layers"):
        fp.SoftFilterPruning(layers="everything")
    with pytest.raises(ConfigError, match="layers"):
        fp.select_layers(models.build("resnet20"), ["layer9.0.conv1"])
    with pytest.raises(ConfigError, match="layers"):
        fp.select_layers(models.build("lenet300"))
    with pytest.raises(ValueError, match="CIFAR ResNet"):
        fp.sfp_paper_macs(models.build("lenet5"), 0.9)


# --------------------------------------------------------------------------- end to end


def _config(transforms, hooks):
    return {
        "chapter": "tests", "profile": "smoke", "seed": 0,
        "data": {"name": "synthetic-cifar10", "n_train": 64, "n_test": 16, "val_split": 16},
        "model": {"name": "resnet20"},
        "transforms": transforms, "hooks": hooks,
        "train": {"epochs": 1, "batch_size": 32, "lr": 0.05, "weight_decay": 5e-4},
    }


@pytest.mark.parametrize("transforms", [["random_crop_flip", {"name": "mixup", "alpha": 1.0}],
                                        ["random_crop_flip", {"name": "cutout", "size": 16}]])
def test_run_config_with_regularization_and_sfp(transforms):
    run = experiment.execute(_config(transforms, [{"name": "soft_filter_pruning", "keep_rate": 0.9}]), device="cpu")
    assert run["status"] == "completed" and math.isfinite(run["history"][0]["train_loss"])
    assert run["history"][0]["sfp.zeroed"] == 1 * 7 + 3 * 6 + 6 * 6  # 7 convs of 16, 6 of 32, 6 of 64 filters
    # the kept (selected) model is the pruned one: its zero filters are what counting sees
    assert run["counts"]["nonzero_params"] < run["counts"]["params"]
    # the end of SFP: the selected network with its zero filters removed, same outputs
    compact = run["extras"]["sfp_compact"]
    assert compact["max_abs_diff"] < 1e-4
    assert compact["params"] < run["counts"]["params"] and compact["kept_filters"]["layer3.0.conv1"] == 58
    assert compact["paper_macs"] == pytest.approx(TABLE1_PRUNED[20] * 1e6, abs=5e3)
    assert compact["paper_macs"] < compact["macs"]
    with pytest.raises(ConfigError, match="keep_rate"):
        experiment.validate(_config(transforms, [{"name": "soft_filter_pruning", "keep_rate": 1.5}]))


# --------------------------------------------------------------------------- the chapter's grid
def test_flops_pruning_grid():
    from regprune import chapters
    from regprune.chapters import flops_pruning as ch

    cpu = chapters.configs("flops_pruning", "cpu")  # ResNet-20 x six methods x 3 seeds on the JPEG copy, 30 epochs
    assert len(cpu) == 18 and {c["model"]["name"] for c in cpu} == {"resnet20"}
    assert [c["seed"] for c in cpu[:7]] == [0] * 6 + [1]  # seed by seed: a grid cut short stays paired
    assert {c["data"]["name"] for c in cpu} == {"cifar10-jpeg"} and all(c["train"]["milestones"] == [15, 23] for c in cpu)
    paper = chapters.configs("flops_pruning", "paper")
    cells = [ch.describe(c) for c in paper]
    assert len(paper) == 5 * 6 * 3
    assert {(d["model"], d["method"]) for d in cells} == {(m, k) for m in ch.DEPTHS for k in ch.METHODS}
    for c, d in zip(paper, cells):
        experiment.validate(c)
        names = [t["name"] for t in c["transforms"]] + [h["name"] for h in c["hooks"]]
        assert names[0] == "random_crop_flip"  # every method on top of the standard augmentation
        assert ("soft_filter_pruning" in names) == d["method"].endswith("pruning")
        assert d["keep_rate"] == (0.9 if "soft_filter_pruning" in names else 1.0)
        t = c["train"]
        assert (t["epochs"], t["lr"], t["milestones"], c["data"]["name"]) == (200, 0.1, [100, 150], "cifar10")
    for c in chapters.configs("flops_pruning", "smoke"):
        experiment.validate(c)
