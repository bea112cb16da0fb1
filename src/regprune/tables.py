"""How every table of the book is shown: one renderer, so numbers read the same on every page.

The CSV a table is saved to keeps the raw values; only the view is formatted. Each column gets
a format from its kind: integer columns without decimals, tiny values in scientific notation
(``1e-8`` rather than ``0.0000``), accuracy fractions in %, ``X_mean`` beside ``X_std`` as one
``mean ± std`` column, missing values as an em dash (never ``nan``). The view is a
:class:`pandas.io.formats.style.Styler` whose table scrolls inside its own box (long tables
vertically too), with a verdict column moved to the front so the point of a claims table is
never off-screen.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from .claims import rule

MISSING = "—"
PLUS_MINUS = " ± "
TABLE_CLASS = "regprune-table"
LONG_ROWS = 25          # more rows than this: the box scrolls vertically too, header kept in view
LONG_TEXT = 40          # text longer than this (characters) wraps in a column of bounded width
VERDICT = "verdict"
# columns that identify a row, in the order a verdict goes after (the first one found)
LEADING = ("claim", "paper", "chapter", "model", "dataset")
# a fraction of 1 shown in % (names with "%" already hold percent)
FRACTION = re.compile(r"(^|[_ ])(acc|accuracy|share|rate_frac)($|[_ ])")
MEAN_STD = (("_mean", "_std"), (" mean", " std"))

# Self-contained CSS (the notebook shows the same box on Colab as in the book): the table is its
# own scrolling box, never wider than its column.
TABLE_STYLES = [
    {"selector": "", "props": "display: block; max-width: 100%; overflow: auto; border-collapse: collapse;"},
    # a block caption takes the box's visible width, not the width of the columns scrolled past
    {"selector": "caption", "props": "display: block; text-align: left; white-space: normal;"},
    {"selector": "th, td", "props": "padding: 0.2em 0.6em; white-space: nowrap; vertical-align: top;"},
    {"selector": "td.long-text", "props": "white-space: normal; min-width: 14em; max-width: 26em;"},
    {"selector": "th.col_heading", "props": "white-space: normal; min-width: 4em; max-width: 12em;"},
]
LONG_STYLES = [
    {"selector": "", "props": "max-height: 36em;"},
    {"selector": "thead th", "props": "position: sticky; top: 0; background: var(--pst-color-background, white);"},
]
VERDICT_COLORS = {rule.REPRODUCED: "#1b7837", rule.HYPOTHESIS[rule.REPRODUCED]: "#1b7837",
                  rule.NOT_REPRODUCED: "#b2182b", rule.HYPOTHESIS[rule.NOT_REPRODUCED]: "#b2182b"}


def missing(x: Any) -> bool:
    """None, NaN, pd.NA or NaT (a cell holding a list or an array is not missing)."""
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def scientific(x: float, digits: int = 2) -> str:
    """``x`` as ``m e±k`` with up to ``digits`` significant digits and no padding: 1e-4, -2.5e-8, 1.2e7."""
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa}e{int(exponent)}"


def number(x: Any, precision: int = 2) -> str:
    """One number for a reader: ``precision`` decimals, more where they would round a small
    value to zero (two significant digits kept), scientific below 1e-3 and from 1e6 on,
    no decimals from 1000 on, an em dash for a missing value."""
    if missing(x):
        return MISSING
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    size = abs(x)
    if size == 0:
        return "0"
    if size < 1e-3 or size >= 1e6:
        return scientific(x)
    if size >= 1000:
        return f"{x:,.0f}"
    decimals = max(precision, 1 - math.floor(math.log10(size)))
    shown = f"{x:.{decimals}f}"
    while decimals > precision and shown.endswith("0"):  # the extra decimals only where they carry digits
        shown, decimals = shown[:-1], decimals - 1
    return shown


def integer(x: Any) -> str:
    """A count or a seed: no decimals, thousands grouped."""
    if missing(x):
        return MISSING
    if math.isinf(float(x)):
        return number(x)
    return f"{int(round(float(x))):,}"


def text(x: Any) -> str:
    """Any other cell: itself, missing ones (None, NaN, "nan") as an em dash."""
    if missing(x) or (isinstance(x, str) and x.strip().lower() in ("nan", "none", "<na>", "")):
        return MISSING
    return str(x)


def _is_integer_column(values: pd.Series) -> bool:
    present = values.dropna()
    if present.empty or values.dtype == bool:
        return False
    if pd.api.types.is_integer_dtype(values):
        return True
    if not pd.api.types.is_float_dtype(values):
        return False
    finite = present.to_numpy()[np.isfinite(present.to_numpy())]
    return bool(finite.size and np.all(np.mod(finite, 1) == 0) and np.abs(finite).max() < 1e15)


def _is_fraction_column(name: str, values: pd.Series) -> bool:
    present = values.dropna()
    return (bool(FRACTION.search(name.lower())) and "%" not in name and not present.empty
            and pd.api.types.is_numeric_dtype(values) and values.dtype != bool
            and bool(present.between(0, 1).all()))


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and values.dtype != bool


def column_formatter(name: str, values: pd.Series, precision: int = 2):
    """The function that formats one cell of column ``name`` (its kind read from name and values)."""
    if values.dtype == bool:
        return lambda x: number(x)
    if not _numeric(values):  # a column of words, or numbers where some rows hold a word instead
        return lambda x: number(x, precision) if isinstance(x, float) and not missing(x) else text(x)
    if _is_fraction_column(name, values):
        return lambda x: MISSING if missing(x) else f"{number(100 * x, precision)} %"
    if _is_integer_column(values):
        return integer
    return lambda x: number(x, precision)


def _pairs(columns: list[str]) -> list[tuple[str, str, str]]:
    """``(stem, mean column, std column)`` for every ``X_mean`` with an ``X_std`` (or ``X mean``/``X std``)."""
    out = []
    for col in columns:
        for mean_suffix, std_suffix in MEAN_STD:
            if isinstance(col, str) and col.endswith(mean_suffix):
                stem = col[: -len(mean_suffix)]
                if stem + std_suffix in columns:
                    out.append((stem, col, stem + std_suffix))
    return out


def display_frame(df: pd.DataFrame, precision: int = 2) -> pd.DataFrame:
    """``df`` as strings, one formatted cell per value: mean/std pairs merged into ``mean ± std``
    (named by their stem; their names in ``attrs["mean_std"]``), the verdict column moved to the
    front. Column order otherwise kept."""
    columns = [str(c) for c in df.columns]
    columns = [c if columns[:i].count(c) == 0 else f"{c} ({columns[:i].count(c) + 1})" for i, c in enumerate(columns)]
    df = df.set_axis(columns, axis=1)
    pairs = {mean: (stem, std) for stem, mean, std in _pairs(columns)}
    stds = {std for _, std in pairs.values()}
    out: dict[str, list[str]] = {}
    merged: list[str] = []
    for col in columns:
        if col in stds:
            continue
        if col in pairs:
            stem, std = pairs[col]
            both = pd.concat([df[col], df[std]])
            fmt = column_formatter(stem, both, precision)
            if fmt is integer:  # means of counts are rarely whole: format them as numbers
                fmt = lambda x, p=precision: number(x, p)  # noqa: E731
            name = stem if stem not in columns and header(stem) not in map(header, columns) else col
            out[name] = [_mean_std(fmt, m, s) for m, s in zip(df[col], df[std])]
            merged.append(name)
        else:
            fmt = column_formatter(col, df[col], precision)
            out[col] = [fmt(v) for v in df[col]]
    frame = pd.DataFrame(out, index=range(len(df)))
    frame = frame[verdict_first(list(frame.columns))]
    frame.attrs["mean_std"] = merged
    return frame


def _mean_std(fmt, mean: Any, std: Any) -> str:
    if missing(mean):
        return MISSING
    shown = fmt(mean)
    if missing(std):
        return shown
    spread = fmt(std)
    unit = " %" if shown.endswith(" %") else ""
    return f"{shown.removesuffix(unit)}{PLUS_MINUS}{spread.removesuffix(unit)}{unit}"


def verdict_first(columns: list[str]) -> list[str]:
    """The columns with the verdict right after the claim (or after a first identifying column,
    or first), so the verdict stays on screen however many columns follow; others keep their order."""
    if VERDICT not in columns:
        return columns
    rest = [c for c in columns if c != VERDICT]
    if "claim" in rest[:3]:
        at = rest.index("claim") + 1
    else:
        at = 1 if rest and rest[0] in LEADING else 0
    return rest[:at] + [VERDICT] + rest[at:]


def header(name: str) -> str:
    """A column name as a heading: underscores as spaces, so long names wrap."""
    return name.replace("_", " ").strip()


def headers(columns: list[str]) -> dict[str, str]:
    """Each column's heading (:func:`header`), the raw name kept where two headings would be the same,
    and a count appended where even raw names repeat: a Styler needs unique column labels."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    pretty = [header(c) for c in columns]
    for col, nice in zip(columns, pretty):
        label = nice if pretty.count(nice) == 1 else col
        n = 2
        while label in taken:
            label, n = f"{col} ({n})", n + 1
        taken.add(label)
        out[col] = label
    return out


def render(df: pd.DataFrame, caption: str, *, precision: int = 2):
    """The book's view of ``df``: formatted cells, readable headings, its own scroll box, the caption
    (with a note on what an em dash and ± mean where the table has them)."""
    shown = display_frame(df, precision)
    notes = []
    if any(PLUS_MINUS in v for col in shown.attrs.get("mean_std", []) for v in shown[col]):  # not a ± in text
        notes.append("± standard deviation over seeds")
    if any(v == MISSING for col in shown for v in shown[col]):
        notes.append(f"{MISSING} not measured, not reported or not applicable")
    full_caption = caption + (f". {'; '.join(notes)}." if notes else "")
    long_text = {c for c in shown if shown[c].str.len().max() > LONG_TEXT} if len(shown) else set()
    labels = headers(list(shown.columns))
    styler = shown.rename(columns=labels).style.hide(axis="index").set_caption(full_caption)
    styler = styler.set_table_attributes(f'class="{TABLE_CLASS}"')
    styles = TABLE_STYLES + (LONG_STYLES if len(shown) > LONG_ROWS else [])
    styler = styler.set_table_styles(styles, overwrite=True)
    classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
    for col in long_text:
        classes[col] = "long-text"
    styler = styler.set_td_classes(classes.rename(columns=labels))
    if VERDICT in shown:
        color = {k: f"color: {v}; font-weight: 600;" for k, v in VERDICT_COLORS.items()}
        styler = styler.map(lambda v: color.get(v, ""), subset=[labels[VERDICT]])
    return styler
