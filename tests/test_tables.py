"""The book's table renderer: every expected cell below is written out by hand."""

import math

import pandas as pd
import pytest

from regprune import report, tables


@pytest.mark.parametrize("value, expected", [
    (1e-4, "1e-4"),
    (1e-8, "1e-8"),
    (-2.5e-5, "-2.5e-5"),
    (0.0, "0"),
    (98.2134, "98.21"),
    (0.5, "0.50"),
    (0.012, "0.012"),         # two significant digits kept where 2 decimals would round to 0.01
    (0.0012, "0.0012"),
    (0.01, "0.01"),
    (0.001, "0.001"),
    (2661.7, "2,662"),
    (12345678.9, "1.2e7"),
    (float("nan"), "—"),
    (None, "—"),
    (True, "yes"),
    (math.inf, "∞"),
])
def test_number(value, expected):
    assert tables.number(value) == expected


def test_number_keeps_the_asked_precision():
    assert tables.number(3.14159, precision=4) == "3.1416"


def _cells(df, **kw):
    return tables.display_frame(df, **kw).to_dict("list")


def test_seeds_and_counts_show_without_decimals():
    df = pd.DataFrame({"seed": [0.0, 1.0, 2.0], "nonzero_params": [266610.0, 1200.0, float("nan")]})
    assert _cells(df) == {"seed": ["0", "1", "2"], "nonzero_params": ["266,610", "1,200", "—"]}


def test_accuracy_fractions_show_in_percent_and_percent_columns_stay():
    df = pd.DataFrame({"test_acc": [0.9808, 0.5], "test_error_%": [1.92, 50.0]})
    assert _cells(df) == {"test_acc": ["98.08 %", "50.00 %"], "test_error_%": ["1.92", "50.00"]}


def test_mean_and_std_merge_into_one_column():
    df = pd.DataFrame({"model": ["a", "b"], "test_error_%_mean": [1.923, 2.0], "test_error_%_std": [0.1, float("nan")],
                       "val_acc mean": [0.98, float("nan")], "val_acc std": [0.001, 0.2], "seeds": [3, 1]})
    assert _cells(df) == {"model": ["a", "b"], "test_error_%": ["1.92 ± 0.10", "2.00"],
                          "val_acc": ["98.00 ± 0.10 %", "—"], "seeds": ["3", "1"]}


def test_tiny_values_in_scientific_notation():
    df = pd.DataFrame({"dataset": ["dna", "mnist"], "lr": [0.01, 0.001], "D": [1e-8, 1e-4]})
    assert _cells(df) == {"dataset": ["dna", "mnist"], "lr": ["0.01", "0.001"], "D": ["1e-8", "1e-4"]}


def test_missing_text_is_a_dash_not_nan():
    df = pd.DataFrame({"method": ["wc", None, "nan"], "paper": [float("nan"), 98.3, 97.0]})
    assert _cells(df) == {"method": ["wc", "—", "—"], "paper": ["—", "98.30", "97.00"]}


@pytest.mark.parametrize("columns, expected", [
    (["paper", "claim", "source", "ours", "verdict", "chapter"], ["paper", "claim", "verdict", "source", "ours", "chapter"]),
    (["model", "metric", "difference", "verdict"], ["model", "verdict", "metric", "difference"]),
    (["metric", "difference", "verdict"], ["verdict", "metric", "difference"]),
    (["a", "b"], ["a", "b"]),
])
def test_verdict_column_comes_early(columns, expected):
    assert tables.verdict_first(columns) == expected


def test_rendered_table_scrolls_in_its_own_box_and_explains_its_marks(tmp_path):
    df = pd.DataFrame({"claim": ["x" * 60], "ours_mean": [1.0], "ours_std": [0.5], "paper": [None],
                       "verdict": ["supported"]})
    html = report.show_table(df, "t", "nb", title="T", profile="cpu", data="mnist", tables_dir=tmp_path).to_html()
    assert 'class="regprune-table"' in html and "overflow: auto" in html and "max-width: 100%" in html
    assert "long-text" in html  # the 60-character claim wraps
    assert "± standard deviation over seeds" in html and "— not measured" in html
    assert ">1.00 ± 0.50<" in html and "nan" not in html.lower().replace("nan-", "")
    assert html.index(">verdict<") < html.index(">ours<")


def test_show_table_saves_the_raw_values(tmp_path):
    df = pd.DataFrame({"seed": [0, 1], "D": [1e-8, float("nan")], "test_acc_mean": [0.98, 0.97],
                       "test_acc_std": [0.01, 0.02], "verdict": ["supported", "not resolved"]})
    report.show_table(df, "t", "nb", title="T", profile="cpu", data="d", tables_dir=tmp_path)
    saved = pd.read_csv(tmp_path / "nb" / "t.csv")
    pd.testing.assert_frame_equal(saved, df)


def test_long_tables_keep_their_header_in_view():
    long = tables.render(pd.DataFrame({"i": range(tables.LONG_ROWS + 1)}), "c").to_html()
    short = tables.render(pd.DataFrame({"i": range(3)}), "c").to_html()
    assert "position: sticky" in long and "position: sticky" not in short


def test_columns_whose_headings_would_collide_keep_their_names():
    # vc_bound's compression_pairs: with_mean/with_std merge to "with", beside a raw column "with_"
    df = pd.DataFrame({"without_mean": [1.0], "without_std": [0.5], "without": ["x"], "with_mean": [2.0],
                       "with_std": [0.5], "with_": ["y"], "verdict": ["supported"]})
    assert list(tables.display_frame(df).columns) == ["verdict", "without_mean", "without", "with_mean", "with_"]
    html = tables.render(df, "c").to_html()
    assert ">with mean<" in html and ">with<" in html and ">2.00 ± 0.50<" in html
    assert tables.headers(["a_b", "a b", "c_d"]) == {"a_b": "a_b", "a b": "a b", "c_d": "c d"}


def test_repeated_column_names_are_all_shown():
    df = pd.DataFrame([[1, 2]], columns=["n", "n"])
    assert tables.display_frame(df).to_dict("list") == {"n": ["1"], "n (2)": ["2"]}


def test_infinite_values_read_as_infinity_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cells = _cells(pd.DataFrame({"r": [math.inf, 2.0], "s": [math.inf, 0.5]}))
    assert cells == {"r": ["∞", "2"], "s": ["∞", "0.50"]}


def test_nullable_dtypes_and_lists():
    df = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "t": ["a", pd.NA], "l": [[1, 2], [3]]})
    assert _cells(df) == {"n": ["1", "—"], "t": ["a", "—"], "l": ["[1, 2]", "[3]"]}


def test_numbers_in_a_column_that_also_holds_words_keep_the_tables_precision():
    """A column such as 'ours' where rows not run yet say so in words: its numbers read like any other
    number of the table (85.15), never as the float's repr (85.14999999999999)."""
    frame = pd.DataFrame({"model": ["a", "b", "c"], "ours_acc": [85.14999999999999, "awaits GPU run", float("nan")]})
    assert tables.display_frame(frame)["ours_acc"].tolist() == ["85.15", "awaits GPU run", tables.MISSING]


def test_a_plus_minus_in_text_is_not_read_as_a_spread_over_seeds(tmp_path):
    """A claim's reason ("outside 10.5 ± 3.5": the paper's value and tolerance) has a ± of its own:
    the caption's note on ± belongs only to tables with merged mean/std cells."""
    reason = pd.DataFrame({"claim": ["c"], "ours": [47.2], "reason": ["interval outside 10.5 ± 3.5"]})
    html = report.show_table(reason, "r", "nb", title="T", profile="cpu", data="bench", tables_dir=tmp_path).to_html()
    assert "10.5 ± 3.5" in html and "standard deviation over seeds" not in html
    both = reason.assign(acc_mean=[0.9], acc_std=[0.01])
    html = report.show_table(both, "b", "nb", title="T", profile="cpu", data="bench", tables_dir=tmp_path).to_html()
    assert "± standard deviation over seeds" in html
