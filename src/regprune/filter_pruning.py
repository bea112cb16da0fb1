"""Soft filter pruning (He et al. 2018, "SFP") and compact extraction of soft-pruned CIFAR ResNets.

Paper 004 (Vu, Wen, Nehoran) trains CIFAR ResNets with SFP at "pruning rate 0.9" and reports
their FLOPs. What SFP does, from He et al.'s paper and their code (``pruning_cifar10_resnet.py``,
which paper 004's own code copies):

* **which layers**: every ``Conv2d`` of the CIFAR ResNet, *including the stem* (their scripts
  prune parameter indices ``0, 3, ..., 3 * (#convs - 1)``: each conv weight, never the FC
  layer; option-A shortcuts have no conv). ``layers="all_conv"`` is that default;
  ``"blocks"`` (only the convs inside residual blocks) and explicit layer names are offered.
* **how many**: in a layer of ``n`` filters, ``floor((1 - keep_rate) * n)`` filters are zeroed
  (their code: ``int(n * (1 - rate))``; ``rate`` is the *keep* rate, so "0.9" keeps 90 %). For
  ResNet widths 16/32/64 at keep 0.9: 1/3/6 zeroed filters (15/29/58 kept).
* **which filters**: those with the smallest L2 norm of the whole filter (``C_in*k*k`` weights).
  Paper 004's text says a filter is "selected with probability proportional to its l_p norm";
  neither SFP nor paper 004's code samples anything: the selection is deterministic, smallest
  norms first, and we follow SFP (ties: lowest index first).
* **when**: once before training and after every epoch. Zeroed filters keep their gradients and
  the optimizer's momentum, so they train on and may recover ("soft"); only the weights are
  zeroed. The model that is kept (and the compact model built from it) is the one just after
  a pruning step, and SFP validates after pruning: see :class:`SoftFilterPruning`.

FLOPs (:func:`sfp_paper_macs`, :func:`sfp_macs`): He et al.'s own count of a soft-pruned CIFAR
ResNet, beside the generic MAC count (:mod:`regprune.counting`) of the compact network.

Compact extraction (:func:`compact_resnet`) builds a physically smaller network that computes
the same function in eval mode; see its docstring for what is removed and what is kept.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

from .callbacks import HOOKS, FitState, Hook
from .counting import count_macs, count_parameters, layer_table
from .layers import weight_layers
from .models.layout import global_avg_pool
from .models.resnet_cifar import BasicBlock, CifarResNet, PadShortcut
from .registry import ConfigError, check_choice
from .train import evaluate

LAYER_SETS = ("all_conv", "blocks")


def check_keep_rate(keep_rate: Any, param: str = "keep_rate") -> float:
    """``keep_rate`` as a float in (0, 1], else a ConfigError naming ``param``."""
    try:
        r = float(keep_rate)
    except (TypeError, ValueError):
        r = math.nan
    if isinstance(keep_rate, bool) or not (0 < r <= 1):
        raise ConfigError(f"{param}={keep_rate!r} is not allowed; it must be a number in (0, 1] "
                          "(the fraction of filters kept, e.g. 0.9)")
    return r


def pruned_count(n: int, keep_rate: float) -> int:
    """Filters zeroed out of ``n``: ``floor((1 - keep_rate) * n)``, as SFP's ``int(n * (1 - rate))``.

    A 1e-9 slack keeps float error from dropping a whole filter where the product is an
    integer (``int(10 * (1 - 0.9))`` is 0 in floating point); for widths 16/32/64 at keep
    rates 0.9/0.8/0.7 both give the same counts."""
    return int(math.floor((1 - keep_rate) * n + 1e-9))


def select_layers(model: nn.Module, layers: str | Sequence[str] = "all_conv") -> dict[str, nn.Conv2d]:
    """The conv layers SFP acts on, by qualified name (see the module docstring)."""
    convs = weight_layers(model, nn.Conv2d)
    if isinstance(layers, str):
        check_choice("soft_filter_pruning.layers", layers, LAYER_SETS)
        if layers == "all_conv":
            chosen = convs
        else:
            inside = {id(c) for b in model.modules() if isinstance(b, BasicBlock) for c in b.modules()}
            chosen = {n: m for n, m in convs.items() if id(m) in inside}
    else:
        names = list(layers)
        unknown = [n for n in names if n not in convs]
        if unknown:
            raise ConfigError(f"soft_filter_pruning.layers: unknown conv layer(s) {unknown}; allowed: "
                              f"{list(LAYER_SETS)} or names from {list(convs)}")
        chosen = {n: convs[n] for n in names}
    if not chosen:
        raise ConfigError(f"soft_filter_pruning.layers={layers!r} selects no conv layer of this model")
    return chosen


def filter_norms(conv: nn.Module) -> Tensor:
    """L2 norm of each output filter of the layer's effective weight (after any parametrization)."""
    w = conv.weight.detach()
    return w.reshape(w.shape[0], -1).float().norm(dim=1)


def lowest_norm_filters(conv: nn.Module, n_prune: int) -> Tensor:
    """Indices of the ``n_prune`` filters with the smallest L2 norm (ties: lowest index first)."""
    return torch.argsort(filter_norms(conv), stable=True)[:n_prune]


def _stored_weight(conv: nn.Module) -> Tensor:
    """The tensor the optimizer updates: the parametrization's ``original`` or the weight."""
    if parametrize.is_parametrized(conv, "weight"):
        return conv.parametrizations.weight.original
    return conv.weight


@torch.no_grad()
def zero_filters(model: nn.Module, keep_rate: float, layers: str | Sequence[str] = "all_conv") -> dict[str, list[int]]:
    """One SFP step, in place: in each selected layer zero the ``pruned_count`` filters of lowest
    L2 norm. Returns the zeroed filter indices per layer.

    Under a parametrization the stored ``original`` is zeroed (norms are of the effective
    weight), which zeroes the effective filter for maps with ``f(0) = 0`` such as a mask."""
    keep_rate = check_keep_rate(keep_rate)
    out = {}
    for name, conv in select_layers(model, layers).items():
        idx = lowest_norm_filters(conv, pruned_count(conv.weight.shape[0], keep_rate))
        _stored_weight(conv)[idx.to(conv.weight.device)] = 0
        out[name] = sorted(idx.tolist())
    return out


@torch.no_grad()
def filter_keep_masks(model: nn.Module, keep_rate: float,
                      layers: str | Sequence[str] = "all_conv") -> dict[str, Tensor]:
    """Weight-shaped keep-masks (False on the lowest-norm filters) for
    :func:`regprune.pruning.apply_masks`: *hard* filter pruning, where zeroed filters stay zero."""
    keep_rate = check_keep_rate(keep_rate)
    masks = {}
    for name, conv in select_layers(model, layers).items():
        mask = torch.ones_like(conv.weight, dtype=torch.bool)
        mask[lowest_norm_filters(conv, pruned_count(conv.weight.shape[0], keep_rate)).to(mask.device)] = False
        masks[name] = mask
    return masks


@HOOKS.register("soft_filter_pruning")
class SoftFilterPruning(Hook):
    """SFP as an epoch hook: zero the lowest-norm filters before training and after every epoch.

    ``keep_rate``: fraction of filters kept per layer (paper 004 and SFP's "rate 0.9").
    ``layers``: ``"all_conv"`` (SFP's CIFAR setting, stem included), ``"blocks"``, or names.
    ``at_start``: also prune the initialized network before the first epoch (SFP and paper 004
    do). ``reevaluate``: the engine validates *before* the epoch-end hooks, but the weights it
    keeps as "best" are taken *after* them, i.e. pruned; SFP validates after pruning and keeps
    the best pruned model. So by default the hook re-evaluates the validation split (and the
    test split when ``train.monitor_test``) after pruning and overwrites ``val_loss`` /
    ``val_acc`` (and ``test_*``) of the epoch's history row, which is what model selection
    reads (the engine's pre-pruning figures are not kept: one extra validation pass per epoch
    is the whole cost). History fields: ``sfp.zeroed`` (filters zeroed this epoch, all layers) and
    ``sfp.recovered`` (filters zeroed at the previous pruning step that grew back above the
    lowest norms and are kept this time).

    Not every zeroed filter can recover. In training mode BN maps an all-zero channel to its
    ``beta``; where a ReLU follows (the stem, every block's ``conv1``) and ``beta <= 0``, no
    gradient reaches the filter or ``beta``. Pruning at initialization (``beta = 0``, no
    momentum yet), as SFP and paper 004 do, therefore zeroes those filters *for good*: they
    have norm 0 at every later epoch end and are chosen again, so in 10 of ResNet-20's 19
    convs the pruned set is fixed at initialization, and only ``conv2`` filters (added to the
    residual stream before the ReLU) move in and out, except on channels an option-A shortcut
    pads with zeros, which are dead the same way. Filters zeroed at an epoch end recover,
    carried by their momentum. ``at_start=False`` starts pruning after the first epoch instead.
    """

    def __init__(self, keep_rate: float = 0.9, layers: str | Sequence[str] = "all_conv", at_start: bool = True,
                 reevaluate: bool = True):
        self.keep_rate = check_keep_rate(keep_rate, "soft_filter_pruning.keep_rate")
        if isinstance(layers, str):
            check_choice("soft_filter_pruning.layers", layers, LAYER_SETS)
        elif not isinstance(layers, (list, tuple)) or not all(isinstance(n, str) for n in layers):
            raise ConfigError(f"soft_filter_pruning.layers={layers!r} is not allowed; give one of "
                              f"{list(LAYER_SETS)} or a list of conv layer names")
        self.layers = layers if isinstance(layers, str) else list(layers)
        self.at_start, self.reevaluate = bool(at_start), bool(reevaluate)
        self.last: dict[str, list[int]] = {}

    def _prune(self, model: nn.Module) -> dict[str, Any]:
        zeroed = zero_filters(model, self.keep_rate, self.layers)
        recovered = sum(len(set(self.last.get(n, ())) - set(idx)) for n, idx in zeroed.items())
        self.last = zeroed
        return {"sfp.zeroed": sum(len(v) for v in zeroed.values()), "sfp.recovered": recovered}

    def on_fit_start(self, state: FitState) -> None:
        select_layers(state.model, self.layers)  # unknown names fail before any training
        if self.at_start and not state.history:  # not again when a run resumes
            self._prune(state.model)

    def on_epoch_end(self, state: FitState) -> dict[str, Any]:
        row = self._prune(state.model)
        if self.reevaluate:
            val = evaluate(state.model, state.splits.val, state.loss, batch_size=state.cfg.eval_batch_size,
                           cfg=state.cfg)
            row.update(val_loss=val["loss"], val_acc=val["acc"])
            if state.cfg.monitor_test:
                test = evaluate(state.model, state.splits.test, state.loss, batch_size=state.cfg.eval_batch_size,
                                cfg=state.cfg)
                row.update(test_loss=test["loss"], test_acc=test["acc"])
        return row

    @torch.no_grad()
    def on_fit_end(self, state: FitState) -> dict[str, Any] | None:
        """SFP's last step: the selected network with its zero filters removed (:func:`compact_resnet`).
        Records its size, its MACs beside He et al.'s count, and the largest output difference
        from the zero-filter network on a validation batch, which should be float noise."""
        model = state.model
        if state.status != "completed" or not isinstance(model, CifarResNet):
            return None
        was_training = model.training
        model.eval()
        compact = compact_resnet(model)
        x = state.splits.val.x[:256].to(next(model.parameters()).device)
        diff = (compact(x).float() - model(x).float()).abs().max().item()
        model.train(was_training)
        shape = tuple(state.splits.val.input_shape)
        return {"sfp_compact": {
            "keep_rate": self.keep_rate, "params": count_parameters(compact)["total"],
            "macs": count_macs(compact, shape, x.device)["total"], "paper_macs": sfp_paper_macs(model, self.keep_rate, shape),
            "kept_filters": kept_filters(model), "max_abs_diff": diff,
        }}

    def state_dict(self) -> dict[str, Any]:
        return {"last": {n: list(v) for n, v in self.last.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last = {n: list(v) for n, v in state.get("last", {}).items()}


# --------------------------------------------------------------------------- FLOPs as He et al. count them


def _sfp_exponent(name: str) -> int:
    """How many of a CIFAR-ResNet conv's two channel dimensions He et al. 2018 shrink by the keep rate."""
    parts = name.split(".")
    if name == "conv1":
        return 1  # stem: output filters pruned, RGB input not
    if len(parts) == 3 and parts[0] in ("layer1", "layer2", "layer3") and parts[2] in ("conv1", "conv2"):
        if parts[2] == "conv2" or (parts[0] == "layer1" and parts[1] == "0"):
            return 2  # reads a pruned conv's output directly (conv1 of its block; the stem)
        return 1  # reads the residual stream (a sum), which pruning does not narrow
    raise ValueError(f"{name!r} is not a conv of a regprune CIFAR ResNet (conv1, layerS.B.conv1/conv2)")


def sfp_paper_macs(model: nn.Module, keep_rate: float, input_shape: tuple[int, ...] = (3, 32, 32)) -> float:
    """Conv MACs of a CIFAR ResNet under soft filter pruning as He et al. 2018 count them
    (their ``utils/cifar_resnet_flop.py``), which paper 004 uses for its "MegaFLOPs".

    Rule: every conv layer's dense MACs ``C_out * C_in * k * k * H_out * W_out`` times
    ``r`` (its output filters are pruned at keep rate ``r``) or ``r**2`` when its input
    channels shrink too, which He et al. grant only to convs that read a pruned conv's output
    directly: each block's ``conv2`` and the first block's ``conv1`` (it reads the stem). Every
    other block ``conv1`` reads the residual stream and keeps its full input. ``r`` is the
    continuous rate (no rounding to whole filters); the FC layer, BN, ReLU, pooling and
    shortcuts are not counted. A float: for ResNet-20 at r = 0.9 this is 34,371,993.6 ("34.37";
    dense 40,550,400 = "40.55"). MACs, which papers following He et al. call FLOPs.
    """
    r = check_keep_rate(keep_rate)
    for name in weight_layers(model, (nn.Conv1d, nn.Conv2d)):
        _sfp_exponent(name)  # not a CIFAR ResNet: fail before running it
    total = 0.0
    for row in layer_table(model, input_shape):
        if row["type"] != "Linear":
            total += row["macs"] * r ** _sfp_exponent(row["layer"])
    return total


def sfp_macs(model: nn.Module, keep_rate: float, input_shape: tuple[int, ...] = (3, 32, 32)) -> dict[str, Any]:
    """Both FLOP figures of a CIFAR ResNet soft-pruned at ``keep_rate``.

    ``paper_conv``: He et al.'s continuous-rate rule (:func:`sfp_paper_macs`, paper 004's
    Table 1 in millions: ``paper_mflops``). ``compact``: :func:`count_macs` of the compact
    network actually extracted (:func:`compact_resnet`) from a copy of
    ``model`` whose ``floor((1 - r) * n)`` lowest-norm filters per conv are zeroed (a model
    already soft-pruned at that rate keeps its zero filters), so whole filters and the
    full-width residual stream. ``dense``: the unpruned model's MACs.
    """
    pruned = copy.deepcopy(model).eval()
    zero_filters(pruned, keep_rate, "all_conv")
    compact = compact_resnet(pruned)
    paper = sfp_paper_macs(model, keep_rate, input_shape)
    dense = count_macs(model, input_shape)
    got = count_macs(compact, input_shape)
    return dict(
        keep_rate=float(keep_rate), paper_conv=paper, paper_mflops=round(paper / 1e6, 2),
        dense_conv=dense["conv"], dense_total=dense["total"],
        compact_conv=got["conv"], compact_linear=got["linear"], compact_total=got["total"],
        compact_params=count_parameters(compact)["total"], dense_params=count_parameters(model)["total"],
        kept_filters=kept_filters(pruned),
    )


# --------------------------------------------------------------------------- compact extraction


class FoldedConv(nn.Module):
    """A conv over the non-constant input channels, plus what the constant ones contribute.

    ``in_index`` (optional): the input channels read (the others are known constants and are
    not read). ``const_kernel`` (optional, ``(C_out, 1, kh, kw)``): ``sum_j c_j * W[:, j]`` over
    the dropped constant channels ``j`` of value ``c_j``. Their contribution is *not* a plain
    bias: with zero padding, border outputs see fewer taps of a constant map, so it is the
    position-dependent map ``conv(ones(H, W), const_kernel)``, computed once per input size and
    cached (no MACs per inference beyond one add; :mod:`regprune.counting` counts only ``conv``).
    """

    def __init__(self, conv: nn.Conv2d, in_index: Tensor | None = None, const_kernel: Tensor | None = None):
        super().__init__()
        self.conv = conv
        self.register_buffer("in_index", in_index)
        self.register_buffer("const_kernel", const_kernel)
        self._maps: dict[tuple, Tensor] = {}

    def _apply(self, fn, *args, **kwargs):  # a move or cast invalidates the cached maps
        self._maps = {}
        return super()._apply(fn, *args, **kwargs)

    def _const_map(self, x: Tensor) -> Tensor:
        key = (x.shape[-2], x.shape[-1], x.device, x.dtype)
        if key not in self._maps:
            c = self.conv
            with torch.no_grad():
                ones = torch.ones(1, 1, *key[:2], device=x.device, dtype=x.dtype)
                self._maps[key] = F.conv2d(ones, self.const_kernel.to(x.dtype), None, c.stride, c.padding, c.dilation)
        return self._maps[key]

    def forward(self, x: Tensor) -> Tensor:
        if self.in_index is not None:
            x_in = x.index_select(1, self.in_index)
        else:
            x_in = x
        y = self.conv(x_in)
        if self.const_kernel is not None:
            y.add_(self._const_map(x))  # in place: a conv's output is not saved for its backward
        return y


def _is_channels_last(t: Tensor) -> bool:
    return t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()


def _add_channels(out: Tensor, index: Tensor, y: Tensor) -> Tensor:
    """``out[:, index] += y`` in place. In channels_last, ``index_add_`` over dim 1 measured
    about 10x slower than over the last dim of the (N*H*W, C) view that layout already is."""
    if _is_channels_last(out) and _is_channels_last(y):
        out.permute(0, 2, 3, 1).view(-1, out.shape[1]).index_add_(  # view: never a copy
            1, index, y.permute(0, 2, 3, 1).reshape(-1, y.shape[1]))
        return out
    return out.index_add_(1, index, y)


class CompactStem(nn.Module):
    """Stem conv + BN + ReLU over the kept filters; pruned channels of the residual stream are
    written back as their constants ``relu(BN(0))`` (the stream keeps its full width)."""

    def __init__(self, conv: FoldedConv, bn: nn.BatchNorm2d, width: int, keep: Tensor | None, const: Tensor | None):
        super().__init__()
        self.conv, self.bn, self.width = conv, bn, width
        self.register_buffer("keep", keep)
        self.register_buffer("const", const)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.bn(self.conv(x)))
        if self.keep is None:
            return y
        n, _, h, w = y.shape
        fmt = torch.channels_last if _is_channels_last(y) else torch.contiguous_format
        out = torch.empty((n, self.width, h, w), dtype=y.dtype, device=y.device, memory_format=fmt)
        out.copy_(self.const.to(y.dtype).view(1, -1, 1, 1).expand(n, self.width, h, w))
        return out.index_copy_(1, self.keep, y)


class CompactBlock(nn.Module):
    """A basic block with pruned filters removed. ``conv1`` reads only non-constant stream
    channels and outputs only kept filters; ``conv2`` reads those and outputs only its kept
    filters, which are added into their positions (``out_index``) of the full-width residual
    stream; pruned ``conv2`` filters add their constant ``BN2(0)`` (``out_const``)."""

    def __init__(self, conv1: FoldedConv, bn1: nn.BatchNorm2d, conv2: FoldedConv, bn2: nn.BatchNorm2d,
                 shortcut: nn.Module, out_index: Tensor | None, out_const: Tensor | None):
        super().__init__()
        self.conv1, self.bn1, self.conv2, self.bn2, self.shortcut = conv1, bn1, conv2, bn2, shortcut
        self.register_buffer("out_index", out_index)
        self.register_buffer("out_const", out_const)

    def forward(self, x: Tensor) -> Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = self.shortcut(x)
        if self.out_index is None:
            return F.relu(s + y)
        out = s + self.out_const.to(s.dtype).view(1, -1, 1, 1)  # a new tensor: safe to add into in place
        return F.relu(_add_channels(out, self.out_index, y))


class CompactResNet(nn.Module):
    """A soft-pruned CIFAR ResNet with its zero filters physically removed (see :func:`compact_resnet`)."""

    def __init__(self, stem: CompactStem, layers: Sequence[nn.Sequential], linear: nn.Linear):
        super().__init__()
        self.stem = stem
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = linear

    def forward(self, x: Tensor) -> Tensor:
        out = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.linear(global_avg_pool(out).flatten(1))


def zero_filter_mask(conv: nn.Module) -> Tensor:
    """True for output filters whose effective weights are all exactly zero."""
    w = conv.weight.detach()
    return (w.reshape(w.shape[0], -1) == 0).all(dim=1)


def _bn_at_zero(bn: nn.BatchNorm2d) -> Tensor:
    """Eval-mode BN output per channel for an all-zero input: ``beta - gamma * mean / sqrt(var + eps)``."""
    if not bn.track_running_stats or bn.running_mean is None:
        raise ConfigError("compact_resnet needs batch norms with running statistics (track_running_stats=True)")
    scale = torch.rsqrt(bn.running_var.detach() + bn.eps)
    out = -bn.running_mean.detach() * scale
    if bn.affine:
        out = out * bn.weight.detach() + bn.bias.detach()
    return out


def _sub_bn(bn: nn.BatchNorm2d, keep: Tensor) -> nn.BatchNorm2d:
    new = nn.BatchNorm2d(int(keep.numel()), eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
                         track_running_stats=bn.track_running_stats, device=bn.running_mean.device,
                         dtype=bn.running_mean.dtype)
    with torch.no_grad():
        if bn.affine:
            new.weight.copy_(bn.weight.detach()[keep])
            new.bias.copy_(bn.bias.detach()[keep])
        new.running_mean.copy_(bn.running_mean[keep])
        new.running_var.copy_(bn.running_var[keep])
        new.num_batches_tracked.copy_(bn.num_batches_tracked)
    return new


def _fold_conv(conv: nn.Conv2d, out_keep: Tensor, in_const: Tensor, in_value: Tensor, *,
               select_input: bool, where: str) -> FoldedConv:
    """The kept filters of ``conv`` over its non-constant inputs, constants folded (exactly)."""
    w = conv.weight.detach()
    keep_out = torch.nonzero(out_keep).flatten()
    keep_in = torch.nonzero(~in_const).flatten()
    if keep_out.numel() == 0 or keep_in.numel() == 0:
        raise ConfigError(f"compact_resnet: {where} has no kept filter or no non-constant input; "
                          "nothing sensible is left to extract")
    if conv.groups != 1:
        raise ConfigError(f"compact_resnet: {where} is a grouped conv (groups={conv.groups}); not supported")
    w_out = w[keep_out]
    kernel = None
    if bool(in_const.any()):
        value = in_value.to(w.dtype).to(w.device)
        k = (w_out[:, in_const] * value[in_const].view(1, -1, 1, 1)).sum(1, keepdim=True)
        if bool((k != 0).any()):
            kernel = k
    small = nn.Conv2d(int(keep_in.numel()), int(keep_out.numel()), conv.kernel_size, conv.stride, conv.padding,
                      conv.dilation, bias=conv.bias is not None, padding_mode=conv.padding_mode,
                      device=w.device, dtype=w.dtype)
    if conv.padding_mode != "zeros" and kernel is not None:
        raise ConfigError(f"compact_resnet: {where} pads with {conv.padding_mode!r}; only zero padding is folded")
    with torch.no_grad():
        small.weight.copy_(w_out[:, keep_in])
        if conv.bias is not None:
            small.bias.copy_(conv.bias.detach()[keep_out])
    index = keep_in.to(w.device) if select_input and keep_in.numel() < in_const.numel() else None
    return FoldedConv(small, index, kernel)


def _shortcut_stream(shortcut: nn.Module, const: Tensor, value: Tensor) -> tuple[nn.Module, Tensor, Tensor]:
    """Copy of the shortcut, and which channels of its output are constants (and their values)."""
    if isinstance(shortcut, nn.Identity):
        return nn.Identity(), const, value
    if isinstance(shortcut, PadShortcut):
        lo, hi = shortcut.pad // 2, shortcut.pad - shortcut.pad // 2
        new = PadShortcut(0, shortcut.pad, shortcut.stride)
        pads = [torch.ones(k, dtype=torch.bool, device=const.device) for k in (lo, hi)]
        return (new, torch.cat([pads[0], const, pads[1]]),
                torch.cat([value.new_zeros(lo), value, value.new_zeros(hi)]))
    raise ConfigError(f"compact_resnet: unsupported shortcut {type(shortcut).__name__}; "
                      "only option A (PadShortcut) and identity")


@torch.no_grad()
def compact_resnet(model: CifarResNet, conv2_outputs: str = "remove") -> CompactResNet:
    """A physically smaller network computing the same function (eval mode) as a soft-pruned
    CIFAR ResNet whose pruned filters are exactly zero (plain zeros or a mask parametrization).

    Physically removed: every zero filter (its conv output channel and its BN entries) of the
    stem and of both convs of every block, and the matching input channels of the conv that
    reads them: the block's ``conv2`` reads only ``conv1``'s kept filters; ``layer1.0.conv1``
    reads only the stem's kept channels. A zero filter is *not* a zero channel: eval BN maps it
    to the constant ``beta - gamma * mean / sqrt(var + eps)`` (ReLU of it inside a block), so
    the constants of dropped input channels are folded into a padding-aware bias map of the
    reading conv (:class:`FoldedConv`), exactly.

    Kept: the residual stream at full width (16/32/64). Option-A shortcuts add the block input
    channel by channel (zero-padded by position), so a pruned ``conv2`` filter cannot shrink the
    stream: its channel still carries the shortcut. ``conv2``'s kept outputs are added into
    their positions (``index_add``) with the constants ``BN2(0)`` of its pruned filters, and the
    stem's pruned channels are filled in with their constants. The next block's ``conv1`` reads
    the full stream, except channels known to be constant (a channel an option-A shortcut pads
    with zeros, or a pruned stem channel, whose ``conv2`` filter is pruned too: these are folded
    like the others); the FC layer is unchanged. This is He et al.'s FLOP accounting (only a
    block's ``conv1`` input is not reduced) with whole filters (``floor`` as SFP zeroes them)
    instead of the continuous rate, plus those few constant stream channels.

    ``conv2_outputs="keep"`` leaves each ``conv2`` at full output width instead (its zero
    filters stay, as do their BN entries, which then yield the constants ``BN2(0)`` by
    themselves): no scatter into the stream, at the price of ``conv2``'s pruned outputs being
    computed. On CPUs whose conv kernels pad channels to blocks of 8 or 16 (oneDNN with
    channels_last), dropping 3 of 32 outputs saves little and the scatter costs an extra pass;
    ``bench/latency.py`` measures both.

    BN of kept channels stays a BN module (no folding into the conv), so the compact model
    computes like the original; it matches the masked model in eval mode only (the pruned
    channels' constants come from the running statistics).
    """
    check_choice("conv2_outputs", conv2_outputs, ("remove", "keep"))
    if not isinstance(model, CifarResNet):
        raise ConfigError(f"compact_resnet needs a regprune CIFAR ResNet (resnet20/32/44/56/110); "
                          f"got {type(model).__name__}")
    dev, dtype = model.linear.weight.device, model.linear.weight.dtype
    zeros = lambda n: torch.zeros(n, device=dev, dtype=dtype)  # noqa: E731

    # stem: its pruned channels are constants of the stream
    p0 = zero_filter_mask(model.conv1)
    width = int(p0.numel())
    no_const = torch.zeros(model.conv1.in_channels, dtype=torch.bool, device=dev)
    stem_conv = _fold_conv(model.conv1, ~p0, no_const, zeros(no_const.numel()), select_input=True, where="conv1")
    value = torch.where(p0, F.relu(_bn_at_zero(model.bn1)).to(dev, dtype), zeros(width))
    stem = CompactStem(stem_conv, _sub_bn(model.bn1, torch.nonzero(~p0).flatten()), width,
                       torch.nonzero(~p0).flatten() if bool(p0.any()) else None,
                       value if bool(p0.any()) else None)
    const = p0.clone()

    stages = []
    for s, stage in enumerate((model.layer1, model.layer2, model.layer3), start=1):
        blocks = []
        for b, block in enumerate(stage):
            where = f"layer{s}.{b}"
            p1, p2 = zero_filter_mask(block.conv1), zero_filter_mask(block.conv2)
            conv1 = _fold_conv(block.conv1, ~p1, const, value, select_input=True, where=f"{where}.conv1")
            inner = torch.where(p1, F.relu(_bn_at_zero(block.bn1)).to(dev, dtype), zeros(p1.numel()))
            out2 = ~p2 if conv2_outputs == "remove" else torch.ones_like(p2)
            conv2 = _fold_conv(block.conv2, out2, p1, inner, select_input=False, where=f"{where}.conv2")
            shortcut, s_const, s_value = _shortcut_stream(block.shortcut, const, value)
            b2 = torch.where(p2, _bn_at_zero(block.bn2).to(dev, dtype), zeros(p2.numel()))
            pruned2 = bool(p2.any()) and conv2_outputs == "remove"
            blocks.append(CompactBlock(
                conv1, _sub_bn(block.bn1, torch.nonzero(~p1).flatten()),
                conv2, _sub_bn(block.bn2, torch.nonzero(out2).flatten()), shortcut,
                torch.nonzero(~p2).flatten() if pruned2 else None, b2 if pruned2 else None,
            ))
            # a stream channel stays constant only if the shortcut carries a constant and conv2's filter is pruned
            const = s_const & p2
            value = torch.where(const, F.relu(s_value + b2), torch.zeros_like(b2))
        stages.append(nn.Sequential(*blocks))

    linear = nn.Linear(model.linear.in_features, model.linear.out_features, device=dev,
                       dtype=model.linear.weight.dtype)
    linear.weight.copy_(model.linear.weight.detach())
    linear.bias.copy_(model.linear.bias.detach())
    compact = CompactResNet(stem, stages, linear)
    compact.train(model.training)
    return compact


def kept_filters(model: nn.Module) -> dict[str, int]:
    """Nonzero filters per conv layer (after any parametrization): what a compact model keeps."""
    return {n: int((~zero_filter_mask(m)).sum()) for n, m in weight_layers(model, nn.Conv2d).items()}
