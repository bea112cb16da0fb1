"""What the benchmark scripts share: printing a table and writing its JSON atomically at the end,
and which parts of a run config are training (not analysis after it)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable

import torch

from regprune import atomic, chapters


# hooks that run after training (or only record): timing an epoch, or pricing training, leaves them out
ANALYSIS_HOOKS = {"threshold_sweep", "snapshot_pruning", "weight_stats", "compander_scales", "weight_histogram",
                  "tsne_embedding"}


def spec_name(spec: Any) -> str:
    """The name of a config part given as a string or as a dict with ``name`` (data, hook, penalty)."""
    return spec if isinstance(spec, str) else spec["name"]


def training_hooks(config: dict[str, Any]) -> list[Any]:
    """A run config's hooks without those that analyse after training."""
    return [h for h in config.get("hooks", []) if spec_name(h) not in ANALYSIS_HOOKS]


def short_training(config: dict[str, Any], epochs: int) -> dict[str, Any]:
    """``config`` trained for ``epochs`` epochs to time it: no analysis hooks, and a step schedule
    made constant (no milestone falls inside a few epochs; the learning rate does not change speed)."""
    train = {**config["train"], "epochs": epochs}
    if train.get("schedule") == "multistep":
        train["schedule"] = "constant"
        train.pop("milestones", None)
    return {**config, "train": train, "hooks": training_hooks(config)}


def group_by_kind(grids: dict[str, list[dict[str, Any]]], kind: Callable[[dict[str, Any]], str]) -> dict[str, dict]:
    """``kind(config)`` -> its first config, its number of runs and the grids that have it."""
    out: dict[str, dict[str, Any]] = {}
    for grid, configs in grids.items():
        for c in configs:
            k = out.setdefault(kind(c), {"config": c, "runs": 0, "grids": []})
            k["runs"] += 1
            if grid not in k["grids"]:
                k["grids"].append(grid)
    return out


def add_grids_option(parser: argparse.ArgumentParser) -> None:
    """``--grids``: only these chapters' `cpu` grids (default: all)."""
    parser.add_argument("--grids", nargs="*", default=None,
                        help=f"only these chapters' cpu grids (of: {', '.join(chapters.CHAPTERS.names())})")


def chosen_grids(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The grids ``--grids`` names (all where it names none); exit 2 naming any that is not a chapter."""
    known = chapters.CHAPTERS.names()
    bad = [g for g in args.grids or [] if g not in known]
    if bad:
        parser.error(f"--grids {' '.join(bad)}: not a chapter (allowed: {', '.join(known)})")
    return list(args.grids or known)


def is_cifar(configs: list[dict]) -> bool:
    """A grid that trains on CIFAR (10 or 100, the JPEG copy included)."""
    return any("cifar" in c["data"]["name"] for c in configs)


def finish(result: dict[str, Any], table: str, elapsed: float, out: Path, threads: int | None = None) -> dict[str, Any]:
    print(table)
    print(f"({elapsed:.1f} s; {threads or torch.get_num_threads()} threads)")
    atomic.write_text(Path(out), json.dumps(result, indent=1, allow_nan=False) + "\n")
    print(f"wrote {out}")
    return result
