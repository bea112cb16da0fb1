"""Each chapter's experiment grid: ``(profile, seeds) -> list of run configs``.

The notebooks, the CLI and any sweep backend get a chapter's runs from here, so the
grid a chapter shows and the grid a cluster runs are the same list.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..profiles import check_profile
from ..registry import Registry

CHAPTERS = Registry("chapter")


def configs(chapter: str, profile: str, seeds: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The run configs of ``chapter`` in ``profile``; ``seeds=None`` takes the profile's default."""
    CHAPTERS.check(chapter, "chapter")
    check_profile(profile)
    if seeds is not None:
        seeds = [int(s) for s in seeds]
    return CHAPTERS.get(chapter)(profile, seeds)


from . import efficiency_llr, quickstart  # noqa: E402,F401  (register the chapters)
