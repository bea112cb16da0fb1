"""Fully connected ReLU networks with 1, 2 or 3 hidden layers: the FNNs of paper 003
(Sharma et al., Section 5.2.4: "The number neurons in each layer was set to 50").

The paper trains them on ten LIBSVM data sets (its Table 9), whose inputs are flat feature
vectors of different lengths, so the builder takes ``input_dim``; a run config may leave it out
and :func:`regprune.experiment.build_model` fills it in from the data set's input shape. The
registered defaults (780 inputs, 10 classes) are those of ``libsvm-mnist``. Inputs of any
shape are flattened first, so an image set works too. PyTorch's default init (the paper's
TensorFlow init is not stated).

Layout as the other families: ``features`` (here just the flatten) then ``classifier``
(``fc1, relu1, ..., fc<P+1>``), so the last Linear is the output layer a penalty or a chapter
can find by name.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from regprune.models.base import register
from regprune.registry import ConfigError

_LIBSVM_MNIST = dict(input_shape=(780,), num_classes=10)


class FNN(nn.Module):
    """``classifier(features(x))`` with ``features = Flatten``."""

    def __init__(self, input_dim: int, num_classes: int, hidden: int, depth: int):
        super().__init__()
        for param, value, low in (("input_dim", input_dim, 1), ("num_classes", num_classes, 1),
                                  ("hidden", hidden, 1), ("depth", depth, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{param}={value!r} is not allowed; it must be an integer >= {low}")
        self.features = nn.Sequential(OrderedDict(flatten=nn.Flatten()))
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        width = input_dim
        for i in range(1, depth + 1):
            layers[f"fc{i}"] = nn.Linear(width, hidden)
            layers[f"relu{i}"] = nn.ReLU()
            width = hidden
        layers[f"fc{depth + 1}"] = nn.Linear(width, num_classes)
        self.classifier = nn.Sequential(layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def fnn_params(input_dim: int, num_classes: int, hidden: int = 50, depth: int = 1) -> int:
    """Weights plus biases of :class:`FNN`, for checks and tables."""
    widths = [input_dim] + [hidden] * depth + [num_classes]
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


_PAPER = "Sharma et al. (paper 003) FNN, {d} hidden ReLU layer(s) of 50; libsvm-mnist default {n:,} params"


@register("fnn1", **_LIBSVM_MNIST, paper=_PAPER.format(d=1, n=fnn_params(780, 10, 50, 1)))
def fnn1(num_classes: int = 10, input_dim: int = 780, hidden: int = 50) -> FNN:
    """input_dim -> hidden -> classes."""
    return FNN(input_dim, num_classes, hidden, 1)


@register("fnn2", **_LIBSVM_MNIST, paper=_PAPER.format(d=2, n=fnn_params(780, 10, 50, 2)))
def fnn2(num_classes: int = 10, input_dim: int = 780, hidden: int = 50) -> FNN:
    """input_dim -> hidden -> hidden -> classes."""
    return FNN(input_dim, num_classes, hidden, 2)


@register("fnn3", **_LIBSVM_MNIST, paper=_PAPER.format(d=3, n=fnn_params(780, 10, 50, 3)))
def fnn3(num_classes: int = 10, input_dim: int = 780, hidden: int = 50) -> FNN:
    """input_dim -> hidden -> hidden -> hidden -> classes."""
    return FNN(input_dim, num_classes, hidden, 3)
