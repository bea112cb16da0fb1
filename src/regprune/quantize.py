"""Fixed-point quantization of a trained network, as in paper 003 (Sharma et al., Sections 4, 5.3).

The paper quantizes trained FNNs in MATLAB with fixed-point numbers of ``total_bits`` bits of
which ``frac_bits`` are fraction bits, for totals from 16 down to 2; for every total it tries
fraction bits 3..15 and keeps the best. Section 4 argues that quantization lowers the VC bound
when it shrinks weights and biases (``u = {w; b}``), so both are quantized here, in every
Linear/Conv layer; other parameters (batch-norm affine) stay in full precision.

Signed two's-complement fixed point: a value is ``k * 2**-frac_bits`` with integer ``k`` in
``[-2**(total_bits-1), 2**(total_bits-1) - 1]``. Rounding ``"nearest"`` (ties toward +inf) with
saturation, MATLAB ``fi``'s defaults; ``"zero"`` truncates toward zero, which guarantees
``|u^Q| <= |u|`` (condition (21) of Theorem 1). The paper states neither.

Selection: the paper picks the fraction bits with the best *test* accuracy (Section 5.3); we
pick on validation accuracy (nothing here selects on the test set) and report test beside it.
"""

from __future__ import annotations

import copy
import hashlib
import math
from typing import Any, Callable, Iterable, Mapping

import pandas as pd
import torch
from torch import nn

from .layers import weight_layers
from .registry import ConfigError, check_choice
from .parametrized import bake

ROUNDING = ("nearest", "zero")
MARGIN_OF = ("all", "last")


def _int_param(param: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{param}={value!r} is not allowed; it must be an integer >= {low} and <= {high}")
    return value


def check_format(total_bits: int, frac_bits: int) -> None:
    """``total_bits`` in [2, 32] and ``frac_bits`` >= 0 (ConfigError naming the bad one).

    ``frac_bits >= total_bits`` is a valid format (MATLAB ``fi`` allows it: every value then
    lies strictly inside (-1, 1)); :func:`quantization_sweep` skips it unless asked.
    """
    _int_param("total_bits", total_bits, 2, 32)
    _int_param("frac_bits", frac_bits, 0, 62)


def quantize_tensor(x: torch.Tensor, total_bits: int, frac_bits: int, rounding: str = "nearest") -> torch.Tensor:
    """``x`` on the grid ``2**-frac_bits``, saturated to the signed ``total_bits`` range."""
    check_format(total_bits, frac_bits)
    check_choice("rounding", rounding, ROUNDING)
    scale = 2.0 ** frac_bits
    lo, hi = -(2 ** (total_bits - 1)), 2 ** (total_bits - 1) - 1
    k = x.double() * scale
    k = torch.floor(k + 0.5) if rounding == "nearest" else torch.trunc(k)
    return (k.clamp(lo, hi) / scale).to(x.dtype)


@torch.no_grad()
def quantize_model(model: nn.Module, total_bits: int, frac_bits: int, rounding: str = "nearest") -> nn.Module:
    """A copy of ``model`` whose Linear/Conv weights and biases are quantized (``model`` is untouched).

    A parametrized weight (mask, compander) is quantized through its effective value: the
    parametrization is baked into a plain parameter first, so the copy computes with exactly
    the quantized numbers.
    """
    check_format(total_bits, frac_bits)
    check_choice("rounding", rounding, ROUNDING)
    q = bake(copy.deepcopy(model))
    for m in weight_layers(q).values():
        for p in (m.weight, m.bias):
            if p is not None:
                p.copy_(quantize_tensor(p, total_bits, frac_bits, rounding))
    return q


@torch.no_grad()
def margin(model: nn.Module, of: str = "all") -> float:
    """``2 / ||w||^2``, the margin the paper plots (Section 5.3), with ``w`` the Linear/Conv weights
    (no biases) of every layer (``of="all"``) or of the last one, the classifier (``of="last"``).
    The paper does not say which ``w`` for a network; both are offered, "all" by default."""
    check_choice("margin_of", of, MARGIN_OF)
    layers = list(weight_layers(model).values())
    if not layers:
        raise ConfigError("margin needs a model with Linear or Conv layers; this one has none")
    chosen = layers[-1:] if of == "last" else layers
    sq = sum(float(m.weight.detach().double().pow(2).sum()) for m in chosen)
    return 2.0 / sq if sq > 0 else math.inf


def _metrics(out: Any) -> dict[str, float]:
    if not isinstance(out, Mapping) or "val_acc" not in out:
        raise ConfigError(f"evaluate_fn must return a mapping with at least 'val_acc'; got {out!r}")
    return {k: float(v) for k, v in out.items()}


def _fingerprint(model: nn.Module) -> str:
    """A digest of every parameter and buffer: two models with equal digests compute the same function.
    (Many grid pairs quantize to the same weights, e.g. every width too narrow for any weight gives zeros;
    on a quick net 88 of the 195 pairs are distinct.)"""
    h = hashlib.sha1()
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def quantization_grid(
    model: nn.Module,
    evaluate_fn: Callable[[nn.Module], Mapping[str, float]],
    totals: Iterable[int] = range(16, 1, -1),
    fracs: Iterable[int] = range(3, 16),
    *,
    rounding: str = "nearest",
    margin_of: str = "all",
    allow_frac_ge_total: bool = False,
) -> pd.DataFrame:
    """Every (total_bits, frac_bits) pair evaluated: one row each.

    ``evaluate_fn(quantized_model)`` returns at least ``val_acc``; ``test_acc`` and ``loss`` (and
    anything else) become columns too (NaN when absent). Pairs with ``frac_bits >= total_bits``
    are skipped unless ``allow_frac_ge_total``.
    """
    totals, fracs = list(totals), list(fracs)
    for t in totals:
        _int_param("totals", t, 2, 32)
    for f in fracs:
        _int_param("fracs", f, 0, 62)
    check_choice("rounding", rounding, ROUNDING)
    check_choice("margin_of", margin_of, MARGIN_OF)
    check_choice("allow_frac_ge_total", allow_frac_ge_total, (True, False))
    rows = []
    measured: dict[str, dict[str, float]] = {}  # identical quantized weights measure the same: evaluate once
    for t in totals:
        for f in fracs:
            if f >= t and not allow_frac_ge_total:
                continue
            q = quantize_model(model, t, f, rounding)
            key = _fingerprint(q)
            if key not in measured:
                measured[key] = _metrics(evaluate_fn(q))
            rows.append({"total_bits": t, "frac_bits": f, **measured[key], "margin": margin(q, margin_of)})
    df = pd.DataFrame(rows, columns=["total_bits", "frac_bits", "val_acc", "test_acc", "margin", "loss"]
                      + sorted({k for r in rows for k in r} - {"total_bits", "frac_bits", "val_acc", "test_acc",
                                                                   "margin", "loss"}))
    return df


def quantization_sweep(model: nn.Module, evaluate_fn: Callable[[nn.Module], Mapping[str, float]],
                       *grid_args: Any, test_fn: Callable[[nn.Module], Mapping[str, float]] | None = None,
                       grid_out: list | None = None, **grid_options: Any) -> pd.DataFrame:
    """For each total bit width, the fraction bits with the best validation accuracy (ties: the
    first in ``fracs`` order), one row per total in ``totals`` order: ``total_bits, frac_bits,
    val_acc, test_acc, margin, loss`` (+ any other metric ``evaluate_fn`` returns).

    ``grid_out``: a list that receives every evaluated pair's row (the whole grid).

    ``test_fn``: when given, ``evaluate_fn`` need only measure validation, and ``test_fn``
    measures the chosen rows alone (its metrics are added to theirs): the same rows as one
    ``evaluate_fn`` measuring both, at a fraction of the test evaluations.

    A total with no valid fraction width (with the defaults: totals 2 and 3, since fractions
    start at 3 and must stay below the total) gets no row. The other arguments (``totals``,
    ``fracs``, ``rounding``, ``margin_of``, ``allow_frac_ge_total``) are :func:`quantization_grid`'s.
    """
    grid = quantization_grid(model, evaluate_fn, *grid_args, **grid_options)
    if grid_out is not None:  # every pair's row, for a caller that keeps the whole grid
        grid_out.extend(grid.to_dict("records"))
    if grid.empty:
        return grid
    best = grid.loc[grid.groupby("total_bits", sort=False)["val_acc"].idxmax()].reset_index(drop=True)
    if test_fn is None:
        return best
    rounding = grid_options.get("rounding", "nearest")
    measured: dict[str, dict[str, float]] = {}  # chosen rows with identical quantized weights: test once
    tested = []
    for row in best.itertuples():
        q = quantize_model(model, int(row.total_bits), int(row.frac_bits), rounding)
        key = _fingerprint(q)
        if key not in measured:
            measured[key] = {k: float(v) for k, v in test_fn(q).items()}
        tested.append(measured[key])
    for key in sorted({k for t in tested for k in t}):
        best[key] = [t.get(key, math.nan) for t in tested]
    return best
