"""Sweep frames and comparisons on hand-made records (no training)."""

import pandas as pd
import pytest

from regprune import report, sweeps


def record(key, output, seed, dense_val, sweep_rows, hist_counts=(1, 2, 1)):
    return {
        "key": key, "status": "completed",
        "config": {"output": output, "seed": seed},
        "metrics": {"val_acc": 1 - dense_val, "test_acc": 1 - dense_val},
        "counts": {"params": 1000},
        "history": [{"epoch": 1, "train_acc": 0.99, "test_acc": 0.97}],
        "extras": {
            "pruning": {"dense": {"params": 1000, "nonzero_params": 1000,
                                  "val_acc": 1 - dense_val, "test_acc": 1 - dense_val},
                        "sweep": [{"k": k, "theta_conv": 0.5 + 0.1 * k, "theta_fc": 1.0, "nonzero_params": n,
                                   "compression": 1000 / n, "val_acc": 1 - v, "test_acc": 1 - v - 0.001}
                                  for k, (n, v) in enumerate(sweep_rows)]},
            "weight_histogram": {"edges": [-1.5, -0.5, 0.5, 1.5],
                                 "layers": {"a": {"counts": list(hist_counts), "below": 0, "above": 0, "std": 1.0}}},
        },
    }


def coords(config):
    return {"output": config["output"], "seed": config["seed"]}


RECORDS = [
    record("r1", "softmax", 0, 0.02, [(500, 0.02), (300, 0.025), (100, 0.10)]),
    record("r2", "llr", 0, 0.02, [(400, 0.02), (200, 0.021), (90, 0.05)]),
    {"key": "bad", "status": "diverged", "config": {"output": "llr", "seed": 1}, "history": []},
]


def test_frames_skip_unfinished_runs_and_carry_the_dense_point():
    dense = sweeps.dense_frame(RECORDS, coords)
    assert list(dense["key"]) == ["r1", "r2"]
    assert dense.loc[0, "gap_pp"] == pytest.approx(2.0)  # 3% final test error - 1% training error
    sweep = sweeps.sweep_frame(RECORDS, coords)
    assert len(sweep) == 8 and set(sweep["k"]) == {-1, 0, 1, 2}
    assert sweep.loc[sweep["k"] == -1, "nonzero_params"].tolist() == [1000, 1000]


def test_settings_and_operating_point_use_validation():
    sweep = sweeps.sweep_frame(RECORDS, coords)
    assert sweeps.at_setting(sweep, "largest")["nonzero_params"].tolist() == [100, 90]
    assert sweeps.at_setting(sweep, "median")["k"].tolist() == [1, 1]
    assert sweeps.nearest_size(sweep, 250)["nonzero_params"].tolist() == [300, 200]
    op = sweeps.operating_point(sweep, tolerance_pp=0.2).set_index("key")
    assert op.loc["r1", "nonzero_params"] == 500 and op.loc["r2", "nonzero_params"] == 200


def test_histogram_frame_is_a_density():
    hist = sweeps.histogram_frame(RECORDS, coords)
    one = hist[hist["key"] == "r1"]
    assert one["w"].tolist() == [-1.0, 0.0, 1.0]
    assert (one["density"] * 1.0).sum() == pytest.approx(1.0)


def test_side_by_side_puts_paper_rows_above_ours():
    ref = pd.DataFrame({"paper": "000", "method": ["ref", "ref"], "table": ["Table 2", "Table 2"],
                        "metric": ["err", "params"], "value": [0.8, 36000]})
    ours = pd.DataFrame({"output": ["llr"] * 2, "err": [1.0, 1.2], "params": [100, 120]})
    out = report.side_by_side(ref, ours, by=["output"], metrics=["err", "params"], profile="cpu", labels={"llr": "LLR"})
    assert out["method"].tolist() == ["ref", "LLR"]
    assert out.loc[0, "err mean"] == 0.8 and out.loc[1, "err mean"] == pytest.approx(1.1)
    assert out.loc[1, "seeds"] == 2 and out.loc[1, "source"] == "ours (cpu)"
    assert out.loc[0, "source"] == "paper 000, Table 2"
    no_paper = report.side_by_side(ref.drop(columns="paper"), ours, by=["output"], metrics=["err"], profile="cpu")
    assert no_paper.loc[0, "source"] == "paper, Table 2"
