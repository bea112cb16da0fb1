"""What a chapter notebook shows, as package code: notebooks are thin views over these.

A notebook is parameters -> :class:`ChapterView` (its stored or trained runs) -> one call per
section of a chapter module here (``views.<notebook>``), each of which displays tables, figures
and notes through the view. The frames behind them are built by plain functions that tests import,
so every number a reader sees comes from tested package code. The view records what it showed
(:attr:`ChapterView.shown`), which is how tests look at a section without a notebook.

The top of the stack: views import chapters, claims, report, figures and results; nothing in the
package imports views.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from .. import chapters, figures, report, results, tables
from .. import claims as claims_module
from ..profiles import check_profile, loads_stored, measured_profile


@dataclass
class Shown:
    """One thing a view displayed: ``kind`` is "table", "figure", "note" or "verdicts"."""

    kind: str
    name: str
    value: Any


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


class ChapterView:
    """The runs of one notebook's grid in one profile, and how the notebook shows them.

    ``grid``: the chapter grid the notebook reads (defaults to ``notebook``); ``train=None`` follows
    :func:`regprune.chapters.records` (a cpu build of a stored-only grid trains nothing).
    ``needs_gpu``: the notebook shows a part that needs a GPU, so a cpu build shows the stored runs of
    the ``paper`` grid (:func:`regprune.profiles.measured_profile`, :attr:`grid_profile`) and trains
    nothing; captions still name the build's profile.
    ``records`` given (tests): used as they are, nothing is loaded or trained."""

    def __init__(self, notebook: str, profile: str, *, grid: str | None = None, needs_gpu: bool = False,
                 seeds: Sequence[int] | None = None,
                 device: str = "auto", data_root: str | Path | None = None, results_dir: str | Path | None = None,
                 tables_dir: str | Path | None = None, figures_dir: str | Path | None = None,
                 recompute: bool = False, train: bool | None = None,
                 records: list[dict[str, Any]] | None = None, display: Callable[[Any], None] = _display):
        self.notebook = notebook
        self.grid = grid or notebook
        self.profile = check_profile(profile)
        self.grid_profile = measured_profile(self.profile, needs_gpu)
        if train is None and self.grid_profile != self.profile:
            train = False  # a cpu build trains no GPU part: it shows what is stored
        self.seeds = seeds
        self.results_dir = results_dir
        self.tables_dir = tables_dir
        self.figures_dir = figures_dir
        self.display = display
        self.shown: list[Shown] = []
        self.configs = chapters.configs(self.grid, self.grid_profile, seeds, results_dir)
        if records is None:
            records = chapters.records(self.grid, self.grid_profile, seeds, results_dir=results_dir, train=train,
                                       device=device, data_root=data_root, recompute=recompute)
            self.configs = chapters.configs(self.grid, self.grid_profile, seeds, results_dir)  # a staged grid grows
        self.records = records
        have = {r["key"] for r in records}
        self.missing = [c for c in self.configs if results.run_key(c) not in have]

    # --- what the runs are --------------------------------------------------------------

    @property
    def loads_stored(self) -> bool:
        """True where this profile only shows stored runs (cpu)."""
        return loads_stored(self.profile)

    def status(self) -> str:
        """One line: how many runs the grid lists, how many are here, how many are missing."""
        return (f"grid {self.grid!r}, profile {self.grid_profile!r}: {len(self.configs)} runs listed; "
                f"stored or trained: {len(self.records)}; missing: {len(self.missing)}")

    def data_label(self, config: dict[str, Any] | None = None, *, sizes: bool = True) -> str:
        """The data a config (default: the first record's, else the first config's) trains on, as the
        book labels it ("CIFAR-10 (JPEG q75 copy)", never plain CIFAR-10), with its split sizes."""
        if config is None:
            config = self.records[0]["config"] if self.records else self.configs[0]
        text = figures.dataset_label(config["data"]["name"])
        record = next((r for r in self.records if r["config"]["data"] == config["data"]), None)
        if sizes and record is not None and "sizes" in record.get("data", {}):
            s = record["data"]["sizes"]
            text += f", {s['train']:,} train / {s['val']:,} validation / {s['test']:,} test"
        return text

    def seeds_of(self, frame: pd.DataFrame | None = None) -> list[int]:
        """The seeds in ``frame`` (default: in the records), sorted."""
        if frame is not None and "seed" in frame:
            return sorted({int(s) for s in frame["seed"]})
        return sorted({int(r["config"].get("seed", 0)) for r in self.records})

    # --- showing ------------------------------------------------------------------------

    def table(self, df: pd.DataFrame, name: str, title: str, *, data: str | None = None,
              precision: int = 2, seeds: Sequence[int] | None = None, profile: str | None = None) -> pd.DataFrame:
        """Save ``df`` as ``<tables>/<notebook>/<name>.csv`` and display it with the book's renderer;
        the title gets the seeds it covers (``seeds``, default: its seed column; a summary over
        seeds has none, so it names them). ``profile``: what the caption names, where it is not the
        view's (a benchmark). Returns ``df``."""
        if seeds is None and "seed" in df:
            seeds = self.seeds_of(df)
        if seeds:
            title = f"{title} [seeds {', '.join(map(str, sorted(seeds)))}]"
        self.display(report.show_table(df, name, self.notebook, title=title, profile=profile or self.profile,
                                       data=data if data is not None else self.data_label(),
                                       tables_dir=self.tables_dir, precision=precision))
        self.shown.append(Shown("table", name, df))
        return df

    def figure(self, fig, name: str, title: str, *, data: str | None = None, seeds: Any = None,
               note: str = "", vector: bool = True, profile: str | None = None, caption: str | None = None) -> None:
        """Display and save ``fig`` with the book's caption (title, profile, data, seeds), or with
        ``caption`` as it is where no run is behind the figure (a function drawn exactly)."""
        if caption is None:
            caption = figures.caption(title, profile=profile or self.profile,
                                      data=data if data is not None else self.data_label(),
                                      seeds=self.seeds_of() if seeds is None else seeds, note=note)
        if self.display is _display:
            figures.show(fig, caption, name=name, notebook=self.notebook, vector=vector, figures_dir=self.figures_dir)
        else:
            import matplotlib.pyplot as plt

            plt.close(fig)
        self.shown.append(Shown("figure", name, fig))

    def note(self, markdown: str, name: str = "") -> None:
        """Display a short Markdown note (e.g. what is not stored yet)."""
        from IPython.display import Markdown

        self.display(Markdown(markdown))
        self.shown.append(Shown("note", name, markdown))

    def claims(self, title: str = "The paper's claims, judged by the book's one rule", *,
               grid: str | None = None, data: str | None = None) -> pd.DataFrame:
        """The claims table of ``grid`` (default: this view's) in this profile, from :mod:`regprune.claims`."""
        table = claims_module.table(grid or self.grid, self.profile, self.results_dir)
        if table.empty:
            self.note(f"No coded claim reads the `{grid or self.grid}` grid.", "claims")
            return table
        return self.table(table, "claims", title, data=data)

    def verdicts(self, claims: pd.DataFrame) -> pd.DataFrame:
        """Display one row per claim with its verdict (a claims table has one row per named part)."""
        if claims.empty:
            return claims
        frame = claims.groupby("claim", sort=False)[["claim verdict"]].first()
        self.display(tables.render(frame.reset_index(), "One verdict per claim (its parts above)"))
        self.shown.append(Shown("verdicts", "verdicts", frame))
        return frame

    def awaiting(self, what: str = "runs") -> bool:
        """Show a note and return True when no run is stored or trained yet (the sections then skip)."""
        if self.records:
            return False
        self.note(f"**Not yet measured**: none of the {len(self.missing)} {what} of the `{self.grid_profile}` grid "
                  "is stored yet; the tables and figures below appear once they have been trained.", "awaiting")
        return True


def open_chapter(notebook: str, profile: str, **kwargs: Any) -> ChapterView:
    """The notebook's view (:class:`ChapterView`), printing its status line."""
    view = ChapterView(notebook, profile, **kwargs)
    print(view.status())
    return view
