"""Caffe's CIFAR-10 "quick" network (``examples/cifar10/cifar10_quick_train_test.prototxt``),
the "quicknet" of paper 003 (Sharma et al., Section 5.2.2).

conv1 32x5x5 pad 2 -> max-pool 3/2 -> ReLU; conv2 32x5x5 pad 2 -> ReLU -> avg-pool 3/2;
conv3 64x5x5 pad 2 -> ReLU -> avg-pool 3/2; ip1 1024->64; ip2 64->classes. There is no
nonlinearity between ip1 and ip2 (as in the prototxt), and no dropout or batch norm (the
paper's "+ D" / "+ BN" variants add them; not built here). 145,578 parameters for 10 classes.

Caffe rounds pooled sizes up (32 -> 16 -> 8 -> 4), hence ``ceil_mode=True``; with no padding,
PyTorch then averages an overhanging window over its in-image part, as Caffe does.

Init (``caffe_init=True``, default): the prototxt's fillers, Gaussian weights with std 1e-4
(conv1), 0.01 (conv2, conv3) and 0.1 (ip1, ip2), zero biases. ``caffe_init=False`` keeps
PyTorch's defaults. Not reproduced: the prototxt's bias ``lr_mult: 2`` (set ``_lr_scale`` on
the biases for that; the training engine honours it).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from regprune.models.base import register
from regprune.models.layout import Flatten
from regprune.registry import check_choice

_CAFFE_STD = {"conv1": 1e-4, "conv2": 0.01, "conv3": 0.01, "ip1": 0.1, "ip2": 0.1}


class QuickNet(nn.Module):
    """``classifier(features(x))``: convolutions and pools, then the two inner-product layers."""

    def __init__(self, num_classes: int = 10, caffe_init: bool = True):
        super().__init__()
        check_choice("caffe_init", caffe_init, (True, False))
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 32, 5, padding=2), pool1=nn.MaxPool2d(3, 2, ceil_mode=True), relu1=nn.ReLU(),
            conv2=nn.Conv2d(32, 32, 5, padding=2), relu2=nn.ReLU(), pool2=nn.AvgPool2d(3, 2, ceil_mode=True),
            conv3=nn.Conv2d(32, 64, 5, padding=2), relu3=nn.ReLU(), pool3=nn.AvgPool2d(3, 2, ceil_mode=True),
            flatten=Flatten(),
        ))
        self.classifier = nn.Sequential(OrderedDict(ip1=nn.Linear(64 * 4 * 4, 64), ip2=nn.Linear(64, num_classes)))
        if caffe_init:
            for seq in (self.features, self.classifier):
                for name, m in seq.named_children():
                    if name in _CAFFE_STD:
                        nn.init.normal_(m.weight, 0.0, _CAFFE_STD[name])
                        nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


@register("quicknet", input_shape=(3, 32, 32), num_classes=10,
          paper="Caffe cifar10_quick (Jia et al. 2014), used by Sharma et al. (paper 003): 145,578 params")
def quicknet(num_classes: int = 10, caffe_init: bool = True) -> QuickNet:
    """Caffe's CIFAR-10 quick net; ``caffe_init``: the prototxt's Gaussian fillers (else PyTorch's)."""
    return QuickNet(num_classes, caffe_init)
