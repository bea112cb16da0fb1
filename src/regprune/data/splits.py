"""Holding out a validation (or test) part: stratified and seeded, so nothing ever selects on the test set."""

from __future__ import annotations

from typing import Any

import torch

from ..registry import ConfigError
from .arrays import ArrayDataset

def check_split(param: str, v: Any) -> None:
    ok = (isinstance(v, float) and 0 < v < 1) or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
    if not ok:
        raise ConfigError(f"{param}={v!r} must be a fraction in (0, 1) or a count >= 1 "
                          "(a validation set is required: nothing may select on the test set)")


def stratified_pick(y: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """Indices of ``k`` samples, spread over classes in proportion (largest remainder), seeded."""
    g = torch.Generator().manual_seed(seed)
    yc = y.cpu()
    perm = torch.randperm(len(yc), generator=g)
    order = perm[torch.sort(yc[perm], stable=True).indices]  # grouped by class, random within
    classes, counts = torch.unique(yc, return_counts=True)
    share = counts.double() * k / len(yc)
    quota = share.floor().long()
    extra = k - int(quota.sum())
    if extra:
        quota[torch.argsort(share - quota, descending=True, stable=True)[:extra]] += 1
    starts = torch.cumsum(counts, 0) - counts
    picked = [order[s : s + q] for s, q in zip(starts.tolist(), quota.tolist())]
    return torch.sort(torch.cat(picked)).values


def train_val_split(ds: ArrayDataset, val_split: float | int, seed: int = 0, *,
                    param: str = "val_split") -> tuple[ArrayDataset, ArrayDataset]:
    """Hold out a stratified, seeded part of ``ds``: a fraction (float in (0,1)) or a count (int >= 1).

    Class proportions are kept (largest-remainder rounding); both parts keep the original order.
    """
    check_split(param, val_split)
    n = len(ds)
    k = max(1, round(val_split * n)) if isinstance(val_split, float) else val_split
    if k >= n:
        raise ConfigError(f"{param}={val_split!r} leaves no training samples out of {n}")
    held = stratified_pick(ds.y, k, seed)
    keep = torch.ones(n, dtype=torch.bool)
    keep[held] = False
    return ds.subset(keep.nonzero().squeeze(1)), ds.subset(held)

