"""CIFAR ResNet-18/34/50, VGG-11..19 (+BN) and Wide ResNets: exact sizes, shapes, init, dropout, errors."""

import math

import pytest
import torch
from torch import nn

from regprune import models
from regprune.models.vgg import CFGS
from regprune.models.wrn import WideBasic, WideResNet
from regprune.registry import ConfigError

# name: (params with 10 classes, params with 100 classes)
EXACT = {
    "resnet18": (11_173_962, 11_220_132),
    "resnet34": (21_282_122, 21_328_292),
    "resnet50": (23_520_842, 23_705_252),
    "vgg11": (9_750_922, 9_797_092),
    "vgg13": (9_935_434, 9_981_604),
    "vgg16": (15_245_130, 15_291_300),
    "vgg19": (20_554_826, 20_600_996),
    "vgg11_bn": (9_756_426, 9_802_596),
    "vgg13_bn": (9_941_322, 9_987_492),
    "vgg16_bn": (15_253_578, 15_299_748),
    "vgg19_bn": (20_565_834, 20_612_004),
    "wrn28_10": (36_479_194, 36_536_884),
    "wrn": (36_479_194, 36_536_884),
}
VGG_CFG = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def vgg_params_formula(cfg: str, batch_norm: bool, num_classes: int = 10) -> int:
    total, c_in = 0, 3
    for v in CFGS[cfg]:
        if v != "M":
            total += 9 * c_in * v + v + (2 * v if batch_norm else 0)
            c_in = v
    return total + 2 * (512 * 512 + 512) + 512 * num_classes + num_classes


def wrn_params_formula(depth: int, k: int, num_classes: int = 10) -> int:
    n = (depth - 4) // 6
    total, c_in = 3 * 16 * 9, 16
    for w in (16 * k, 32 * k, 64 * k):
        for _ in range(n):
            total += 2 * c_in + 9 * c_in * w + 2 * w + 9 * w * w + (c_in * w if c_in != w else 0)
            c_in = w
    return total + 2 * c_in + c_in * num_classes + num_classes


def test_registered_with_cifar_defaults_and_counts_in_paper():
    assert set(EXACT) <= set(models.names())
    for name, (p10, _) in EXACT.items():
        assert models.input_shape(name) == (3, 32, 32)
        assert models.default_num_classes(name) == 10
        assert f"{p10:,}" in models.MODELS.meta(name)["paper"]


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_parameter_counts(name):
    p10, p100 = EXACT[name]
    assert n_params(models.build(name)) == p10
    assert n_params(models.build(name, num_classes=100)) == p100


@pytest.mark.parametrize("name", sorted(VGG_CFG))
def test_vgg_counts_match_formula(name):
    assert EXACT[name][0] == vgg_params_formula(VGG_CFG[name], False)
    assert EXACT[name + "_bn"][0] == vgg_params_formula(VGG_CFG[name], True)
    assert EXACT[name][1] == vgg_params_formula(VGG_CFG[name], False, 100)


def test_wrn_counts_match_formula():
    assert EXACT["wrn28_10"] == (wrn_params_formula(28, 10), wrn_params_formula(28, 10, 100))
    for depth, k in [(10, 1), (10, 2), (16, 4)]:
        assert n_params(models.build("wrn", depth=depth, widen_factor=k)) == wrn_params_formula(depth, k)


@pytest.mark.parametrize("name, kwargs", [
    ("resnet18", {}), ("vgg16_bn", {}), ("wrn", dict(depth=10, widen_factor=2)),
])
@pytest.mark.parametrize("num_classes", [10, 100])
def test_forward_shape(name, kwargs, num_classes):
    torch.manual_seed(0)
    m = models.build(name, num_classes=num_classes, **kwargs)
    for mode in (m.train, m.eval):
        mode()
        out = m(torch.randn(2, 3, 32, 32))
        assert out.shape == (2, num_classes) and torch.isfinite(out).all()


def test_resnet_structure():
    r18, r50 = models.build("resnet18"), models.build("resnet50")
    for m in (r18, r50):
        c = m.conv1
        assert (c.in_channels, c.out_channels, c.kernel_size, c.stride, c.bias) == (3, 64, (3, 3), (1, 1), None)
        assert not any(isinstance(x, nn.MaxPool2d) for x in m.modules())
        assert [len(m.layer1), len(m.layer2), len(m.layer3), len(m.layer4)] == ([2, 2, 2, 2] if m is r18 else [3, 4, 6, 3])
    assert r18.linear.in_features == 512 and r50.linear.in_features == 2048
    # Option-B shortcuts: 1x1 conv + BN entering stages 2-4 (and stage 1 of the bottleneck net).
    shortcut_convs = lambda m: [k for k, x in m.named_modules() if "shortcut" in k and isinstance(x, nn.Conv2d)]
    assert shortcut_convs(r18) == ["layer2.0.shortcut.0", "layer3.0.shortcut.0", "layer4.0.shortcut.0"]
    assert len(shortcut_convs(r50)) == 4 and isinstance(r50.layer1[0].shortcut[1], nn.BatchNorm2d)


def test_resnet_default_kaiming_uniform_init():
    torch.manual_seed(0)
    w = models.build("resnet18").layer4[1].conv2.weight  # 512 -> 512, 3x3
    bound = 1 / math.sqrt(512 * 9)  # PyTorch default: kaiming_uniform_(a=sqrt(5))
    assert w.abs().max().item() <= bound
    assert abs(w.std().item() - bound / math.sqrt(3)) < 0.02 * bound


def test_vgg_structure():
    m = models.build("vgg16_bn", dropout=0.25)
    assert [k for k, _ in m.named_children()] == ["features", "classifier"]
    types = [type(x) for x in m.classifier]
    assert types == [nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Linear]
    assert [x.p for x in m.classifier if isinstance(x, nn.Dropout)] == [0.25, 0.25]
    assert sum(isinstance(x, nn.Conv2d) for x in m.features) == 13
    assert sum(isinstance(x, nn.BatchNorm2d) for x in m.features) == 13
    assert sum(isinstance(x, nn.MaxPool2d) for x in m.features) == 5
    assert not any(isinstance(x, nn.BatchNorm2d) for x in models.build("vgg16").modules())
    assert m.features(torch.zeros(2, 3, 32, 32)).shape == (2, 512, 1, 1)


def test_vgg_dropout_train_vs_eval():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    m = models.build("vgg11")  # no BN, so train mode differs from eval only by dropout
    m.train()
    assert not torch.equal(m(x), m(x))
    m.eval()
    assert torch.equal(m(x), m(x))
    no_drop = models.build("vgg11", dropout=0.0).train()
    assert torch.equal(no_drop(x), no_drop(x))


def test_vgg_conv_init_std_and_linear_default():
    torch.manual_seed(0)
    m = models.build("vgg16")
    conv = [x for x in m.features if isinstance(x, nn.Conv2d)][7]  # 256 -> 512: n uses C_out, not C_in
    assert (conv.in_channels, conv.out_channels) == (256, 512)
    std = math.sqrt(2 / (3 * 3 * 512))
    assert abs(conv.weight.std().item() - std) < 0.01 * std
    assert abs(conv.weight.mean().item()) < 0.01 * std
    assert torch.all(conv.bias == 0)
    fc = m.classifier[1]
    bound = 1 / math.sqrt(512)
    assert fc.weight.abs().max().item() <= bound and fc.bias.abs().max().item() <= bound
    assert fc.bias.abs().max().item() > 0


def test_wrn_structure_and_init():
    torch.manual_seed(0)
    m = WideResNet(10, 2, 0.0, 10)
    assert m.conv1.out_channels == 16 and m.linear.in_features == 128
    assert [m.layer1[0].conv1.out_channels, m.layer2[0].conv1.out_channels, m.layer3[0].conv1.out_channels] == [32, 64, 128]
    assert all(b.shortcut is not None for b in (m.layer1[0], m.layer2[0], m.layer3[0]))
    assert all(not c.bias for c in m.modules() if isinstance(c, nn.Conv2d))
    w = m.layer2[0].conv1.weight  # 32 -> 64: fan_out = 9 * 64
    assert abs(w.std().item() - math.sqrt(2 / (9 * 64))) < 0.05 * math.sqrt(2 / (9 * 64))
    bns = [x for x in m.modules() if isinstance(x, nn.BatchNorm2d)]
    assert all(torch.all(b.weight == 1) and torch.all(b.bias == 0) for b in bns)
    assert torch.all(m.linear.bias == 0) and m.linear.weight.abs().max() > 0
    assert WideResNet(10, 1, 0.0, 10).layer1[0].shortcut is None  # 16 -> 16: identity


def test_wrn_block_is_preactivation_with_shortcut_on_activated_input():
    torch.manual_seed(0)
    b = WideBasic(16, 32, stride=2).eval()
    for bn in (b.bn1, b.bn2):  # non-trivial BN so pre-activation vs raw input differ
        bn.running_mean.uniform_(-1, 1), bn.weight.data.uniform_(0.5, 1.5), bn.bias.data.uniform_(-1, 1)
    x = torch.randn(2, 16, 8, 8)
    o1 = torch.relu(b.bn1(x))
    expected = b.conv2(torch.relu(b.bn2(b.conv1(o1)))) + b.shortcut(o1)
    out = b(x)
    assert out.shape == (2, 32, 4, 4) and torch.allclose(out, expected, atol=1e-5)
    same = WideBasic(16, 16).eval()
    assert torch.allclose(same(x), same.conv2(torch.relu(same.bn2(same.conv1(torch.relu(same.bn1(x)))))) + x, atol=1e-5)


def test_wrn_dropout_train_vs_eval():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    m = models.build("wrn", depth=10, widen_factor=1, dropout=0.5).train()
    assert not torch.equal(m(x), m(x))
    m.eval()
    assert torch.equal(m(x), m(x))
    no_drop = models.build("wrn", depth=10, widen_factor=1, dropout=0.0).train()
    assert torch.equal(no_drop(x), no_drop(x))


@pytest.mark.parametrize("dropout", [-0.1, 1.0, 1.5, "0.5"])
def test_bad_dropout(dropout):
    with pytest.raises(ConfigError, match=r"dropout.*\[0, 1\)"):
        models.build("vgg11", dropout=dropout)
    with pytest.raises(ConfigError, match=r"dropout.*\[0, 1\)"):
        models.build("wrn", depth=10, widen_factor=1, dropout=dropout)


@pytest.mark.parametrize("depth", [4, 9, 27, 29, 28.0])
def test_bad_wrn_depth(depth):
    with pytest.raises(ConfigError, match=r"depth.*6n\+4"):
        models.build("wrn", depth=depth, widen_factor=1)


def test_bad_wrn_widen_factor():
    with pytest.raises(ConfigError, match="widen_factor"):
        models.build("wrn", depth=10, widen_factor=0)
