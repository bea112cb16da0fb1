"""Data files on disk: where each is looked for, its checksums, and the message when it is missing or wrong."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .arrays import DataError


@dataclass(frozen=True)
class FileSpec:
    """One data file: where it goes under the root (first candidate = canonical), its md5 and source."""

    dataset: str
    candidates: tuple[tuple[str, str | None], ...]  # (path relative to root, md5 or None)
    url: str
    how: str = ""  # extra instructions; "{root}" is filled in
    sha256: str | None = None  # of the canonical file, where one is known
    size: int | None = None  # bytes of the canonical file, where known

    @property
    def name(self) -> str:
        return Path(self.candidates[0][0]).name

    @property
    def md5(self) -> str | None:
        return self.candidates[0][1]

    def find(self, root: Path) -> tuple[Path, str | None] | None:
        """The first candidate that exists, with its md5; None if none does."""
        for rel, md5 in self.candidates:
            if (root / rel).is_file():
                return root / rel, md5
        return None

    def missing(self, root: Path, note: str = "") -> DataError:
        alts = "".join(f" (or {root / rel})" for rel, _ in self.candidates[1:])
        how = f"; or {self.how.format(root=root)}" if self.how else ""
        return DataError(
            f"{self.dataset}: file {self.name} not found: looked at {root / self.candidates[0][0]}{alts}. "
            f"Expected md5 {self.md5 or 'unknown (none published)'}. Get it from {self.url} "
            f"and put it at that path{how}.{note}"
        )


_DIGEST_MEMO: dict[tuple[str, str, int, int], str] = {}


def file_digest(path: Path, algorithm: str = "md5", data: bytes | None = None) -> str:
    """Hex digest of a file, memoized per (path, mtime, size) so repeated loads in a process are cheap."""
    st = path.stat()
    key = (algorithm, str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _DIGEST_MEMO:
        if data is None:
            h = hashlib.new(algorithm)
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 22), b""):
                    h.update(block)
            _DIGEST_MEMO[key] = h.hexdigest()
        else:
            _DIGEST_MEMO[key] = hashlib.new(algorithm, data).hexdigest()
    return _DIGEST_MEMO[key]


def file_md5(path: Path, data: bytes | None = None) -> str:
    return file_digest(path, "md5", data)


def locate(spec: FileSpec, root: Path, verify: bool, data: bytes | None = None) -> dict[str, Any]:
    """Find a file and check its md5; returns a JSON-able record or raises DataError."""
    found = spec.find(root)
    if found is None:
        raise spec.missing(root)
    path, expected = found
    got = file_md5(path, data) if verify else None
    if verify and expected and got != expected:
        raise DataError(
            f"{spec.dataset}: file {path.name} at {path} is corrupt or a different version: md5 {got}, "
            f"expected md5 {expected}. Re-download it from {spec.url}."
        )
    return {"path": str(path), "md5": got, "verified": bool(verify and expected)}



def try_torchvision(cls_name: str, root: Path) -> str:
    """Let torchvision fetch a data set; returns '' on success or why it failed (never raises)."""
    try:
        import torchvision.datasets as tvd  # lazy: torchvision is optional and may be broken

        for train in (True, False):
            getattr(tvd, cls_name)(str(root), train=train, download=True)
        return ""
    except Exception as e:  # noqa: BLE001 - any failure falls back to the manual instructions
        return f" (download=True failed: {type(e).__name__}: {e})"

