"""Weight Compander on MNIST, our extension of paper 001 (notebooks/weight_compander.ipynb).

Every method at its chosen a, b (``main``), the a, b search, the weights' percentiles during
training, the two effects the paper promises (bounded magnitudes, fewer weights near zero), the
learned a, b, the trained weights' distribution and the training-time overhead bench.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from .. import experiment, figures, hooks, paths, reparam, report, results, sweeps
from .. import claims as claims_module
from ..chapters.weight_compander import LABELS, LR_TUNED, describe, lr_tuned, split_search, trial_counts
from ..claims.weight_compander import layers
from ..layers import weight_layers
from . import ChapterView
from .benchmarks import reparam_frame, reparam_label

GRID = ["model", "method"]
EFFECTS = ["first_max_abs_w", "all_max_abs_w_end", "first_near_1e-3_%", "first_near_1e-2_%", "first_p93_minus_p7"]
DISTRIBUTION_METHODS = ["none", "wc", "wc_fine", "pp", "wn"]
BENCH_FILE = Path("bench") / "results" / "reparam_overhead.json"  # written by `make bench-reparam`


@dataclass
class Runs:
    """The runs of the grid: ``main`` (one row per run, every method at its chosen a, b), ``search``
    (every run of a searched method: the search, and the other seeds at its choice), ``chosen``
    (``{(model, dataset, method): (a, b)}``) and ``history`` (the main runs per epoch, with model
    and method)."""

    main: pd.DataFrame
    search: pd.DataFrame
    chosen: dict[tuple[str, str, str], tuple[float, float]]
    history: pd.DataFrame

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(self.main["model"]))

    @property
    def seeds(self) -> list[int]:
        """The seeds of the main runs, which every table's title and figure's caption names."""
        return sorted(int(s) for s in self.main["seed"].unique())


def runs(records: list[dict[str, Any]]) -> Runs:
    """The grid's finished runs, split by :func:`split_search` as the chapter's claims split them."""
    main, search, chosen = split_search(sweeps.dense_frame(records, describe))
    keys = set(main["key"])
    history = results.history_frame([r for r in records if r["key"] in keys])
    return Runs(main, search, chosen, history.merge(main[["key", "model", "method"]], on="key"))


def first_layer(model: str) -> str:
    """The layer the paper's Figs. 3 and 4 follow: the network's first conv or linear layer."""
    return layers(model)[0]


# --- frames behind the tables -------------------------------------------------------


def search_grid(search: pd.DataFrame, model: str) -> pd.DataFrame:
    """Validation error (%) of the compander's first seed per a (rows) and b (columns)."""
    part = search[(search["model"] == model) & (search["method"] == "wc")]
    first = part[part["seed"] == part["seed"].min()]
    grid = first.pivot_table(index="a", columns="b", values="val_error_%").reset_index()
    grid.columns = ["a \\ b"] + [f"b = {b:g}" for b in grid.columns[1:]]
    return grid


def tuning_frame(frame: pd.DataFrame, expected: dict[str, int] | None = None) -> pd.DataFrame:
    """Equal tuning budget: per network and method of ``LR_TUNED``, the first seed's validation error
    (%) at every learning rate tried, the rate chosen on it, and the test error (%) at that rate, mean
    over seeds (and how many); a cell whose trials are not all stored has no choice yet."""
    if frame.empty or "lr_trial" not in frame:
        return pd.DataFrame()
    tuned, chosen = lr_tuned(frame, expected)
    rows = []
    for (model, dataset, method), part in frame[frame["method"].isin(LR_TUNED)].groupby(
            ["model", "dataset", "method"], sort=False):
        first = part[part["seed"] == part["seed"].min()]
        if not first["lr_trial"].astype(bool).any():
            continue
        row = {"model": LABELS[model], "method": LABELS[method],
               **{f"lr {lr:g}": err for lr, err in zip(first["lr"], first["val_error_%"])}}
        if (model, dataset, method) in chosen:
            rate = chosen[(model, dataset, method)][0]
            mine = tuned[(tuned["model"] == model) & (tuned["method"] == method)]
            row.update({"chosen lr": rate, "test error at chosen lr (%)": mine["test_error_%"].mean(),
                        "seeds": len(mine)})
        else:
            row["chosen lr"] = "trials not all stored"
        rows.append(row)
    out = pd.DataFrame(rows)
    rates = sorted((c for c in out.columns if c.startswith("lr ")), key=lambda c: float(c[3:]))
    return out[["model", "method", *rates, *[c for c in out.columns if c not in rates and c not in ("model", "method")]]]


def convergence_frame(records: list[dict[str, Any]], main: pd.DataFrame, tuned: pd.DataFrame) -> pd.DataFrame:
    """Is a method trained to convergence at the rate it is compared at? Per network, method and
    rate (the recipe's, for every main run; the one chosen on validation, for ``tuned``'s runs):
    the last epoch's training error and loss, how much the loss still fell over the last three
    epochs (%), and on how many seeds the epoch selected on validation is the last one (a method
    still improving when the schedule ends)."""
    by_key = {r["key"]: r for r in records}
    rows = []
    for rate, frame in (("recipe", main), ("chosen on validation", tuned)):
        if frame.empty:
            continue
        for (model, method), part in frame.groupby(["model", "method"], sort=False):
            recs = [by_key[k] for k in part["key"]]
            losses = [[h["train_loss"] for h in r["history"]] for r in recs]
            rows.append({
                "model": LABELS[model], "method": LABELS[method], "learning rate": rate,
                "lr": float(part["lr"].iloc[0]),
                "train error, last epoch (%)": part["train_error_%"].mean(),
                "train loss, last epoch": float(np.mean([x[-1] for x in losses])),
                "loss drop, last 3 epochs (%)": float(np.mean([100 * (x[-4] - x[-1]) / x[-4] for x in losses]))
                if all(len(x) >= 4 for x in losses) else np.nan,
                "best epoch is the last": f"{sum(r['metrics']['best_epoch'] == len(r['history']) for r in recs)} "
                                          f"of {len(recs)}"})
    return pd.DataFrame(rows)


def accuracy_frame(main: pd.DataFrame) -> pd.DataFrame:
    """Test, validation and last-epoch training error (%) and parameters per model and method."""
    return report.seed_summary(main, GRID, ["test_error_%", "val_error_%", "train_error_%", "params"]).replace(LABELS)


def percentiles_of(config: dict[str, Any], history: Sequence[dict[str, Any]], layer: str, method: str
                   ) -> list[dict[str, Any]]:
    """One row per epoch of ``layer``'s weight percentiles; epoch 0 is the initialization, rebuilt
    from the run's config (the stored history starts after the first epoch)."""
    init = weight_layers(experiment.build_model(config, 10))[layer].weight.detach().flatten()
    q = torch.quantile(init, torch.tensor(hooks.PERCENTILES, dtype=torch.float32) / 100).tolist()
    rows = [{"method": method, "epoch": 0, **{f"p{p:g}": v for p, v in zip(hooks.PERCENTILES, q)}}]
    rows += [{"method": method, "epoch": h["epoch"], **{f"p{p:g}": h[f"w.{layer}.p{p:g}"] for p in hooks.PERCENTILES}}
             for h in history]
    return rows


def percentile_frame(records: list[dict[str, Any]], main: pd.DataFrame, model: str, methods: Sequence[str]
                     ) -> pd.DataFrame:
    """Per method and epoch (0 = initialization): the first layer's weight percentiles, first seed."""
    by_key = {r["key"]: r for r in records}
    rows = []
    for method in methods:
        part = main[(main["model"] == model) & (main["method"] == method)]
        if part.empty:
            continue
        record = by_key[part.sort_values("seed", kind="stable")["key"].iloc[0]]
        rows += percentiles_of(record["config"], record["history"], first_layer(model), method)
    return pd.DataFrame(rows)


def weight_effects(history: pd.DataFrame) -> pd.DataFrame:
    """Per run: the first layer's largest |w| over all epochs, every layer's largest |w| at the end,
    the first layer's share (%) of weights with |w| < 1e-3 and < 1e-2 at the end, and the spread
    between its 7th and 93rd percentiles at the end."""
    rows = []
    for _, part in history.groupby("key", sort=False):
        model, method, seed = part["model"].iloc[0], part["method"].iloc[0], part["seed"].iloc[0]
        layer, last = first_layer(model), part.sort_values("epoch").iloc[-1]
        rows.append({
            "model": model, "method": method, "seed": seed,
            "first_max_abs_w": part[[f"w.{layer}.p100", f"w.{layer}.p0"]].abs().max().max(),
            "all_max_abs_w_end": max(max(abs(last[f"w.{n}.p100"]), abs(last[f"w.{n}.p0"])) for n in layers(model)),
            "first_near_1e-3_%": 100 * last[f"w.{layer}.near0.001"],
            "first_near_1e-2_%": 100 * last[f"w.{layer}.near0.01"],
            "first_p93_minus_p7": last[f"w.{layer}.p93"] - last[f"w.{layer}.p7"],
        })
    return pd.DataFrame(rows)


def verdict_lines(main: pd.DataFrame, chosen: dict, effects: pd.DataFrame, tuned: pd.DataFrame | None = None,
                  rates: dict | None = None) -> str:
    """One Markdown bullet per network: the chosen a, b, and the compander beside plain training, at
    the recipe's learning rate and (with ``tuned``, ``rates``: :func:`lr_tuned`) at the rate plain
    training chose on validation with the same tuning budget."""
    lines = []
    for model in dict.fromkeys(main["model"]):
        a, b = chosen[(model, "mnist", "wc")]
        error = main[main["model"] == model].groupby("method")["test_error_%"].mean()
        eff = effects[effects["model"] == model].groupby("method")[["first_max_abs_w", "first_near_1e-2_%"]].mean()
        wc, plain = eff.loc["wc"], eff.loc["none"]
        at_rate = ""
        if rates and (model, "mnist", "none") in rates:
            mine = tuned[(tuned["model"] == model) & (tuned["method"] == "none")]
            at_rate = (f" at the recipe's learning rate, {mine['test_error_%'].mean():.2f}% plain at its own, "
                       f"{rates[(model, 'mnist', 'none')][0]:g}, chosen on validation with the compander's budget")
        lines.append(f"* **{LABELS[model]}**: the search chose a = {a:g}, b = {b:g} (bound a*pi/2 = "
                     f"{a * np.pi / 2:.2f}); test error {error['wc']:.2f}% with WC against {error['none']:.2f}% plain"
                     f"{at_rate}; "
                     f"the first layer's largest |w| during training {wc['first_max_abs_w']:.3f} with WC against "
                     f"{plain['first_max_abs_w']:.3f} plain; weights with |w| < 0.01: "
                     f"{wc['first_near_1e-2_%']:.1f}% with WC against {plain['first_near_1e-2_%']:.1f}% plain.")
    return "\n".join(lines)


def overhead_frame(bench: dict[str, Any]) -> tuple[pd.DataFrame, str]:
    """The stored overhead bench (``bench/reparam_overhead.py``) as a table, and what it ran on."""
    data = f"random MNIST/CIFAR-shaped batches of {bench['settings'].get('batch_size', 128)}; {reparam_label(bench)}"
    return reparam_frame(bench), data


def _figure(view: ChapterView, fig, name: str, title: str, seeds: Any) -> None:
    view.figure(fig, name, title, data=view.data_label(sizes=False), seeds=seeds)


# --- sections ------------------------------------------------------------------------


def overview(view: ChapterView) -> None:
    """How many runs (of them the search), on what data, which did not complete, and their training time."""
    not_completed = [(describe(r["config"]), r["status"]) for r in view.records if r["status"] != "completed"]
    searched = len(runs(view.records).search)
    print(f"{len(view.records)} runs of profile {view.profile!r} ({searched} of them the a, b search) on "
          f"{view.data_label()}; not completed: {not_completed or 'none'}")
    print(f"training wall time, all runs: {sum(r['wall_time_s'] for r in view.records):,.0f} s")


def functions(view: ChapterView) -> None:
    """Fig. 2: Psi and Psi' of arctan, arsinh and erf at a = b = 1, computed exactly (no training)."""
    fig = figures.reparam_functions({fn: reparam.curves(fn, 1.0, 1.0, lim=5.0) for fn in ("arctan", "arsinh", "erf")},
                                    bound=np.pi / 2)
    view.figure(fig, "fig2_functions", "", caption=(
        "Fig. 2: the reparameterization functions Psi(v) and their slopes Psi'(v) at a = b = 1, computed "
        "exactly (grey: the arctan bound ±pi/2); no training, so no profile, data or seeds."))


def search(view: ChapterView) -> None:
    """The a, b search per network: validation error of the first seed, and the chosen pair."""
    run = runs(view.records)
    for model in run.models:
        a, b = run.chosen[(model, "mnist", "wc")]
        view.table(search_grid(run.search, model), f"search_{model}",
                   f"{LABELS[model]}: validation error (%) over a, b; chosen a = {a:g}, b = {b:g}", seeds=run.seeds)


def tuning(view: ChapterView) -> None:
    """Equal tuning budget: the other methods' learning-rate trials beside the compander's a, b search."""
    frame = sweeps.dense_frame(view.records, describe)
    table = tuning_frame(frame, trial_counts(view.grid_profile))
    if table.empty:
        view.note("No learning-rate trial is stored yet.", "tuning")
        return
    view.table(table, "equal_budget", "Equal tuning budget: validation error (%) of the first seed per learning "
               "rate, the rate chosen on it, and the test error (%) at that rate", seeds=view.seeds_of(frame))


def _lr_tuned(view: ChapterView):
    """:func:`lr_tuned` on the view's runs: the equal-budget runs and the rates chosen."""
    return lr_tuned(sweeps.dense_frame(view.records, describe), trial_counts(view.grid_profile))


def convergence(view: ChapterView) -> None:
    """Training to convergence: every method at the recipe's rate, the tuned ones at their chosen rate."""
    run = runs(view.records)
    tuned, _ = _lr_tuned(view)
    view.table(convergence_frame(view.records, run.main, tuned), "convergence",
               "Trained to convergence? Last epoch's training error and loss, the loss's fall over the last three "
               "epochs, and the seeds whose validation-selected epoch is the last", seeds=run.seeds)


def accuracy(view: ChapterView) -> None:
    """Test, validation and training error per network and method, mean and std over seeds."""
    run = runs(view.records)
    view.table(accuracy_frame(run.main), "accuracy", "Test, validation and last-epoch training error (%) per method",
               seeds=run.seeds)


def weights_during_training(view: ChapterView) -> None:
    """Figs. 3 and 4: the first layer's percentiles per epoch, plain against the compander, first seed."""
    run = runs(view.records)
    first_seed = [run.main["seed"].min()]
    for model in run.models:
        frame = percentile_frame(view.records, run.main, model, ["none", "wc"])
        a, b = run.chosen[(model, "mnist", "wc")]
        labels = {**LABELS, "wc": f"WC, a = {a:g}, b = {b:g}"}
        fig = figures.percentile_bands(frame, panel="method", percentiles=hooks.PERCENTILES, labels=labels)
        _figure(view, fig, f"fig3_percentiles_{model}", f"Fig. 3: {LABELS[model]}, weights of {first_layer(model)} "
                "per epoch (epoch 0: initialization): median and bands between percentiles", first_seed)
        zoom = 1.3 * frame[["p93", "p7"]].abs().max().max()
        fig = figures.percentile_bands(frame, panel="method", percentiles=hooks.PERCENTILES[1:-1], zoom=zoom,
                                       labels=labels)
        _figure(view, fig, f"fig4_percentiles_zoomed_{model}",
                f"Fig. 4: {LABELS[model]}, the same without max and min, zoomed", first_seed)


def other_reparameterizations(view: ChapterView) -> None:
    """The same percentiles under learnable WC, Powerpropagation and weight normalization."""
    run = runs(view.records)
    for model in run.models:
        frame = percentile_frame(view.records, run.main, model, ["wc_fine", "wc_coarse", "pp", "wn"])
        fig = figures.percentile_bands(frame, panel="method", percentiles=hooks.PERCENTILES, labels=LABELS)
        _figure(view, fig, f"other_reparameterizations_{model}",
                f"{LABELS[model]}, weights of {first_layer(model)} per epoch under the other reparameterizations "
                "(epoch 0: initialization): median and bands between percentiles", [run.main["seed"].min()])


def effects_and_claims(view: ChapterView) -> None:
    """The weights' magnitudes and mass near zero per method, then the paper's claims judged."""
    run = runs(view.records)
    summary = report.seed_summary(weight_effects(run.history), GRID, EFFECTS).replace(LABELS)
    view.table(summary, "weight_effects", "The weights' magnitudes and mass near zero per method", precision=4,
               seeds=run.seeds)
    view.table(claims_module.table(view.grid, view.profile, view.results_dir), "claims",
               "The paper's claims, judged by the one rule (95% paired t intervals over seeds)", precision=4,
               seeds=run.seeds)


def learned_scales(view: ChapterView) -> None:
    """The learnable compander's a and b per layer and epoch, fine and coarse."""
    run = runs(view.records)
    scales = run.history[run.history["method"].isin(["wc_fine", "wc_coarse"])]
    for model in run.models:
        part = scales[scales["model"] == model]
        if part.empty:
            continue
        _figure(view, figures.learned_scales(part, start={"a": 0.5, "b": 1.0}), f"learned_ab_{model}",
                f"{LABELS[model]}: learnable compander parameters per epoch, fine (one a, b per layer, solid) and "
                "coarse (one a, b for all layers, dashed); line: mean over seeds, band: min to max", run.seeds)


def distributions(view: ChapterView) -> None:
    """All layers' trained weights pooled, per network and method."""
    run = runs(view.records)
    main = set(run.main["key"])
    hist = sweeps.histogram_frame([r for r in view.records if r["key"] in main], describe)
    hist = hist[hist["method"].isin(DISTRIBUTION_METHODS)]
    _figure(view, figures.distributions(hist, panel="model", hue="method", labels=LABELS), "weights_after_training",
            "Density of the trained weights (log scale); line: mean over seeds, band: min to max", run.seeds)


def overhead(view: ChapterView, bench_file: str | Path | None = None) -> None:
    """The stored training-time overhead bench (``make bench-reparam``), if there is one."""
    path = Path(bench_file) if bench_file is not None else paths.repo_root() / BENCH_FILE
    if not path.exists():
        view.note(f"No benchmark result at `{path}`: run `make bench-reparam`.", "overhead")
        return
    table, data = overhead_frame(json.loads(path.read_text()))
    view.table(table, "overhead", "Training step time against the plain network", profile="bench", data=data)


def verdict(view: ChapterView) -> None:
    """Per network, the chosen a, b and the compander's numbers beside plain training."""
    run = runs(view.records)
    tuned, rates = _lr_tuned(view)
    view.note(verdict_lines(run.main, run.chosen, weight_effects(run.history), tuned, rates), "verdict")
