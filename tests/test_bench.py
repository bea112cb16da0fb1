"""The throughput benchmark runs end to end in its quick form and writes what the book's appendix
reads. No timing is asserted: speeds are the benchmark's output, not a test's condition."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest
from conftest import REPO

from regprune import speed_targets


def run_bench(script: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """``bench/SCRIPT ARGS...`` in a fresh interpreter, its output captured."""
    return subprocess.run([sys.executable, str(REPO / "bench" / script), *args], capture_output=True, text=True,
                          timeout=timeout)


def test_throughput_quick_writes_every_figure_the_appendix_reads(tmp_path):
    out = tmp_path / "throughput.json"
    done = run_bench("throughput.py", "--quick", "--threads", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert set(result["matmul"]["flops_per_s"]) == {"float32", "bfloat16"}
    rows = {r["loop"]: r for r in result["rows"]}
    assert set(rows) == {"engine", "engine_fused", "plain", "reference"}
    assert {r["model"] for r in rows.values()} == {"lenet300"}
    assert rows["reference"]["speedup_vs_reference"] == 1.0 and rows["plain"]["time_vs_plain"] == 1.0
    for r in rows.values():
        assert r["time_vs_plain"] == pytest.approx(rows["plain"]["samples_per_s"] / r["samples_per_s"])
    for r in rows.values():
        assert r["samples_per_s"] > 0 and r["peak_rss_mb"] > 0 and r["macs_per_sample"] == 266200
        assert r["gflops_per_s"] * 1e9 == pytest.approx(6 * r["macs_per_sample"] * r["samples_per_s"])
    assert result["end_to_end"] == {"skipped": "--no-end-to-end or --quick"}
    top = result["profiles"]["lenet300"]
    assert top and sum(op["self_cpu_share"] for op in top) <= 1 + 1e-9
    chapters = {c["chapter"]: c for c in result["projection"]["chapters"]}
    assert chapters["quickstart"]["train_samples"] == 3 * 20 * 55000 and not chapters["quickstart"]["lower_bound"]
    assert chapters["weight_compander"]["lower_bound"]  # staged: its later runs appear after the search
    assert result["environment"]["torch"] and result["environment"]["torch_threads"] == 1


def test_regeneration_sums_the_stored_runs(tmp_path):
    """The regeneration estimate adds up each grid's stored wall times (an independent sum here), and
    with today's code replaces the after-training time of a re-measured model and scales the training
    of a re-timed kind of run by its factor."""
    from regprune import chapters, results

    out, history = tmp_path / "regeneration.json", tmp_path / "history.csv"
    for _ in range(2):
        done = subprocess.run([sys.executable, str(REPO / "bench" / "regeneration.py"), "--out", str(out),
                               "--history", str(history)], capture_output=True, text=True, timeout=300, cwd=REPO)
        assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    rows = {r["grid"]: r for r in result["grids"]}
    found, missing = results.stored(chapters.configs("weight_compander", "cpu"))
    assert rows["weight_compander"]["stored"] == len(found) and rows["weight_compander"]["missing"] == len(missing)
    assert rows["weight_compander"]["stored_hours"] == pytest.approx(sum(r["wall_time_s"] for r in found) / 3600)
    assert rows["weight_compander"]["today_hours"] == pytest.approx(rows["weight_compander"]["stored_hours"])
    analyses = {(d["grid"], d["key_config"]["name"]): d["total_s"]  # every re-measured (grid, model)
                for d in (json.loads(p.read_text()) for p in (REPO / "bench" / "results").glob("analysis_*.json"))}
    retime = REPO / "bench" / "results" / "retime.json"
    factors = {(r["model"], r["reparam"], r["mode"], r["batch_size"]): r["factor"]
               for r in (json.loads(retime.read_text())["rows"] if retime.exists() else [])}

    def today_s(r):  # training scaled by its kind's re-timed factor, then the analysis as re-measured or stored
        c, train = r["config"], min(r["metrics"]["train_time_s"], r["wall_time_s"])
        reparam = c.get("reparam") or {}
        f = factors.get((c["model"]["name"], reparam.get("name", "none"), reparam.get("mode", ""),
                         c["train"]["batch_size"]), 1.0)
        return train * f + analyses.get(("comparison", c["model"]["name"]), r["wall_time_s"] - train)

    comparison, _ = results.stored(chapters.configs("comparison", "cpu"))
    today = sum(today_s(r) for r in comparison) / 3600
    assert rows["comparison"]["today_hours"] == pytest.approx(today)
    assert not rows["vc_bound"]["cifar"] and rows["vc_bound_cifar"]["cifar"]

    def alone_s(r):  # flops_pruning: no re-timed kind, no re-measured analysis; epochs x lower-quartile epoch
        train = min(r["metrics"]["train_time_s"], r["wall_time_s"])
        epochs = sorted(h["time"] for h in r["history"])
        return r["wall_time_s"] - train + min(train, len(epochs) * epochs[len(epochs) // 4])

    flops, _ = results.stored(chapters.configs("flops_pruning", "cpu"))
    assert flops and rows["flops_pruning"]["alone_hours"] == pytest.approx(sum(alone_s(r) for r in flops) / 3600)
    assert all(r["alone_hours"] <= r["today_hours"] + 1e-9 for r in rows.values())  # alone never costs more
    assert result["cifar_hours"] + result["other_hours"] == pytest.approx(
        result["today_hours"] + result["projected_missing_hours"])
    lines = history.read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("created,commit,stored_hours")  # header + one row per run
    assert lines[0].endswith(",alone_hours,here_hours")
    timed = REPO / "bench" / "results" / "epochs.json"
    if timed.exists():  # here: each run at its kind's epoch on the machine that timed them, analysis as stored
        sys.path.insert(0, str(REPO / "bench"))
        import epochs

        kinds = {r["kind"]: r for r in json.loads(timed.read_text())["rows"] if r.get("status") == "completed"}

        def here_s(r):
            k = kinds.get(epochs.kind(r["config"]))
            if k is None:
                return alone_s(r)
            train = min(r["metrics"]["train_time_s"], r["wall_time_s"])
            return len(r["history"]) * k["epoch_s"] + k["fixed_s"] + r["wall_time_s"] - train

        assert rows["flops_pruning"]["here_hours"] == pytest.approx(sum(here_s(r) for r in flops) / 3600)
        assert result["here_hours"] == pytest.approx(sum(r["here_hours"] for r in rows.values()))


def test_epochs_times_three_epochs_of_a_kind_without_its_analysis_and_keeps_the_mean_of_the_last_two():
    """``bench/epochs.py`` on a smoke config: 3 epochs trained (whatever the run's own count), the
    analysis hooks and a step schedule's milestones left out, the kind's epoch the mean of epochs 2-3."""
    sys.path.insert(0, str(REPO / "bench"))
    import epochs
    from conftest import smoke_config

    config = {**smoke_config(epochs=30, schedule="multistep", milestones=[10, 20]),
              "hooks": [{"name": "threshold_sweep", "steps": 4}, {"name": "switcher_alternation"}]}
    timed = epochs.timed(config)
    assert timed["train"]["epochs"] == 3 and timed["train"]["schedule"] == "constant" and "milestones" not in timed["train"]
    assert timed["hooks"] == [{"name": "switcher_alternation"}] and config["train"]["epochs"] == 30
    assert epochs.kind(config) == "lenet300 @ batch 64 on synthetic-mnist"
    row = epochs.time_kind(smoke_config())
    times = row["epoch_times_s"]
    assert row["status"] == "completed" and len(times) == 3
    assert row["epoch_s"] == pytest.approx((times[1] + times[2]) / 2) and 0 <= row["fixed_s"] < row["wall_s"]


def test_a_run_is_priced_here_at_its_epochs_times_its_kinds_epoch_plus_its_fixed_cost():
    """The kind's label names model, reparameterization (with what changes its work), penalties,
    batch size and data set, written out by hand here."""
    sys.path.insert(0, str(REPO / "bench"))
    import regeneration

    switcher = {"model": {"name": "lenet300"}, "reparam": {"name": "switcher", "mode": "neuron", "channels": 4},
                "penalties": [{"name": "vc_bound", "D": 0.01}], "data": {"name": "mnist"},
                "train": {"batch_size": 64, "epochs": 30}}
    timed = {"lenet300 + switcher,mode=neuron + penalty vc_bound @ batch 64 on mnist": {"epoch_s": 7.0, "fixed_s": 3.0}}
    assert regeneration.here_s(switcher, 12, timed) == 12 * 7.0 + 3.0  # a run that stopped after 12 epochs
    plain = {"model": {"name": "lenet5"}, "data": {"name": "mnist"}, "train": {"batch_size": 128, "epochs": 12}}
    assert regeneration.here_s(plain, 12, timed) is None  # its kind was not timed


def test_regeneration_history_keeps_rows_written_with_fewer_fields(tmp_path):
    """A history file from before a field was added gets the new header; its rows stay, the new field empty."""
    sys.path.insert(0, str(REPO / "bench"))
    import regeneration

    path = tmp_path / "history.csv"
    old = regeneration.HISTORY_FIELDS[:-1]
    path.write_text(",".join(old) + "\n" + ",".join(["2026-12-03T12:36:08Z", "e35910e"] + ["1.00"] * (len(old) - 2)) + "\n")
    regeneration.append_history(path, {k: 2.0 for k in regeneration.HISTORY_FIELDS} | {"created": "x", "commit": "y"})
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(regeneration.HISTORY_FIELDS) and len(lines) == 3
    assert lines[1].startswith("2026-12-03T12:36:08Z,e35910e,1.00") and lines[1].endswith(",")
    assert lines[2].endswith(",2.00")


def test_retime_times_one_epoch_of_training_without_the_analysis_hooks():
    """A re-timed epoch keeps what acts during training (the switcher's alternation, SFP) and drops what
    analyses after it; a run's kind is what sets its speed per sample."""
    sys.path.insert(0, str(REPO / "bench"))
    import retime

    config = {"model": {"name": "lenet300"}, "reparam": {"name": "switcher", "mode": "neuron", "channels": 4},
              "train": {"epochs": 30, "batch_size": 128, "lr": 0.01},
              "hooks": [{"name": "switcher_alternation"}, {"name": "snapshot_pruning", "theta_fc": [0.5]},
                        {"name": "threshold_sweep", "steps": 50}, {"name": "soft_filter_pruning"}]}
    epoch = retime.one_epoch(config)
    assert epoch["train"] == {"epochs": 1, "batch_size": 128, "lr": 0.01} and config["train"]["epochs"] == 30
    assert [h["name"] for h in epoch["hooks"]] == ["switcher_alternation", "soft_filter_pruning"]
    assert retime.kind(config) == ("lenet300", "switcher", "neuron", 128)
    assert retime.kind({"model": {"name": "lenet5"}, "train": {"batch_size": 64}}) == ("lenet5", "none", "", 64)


def test_bench_summary_reads_each_figure_against_its_target(tmp_path):
    """Met or not follows the stored figure and the target; a missing file reads 'not measured'."""
    (tmp_path / "reparam_overhead.json").write_text(json.dumps({"created": "2026-12-03T00:00:00", "rows": [
        {"model": "lenet300", "variant": "compander", "overhead_pct": 30.0},
        {"model": "lenet5", "variant": "compander", "overhead_pct": 19.0},
        {"model": "lenet5", "variant": "plain", "overhead_pct": 0.0}]}))
    (tmp_path / "switcher.json").write_text(json.dumps({"target_ratio": 3.0, "rows": [
        {"variant": "plain", "ratio_to_plain": 1.0}, {"variant": "neuron/snn", "ratio_to_plain": 2.5}]}))
    by_item = {r["item"]: r for r in speed_targets.rows(tmp_path)}
    assert by_item["compander overhead, lenet300"]["met"] is False  # 30% > 25%
    assert by_item["compander overhead, lenet5"]["met"] is True  # 19% <= 20%
    assert by_item["compander overhead, resnet20"]["met"] is None  # no row: not measured
    assert by_item["switcher update / plain update, neuron/snn"]["met"] is True
    assert by_item["post-training analysis, LeNet-5 (comparison grid)"]["met"] is None
    assert "| compander overhead, lenet300 | +30.0% | <= 25% | no |" in speed_targets.table(speed_targets.rows(tmp_path))


def test_bench_summary_judges_a_switcher_run_per_update_with_its_phases_and_floor(tmp_path):
    """The judged figure is the alternation's mean per update, by the interval of its 11 per-round
    ratios (2nd and 10th smallest); the phases and the floor by arithmetic are shown beside it."""
    above = [3.5, 3.6, 3.7, 3.8, 3.9, 4.0, 4.1, 4.2, 4.3, 4.4, 9.0]
    straddles = [1.0, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2, 3.3, 3.4]
    (tmp_path / "switcher.json").write_text(json.dumps({"created": "2026-12-04T12:00:00+00:00", "target_ratio": 3.0,
        "target_variants": ["connection/alternation", "neuron/alternation"], "rows": [
            {"variant": "plain", "ratio_to_plain": 1.0, "floor_ratio": 1.0},
            {"variant": "connection/alternation", "ratio_to_plain": 4.0, "time_ratios": above, "floor_ratio": 2.2},
            {"variant": "connection/snn", "ratio_to_plain": 6.0}, {"variant": "connection/tnn", "ratio_to_plain": 2.0},
            {"variant": "neuron/alternation", "ratio_to_plain": 2.9, "time_ratios": straddles, "floor_ratio": 1.5},
            {"variant": "neuron/snn", "ratio_to_plain": 4.5}, {"variant": "neuron/tnn", "ratio_to_plain": 1.3}]}))
    rows = [r for r in speed_targets.rows(tmp_path) if r["item"].startswith("switcher")]
    assert [r["item"] for r in rows] == ["switcher update / plain update, connection/alternation",
                                         "switcher update / plain update, neuron/alternation"]
    assert rows[0]["met"] is False and rows[1]["met"] == "not resolved"  # [3.6, 4.4] above 3; [2.5, 3.3] around it
    assert rows[0]["measured"] == "4.0x [3.6x, 4.4x] (snn phase 6.0x; tnn phase 2.0x; floor 2.2x by arithmetic)"
    assert rows[1]["when"] == "2026-12-04"


def test_bench_summary_judges_the_overhead_by_its_median_interval(tmp_path):
    """11 repeats: the 95% interval of the median is the 2nd and 10th smallest ratio (binomial by
    hand: P(X <= 1) = 12/2048 = 0.006 <= 0.025 < P(X <= 2) = 67/2048 = 0.033)."""
    straddles = [0.91, 1.006, 1.026, 1.043, 1.046, 1.054, 1.062, 1.065, 1.066, 1.083, 1.174]
    above = [1.255, 1.275, 1.286, 1.354, 1.392, 1.458, 1.481, 1.514, 1.53, 1.54, 1.646]
    below = [0.9, 0.95, 1.0, 1.01, 1.02, 1.05, 1.1, 1.15, 1.18, 1.19, 1.4]
    assert speed_targets.median_interval(straddles) == (1.006, 1.083)
    assert speed_targets.median_interval([1.0] * 5) is None  # P(X = 0) = 1/32 > 0.025: no interval
    (tmp_path / "reparam_overhead.json").write_text(json.dumps({"created": "2026-12-04T00:00:00", "rows": [
        {"model": "resnet20", "variant": "compander", "overhead_pct": 5.4, "time_ratios": straddles},
        {"model": "lenet300", "variant": "compander", "overhead_pct": 45.8, "time_ratios": above,
         "kernel_floor_pct": 18.04, "alone_pct": 25.96},
        {"model": "lenet5", "variant": "compander", "overhead_pct": 5.0, "time_ratios": below}]}))
    by_item = {r["item"]: r for r in speed_targets.rows(tmp_path)}
    assert by_item["compander overhead, resnet20"]["met"] == "not resolved"  # [+0.6%, +8.3%] around 3%
    assert by_item["compander overhead, resnet20"]["measured"] == "+5.4% [+0.6%, +8.3%]"
    assert by_item["compander overhead, lenet300"]["measured"] == (
        "+45.8% [+27.5%, +54.0%] (floor +18.0%: its kernels alone; "
        "+26.0% with each layer's parametrize and autograd machinery)")
    assert by_item["compander overhead, lenet300"]["met"] is False  # [+27.5%, +54.0%] above 25%
    assert by_item["compander overhead, lenet5"]["met"] is True  # [-5.0%, +19.0%] at or below 20%
    assert "| compander overhead, resnet20 | +5.4% [+0.6%, +8.3%] | <= 3% | not resolved |" in speed_targets.table(
        speed_targets.rows(tmp_path))


def test_bench_summary_lists_every_stored_analysis_case_and_judges_lenet5_only(tmp_path):
    for case, grid, total, target in (("lenet5", "comparison", 61.0, 60.0), ("quicknet", "vc_bound_cifar", 90.0, None)):
        (tmp_path / f"analysis_{case}.json").write_text(json.dumps({
            "case": case, "grid": grid, "key_config": {"name": case}, "total_s": total, "target_s": target,
            "hooks": [{"hook": "threshold_sweep", "seconds": total}]}))
    by_item = {r["item"]: r for r in speed_targets.rows(tmp_path)}
    assert by_item["post-training analysis, LeNet-5 (comparison grid)"]["met"] is False  # 61 s > 60 s
    other = by_item["post-training analysis, quicknet (vc_bound_cifar grid)"]
    assert other["measured"] == "90 s (threshold_sweep 90 s)" and other["met"] == "no target"
    assert "post-training analysis, lenet5 (comparison grid)" not in by_item  # LeNet-5 once, with its target


def test_bench_summary_shows_the_compiled_overhead_apart_with_what_compiling_does_to_plain(tmp_path):
    """Compiled rows are their own items, judged against the same targets; compiled plain's speed is
    set against eager plain's only when both files ran on one CPU."""

    def bench(cpu: str, plain_speed: float, overhead: float) -> dict:
        return {"created": "2026-12-04T23:00:00", "environment": {"cpu_model": cpu}, "rows": [
            {"model": "resnet20", "variant": "plain", "overhead_pct": 0.0, "samples_per_s": plain_speed},
            {"model": "resnet20", "variant": "compander", "overhead_pct": overhead}]}

    (tmp_path / "reparam_overhead.json").write_text(json.dumps(bench("CPU A", 700.0, 3.3)))
    (tmp_path / "reparam_overhead_compiled.json").write_text(json.dumps(bench("CPU A", 840.0, 0.1)))
    by_item = {r["item"]: r for r in speed_targets.rows(tmp_path)}
    row = by_item["compander overhead, resnet20, compiled (opt-in)"]
    assert row["met"] is True and row["measured"] == "+0.1%; compiled plain 1.20x eager plain's speed"
    assert by_item["compander overhead, resnet20"]["met"] is False  # the eager item stays as it was
    assert "compander overhead, lenet300, compiled (opt-in)" not in by_item  # no compiled row: no item
    (tmp_path / "reparam_overhead_compiled.json").write_text(json.dumps(bench("CPU B", 840.0, 0.1)))
    row = {r["item"]: r for r in speed_targets.rows(tmp_path)}["compander overhead, resnet20, compiled (opt-in)"]
    assert row["measured"] == "+0.1%"  # another CPU: speeds do not compare


def test_gpu_bench_quick_on_a_cpu_keeps_a_failed_case_and_sums_the_parallel_copies(tmp_path):
    """bench/gpu.py's every path on a CPU: a case that fails is kept as a row saying why (the others
    stand), K copies report the sum of their own rates, and the paper grids are priced at the best."""
    out = tmp_path / "gpu.json"
    done = run_bench("gpu.py", "--device", "cpu", "--quick", "--cases", "fp32:0", "xx:0", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    single, parallel = result["rows"]
    assert single["precision"] == "fp32" and single["copies"] == 1 and single["samples"] == 256
    assert single["samples_per_s"] == pytest.approx(256 / statistics.median(single["epoch_times_s"][1:]))
    assert parallel["copies"] == 2 and len(parallel["per_copy_samples_per_s"]) == 2
    assert parallel["samples_per_s"] == pytest.approx(sum(parallel["per_copy_samples_per_s"]))
    assert [f["precision"] for f in result["failed"]] == ["xx"] and "train.precision" in result["failed"][0]["error"][0]
    best = max(single["samples_per_s"], parallel["samples_per_s"])
    assert result["projection"]["flops_per_s"] == pytest.approx(6 * result["macs_per_sample"] * best)
    hours = {c["chapter"]: c["device_hours"] for c in result["projection"]["chapters"] if "device_hours" in c}
    assert result["projection"]["gpu_hours_cifar"] == pytest.approx(
        sum(h for ch, h in hours.items() if "cifar" in ch or ch == "flops_pruning"))


def test_gpu_bench_cases_name_a_compile_mode_or_are_refused_before_any_training(tmp_path):
    sys.path.insert(0, str(REPO / "bench"))
    import gpu

    assert gpu.parse_case("bf16:reduce-overhead") == ("bf16", "reduce-overhead")
    assert gpu.parse_case("fp32:0") == ("fp32", False) and gpu.parse_case("bf16:1") == ("bf16", True)
    assert all(gpu.parse_case(c) for c in gpu.CASES)
    done = run_bench("gpu.py", "--device", "cpu", "--quick", "--cases", "bf16:fast",
                     "--out", str(tmp_path / "gpu.json"), timeout=120)
    assert done.returncode == 2 and "bf16:fast" in done.stderr and "reduce-overhead" in done.stderr
    assert not (tmp_path / "gpu.json").exists()


def test_gpu_models_prices_each_run_at_its_own_kinds_rate_and_counts_the_unpriced():
    sys.path.insert(0, str(REPO / "bench"))
    import gpu_models

    run = lambda model, epochs, **extra: {"model": model, "train": {"batch_size": 64, "epochs": epochs},  # noqa: E731
                                          "data": {"name": "cifar10"}, **extra}
    grid = [run({"name": "resnet18", "init": "kaiming_normal"}, 200), run("resnet18", 100),
            run("resnet18", 200, reparam={"name": "switcher", "mode": "neuron", "channels": 4}),
            run({"name": "densenet40", "drop_rate": 0.2}, 300, penalties=[{"name": "vc_bound", "weight": 1.0}])]
    kinds = [gpu_models.speed_kind(c) for c in grid]
    assert kinds[:3] == ["resnet18 @ batch 64", "resnet18 @ batch 64", "resnet18 + switcher,mode=neuron @ batch 64"]
    assert kinds[3] == "densenet40,drop_rate=0.2 + penalty vc_bound @ batch 64"
    rates = {kinds[0]: 1000.0, kinds[2]: 250.0}
    (priced,) = gpu_models.price({"flops_pruning": grid}, rates)
    assert priced["unpriced_runs"] == 1 and priced["lower_bound"] is True
    assert priced["device_hours"] == pytest.approx(45000 * (200 / 1000 + 100 / 1000 + 200 / 250) / 3600)
    timed = gpu_models.timed_config({**run("resnet18", 200, transforms=[{"name": "random_crop_flip"}]),
                                     "train": {"batch_size": 64, "epochs": 200, "schedule": "multistep",
                                               "milestones": [90, 136], "precision": "auto"}}, steps=5, epochs=3)
    assert timed["data"] == {"name": "synthetic-cifar10", "n_train": 5 * 64 + 64, "n_test": 64, "val_split": 64}
    assert timed["train"] == {"batch_size": 64, "epochs": 3, "schedule": "constant", "precision": "auto",
                              "select": "last"}
    assert timed["transforms"] == [{"name": "random_crop_flip"}]


def test_gpu_models_quick_on_a_cpu_times_real_paper_runs(tmp_path):
    out = tmp_path / "gpu_models.json"
    done = run_bench("gpu_models.py", "--device", "cpu", "--quick", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert [r["kind"] for r in result["rows"]] == ["resnet20 @ batch 128", "resnet32 @ batch 128"]
    assert all(r["samples_per_s"] > 0 and len(r["epoch_times_s"]) == 2 for r in result["rows"])
    (chapter,) = result["projection"]["chapters"]
    assert chapter["chapter"] == "flops_pruning" and 0 < chapter["unpriced_runs"] < chapter["runs"]
    assert result["projection"]["lower_bound"] is True
    bad = run_bench("gpu_models.py", "--device", "cpu", "--chapters", "nope", "--out", str(tmp_path / "x.json"))
    assert bad.returncode == 2 and "--chapters nope" in bad.stderr and "flops_pruning" in bad.stderr


def test_bench_summary_judges_the_gpu_epoch_by_its_fastest_single_process_case(tmp_path):
    env = {"device_name": "Some GPU"}
    proj = {"gpu_hours_cifar": 80.0, "target_gpu_hours_cifar": 100.0, "basis": "bf16 x8 aggregate"}
    (tmp_path / "gpu.json").write_text(json.dumps({"created": "2026-12-04T14:45:00Z", "environment": env,
        "target_epoch_s": 2.0, "projection": proj, "rows": [
            {"precision": "fp32", "compile": False, "copies": 1, "epoch_s": 3.0},
            {"precision": "bf16", "compile": False, "copies": 8, "epoch_s": 1.0}]}))  # 8 copies: not an epoch of one run
    rows = {r["item"]: r for r in speed_targets.rows(tmp_path)}
    epoch = rows["ResNet-20 CIFAR-10 epoch on an H100-class GPU"]
    assert epoch["met"] is False and epoch["measured"] == "fp32 3.00 s (Some GPU)"
    assert rows["paper profile of the CIFAR chapters, projected"]["met"] is True
    (tmp_path / "gpu_compile.json").write_text(json.dumps({"rows": [
        {"precision": "bf16", "compile": True, "copies": 1, "epoch_s": 1.9}]}))
    epoch = {r["item"]: r for r in speed_targets.rows(tmp_path)}["ResNet-20 CIFAR-10 epoch on an H100-class GPU"]
    assert epoch["met"] is True and epoch["measured"] == "fp32 3.00 s, bf16 compiled 1.90 s (Some GPU)"
    (tmp_path / "gpu_compile.json").write_text(json.dumps({"rows": [
        {"precision": "bf16", "compile": True, "copies": 1, "epoch_s": 2.4},
        {"precision": "fp16", "compile": "reduce-overhead", "copies": 1, "epoch_s": 1.2}]}))
    epoch = {r["item"]: r for r in speed_targets.rows(tmp_path)}["ResNet-20 CIFAR-10 epoch on an H100-class GPU"]
    assert epoch["met"] is True
    assert epoch["measured"] == "fp32 3.00 s, bf16 compiled 2.40 s, fp16 compiled (reduce-overhead) 1.20 s (Some GPU)"
    # each run at its own measured rate judges the projection where it exists; a lower bound under
    # the target decides nothing, over it fails
    for hours, bound, met in ((90.0, False, True), (90.0, True, "not resolved"), (130.0, True, False)):
        (tmp_path / "gpu_models.json").write_text(json.dumps({"created": "2026-12-06T10:00:00Z", "environment": env,
            "projection": {"gpu_hours_cifar": hours, "target_gpu_hours_cifar": 100.0, "lower_bound": bound}}))
        row = {r["item"]: r for r in speed_targets.rows(tmp_path)}["paper profile of the CIFAR chapters, projected"]
        assert row["met"] == met and row["measured"].startswith(f"{hours:,.0f} GPU-h, each run at its own measured")
        assert row["measured"].endswith("GPU-h at bf16 x8 aggregate (Some GPU)") and row["when"] == "2026-12-06"


def test_reparam_overhead_quick_run_times_every_variant_and_names_its_device(tmp_path):
    """``bench/reparam_overhead.py --quick`` on the CPU, through the device-aware path a GPU run takes:
    a row per variant with its paired ratios, the compander's kernel floor, its cost alone and the subnormal count;
    ``--device cuda`` writes beside the CPU file, never over it."""
    out = tmp_path / "overhead.json"
    done = run_bench("reparam_overhead.py", "--quick", "--device", "cpu", "--variants", "compander,mask",
                     "--out", str(out), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["settings"]["device"] == "cpu" and result["environment"]["device"] == "cpu"
    rows = {r["variant"]: r for r in result["rows"]}
    assert set(rows) == {"plain", "compander", "mask"} and rows["plain"]["time_ratio"] == 1.0
    assert len(rows["compander"]["time_ratios"]) == 2 and rows["compander"]["kernel_floor_pct"] > 0
    # the compander's chain alone (atan2 over 266k weights, its backward) costs more than plain's leaf weights
    assert rows["compander"]["alone_pct"] > 0 and not {"alone_pct", "kernel_floor_pct"} & (set(rows["mask"]) | set(rows["plain"]))
    assert all(r["subnormal_grads"] == 0 for r in rows.values())
    sys.path.insert(0, str(REPO / "bench"))
    import reparam_overhead

    assert reparam_overhead.parse_args(["--device", "cuda"]).out.name == "reparam_overhead_cuda.json"
    assert reparam_overhead.parse_args(["--device", "cuda", "--compile"]).out.name == "reparam_overhead_compiled_cuda.json"
    assert reparam_overhead.parse_args([]).out.name == "reparam_overhead.json"


def _lenet300_record(**config):
    return {"config": {"chapter": "t", "model": {"name": "lenet300"}, "data": {"name": "mnist"}, "seed": 0,
                       "train": {"batch_size": 64, "epochs": 3}, **config},
            "data": {"input_shape": [1, 28, 28], "num_classes": 10, "sizes": {"train": 150, "val": 70, "test": 30}}}


def test_floor_counts_the_matrix_work_of_an_epoch_and_of_each_evaluation():
    """LeNet-300-100 by hand: a forward pass is 2 * (784*300 + 300*100 + 100*10) FLOPs a sample; a
    training step is three of them, less the input gradient of the first layer (the input needs
    none); 150 samples train in batches of 64, 64 and 22. Every call is timed."""
    sys.path.insert(0, str(REPO / "bench"))
    import floor

    kind = floor.count_kind(_lenet300_record())
    forward = 2 * (784 * 300 + 300 * 100 + 100 * 10)
    assert kind["train_epoch"]["all"]["flops"] == 150 * (3 * forward - 2 * 784 * 300)
    assert kind["val"]["flops"] == 70 * forward and kind["test"]["flops"] == 30 * forward
    assert kind["precision"] == "fp32" and kind["first_phase"] is None and not kind["monitor_test"]
    assert all(part["kernel_s"] > 0 for part in (kind["train_epoch"]["all"], kind["val"], kind["test"]))


def test_floor_prices_a_switcher_run_phase_by_phase():
    """Under alternating learning the phases train different parameters, so each is counted; a run
    of 3 epochs starting with the task network is tnn + snn + tnn, a validation each epoch, the test
    split each epoch where monitored and once at the end."""
    sys.path.insert(0, str(REPO / "bench"))
    import floor

    record = _lenet300_record(reparam={"name": "switcher", "mode": "neuron"},
                              hooks=[{"name": "switcher_alternation", "first": "tnn"}])
    kind = floor.count_kind(record)
    assert set(kind["train_epoch"]) == {"snn", "tnn"} and kind["first_phase"] == "tnn"
    assert kind["train_epoch"]["snn"]["flops"] != kind["train_epoch"]["tnn"]["flops"]
    made = {"train_epoch": {"snn": {"flops": 100}, "tnn": {"flops": 10}}, "val": {"flops": 1}, "test": {"flops": 1000},
            "first_phase": "tnn", "monitor_test": False}
    assert floor.run_cost(made, 3, "flops") == 10 + 100 + 10 + 3 * 1 + 1000
    assert floor.run_cost({**made, "monitor_test": True}, 3, "flops") == 10 + 100 + 10 + 3 * 1001 + 1000


def test_floor_replays_each_recorded_call_on_tensors_of_its_layout_and_counts_it_as_often_as_made():
    sys.path.insert(0, str(REPO / "bench"))
    import time as clock

    import floor
    import torch

    seen = []

    def op(x, *, alpha):  # stands in for a kernel: checks what it is given, takes 5 ms
        seen.append((tuple(x.shape), x.stride(), x.dtype, alpha))
        clock.sleep(0.005)

    x = torch.empty(4, 3).t()  # a transposed layout must come back as such
    spec = floor.pytree.tree_map(floor._spec, ((x,), {"alpha": 2}))
    seconds = floor.replay_seconds({(op, repr(spec)): [spec, 3]})
    assert set(seen) == {((3, 4), (1, 3), torch.float32, 2)}
    assert 3 * 0.005 <= seconds < 3 * 0.005 * 3


def test_floor_script_writes_each_grids_floor_and_their_sum(tmp_path):
    out = tmp_path / "floor.json"
    done = run_bench("floor.py", "--grids", "quickstart", "efficiency_llr", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    grids = {g["grid"]: g for g in result["grids"]}
    assert list(grids) == ["quickstart", "efficiency_llr"] and [g["runs"] for g in grids.values()] == [3, 60]
    assert all(g["floor_hours"] > 0 and not g["cifar"] for g in grids.values())
    assert result["floor_hours"] == pytest.approx(sum(g["floor_hours"] for g in grids.values()))
    assert result["floor_other_hours"] == pytest.approx(result["floor_hours"]) and result["floor_cifar_hours"] == 0
    assert sum(k["runs"] for k in result["kinds"]) == 63
    assert sum(k["floor_hours"] for k in result["kinds"]) == pytest.approx(result["floor_hours"])
    assert run_bench("floor.py", "--grids", "nope", "--out", str(out)).returncode == 2
