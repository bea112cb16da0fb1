"""Where data, results and built tables live, with environment overrides.

Defaults are relative to the repository root (found by walking up from the working
directory), so notebooks run from ``notebooks/`` and the CLI run from the root agree.
The results store may also be a URL (``s3://bucket/regprune``): it is kept as a string,
and the store reads and writes it through fsspec.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding ``_toc.yml``; else ``start``."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    return here


def data_root(root: str | Path | None = None) -> Path:
    """The argument, else ``$REGPRUNE_DATA``, else ``<repo>/data``."""
    if root:
        return Path(root).expanduser()
    env = os.environ.get("REGPRUNE_DATA")
    return Path(env).expanduser() if env else repo_root() / "data"


def is_url(location: str | Path) -> bool:
    """``s3://...``, ``gs://...``, ``file://...``, ``memory://...``: a location fsspec opens."""
    return "://" in str(location)


def results_root(root: str | Path | None = None) -> Path | str:
    """The argument, else ``$REGPRUNE_RESULTS``, else ``<repo>/results``; a URL is returned as
    a string (``Path`` would fold its ``//``)."""
    location = root or os.environ.get("REGPRUNE_RESULTS")
    if location and is_url(location):
        return str(location).rstrip("/")
    return Path(location).expanduser() if location else repo_root() / "results"


def checkpoints_root(results: Path | str) -> Path:
    """Where unfinished runs keep their per-epoch checkpoints: ``$REGPRUNE_CHECKPOINTS``, else
    ``<results>/.checkpoints`` for a local store, else ``~/.cache/regprune/checkpoints`` for a
    URL store (a checkpoint is rewritten every epoch, too often for object storage)."""
    env = os.environ.get("REGPRUNE_CHECKPOINTS")
    if env:
        return Path(env).expanduser()
    if is_url(results):
        return Path("~/.cache/regprune/checkpoints").expanduser()
    return Path(results) / ".checkpoints"


def cache_root() -> Path:
    """Where decoded data sets are cached: ``$REGPRUNE_CACHE``, else ``~/.cache/regprune``.
    A cache entry is keyed by the checksum of the file it was decoded from, so it is never stale."""
    env = os.environ.get("REGPRUNE_CACHE")
    return Path(env).expanduser() if env else Path("~/.cache/regprune").expanduser()


def build_root(root: str | Path | None = None) -> Path:
    """The argument, else ``$REGPRUNE_BUILD``, else ``<repo>/_build``."""
    if root:
        return Path(root).expanduser()
    env = os.environ.get("REGPRUNE_BUILD")
    return Path(env).expanduser() if env else repo_root() / "_build"


def tables_root(root: str | Path | None = None) -> Path:
    """Where tables are saved as CSV: the argument, else ``<build>/tables``."""
    return Path(root).expanduser() if root else build_root() / "tables"
