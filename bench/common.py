"""What every benchmark script does at the end: print its table, write its JSON atomically; and how
a row's settings read in its table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from regprune import atomic


def is_cifar(configs: list[dict]) -> bool:
    """A grid that trains on CIFAR (10 or 100, the JPEG copy included)."""
    return any("cifar" in c["data"]["name"] for c in configs)


def finish(result: dict[str, Any], table: str, elapsed: float, out: Path, threads: int | None = None) -> dict[str, Any]:
    print(table)
    print(f"({elapsed:.1f} s; {threads or torch.get_num_threads()} threads)")
    atomic.write_text(Path(out), json.dumps(result, indent=1, allow_nan=False) + "\n")
    print(f"wrote {out}")
    return result


def compile_label(compile_: bool | str) -> str:
    """How a row's ``train.compile`` reads: '', ' compiled' or ' compiled (MODE)'."""
    if not compile_:
        return ""
    return " compiled" if compile_ in (True, "default") else f" compiled ({compile_})"
