"""The registry every chapter module registers its grid in: below the package, so a chapter module
and the package that lists the chapters do not import each other."""

from __future__ import annotations

from ..registry import Registry

CHAPTERS = Registry("chapter")
