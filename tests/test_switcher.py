"""The switcher network (paper 002): gates, parametrization, alternation, counting, grids."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from regprune import chapters, counting, experiment, models, reparam, switcher
from regprune.chapters import switcher_network as sn
from regprune.registry import ConfigError
from regprune.train import TrainConfig, fit

from conftest import smoke_config


@pytest.mark.parametrize("mode, shape", [("connection", (784, 300)), ("neuron", (784,))])
def test_gates_have_one_value_per_connection_or_input_neuron(mode, shape):
    snn = switcher.SwitcherNet(mode, rows=784, cols=300)
    g = snn(torch.randn(300, 784))
    assert g.shape == shape and (g >= 0).all()


@pytest.mark.parametrize("cols", [1, 3, 10, 500])
def test_odd_and_tiny_widths_work(cols):
    for mode in switcher.MODES:
        g = switcher.SwitcherNet(mode, rows=7, cols=cols, depth=3)(torch.randn(cols, 7))
        assert g.shape == ((7, cols) if mode == "connection" else (7,))


def _unet_by_the_book(snn: switcher.SwitcherNet, weight: torch.Tensor) -> torch.Tensor:
    """The SNN as the module docstring describes it, written with the plain operations (max-pool,
    concatenation, every convolution as a convolution): the oracle for the faster forward pass."""
    import torch.nn.functional as F
    x = weight.detach().t().float()
    x = (x / x.pow(2).mean().sqrt().clamp_min(1e-12))[None, None]
    conv = lambda m, t: F.conv2d(t, m.weight, m.bias, padding=m.padding)  # noqa: E731
    skips = []
    for block in snn.encoder:
        x = F.relu(conv(block[0], x))
        skips.append(x)
        x = F.max_pool2d(x, (1, 2), ceil_mode=True)
    x = conv(snn.fold, F.relu(conv(snn.bottleneck[0], x))) if snn.mode == "neuron" else F.relu(conv(snn.bottleneck[0], x))
    for k in reversed(range(len(snn.encoder))):
        if snn.mode == "connection":
            x = F.interpolate(x, size=(snn.rows, snn.widths[k]), mode="nearest")
        x = F.relu(conv(snn.decoder[k][0], torch.cat([x, conv(snn.skips[k], skips[k])], 1)))
    g = F.relu(conv(snn.head, x))[0, 0]
    return g if snn.mode == "connection" else g[:, 0]


@pytest.mark.parametrize("mode", switcher.MODES)
@pytest.mark.parametrize("rows, cols, depth", [(784, 300, 2), (30, 7, 2), (9, 10, 3), (5, 1, 2)])
def test_fast_snn_matches_the_plain_unet_in_values_and_gradients(mode, rows, cols, depth):
    """Row folds as matrix products, pooling as a pairwise max, the decoder's concatenation split
    into two convolutions (speed, issue 31): the gates and every SNN parameter's gradient agree
    with the literal U-net to float tolerance, odd widths and width 1 included."""
    torch.manual_seed(0)
    snn = switcher.SwitcherNet(mode, rows=rows, cols=cols, depth=depth)
    for p in snn.parameters():  # a trained-looking SNN: the zero head would hide every other layer
        p.data.normal_(0, 0.5)
    snn.head.weight.data.abs_()  # gates open, so the gradients reach every layer
    w = torch.randn(cols, rows)
    target = torch.randn(rows, cols) if mode == "connection" else torch.randn(rows)
    fast, slow = snn(w), _unet_by_the_book(snn, w)
    assert (slow > 0).all()
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-5)
    grads = []
    for g in (fast, slow):
        snn.zero_grad()
        (g * target).sum().backward()
        grads.append([p.grad.clone() for p in snn.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_snn_reads_the_weights_detached():
    w = torch.randn(10, 20, requires_grad=True)
    switcher.SwitcherNet("connection", 20, 10)(w).sum().backward()
    assert w.grad is None


def test_switched_weight_is_the_gated_weight_and_neuron_gates_scale_inputs():
    torch.manual_seed(0)
    layer = nn.Linear(20, 10)
    plain = nn.Linear(20, 10)
    plain.load_state_dict(layer.state_dict())
    model = nn.Sequential(layer)
    reparam.apply(model, {"name": "switcher", "mode": "neuron"})
    (_, sw), = switcher.switched_layers(model).values()
    g = sw.gates(layer.parametrizations.weight.original).detach()
    x = torch.randn(5, 20)
    torch.testing.assert_close(model(x), plain(x * g))


def test_switcher_keeps_the_network_count_and_bakes_to_identical_outputs():
    torch.manual_seed(0)
    model = models.build("lenet300")
    reparam.apply(model, {"name": "switcher", "mode": "connection"})
    assert len(switcher.switched_layers(model)) == 3 and switcher.snn_parameters(model)
    assert counting.count_parameters(model)["total"] == 266_610  # SNN parameters are not network parameters
    x = torch.randn(8, 1, 28, 28)
    with torch.no_grad():
        before = model(x)
    reparam.bake(model)
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    assert sum(p.numel() for p in model.parameters()) == 266_610
    torch.testing.assert_close(model(x), before)


def test_bad_switcher_settings_are_named():
    with pytest.raises(ConfigError, match="reparam.mode.*connection"):
        reparam.check({"name": "switcher", "mode": "rows"})
    with pytest.raises(ConfigError, match="reparam.channels"):
        reparam.check({"name": "switcher", "channels": 0})
    cfg = smoke_config(epochs=1)
    cfg["hooks"] = [{"name": "switcher_alternation"}]
    with pytest.raises(ConfigError, match="switcher"):
        experiment.execute(cfg, device="cpu")


def test_alternation_freezes_the_other_network():
    model = models.build("lenet5")
    reparam.apply(model, {"name": "switcher", "mode": "neuron"})
    snn = {id(p) for p in switcher.snn_parameters(model)}
    hook = switcher.Alternation()
    for epoch, snn_trains in ((0, True), (1, False), (2, True)):
        hook.on_epoch_start(SimpleNamespace(model=model, epoch=epoch))
        for p in model.parameters():
            assert p.requires_grad == ((id(p) in snn) == snn_trains)


def _switcher_config(mode, epochs):
    cfg = smoke_config(epochs=epochs, schedule="plateau", patience=0, lr=0.1, momentum=0.9, weight_decay=0.0)
    cfg.update(reparam={"name": "switcher", "mode": mode}, hooks=[{"name": "switcher_alternation"}])
    return cfg


def test_first_epoch_trains_only_the_switcher():
    cfg = _switcher_config("connection", 1)
    model = experiment.build_model(cfg)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    record = experiment.execute(cfg, device="cpu")
    assert record["history"][0]["phase"] == "snn"
    # the run's counts: FC weights are the gated ones, nonzero where a gate is positive
    assert record["counts"]["fc_params"] == 266_610
    assert record["counts"]["fc_nonzero"] <= record["counts"]["fc_params"]
    gates = record["extras"]["switcher_gates"]
    assert set(gates) == {"classifier.fc1", "classifier.fc2", "classifier.fc3"}
    for c in gates.values():
        assert c["zero"] + c["below1"] + c["above1"] <= c["gates"] and sum(c["hist_positive"]) == c["gates"] - c["zero"]
    # the task network did not move: rebuild with the same seed and run one epoch by hand
    splits = experiment.load_data(cfg)
    model.load_state_dict(before)
    result = fit(model, splits, TrainConfig.from_dict(cfg["train"]), hooks=[switcher.Alternation()], progress="none")
    after = result.model.state_dict()
    snn_keys = [k for k in after if ".snn." in k]
    tnn_keys = [k for k in after if k not in snn_keys]
    assert snn_keys and tnn_keys
    assert all(torch.equal(after[k], before[k]) for k in tnn_keys)
    assert any(not torch.equal(after[k], before[k]) for k in snn_keys)


def test_alternating_run_resumes_to_the_same_numbers(tmp_path):
    cfg = _switcher_config("neuron", 3)
    full = experiment.execute(cfg, device="cpu")
    ckpt = tmp_path / "ckpt.pt"
    experiment.execute(cfg, device="cpu", checkpoint=ckpt, fingerprint="k", stop_after_epoch=2)
    resumed = experiment.execute(cfg, device="cpu", checkpoint=ckpt, fingerprint="k")
    drop = lambda h: [{k: v for k, v in r.items() if k != "time"} for r in h]  # noqa: E731
    assert drop(resumed["history"]) == drop(full["history"])
    assert [r["phase"] for r in full["history"]] == ["snn", "tnn", "snn"]
    assert resumed["metrics"]["test_acc"] == full["metrics"]["test_acc"]


def test_plateau_schedule_follows_validation_loss():
    cfg = TrainConfig(schedule="plateau", patience=1, gamma=0.1, epochs=8)
    history = [{"val_loss": v} for v in (1.0, 0.5, 0.6, 0.7, 0.4, 0.4, 0.4)]
    factors = [cfg.lr_factor(e, history) for e in range(8)]
    assert factors == pytest.approx([1, 1, 1, 1, 0.1, 0.1, 0.1, 0.01])
    with pytest.raises(ConfigError, match="patience"):
        TrainConfig(schedule="plateau", patience=-1)


def test_fc_counts_in_the_run_summary():
    counts = counting.summary(models.build("lenet5"), (1, 28, 28))
    assert counts["fc_params"] == 800 * 500 + 500 + 500 * 10 + 10 == counts["fc_nonzero"]
    assert counts["params"] == 431_080


def test_switcher_grids():
    cpu = chapters.configs("switcher_network", "cpu")
    cells = [sn.describe(c) for c in cpu]
    assert len(cpu) == 52 and {d["method"] for d in cells} == set(sn.METHODS)  # 30 main, 20 fair, 2 ablations
    for c, d in zip(cpu, cells):
        experiment.validate(c)
        t = c["train"]
        lr = 0.01 if c["model"]["name"] == "lenet5" else 0.1  # LeNet-5-Caffe diverges at the paper's 0.1
        if d["variant"].startswith("lr="):  # the fair baseline's other trial rate
            lr = 0.11 - lr
        assert (t["optimizer"], t["lr"], t["batch_size"], t["schedule"]) == ("sgd", pytest.approx(lr), 64, "plateau")
        assert t["epochs"] == (5 if d["variant"] == "equal_updates" else 10)
        assert (c.get("reparam") is None) == (c["hooks"] == [])
    assert sorted({c["seed"] for c in cpu}) == [0, 1, 2, 3, 4]
    # the fair baselines: dense only, per model 5 seeds at half the epochs and 5 at the other rate
    fair = sorted((d["model"], d["variant"]) for d in cells if d["variant"] not in ("main", "snn_lr=0.1", "tnn_first"))
    assert fair == sorted([(m, v) for m, v in [("lenet300", "equal_updates"), ("lenet300", "lr=0.01"),
                                                ("lenet5", "equal_updates"), ("lenet5", "lr=0.1")] for _ in range(5)])
    assert all(d["method"] == "dense" for d in cells if d["variant"] in ("equal_updates", "lr=0.01", "lr=0.1"))
    # every main SNN run learns its gates at SNN_LR; the one ablation at the paper's 0.1
    variants = [(d["variant"], sn.snn_lr(c)) for d, c in zip(cells, cpu) if d["method"] != "dense"]
    assert sorted(v for v, _ in variants).count("main") == 20
    assert all(lr == pytest.approx(sn.SNN_LR) for v, lr in variants if v == "main")
    assert [v for v, _ in variants if v != "main"] == ["snn_lr=0.1", "tnn_first"]
    assert chapters.configs("switcher_network_cifar", "cpu") == []
    paper = chapters.configs("switcher_network_cifar", "paper")
    assert len(paper) == (4 + 3) * 3 * 3
    assert {sn.describe(c)["model"] for c in paper} == {"resnet18", "resnet34", "vgg16", "mobilenet_v1"}
    for c in chapters.configs("switcher_network_cifar", "smoke"):
        experiment.validate(c)
