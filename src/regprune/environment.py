"""The environment a run executed in, stored with every result."""

from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from . import __version__


# stored outputs, not code: a record written while other records await their commit is not "dirty"
NOT_CODE = ("results", "bench/results")


@lru_cache(maxsize=None)
def git_commit(cwd: str | None = None) -> dict[str, Any]:
    """HEAD and whether tracked code differed from it (changes under ``NOT_CODE`` do not count);
    empty when not in a git checkout."""
    cwd = cwd or str(Path(__file__).resolve().parent)
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return {}
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)",
             *(f":(top,exclude){p}" for p in NOT_CODE)], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        return {"git_commit": head.stdout.strip(), "git_dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}


@lru_cache(maxsize=None)
def cpu_model() -> dict[str, Any]:
    """The CPU's model name and whether it has native bf16 (speeds differ 4x between the CPUs we ran on)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {"cpu_model": platform.processor() or platform.machine()}
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "")
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return {"cpu_model": name or platform.machine(), "cpu_bf16": "avx512_bf16" in flags or "amx_bf16" in flags}


def describe(device: str | torch.device = "cpu") -> dict[str, Any]:
    device = torch.device(device)
    env: dict[str, Any] = {
        "regprune": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    else:
        env["device_name"] = platform.processor() or platform.machine()
    env.update(cpu_model())
    env.update(git_commit())
    return env
