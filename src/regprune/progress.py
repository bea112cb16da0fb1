"""Progress reporting that behaves in a terminal, in Jupyter and under papermill.

In a terminal, or a Jupyter kernel with widgets, a tqdm bar updates in place. An executed notebook keeps every byte a bar
writes, so under papermill (and in CI logs) we print a few plain lines instead: one at
most every ``interval`` seconds and one when the run ends. ``REGPRUNE_PROGRESS`` =
``bar`` | ``log`` | ``none`` overrides the automatic choice.
"""

from __future__ import annotations

import os
import sys
import time

from .registry import check_choice

MODES = ("auto", "bar", "log", "none")


def resolve_mode(mode: str = "auto") -> str:
    check_choice("progress", mode, MODES)
    if mode != "auto":
        return mode
    env = os.environ.get("REGPRUNE_PROGRESS")
    if env:
        return check_choice("REGPRUNE_PROGRESS", env, MODES[1:])
    return "bar" if sys.stderr.isatty() or _interactive_notebook() else "log"


def _interactive_notebook() -> bool:
    """A Jupyter kernel that can draw widget bars (Colab, JupyterLab). ``regprune run`` and
    ``regprune book`` set ``REGPRUNE_PROGRESS=log``, so papermill runs never get here."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class Progress:
    """One per run: ``update(n)`` per step, ``epoch_end(text)`` per epoch, ``close(text)``."""

    def __init__(self, total: int, desc: str, mode: str = "auto", interval: float = 30.0):
        self.mode = resolve_mode(mode)
        self.desc, self.total, self.interval = desc, total, interval
        self._bar = None
        self._start = self._last = time.perf_counter()
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def epoch_end(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
        elif self.mode == "log":
            now = time.perf_counter()
            if now - self._last >= self.interval:
                self._last = now
                print(f"{self.desc}: {text} [{now - self._start:.0f} s]", flush=True)

    def close(self, text: str = "") -> None:
        if self._bar is not None:
            self._bar.close()
        if self.mode != "none":
            print(f"{self.desc}: {text} [{time.perf_counter() - self._start:.1f} s]", flush=True)
