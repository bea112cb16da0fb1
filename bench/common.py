"""What the benchmark scripts share: printing a table and writing its JSON atomically at the end,
and which parts of a run config are training (not analysis after it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from regprune import atomic


# hooks that run after training (or only record): timing an epoch, or pricing training, leaves them out
ANALYSIS_HOOKS = {"threshold_sweep", "snapshot_pruning", "weight_stats", "compander_scales", "weight_histogram",
                  "tsne_embedding"}


def training_hooks(config: dict[str, Any]) -> list[Any]:
    """A run config's hooks without those that analyse after training."""
    return [h for h in config.get("hooks", []) if (h if isinstance(h, str) else h.get("name")) not in ANALYSIS_HOOKS]


def is_cifar(configs: list[dict]) -> bool:
    """A grid that trains on CIFAR (10 or 100, the JPEG copy included)."""
    return any("cifar" in c["data"]["name"] for c in configs)


def finish(result: dict[str, Any], table: str, elapsed: float, out: Path, threads: int | None = None) -> dict[str, Any]:
    print(table)
    print(f"({elapsed:.1f} s; {threads or torch.get_num_threads()} threads)")
    atomic.write_text(Path(out), json.dumps(result, indent=1, allow_nan=False) + "\n")
    print(f"wrote {out}")
    return result
