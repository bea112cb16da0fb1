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


