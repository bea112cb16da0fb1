"""Parameter and multiply-accumulate (MAC) counts that see masks and reparameterizations.

Pruning papers report what a network *computes with*: a weight under a mask parametrization
(``torch.nn.utils.parametrize``) or a ``torch.nn.utils.prune`` mask counts through its
effective (masked) tensor, and zeroed connections or filters count as removed in the
``nonzero`` figures.  Dense conv MACs follow He et al. 2018 (Soft Filter Pruning):
``C_out * C_in/groups * kh * kw * H_out * W_out``; biases, BN, pooling and shortcuts are free.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.prune import BasePruningMethod

from .layers import LAYER_TYPES, weight_layers


def _own_tensors(m: nn.Module) -> Iterator[tuple[str, Tensor]]:
    """One module's effective tensors: parametrized ones computed, pruned ones masked."""
    if parametrize.is_parametrized(m):
        for name in m.parametrizations:
            yield name, getattr(m, name)
    pruned = {h._tensor_name for h in m._forward_pre_hooks.values() if isinstance(h, BasePruningMethod)}
    for name, p in m._parameters.items():
        if p is None:
            continue
        if name.endswith("_orig") and name[:-5] in pruned:
            yield name[:-5], getattr(m, name[:-5])
        else:
            yield name, p


def effective_parameters(model: nn.Module, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
    """(qualified name, tensor) for every tensor the network computes with.

    Parametrization modules are not descended into: their ``original`` is replaced by the
    parametrized tensor, and their own learnable parameters (e.g. a scale of a
    reparameterization) are not network parameters.  Tied plain parameters count once.
    """
    seen: set[int] = set()

    def walk(m: nn.Module, prefix: str) -> Iterator[tuple[str, Tensor]]:
        for name, t in _own_tensors(m):
            if isinstance(t, nn.Parameter):
                if id(t) in seen:
                    continue
                seen.add(id(t))
            yield prefix + name, t
        skip = "parametrizations" if parametrize.is_parametrized(m) else None
        for name, child in m.named_children():
            if name != skip:
                yield from walk(child, f"{prefix}{name}.")

    return walk(model, f"{prefix}." if prefix else "")


@torch.no_grad()
def count_parameters(model: nn.Module) -> dict[str, int]:
    """Total and nonzero numbers of effective parameters."""
    total = nonzero = 0
    for _, t in effective_parameters(model):
        total += t.numel()
        nonzero += int(torch.count_nonzero(t))
    return dict(total=total, nonzero=nonzero)


def _layer_row(name: str, m: nn.Module, x: Tensor, y: Tensor) -> dict[str, Any]:
    w, b = m.weight, m.bias
    tensors = [w] if b is None else [w, b]
    if isinstance(m, nn.Linear):
        positions = y[0].numel() // m.out_features  # extra leading dims besides the batch
        dense = m.in_features * m.out_features * positions
    else:
        positions = y[0, 0].numel()  # output spatial size
        dense = m.out_channels * (m.in_channels // m.groups) * torch.Size(m.kernel_size).numel() * positions
    kind = next(c.__name__ for c in type(m).__mro__ if c in LAYER_TYPES)  # not "ParametrizedConv2d"
    return dict(
        layer=name, type=kind, in_shape=tuple(x.shape), out_shape=tuple(y.shape),
        params=sum(t.numel() for t in tensors), nonzero=sum(int(torch.count_nonzero(t)) for t in tensors),
        macs=int(dense), macs_nonzero=int(torch.count_nonzero(w)) * positions,
    )


@torch.no_grad()
def layer_table(model: nn.Module, input_shape: tuple[int, ...], device: str | torch.device = "cpu") -> list[dict]:
    """Per-layer shapes, parameters and MACs of every Conv1d/Conv2d/Linear from one forward pass.

    The input is a batch of one *zero* example (no draw from the global RNG, so counting
    never changes a seeded run); the model runs in eval mode and every module's training
    flag is restored afterwards.  A layer called twice gives two rows.
    """
    rows: list[dict] = []
    floats = [p.dtype for p in model.parameters() if p.is_floating_point()]
    x = torch.zeros(1, *input_shape, device=device, dtype=floats[0] if floats else None)
    modes = {m: m.training for m in model.modules()}
    handles = [
        m.register_forward_hook(lambda m, inp, out, name=name: rows.append(_layer_row(name, m, inp[0], out)))
        for name, m in weight_layers(model).items()
    ]
    try:
        model.eval()
        model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    return rows


def count_macs(model: nn.Module, input_shape: tuple[int, ...], device: str | torch.device = "cpu") -> dict[str, int]:
    """Dense MACs split into conv and linear, and MACs over nonzero weights only."""
    return _macs(layer_table(model, input_shape, device))


def _macs(rows: list[dict]) -> dict[str, int]:
    conv = sum(r["macs"] for r in rows if r["type"] != "Linear")
    linear = sum(r["macs"] for r in rows if r["type"] == "Linear")
    return dict(total=conv + linear, conv=conv, linear=linear, nonzero=sum(r["macs_nonzero"] for r in rows))


def summary(model: nn.Module, input_shape: tuple[int, ...], device: str | torch.device = "cpu") -> dict[str, Any]:
    """Plain-int record for results files: params, nonzero params, the MAC dict, and the
    weights and biases of the fully connected layers (``fc_params``, ``fc_nonzero``), which
    papers that sparsify only the FC head count on their own."""
    params = count_parameters(model)
    rows = layer_table(model, input_shape, device)
    fc = [r for r in rows if r["type"] == "Linear"]
    return dict(params=params["total"], nonzero_params=params["nonzero"], macs=_macs(rows),
                fc_params=sum(r["params"] for r in fc), fc_nonzero=sum(r["nonzero"] for r in fc))
