"""A per-run lock, so two sweeps sharing a results folder never train the same run twice.

The lock is a file created with ``O_CREAT | O_EXCL`` (one creator wins, on a local disk and on
NFS) holding its owner's pid, host and start time. A lock whose owner is a dead process of this
machine is stale and is taken over; a lock of another machine is trusted until removed by hand.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .atomic import alive


class Busy(Exception):
    """The run is locked by a live process."""

    def __init__(self, path: Path, owner: dict):
        self.path, self.owner = path, owner
        super().__init__(f"{path} is held by pid {owner.get('pid')} on {owner.get('host')} since {owner.get('time')}")


def _create(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with os.fdopen(fd, "w") as f:
        json.dump(owner, f)
    return True


def owner(path: Path) -> dict | None:
    """Who holds the lock (``{}`` for a lock file cut short), or None when there is none."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {}


def _stale(info: dict, path: Path) -> bool:
    if "pid" in info:
        return not alive(int(info["pid"]), info.get("host"))
    try:  # cut short by a kill between create and write: stale once it is old enough to not be mid-write
        return time.time() - path.stat().st_mtime > 10
    except FileNotFoundError:
        return True


def acquire(path: Path) -> None:
    """Take the lock, taking over a stale one; raise :class:`Busy` when a live process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while not _create(path):
        info = owner(path)
        if info is None:
            continue  # released meanwhile
        if not _stale(info, path):
            raise Busy(path, info)
        _remove(path, info)


def _remove(path: Path, stale: dict) -> None:
    """Remove a lock found stale. Two processes may both find it so: a second lock serializes the
    removal, and the owner is read again under it, so a lock just taken over is never removed."""
    guard = path.with_name(path.name + ".takeover")
    if not _create(guard):
        if _stale(owner(guard) or {}, guard):
            guard.unlink(missing_ok=True)
        time.sleep(0.01)
        return
    try:
        if owner(path) == stale:
            path.unlink(missing_ok=True)
    finally:
        guard.unlink(missing_ok=True)


def clean(folder: Path) -> list[Path]:
    """Remove the stale locks under ``folder`` (of killed runs that were never resumed); return them."""
    removed = []
    for path in Path(folder).rglob("*.lock") if Path(folder).is_dir() else ():
        info = owner(path)
        if info is not None and _stale(info, path):
            _remove(path, info)
            removed += [path] if not path.exists() else []
    return removed


def release(path: Path) -> None:
    if (owner(path) or {}).get("pid") == os.getpid():
        path.unlink(missing_ok=True)


@contextmanager
def held(path: Path, wait: bool = False, poll_s: float = 0.2) -> Iterator[None]:
    """Hold the lock for the block; ``wait``: poll until it is free instead of raising :class:`Busy`."""
    while True:
        try:
            acquire(path)
            break
        except Busy:
            if not wait:
                raise
            time.sleep(poll_s)
    try:
        yield
    finally:
        release(path)
