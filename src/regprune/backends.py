"""What a sweep backend is and does, below both the sweep (:mod:`regprune.runner`) and the
backends themselves (``local`` here, ``ray`` in :mod:`regprune.ray_backend`, imported only when
asked for: only it needs Ray)."""

from __future__ import annotations

import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator, Protocol

from . import lock, results

BACKENDS = ("local", "ray")


@dataclass
class Outcome:
    """One run of a sweep: its stored record, or the error it raised."""

    config: dict[str, Any]
    record: dict[str, Any] | None = None
    error: str | None = None  # "ErrorType: message"
    details: str = ""  # the traceback, reported once the sweep ends
    trained: bool = False  # False: loaded (stored by another sweep while this one waited)

    @property
    def key(self) -> str:
        return results.run_key(self.config)


def execute(config: dict[str, Any], **run_kwargs: Any) -> Outcome:
    """``run_or_load`` one config; an exception becomes a failed Outcome instead of ending the sweep
    (a bad stored file is named by its message: no traceback)."""
    try:
        record, trained = results.obtain(config, **run_kwargs)
    except lock.Busy:
        raise  # the backend comes back to it
    except results.BadRecord as err:
        return Outcome(config, error=f"{type(err).__name__}: {err}")
    except Exception as err:  # any run's bug or bad data must not stop the other runs
        return Outcome(config, error=f"{type(err).__name__}: {err}", details=traceback.format_exc())
    return Outcome(config, record=record, trained=trained)


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
        """A run another sweep is training goes to the back of the queue; the last one is waited for."""
        queue, deferred = deque(configs), 0
        while queue:
            config = queue.popleft()
            self.running = 1
            try:
                outcome = execute(config, **run_kwargs, wait=not queue)
            except lock.Busy:
                queue.append(config)
                deferred += 1
                if deferred >= len(queue):  # every run left is held elsewhere
                    time.sleep(0.2)
                    deferred = 0
                continue
            finally:
                self.running = 0
            deferred = 0
            yield outcome
