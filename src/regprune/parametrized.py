"""What the engine reads from any ``torch.nn.utils.parametrize`` parametrization of a weight
(a compander, Powerpropagation, a mask, a switcher), by protocol, never by type:

* ``decay_effective = True``: weight decay acts on the effective weight ``Psi(v)``, not on
  ``v`` (paper 001's rule for fixed ``a, b``, "to get comparable results"): the optimizer
  leaves ``v`` undecayed and :class:`EffectiveWeightDecay` adds ``lambda/2 * ||Psi(v)||^2``
  to the loss, the same gradient ``lambda * w`` that plain SGD weight decay gives ``w``; a
  parametrization with ``fold_decay(lam)`` adds that gradient in its own backward instead
  (:func:`effective_decay`);
* parameters owned by a parametrization (the learnable ``a, b``) never get weight decay;
* ``derivative(v)``: ``Psi'(v)`` elementwise, for the modified adaptive optimizers
  (:func:`derivative_scaled`).

:func:`bake` removes every parametrization after training, so the trained network has plain
weights and the standard inference cost.
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize


def bake(model: nn.Module) -> nn.Module:
    """Replace every parametrized tensor by its current value (in place): plain weights, the same
    outputs, the inference cost of the standard network.

    ``copy.deepcopy`` of a parametrized module shares torch's generated ``Parametrized<Layer>``
    class, and removing a parametrization deletes the property from that class: baking a copy
    would break the original (and every other copy). Each module gets its own class first.

    A baked tensor keeps the memory layout (strides) of the tensor it was trained as: ``w * mask``
    of a one-input-channel channels_last conv weight comes out in the default layout, and that one
    layer then made a pruned channels_last LeNet-5 evaluate 2x slower (CPU, measured)."""
    for module in list(model.modules()):
        if parametrize.is_parametrized(module):
            cls = type(module)
            module.__class__ = type(cls.__name__, cls.__bases__, dict(cls.__dict__))
            for name in list(module.parametrizations):
                plist = module.parametrizations[name]
                # torch reuses the ``original`` tensor for the baked value: note its layout first
                layout = (plist.original.shape, plist.original.stride()) if plist.is_tensor else None
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
                _restride(getattr(module, name), layout)
    return model


@torch.no_grad()
def _restride(param: Tensor, layout: tuple[torch.Size, tuple[int, ...]] | None) -> None:
    """Give ``param`` the ``(shape, strides)`` of the tensor it was trained as, values unchanged."""
    if layout is None or layout[0] != param.shape or layout[1] == param.stride():
        return
    laid_out = torch.empty_strided(*layout, dtype=param.dtype, device=param.device)
    laid_out.copy_(param)
    param.data = laid_out


def _chains(model: nn.Module):
    """(layer, parametrization list of its weight) for every parametrized weight."""
    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):
            yield module, module.parametrizations.weight


def _originals(plist: nn.Module) -> list[nn.Parameter]:
    if plist.is_tensor:
        return [plist.original]
    return [getattr(plist, f"original{i}") for i in range(plist.ntensors)]


def no_decay_parameters(model: nn.Module) -> set[int]:
    """Ids of parameters the optimizer must not decay: those owned by parametrizations (learned
    ``a, b``), and the originals of weights whose decay acts on the effective weight."""
    out: set[int] = set()
    for _, plist in _chains(model):
        for p in plist:
            out.update(id(t) for t in p.parameters())
        if any(getattr(p, "decay_effective", False) for p in plist):
            out.update(id(t) for t in _originals(plist))
    return out


def effective_decay_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m, plist in _chains(model) if any(getattr(p, "decay_effective", False) for p in plist)]


class _HalfSquaredNorm(torch.autograd.Function):
    """``lam/2 * sum_i ||w_i||^2`` over a list of tensors, and its gradient ``lam * w_i``, each in
    one multi-tensor (``_foreach``) call: no kernel per layer, no ``pow``/``sum`` graph."""

    @staticmethod
    def forward(ctx, lam: float, *ws: Tensor) -> Tensor:
        ctx.lam = lam
        ctx.save_for_backward(*ws)
        return 0.5 * lam * torch.stack(torch._foreach_norm(ws)).float().square().sum()

    @staticmethod
    def backward(ctx, g: Tensor):
        return (None, *torch._foreach_mul(ctx.saved_tensors, g * ctx.lam))


class EffectiveWeightDecay:
    """Penalty ``lambda/2 * sum ||w||^2`` over the effective weights of ``decay_effective`` layers:
    its gradient on ``v`` is ``lambda * Psi(v) * Psi'(v)``, i.e. decay on ``Psi(v)``, not ``v``.

    Inside the step context of :func:`effective_decay` it reads the weights the forward pass
    computed, so ``Psi`` runs once per step."""

    def __init__(self, weight_decay: float, layers: list[nn.Module]):
        self.weight_decay, self.layers = float(weight_decay), layers

    def __call__(self, model: nn.Module) -> Tensor:
        return _HalfSquaredNorm.apply(self.weight_decay, *[m.weight for m in self.layers])


def effective_decay(model: nn.Module, weight_decay: float, *, loss_scaled: bool = False,
                    penalties: Sequence = ()) -> tuple[list[EffectiveWeightDecay], Callable[[], ContextManager]]:
    """How a training step decays the weights of ``decay_effective`` parametrizations, and the
    context its forward pass and penalties run in: ``(decay penalties to add to the loss, context)``.

    A weight parametrized by one parametrization that offers ``fold_decay(lam)`` (the companders)
    gets the decay's gradient ``lam * w`` inside that parametrization's backward, switched on by the
    context for each step's forward only (so no other use of the model sees it). The others get
    :class:`EffectiveWeightDecay`, as does every weight under a loss scaler (``loss_scaled``: the
    folded term would miss the scale). The context also caches each parametrized weight
    (``parametrize.cached()``) when any penalty (these, or the caller's ``penalties``) reads the
    weights, so ``Psi`` runs once per step."""
    layers = effective_decay_layers(model) if weight_decay > 0 else []

    def foldable(layer: nn.Module) -> bool:
        plist = layer.parametrizations.weight
        return not loss_scaled and len(plist) == 1 and hasattr(plist[0], "fold_decay")

    folds = [m.parametrizations.weight[0] for m in layers if foldable(m)]
    rest = [m for m in layers if not foldable(m)]
    decay = [EffectiveWeightDecay(weight_decay, rest)] if rest else []
    cache = bool(decay or penalties) and any(parametrize.is_parametrized(m) for m in model.modules())

    if folds:
        return decay, lambda: _FoldedStep(folds, weight_decay, cache)
    return decay, (parametrize.cached if cache else contextlib.nullcontext)


class _FoldedStep:
    """The step context of :func:`effective_decay` when decay is folded: switched on at entry,
    off at exit, caching inside when asked. A class, not a ``contextlib`` generator: it is entered
    once a training step."""

    def __init__(self, folds: list[nn.Module], weight_decay: float, cache: bool):
        self.folds, self.weight_decay = folds, weight_decay
        self.cache = parametrize.cached() if cache else None

    def __enter__(self) -> None:
        for f in self.folds:
            f.fold_decay(self.weight_decay)
        if self.cache is not None:
            self.cache.__enter__()

    def __exit__(self, *exc) -> None:
        try:
            if self.cache is not None:
                self.cache.__exit__(*exc)
        finally:
            for f in self.folds:
                f.fold_decay(0.0)


def derivatives(model: nn.Module) -> dict[int, Callable[[], Tensor]]:
    """``id(v) -> (lambda: Psi'(v))`` for every weight whose first parametrization is elementwise
    (companders, Powerpropagation). Later parametrizations in the chain (a mask) are left out:
    a mask zeroes the gradient of what it prunes anyway."""
    out = {}
    for _, plist in _chains(model):
        first = plist[0]
        if hasattr(first, "derivative") and plist.is_tensor:
            v = plist.original
            out[id(v)] = (lambda f=first, v=v: f.derivative(v))
    return out


def derivative_scaled(base: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """The *modified adaptive optimizer* of Powerpropagation (paper 001, Sec. III-A3), over ``base``.

    For a reparametrized weight the gradient is ``dL/dv = dL/dPsi(v) * Psi'(v)``; an adaptive
    optimizer would normalize ``Psi'`` away. So the step is computed by ``base`` from
    ``dL/dPsi(v)`` (recovered as ``dL/dv / Psi'(v)``; 0 where ``Psi'(v) = 0``) and then
    multiplied by ``Psi'(v)`` at the current ``v``. Other parameters step as with ``base``.
    """

    class DerivativeScaled(base):  # type: ignore[valid-type, misc]
        def __init__(self, params, *, derivatives: dict[int, Callable[[], Tensor]], **kwargs):
            super().__init__(params, **kwargs)
            self.derivatives = derivatives

        @torch.no_grad()
        def step(self, closure=None):
            if closure is not None:
                raise ValueError(f"{type(self).__name__} does not take a closure")
            scaled = []
            for group in self.param_groups:
                for p in group["params"]:
                    fn = self.derivatives.get(id(p))
                    if fn is None or p.grad is None:
                        continue
                    d = fn().detach()
                    p.grad = torch.where(d != 0, p.grad / torch.where(d != 0, d, 1), 0)
                    scaled.append((p, p.detach().clone(), d))
            super().step()
            for p, before, d in scaled:
                p.copy_(before + (p - before) * d)

    DerivativeScaled.__name__ = DerivativeScaled.__qualname__ = f"DerivativeScaled{base.__name__}"
    return DerivativeScaled
