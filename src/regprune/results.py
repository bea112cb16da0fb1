"""The results store: one JSON file per finished run, keyed by a hash of its config.

Layout: ``<results>/<chapter>/<profile>/<key>.json``; checkpoints of unfinished runs under
``<results>/.checkpoints/`` (not committed). Files are written atomically (temp file +
``os.replace``), so a crash mid-write leaves either the old file or none, never half of one.
A finished run is never recomputed unless asked (``recompute=True``).

``<results>`` may be a URL (``s3://bucket/regprune``, ``gs://...``, ``file:///shared/results``):
records are then read and written through fsspec, so every machine of a cluster shares one
store; checkpoints stay on the local disk (:func:`regprune.paths.checkpoints_root`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
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
    """The records of a results root: a local folder (plain file calls) or a URL (fsspec)."""

    def __init__(self, root: str | Path | None = None):
        self.root = paths.results_root(root)
        self._fs, self._base = _filesystem(self.root)

    def path(self, config: dict[str, Any]) -> Path | str:
        rel = f"{config['chapter']}/{config['profile']}/{run_key(config)}.json"
        return self.root / rel if self._fs is None else f"{self.root}/{rel}"

    def checkpoint_path(self, config: dict[str, Any]) -> Path:
        return paths.checkpoints_root(self.root) / config["chapter"] / config["profile"] / f"{run_key(config)}.pt"

    def load(self, config: dict[str, Any]) -> dict[str, Any] | None:
        text = self._read(self._location(self.path(config)))
        return None if text is None else json.loads(text)

    def save(self, record: dict[str, Any]) -> Path | str:
        path = self.path(record["config"])
        text = json.dumps(record, indent=1, sort_keys=True) + "\n"
        if self._fs is None:
            atomic_write_text(path, text)
        else:
            _atomic_put(self._fs, self._location(path), text)
        return path

    def records(self, chapter: str | None = None, profile: str | None = None) -> list[dict[str, Any]]:
        """Every stored record (optionally of one chapter and profile), in key order."""
        pattern = f"{chapter or '*'}/{profile or '*'}/*.json"
        if self._fs is None:
            found = sorted(self.root.glob(pattern))
        else:
            found = sorted(self._fs.glob(f"{self._base}/{pattern}"))
        return [json.loads(self._read(location)) for location in found]

    def _location(self, path: Path | str) -> Path | str:
        """What the file calls take: the local path, or fsspec's path (no protocol) of a URL."""
        return path if self._fs is None else self._base + path[len(self.root):]

    def _read(self, location: Path | str) -> str | None:
        try:
            return Path(location).read_text() if self._fs is None else self._fs.cat_file(location).decode()
        except FileNotFoundError:
            return None


def _filesystem(root: Path | str) -> tuple[Any, str]:
    """(fsspec filesystem, its path of ``root``) for a URL root; ``(None, "")`` for a folder."""
    if not paths.is_url(root):
        return None, ""
    import fsspec

    fs, base = fsspec.core.url_to_fs(str(root))
    return fs, base.rstrip("/")


def _atomic_put(fs: Any, path: str, text: str) -> None:
    """Write a temp object, then move it into place: readers see the old record or the new one.
    (On object storage the move is a copy and a delete; the copy lands whole.)"""
    parent, name = path.rsplit("/", 1)
    tmp = f"{parent}/.{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    fs.makedirs(parent, exist_ok=True)
    fs.pipe_file(tmp, text.encode())
    fs.mv(tmp, path)


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
