"""Paper 003, "Smaller models, better generalization" (notebooks/vc_bound.ipynb): the FNN tables
(search, Tables 6-8 and 10-12, quantization, the w8a and epoch-budget checks), Fig. 3, the MNIST
t-SNE stand-in for Fig. 2, the claims, and the CIFAR-10 part (Tables 3-5, Figs. 1-2).

The FNN sections read one :class:`FnnRuns` per view (the runs with their role in the staged grid
of :func:`regprune.chapters.vc_bound.cells`); the frames behind the tables are plain functions of
it, so tests build one from hand-made records and a hand-made grid. The CIFAR sections take the
view of the ``vc_bound_cifar`` grid (the notebook opens both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import pandas as pd

from .. import claims as claims_module
from .. import figures, report, results, sweeps
from ..chapters.vc_bound import (DEPTHS, MAJORITY_TEST, METHODS, PAPER_DATASET, SEARCH_MODEL, at_majority, cells,
                                 describe)
from . import ChapterView

# a run listed in two roles takes the later one: a search run at the chosen values is a main run
ROLES = ("search", "ablation", "epochs", "main")
# method -> (the column its search varies, that value's name in a cell's "chosen")
SEARCHED = {"H": ("lr", "lr"), "H+W2": ("C", "C (W2)"), "H+W1": ("C", "C (W1)"), "H+LCA": ("D", "D")}
ACCURACY_TABLES = {"fnn1": 6, "fnn2": 7, "fnn3": 8}
COMPRESSION_TABLES = {"fnn1": 10, "fnn2": 11, "fnn3": 12}
FNN_TABLES = ["Table 6", "Table 7", "Table 8", "Table 10", "Table 11", "Table 12"]
CNN_TABLES = ["Table 3", "Table 4", "Table 5"]
DROP_BITS = [8, 6, 5, 4]
FIG3_METRICS = (("test_acc_%", "test accuracy (%)", False, "test accuracy"),
                ("margin", "margin 2/||w||² (log)", True, "margin"),
                ("loss", "validation loss", False, "validation loss"))
GROUP = ["dataset", "model", "method"]


def geomean(x: pd.Series) -> float:
    """The geometric mean (compression ratios multiply)."""
    return float(np.exp(np.log(x).mean()))


def paper_003() -> pd.DataFrame:
    """Paper 003's transcribed numbers, data sets under our names (its LIBSVM MNIST is our ``mnist``)."""
    paper = report.paper_numbers(paper="003")
    paper["dataset"] = paper["dataset"].replace({v: k for k, v in PAPER_DATASET.items()})
    return paper


def paper_metric(paper: pd.DataFrame, metric: str, name: str) -> pd.DataFrame:
    """The paper's FNN ``metric`` (Tables 6-8, 10-12) per data set, depth and method, as column ``name``."""
    p = paper[paper["table"].isin(FNN_TABLES) & (paper["metric"] == metric)]
    return p[["dataset", "model", "method", "value"]].rename(columns={"value": name})


# --------------------------------------------------------------------------- the FNN runs


def roles(grid: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Run key -> its role in the staged grid (``search``, ``ablation``, ``epochs``, ``main``)."""
    return {results.run_key(c): r for cell in grid.values() for r in ROLES for c in cell[r]}


def runs_frame(records: list[dict[str, Any]], grid: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per run with a threshold sweep (:func:`regprune.sweeps.threshold_frame`), with its
    ``role`` and whether it is ``trivial`` (at the majority class), in the grid's data-set order,
    then depth, then method."""
    runs = sweeps.threshold_frame(records, describe)
    runs["role"] = runs["key"].map(roles(grid))
    order = {"dataset": list(grid), "model": list(DEPTHS), "method": list(METHODS)}
    runs = runs.sort_values(list(order), key=lambda col: col.map({v: i for i, v in enumerate(order[col.name])}),
                            kind="stable").reset_index(drop=True)
    runs["trivial"] = at_majority(runs["test_acc_%"], runs["dataset"])
    return runs


@dataclass
class FnnRuns:
    """The FNN grid's runs as the notebook's tables read them."""

    grid: dict[str, dict[str, Any]]  # chapters.vc_bound.cells: runs by role and the chosen values
    records: list[dict[str, Any]]
    runs: pd.DataFrame  # runs_frame
    paper: pd.DataFrame  # paper_003

    @classmethod
    def of(cls, records: list[dict[str, Any]], grid: dict[str, dict[str, Any]]) -> "FnnRuns":
        return cls(grid, records, runs_frame(records, grid), paper_003())

    @property
    def main(self) -> pd.DataFrame:
        """The table rows: every depth, method and seed at the chosen values."""
        return self.runs[self.runs["role"] == "main"].copy()

    @property
    def first_seed(self) -> int:
        return self.main["seed"].min()

    @property
    def datasets(self) -> list[str]:
        return list(self.grid)

    @property
    def quantization(self) -> pd.DataFrame:
        """The main runs' quantization sweeps (:func:`regprune.sweeps.quantization_frame`)."""
        quant = sweeps.quantization_frame(self.records, describe)
        return quant[quant["key"].isin(self.main["key"])].copy()

    @property
    def epochs(self) -> dict[str, int]:
        """Data set -> the epochs its main runs trained."""
        role = roles(self.grid)
        return {describe(r["config"])["dataset"]: r["config"]["train"]["epochs"] for r in self.records
                if role[r["key"]] == "main"}

    @property
    def seed_label(self) -> str:
        return "seeds " + ", ".join(str(s) for s in sorted(self.main["seed"].unique()))

    @property
    def data_label(self) -> str:
        """Each data set's split sizes, e.g. ``"dna 1,400/600/1,186 (train/val/test)"``."""
        sizes = {describe(r["config"])["dataset"]: r["data"]["sizes"] for r in self.records}
        return "; ".join(f"{d} {s['train']:,}/{s['val']:,}/{s['test']:,}" for d, s in sizes.items()) + \
            " (train/val/test)"

    def of_role(self, role: str) -> pd.DataFrame:
        return self.runs[self.runs["role"] == role]

    def first_seed_h(self) -> pd.DataFrame:
        """The main H run of ``SEARCH_MODEL`` on the first seed, per data set (what the checks compare with)."""
        main = self.main
        return main[(main["method"] == "H") & (main["model"] == SEARCH_MODEL) & (main["seed"] == self.first_seed)]


_FNN: "WeakKeyDictionary[ChapterView, FnnRuns]" = WeakKeyDictionary()


def fnn(view: ChapterView, grid: dict[str, dict[str, Any]] | None = None) -> FnnRuns:
    """The view's :class:`FnnRuns`, built on the first call (and again when ``grid`` is given): the
    staged grid is :func:`regprune.chapters.vc_bound.cells` of the view's results store, or ``grid``
    (tests pass a hand-made one)."""
    if grid is not None or view not in _FNN:
        _FNN[view] = FnnRuns.of(view.records, grid or cells(view.profile, view.seeds, view.results_dir))
    return _FNN[view]


def _table(view: ChapterView, runs: FnnRuns, df: pd.DataFrame, name: str, title: str, **kw: Any) -> None:
    """A table of the FNN runs: the title names their seeds, the caption every data set's split sizes."""
    view.table(df, name, f"{title} [{runs.seed_label}]", data=kw.pop("data", runs.data_label), **kw)


def overview_lines(runs: FnnRuns, profile: str) -> list[str]:
    """How many runs, in which role, which did not complete, epochs per data set, training time."""
    failed = [(describe(r["config"]), r["status"]) for r in runs.records if r["status"] != "completed"]
    count = {role: int((runs.runs["role"] == role).sum()) for role in ROLES}
    return [f"{len(runs.records)} runs of profile {profile!r}: {len(runs.main)} in the "
            f"tables, {count['search']} search-only, {count['epochs']} epoch-budget checks, {count['ablation']} "
            f"ablations; not completed: {failed or 'none'}",
            "epochs per data set: " + ", ".join(f"{name} {n}" for name, n in runs.epochs.items()),
            f"training wall time, all runs: {sum(r['wall_time_s'] for r in runs.records):,.0f} s"]


def overview(view: ChapterView) -> None:
    """What the FNN grid holds, printed under the notebook's status line."""
    print("\n".join(overview_lines(fnn(view), view.profile)))


# --------------------------------------------------------------------------- the search


def search_frames(runs: FnnRuns) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every searched value (``SEARCH_MODEL``, first seed) with its validation accuracy, the chosen one
    marked; and the chosen values per data set."""
    r = runs.runs
    search = r[r["role"].isin(["search", "main"]) & (r["model"] == SEARCH_MODEL) & (r["seed"] == r["seed"].min())
               & r["method"].isin(list(SEARCHED))].copy()
    search["searched"] = search["method"].map(lambda m: SEARCHED[m][0])
    search["value"] = [row[SEARCHED[row["method"]][0]] for _, row in search.iterrows()]
    chosen = pd.DataFrame({d: c["chosen"] for d, c in runs.grid.items()}).T

    def is_chosen(row: pd.Series) -> bool:
        """The value its data set chose, and (past the first stage) at the chosen learning rate."""
        picked = chosen.get(SEARCHED[row["method"]][1], pd.Series(dtype=float)).get(row["dataset"])
        return picked == row["value"] and (row["method"] == "H" or row["lr"] == chosen.loc[row["dataset"], "lr"])

    search["chosen"] = [is_chosen(row) for _, row in search.iterrows()]
    table = search[["dataset", "method", "searched", "value", "val_acc_%", "compression", "chosen"]]
    return table, chosen.reset_index(names="dataset")


def search(view: ChapterView) -> None:
    runs = fnn(view)
    table, chosen = search_frames(runs)
    _table(view, runs, table, "search", "Search on validation accuracy (fnn2, first seed)", precision=4)
    _table(view, runs, chosen, "chosen", "Chosen values")


# --------------------------------------------------------------------------- Tables 6-8 and 10-12


def trivial_counts(main: pd.DataFrame) -> pd.DataFrame:
    """Per data set, depth and method: how many runs learned nothing (``trivial runs``)."""
    return main.groupby(GROUP, sort=False)["trivial"].sum().rename("trivial runs").reset_index()


def accuracy_frame(runs: FnnRuns) -> pd.DataFrame:
    """Tables 6-8 in one frame: our test accuracy unpruned and pruned (mean, std over seeds) beside the
    paper's, the difference, the trivial runs and the test split's majority share."""
    stats = report.seed_summary(runs.main, GROUP, ["test_acc_%", "pruned_test_acc_%", "compression"])
    accuracy = stats[GROUP + ["test_acc_%_mean", "test_acc_%_std", "pruned_test_acc_%_mean", "pruned_test_acc_%_std",
                              "seeds"]]
    accuracy = accuracy.merge(paper_metric(runs.paper, "test_acc_%", "paper test_acc_%"), how="left").merge(
        paper_metric(runs.paper, "pruned_test_acc_%", "paper pruned_test_acc_%"), how="left")
    accuracy["difference (pp)"] = accuracy["test_acc_%_mean"] - accuracy["paper test_acc_%"]
    accuracy = accuracy.merge(trivial_counts(runs.main), how="left")
    accuracy["majority %"] = accuracy["dataset"].map(MAJORITY_TEST)
    return accuracy


def accuracy_tables(view: ChapterView) -> None:
    runs = fnn(view)
    for model, part in accuracy_frame(runs).groupby("model", sort=False):
        no = ACCURACY_TABLES.get(model, "-")
        _table(view, runs, part, f"table{no}_accuracy", f"Table {no}: test accuracy (%), {model}, paper beside ours")


def compression_frame(runs: FnnRuns) -> pd.DataFrame:
    """Tables 10-12 in one frame: our compression ratio (geometric mean, min, max over seeds) beside the
    paper's, the trivial runs, and whether the paper's accuracy for the row is at our majority share."""
    comp = runs.main.groupby(GROUP, sort=False)["compression"].agg(
        ours_geomean=geomean, ours_min="min", ours_max="max", seeds="size").reset_index()
    comp = comp.merge(paper_metric(runs.paper, "compression", "paper"), how="left").merge(trivial_counts(runs.main),
                                                                                         how="left")
    comp = comp.merge(paper_metric(runs.paper, "test_acc_%", "paper acc"), how="left")
    comp["paper at majority"] = at_majority(comp["paper acc"], comp["dataset"])
    return comp


def winners_frame(runs: FnnRuns, comp: pd.DataFrame) -> pd.DataFrame:
    """Per data set and depth, the method with the highest compression: ours over all runs, ours over
    the non-trivial runs only, and the paper's (ties in the paper: first listed)."""
    main = runs.main
    nontrivial = main[~main["trivial"]].groupby(GROUP, sort=False)["compression"].agg(geomean).rename(
        "ours_nontrivial").reset_index()
    comp = comp.merge(nontrivial, how="left")
    winners = comp.loc[comp.groupby(["dataset", "model"], sort=False)["ours_geomean"].idxmax(),
                       GROUP + ["ours_geomean"]]
    win_nt = comp.dropna(subset=["ours_nontrivial"])
    win_nt = win_nt.loc[win_nt.groupby(["dataset", "model"], sort=False)["ours_nontrivial"].idxmax(),
                        GROUP + ["ours_nontrivial"]]
    win_nt = win_nt.rename(columns={"method": "our winner, non-trivial runs", "ours_nontrivial": "its r"})
    winners = winners.merge(win_nt, how="left")
    paper_comp = paper_metric(runs.paper, "compression", "paper")
    paper_win = paper_comp.loc[paper_comp.groupby(["dataset", "model"])["paper"].idxmax()].rename(
        columns={"method": "paper's winner", "paper": "paper's r"})
    return winners.rename(columns={"method": "our winner", "ours_geomean": "our r"}).merge(paper_win, how="left")


def compression_tables(view: ChapterView) -> None:
    runs = fnn(view)
    comp = compression_frame(runs)
    for model, part in comp.groupby("model", sort=False):
        no = COMPRESSION_TABLES.get(model, "-")
        _table(view, runs, part, f"table{no}_compression",
               f"Table {no}: compression ratio r, {model}, paper beside ours")
    _table(view, runs, winners_frame(runs, comp), "compression_winners",
           "Highest compression per data set and depth (ties in the paper: first listed)")


# --------------------------------------------------------------------------- sweeps and quantization


def threshold_sweep(view: ChapterView) -> None:
    """Test accuracy against compression along the threshold sweep, ``SEARCH_MODEL``, one panel per data set."""
    runs = fnn(view)
    steps = sweeps.threshold_steps_frame(runs.records, describe)
    steps = steps[steps["key"].isin(runs.main["key"]) & (steps["model"] == SEARCH_MODEL)]
    if steps.empty:
        view.note("No threshold sweep is stored.", "threshold_sweep")
        return
    view.figure(figures.threshold_sweep(steps), "threshold_sweep",
                f"Threshold sweep of {SEARCH_MODEL}: test accuracy against compression r, one panel per data set; "
                "mean over seeds", data=", ".join(figures.dataset_label(d) for d in runs.datasets),
                seeds=runs.seed_label)


def fig3_dataset(runs: FnnRuns) -> str:
    """The data set of Fig. 3: dna, as in the paper, else the first one."""
    return "dna" if "dna" in runs.datasets else runs.datasets[0]


def fig3_quantization(view: ChapterView) -> None:
    """Fig. 3: accuracy, margin and loss of the trained networks against total bits, one figure each."""
    runs = fnn(view)
    dataset = fig3_dataset(runs)
    quant = runs.quantization
    q = quant[(quant["dataset"] == dataset) & (quant["network"] == "trained")]
    if q.empty:
        view.note("No quantization sweep is stored.", "fig3")
        return
    for metric, ylabel, logy, what in FIG3_METRICS:
        view.figure(figures.metric_by_bits(q, metric=metric, ylabel=ylabel, logy=logy),
                    f"fig3_quantization_{metric.rstrip('_%')}",
                    f"Fig. 3: quantization, {what} against total bits per weight, one panel per depth; mean over "
                    f"seeds; {runs.epochs.get(dataset)} epochs", data=figures.dataset_label(dataset),
                    seeds=runs.seed_label)


def quantization_drops_frame(runs: FnnRuns) -> pd.DataFrame:
    """Test accuracy at 8, 6, 5, 4 bits minus full precision (pp), trained and pruned, mean over depths
    and seeds; and the peak (best over bit widths minus full precision): its mean and how many runs
    gained."""
    quant, main = runs.quantization, runs.main
    full = main.set_index("key")[["test_acc_%", "pruned_test_acc_%"]]
    quant["full_%"] = np.where(quant["network"] == "trained", quant["key"].map(full["test_acc_%"]),
                               quant["key"].map(full["pruned_test_acc_%"]))
    quant["drop_pp"] = quant["test_acc_%"] - quant["full_%"]
    index = ["dataset", "network", "method"]
    drops = quant[quant["total_bits"].isin(DROP_BITS)].pivot_table(
        index=index, columns="total_bits", values="drop_pp", aggfunc="mean", sort=False)
    drops.columns = [f"{b} bits (pp)" for b in drops.columns]
    peak = quant.groupby(index + ["key"], sort=False)["drop_pp"].max().groupby(index, sort=False).agg(
        peak_mean="mean", runs_with_peak=lambda x: int((x > 0).sum()), runs="size")
    return drops.join(peak).reset_index()


def quantization_drops(view: ChapterView) -> None:
    runs = fnn(view)
    _table(view, runs, quantization_drops_frame(runs), "quantization_drops",
           "Test accuracy change from quantization (pp)")


# --------------------------------------------------------------------------- departures and their evidence


def w8a_batch_frame(runs: FnnRuns) -> pd.DataFrame | None:
    """The batch-128 ablation runs beside the main batch-16 H run (first seed); None without ablations."""
    abl = runs.of_role("ablation")
    if abl.empty:
        return None
    batch = {r["key"]: r["config"]["train"]["batch_size"] for r in runs.records}
    h = runs.first_seed_h()
    both = pd.concat([abl, h[h["dataset"].isin(abl["dataset"])]]).assign(batch_size=lambda d: d["key"].map(batch))
    return both[["dataset", "model", "method", "lr", "batch_size", "val_acc_%", "test_acc_%", "trivial", "best_epoch"]]


def _table_or_note(view: ChapterView, runs: FnnRuns, table: pd.DataFrame | None, name: str, title: str,
                   absent: str) -> None:
    """The table, or where this profile has no runs for it, a note that says so (``absent``)."""
    if table is None:
        view.note(absent, name)
    else:
        _table(view, runs, table, name, title)


def w8a_batch(view: ChapterView) -> None:
    runs = fnn(view)
    _table_or_note(view, runs, w8a_batch_frame(runs), "w8a_batch",
                   "w8a, H, fnn2, first seed: batch 128 (the search) against batch 16",
                   "No ablation runs in this profile.")


def epoch_budget_frame(runs: FnnRuns) -> pd.DataFrame | None:
    """The H run (``SEARCH_MODEL``, first seed) at our epoch budget beside the same run at the paper's
    500 epochs; None where every data set ran 500 epochs."""
    long = runs.of_role("epochs")
    if long.empty:
        return None
    cols = ["dataset", "test_acc_%", "pruned_test_acc_%", "compression", "best_epoch", "wall_time_s"]
    short = runs.first_seed_h()
    short = short.assign(our_epochs=short["dataset"].map(runs.epochs))
    return short[cols + ["our_epochs"]].merge(long[cols], on="dataset", suffixes=(" (our budget)", " (500 ep)"))


def epoch_budget(view: ChapterView) -> None:
    runs = fnn(view)
    _table_or_note(view, runs, epoch_budget_frame(runs), "epoch_budget",
                   "H, fnn2, first seed: our epoch budget against the paper's 500",
                   "Every data set ran the paper's 500 epochs in this profile.")


# --------------------------------------------------------------------------- t-SNE (our stand-in for Fig. 2)


def tsne_records(runs: FnnRuns) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(describe(config), stored t-SNE map) of every main run that stored one, in grid order."""
    role = roles(runs.grid)
    return [(describe(r["config"]), r["extras"]["tsne"]) for r in runs.records
            if "tsne" in r.get("extras", {}) and role[r["key"]] == "main"]


def first_map_per_method(tsne: list[tuple[dict[str, Any], dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """The deepest model's maps, one per method (its first seed's): (model, {method: map})."""
    deepest = max(d["model"] for d, _ in tsne)
    maps: dict[str, Any] = {}
    for d, t in tsne:
        if d["model"] == deepest:
            maps.setdefault(d["method"], t)
    return deepest, maps


def silhouette_frame(tsne: list[tuple[dict[str, Any], dict[str, Any]]]) -> pd.DataFrame:
    """The silhouette score of every map: mean, std and count per data set, depth and method."""
    sil = pd.DataFrame([{**d, "silhouette": figures.tsne_silhouette(t)} for d, t in tsne])
    return sil.groupby(GROUP, sort=False)["silhouette"].agg(["mean", "std", "size"]).reset_index()


def tsne(view: ChapterView) -> None:
    runs = fnn(view)
    maps = tsne_records(runs)
    if not maps:
        view.note("No t-SNE maps are stored.", "tsne")
        return
    deepest, first = first_map_per_method(maps)
    view.figure(figures.tsne_maps(list(first.items())), "tsne",
                f"t-SNE of the last layer's input, {deepest}, one map per method (colour: class), with its "
                "silhouette score", data=figures.dataset_label(maps[0][0]["dataset"]),
                seeds=f"first seed of each method ({runs.seed_label})", vector=False)
    _table(view, runs, silhouette_frame(maps), "tsne_silhouette",
           "Silhouette score of the t-SNE maps (all depths and seeds)", precision=3)


def claims(view: ChapterView) -> None:
    """The FNN claims as code (:mod:`regprune.claims.vc_bound`), judged by the one rule."""
    runs = fnn(view)
    _table(view, runs, claims_module.table(view.grid, view.profile, view.results_dir), "claims",
           "The paper's claims, judged by the one rule (95% t intervals over seeds, paired within each seed)",
           precision=3)


# --------------------------------------------------------------------------- CIFAR-10 (Tables 3-5, Figs. 1-2)


def cifar_method_key(method: str) -> str:
    """A method as a sorted set of its parts, so that the paper's "S + W + LCA" meets our "S+W2+LCA"
    (the paper's W on CIFAR is L2)."""
    return "+".join(sorted(method.split("+")))


def paper_method_key(paper_method: pd.Series) -> pd.Series:
    key = paper_method.str.replace(" ", "").str.replace("+W+", "+W2+").str.replace(r"\+W$", "+W2", regex=True)
    return key.map(cifar_method_key)


def cifar_frame(paper: pd.DataFrame, records: list[dict[str, Any]], configs: list[dict[str, Any]]) -> pd.DataFrame:
    """Tables 3-5: the paper's rows (one per table, model and method, its metrics as columns) with our
    mean and std over seeds beside the ones we ran, and whether this profile's grid runs the row."""
    cnn = paper[paper["table"].isin(CNN_TABLES)]
    cnn = cnn.pivot_table(index=["table", "model", "method"], columns="metric", values="value",
                          sort=False).reset_index()
    cnn["key"] = paper_method_key(cnn["method"])
    ours = sweeps.threshold_frame(records, describe)
    if not ours.empty:
        ours = report.seed_summary(ours, ["model", "method"], ["test_acc_%", "pruned_test_acc_%", "compression"])
        ours["key"] = ours["method"].map(cifar_method_key)
        cnn = cnn.merge(ours.drop(columns="method"), on=["model", "key"], how="left")
    ran = {(c["model"]["name"], cifar_method_key(describe(c)["method"])) for c in configs}
    cnn["ours"] = ["in this profile's grid" if (m, k) in ran else claims_module.AWAITS_GPU
                   for m, k in zip(cnn["model"], cnn["key"])]
    return cnn.drop(columns="key")


def cifar_run_label(cifar: ChapterView) -> str:
    """The CIFAR grid's schedule, e.g. ``"30 epochs, bf16"``."""
    train = cifar.configs[0]["train"]
    return f"{train['epochs']} epochs, {train.get('precision', 'fp32')}"


def cifar_seeds(cifar: ChapterView) -> list[int]:
    return sorted({r["seed"] for r in cifar.records})


def cifar_tables(cifar: ChapterView) -> None:
    """Tables 3-5 beside ours, and the quick-net claims; ``cifar`` is the view of the ``vc_bound_cifar`` grid."""
    seeds = cifar_seeds(cifar)
    label = (f"{figures.dataset_label(cifar.configs[0]['data']['name'])}; {cifar_run_label(cifar)}; "
             f"seeds {seeds or 'none stored'}")
    title_seeds = f" [{figures.seeds_text(seeds)}]"
    cifar.table(cifar_frame(paper_003(), cifar.records, cifar.configs), "tables3_5",
                "Tables 3-5: CIFAR-10, paper beside ours" + title_seeds, data=label)
    cifar.table(claims_module.table(cifar.grid, cifar.profile, cifar.results_dir), "cifar_claims",
                "The quick-net claims (Tables 3-4), judged by the one rule (95% paired t intervals)" + title_seeds,
                data=label)


def cifar_tsne_maps(records: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """Fig. 2's maps: DenseNet-40's where stored, else the quick net's, one per method (its first run's)."""
    maps: dict[tuple[str, str], Any] = {}
    for r in records:
        if "tsne" in r.get("extras", {}):
            maps.setdefault((r["config"]["model"]["name"], describe(r["config"])["method"]), r["extras"]["tsne"])
    deep = "densenet40" if any(m == "densenet40" for m, _ in maps) else "quicknet"
    return deep, {method: t for (m, method), t in maps.items() if m == deep}


def cifar_figures(cifar: ChapterView) -> None:
    """Fig. 1 (the pruned network's test accuracy against total bits) and Fig. 2 (t-SNE maps)."""
    quant = sweeps.quantization_frame(cifar.records, describe)
    if quant.empty:
        cifar.note("Figs. 1 and 2: no CIFAR run is stored in this profile yet.", "cifar_figures")
        return
    data = figures.dataset_label(cifar.configs[0]["data"]["name"])
    run, seeds = cifar_run_label(cifar), cifar_seeds(cifar)
    cifar.figure(figures.metric_by_bits(quant[quant["network"] == "pruned"], metric="test_acc_%",
                                        ylabel="test accuracy (%)", per_row=2), "fig1_cifar_quantization",
                 f"Fig. 1: pruned, then quantized: test accuracy against total bits per weight; mean over seeds; {run}",
                 data=data, seeds=seeds)
    deep, maps = cifar_tsne_maps(cifar.records)
    if maps:
        classes = figures.class_names(cifar.configs[0]["data"]["name"])
        cifar.figure(figures.tsne_maps(list(maps.items()), classes=classes), "fig2_cifar_tsne",
                     f"Fig. 2: t-SNE of the last layer's input, {deep}, one map per method (colour: class), with its "
                     f"silhouette score; {run}", data=data, seeds=f"first seed of each method (seeds {seeds})",
                     vector=False)
