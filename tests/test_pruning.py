import copy

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from regprune import counting, data, experiment, losses, models, pruning, results
from regprune.registry import ConfigError
from regprune.train import TrainConfig, fit

from conftest import smoke_config


def lenet5():
    torch.manual_seed(0)
    return models.build("lenet5")


def test_threshold_is_theta_times_layer_std_by_kind():
    model = lenet5()
    t = pruning.std_thresholds(model, theta_conv=0.7, theta_fc=1.25)
    layers = pruning.weight_layers(model)
    assert set(t) == set(layers)
    for name, m in layers.items():
        theta = 1.25 if isinstance(m, nn.Linear) else 0.7
        assert t[name] == pytest.approx(theta * m.weight.detach().std().item())


def test_masks_zero_exactly_the_weights_below_threshold_per_layer():
    model = lenet5()
    before = {n: m.weight.detach().clone() for n, m in pruning.weight_layers(model).items()}
    t = pruning.std_thresholds(model, 0.9, 1.1)
    pruning.apply_masks(model, pruning.magnitude_masks(model, t))
    for name, m in pruning.weight_layers(model).items():
        assert parametrize.is_parametrized(m, "weight")
        w, w0 = m.weight.detach(), before[name]
        small = w0.abs() < t[name]
        assert small.any() and (~small).any()
        assert torch.all(w[small] == 0) and torch.equal(w[~small], w0[~small])
    nonzero = counting.count_parameters(model)["nonzero"]
    pruning.bake(model)
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    assert counting.count_parameters(model)["nonzero"] == nonzero


def _small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))


def test_weight_parameters_are_the_layer_weights_or_their_originals():
    model = _small_net()
    conv, linear = model[0], model[3]
    assert [id(p) for p in pruning.weight_parameters(model)] == [id(conv.weight), id(linear.weight)]
    names = [n for n, _ in pruning.non_weight_parameters(model)]
    assert names == ["0.bias", "1.weight", "1.bias", "3.bias"]  # by hand: everything but the two weights
    pruning.apply_masks(model, {"0": torch.ones(2, 1, 3, 3, dtype=torch.bool)})
    assert [id(p) for p in pruning.weight_parameters(model)] == [id(conv.parametrizations.weight.original),
                                                                 id(linear.weight)]
    assert [n for n, _ in pruning.non_weight_parameters(model)] == names


def test_a_layer_parametrized_on_its_bias_only_still_gives_its_plain_weight():
    model = _small_net()
    parametrize.register_parametrization(model[3], "bias", nn.Identity())
    assert [id(p) for p in pruning.weight_parameters(model)][1] == id(model[3].weight)


def test_a_mask_is_stored_in_its_weights_dtype_and_device():
    model = _small_net().double()
    pruning.apply_masks(model, {"3": torch.ones(3, 8, dtype=torch.bool)})
    assert model[3].parametrizations.weight[0].mask.dtype == torch.float64
    with torch.device("meta"):
        meta = nn.Linear(8, 3)
    pruning.apply_masks(nn.Sequential(meta), {"0": torch.ones(3, 8, dtype=torch.bool)})
    assert meta.parametrizations.weight[0].mask.device.type == "meta"


def test_adjust_pass_moves_only_non_weight_parameters():
    torch.manual_seed(0)
    model = models.build("resnet20")  # conv weights, batch-norm affine and a linear bias
    splits = data.load("synthetic-cifar10", n_train=96, n_test=32, val_split=32)
    t = pruning.std_thresholds(model, 0.8, 0.75)
    pruning.apply_masks(model, pruning.magnitude_masks(model, t))
    weights = {id(p) for p in pruning.weight_parameters(model)}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    effective = {n: m.weight.detach().clone() for n, m in pruning.weight_layers(model).items()}
    cfg = TrainConfig(epochs=1, batch_size=32, lr=0.1, select="last")
    pruning.adjust_non_weights(model, splits, losses.CrossEntropy(), cfg, samples=64)
    moved = {n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])}
    non_weight = {n for n, p in model.named_parameters() if id(p) not in weights}
    assert moved and moved <= non_weight
    assert any(".bn" in n for n in moved) and "linear.bias" in moved
    for name, m in pruning.weight_layers(model).items():
        assert torch.equal(m.weight.detach(), effective[name])  # pruned entries stay zero, others untouched
        assert m.parametrizations.weight.original.requires_grad  # frozen only for the pass


def test_sweep_settings_broadcast_and_reject():
    assert pruning.sweep_settings([0.5, 0.6], 1.25) == [(0.5, 1.25), (0.6, 1.25)]
    assert pruning.sweep_settings(0.0, [1, 2]) == [(0.0, 1.0), (0.0, 2.0)]
    with pytest.raises(ConfigError, match="differ in length"):
        pruning.sweep_settings([0.5], [1, 2])
    with pytest.raises(ConfigError, match=">= 0"):
        pruning.sweep_settings([-1.0], 1.0)


def test_snapshot_hook_from_config_sweeps_and_compresses(tmp_path):
    config = smoke_config(epochs=2, monitor_test=True)
    config["model"] = {"name": "lenet5"}
    config["hooks"] = [
        {"name": "snapshot_pruning", "theta_conv": [0.5, 1.0, 1.5], "theta_fc": 1.25, "adjust_samples": 128},
        {"name": "weight_histogram", "limit": 0.3, "bins": 30},
    ]
    record = results.run_or_load(config, results_dir=tmp_path)
    assert {"test_acc", "test_loss"} <= set(record["history"][0])
    sweep = record["extras"]["pruning"]["sweep"]
    assert [r["theta_conv"] for r in sweep] == [0.5, 1.0, 1.5] and all(r["theta_fc"] == 1.25 for r in sweep)
    nonzero = [r["nonzero_params"] for r in sweep]
    assert nonzero[0] > nonzero[1] > nonzero[2]
    assert all(r["compression"] == pytest.approx(431080 / r["nonzero_params"]) for r in sweep)
    assert sweep[0]["layers"]["classifier.fc1"]["kept"] == sweep[2]["layers"]["classifier.fc1"]["kept"]  # FC fixed
    hist = record["extras"]["weight_histogram"]
    assert len(hist["edges"]) == 31
    fc1 = hist["layers"]["classifier.fc1"]
    assert sum(fc1["counts"]) + fc1["below"] + fc1["above"] == 400_000


def test_bad_pruning_settings_fail_before_training():
    config = smoke_config()
    config["hooks"] = [{"name": "snapshot_pruning", "theta_conv": [0.5, 0.6], "theta_fc": [1.0]}]
    with pytest.raises(ConfigError, match="differ in length"):
        experiment.validate(config)
    config["hooks"] = [{"name": "snapshot_pruning", "adjust_optimizer": "lbfgs"}]
    with pytest.raises(ConfigError, match="adjust_optimizer"):
        experiment.validate(config)


def test_pruned_copy_keeps_the_channels_last_layout_of_a_one_channel_conv():
    # w * mask of a (20, 1, 5, 5) channels_last weight comes out in the default layout; the pruned
    # copy must keep the trained layout (channels_last strides of that shape: (25, 1, 5, 1)),
    # else its first conv and pool run on the slow path. Values are the masked weights exactly.
    net = models.build("lenet5").to(memory_format=torch.channels_last)
    assert net.features.conv1.weight.stride() == (25, 1, 5, 1)
    pruned = pruning.prune_at_step(net, 20, 50)
    for name, layer in pruned.named_modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            original = dict(net.named_modules())[name].weight
            assert layer.weight.stride() == original.stride(), name
            assert not parametrize.is_parametrized(layer)
    w = net.features.conv1.weight.detach()
    top = float(w.abs().max())
    threshold = 1e-3 + 20 * (top - 1e-3) / 49  # step 20 of 50 equal steps from 1e-3 to max|w|
    assert torch.equal(pruned.features.conv1.weight, torch.where(w.abs() >= threshold, w, torch.zeros_like(w)))


# ---- snapshot pruning against a pipeline written out by hand


def _fc_net_and_data(val=64, test=64):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
    splits = data.load("synthetic-mnist", val_split=val, n_train=128 + val, n_test=test)
    return model, splits


def _accuracy(model, ds):
    with torch.no_grad():
        return float((model(ds.x.float()).argmax(1) == ds.y).float().mean())


def test_snapshot_prune_without_a_pass_matches_masking_by_hand():
    model, splits = _fc_net_and_data()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    row = pruning.snapshot_prune(model, splits, losses.CrossEntropy(), 9.0, 0.5, TrainConfig(), adjust_samples=0)
    by_hand = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
    by_hand.load_state_dict(before)
    kept = {}
    with torch.no_grad():
        for name in ("1", "3"):  # both Linear: theta_fc = 0.5 applies, theta_conv = 9.0 does not
            w = by_hand[int(name)].weight
            threshold = 0.5 * float(w.std())
            w.mul_(w.abs() >= threshold)
            kept[name] = (threshold, int((w != 0).sum()), w.numel())
    assert {n: (v["kept"], v["size"]) for n, v in row["layers"].items()} == {n: k[1:] for n, k in kept.items()}
    assert [v["threshold"] for v in row["layers"].values()] == pytest.approx([k[0] for k in kept.values()])
    nonzero_w = kept["1"][1] + kept["3"][1]
    assert (row["theta_conv"], row["theta_fc"]) == (9.0, 0.5)
    assert (row["weights"], row["nonzero_weights"], row["macs_nonzero"]) == (784 * 16 + 16 * 10, nonzero_w, nonzero_w)
    assert (row["params"], row["nonzero_params"]) == (784 * 16 + 16 + 16 * 10 + 10, nonzero_w + 26)
    assert (row["val_acc"], row["test_acc"]) == (_accuracy(by_hand, splits.val), _accuracy(by_hand, splits.test))
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # the snapshot is untouched
    assert not parametrize.is_parametrized(model[1])


def test_snapshot_prune_adjusts_with_its_seed_loss_and_transforms():
    model, splits = _fc_net_and_data(val=512, test=512)
    cfg = TrainConfig(epochs=1, batch_size=16, lr=0.5, select="last")
    loss = losses.MulticlassHinge()

    def by_hand(seed, transforms=()):
        m = copy.deepcopy(model)
        pruning.apply_masks(m, pruning.magnitude_masks(m, {"1": 0.5 * float(m[1].weight.detach().std()),
                                                           "3": 0.5 * float(m[3].weight.detach().std())}))
        out = pruning.adjust_non_weights(m, splits, loss, cfg, samples=96, seed=seed, transforms=transforms)
        return out["val_acc"], out["test_acc"], {n: p.detach().clone() for n, p in m.named_parameters()}

    def row(**kw):
        r = pruning.snapshot_prune(model, splits, loss, 0.0, 0.5, cfg, adjust_samples=96, **kw)
        return r["val_acc"], r["test_acc"]

    zeros = lambda x, y, generator: (x, torch.zeros_like(y))  # noqa: E731  (every batch says "class 0")
    assert row(seed=3) == by_hand(3)[:2] and row() == by_hand(0)[:2]
    assert row(seed=3, transforms=[zeros]) == by_hand(3, [zeros])[:2]
    assert by_hand(0)[:2] != by_hand(3)[:2] != by_hand(3, [zeros])[:2]  # each input changes the result
    assert by_hand(0)[:2] != by_hand(1)[:2]  # so seed 0 by default is seen


def test_snapshot_hook_runs_each_setting_with_the_documented_adjustment():
    from regprune.callbacks import FitState

    model, splits = _fc_net_and_data(val=512, test=512)  # enough examples that each setting shows
    loss = losses.MulticlassHinge()
    shift = lambda x, y, generator: (x + 0.5, y)  # noqa: E731
    run_cfg = TrainConfig(eval_batch_size=50, precision="bf16")  # the pass runs at the run's precision
    state = FitState(model=model, optimizer=None, cfg=run_cfg, splits=splits, device=torch.device("cpu"), loss=loss,
                     transforms=[shift], seed=7, status="completed", metrics={"val_acc": 0.25, "test_acc": 0.5})
    hook = pruning.SnapshotPruning(theta_conv=0.0, theta_fc=[0.5, 1.0], adjust_samples=96, adjust_lr=0.5,
                                   adjust_batch_size=16)
    out = hook.on_fit_end(state)["pruning"]
    # the adjustment as the hook's docstring states it: one epoch of SGD, momentum 0.9, no decay, the last epoch
    adjust = TrainConfig(epochs=1, momentum=0.9, weight_decay=0.0, select="last", optimizer="sgd", lr=0.5,
                         batch_size=16, eval_batch_size=50, precision="bf16")
    dense = 784 * 16 + 16 + 16 * 10 + 10
    for k, tf in enumerate([0.5, 1.0]):
        want = pruning.snapshot_prune(model, splits, loss, 0.0, tf, adjust, adjust_samples=96, seed=7 + 1000 + k,
                                      transforms=[shift])
        want |= {"k": k, "compression": dense / want["nonzero_params"]}
        assert out["sweep"][k] == want
    assert out["dense"] == {"params": dense, "nonzero_params": dense, "val_acc": 0.25, "test_acc": 0.5}
    assert out["adjust"] == {"optimizer": "sgd", "lr": 0.5, "batch_size": 16, "samples": 96}
    state.status = "diverged"
    assert hook.on_fit_end(state) == {}


def test_one_sample_is_a_pass_and_the_hook_leaves_the_live_models_layout():
    from regprune.callbacks import FitState

    model, splits = _fc_net_and_data()
    bias = model[1].bias.detach().clone()
    out = pruning.adjust_non_weights(model, splits, losses.CrossEntropy(), TrainConfig(epochs=1, lr=0.5), samples=1)
    assert {"val_acc", "test_acc"} <= set(out) and not torch.equal(model[1].bias.detach(), bias)
    cfg = TrainConfig(epochs=1, batch_size=16, lr=0.5)

    def adjusted(loss, **kw):
        m = copy.deepcopy(model)
        pruning.adjust_non_weights(m, splits, loss, cfg, samples=48, **kw)
        return m[1].bias.detach()

    ce = adjusted(losses.CrossEntropy())
    assert torch.equal(ce, adjusted(losses.CrossEntropy(), seed=0))  # seed 0 by default, and the same pick each time
    assert not torch.equal(ce, adjusted(losses.CrossEntropy(), seed=1))
    assert not torch.equal(ce, adjusted(losses.MulticlassHinge()))  # the pass trains on the loss it is given
    assert pruning.adjust_non_weights(model, splits, losses.CrossEntropy(), cfg, samples=0) == {}  # 0: no pass
    by_hand = copy.deepcopy(model)  # the pass written out: weights frozen, a seeded pick, one fit with that seed
    for layer in (by_hand[1], by_hand[3]):
        layer.weight.requires_grad_(False)
    pick = torch.randperm(len(splits.train), generator=torch.Generator().manual_seed(3))[:48]
    part = data.Splits(splits.train.subset(pick), splits.val, splits.test, splits.info)
    want = fit(by_hand, part, cfg, seed=3, loss=losses.CrossEntropy(), progress="none").metrics
    m = copy.deepcopy(model)
    got = pruning.adjust_non_weights(m, splits, losses.CrossEntropy(), cfg, samples=48, seed=3)
    assert (got["val_acc"], got["test_acc"], got["val_loss"]) == (want["val_acc"], want["test_acc"], want["val_loss"])
    assert torch.equal(m[1].bias.detach(), by_hand[1].bias.detach()) and m[1].weight.requires_grad
    no_bias = nn.Sequential(nn.Flatten(), nn.Linear(784, 10, bias=False))  # nothing to adjust: no pass at all
    assert pruning.adjust_non_weights(no_bias, splits, losses.CrossEntropy(), TrainConfig(), samples=10) == {}
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3), nn.Flatten(), nn.Linear(4 * 24 * 24, 10))
    conv = conv.to(memory_format=torch.channels_last)
    state = FitState(model=conv, optimizer=None, cfg=TrainConfig(), splits=splits, device=torch.device("cpu"),
                     status="completed", metrics={"val_acc": 0.0, "test_acc": 0.0})
    pruning.SnapshotPruning(theta_conv=0.5, theta_fc=0.5, adjust_samples=0).on_fit_end(state)
    assert conv[1].weight.is_contiguous(memory_format=torch.channels_last)  # the snapshot was a copy


def test_snapshot_hook_defaults_and_messages():
    hook = pruning.SnapshotPruning()
    assert (hook.settings, hook.adjust_samples) == ([(0.0, 0.0)], 10000)  # no pruning unless asked
    assert hook.adjust == {"optimizer": "sgd", "lr": 0.01, "batch_size": 128}
    with pytest.raises(ConfigError) as err:
        pruning.SnapshotPruning(adjust_samples=-1)
    assert str(err.value) == "snapshot_pruning.adjust_samples must be >= 0; got -1"
    with pytest.raises(ConfigError) as err:
        pruning.SnapshotPruning(adjust_optimizer="lbfgs")
    assert str(err.value).startswith("snapshot_pruning.adjust_optimizer='lbfgs' is not allowed; choose one of: ")
