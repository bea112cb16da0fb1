"""Switcher neural network (SNN; Han, Liu, Hai, Li, paper 002): a small CNN reads a fully
connected layer's weight matrix as a one-channel image and outputs gates that switch the
layer's connections (``connection``) or its input neurons (``neuron``) on and off.

A task layer ``y = W x`` (``W``: n x m, PyTorch's out x in) is read as the m x n image ``W^T``:
one row per input neuron, one column per output neuron (the paper's "weights between layer i
with m neurons and layer i+1 with n neurons").  Gates ``g = ReLU(SNN(W))``: 0 prunes, < 1
weakens, > 1 strengthens.  Both strategies are a ``torch.nn.utils.parametrize`` parametrization
of the weight, so counting, baking and the engine see an ordinary (gated) weight:

* connection: ``W' = W * g^T`` with ``g``: m x n;
* neuron: ``W' = W * g`` with ``g``: m values, one per input neuron, which is the same as
  multiplying the layer's input by ``g`` (the paper's ``neuron * g2``).

The SNN is U-net-like, as the paper describes and sizes nothing: ``depth`` encoder blocks of
3x3 convolution, ReLU and a max-pool that halves the *width* only (rows stay one per input
neuron); a decoder that upsamples the width back (connection) or keeps width 1 (neuron), with
the channel count unchanged; every encoder map joins the decoder through a "row convolution"
that reshapes it to the decoder's map (a 1x3 convolution when the widths agree, a 1 x width
convolution down to width 1 for neurons).  Our defaults (4 channels, depth 2, input
standardized, a zero-weight head with bias 1 so that every gate starts at 1) are choices the
chapter writes down.

The SNN reads ``W`` detached: it learns *from* the weights, and in the TNN phase the task loss
trains ``W`` through its gated use only.  Alternating learning (:class:`Alternation`): even
epochs train the SNNs with the TNN frozen, odd epochs the TNN with the SNNs frozen, on the
task loss alone.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

from .callbacks import HOOKS, FitState, Hook
from .layers import weight_layers
from .registry import ConfigError, check_choice
from .reparam import REPARAMS

MODES = ("connection", "neuron")
GATE_BINS = (0.0, 0.5, 1.0, 1.5, 2.0)  # edges of the gate histogram past zero; last bin is open


class RowFold(nn.Conv2d):
    """A 1 x width convolution that folds each row of its input to one value.

    A kernel as wide as its input is a fully connected map per row, so it runs as one matrix
    product: the same parameters and values as the convolution (up to float summation order), and
    on CPU its backward pass is ~20x faster than oneDNN's for this shape (fc1's 784 x 300 map:
    1 ms against 22 ms, measured 2026-12-04)."""

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        rows = x.permute(0, 2, 3, 1).reshape(n * h, w * c)  # a view when x is channels_last
        kernel = self.weight[:, :, 0].permute(2, 1, 0).reshape(w * c, -1)  # (w, c) order, as rows
        return torch.addmm(self.bias, rows, kernel).view(n, h, 1, -1).permute(0, 3, 1, 2)


def _row_conv(channels: int, width_in: int, width_out: int) -> nn.Conv2d:
    """Acts along each row only: keeps the width (1x3) or folds it to 1 (1 x width_in)."""
    if width_out == width_in:
        return nn.Conv2d(channels, channels, (1, 3), padding=(0, 1))
    return RowFold(channels, channels, (1, width_in))


class _PairMax(torch.autograd.Function):
    """The larger of the two entries along dim 3 of an (n, h, w, 2, c) tensor; the gradient goes
    to the first on a tie, as the pooling kernel's does (autograd's own ``amax`` backward shares
    it and takes four passes over the map)."""

    @staticmethod
    def forward(ctx, t: Tensor) -> Tensor:
        a, b = t.unbind(3)
        ctx.save_for_backward((a >= b).to(t.dtype))  # a float mask multiplies ~3x faster than a bool one
        return torch.maximum(a, b)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (first,) = ctx.saved_tensors
        out = grad.new_empty(*first.shape[:3], 2, first.shape[3])
        to_first, to_second = out.unbind(3)
        torch.mul(grad, first, out=to_first)  # first: 1 where the first entry is the larger, else 0
        torch.sub(grad, to_first, out=to_second)  # grad - grad = 0 exactly, grad - 0 = grad
        return out


def pool_width(x: Tensor) -> Tensor:
    """``MaxPool2d((1, 2), ceil_mode=True)``: the larger of each pair of columns (an odd last
    column alone), over the channels-last layout; the same values and gradients, forward and
    backward together ~4x faster on CPU than the pooling kernel on fc1's 4-channel 784 x 300 map
    (measured 2026-12-04)."""
    t = x.permute(0, 2, 3, 1)  # n, h, w, c: contiguous when x is channels_last
    if t.shape[2] % 2:
        t = F.pad(t, (0, 0, 0, 1), value=float("-inf"))
    n, h, w, c = t.shape
    return _PairMax.apply(t.reshape(n, h, w // 2, 2, c)).permute(0, 3, 1, 2)


def conv_of_concat(conv: nn.Conv2d, a: Tensor, b: Tensor) -> Tensor:
    """``conv(torch.cat([a, b], 1))`` as two convolutions over the halves of its kernel: no
    concatenated map is built (the same values up to float summation order; ~25% faster forward
    and backward for fc1's maps, measured 2026-12-04)."""
    k = a.shape[1]
    return (F.conv2d(a, conv.weight[:, :k], conv.bias, padding=conv.padding)
            + F.conv2d(b, conv.weight[:, k:], None, padding=conv.padding))


class SwitcherNet(nn.Module):
    """Gates for one m x n weight image: an m x n map (connection) or m values (neuron)."""

    def __init__(self, mode: str, rows: int, cols: int, channels: int = 4, depth: int = 2,
                 standardize: bool = True, gate_bias: float = 1.0):
        super().__init__()
        self.mode, self.rows, self.cols, self.standardize = mode, rows, cols, standardize
        widths = [cols]
        for _ in range(depth):
            widths.append(math.ceil(widths[-1] / 2))
        self.widths = widths
        c = channels
        self.encoder = nn.ModuleList(
            nn.Sequential(nn.Conv2d(1 if k == 0 else c, c, 3, padding=1), nn.ReLU(inplace=True)) for k in range(depth)
        )
        self.bottleneck = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU(inplace=True))
        neuron = mode == "neuron"
        # neuron switching: the bottom map folds to width 1 and the decoder stays there
        self.fold = _row_conv(c, widths[depth], 1) if neuron else nn.Identity()
        self.skips = nn.ModuleList(_row_conv(c, widths[k], 1 if neuron else widths[k]) for k in range(depth))
        kernel, pad = ((3, 1), (1, 0)) if neuron else (3, 1)
        self.decoder = nn.ModuleList(
            nn.Sequential(nn.Conv2d(2 * c, c, kernel, padding=pad), nn.ReLU(inplace=True)) for _ in range(depth)
        )
        self.head = nn.Conv2d(c, 1, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        # every gate starts at exactly gate_bias (1: the plain network); a Kaiming-normal head gave
        # gates of mean 1.4-2.7 and up to 13 on LeNet-300-100, and the task network diverged at lr 0.1
        nn.init.zeros_(self.head.weight)
        nn.init.constant_(self.head.bias, gate_bias)
        self.to(memory_format=torch.channels_last)  # 2-3x faster for these few-channel convs (CPU, measured)

    def forward(self, weight: Tensor) -> Tensor:
        x = weight.detach().t().float()
        if self.standardize:
            x = x / x.pow(2).mean().sqrt().clamp_min(1e-12)
        x = x[None, None].contiguous(memory_format=torch.channels_last)
        skips = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)
            x = pool_width(x)
        x = self.fold(self.bottleneck(x))
        for k in reversed(range(len(self.encoder))):
            if self.mode == "connection":
                x = F.interpolate(x, size=(self.rows, self.widths[k]), mode="nearest")
            conv, relu = self.decoder[k]  # conv over [x, skip] concatenated along channels, then ReLU
            x = relu(conv_of_concat(conv, x, self.skips[k](skips[k])))
        g = F.relu(self.head(x))[0, 0]  # (rows, cols) or (rows, 1)
        return g if self.mode == "connection" else g[:, 0]


class Switched(nn.Module):
    """Parametrization ``W -> W * gates(W)`` of a linear layer's weight."""

    def __init__(self, snn: SwitcherNet):
        super().__init__()
        self.snn = snn

    def gates(self, weight: Tensor) -> Tensor:
        return self.snn(weight)

    def forward(self, weight: Tensor) -> Tensor:
        g = self.gates(weight).to(weight.dtype)
        return weight * (g.t() if self.snn.mode == "connection" else g[None, :])


def switched_layers(model: nn.Module) -> dict[str, tuple[nn.Linear, Switched]]:
    out = {}
    for name, m in weight_layers(model, nn.Linear).items():
        if parametrize.is_parametrized(m, "weight"):
            sw = [p for p in m.parametrizations.weight if isinstance(p, Switched)]
            if sw:
                out[name] = (m, sw[0])
    return out


def snn_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for _, sw in switched_layers(model).values() for p in sw.parameters()]


@REPARAMS.register("switcher")
def switcher(model: nn.Module | None, mode: str = "connection", channels: int = 4, depth: int = 2,
             standardize: bool = True, gate_bias: float = 1.0, lr_scale: float = 1.0) -> nn.Module | None:
    """One SNN per fully connected layer of ``model`` (``model=None``: only check the settings).

    ``lr_scale``: the SNNs' learning rate relative to the task network's (``train.lr``)."""
    check_choice("reparam.mode", mode, MODES)
    for name, value in (("channels", channels), ("depth", depth)):
        if not (isinstance(value, int) and value >= 1):
            raise ConfigError(f"reparam.{name} must be a positive integer; got {value!r}")
    if not isinstance(standardize, bool):
        raise ConfigError(f"reparam.standardize must be true or false; got {standardize!r}")
    if not (isinstance(lr_scale, (int, float)) and lr_scale > 0):
        raise ConfigError(f"reparam.lr_scale must be a positive number; got {lr_scale!r}")
    if model is None:
        return None
    layers = weight_layers(model, nn.Linear)
    if not layers:
        raise ConfigError("reparam 'switcher' needs a model with fully connected (nn.Linear) layers")
    for layer in layers.values():
        out_features, in_features = layer.weight.shape
        snn = SwitcherNet(mode, in_features, out_features, channels, depth, standardize, float(gate_bias))
        for p in snn.parameters():
            p._lr_scale = float(lr_scale)
        parametrize.register_parametrization(layer, "weight", Switched(snn.to(layer.weight.device)), unsafe=True)
    return model


@torch.no_grad()
def gate_counts(model: nn.Module) -> dict[str, dict[str, Any]]:
    """Per switched layer: how many gates are 0, in (0, 1) and above 1, a histogram of the positive
    ones (bins from ``GATE_BINS``), and how many of the layer's gated weights are nonzero."""
    out = {}
    for name, (layer, sw) in switched_layers(model).items():
        g = sw.gates(layer.parametrizations.weight.original).float().flatten()
        edges = torch.tensor(GATE_BINS[1:], device=g.device)
        positive = g[g > 0]
        bins = torch.bucketize(positive, edges, right=True).bincount(minlength=len(GATE_BINS)).tolist()
        w = layer.weight
        out[name] = {
            "gates": g.numel(), "zero": int((g == 0).sum()), "below1": int(((g > 0) & (g < 1)).sum()),
            "above1": int((g > 1).sum()), "mean": float(g.mean()),
            "hist_edges": list(GATE_BINS), "hist_positive": bins,
            "weights": w.numel(), "nonzero": int(torch.count_nonzero(w)),
        }
    return out


PHASES = ("snn", "tnn")


@HOOKS.register("switcher_alternation")
class Alternation(Hook):
    """Alternating learning: even epochs (0, 2, ...) train the SNNs with the TNN frozen, odd
    epochs the TNN with the SNNs frozen (``first="snn"``, the paper's Algorithm), or the other
    way round (``first="tnn"``: the SNN first reads a trained network, not a random one).
    Freezing is ``requires_grad=False``: the optimizer skips parameters without a gradient, so
    momentum buffers wait for their phase.

    History per epoch: ``phase`` and, per switched layer, the fraction of zero gates and of
    nonzero effective weights; extras ``switcher_gates`` with the final gate counts."""

    def __init__(self, first: str = "snn"):
        self.first = check_choice("hooks.switcher_alternation.first", first, PHASES)

    def phase(self, epoch: int) -> str:
        return PHASES[(epoch + PHASES.index(self.first)) % 2]

    def on_fit_start(self, state: FitState) -> None:
        if not switched_layers(state.model):
            raise ConfigError("hook 'switcher_alternation' needs reparam {'name': 'switcher'} on the model")

    def on_epoch_start(self, state: FitState) -> None:
        snn = {id(p) for p in snn_parameters(state.model)}
        train_snn = self.phase(state.epoch) == "snn"
        for p in state.model.parameters():
            p.requires_grad_((id(p) in snn) == train_snn)

    def on_epoch_end(self, state: FitState) -> dict[str, Any]:
        row: dict[str, Any] = {"phase": self.phase(state.epoch)}
        weights = nonzero = 0
        for name, c in gate_counts(state.model).items():
            row[f"gates_zero.{name}"] = c["zero"] / c["gates"]
            row[f"density.{name}"] = c["nonzero"] / c["weights"]
            weights, nonzero = weights + c["weights"], nonzero + c["nonzero"]
        row["fc_density"] = nonzero / max(weights, 1)
        return row

    def on_fit_end(self, state: FitState) -> dict[str, Any]:
        for p in state.model.parameters():
            p.requires_grad_(True)
        return {"switcher_gates": gate_counts(state.model)}
