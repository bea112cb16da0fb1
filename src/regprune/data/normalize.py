"""Pixel scaling: uint8 images to float32, standardized by fixed or measured per-channel statistics."""

from __future__ import annotations

from typing import Any, Sequence

import torch

NORMALIZE = ("standardize", "unit", "none")

# Fixed per-channel statistics of the real training sets (used for "standardize").
STATS = {
    "mnist": ((0.1307,), (0.3081,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
SHAPES = {"mnist": ((1, 28, 28), 10), "cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100)}


Stats = tuple[Sequence[float], Sequence[float]]


def norm_record(normalize: str, stats_of: str, stats: Stats | None = None) -> dict[str, Any]:
    """How images were scaled; ``stats`` (mean, std) overrides ``STATS[stats_of]`` (stats from the data)."""
    if normalize == "standardize":
        mean, std = STATS[stats_of] if stats is None else stats
        return {"mode": normalize, "mean": list(mean), "std": list(std), "stats_of": stats_of}
    return {"mode": normalize, "scale": "0..1" if normalize == "unit" else "0..255"}


def to_float(u8: torch.Tensor, normalize: str, stats_of: str,
              stats: Stats | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
    """uint8 (N,C,H,W) -> float32 with the chosen normalization; returns the record of it too."""
    x = u8.to(torch.float32)
    if normalize != "none":
        x.div_(255.0)
    if normalize == "standardize":
        mean, std = STATS[stats_of] if stats is None else stats
        c = len(mean)
        x.sub_(torch.tensor(mean).view(1, c, 1, 1)).div_(torch.tensor(std).view(1, c, 1, 1))
    return x, norm_record(normalize, stats_of, stats)


def channel_stats(u8: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and (population) std of uint8 (N,C,H,W) images scaled to [0,1], in chunks."""
    c = u8.shape[1]
    total, squares = torch.zeros(c, dtype=torch.float64), torch.zeros(c, dtype=torch.float64)
    rows = max(1, (1 << 22) // max(1, u8[0].numel())) if len(u8) else 1  # ~32 MB of float64 at a time
    for i in range(0, len(u8), rows):
        x = u8[i : i + rows].to(torch.float64).div_(255.0)
        total += x.sum((0, 2, 3))
        squares += x.square().sum((0, 2, 3))
    n = max(1, u8.numel() // c)
    mean = total / n
    std = (squares / n - mean.square()).clamp_min(0).sqrt()
    std[std < 1e-8] = 1.0  # a constant channel: leave its (zero) deviations unscaled rather than divide by 0
    return mean.tolist(), std.tolist()

