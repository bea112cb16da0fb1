import pandas as pd
import pytest

from regprune import report


def test_save_table_writes_csv_under_notebook(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]})
    path = report.save_table(df, "t", "nb", tmp_path)
    assert path == tmp_path / "nb" / "t.csv"
    assert pd.read_csv(path).equals(df)


def test_show_table_captions_profile_and_data(tmp_path):
    styled = report.show_table(pd.DataFrame({"x": [1]}), "t", "nb", title="T", profile="cpu", data="mnist",
                               tables_dir=tmp_path)
    assert "profile: cpu" in styled.to_html() and "data: mnist" in styled.to_html()
    assert (tmp_path / "nb" / "t.csv").exists()


def test_seed_summary():
    df = pd.DataFrame({"m": ["a", "a", "b"], "acc": [0.9, 0.8, 0.5]})
    out = report.seed_summary(df, ["m"], ["acc"]).set_index("m")
    assert out.loc["a", "acc_mean"] == pytest.approx(0.85) and out.loc["a", "seeds"] == 2
    assert out.loc["a", "acc_std"] == pytest.approx(0.0707, abs=1e-4) and out.loc["b", "seeds"] == 1


def test_paper_numbers_carry_their_source():
    ref = report.paper_numbers(model="lenet300", method="dense baseline", metric="test_acc_%")
    assert len(ref) == 1 and ref.loc[0, "value"] == 98.36 and ref.loc[0, "table"] == "Table 1"
    both = report.beside_paper(ref, pd.Series([98.0, 99.0]), profile="cpu")
    assert both.loc[0, "ours_mean"] == 98.5 and both.loc[0, "difference"] == pytest.approx(0.14)
    assert both.loc[0, "seeds"] == 2


# The 2-standard-error rule of compare(), at and around its boundaries. Oracles by hand: a has values
# (0, 2) per group, b has (d, d + 2): both sample variances are 2, so SE = sqrt(2/2 + 2/2) = sqrt(2).
SE = 2 ** 0.5


def _pair(d, groups=("g",)):
    rows = [{"g": g, "m": "a", "x": v} for g in groups for v in (0.0, 2.0)]
    rows += [{"g": g, "m": "b", "x": v + d} for g in groups for v in (0.0, 2.0)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("d, expect, verdict", [
    (2.5 * SE, "higher", "supported"),
    (2.5 * SE, "lower", "contradicted"),
    (-2.5 * SE, "lower", "supported"),
    (-2.5 * SE, "higher", "contradicted"),
    (1.5 * SE, "higher", "not resolved"),    # above 1 SE, below 2: not resolved (a halved threshold would say supported)
    (-1.5 * SE, "higher", "not resolved"),   # never contradicted at noise level
    (2.05 * SE, "higher", "supported"),
    (1.95 * SE, "higher", "not resolved"),
])
def test_compare_at_and_around_two_standard_errors(d, expect, verdict):
    out = report.compare(_pair(d), by="m", a="a", b="b", metric="x", expect=expect, within=["g"])
    assert out.loc[0, "verdict"] == verdict
    assert out.loc[0, "difference"] == pytest.approx(d) and out.loc[0, "std_error"] == pytest.approx(SE)


def test_compare_leaves_out_a_group_missing_one_side():
    frame = pd.concat([_pair(5.0, groups=("full",)), pd.DataFrame([{"g": "half", "m": "a", "x": 1.0}])])
    out = report.compare(frame, by="m", a="a", b="b", metric="x", expect="higher", within=["g"])
    assert out["g"].tolist() == ["full"]


def test_compare_with_one_seed_resolves_nothing():
    frame = pd.DataFrame([{"m": "a", "x": 0.0}, {"m": "b", "x": 100.0}])
    assert report.compare(frame, by="m", a="a", b="b", metric="x", expect="higher").loc[0, "verdict"] == "not resolved"
