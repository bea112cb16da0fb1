"""The results store: one JSON file per finished run, keyed by a hash of its config.

Layout: ``<results>/<chapter>/<profile>/<key>.json``; checkpoints of unfinished runs under
``<results>/.checkpoints/`` (not committed). Files are written atomically (temp file +
``os.replace``), so a crash mid-write leaves either the old file or none, never half of one.
A finished run is never recomputed unless asked (``recompute=True``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from . import environment, experiment, paths

SCHEMA = 1


def canonical(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def run_key(config: dict[str, Any]) -> str:
    """A stable 16-hex-digit key: the same config always maps to the same file."""
    return hashlib.sha256(canonical(config).encode()).hexdigest()[:16]


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class ResultStore:
    def __init__(self, root: str | Path | None = None):
        self.root = paths.results_root(root)

    def path(self, config: dict[str, Any]) -> Path:
        return self.root / config["chapter"] / config["profile"] / f"{run_key(config)}.json"

    def checkpoint_path(self, config: dict[str, Any]) -> Path:
        return self.root / ".checkpoints" / config["chapter"] / config["profile"] / f"{run_key(config)}.pt"

    def load(self, config: dict[str, Any]) -> dict[str, Any] | None:
        path = self.path(config)
        if not path.exists():
            return None
        with open(path) as f:
            return json.load(f)

    def save(self, record: dict[str, Any]) -> Path:
        path = self.path(record["config"])
        atomic_write_text(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
        return path

    def records(self, chapter: str | None = None, profile: str | None = None) -> list[dict[str, Any]]:
        """Every stored record (optionally of one chapter and profile), in key order."""
        pattern = f"{chapter or '*'}/{profile or '*'}/*.json"
        out = []
        for path in sorted(self.root.glob(pattern)):
            with open(path) as f:
                out.append(json.load(f))
        return out


def run_or_load(
    config: dict[str, Any],
    *,
    results_dir: str | Path | None = None,
    recompute: bool = False,
    device: str | None = "auto",
    data_root: str | Path | None = None,
    progress: str = "auto",
    stop_after_epoch: int | None = None,
) -> dict[str, Any]:
    """The stored result of ``config``; trains (resuming any checkpoint) if none is stored."""
    experiment.validate(config)
    store = ResultStore(results_dir)
    if not recompute:
        stored = store.load(config)
        if stored is not None:
            return stored
    ckpt = store.checkpoint_path(config)
    if recompute and ckpt.exists():
        ckpt.unlink()
    key = run_key(config)
    run = experiment.execute(
        config,
        device=device,
        data_root=data_root,
        checkpoint=ckpt,
        fingerprint=key,
        progress=progress,
        stop_after_epoch=stop_after_epoch,
    )
    if run["status"] == "interrupted":
        return {"key": key, "config": config, **run}
    record = {
        "schema": SCHEMA,
        "key": key,
        "chapter": config["chapter"],
        "profile": config["profile"],
        "seed": config.get("seed", 0),
        "config": config,
        **run,
        "env": environment.describe(run["device"]),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    store.save(record)
    ckpt.unlink(missing_ok=True)
    return store.load(config)  # exactly what a later call will load


def run_all(configs: Iterable[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
    """``run_or_load`` each config, checking them all before the first one trains."""
    configs = list(configs)
    for c in configs:
        experiment.validate(c)
    return [run_or_load(c, **kwargs) for c in configs]


def stored(configs: Iterable[dict[str, Any]], results_dir: str | Path | None = None
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(stored records, configs with no stored result): loads only, never trains."""
    store = ResultStore(results_dir)
    found, missing = [], []
    for c in configs:
        experiment.validate(c)
        r = store.load(c)
        (found if r is not None else missing).append(r if r is not None else c)
    return found, missing


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = json.dumps(v) if isinstance(v, list) else v
    return out


def to_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: key, chapter, profile, seed, status, metrics, counts, flattened config."""
    rows = []
    for r in records:
        row = {k: r.get(k) for k in ("key", "chapter", "profile", "seed", "status", "wall_time_s")}
        row.update(r.get("metrics", {}))
        row.update(_flatten(r.get("counts", {}), "counts."))
        row.update(_flatten(r["config"], "config."))
        rows.append(row)
    return pd.DataFrame(rows)


def history_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per run and epoch, with the run's key, seed and flattened config."""
    rows = []
    for r in records:
        ident = {"key": r["key"], "seed": r.get("seed", 0), **_flatten(r["config"], "config.")}
        rows.extend({**ident, **h} for h in r["history"])
    return pd.DataFrame(rows)
