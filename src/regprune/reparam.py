"""Weight reparameterizations ``w = Psi(v)`` as ``torch.nn.utils.parametrize`` parametrizations.

* **companders** (paper 001, Cakaj et al.): ``Psi(v) = a * f(v / b)`` with ``f`` = arctan
  (the weight compander), arsinh or erf; ``a, b`` fixed, or learned per network
  (``coarse``) or per layer (``fine``);
* **Powerpropagation** (Schwarz et al. 2021): ``Psi(v) = v * |v|^(alpha - 1)``;
* **weight normalization** (Salimans and Kingma 2016): ``w = g * v / ||v||`` per output unit.

They act on the ``weight`` of conv and linear layers only, never on biases or batch norm.
``right_inverse`` sets ``v`` so that ``Psi(v)`` equals the layer's standard initialization,
they compose with masks (:class:`regprune.pruning.WeightMask`), and :func:`bake` removes
them after training, so the trained network has plain weights and the standard inference cost.

What the training engine reads from them (``decay_effective``, ``derivative``) is described in
:mod:`regprune.parametrized`.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Callable

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from .layers import weight_layers
from .parametrized import (EffectiveWeightDecay, bake, derivative_scaled, derivatives,  # noqa: F401
                           effective_decay_layers, no_decay_parameters)
from .registry import ConfigError, Registry, check_choice

REPARAMS = Registry("reparam")  # other method modules register theirs too; regprune.experiment imports them all
LEARNABLE = (None, "coarse", "fine")
DECAY = ("auto", "effective", "raw")
POLE_MARGIN = 1e-3  # weights at or beyond the pole are clamped to (1 - POLE_MARGIN) of it


def _erf_derivative(x: Tensor) -> Tensor:
    return (2 / math.sqrt(math.pi)) * torch.exp(-x * x)


# name: (f, f', f^-1, |f| < bound)
COMPANDERS: dict[str, tuple[Callable, Callable, Callable, float]] = {
    "arctan": (torch.atan, lambda x: 1 / (1 + x * x), torch.tan, math.pi / 2),
    "arsinh": (torch.asinh, lambda x: torch.rsqrt(1 + x * x), torch.sinh, math.inf),
    "erf": (torch.erf, _erf_derivative, torch.erfinv, 1.0),
}


def _positive(param: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ConfigError(f"{param} must be a positive number; got {value!r}")
    return float(value)


def _value(x: float | Tensor) -> float:
    return float(x.detach()) if isinstance(x, Tensor) else float(x)


@functools.lru_cache(maxsize=64)
def _made_once(value: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    return torch.full((), value, dtype=dtype, device=device)


def _scalar(value: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """A 0-dim tensor of ``value``, made once: a fixed compander's ``|b|``, ``b^2`` and 0 are
    operands of its kernels every step, and ``torch.full`` cost 3 us each (read-only: never
    written in place). ``torch.compile`` traces a plain ``torch.full`` (it would warn about the cache)."""
    if torch.compiler.is_compiling():
        return torch.full((), value, dtype=dtype, device=device)
    return _made_once(value, dtype, device)


def _f_over(fn: str, v: Tensor, b: float | Tensor) -> tuple[Tensor, float | Tensor]:
    """``(t, s)`` with ``f(v / b) = s * t``, ``s`` a scalar. arctan: ``t = atan2(v, |b|)``,
    ``s = sign(b)`` (atan is odd): one pass, and about 2.5x faster than ``atan(v / b)`` on this
    repo's CPUs (``atan2`` is vectorized there, ``atan`` is not)."""
    if fn != "arctan":
        return COMPANDERS[fn][0](v / b), 1.0
    if isinstance(b, Tensor):  # learned: b may cross zero
        return torch.atan2(v, b.detach().abs()), torch.sign(b.detach())
    return torch.atan2(v, _scalar(abs(b), v.dtype, v.device)), math.copysign(1.0, b)


def _add_scaled(g: Tensor, t: Tensor, k: float) -> Tensor:
    """``g + k * t``, one pass (``alpha``). Under ``torch.compile`` it is written ``g + t * k``,
    which inductor fuses the same: torch 2.13's inductor lowers ``torch.add(g, t, alpha=k)`` with
    ``k`` a float read from ``ctx`` as ``alpha = 1``, so a compiled compander's folded decay came
    out ``1 / lambda`` times too large (its weights shrank to zero; tested)."""
    if torch.compiler.is_compiling():
        return g + t * k
    return torch.add(g, t, alpha=k)


def _grad_v(fn: str, g: Tensor, v: Tensor, a: float | Tensor, b: float | Tensor) -> Tensor:
    """``g * a * f'(v / b) / b``; for arctan ``g * a * b / (b^2 + v^2)``, in two passes."""
    if fn != "arctan":
        return COMPANDERS[fn][1](v / b).mul_(g).mul_(a / b)
    b2 = b * b if isinstance(b, Tensor) else _scalar(b * b, v.dtype, v.device)
    den = torch.addcmul(b2, v, v)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return torch.div(g, den).mul_(a * b)
    return torch.addcdiv(_scalar(0.0, v.dtype, v.device), g, den, value=a * b)


class _Compand(torch.autograd.Function):
    """``w = a * f(v / b)`` with the backward written out, so a step pays for ``f`` once and for
    its derivative in a few fused passes instead of autograd's chain through ``v / b``, ``f`` and
    ``a *``: ``dv = g * a * f'(v/b) / b``, ``da = sum(g * f(v/b))``, ``db = -sum(dv * v) / b``.

    Profile of one LeNet-300-100 step (batch 128, one thread, before this): 5 ms plain, 13 ms with
    the fixed compander and weight decay. ``aten::atan`` alone took ~1 ms on the 784x300 weight
    (not vectorized on this CPU: ~25x a multiply) and ran twice per step (forward, then again for
    the effective weight decay penalty); autograd's backward through ``div, atan, mul`` and the
    penalty's ``pow, sum`` added about a dozen elementwise passes per weight. Now: ``atan2`` once
    per step, two passes backward, and the effective weight decay folded into the first of them
    (``decay``: ``lambda``; see :meth:`Compander.fold_decay`)."""

    @staticmethod
    def forward(ctx, v: Tensor, a: float | Tensor, b: float | Tensor, fn: str, decay: float) -> Tensor:
        t, s = _f_over(fn, v, b)
        ctx.fn, ctx.s, ctx.decay = fn, s, decay
        ctx.a, ctx.b = (None if isinstance(x, Tensor) else x for x in (a, b))  # floats; tensors are saved
        ctx.save_for_backward(v, t if ctx.needs_input_grad[1] or decay else None,
                              *(x for x in (a, b) if isinstance(x, Tensor)))
        scale = a * s
        return t if isinstance(scale, float) and scale == 1.0 else t * scale  # a = 1: no pass

    @staticmethod
    def backward(ctx, g: Tensor):
        v, t, *scales = ctx.saved_tensors
        a = scales.pop(0) if ctx.a is None else ctx.a
        b = scales.pop(0) if ctx.b is None else ctx.b
        if ctx.decay:  # the folded decay: dL/dw + lambda * w, w = a * s * t (see Compander.fold_decay)
            k = ctx.decay * a * ctx.s
            g = _add_scaled(g, t, k) if isinstance(k, float) else torch.addcmul(g, t, k)
        dv = _grad_v(ctx.fn, g, v, a, b)
        da = (g * t).sum() * ctx.s if ctx.needs_input_grad[1] else None
        db = (dv * v).sum().neg_() / b if ctx.needs_input_grad[2] else None
        return (dv if ctx.needs_input_grad[0] else None), da, db, None, None


class _CompandFixed(torch.autograd.Function):
    """:class:`_Compand` for floats ``a, b`` (every fixed compander): the compander rides along on
    ``ctx``, so a call passes one object instead of four scalars and its backward branches on
    nothing it need not. The same kernels in the same order (results bit-identical), for about
    11 us less Python per layer and step (LeNet-300-100: 3 layers, a 1.4 ms plain step)."""

    @staticmethod
    def forward(ctx, v: Tensor, c: "Compander") -> Tensor:
        t, s = _f_over(c.fn, v, c.b)
        ctx.c, ctx.s, ctx.decay = c, s, c.folded_decay
        ctx.save_for_backward(v, t if ctx.decay else None)
        scale = c.a * s
        return t if scale == 1.0 else t * scale

    @staticmethod
    def backward(ctx, g: Tensor):
        v, t = ctx.saved_tensors
        c = ctx.c
        if ctx.decay:  # as in _Compand.backward
            g = _add_scaled(g, t, ctx.decay * c.a * ctx.s)
        return _grad_v(c.fn, g, v, c.a, c.b), None


class Compander(nn.Module):
    """``Psi(v) = a * f(v / b)``: compresses large weights (bounded by ``a * sup f``) and, since
    ``Psi'`` is largest at 0, pushes small ones away from zero.

    ``a`` and ``b`` are floats, or ``nn.Parameter`` scalars when learned (one pair shared by
    every layer for ``coarse``, one per layer for ``fine``).
    """

    def __init__(self, fn: str = "arctan", a: float | nn.Parameter = 1.0, b: float | nn.Parameter = 1.0,
                 *, decay_effective: bool = True):
        super().__init__()
        self.fn = check_choice("compander.fn", fn, COMPANDERS)
        self.f, self.df, self.finv, self.bound = COMPANDERS[fn]
        self.a, self.b = a, b
        self.decay_effective = decay_effective
        self.folded_decay = 0.0

    def forward(self, v: Tensor) -> Tensor:
        if isinstance(self.a, Tensor) or isinstance(self.b, Tensor):
            return _Compand.apply(v, self.a, self.b, self.fn, self.folded_decay)
        return _CompandFixed.apply(v, self)

    def fold_decay(self, lam: float) -> None:
        """While ``lam > 0``, the backward of ``Psi`` adds ``lam * Psi(v)`` to the gradient it
        receives: the gradient of ``lam/2 * ||Psi(v)||^2``, without that penalty's own forward,
        backward and gradient accumulation (about 10% of a LeNet-300-100 step). The engine sets
        it for the forward of each training step (:func:`regprune.parametrized.effective_decay`).
        Written to the instance's ``__dict__`` (where ``nn.Module`` keeps a float anyway): its
        ``__setattr__`` took 1.4 us, twice per layer and step."""
        self.__dict__["folded_decay"] = float(lam)

    def derivative(self, v: Tensor) -> Tensor:
        """``Psi'(v) = a/b * f'(v/b)``: the factor the chain rule puts on ``dL/dPsi(v)``."""
        return (self.a / self.b) * self.df(v / self.b)

    @torch.no_grad()
    def right_inverse(self, w: Tensor) -> Tensor:
        """``v = b * f^-1(w / a)``. arctan and erf are bounded (``|w| < a*pi/2``, ``|w| < a``):
        weights at or beyond the bound have no preimage; they are clamped to ``1 - POLE_MARGIN``
        of it, with a warning, so ``Psi(v)`` then differs from them (and ``Psi'`` is tiny there,
        so such weights barely move)."""
        a, b = _value(self.a), _value(self.b)
        r = w / a
        limit = self.bound * (1 - POLE_MARGIN)
        outside = int((r.abs() >= limit).sum())
        if outside:
            warnings.warn(
                f"{outside} of {w.numel()} weights have |w| >= {self.bound * a:.4g} (the {self.fn} compander's "
                f"bound for a={a:g}); they are clamped to {limit * a:.4g} to initialize v", stacklevel=2)
            r = r.clamp(-limit, limit)
        return b * self.finv(r)

    def extra_repr(self) -> str:
        learn = "learnable" if isinstance(self.a, nn.Parameter) else "fixed"
        return f"fn={self.fn}, a={_value(self.a):.4g}, b={_value(self.b):.4g}, {learn}"


class PowerProp(nn.Module):
    """Powerpropagation ``Psi(v) = sign(v) * |v|^alpha`` (= ``v * |v|^(alpha-1)``, written so the
    gradient at ``v = 0`` is 0, not NaN): small weights get small updates, which breeds sparsity."""

    def __init__(self, alpha: float = 2.0, *, decay_effective: bool = True):
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 1:
            raise ConfigError(f"powerprop.alpha must be a number >= 1; got {alpha!r}")
        self.alpha = float(alpha)
        self.decay_effective = decay_effective

    def forward(self, v: Tensor) -> Tensor:
        return torch.sign(v) * v.abs().pow(self.alpha)

    def derivative(self, v: Tensor) -> Tensor:
        return self.alpha * v.abs().pow(self.alpha - 1)

    @torch.no_grad()
    def right_inverse(self, w: Tensor) -> Tensor:
        return torch.sign(w) * w.abs().pow(1 / self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


def _norm_per_output(v: Tensor) -> Tensor:
    return v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))


class WeightNorm(nn.Module):
    """``w = g * v / ||v||`` with one ``g`` per output unit (``dim 0``); originals ``(g, v)``."""

    def __init__(self, *, decay_effective: bool = True):
        super().__init__()
        self.decay_effective = decay_effective

    def forward(self, g: Tensor, v: Tensor) -> Tensor:
        return v * (g / _norm_per_output(v))

    @torch.no_grad()
    def right_inverse(self, w: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_per_output(w), w


# --------------------------------------------------------------------------- applying by name


def _decay_effective(decay: str, learnable: str | None = None) -> bool:
    check_choice("reparam.decay", decay, DECAY)
    if decay == "auto":  # the paper: decay Psi(v) for fixed a, b; decay v only when a, b are learned
        return learnable is None
    return decay == "effective"


def _register(model: nn.Module, make: Callable[[], nn.Module]) -> nn.Module:
    for layer in weight_layers(model).values():
        if parametrize.is_parametrized(layer, "weight"):
            raise ConfigError(f"{type(layer).__name__} already has a parametrized weight; apply a reparam first, "
                              "masks after it")
        parametrize.register_parametrization(layer, "weight", make())
    return model


@REPARAMS.register("compander")
def compander(model: nn.Module | None, fn: str = "arctan", a: float = 1.0, b: float = 1.0,
              learnable: str | None = None, decay: str = "auto") -> nn.Module | None:
    """Companders on every conv/linear weight. ``learnable``: None (a, b fixed), ``coarse`` (one
    learned pair for the network) or ``fine`` (one learned pair per layer; ``a, b`` are then the
    initial values). ``decay``: ``auto`` follows the paper (``effective`` when fixed, ``raw`` when
    learned), ``effective`` decays ``Psi(v)``, ``raw`` decays ``v``. ``model=None`` only checks."""
    check_choice("compander.fn", fn, COMPANDERS)
    a, b = _positive("compander.a", a), _positive("compander.b", b)
    check_choice("compander.learnable", learnable, LEARNABLE)
    effective = _decay_effective(decay, learnable)
    if model is None:
        return None
    device = next(model.parameters()).device

    def scalar(x: float) -> nn.Parameter:
        return nn.Parameter(torch.tensor(x, device=device))

    shared = (scalar(a), scalar(b)) if learnable == "coarse" else None

    def make() -> Compander:
        if learnable is None:
            return Compander(fn, a, b, decay_effective=effective)
        pa, pb = shared if shared else (scalar(a), scalar(b))
        return Compander(fn, pa, pb, decay_effective=effective)

    return _register(model, make)


@REPARAMS.register("powerprop")
def powerprop(model: nn.Module | None, alpha: float = 2.0, decay: str = "effective") -> nn.Module | None:
    """Powerpropagation on every conv/linear weight (``alpha = 1`` is the plain network)."""
    effective = _decay_effective(decay)
    PowerProp(alpha)  # checks alpha
    return None if model is None else _register(model, lambda: PowerProp(alpha, decay_effective=effective))


@REPARAMS.register("weight_norm")
def weight_norm(model: nn.Module | None, decay: str = "effective") -> nn.Module | None:
    """Weight normalization on every conv/linear weight."""
    effective = _decay_effective(decay)
    return None if model is None else _register(model, lambda: WeightNorm(decay_effective=effective))


def _spec(spec: Any) -> dict[str, Any]:
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    if "name" not in spec:
        raise ConfigError(f"reparam must be a name or a dict with a 'name'; got {spec!r}; "
                          f"allowed names: {REPARAMS.names()}")
    return spec


def check(spec: Any) -> None:
    """Check a reparam spec (names and values) without a model."""
    if spec is None:
        return
    spec = _spec(spec)
    name = REPARAMS.check(spec.pop("name"), "reparam.name")
    try:
        REPARAMS.build(name, model=None, **spec)
    except TypeError as err:
        raise ConfigError(f"reparam {name!r}: {err}") from err


def apply(model: nn.Module, spec: Any) -> nn.Module:
    """Apply the reparameterization a run config names (``None``: leave the model plain)."""
    if spec is None:
        return model
    check(spec)
    spec = _spec(spec)
    return REPARAMS.build(spec.pop("name"), model=model, **spec)


def curves(fn: str = "arctan", a: float = 1.0, b: float = 1.0, lim: float = 5.0, n: int = 401):
    """``(v, Psi(v), Psi'(v))`` on ``[-lim, lim]``, exact, for the chapter's Fig. 2."""
    c = Compander(fn, a, b)
    v = torch.linspace(-lim, lim, n, dtype=torch.float64)
    return v.numpy(), c(v).numpy(), c.derivative(v).numpy()
