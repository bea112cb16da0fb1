"""Every value a user gives (command-line options, notebook ``-p`` parameters, environment
variables) parsed by one typed schema per command and notebook, before any data is read or any
run trained.

One table of fields, so a name means the same type everywhere: a command takes the fields of
its options, a notebook those its ``parameters`` cell declares. A bad value raises ConfigError
naming the parameter, the value and what is allowed (the CLI exits 2 on it).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from . import paths
from .registry import ConfigError


class Invalid(ValueError):
    """Why a value is wrong, when "not allowed" says too little (the field adds name and value)."""


@dataclass(frozen=True)
class Field:
    """A type: what is allowed, in words, and ``parse(value) -> checked value`` (raises Invalid)."""

    allowed: str
    parse: Callable[[Any], Any]
    optional: bool = False  # None (YAML null, or an option not given) is allowed
    from_text: Callable[[Any], Any] = lambda v: v  # a command-line string (or strings) -> the typed value

    def check(self, name: str, value: Any, text: bool = False) -> Any:
        """``text``: the value is a command-line string (or strings), converted by the type."""
        if value is None and self.optional:
            return None
        try:
            return self.parse(self.from_text(value) if text else value)
        except Invalid as why:
            reason = f" ({why})" if str(why) else ""
        null = " or null" if self.optional and not text else ""
        raise ConfigError(f"{name}={value!r} is not allowed{reason}; allowed: {self.allowed}{null}")


def optional(field: Field) -> Field:
    return dataclasses.replace(field, optional=True)


def _number_text(v: Any) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"nan"`` -> nan (refused by the type), anything else unchanged."""
    if isinstance(v, str) and re.fullmatch(r"\s*[+-]?\d+\s*", v):
        return int(v)
    try:
        return float(v) if isinstance(v, str) else v
    except ValueError:
        return v


def integer(lo: int, hi: int) -> Field:
    def parse(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise Invalid()
        return v

    return Field(f"an integer from {lo} to {hi}", parse, from_text=_number_text)


def number(lo: float, hi: float) -> Field:
    def parse(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
            raise Invalid()
        return float(v)

    span = f">= {lo:g}" if hi == math.inf else f"from {lo:g} to {hi:g}"
    return Field(f"a finite number {span}", parse, from_text=_number_text)


def list_of(item: Field) -> Field:
    def parse(v: Any) -> list:
        if not isinstance(v, list) or not v:
            raise Invalid()
        return [item.parse(x) for x in v]

    return Field(f"a non-empty list, each {item.allowed}", parse,
                 from_text=lambda v: [item.from_text(x) for x in v] if isinstance(v, list) else v)


def choice(options: Iterable[Any]) -> Field:
    options = list(options)

    def parse(v: Any) -> Any:
        if isinstance(v, bool) or v not in options:  # True == 1: a flag is no choice
            raise Invalid()
        return v

    return Field("one of " + ", ".join(repr(o) for o in options), parse)


def _boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise Invalid()
    return v


def _string(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise Invalid("empty" if isinstance(v, str) else "not a string")
    return v


def _folder(v: Any) -> str:
    """An existing, readable folder."""
    path = Path(_string(v)).expanduser()
    if not path.is_dir():
        raise Invalid("a file, not a folder" if path.exists() else "no such folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise Invalid("not readable")
    return v


def _file(v: Any) -> str:
    path = Path(_string(v)).expanduser()
    if not path.is_file():
        raise Invalid("a folder, not a file" if path.exists() else "no such file")
    return v


def _writable_folder(v: Any) -> str:
    """A folder this process can create files in, or one it can create (its nearest existing parent can)."""
    path = Path(_string(v)).expanduser()
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise Invalid(f"{existing} is a file, not a folder")
    try:  # a real probe: os.access says yes to root on a read-only file system
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as err:
        raise Invalid(f"cannot write in {existing}: {err.strerror}") from None
    return v


def _results_location(v: Any) -> str:
    """A writable folder, ``file://`` one, or the URL of an installed fsspec protocol (not memory://,
    which keeps results only as long as this process)."""
    location = _string(v)
    if not paths.is_url(location):
        return _writable_folder(location)
    protocol, rest = location.split("://", 1)
    if protocol == "memory":
        raise Invalid("memory:// keeps results only in this process: they would be lost")
    if protocol == "file":
        _writable_folder(rest)
        return location
    import fsspec

    try:
        fsspec.get_filesystem_class(protocol)
    except ValueError:
        raise Invalid(f"unknown protocol {protocol!r}") from None
    except ImportError as err:
        raise Invalid(f"protocol {protocol!r} needs a package that is not installed: {err}") from None
    return location


def _device(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", v):
        raise Invalid()
    if v.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise Invalid("CUDA is not available on this machine")
        if ":" in v and int(v.split(":")[1]) >= torch.cuda.device_count():
            raise Invalid(f"this machine has {torch.cuda.device_count()} CUDA device(s)")
    return v


def _shard(v: Any) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N: the runs of shard I of N (by run key)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", v) if isinstance(v, str) else None
    if m is None or not int(m.group(1)) < int(m.group(2)):
        raise Invalid()
    return int(m.group(1)), int(m.group(2))


FOLDER, WRITABLE = Field("an existing folder", _folder), Field("a folder that can be written", _writable_folder)
RESULTS = Field("a writable folder, file:// folder or URL of an installed fsspec protocol (s3://, gs://, ...)",
                _results_location)


@lru_cache(maxsize=None)
def fields() -> dict[str, Field]:
    """Every value a user can give, by name (environment variables by theirs)."""
    from .chapters import CHAPTERS
    from . import allocator
    from .experiment import SEED_MAX
    from .profiles import PROFILES
    from .progress import MODES
    from .runner import BACKENDS

    return {
        "chapter": choice(CHAPTERS.names()),
        "profile": choice(PROFILES),
        "seeds": optional(list_of(integer(0, SEED_MAX))),
        "device": Field("'auto', 'cpu', 'cuda' or 'cuda:<index>' of an available GPU", _device),
        "data_root": optional(FOLDER),
        "results_dir": optional(RESULTS),
        "tables_dir": optional(WRITABLE),
        "build_dir": optional(WRITABLE),
        "bench_dir": optional(FOLDER),
        "latency_file": optional(Field("an existing file", _file)),
        "bench_file": optional(Field("an existing file", _file)),
        "recompute": Field("true or false", _boolean),
        "repair": Field("true or false", _boolean),
        "tolerance_pp": number(0, 100),
        "backend": choice(BACKENDS),
        "address": optional(Field("HOST:PORT, ray://HOST:PORT, 'local' or 'auto'", _string)),
        "gpus_per_run": optional(number(0, math.inf)),
        "shard": optional(Field("I/N with 0 <= I < N, e.g. 0/4", _shard)),
        "source": FOLDER,
        "REGPRUNE_RESULTS": RESULTS,
        "REGPRUNE_DATA": FOLDER,
        "REGPRUNE_BUILD": WRITABLE,
        "REGPRUNE_CHECKPOINTS": WRITABLE,
        "REGPRUNE_CACHE": WRITABLE,
        "REGPRUNE_PROGRESS": choice(MODES[1:]),
        "REGPRUNE_MALLOC": choice(allocator.MODES),
    }


COMMANDS = {
    "train": ("chapter", "profile", "seeds", "device", "data_root", "results_dir", "recompute", "repair", "shard"),
    "sweep": ("chapter", "profile", "seeds", "device", "data_root", "results_dir", "recompute", "repair", "shard",
              "backend", "address", "gpus_per_run"),
    "import-results": ("source", "results_dir"),
    "run": ("profile", "build_dir"),
    "book": ("profile", "build_dir"),
}


def environment() -> None:
    """The environment variables regprune reads (the upper-case fields), where set."""
    for name in filter(str.isupper, fields()):
        if name in os.environ:
            fields()[name].check(name, os.environ[name], text=True)


def command(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The checked, typed options of a command, from its command-line strings; and the environment."""
    label = lambda f: f if f == "chapter" else f"--{f.replace('_', '-')}"  # noqa: E731  (the one positional)
    out = {**options, **{f: fields()[f].check(label(f), options.get(f), text=True) for f in COMMANDS[name]}}
    environment()
    return out


def notebook(declared: Iterable[str], params: dict[str, Any], label: str) -> dict[str, Any]:
    """The checked ``-p`` values of a notebook whose ``parameters`` cell declares ``declared``; values
    are typed (read as YAML), so ``"12"`` is a string, never the seeds 1 and 2."""
    declared = list(declared)
    out = {}
    for key, value in params.items():
        if key not in declared:
            raise ConfigError(f"{key!r} is not a parameter of {label}; allowed: {', '.join(declared)}")
        if key not in fields():
            raise ConfigError(f"parameter {key!r} of {label} has no type in regprune.inputs.fields()")
        out[key] = fields()[key].check(key, value)
    return out
