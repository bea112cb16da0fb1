"""The book's figures: panels per row, series per axis, legends off the data, captions, output formats.

Data are tiny hand-made frames; the expectations are literal counts, not recomputed.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from regprune import figures  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def rows_and_columns(fig):
    """(rows, panels in the widest row) of a figure's axes, from their positions."""
    fig.canvas.draw()
    tops = sorted({round(ax.get_position().y1, 2) for ax in fig.axes})
    per_row = max(sum(round(ax.get_position().y1, 2) == t for ax in fig.axes) for t in tops)
    return len(tops), per_row


def readable(fig, max_per_row=2):
    assert rows_and_columns(fig)[1] <= max_per_row
    assert max(figures.series_per_axis(fig)) <= figures.MAX_SERIES
    assert figures.legends_overlapping_axes(fig) == []


def sweep_frame():
    rows = []
    for model in ("lenet300", "lenet5"):
        for output in ("softmax", "llr"):
            for reg in ("none", "wd"):
                for seed in (0, 1):
                    for k, nz in enumerate((1e5, 3e4, 1e4)):
                        rows.append({"model": model, "output": output, "regularizer": reg, "seed": seed, "k": k,
                                     "nonzero_params": nz * (1 + seed / 10), "test_error_%": 1 + k + seed / 10})
    return pd.DataFrame(rows)


def test_caption_names_profile_data_and_seeds():
    text = figures.caption("Fig. 2: softmax vs LLR", profile="cpu", data="CIFAR-10 (JPEG q75 copy)", seeds=[2, 0, 1])
    assert text == "Fig. 2: softmax vs LLR. Profile: cpu; data: CIFAR-10 (JPEG q75 copy); seeds 0, 1, 2."
    assert figures.caption("t", profile="smoke", data="MNIST", seeds=[0]).endswith("data: MNIST; seed 0.")
    assert "no seeds stored" in figures.caption("t", profile="cpu", data="d", seeds=[])


def test_tradeoff_two_models_side_by_side_four_series_legend_below():
    fig = figures.tradeoff(sweep_frame(), panel="model", hue="output", style="regularizer")
    assert len(fig.axes) == 2 and rows_and_columns(fig) == (1, 2)
    assert figures.series_per_axis(fig) == [4, 4]
    assert len(fig.legends) == 1 and [t.get_text() for t in fig.legends[0].get_texts()][0] == "softmax, none"
    readable(fig)


def test_four_panels_make_a_two_by_two_grid():
    steps = pd.DataFrame([{"dataset": d, "method": m, "step": s, "compression": 2.0 ** s, "test_acc_%": 90 - s, "seed": 0}
                          for d in ("dna", "a9a", "w8a", "mnist") for m in ("H", "H+W2", "H+W1", "H+LCA", "H+W2+LCA",
                                                                          "H+W1+LCA") for s in range(5)])
    fig = figures.threshold_sweep(steps)
    assert len(fig.axes) == 4 and rows_and_columns(fig) == (2, 2)
    assert figures.series_per_axis(fig) == [6, 6, 6, 6]
    readable(fig)


def test_five_panels_leave_no_empty_axis():
    fig, axes = figures.grid(5)
    assert len(fig.axes) == 5 and rows_and_columns(fig) == (3, 2)


def test_pareto_colours_only_the_front_whatever_the_number_of_methods():
    rng = np.random.default_rng(0)
    methods = [f"method {i}" for i in range(16)]
    points = pd.DataFrame([{"model": model, "method": m, "nonzero_weights": float(rng.integers(1e4, 1e6)),
                            "test_error_%": float(rng.uniform(1, 5)), "test_error_%_std": 0.1}
                           for model in ("lenet300", "lenet5") for m in methods for _ in range(3)])
    fig = figures.pareto(points, x="nonzero_weights", panel="model", hue="method")
    assert len(fig.axes) == 2 and rows_and_columns(fig) == (2, 1)  # stacked: each panel at full width
    assert all(3 <= n <= figures.MAX_SERIES for n in figures.series_per_axis(fig))
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels[0] == "other methods (12)" and "Pareto front" in labels  # 4 methods on the front here
    readable(fig, max_per_row=1)


def test_percentile_bands_replace_nine_lines_by_four_bands_and_the_median():
    pct = (100, 93, 84, 69, 50, 31, 16, 7, 0)
    rows = [{"method": m, "epoch": e, **{f"p{p:g}": (p - 50) / 100 * (1 + e) for p in pct}}
            for m in ("none", "wc") for e in range(4)]
    fig = figures.percentile_bands(pd.DataFrame(rows), panel="method", percentiles=pct)
    assert len(fig.axes) == 2 and figures.series_per_axis(fig) == [5, 5]
    assert fig.axes[0].get_legend_handles_labels()[1] == ["min to max", "7th to 93rd percentile",
                                                            "16th to 84th percentile", "31st to 69th percentile",
                                                            "median"]
    readable(fig)


def test_six_tsne_maps_three_per_row():
    rng = np.random.default_rng(0)
    maps = [(f"m{i}", {"coords": rng.normal(size=(40, 2)).tolist(), "labels": [j % 4 for j in range(40)]})
            for i in range(6)]
    fig = figures.tsne_maps(maps)
    assert len(fig.axes) == 6 and rows_and_columns(fig) == (2, 3)
    assert fig.get_size_inches()[0] == pytest.approx(figures.WIDTH)
    assert rows_and_columns(figures.tsne_maps(maps[:4])) == (2, 2)


def test_learning_curves_two_panels_legend_below():
    history = pd.DataFrame([{"epoch": e, "seed": s, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_acc": 0.9,
                             "val_acc": 0.8} for e in (1, 2, 3) for s in (0, 1)])
    fig = figures.learning_curves(history)
    assert len(fig.axes) == 2 and figures.series_per_axis(fig) == [2, 2]
    readable(fig)


def test_show_saves_svg_or_2x_png_and_prints_the_caption(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig = figures.learning_curves(pd.DataFrame([{"epoch": e, "train_loss": 1 / e, "val_loss": 1 / e, "train_acc": 0.9,
                                                 "val_acc": 0.8} for e in (1, 2)]))
    width_px = fig.get_size_inches()[0] * figures.DPI
    path = figures.show(fig, "the caption. Profile: cpu", name="curves", notebook="nb", figures_dir=tmp_path)
    assert path == tmp_path / "nb" / "curves.png" and path.read_bytes()[:4] == b"\x89PNG"
    image, caption = shown
    assert image.width == width_px and image.height is None  # layout width, aspect kept; twice the pixels
    assert int.from_bytes(path.read_bytes()[16:20], "big") >= 1.8 * image.width
    assert caption.data == "*the caption. Profile: cpu*"
    assert not plt.get_fignums()  # closed: the notebook shows it once

    shown.clear()
    fig = figures.learning_curves(pd.DataFrame([{"epoch": e, "train_loss": 1 / e, "val_loss": 1 / e, "train_acc": 0.9,
                                                 "val_acc": 0.8} for e in (1, 2)]))
    path = figures.show(fig, "c", name="curves", notebook="nb", vector=True, figures_dir=tmp_path)
    assert path.suffix == ".svg" and "<svg" in path.read_text()


def test_a_legend_inside_the_data_area_is_caught():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.legend(loc="center")
    assert figures.legends_overlapping_axes(fig) != []


def test_flops_figures_five_methods_in_three_rows_of_two_with_the_control_in_each():
    methods = ["mixup", "cutout", "pruning", "mixup & pruning", "cutout & pruning"]
    table1 = pd.DataFrame([{"model": f"resnet{d}", "method": m, "mflops": 40.0 * (i + 1), "test_acc_%": 91 + i / 2}
                           for m in ["control"] + methods for i, d in enumerate((20, 32, 44, 56, 110))])
    fig = figures.accuracy_against_flops(table1, None, methods=methods)
    assert len(fig.axes) == 5 and rows_and_columns(fig) == (3, 2)
    assert figures.series_per_axis(fig) == [2, 2, 2, 2, 2]
    assert [ax.get_title() for ax in fig.axes] == methods
    assert [ax.get_ylabel() for ax in fig.axes] == ["test accuracy (%)", "", "test accuracy (%)", "", "test accuracy (%)"]
    readable(fig)


def test_quantization_depths_side_by_side_in_depth_order():
    frame = pd.DataFrame([{"model": m, "method": meth, "total_bits": b, "seed": s, "margin": 0.1 * b}
                          for m in ("fnn2", "fnn1", "fnn3") for meth in ("H", "H+W2") for b in (4, 8, 16)
                          for s in (0, 1)])
    fig = figures.metric_by_bits(frame, metric="margin", ylabel="margin", logy=True)
    assert rows_and_columns(fig) == (1, 3) and [ax.get_title() for ax in fig.axes] == ["fnn1", "fnn2", "fnn3"]
    assert figures.series_per_axis(fig) == [2, 2, 2]
    readable(fig, max_per_row=3)


def test_a_series_keeps_its_colour_in_every_panel():
    frame = pd.DataFrame([{"panel": p, "line": line, "seed": 0, "w": w, "density": 1.0 + w}
                          for p, lines in (("left", ("a", "b")), ("right", ("b", "c"))) for line in lines
                          for w in (0.0, 0.5, 1.0)])
    fig = figures.distributions(frame, panel="panel", hue="line")
    colour = {ax.get_title(): {l.get_label(): l.get_color() for l in ax.get_lines()} for ax in fig.axes}
    assert colour["left"]["b"] == colour["right"]["b"] and colour["left"]["a"] != colour["right"]["c"]
    assert len(fig.legends) == 1 and [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b", "c"]


def test_series_colours_leave_grey_to_context():
    colours = [tuple(round(c, 3) for c in v["color"]) for v in figures.series_styles(range(8)).values()]
    assert len(set(colours)) == figures.MAX_SERIES == 8
    assert all(not (abs(r - g) < 0.02 and abs(g - b) < 0.02) for r, g, b in colours)  # none of them grey


def test_captions_name_data_sets_by_their_label_or_their_own_name():
    assert figures.dataset_label("cifar10-jpeg") == "CIFAR-10 (JPEG q75 copy)"
    assert figures.dataset_label("synthetic") == "synthetic"  # the smoke grids' data: no registered label


def test_tsne_maps_name_the_classes_in_one_legend_below():
    rng = np.random.default_rng(0)
    maps = [(f"m{i}", {"coords": rng.normal(size=(40, 2)).tolist(), "labels": [j % 4 for j in range(40)]})
            for i in range(3)]
    fig = figures.tsne_maps(maps)
    assert len(fig.legends) == 1 and [t.get_text() for t in fig.legends[0].get_texts()] == ["0", "1", "2", "3"]
    assert fig.legends[0].get_title().get_text() == "class"
    named = figures.tsne_maps(maps, classes=["airplane", "automobile", "bird", "cat", "deer"])
    assert [t.get_text() for t in named.legends[0].get_texts()] == ["airplane", "automobile", "bird", "cat"]
    readable(fig, max_per_row=3)


def test_off_scale_cuts_a_far_cluster_off_the_front_only():
    bulk = [1e4, 2e4, 5e4, 1e5, 2e5, 2.6e5]
    assert figures.off_scale(bulk + [3e8, 3.5e8], keep=[1e4, 5e4]) == 2.6e5
    assert figures.off_scale(bulk + [3e8], keep=[1e4, 3e8]) is None  # a front point out there: keep it
    assert figures.off_scale(bulk, keep=[1e4]) is None  # no gap of a decade
    assert figures.off_scale([1e4, 1e8, 2e8, 3e8], keep=[1e4]) is None  # most points beyond: not a stray cluster


def test_pareto_does_not_stretch_its_axis_for_a_far_cluster():
    methods = ["a", "b", "c"]
    rows = [{"model": "lenet5", "method": m, "macs": x * (1 + i / 10), "test_error_%": 3 - i / 2 - x / 1e6,
             "test_error_%_std": 0.1} for i, m in enumerate(methods) for x in (2e4, 5e4, 1e5, 2e5)]
    rows += [{"model": "lenet5", "method": "switcher", "macs": x, "test_error_%": 4.0, "test_error_%_std": 0.1}
             for x in (3e8, 5e8)]
    fig = figures.pareto(pd.DataFrame(rows), x="macs", panel="model", hue="method")
    ax = fig.axes[0]
    assert ax.get_xlim()[1] < 1e6  # not stretched to 5e8
    labels = ax.get_legend_handles_labels()[1]
    assert "off the axis (2, at 300M–500M)" in labels
    assert not any(label.startswith("other methods") for label in labels)  # all of them on the front or off the axis
    readable(fig, max_per_row=1)


def test_errors_by_method_one_row_per_method_one_series_per_model():
    frame = pd.DataFrame([{"method": m, "model": d, "seed": s, "test_error_%": 1 + i + s / 10}
                          for i, m in enumerate(("plain", "ours", "theirs")) for d in ("lenet300", "lenet5")
                          for s in (0, 1, 2)])
    fig = figures.errors_by_method(frame, labels={"lenet5": "LeNet-5", "ours": "our method"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["plain", "our method", "theirs"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["lenet300", "LeNet-5"]
    assert fig.get_size_inches()[0] == figures.NARROW and fig.axes[0].get_xscale() == "linear"  # 1 to 3.2: linear
    readable(fig, max_per_row=1)


def test_class_names_for_the_t_sne_legend():
    assert figures.class_names("cifar10-jpeg")[:2] == ("airplane", "automobile")
    assert figures.class_names("cifar10") == figures.class_names("cifar10-jpeg")
    assert figures.class_names("mnist") is None  # the digit is the name
