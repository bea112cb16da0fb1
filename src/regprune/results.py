"""The results store: one JSON file per finished run, keyed by a hash of its config.

Layout: ``<results>/<chapter>/<profile>/<key>.json``; checkpoints of unfinished runs under
``<results>/.checkpoints/`` (not committed). Files are written atomically (temp file +
``os.replace``), so a crash mid-write leaves either the old file or none, never half of one.
A finished run is never recomputed unless asked (``recompute=True``); a run is trained under a
lock (:mod:`regprune.lock`), so two sweeps sharing a store never train it twice.

A record is checked when read: JSON, its schema, and the key of its config equal to the key in
its file name, so a truncated file or one copied under another run's key is never taken for that
run. A bad record raises :class:`BadRecord` naming the file; ``repair=True`` moves it aside
(kept, renamed ``*.bad-<time>``) and the run is trained again.

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
import warnings
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from . import atomic, environment, experiment, lock, paths

SCHEMA = 1


def canonical(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def run_key(config: dict[str, Any]) -> str:
    """A stable 16-hex-digit key: the same config always maps to the same file."""
    return hashlib.sha256(canonical(config).encode()).hexdigest()[:16]


class BadRecord(Exception):
    """A stored record that is not what its file name says: named, never loaded as that run."""

    def __init__(self, path: Path | str, problem: str):
        self.path = path
        super().__init__(f"record {path} {problem}; run with --repair (repair=True) to move it aside and train again")


def verify(text: str, path: Path | str) -> dict[str, Any]:
    """The record in ``text`` if it is valid JSON of the schema whose config hashes to the file's key."""
    try:
        record = json.loads(text)
    except ValueError as err:
        raise BadRecord(path, f"is not valid JSON ({err})") from None
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise BadRecord(path, "is not a run record (no config)")
    if record.get("schema", SCHEMA) != SCHEMA:
        raise BadRecord(path, f"has schema {record.get('schema')!r}; this regprune reads schema {SCHEMA}")
    name, key = str(path).rsplit("/", 1)[-1].removesuffix(".json"), run_key(record["config"])
    if not (key == name == record.get("key", key)):
        raise BadRecord(path, f"holds the config of run {key} (key field {record.get('key')!r}), not of run {name}")
    return record


class ResultStore:
    """The records of a results root: a local folder (plain file calls) or a URL (fsspec)."""

    def __init__(self, root: str | Path | None = None, repair: bool = False):
        self.root = paths.results_root(root)
        self.repair = repair
        self._fs, self._base = _filesystem(self.root)

    def path(self, config: dict[str, Any]) -> Path | str:
        rel = f"{config['chapter']}/{config['profile']}/{run_key(config)}.json"
        return self.root / rel if self._fs is None else f"{self.root}/{rel}"

    def checkpoint_path(self, config: dict[str, Any]) -> Path:
        return paths.checkpoints_root(self.root) / config["chapter"] / config["profile"] / f"{run_key(config)}.pt"

    def lock_path(self, config: dict[str, Any]) -> Path:
        """Next to the record in a folder; next to the checkpoint (this machine only) for a URL."""
        path = self.path(config) if self._fs is None else self.checkpoint_path(config)
        return path.with_name(path.name + ".lock")

    def load(self, config: dict[str, Any]) -> dict[str, Any] | None:
        """The verified record of ``config``, or None; a bad one raises :class:`BadRecord`, or with
        ``repair`` is moved aside (None: the run trains again)."""
        path = self.path(config)
        text = self._read(self._location(path))
        try:
            return None if text is None else verify(text, path)
        except BadRecord:
            if not self.repair:
                raise
            self._set_aside(path)
            return None

    def save(self, record: dict[str, Any]) -> Path | str:
        path = self.path(record["config"])
        text = json.dumps(record, indent=1, sort_keys=True) + "\n"
        if self._fs is None:
            atomic.write_text(path, text)
        else:
            _atomic_put(self._fs, self._location(path), text)
        return path

    def records(self, chapter: str | None = None, profile: str | None = None) -> list[dict[str, Any]]:
        """Every stored record (optionally of one chapter and profile), in key order; a bad one is
        reported with a warning naming it and left out."""
        pattern = f"{chapter or '*'}/{profile or '*'}/*.json"
        if self._fs is None:
            found = sorted(self.root.glob(pattern))
        else:
            found = [self.root + loc[len(self._base):] for loc in sorted(self._fs.glob(f"{self._base}/{pattern}"))]
        out = []
        for path in found:
            try:
                out.append(verify(self._read(self._location(path)) or "", path))
            except BadRecord as err:
                warnings.warn(str(err), stacklevel=2)
        return out

    def clean_orphans(self, config: dict[str, Any] | None = None) -> list[Path]:
        """Remove what killed runs left in this store (a folder) and its checkpoints: temp files a
        minute old and checkpoints of stored runs; or at once the temp files of ``config``, whose
        lock this process holds."""
        ckpts = paths.checkpoints_root(self.root)
        folders = {ckpts} | ({Path(self.root)} if self._fs is None else set())
        if config is None:
            done = [p for p in ckpts.glob("*/*/*.pt") if self._fs is None and
                    (Path(self.root) / p.relative_to(ckpts)).with_suffix(".json").exists()]
            for p in done:  # killed between storing the record and removing its checkpoint
                p.unlink(missing_ok=True)
            return done + [p for folder in folders for p in [*atomic.clean_orphans(folder), *lock.clean(folder)]]
        folders = {self.checkpoint_path(config).parent} | ({self.path(config).parent} if self._fs is None else set())
        return [p for folder in folders for p in atomic.clean_orphans(folder, f"{run_key(config)}.*", min_age_s=0)]

    def _set_aside(self, path: Path | str) -> None:
        if self._fs is None:
            moved = atomic.set_aside(path)
        else:
            moved = f"{path}.bad-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
            self._fs.mv(self._location(path), self._location(moved))
        warnings.warn(f"bad record {path} moved aside to {moved}", stacklevel=3)

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
    return fs, base  # no trailing slash: results_root strips it from the URL


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
    repair: bool = False,
    wait: bool = True,
    **run_kwargs: Any,
) -> dict[str, Any]:
    """The stored result of ``config``; trains (resuming any checkpoint) if none is stored.

    ``run_kwargs`` go to :func:`regprune.experiment.execute` (device, data_root, progress,
    stop_after_epoch). ``wait=False``: raise :class:`regprune.lock.Busy` instead of waiting
    while another process trains the run."""
    return obtain(config, results_dir=results_dir, recompute=recompute, repair=repair, wait=wait, **run_kwargs)[0]


def obtain(config: dict[str, Any], *, results_dir: str | Path | None = None, recompute: bool = False,
           repair: bool = False, wait: bool = True, **run_kwargs: Any) -> tuple[dict[str, Any], bool]:
    """:func:`run_or_load`, and whether this call trained the run (a sweep counts what it trained)."""
    experiment.validate(config)
    store = ResultStore(results_dir, repair=repair)
    if not recompute and (record := store.load(config)) is not None:
        return record, False
    with lock.held(store.lock_path(config), wait=wait):
        if not recompute and (record := store.load(config)) is not None:
            return record, False  # another sweep stored it while this one waited for the lock
        store.clean_orphans(config)
        return _train(config, store, recompute, **run_kwargs), True


def _train(config: dict[str, Any], store: ResultStore, recompute: bool, **run_kwargs: Any) -> dict[str, Any]:
    ckpt = store.checkpoint_path(config)
    if recompute and ckpt.exists():
        ckpt.unlink()
    key = run_key(config)
    run = experiment.execute(config, checkpoint=ckpt, fingerprint=key, **run_kwargs)
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


def stored(configs: Iterable[dict[str, Any]], results_dir: str | Path | None = None
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(stored records, configs with no stored result): loads only, never trains. A bad record
    is reported with a warning naming it, and its config counted as missing."""
    store = ResultStore(results_dir)
    found, missing = [], []
    for c in configs:
        experiment.validate(c)
        try:
            r = store.load(c)
        except BadRecord as err:
            warnings.warn(str(err), stacklevel=2)
            r = None
        (found if r is not None else missing).append(r if r is not None else c)
    return found, missing


def _flatten(d: dict[str, Any], prefix: str) -> dict[str, Any]:
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
