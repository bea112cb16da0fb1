"""Where data, results and built tables live, with environment overrides.

Defaults are relative to the repository root (found by walking up from the working
directory), so notebooks run from ``notebooks/`` and the CLI run from the root agree.
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


def results_root(root: str | Path | None = None) -> Path:
    """The argument, else ``$REGPRUNE_RESULTS``, else ``<repo>/results``."""
    if root:
        return Path(root).expanduser()
    env = os.environ.get("REGPRUNE_RESULTS")
    return Path(env).expanduser() if env else repo_root() / "results"


def build_root(root: str | Path | None = None) -> Path:
    """The argument, else ``$REGPRUNE_BUILD``, else ``<repo>/_build``."""
    if root:
        return Path(root).expanduser()
    env = os.environ.get("REGPRUNE_BUILD")
    return Path(env).expanduser() if env else repo_root() / "_build"


def tables_root(root: str | Path | None = None) -> Path:
    """Where tables are saved as CSV: the argument, else ``<build>/tables``."""
    return Path(root).expanduser() if root else build_root() / "tables"
