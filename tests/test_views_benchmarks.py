"""views.benchmarks: the appendix page over hand-made benchmark files (numbers worked out by hand)."""

import json

import numpy as np
import pandas as pd
import pytest

from regprune.views import benchmarks as view_module


def loop_row(model, loop, speedup, share=0.3, time_vs_plain=1.0):
    return {"model": model, "loop": loop, "samples_per_s": 100.0 * speedup, "speedup_vs_reference": speedup,
            "time_vs_plain": time_vs_plain, "gflops_per_s": 10.0, "share_of_fp32_matmul": share,
            "peak_rss_mb": 400.0, "samples": 1000, "epochs": 3}


THROUGHPUT = {
    "created": "2026-11-30T12:00:00", "matmul": {"flops_per_s": {"float32": 70e9, "bfloat16": 125.4e9},
                                                "n": {"float32": 2048, "bfloat16": 2048}},
    "environment": {"device": "cpu", "device_name": "x86_64", "cpu_count": 2, "torch_threads": 2, "torch": "2.13.0"},
    "rows": [loop_row("lenet300", "engine", 2.5, time_vs_plain=1.12), loop_row("lenet300", "plain", 2.8),
             loop_row("lenet300", "reference", 1.0, time_vs_plain=2.8), loop_row("lenet300", "engine_fused", 2.6),
             loop_row("resnet20", "engine", 1.6, share=0.4), loop_row("resnet20", "plain", 1.7),
             loop_row("resnet20", "reference", 1.0)],
    "profiles": {"lenet300": [{"op": "aten::mm", "self_cpu_share": 0.3, "calls": 30, "self_cpu_ms_per_step": 1.4}]},
    "end_to_end": {"chapter": "quickstart", "runs": 3, "wall_s": 136.3984},
    "projection": {"flops_per_s": 30e9, "basis": "ResNet-20, engine",
                   "chapters": [{"chapter": "efficiency_llr", "runs": 36, "device_hours": 1.13, "lower_bound": False}]},
}


def reparam_row(model, variant, step_time, ratio):
    return {"model": model, "variant": variant, "samples_per_s": 128 / step_time, "time_ratio": step_time / 0.01,
            "overhead_pct": 100 * (step_time / 0.01 - 1), "baked_inference_ratio": ratio,
            "step_times_s": [step_time] * 5}


REPARAM = {"created": "2026-11-29T08:00:00", "environment": {"device": "cpu", "device_name": "AMD EPYC", "torch": "2.13.0"},
           "rows": [reparam_row("lenet300", "plain", 0.01, 1.0),
                    {**reparam_row("lenet300", "compander", 0.011, 1.01), "kernel_floor_pct": 4.0, "alone_pct": 6.0}]}


@pytest.fixture
def bench_dir(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "throughput.json").write_text(json.dumps(THROUGHPUT))
    (folder / "reparam_overhead.json").write_text(json.dumps(REPARAM))
    return folder


def test_labels_name_the_machine_and_its_limit():
    assert view_module.machine_label(THROUGHPUT) == "cpu: x86_64 (2 cores, 2 torch threads), torch 2.13.0, 2026-11-30"
    assert view_module.matmul_line(THROUGHPUT) == ("fp32 matmul 70 GFLOP/s, bf16 125 GFLOP/s "
                                                   "(n = float32 2048, bfloat16 2048)")
    assert view_module.reparam_label(REPARAM) == "AMD EPYC, torch 2.13.0, 2026-11-29"
    assert view_module.end_to_end_line(THROUGHPUT["end_to_end"]) == "end to end: chapter quickstart, runs 3, wall_s 136.4"


def test_targets_against_the_plain_steps_ceiling():
    rows = pd.DataFrame(THROUGHPUT["rows"])
    targets = view_module.targets_table(rows)
    assert targets["measured"].tolist() == [2.5, 1.6, 0.4]
    assert targets["ceiling"].tolist()[:2] == [2.8, 1.7] and np.isnan(targets["ceiling"].iloc[2])
    assert targets["met"].tolist() == [False, True, False]
    lines = view_module.target_lines(targets, rows)
    assert lines == [
        "engine / reference, LeNet-300-100: measured 2.50x; the goal 3.0x lies above the plain step's 2.80x, "
        "so no loop around this step reaches it.",
        "lenet300: engine with train.fused = 2.60x the reference",
        "resnet20: engine with train.fused = nanx the reference"]  # not measured on ResNet-20
    assert np.isnan(view_module.measured(rows, "resnet20", "engine_fused", "samples_per_s"))


def test_overhead_is_one_row_per_model_one_column_per_loop():
    table = view_module.overhead_table(pd.DataFrame(THROUGHPUT["rows"]))
    assert list(table.columns) == ["model", "engine", "plain", "reference", "engine_fused"]
    assert table.set_index("model").loc["lenet300", "engine"] == 1.12
    assert np.isnan(table.set_index("model").loc["resnet20", "engine_fused"])


def test_the_page_shows_every_section(bench_dir, tmp_path, capsys):
    view = view_module.open_bench("smoke", bench_dir=bench_dir, tables_dir=tmp_path / "tables",
                                  display=lambda obj: None)
    for section in ("throughput", "targets", "where_the_time_goes", "end_to_end", "reparam_overhead", "claims"):
        getattr(view_module, section)(view)
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["cpu: x86_64 (2 cores, 2 torch threads), torch 2.13.0, 2026-11-30",
                       "fp32 matmul 70 GFLOP/s, bf16 125 GFLOP/s (n = float32 2048, bfloat16 2048)"]
    assert out[-1] == "end to end: chapter quickstart, runs 3, wall_s 136.4"
    assert [(s.kind, s.name) for s in view.shown] == [
        ("table", "throughput"), ("figure", "throughput"), ("table", "targets"), ("table", "overhead"),
        ("table", "profile_lenet300"), ("table", "projection"), ("table", "reparam_overhead"), ("table", "claims"),
        ("verdicts", "verdicts")]
    written = pd.read_csv(tmp_path / "tables" / "benchmarks" / "reparam_overhead.csv")
    assert list(written.columns) == view_module.REPARAM_COLUMNS
    assert written["alone_pct"].isna().tolist() == [True, False]  # the floors are the compander's: plain has none
    assert written["overhead_pct"].round(6).tolist() == [0.0, 10.0]
    # the claim reads the hand-made bench folder: every round costs the compander 10% on LeNet-300-100
    claims = view.shown[7].value.set_index("part")
    lenet300 = claims.loc["LeNet-300-100: training-step overhead (%)"]
    assert lenet300["n"] == 5 and lenet300["verdict"] == "reproduced"  # 10% lies in the paper's 7-14%


GPU = {"created": "2026-12-04T14:45:00Z", "environment": {"device": "cuda", "device_name": "Some GPU", "torch": "2.11.0"},
       "settings": {"samples": 45000, "batch_size": 128}, "target_epoch_s": 2.0,
       "rows": [{"precision": "fp32", "compile": False, "copies": 1, "epoch_s": 4.5, "samples_per_s": 10000.0},
                {"precision": "bf16", "compile": False, "copies": 8, "epoch_s": 9.0, "samples_per_s": 40000.0}],
       "projection": {"flops_per_s": 9.84e12, "basis": "bf16 x8 aggregate", "gpu_hours_cifar": 0.0,
                      "target_gpu_hours_cifar": 100.0,
                      "chapters": [{"chapter": "efficiency_llr", "runs": 36, "device_hours": 0.02, "lower_bound": False}]}}


def test_the_projection_names_cpu_and_gpu_hours_and_the_gpu_table_its_device(bench_dir, tmp_path, capsys):
    """CPU-hours and GPU-hours side by side, each from its own file; without a GPU file, CPU-hours alone
    and a line saying no GPU was measured."""
    displayed = []
    shown = lambda: view_module.open_bench("smoke", bench_dir=bench_dir, tables_dir=tmp_path / "t",  # noqa: E731
                                           display=displayed.append)
    view = shown()
    view_module.gpu(view)
    assert capsys.readouterr().out.splitlines()[-1].startswith("no GPU measured")
    assert "gpu_hours" not in view_module.projection_frame(view.throughput, view.gpu).columns
    (bench_dir / "gpu.json").write_text(json.dumps(GPU))
    (bench_dir / "gpu_compile.json").write_text(json.dumps({"rows": [
        {"precision": "bf16", "compile": True, "copies": 1, "epoch_s": 3.0, "samples_per_s": 15000.0}]}))
    view = shown()
    displayed.clear()
    view_module.end_to_end(view)
    view_module.gpu(view)
    projection, gpu = view.shown
    captions = [str(getattr(obj, "caption", "")) for obj in displayed]
    assert projection.value[["chapter", "cpu_hours", "gpu_hours"]].values.tolist() == [["efficiency_llr", 1.13, 0.02]]
    assert "CPU-hours at 30 GFLOP/s" in captions[0] and "GPU-hours at 9.8 TFLOP/s (bf16 x8 aggregate" in captions[0]
    assert "(Some GPU, torch 2.11.0, 2026-12-04)" in captions[1]
    assert gpu.value["epoch_s"].tolist() == [4.5, 9.0, 3.0] and gpu.value["compile"].tolist() == [False, False, True]
    # each run priced at its own measured rate: a column of its own, left of the FLOP-rate one
    (bench_dir / "gpu_models.json").write_text(json.dumps({
        "created": "2026-12-06T10:00:00Z", "environment": GPU["environment"],
        "projection": {"chapters": [{"chapter": "efficiency_llr", "runs": 36, "device_hours": 0.01}]}}))
    view = shown()
    frame = view_module.projection_frame(view.throughput, view.gpu, view.gpu_models)
    assert frame[["cpu_hours", "gpu_hours_measured_per_run", "gpu_hours"]].values.tolist() == [[1.13, 0.01, 0.02]]
    displayed.clear()
    view_module.end_to_end(view)
    assert "measured per run" in str(getattr(displayed[0], "caption", ""))


REGENERATION = {
    "created": "2026-12-05T00:18:42Z", "stored_hours": 10.0, "today_hours": 6.0, "projected_missing_hours": 1.5,
    "cifar_hours": 2.0, "other_hours": 4.0, "alone_hours": 4.0, "alone_cifar_hours": 2.5, "alone_other_hours": 1.5,
    "target_hours": 8.0,
    "grids": [{"grid": "comparison", "cifar": False, "runs": 4, "stored": 3, "missing": 1, "stored_hours": 7.0,
               "today_hours": 4.0, "alone_hours": 2.0, "median_run_min": 30.0, "cpus": {"x86_64": 1, "AMD EPYC": 2}},
              {"grid": "vc_bound_cifar", "cifar": True, "runs": 2, "stored": 2, "missing": 0, "stored_hours": 3.0,
               "today_hours": 2.0, "alone_hours": 2.0, "median_run_min": 90.0, "cpus": {"AMD EPYC": 2}}]}
HISTORY = ("created,commit,stored_hours,train_hours,projected_missing_hours,today_hours,cifar_hours,other_hours,"
           "unknown,alone_hours\n"
           "2026-12-03T12:36:08Z,0e35910,8.00,6.00,0,7.00,1.00,6.00,vc_bound_cifar,\n"
           "2026-12-05T00:18:42Z,a3f0220,10.00,8.00,1.50,6.00,2.00,4.00,,4.00\n")


def shown_targets_and_regeneration(bench_dir, tmp_path):
    """The page's view after its speed-target and regeneration sections ran (tables in ``view.shown``)."""
    view = view_module.open_bench("smoke", bench_dir=bench_dir, tables_dir=tmp_path / "t", display=lambda obj: None)
    view_module.speed_targets(view)
    view_module.regeneration(view)
    return view


def test_the_speed_targets_and_the_regeneration_cost_read_the_stored_files(bench_dir, tmp_path, capsys):
    """The page's table of speed targets is the one `bench/summary.py` prints (the hand-made compander
    rounds: 10% on LeNet-300-100, under its 25%); the regeneration totals and grids come from its file
    as stored, and the trend keeps the grids an earlier row could not project."""
    view = view_module.open_bench("smoke", bench_dir=bench_dir, tables_dir=tmp_path / "t", display=lambda obj: None)
    view_module.regeneration(view)
    assert capsys.readouterr().out.splitlines()[-1].startswith("regeneration not measured")
    (bench_dir / "regeneration.json").write_text(json.dumps(REGENERATION))
    (bench_dir / "regeneration_history.csv").write_text(HISTORY)
    view = shown_targets_and_regeneration(bench_dir, tmp_path)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "cpu profile, every grid from scratch: 10.0 h as the stored runs took, 7.5 h with today's code; "
        "4.0 h with each run alone on the CPU (CIFAR grids 2.5 h of it); target 8 h")
    targets, grids, history = (s.value for s in view.shown)
    by_item = targets.set_index("item")
    assert by_item.loc["compander overhead, lenet300", "met"] == "yes"  # +10% <= 25%
    assert by_item.loc["compander overhead, lenet300", "measured"] == "+10.0%"  # no per-round ratios: no interval
    assert by_item.loc["compander overhead, resnet20", "met"] == "not measured"
    assert by_item.loc["cpu profile, regenerated from scratch (today's code)", "met"] == "yes"  # 7.5 h <= 8 h
    assert grids["cpus"].tolist() == ["AMD EPYC 2, x86_64 1", "AMD EPYC 2"]
    assert grids[["grid", "stored_hours", "today_hours", "alone_hours"]].values.tolist() == [
        ["comparison", 7.0, 4.0, 2.0], ["vc_bound_cifar", 3.0, 2.0, 2.0]]
    assert history["created"].tolist() == ["2026-12-03 12:36", "2026-12-05 00:18"]
    assert history["commit"].tolist() == ["0e35910", "a3f0220"]  # a hash of digits and e stays text
    assert history["not_projected"].fillna("").tolist() == ["vc_bound_cifar", ""]
    assert np.isnan(history["alone_hours"].iloc[0]) and history["alone_hours"].iloc[1] == 4.0


def test_regeneration_is_judged_on_one_machines_pricing_where_it_exists(bench_dir, tmp_path, capsys):
    """With each kind's epoch timed on one CPU (bench/epochs.py), the target ("the whole profile on this
    machine") is judged on that figure: 9 h here fails 8 h although the stored timings give 7.5 h."""
    here = {**REGENERATION, "here_hours": 9.0, "here_cifar_hours": 5.0, "here_other_hours": 4.0,
            "here_cpu": "AMD EPYC", "here_unpriced_runs": 2,
            "grids": [{**g, "here_hours": h} for g, h in zip(REGENERATION["grids"], (4.0, 5.0))]}
    (bench_dir / "regeneration.json").write_text(json.dumps(here))
    view = shown_targets_and_regeneration(bench_dir, tmp_path)
    assert capsys.readouterr().out.splitlines()[-1].endswith(
        "; 9.0 h on AMD EPYC with each kind's epoch timed there (CIFAR grids 5.0 h of it); target 8 h")
    targets, grids = (s.value for s in view.shown)
    row = targets.set_index("item").loc["cpu profile, regenerated from scratch (today's code)"]
    assert row["met"] == "no"
    assert row["measured"].startswith("9.0 h on AMD EPYC, each kind's epoch timed there (MNIST and LIBSVM 4.0 h, "
                                      "CIFAR 5.0 h; 2 runs of kinds not timed at their 'alone' figure); as stored")
    assert grids["here_hours"].tolist() == [4.0, 5.0]


FLOOR = {"created": "2026-12-05T06:40:00Z", "environment": {"device": "cpu", "cpu_model": "AMD EPYC"},
         "floor_hours": 9.5, "floor_cifar_hours": 6.0, "floor_other_hours": 3.5,
         "grids": [{"grid": "vc_bound_cifar", "floor_hours": 6.0}, {"grid": "comparison", "floor_hours": 3.5}],
         "kinds": [{"kind": "a", "runs": 2, "precision": "fp32", "floor_hours": 0.5},
                   {"kind": "b", "runs": 3, "precision": "bf16", "floor_hours": 6.0, "epoch_s": 40.0,
                    "kernel_share": 0.6, "achieved_gflops": 230.0},
                   {"kind": "c", "runs": 4, "precision": "fp32", "floor_hours": 2.0},
                   {"kind": "d", "runs": 5, "precision": "fp32", "floor_hours": 1.0}]}


def test_the_floor_of_the_regeneration_is_shown_per_grid_and_per_kind_and_in_the_target_row(bench_dir, tmp_path,
                                                                                             capsys):
    """`bench/floor.py`'s file: each grid's floor joins its row by name (not by position), the kinds
    are ordered by floor with the rest summed (0.5 + 1.0 h over 7 runs), and a floor above the target
    says so in the target's row; 7.5 h today is then still judged on its own figure."""
    (bench_dir / "regeneration.json").write_text(json.dumps(REGENERATION))
    (bench_dir / "floor.json").write_text(json.dumps(FLOOR))
    view = shown_targets_and_regeneration(bench_dir, tmp_path)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "floor: 9.5 h with every matrix kernel alone and all other work free (MNIST and LIBSVM 3.5 h, CIFAR 6.0 h), "
        "above the target of 8 h; AMD EPYC, 2026-12-05")
    targets, grids, kinds = (s.value for s in view.shown)
    assert grids[["grid", "floor_hours"]].values.tolist() == [["comparison", 3.5], ["vc_bound_cifar", 6.0]]
    assert kinds["kind"].tolist() == ["b", "c", "d", "a"]  # fewer kinds than shown: no summed row
    assert kinds.loc[0, "kernel_share"] == 0.6 and np.isnan(kinds.loc[1, "kernel_share"])
    top = view_module.floor_frame(FLOOR, shown=2)
    assert top["kind"].tolist() == ["b", "c", "the other 2 kinds"]
    assert top["floor_hours"].tolist() == [6.0, 2.0, 1.5] and top["runs"].tolist() == [3, 4, 7]
    row = targets.set_index("item").loc["cpu profile, regenerated from scratch (today's code)"]
    assert row["met"] == "yes"  # 7.5 h as judged (no one-machine pricing in this file) <= 8 h
    assert ("; floor 9.5 h on AMD EPYC with every matrix kernel alone and all other work free (CIFAR 6.0 h), "
            "above the 8 h target: out of reach on this CPU") in row["measured"]


def test_a_floor_under_the_target_decides_nothing_and_says_no_more():
    below = {**FLOOR, "floor_hours": 7.0}
    from regprune import speed_targets

    assert speed_targets._floor_text(below, 8.0) == ("; floor 7.0 h on AMD EPYC with every matrix kernel alone and "
                                                     "all other work free (CIFAR 6.0 h)")
    assert speed_targets._floor_text(None, 8.0) == ""
    assert view_module.floor_line(below, 8.0).split(", ")[2] == "at or below the target of 8 h; AMD EPYC"
