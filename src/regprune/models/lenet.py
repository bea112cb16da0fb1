"""LeNet-300-100 and LeNet-5-Caffe, the MNIST baselines of the pruning literature.

Both are ``features`` (feature extractor ending in a flatten) followed by ``classifier``
(the fully connected head as an ``nn.Sequential``), so a chapter can swap the head.
Layers keep PyTorch's default init: the papers use Caffe/Lasagne defaults we cannot match
exactly, and none of the reproduced results hinge on it.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from regprune.models.base import register
from regprune.models.layout import Flatten

_MNIST = dict(input_shape=(1, 28, 28), num_classes=10)


class LeNet(nn.Module):
    """``classifier(features(x))``; names stay ``features.*`` / ``classifier.*`` across variants."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential):
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def _seq(**layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(OrderedDict(layers))


@register("lenet300", **_MNIST, paper="LeNet-300-100 (LeCun et al. 1998): MLP 784-300-100-10, 266,610 params")
def lenet300(num_classes: int = 10) -> LeNet:
    """LeNet-300-100: Flatten, fc1 784-300, ReLU, fc2 300-100, ReLU, fc3 100-classes."""
    return LeNet(
        _seq(flatten=Flatten()),
        _seq(fc1=nn.Linear(784, 300), relu1=nn.ReLU(), fc2=nn.Linear(300, 100), relu2=nn.ReLU(),
             fc3=nn.Linear(100, num_classes)),
    )


@register("lenet5", **_MNIST, paper="LeNet-5-Caffe: conv20-pool-conv50-pool-fc500-fc10, 431,080 params")
def lenet5(num_classes: int = 10, conv_relu: bool = False) -> LeNet:
    """LeNet-5 as in Caffe's MNIST example: conv -> max-pool twice with no ReLU after the convs
    (faithful to Caffe's prototxt), then fc1 800-500, ReLU, fc2 500-classes.

    ``conv_relu=True`` adds a ReLU after each conv, as several PyTorch ports of this network do
    (for example the L0-regularization code a switcher-network baseline comes from); the
    parameter count is the same either way.
    """
    act = nn.ReLU if conv_relu else nn.Identity
    return LeNet(
        _seq(conv1=nn.Conv2d(1, 20, 5), act1=act(), pool1=nn.MaxPool2d(2), conv2=nn.Conv2d(20, 50, 5),
             act2=act(), pool2=nn.MaxPool2d(2), flatten=Flatten()),
        _seq(fc1=nn.Linear(800, 500), relu1=nn.ReLU(), fc2=nn.Linear(500, num_classes)),
    )
