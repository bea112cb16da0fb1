"""Files written whole or not at all, and what a kill leaves behind.

A file is written to ``.<name>.<pid>.tmp`` beside it and renamed over it, so a kill leaves the
old file or the new one, and at worst a temp file that :func:`clean_orphans` removes once its
process is gone. A bad file is never deleted: :func:`set_aside` renames it for a person to see.
"""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path
from typing import Callable

# ".<name>.<pid>.tmp", or ".<name>.<pid>.<8 hex>.tmp" as a URL store writes it
TEMP = re.compile(r"^\..+\.(?P<pid>\d+)(\.[0-9a-f]{8})?\.tmp$")


def write(path: Path, write_to: Callable[[Path], None]) -> None:
    """``write_to(temp)``, then rename the temp file over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_to(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # an exception (a full disk) leaves no temp file; a kill may


def write_text(path: Path, text: str) -> None:
    def to(tmp: Path) -> None:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    write(path, to)


def alive(pid: int, host: str | None = None) -> bool:
    """Whether process ``pid`` runs (on ``host``; a process of another machine counts as alive)."""
    if host not in (None, socket.gethostname()):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def clean_orphans(folder: Path, name: str = "*", min_age_s: float = 60.0) -> list[Path]:
    """Remove the temp files of ``name`` (a glob) under ``folder`` whose writer is gone; return them.
    A temp file younger than ``min_age_s`` is kept: a writer on another machine may be mid-write."""
    removed = []
    for tmp in Path(folder).rglob(f".{name}.*.tmp") if Path(folder).is_dir() else ():
        m = TEMP.match(tmp.name)
        try:
            if m and not alive(int(m["pid"])) and time.time() - tmp.stat().st_mtime >= min_age_s:
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:  # another process cleaned it first
            pass
    return removed


def set_aside(path: Path) -> Path:
    """Rename a bad file to ``<name>.bad-<UTC time>`` beside it (kept, out of every glob); return that."""
    dest = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}")
    os.replace(path, dest)
    return dest
