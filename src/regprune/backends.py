"""What a sweep backend is and does, below both the sweep (:mod:`regprune.runner`) and the
backends themselves (``local`` here, ``ray`` in :mod:`regprune.ray_backend`, imported only when
asked for: only it needs Ray)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Iterator, Protocol

from . import results

BACKENDS = ("local", "ray")


@dataclass
class Outcome:
    """One run of a sweep: its stored record, or the error it raised."""

    config: dict[str, Any]
    record: dict[str, Any] | None = None
    error: str | None = None  # "ErrorType: message"
    details: str = ""  # the traceback, reported once the sweep ends

    @property
    def key(self) -> str:
        return results.run_key(self.config)


def execute(config: dict[str, Any], **run_kwargs: Any) -> Outcome:
    """``run_or_load`` one config; an exception becomes a failed Outcome instead of ending the sweep."""
    try:
        record = results.run_or_load(config, **run_kwargs)
    except Exception as err:  # any run's bug or bad data must not stop the other runs
        return Outcome(config, error=f"{type(err).__name__}: {err}", details=traceback.format_exc())
    return Outcome(config, record=record)


class Backend(Protocol):
    """Runs configs and yields their Outcomes as they finish; ``running`` counts runs in flight."""

    running: int

    def __enter__(self) -> "Backend": ...
    def __exit__(self, *exc: Any) -> None: ...
    def __call__(self, configs: list[dict[str, Any]], run_kwargs: dict[str, Any]) -> Iterator[Outcome]: ...


class LocalBackend:
    """In order, in this process: the behaviour of ``regprune train``."""

    running = 0

    def __enter__(self) -> "LocalBackend":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __call__(self, configs: list[dict[str, Any]], run_kwargs: dict[str, Any]) -> Iterator[Outcome]:
        for config in configs:
            self.running = 1
            outcome = execute(config, **run_kwargs)
            self.running = 0
            yield outcome
