"""The speed targets of the book (issue 31), each judged on its latest stored benchmark file.

What a user waits for: the compander's training overhead per model, post-training analysis, the
switcher's cost per update, regenerating the whole ``cpu`` profile, and ResNet-20 on a GPU. The
benchmark scripts in ``bench/`` measure and store them (``bench/results/*.json``, each a same-run
ratio or a timing of stored runs); this module only reads them, so ``bench/summary.py`` prints and
the book's appendix shows one table from one implementation. Per item: what was measured, the
target, whether it is met, and when, on which commit and CPU. The compander overhead is a median
over repeats; its distribution-free 95% interval decides: met when it lies at or below the target,
not met when above, *not resolved* when it straddles it (the book's rule for a difference at noise
level). Compiled-compander rows (an opt-in) and the analysis of models other than LeNet-5 (no
target) are shown beside the judged items.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from . import paths
from .claims.rule import NOT_RESOLVED

# (item, target, how "met" reads) fixed by issue 31, before measuring
OVERHEAD_TARGETS = {"lenet300": 25.0, "lenet5": 20.0, "resnet20": 3.0}


def compile_label(compile_: bool | str) -> str:
    """How a row's ``train.compile`` reads: '', ' compiled' or ' compiled (MODE)'."""
    if not compile_:
        return ""
    return " compiled" if compile_ in (True, "default") else f" compiled ({compile_})"


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Distribution-free interval for the median: the order statistics ``x_(k), x_(n+1-k)`` with
    the largest ``k`` whose ``P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2`` (n = 11 repeats:
    the 2nd and 10th, 98.8%). None when too few values give any such ``k``."""
    xs, n = sorted(values), len(values)
    tail, k, below = (1 - confidence) / 2, 0, 0.0
    while True:
        below += math.comb(n, k) / 2 ** n  # P(X <= k)
        if below > tail:
            break
        k += 1
    return None if k == 0 else (xs[k - 1], xs[n - k])


def _versus(lo: float, hi: float, target: float) -> bool | str:
    """Met when the whole interval is at or below the target, not met when above it, else not resolved."""
    return True if hi <= target else False if lo > target else NOT_RESOLVED


def _overhead(row: dict, target: float) -> tuple[str, bool | str]:
    """The compander's median overhead, with the interval of its per-repeat ratios where stored."""
    ci = median_interval(row["time_ratios"]) if len(row.get("time_ratios", [])) > 1 else None
    if ci is None:
        return f"{row['overhead_pct']:+.1f}%", row["overhead_pct"] <= target
    lo, hi = ((r - 1) * 100 for r in ci)
    parts = [f"floor {row['kernel_floor_pct']:+.1f}%: its kernels alone"] if "kernel_floor_pct" in row else []
    parts += [f"{row['alone_pct']:+.1f}% with each layer's parametrize and autograd machinery"] if "alone_pct" in row else []
    floor = f" ({'; '.join(parts)})" if parts else ""
    return f"{row['overhead_pct']:+.1f}% [{lo:+.1f}%, {hi:+.1f}%]{floor}", _versus(lo, hi, target)


def cpu_name(result: dict) -> str | None:
    """The CPU's model a bench file was measured on (None where it ran on a GPU or did not say)."""
    env = result.get("environment", {})
    return env.get("cpu_model") if env.get("device", "cpu") == "cpu" else None


def _when(result: dict) -> str:
    env = result.get("environment", {})
    commit = (env.get("git_commit") or "")[:7]
    cpu = f"on {name}" if (name := cpu_name(result)) else ""
    return " ".join(p for p in (result.get("created", "")[:10], commit, "(dirty)" if env.get("git_dirty") else "", cpu)
                    if p)


def _switcher(result: dict) -> list[dict]:
    """A run's cost per update (the alternation's mean of its two phases) against the target, judged
    by the interval of its per-round ratios where stored, with each phase and the arithmetic floor
    beside it. Files from before 2026-12-04 hold one row per phase and are judged row by row."""
    by_variant = {r["variant"]: r for r in result["rows"]}
    judged = result.get("target_variants") or [v for v in by_variant if v != "plain"]
    target, out = result["target_ratio"], []
    for variant in judged:
        row = by_variant[variant]
        ratios = row.get("time_ratios", [])
        ci = median_interval(ratios) if len(ratios) > 1 else None
        measured, met = f"{row['ratio_to_plain']:.1f}x", row["ratio_to_plain"] <= target
        if ci is not None:
            measured, met = f"{measured} [{ci[0]:.1f}x, {ci[1]:.1f}x]", _versus(*ci, target)
        mode = variant.split("/")[0]
        phases = [f"{p} phase {by_variant[f'{mode}/{p}']['ratio_to_plain']:.1f}x" for p in ("snn", "tnn")
                  if variant.endswith("/alternation") and f"{mode}/{p}" in by_variant]
        floor = [f"floor {row['floor_ratio']:.1f}x by arithmetic"] if "floor_ratio" in row else []
        extra = "; ".join(phases + floor)
        out.append({"item": f"switcher update / plain update, {variant}",
                    "measured": f"{measured} ({extra})" if extra else measured,
                    "target": f"<= {target:g}x", "met": met, "when": _when(result)})
    return out


def _compiled(compiled: dict | None, eager: dict | None) -> list[dict]:
    """The compander's overhead with every model compiled (``TrainConfig(compile=True)``, an opt-in:
    compiling changes float rounding), beside what compiling does to the plain step itself, against
    the eager file's plain step when both ran on one CPU (otherwise speeds do not compare)."""
    if compiled is None:
        return []
    same_cpu = eager is not None and (eager.get("environment", {}).get("cpu_model")
                                      == compiled.get("environment", {}).get("cpu_model"))
    out = []
    for model, target in OVERHEAD_TARGETS.items():
        by_variant = {r["variant"]: r for r in compiled["rows"] if r["model"] == model}
        if "compander" not in by_variant:
            continue
        measured, met = _overhead(by_variant["compander"], target)
        plain = by_variant.get("plain")
        eager_plain = (next((r for r in eager["rows"] if r["model"] == model and r["variant"] == "plain"), None)
                       if same_cpu else None)
        if plain and eager_plain and plain.get("samples_per_s") and eager_plain.get("samples_per_s"):
            measured += f"; compiled plain {plain['samples_per_s'] / eager_plain['samples_per_s']:.2f}x eager plain's speed"
        out.append({"item": f"compander overhead, {model}, compiled (opt-in)", "measured": measured,
                    "target": f"<= {target:g}%", "met": met, "when": _when(compiled)})
    return out


def today_hours(regen: dict) -> float:
    """``bench/regeneration.py``'s whole profile with today's code, missing runs projected (files
    from before that estimate: as stored)."""
    return regen.get("today_hours", regen["stored_hours"]) + (regen.get("projected_missing_hours") or 0)


def _floor_text(floor: dict | None, target: float) -> str:
    """``bench/floor.py``'s floor under the regeneration (the matrix kernels alone), and whether it
    already lies above the target; '' where not measured."""
    if floor is None:
        return ""
    cpu = cpu_name(floor) or "one CPU"
    above = (f", above the {target:g} h target: out of reach on this CPU without faster kernels or changed results"
             if floor["floor_hours"] > target else "")
    return (f"; floor {floor['floor_hours']:.1f} h on {cpu} with every matrix kernel alone and all other work free "
            f"(CIFAR {floor['floor_cifar_hours']:.1f} h){above}")


def rows(root: Path | None = None) -> list[dict]:
    """One row per item with its latest stored figure in ``root`` (default: the repository's
    ``bench/results``); ``met`` None: not measured."""
    root = Path(root) if root is not None else paths.repo_root() / "bench" / "results"

    def load(name: str) -> dict | None:
        path = root / name
        return json.loads(path.read_text()) if path.exists() else None

    out = []
    overhead = load("reparam_overhead.json")
    for model, target in OVERHEAD_TARGETS.items():
        row = next((r for r in (overhead or {}).get("rows", [])
                    if r["model"] == model and r["variant"] == "compander"), None)
        measured, met = (None, None) if row is None else _overhead(row, target)
        out.append({"item": f"compander overhead, {model}", "measured": measured, "target": f"<= {target:g}%",
                    "met": met, "when": _when(overhead) if overhead else "not measured"})
    out += _compiled(load("reparam_overhead_compiled.json"), overhead)
    analysis = load("analysis_lenet5.json")
    out.append({"item": "post-training analysis, LeNet-5 (comparison grid)",
                "measured": None if analysis is None else f"{analysis['total_s']:.0f} s",
                "target": f"<= {analysis['target_s']:.0f} s" if analysis else "<= 60 s",
                "met": None if analysis is None else analysis["total_s"] <= analysis["target_s"],
                "when": _when(analysis) if analysis else "not measured"})
    for path in sorted(root.glob("analysis_*.json")):  # the other models: no target, shown for the record
        other = json.loads(path.read_text())
        if other.get("case") == "lenet5":
            continue
        hooks = ", ".join(f"{h['hook']} {h['seconds']:.0f} s" for h in other.get("hooks", []))
        out.append({"item": f"post-training analysis, {other['key_config']['name']} ({other['grid']} grid)",
                    "measured": f"{other['total_s']:.0f} s ({hooks})", "target": "none", "met": "no target",
                    "when": _when(other)})
    switcher = load("switcher.json")
    out += _switcher(switcher) if switcher else [{"item": "switcher update / plain update", "measured": None,
                                                  "target": "<= 3x", "met": None, "when": "not measured"}]
    regen = load("regeneration.json")
    if regen:
        total = today_hours(regen)
        unknown = f"; {', '.join(regen['unknown'])} not projected (no run stored)" if regen.get("unknown") else ""
        split = (f" (MNIST and LIBSVM {regen['other_hours']:.1f} h, CIFAR {regen['cifar_hours']:.1f} h)"
                 if "cifar_hours" in regen else "")
        alone = (f"; {regen['alone_hours']:.1f} h with each run alone on the CPU "
                 f"(MNIST and LIBSVM {regen['alone_other_hours']:.1f} h, CIFAR {regen['alone_cifar_hours']:.1f} h)"
                 if "alone_hours" in regen else "")
        floor = _floor_text(load("floor.json"), regen["target_hours"])
        as_stored = f"{total:.1f} h{split}{alone}{unknown}"
        measured, judged = f"{as_stored}{floor}", total
        if regen.get("here_hours") is not None:  # every run priced on one machine: the target's own terms
            kept = (f"; {regen['here_unpriced_runs']} runs of kinds not timed at their 'alone' figure"
                    if regen.get("here_unpriced_runs") else "")
            measured = (f"{regen['here_hours']:.1f} h on {regen.get('here_cpu') or 'one CPU'}, each kind's epoch "
                        f"timed there (MNIST and LIBSVM {regen['here_other_hours']:.1f} h, CIFAR "
                        f"{regen['here_cifar_hours']:.1f} h{kept}){floor}; as stored by the runs' own machines: "
                        f"{as_stored}")
            judged = regen["here_hours"]
        out.append({"item": "cpu profile, regenerated from scratch (today's code)", "measured": measured,
                    "target": f"<= {regen['target_hours']:g} h", "met": judged <= regen["target_hours"],
                    "when": regen.get("created", "?")[:10]})
    return out + _gpu(load("gpu.json"), load("gpu_compile.json"), load("gpu_models.json"))


def _gpu(gpu: dict | None, compiled: dict | None, per_model: dict | None = None) -> list[dict]:
    """`bench/gpu.py`'s epoch time (single process, eager and compiled) and the paper profile's
    projection: each run at its own measured rate where `bench/gpu_models.py` ran (``per_model``),
    else every run at ResNet-20's FLOP rate (an overestimate for networks that fill the GPU better)."""
    if gpu is None:
        return [{"item": "ResNet-20 CIFAR-10 epoch on an H100-class GPU", "measured": None, "target": "<= 2 s",
                 "met": None, "when": "not measured: no GPU lent to this machine yet"}]
    rows = [r for f in (gpu, compiled) if f for r in f["rows"] if r.get("copies", 1) == 1]
    best = min(rows, key=lambda r: r["epoch_s"])
    name = gpu["environment"]["device_name"]
    shown = ", ".join(f"{r['precision']}{compile_label(r['compile'])} {r['epoch_s']:.2f} s" for r in rows)
    proj = gpu["projection"]
    measured = f"{proj['gpu_hours_cifar']:,.0f} GPU-h at {proj['basis']} ({name})"
    judged, when = proj, _when(gpu)
    if per_model is not None:
        judged, when = per_model["projection"], _when(per_model)
        bound = ", a lower bound" if judged["lower_bound"] else ""
        measured = (f"{judged['gpu_hours_cifar']:,.0f} GPU-h, each run at its own measured rate "
                    f"({per_model['environment']['device_name']}{bound}); {measured}")
    return [{"item": "ResNet-20 CIFAR-10 epoch on an H100-class GPU", "measured": f"{shown} ({name})",
             "target": f"<= {gpu['target_epoch_s']:g} s", "met": best["epoch_s"] <= gpu["target_epoch_s"],
             "when": _when(gpu)},
            {"item": "paper profile of the CIFAR chapters, projected", "target": f"<= {proj['target_gpu_hours_cifar']:g} GPU-h",
             "measured": measured, "met": _met_bound(judged["gpu_hours_cifar"], judged["target_gpu_hours_cifar"],
                                                     judged.get("lower_bound", False)), "when": when}]


def _met_bound(value: float, target: float, lower_bound: bool) -> bool | str:
    """A lower bound above the target fails it; below, it decides nothing."""
    if value > target:
        return False
    return NOT_RESOLVED if lower_bound else True


def met_label(met: bool | str | None) -> str:
    """How a row's ``met`` reads: yes, no, not resolved, no target, or not measured (None)."""
    return "not measured" if met is None else met if isinstance(met, str) else "yes" if met else "no"


def table(items: list[dict]) -> str:
    """The rows as a Markdown table (what ``bench/summary.py`` prints)."""
    lines = ["| item | measured | target | met | measured on |", "|---|---:|---:|---|---|"]
    for r in items:
        lines.append(f"| {r['item']} | {r['measured'] or '—'} | {r['target']} | {met_label(r['met'])} | {r['when']} |")
    return "\n".join(lines)
