"""Moving runs between machines: a grid split into shards for parallel workers, and stored
records brought home from another store (a lent GPU machine's output) without losing any.

A shard is chosen by the run key (``int(key, 16) % n``), not by position, so it stays the same
while a staged grid grows. Records are imported only after their key is recomputed from their
config; a record already at home is kept: an identical one is skipped, a different one is a
conflict that is reported and left for a person to settle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .registry import ConfigError
from .results import ResultStore, run_key


def in_shard(config: dict[str, Any], shard: tuple[int, int] | None) -> bool:
    return shard is None or int(run_key(config), 16) % shard[1] == shard[0]


def import_records(source: str | Path, destination: str | Path | None = None) -> dict[str, list[str]]:
    """Copy every record under ``source`` (a results folder) into the store at ``destination``.

    Returns the paths by outcome: ``imported``, ``identical`` (already home, same bytes of
    JSON), ``conflict`` (already home, different: kept as it is), ``invalid`` (unreadable, or its
    key does not match its config or file name: not imported)."""
    src = Path(source)
    if not src.is_dir():
        raise ConfigError(f"source={str(source)!r} is not a folder of stored results")
    store = ResultStore(destination)
    out: dict[str, list[str]] = {"imported": [], "identical": [], "conflict": [], "invalid": []}
    for path in sorted(src.glob("*/*/*.json")):
        try:
            record = json.loads(path.read_text())
            config = record["config"]
            ok = run_key(config) == record["key"] == path.stem and \
                [config["chapter"], config["profile"]] == [path.parent.parent.name, path.parent.name]
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            out["invalid"].append(str(path))
            continue
        home = store.load(config)
        if home is None:
            store.save(record)
            out["imported"].append(str(path))
        else:
            out["identical" if home == record else "conflict"].append(str(path))
    return out
