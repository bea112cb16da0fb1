"""CIFAR MobileNet-V1: exact sizes, shapes, width multiplier, registry, head."""

import pytest
import torch
from torch import nn

from regprune import models
from regprune.models.mobilenet import MobileNetV1
from regprune.registry import ConfigError


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_width_1():
    # kuangliu/pytorch-cifar MobileNet: 3,217,226 params on CIFAR-10.
    assert n_params(models.build("mobilenet_v1")) == 3_217_226
    assert n_params(models.build("mobilenet_v1", num_classes=100)) == 3_309_476
    assert "3,217,226" in models.MODELS.meta("mobilenet_v1")["paper"]


def test_forward_shape():
    m = models.build("mobilenet_v1")
    assert isinstance(m, MobileNetV1)
    assert m(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert models.build("mobilenet_v1", num_classes=100)(torch.randn(2, 3, 32, 32)).shape == (2, 100)


def test_structure():
    m = models.build("mobilenet_v1")
    convs = [x for x in m.modules() if isinstance(x, nn.Conv2d)]
    assert len(convs) == 1 + 2 * 13 and all(c.bias is None for c in convs)
    depthwise = [c for c in convs if c.groups > 1]
    assert len(depthwise) == 13 and all(c.groups == c.in_channels == c.out_channels for c in depthwise)
    assert [c.stride[0] for c in depthwise] == [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    assert convs[0].stride == (1, 1) and convs[0].out_channels == 32


def test_width_mult_quarter():
    m = models.build("mobilenet_v1", width_mult=0.25)
    assert m(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert n_params(m) == 215_642 < 3_217_226
    assert m.classifier.in_features == 256


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "1.0", True, None])
def test_bad_width_mult(bad):
    with pytest.raises(ConfigError, match="width_mult"):
        models.build("mobilenet_v1", width_mult=bad)


def test_registry_and_metadata():
    assert "mobilenet_v1" in models.names()
    assert models.input_shape("mobilenet_v1") == (3, 32, 32)
    assert models.default_num_classes("mobilenet_v1") == 10
    assert "Howard et al." in models.MODELS.meta("mobilenet_v1")["paper"]


def test_head_is_classifier_linear():
    m = models.build("mobilenet_v1", num_classes=100)
    assert isinstance(m.classifier, nn.Linear)
    assert (m.classifier.in_features, m.classifier.out_features) == (1024, 100)
    m.classifier = nn.Linear(1024, 7)  # other code swaps the FC head
    assert m(torch.randn(2, 3, 32, 32)).shape == (2, 7)


def test_reference_init():
    torch.manual_seed(0)
    m = models.build("mobilenet_v1")
    w = m.layers[7].conv2.weight  # pointwise 512->512, fan_out = 512
    assert abs(w.std().item() - (2 / 512) ** 0.5) < 0.005
    assert torch.all(m.bn1.weight == 1) and torch.all(m.bn1.bias == 0)
    assert torch.all(m.classifier.bias == 0)
