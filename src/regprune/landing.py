"""The landing page's computed parts: one figure per paper, drawn from its chapter's stored runs,
and what each profile costs, summed from the stored records' wall times.

:func:`regprune.book.stage` fills the intro's ``{{ paper_figures }}`` and ``{{ profile_costs }}``
from here whenever the book is built, so the landing page never carries a typed number: a paper
whose runs are not stored gets a line saying what it awaits, a profile with no stored run says
"not measured".
"""

from __future__ import annotations

import shutil
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import matplotlib.pyplot as plt
import pandas as pd

from . import chapters, figures, results
from .chapters import efficiency_llr, flops_pruning, switcher_network, vc_bound, weight_compander

FIGURES = "landing"  # the intro's figures: <staged book>/landing/<chapter>.svg


@dataclass(frozen=True)
class PaperFigure:
    """How the landing page shows one paper: its chapter grid (whose module of
    :mod:`regprune.chapters` has ``describe`` and ``LABELS``), each run's row label, the series
    column, and which runs (``only``: column -> allowed values) the figure keeps."""

    paper: str  # the authors, as the intro's table names them
    grid: str  # the chapter grid, also its module's name
    title: str
    method: Callable[[dict[str, Any]], str]  # describe(config) -> the row's label
    hue: str = "model"  # a column of describe(config)
    only: dict[str, tuple] = field(default_factory=dict)
    awaits: str = "its runs"

    @property
    def module(self):
        return CHAPTER_MODULES[self.grid]


CHAPTER_MODULES = {m.__name__.rsplit(".", 1)[-1]: m
                   for m in (efficiency_llr, weight_compander, switcher_network, vc_bound, flops_pruning)}


def _llr_method(d: dict[str, Any]) -> str:
    return f"{efficiency_llr.LABELS[d['output']]}, {efficiency_llr.LABELS[d['regularizer']]}"


def _labelled(module) -> Callable[[dict[str, Any]], str]:
    return lambda d: module.LABELS.get(d["method"], d["method"])


PAPERS = (
    PaperFigure("Liang, Yi, Liu", "efficiency_llr",
                "LLR or softmax outputs, with and without weight decay: test error of the trained networks",
                _llr_method),
    PaperFigure("Cakaj, Mehnert, Yang", "weight_compander",
                "Weight compander against plain training, Powerpropagation and weight normalization: test error",
                _labelled(weight_compander)),
    PaperFigure("Han, Liu, Hai, Li", "switcher_network",
                "Switcher network (gating neurons or connections) against the dense network: test error",
                _labelled(switcher_network), only={"variant": ("main",)}),
    PaperFigure("Sharma et al.", "vc_bound",
                "Hinge loss (H) with the VC-bound term on all layers (LCA), L2 (W2) or L1 (W1): test error "
                "of the two-hidden-layer FNN", lambda d: d["method"], hue="dataset", only={"model": ("fnn2",)}),
    PaperFigure("Vu, Wen, Nehoran", "flops_pruning",
                "Mixup, cutout and soft filter pruning on CIFAR ResNets: test error", _labelled(flops_pruning),
                awaits="its CIFAR ResNet runs (a GPU, or `regprune train` run by run)"),
)


def run_frame(spec: PaperFigure, profile: str, results_dir: str | Path | None) -> pd.DataFrame:
    """The grid's stored, completed runs as rows (describe's columns, ``label``, ``data``,
    ``test_error_%``), kept to ``spec.only`` and, per row label and series, to the setting with the
    most seeds (a tuning search's one-seed runs, or one run at a longer budget, are not the method's result)."""
    records = chapters.records(spec.grid, profile, results_dir=results_dir, train=False)
    rows = [{**spec.module.describe(r["config"]), "seed": r["config"].get("seed", 0),
             "data": r["config"]["data"]["name"],
             "_epochs": r["config"].get("train", {}).get("epochs"), "test_error_%": 100 * (1 - r["metrics"]["test_acc"])}
            for r in records if r.get("status") == "completed" and "test_acc" in r.get("metrics", {})]
    frame = pd.DataFrame(rows)
    for column, allowed in spec.only.items():
        frame = frame[frame[column].isin(allowed)] if not frame.empty else frame
    if frame.empty:
        return frame
    frame = frame.assign(label=[spec.method(d) for d in frame.to_dict("records")])
    setting = [c for c in frame.columns if c not in ("seed", "test_error_%", "label", "data", spec.hue)]
    frame = frame.assign(_setting=[repr(row) for row in frame[setting].itertuples(index=False)])
    seeds = frame.groupby(["label", spec.hue, "_setting"], sort=False)["seed"].nunique().rename("_n").reset_index()
    best = seeds.sort_values("_n", ascending=False, kind="stable").drop_duplicates(["label", spec.hue])
    return frame.merge(best[["label", spec.hue, "_setting"]]).drop(columns=["_setting", "_epochs"])


def paper_figures(dest: Path, profile: str, results_dir: str | Path | None) -> str:
    """The intro's paper figures (MyST ``figure`` blocks; a line for a paper with no stored run),
    each figure saved as ``dest/landing/<grid>.svg`` (the folder emptied first: no stale figure)."""
    shutil.rmtree(dest / FIGURES, ignore_errors=True)
    out = []
    for spec in PAPERS:
        frame = run_frame(spec, profile, results_dir)
        page = f"{{doc}}`chapter <../notebooks/{spec.grid}>`"
        if frame.empty:
            out.append(f"**{spec.paper}.** No run stored in the `{profile}` profile yet: its figure awaits "
                       f"{spec.awaits}; the {page} shows what is wired up.\n")
            continue
        if spec.hue == "dataset":
            frame = frame.assign(dataset=frame["dataset"].map(figures.dataset_label))
        fig = figures.errors_by_method(frame, method="label", hue=spec.hue, labels=getattr(spec.module, "LABELS", {}))
        kind, data = figures.render(fig, vector=True)
        plt.close(fig)
        path = dest / FIGURES / f"{spec.grid}.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        datasets = ", ".join(figures.dataset_label(d) for d in dict.fromkeys(frame["data"]))
        caption = figures.caption(f"{spec.paper}: {spec.title}; dots: mean over seeds, bars: the seeds' range",
                                  profile=profile, data=datasets, seeds=frame["seed"].unique())
        out.append(f"```{{figure}} {FIGURES}/{spec.grid}.{kind}\n:alt: {spec.title}\n\n{caption} More in the {page}.\n```\n")
    return "\n".join(out)


# --- what each profile costs, from the stored records -------------------------------------------


def profile_costs(results_dir: str | Path | None, profiles: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per profile: the runs its grids list, how many are stored, and the wall time the stored ones
    took (``wall_time_s``: training plus analysis) on a CPU and on a GPU (``device`` of the record),
    with the CPUs' core counts; ``projected``: how many of the runs not stored belong to grids with
    stored runs, and ``projected_hours`` what they would take at their grid's median; the others
    (``unknown``: their grids) have nothing to project from."""
    from .profiles import PROFILES

    rows = []
    for profile in profiles or tuple(PROFILES):
        runs = stored = 0
        walls: dict[str, list[float]] = {"cpu": [], "gpu": []}
        cores: set[int] = set()
        projected, projected_hours, unknown = 0, 0.0, []
        for grid in chapters.CHAPTERS.names():
            configs = chapters.configs(grid, profile, results_dir=results_dir)
            found, missing = results.stored(configs, results_dir)
            runs, stored = runs + len(configs), stored + len(found)
            grid_walls = []
            for r in found:
                if not r.get("wall_time_s"):
                    continue
                env = r.get("env", {})
                device = "gpu" if str(env.get("device", r.get("device", "cpu"))).startswith("cuda") else "cpu"
                walls[device].append(float(r["wall_time_s"]))
                grid_walls.append(float(r["wall_time_s"]))
                if device == "cpu" and env.get("cpu_count"):
                    cores.add(int(env["cpu_count"]))
            if missing and grid_walls:
                projected += len(missing)
                projected_hours += len(missing) * statistics.median(grid_walls) / 3600
            elif missing:
                unknown.append(grid)
        rows.append({"profile": profile, "runs": runs, "stored": stored,
                     "cpu_runs": len(walls["cpu"]), "cpu_hours": sum(walls["cpu"]) / 3600,
                     "gpu_runs": len(walls["gpu"]), "gpu_hours": sum(walls["gpu"]) / 3600,
                     "cpu_cores": sorted(cores), "missing": runs - stored, "projected": projected, "projected_hours": projected_hours,
                     "unknown": unknown})
    return pd.DataFrame(rows)


def _hours(h: float) -> str:
    return f"{h:.1f} h" if h >= 1 else f"{h * 60:.0f} min"


def costs_table(costs: pd.DataFrame) -> str:
    """The profile costs as the intro's Markdown table: measured where runs are stored, "not measured" elsewhere."""
    lines = ["| profile | runs in its grids | stored | on a CPU, measured | on a GPU, measured |",
             "|---|---|---|---|---|"]
    for r in costs.itertuples():
        if r.cpu_runs:
            cores = "/".join(str(c) for c in r.cpu_cores)
            cpu = f"{_hours(r.cpu_hours)} for the {r.cpu_runs} stored runs ({cores}-core CPU)"
            if r.projected:
                cpu += f"; {r.projected} not stored: about {_hours(r.projected_hours)} more at their grids' median"
            if r.unknown:
                cpu += (f"; {r.missing - r.projected} not stored in grids with no stored run "
                        f"({', '.join(r.unknown)}): not measured")
        else:
            cpu = "not measured: no run stored"
        gpu = (f"{_hours(r.gpu_hours)} for the {r.gpu_runs} stored runs" if r.gpu_runs
               else "not measured: no GPU run stored")
        lines.append(f"| `{r.profile}` | {r.runs} | {r.stored} | {cpu} | {gpu} |")
    return "\n".join(lines)
