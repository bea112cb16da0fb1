"""Model zoo: exact sizes, shapes, registry errors, head replacement, copying."""

import copy
import pickle

import pytest
import torch
from torch import nn

from regprune import models
from regprune.models.lenet import LeNet
from regprune.models.resnet_cifar import CifarResNet
from regprune.registry import ConfigError

RESNETS = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7}  # millions; He et al. 2016, Table 6


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def resnet_params_formula(depth: int, num_classes: int = 10) -> int:
    """Option-A CIFAR ResNet: 3x3 convs without bias, BN weight+bias, linear 64->classes."""
    n = (depth - 2) // 6
    total = 3 * 16 * 9 + 2 * 16  # stem conv + BN
    c_in = 16
    for c in (16, 32, 64):
        for _ in range(n):
            total += c_in * c * 9 + c * c * 9 + 4 * c
            c_in = c
    return total + 64 * num_classes + num_classes


def test_registry_lists_all_models():
    assert {"lenet300", "lenet5", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110"} <= set(models.names())


def test_lenet_parameter_counts():
    assert n_params(models.build("lenet300")) == 266_610
    assert n_params(models.build("lenet5")) == 431_080


def test_lenet_structure_features_classifier():
    for name in ("lenet300", "lenet5"):
        m = models.build(name)
        assert isinstance(m, LeNet) and isinstance(m.classifier, nn.Sequential)
        assert m.features(torch.zeros(2, 1, 28, 28)).shape == (2, m.classifier[0].in_features)
    lenet5 = models.build("lenet5")
    # Caffe's LeNet-5 has no ReLU after the convolutions.
    assert not any(isinstance(x, nn.ReLU) for x in lenet5.features)
    assert [k for k, _ in lenet5.named_children()] == ["features", "classifier"]
    assert lenet5.classifier.fc1.in_features == 800


@pytest.mark.parametrize("depth", sorted(RESNETS))
def test_resnet_parameter_counts(depth):
    got = n_params(models.build(f"resnet{depth}"))
    assert got == resnet_params_formula(depth)
    assert round(got / 1e6, 2 if depth < 110 else 1) == RESNETS[depth]


def test_resnet_exact_parameter_counts():
    # Option-A shortcuts are parameter-free; 272,474 would be ResNet-20 with 1x1-conv+BN (option B) shortcuts.
    exact = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962}
    assert {d: n_params(models.build(f"resnet{d}")) for d in exact} == exact


def test_resnet_module_names():
    names = dict(models.build("resnet20").named_modules())
    for key in ("conv1", "bn1", "layer1", "layer3.2.conv2", "layer2.0.bn2", "layer2.0.shortcut", "linear"):
        assert key in names
    assert len([m for m in names.values() if isinstance(m, nn.Conv2d)]) == 19


@pytest.mark.parametrize("name", models.names())
def test_forward_shape_and_defaults(name):
    m = models.build(name)
    x = torch.randn(2, *models.input_shape(name))
    assert m(x).shape == (2, models.default_num_classes(name))


def test_input_shapes():
    assert models.input_shape("lenet5") == (1, 28, 28)
    assert models.input_shape("resnet56") == (3, 32, 32)
    assert models.default_num_classes("resnet20") == 10
    assert "He et al." in models.MODELS.meta("resnet20")["paper"]


def test_unknown_name_lists_allowed():
    with pytest.raises(ConfigError) as err:
        models.build("resnet19")
    for name in models.names():
        assert repr(name) in str(err.value)
    with pytest.raises(ConfigError):
        models.input_shape("nope")


def test_bad_resnet_depth():
    with pytest.raises(ConfigError, match="6n\\+2"):
        CifarResNet(21)


@pytest.mark.parametrize("name", models.names())
def test_num_classes_changes_only_last_layer(name):
    a = models.build(name).state_dict()
    b = models.build(name, num_classes=100).state_dict()
    assert list(a) == list(b)
    changed = [k for k in a if a[k].shape != b[k].shape]
    last = [k for k in a if a[k].dim() > 0][-2:]  # the final layer's weight and bias
    assert changed == last
    assert b[last[0]].shape[0] == 100 and b[last[1]].shape == (100,)


def test_resnet_kaiming_init():
    torch.manual_seed(0)
    w = models.build("resnet110").layer3[5].conv1.weight
    fan_in = 64 * 9
    assert abs(w.std().item() - (2 / fan_in) ** 0.5) < 0.005


@pytest.mark.parametrize("name", ["resnet20", "densenet40"])
def test_deepcopy_and_pickle(name):
    m = models.build(name).eval()
    x = torch.randn(2, 3, 32, 32)
    ref = m(x)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert torch.equal(clone(x), ref)


def test_lenet5_conv_relu_option():
    import torch

    plain, relu = models.build("lenet5"), models.build("lenet5", conv_relu=True)
    assert sum(p.numel() for p in relu.parameters()) == 431_080
    relu.load_state_dict(plain.state_dict())
    x = torch.randn(4, 1, 28, 28)
    assert not torch.allclose(plain(x), relu(x))
    assert isinstance(relu.features.act1, torch.nn.ReLU) and isinstance(plain.features.act1, torch.nn.Identity)
