"""How not to give a FLOP (paper 004, notebooks/flops_pruning.ipynb): Table 1's FLOPs recounted,
its accuracies and Tables 2-4 beside our runs, Figs. 4-8, CPU latency of the compact networks, and
the claims.

FLOPs need no run: they are counted on freshly built networks. The accuracy tables read the
chapter's stored runs (cpu: ResNet-20 only; the other depths await a GPU) and say so where a row
has none; the latency section reads the stored bench (``bench/results/latency.json``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .. import claims as claims_module
from .. import figures, filter_pruning, models, paths, report, sweeps
from ..chapters.flops_pruning import DEPTHS, KEEP_RATE, LABELS, describe
from ..claims import AWAITS_GPU
from ..claims import flops_pruning as flop_claims
from . import ChapterView

DIFFERENCE = "ours: acc - control (pp)"
FIGURE_METHODS = ("mixup", "cutout", "pruning", "mixup_pruning", "cutout_pruning")


def paper() -> pd.DataFrame:
    """Paper 004's transcribed numbers (Tables 1-4)."""
    return report.paper_numbers(paper="004")


def runs(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per finished run (:func:`regprune.sweeps.dense_frame`) with ``test_acc_%``; empty if none."""
    ours = sweeps.dense_frame(records, describe)
    return ours.assign(**{"test_acc_%": 100 - ours["test_error_%"]}) if not ours.empty else ours


def data_label(view: ChapterView) -> str:
    """The runs' data, epochs and precision, and the split sizes once a run is stored."""
    config = view.configs[0]
    text = (f"{figures.dataset_label(config['data']['name'])}, {config['train']['epochs']} epochs, "
            f"{config['train'].get('precision', 'fp32')}")
    if not view.records:
        return text + "; no run stored yet"
    sizes = view.records[0]["data"]["sizes"]
    return text + f"; {sizes['train']:,} train / {sizes['val']:,} validation / {sizes['test']:,} test"


# --- Table 1, FLOP columns -----------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def flop_counts(model_name: str, seed: int = 0) -> dict[str, Any]:
    """MegaFLOPs of ``model_name`` by the paper's rule (control and pruned at :data:`KEEP_RATE`) and
    the MACs of the compact network extracted from it. ``seed`` fixes the initialization, which
    decides which filters go and so moves the compact network's MACs a little."""
    import torch

    torch.manual_seed(seed)
    model = models.build(model_name)
    control = filter_pruning.sfp_paper_macs(model, 1.0) / 1e6
    pruned = filter_pruning.sfp_macs(model, KEEP_RATE)
    return {"model": model_name, "control (ours)": control, "pruned (ours)": pruned["paper_conv"] / 1e6,
            "pruned, compact network": pruned["compact_total"] / 1e6}


def flop_table(counts: pd.DataFrame, paper_numbers: pd.DataFrame) -> pd.DataFrame:
    """Our counts (rows of :func:`flop_counts`) beside Table 1's MegaFLOPs, whether both match to the
    paper's two decimals, and the decrease each counting gives (the compact network's MACs against
    the control's by the paper's rule, as the paper compares them)."""
    table1 = paper_numbers[(paper_numbers["table"] == "Table 1") & (paper_numbers["metric"] == "mflops")]
    theirs = table1.pivot_table(index="model", columns="method", values="value")
    out = counts.copy()
    out["control (paper)"] = out["model"].map(theirs["control"])
    out["pruned (paper)"] = out["model"].map(theirs["pruning"])
    out["exact match"] = ((out["control (ours)"].round(2) == out["control (paper)"])
                          & (out["pruned (ours)"].round(2) == out["pruned (paper)"]))
    out["FLOP decrease, paper rule (%)"] = 100 * (1 - out["pruned (ours)"] / out["control (ours)"])
    out["MAC decrease, compact network (%)"] = 100 * (1 - out["pruned, compact network"] / out["control (ours)"])
    return out


def flops(model_names: Iterable[str] = DEPTHS) -> pd.DataFrame:
    """Table 1's FLOP columns, paper and recounted, for ``model_names`` (seed 0's compact networks)."""
    return flop_table(pd.DataFrame([flop_counts(m) for m in model_names]), paper())


def table1_flops(view: ChapterView) -> None:
    table = flops()
    view.table(table.replace(LABELS), "table1_flops", "Table 1: MegaFLOPs, paper and recomputed",
               data="no data: counted on the networks")
    view.note(f"All ten FLOP numbers of Table 1 reproduced exactly: {bool(table['exact match'].all())}", "flops_match")


# --- Table 1, accuracy columns, and Tables 2-4 ---------------------------------------------


NOT_STORED = "not yet stored"


def accuracy_table(paper_numbers: pd.DataFrame, ours: pd.DataFrame, trained_models: Iterable[str]) -> pd.DataFrame:
    """Table 1's test accuracies with our mean, std and seed count beside them; rows of models the
    profile does not train say they await a GPU, rows it trains but has not stored yet say so, and
    with no run stored every row says so."""
    acc = paper_numbers[(paper_numbers["table"] == "Table 1") & (paper_numbers["metric"] == "test_acc_%")]
    acc = acc[["model", "method", "value"]].rename(columns={"value": "paper_acc_%"})
    if ours.empty:
        acc = acc.assign(ours_acc="no run stored")
    else:
        stats = ours.assign(method=ours["method"].map(LABELS)).groupby(["model", "method"]).agg(
            ours_acc=("test_acc_%", "mean"), ours_std=("test_acc_%", "std"), seeds=("seed", "size")).reset_index()
        acc = acc.merge(stats, on=["model", "method"], how="left")
    acc["ours_acc"] = acc["ours_acc"].astype(object)
    acc.loc[acc["ours_acc"].isna(), "ours_acc"] = NOT_STORED  # in the profile's grid, its runs still training
    acc.loc[~acc["model"].isin(set(trained_models)), "ours_acc"] = AWAITS_GPU
    return acc.reset_index(drop=True)


def differences_table(paper_numbers: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """Tables 2-4 (each method against the control) with our mean difference over seeds beside them."""
    diffs = paper_numbers[paper_numbers["table"].isin(["Table 2", "Table 3", "Table 4"])]
    diffs = diffs.pivot_table(index=["table", "model", "method"], columns="metric", values="value",
                              sort=False).reset_index()
    if ours.empty:
        return diffs.assign(**{DIFFERENCE: AWAITS_GPU})
    means = ours.groupby(["model", "method"])["test_acc_%"].mean().unstack()
    delta = means.sub(means["control"], axis=0).stack().rename(DIFFERENCE).reset_index()
    delta["method"] = delta["method"].map(LABELS)
    return diffs.merge(delta, on=["model", "method"], how="left")


def accuracy(view: ChapterView) -> None:
    ours, numbers, label = runs(view.records), paper(), data_label(view)
    trained = {c["model"]["name"] for c in view.configs}
    view.table(accuracy_table(numbers, ours, trained).replace(LABELS), "table1_accuracy",
               "Table 1: CIFAR-10 test accuracy (%), paper beside ours", data=label)
    view.table(differences_table(numbers, ours).replace(LABELS), "tables2_4",
               "Tables 2-4: differences against the control, paper beside ours", data=label)


def accuracy_against_flops(view: ChapterView) -> None:
    """Figs. 4-8: one panel per method, the paper's points and ours where stored."""
    numbers, ours = paper(), runs(view.records)
    table1 = numbers[numbers["table"] == "Table 1"].pivot_table(index=["model", "method"], columns="metric",
                                                                  values="value").reset_index()
    fig = figures.accuracy_against_flops(table1, None if ours.empty else ours.assign(method=ours["method"].map(LABELS)),
                                         methods=[LABELS[m] for m in FIGURE_METHODS], flops=flops())
    view.figure(fig, "figs4_8_accuracy_flops", "Figs. 4-8: CIFAR-10 test accuracy against MegaFLOPs, ResNet-20 to 110, "
                "one panel per method, the paper's control (grey, dashed) in each", data=data_label(view),
                seeds=[] if ours.empty else view.seeds_of(ours),
                note="" if not ours.empty else "Ours: awaits the GPU run; the panels show the paper's numbers only.")


# --- Beyond the paper: latency -------------------------------------------------------------


def load_bench(latency_file: str | Path | None = None) -> dict[str, Any]:
    """The stored latency bench (default: the repository's ``bench/results/latency.json``)."""
    path = Path(latency_file) if latency_file else paths.repo_root() / flop_claims.LATENCY
    return json.loads(path.read_text())


def bench_label(bench: dict[str, Any]) -> str:
    """Where and how the bench timed: device, cores, threads, torch, repeats, date."""
    env = bench["environment"]
    return (f"{env['device_name']} ({env['cpu_count']} cores, {env['torch_threads']} torch threads), "
            f"torch {env['torch']}, {bench['settings']['repeats']} interleaved repeats, {bench['created'][:10]}")


def latency_table(bench: dict[str, Any]) -> pd.DataFrame:
    """One row per compact network (keep rate), layout and batch: the FLOP decrease the paper's rule
    counts, the MAC decrease of the network timed and the measured time decrease, all against the
    control of the same model, layout and batch (``_keep2`` variants left out)."""
    lat = pd.DataFrame(bench["rows"])
    index = ["model", "layout", "batch"]
    control = lat[lat["variant"] == "control"].set_index(index)["paper_mmacs"]
    lat["FLOP decrease, paper rule (%)"] = 100 * (1 - lat["paper_mmacs"] / lat.set_index(index).index.map(control))
    lat["MAC decrease, compact (%)"] = 100 * (1 - lat["mac_ratio"])
    lat["time decrease (%)"] = 100 * (1 - lat["time_ratio"])
    compact = lat[lat["variant"].str.startswith("compact_") & ~lat["variant"].str.endswith("_keep2")]
    return compact[["model", "keep_rate", "layout", "batch", "FLOP decrease, paper rule (%)",
                    "MAC decrease, compact (%)", "time decrease (%)", "latency_s", "max_rel_diff"]]


def latency(view: ChapterView, latency_file: str | Path | None = None) -> None:
    bench = load_bench(latency_file)
    compact, data = latency_table(bench).replace(LABELS), f"random CIFAR-shaped inputs; {bench_label(bench)}"
    view.table(compact, "latency", "CPU inference: compact pruned ResNets against the control", data=data,
               precision=3, profile="bench")
    view.figure(figures.latency(compact), "latency", "Compact pruned ResNets on the CPU: measured time decrease "
                "against the FLOP decrease the paper's rule counts, one panel per batch size", data=data,
                seeds="no training seeds (timing)", profile="bench")


# --- The claims ----------------------------------------------------------------------------


def claims(view: ChapterView, latency_file: str | Path | None = None) -> None:
    """The FLOP and timing claims (no training) and the accuracy claims, as two tables."""
    judged = claims_module.table(view.grid, view.profile, view.results_dir)
    counted = judged["claim"].isin([c.id for c in flop_claims.CLAIMS])
    view.table(judged[counted], "claims", "The paper's FLOP and timing claims, judged by the one rule",
               data=f"FLOPs: counted on the networks; time: {bench_label(load_bench(latency_file))}")
    view.table(judged[~counted], "accuracy_claims",
               "The paper's accuracy claims, judged by the one rule (95% paired t intervals)", data=data_label(view))
