"""Finding output a reader should not see in executed notebooks, before the book is built.

A page shows tables, figures and sentences; not parameter cells, printed dicts or object reprs,
tracebacks, warnings, the same figure twice, or an empty placeholder plot. :func:`problems`
names each such output of one executed notebook; ``make check-site`` and the tests run it on
every notebook of the book.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

# tags papermill gives its cells, and the Jupyter Book 1.x tags that keep a cell's code off the page
PARAMETER_TAGS = ("parameters", "injected-parameters")
HIDDEN_TAGS = ("remove-cell", "remove-input", "hide-input", "hide-cell")
# what a printed Python object looks like in a stream or a text-only output
REPRS = {
    "a printed dict": re.compile(r"\{\s*(['\"])[^'\"]*\1\s*:"),
    "an object repr": re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>"),
    "a matplotlib repr": re.compile(r"(^|\[)<?(matplotlib\.|Text\(|Figure size|Axes:?)"),
    "a Styler repr": re.compile(r"<pandas\.io\.formats\.style\.Styler"),
}
STDERR_NOISE = re.compile(r"Traceback|Warning|Error")
# a figure with (almost) no coloured pixel is only axes, ticks and text: a plot with nothing in it
MIN_COLOUR_SHARE = 0.001


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def colour_share(png: bytes) -> float:
    """Share of a PNG's pixels that are coloured (channels apart by more than 40 of 255)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return float((rgb.max(-1) - rgb.min(-1) > 40).mean())


def problems(path: str | Path) -> list[str]:
    """Each stray output of the executed notebook at ``path``, as ``<notebook> cell <n>: <what>``."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    name = Path(path).stem
    found: list[str] = []
    figures: dict[str, int] = {}
    for n, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name} cell {n}"
        tags = _tags(cell)
        if any(t in tags for t in PARAMETER_TAGS) and not any(t in tags for t in HIDDEN_TAGS):
            found.append(f"{where}: parameters cell shown (tag it one of {', '.join(HIDDEN_TAGS)})")
        if "remove-cell" in tags or "remove-output" in tags:
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                found.append(f"{where}: error {out.get('ename')}: {out.get('evalue', '')[:80]}")
                continue
            if kind == "stream":
                text = "".join(out.get("text", ""))
                if out.get("name") == "stderr" and STDERR_NOISE.search(text):
                    found.append(f"{where}: stderr shows {STDERR_NOISE.search(text).group()}: {text.strip()[:80]!r}")
                texts = [text]
            else:
                data = out.get("data", {})
                rich = [k for k in data if k != "text/plain"]
                texts = [] if rich else ["".join(data.get("text/plain", ""))]
                if "image/png" in data:
                    png = base64.b64decode(data["image/png"])
                    digest = hashlib.sha1(png).hexdigest()
                    if digest in figures:
                        found.append(f"{where}: the figure of cell {figures[digest]} shown again")
                    figures.setdefault(digest, n)
                    if colour_share(png) < MIN_COLOUR_SHARE:
                        found.append(f"{where}: an empty figure (no coloured mark: axes and text only)")
            for text in texts:
                for what, pattern in REPRS.items():
                    hit = pattern.search(text)
                    if hit:
                        line = next(l for l in text.splitlines() if hit.group().strip() in l) if "\n" in text else text
                        found.append(f"{where}: {what}: {line.strip()[:100]!r}")
    return found


def check(folder: str | Path) -> list[str]:
    """Stray outputs of every executed notebook (``*.ipynb``) in ``folder``."""
    return [p for path in sorted(Path(folder).glob("*.ipynb")) for p in problems(path)]
