"""The landing page's computed parts: one figure per paper from stored runs (or a line saying what it
awaits), and each profile's cost summed from the stored records. Records here are hand-made dicts
with the fields the landing page reads; the expectations are written out, not recomputed."""

import types

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from regprune import landing  # noqa: E402

FAKE = types.SimpleNamespace(
    describe=lambda c: {"model": c["model"], "method": c["method"], "lr": c["lr"], "dataset": "mnist"},
    LABELS={"lenet5": "LeNet-5", "plain": "plain", "ours": "our method"})


def record(model, method, seed, acc, lr=0.1, epochs=10, status="completed"):
    return {"status": status, "metrics": {"test_acc": acc},
            "config": {"model": model, "method": method, "lr": lr, "seed": seed, "data": {"name": "mnist"},
                       "train": {"epochs": epochs}}}


@pytest.fixture
def fake_chapter(monkeypatch):
    """A chapter grid "fake" whose stored records are what the test puts in ``stored``."""
    stored = []
    monkeypatch.setitem(landing.CHAPTER_MODULES, "fake", FAKE)
    monkeypatch.setattr(landing.chapters, "records", lambda grid, profile, **kw: list(stored) if grid == "fake" else [])
    return stored


SPEC = landing.PaperFigure("Someone et al.", "fake", "A title", lambda d: FAKE.LABELS[d["method"]])


def test_a_method_shows_its_setting_with_the_most_seeds(fake_chapter):
    fake_chapter += [record("lenet5", "plain", s, 0.99) for s in (0, 1, 2)]
    fake_chapter += [record("lenet5", "plain", 0, 0.50, lr=0.01)]  # a one-seed search run
    fake_chapter += [record("lenet5", "plain", 0, 0.98, epochs=500)]  # one run at a longer budget
    fake_chapter += [record("lenet5", "ours", s, 0.97) for s in (0, 1)]
    fake_chapter += [record("lenet5", "ours", 2, 0.10, status="failed")]
    frame = landing.run_frame(SPEC, "cpu", None)
    assert sorted(zip(frame["label"], frame["seed"])) == [("our method", 0), ("our method", 1), ("plain", 0),
                                                          ("plain", 1), ("plain", 2)]
    assert frame.loc[frame["label"] == "plain", "test_error_%"].round(6).tolist() == [1.0, 1.0, 1.0]


def test_only_keeps_the_named_values(fake_chapter):
    fake_chapter += [record("lenet5", "plain", 0, 0.99), record("lenet300", "plain", 0, 0.98)]
    spec = landing.PaperFigure("S", "fake", "t", lambda d: d["method"], only={"model": ("lenet300",)})
    assert landing.run_frame(spec, "cpu", None)["model"].tolist() == ["lenet300"]


def test_paper_figures_draw_what_is_stored_and_say_what_the_rest_awaits(fake_chapter, monkeypatch, tmp_path):
    fake_chapter += [record(m, meth, s, 0.99 - s / 100) for m in ("lenet5",) for meth in ("plain", "ours")
                     for s in (0, 1)]
    empty = landing.PaperFigure("Nobody", "flops_pruning", "Nothing yet", lambda d: d["method"],
                                awaits="its CIFAR runs")
    monkeypatch.setattr(landing, "PAPERS", (SPEC, empty))
    (tmp_path / landing.FIGURES).mkdir()
    (tmp_path / landing.FIGURES / "stale.svg").write_text("<svg/>")
    text = landing.paper_figures(tmp_path, "cpu", None)
    assert sorted(p.name for p in (tmp_path / landing.FIGURES).iterdir()) == ["fake.svg"]  # the stale one gone
    assert "<svg" in (tmp_path / landing.FIGURES / "fake.svg").read_text()
    assert "```{figure} landing/fake.svg" in text
    assert "Someone et al.: A title; dots: mean over seeds, bars: the seeds' range. Profile: cpu; data: MNIST; " \
           "seeds 0, 1." in text
    assert ("**Nobody.** No run stored in the `cpu` profile yet: its figure awaits its CIFAR runs; the "
            "{doc}`chapter <../notebooks/flops_pruning>` shows what is wired up.") in text


def test_every_paper_of_the_book_has_a_chapter_module_with_describe():
    assert len(landing.PAPERS) == 5
    for spec in landing.PAPERS:
        assert callable(spec.module.describe), spec.grid


# --- profile costs --------------------------------------------------------------------------------


def stored_run(wall, device="cpu", cores=2):
    return {"wall_time_s": wall, "env": {"device": device, "cpu_count": cores}}


@pytest.fixture
def fake_store(monkeypatch):
    """Three grids: "a" with 2 of 3 cpu runs stored (one on a GPU), "b" with none of 2, "c" its 1 run
    stored; in any other profile each grid lists one run, none stored."""
    grids = {"a": ([stored_run(3600), stored_run(1800, device="cuda:0")], 1), "b": ([], 2), "c": ([stored_run(600)], 0)}

    def configs(grid, profile, **kw):
        n = len(grids[grid][0]) + grids[grid][1] if profile == "cpu" else 1
        return [{"grid": grid, "profile": profile, "i": i} for i in range(n)]

    def stored(configs, results_dir=None):
        def record(c):
            runs = grids[c["grid"]][0]
            return runs[c["i"]] if c["profile"] == "cpu" and c["i"] < len(runs) else None

        return [record(c) for c in configs if record(c)], [c for c in configs if not record(c)]

    monkeypatch.setattr(landing.chapters.CHAPTERS, "names", lambda: list(grids))
    monkeypatch.setattr(landing.chapters, "configs", configs)
    monkeypatch.setattr(landing.results, "stored", stored)


def test_profile_costs_sum_wall_times_by_device_and_project_the_missing(fake_store):
    cpu = landing.profile_costs(None, ("cpu",)).iloc[0]
    assert (cpu["runs"], cpu["stored"], cpu["missing"]) == (6, 3, 3)
    assert (cpu["cpu_runs"], cpu["gpu_runs"], cpu["cpu_cores"]) == (1 + 1, 1, [2])
    assert cpu["cpu_hours"] == pytest.approx(1 + 600 / 3600) and cpu["gpu_hours"] == pytest.approx(0.5)
    # grid a's missing run at a's median (3600 s and 1800 s: 2700 s); grid b has nothing to project from
    assert (cpu["projected"], cpu["projected_hours"], cpu["unknown"]) == (1, pytest.approx(0.75), ["b"])
    table = landing.costs_table(landing.profile_costs(None, ("cpu",)))
    assert table.splitlines()[-1] == ("| `cpu` | 6 | 3 | 1.2 h for the 2 stored runs (2-core CPU); 1 not stored: about "
                                      "45 min more at their grids' median; 2 not stored in grids with no stored run (b): "
                                      "not measured | 30 min for the 1 stored runs |")


def test_a_profile_with_nothing_stored_is_not_measured(fake_store):
    table = landing.costs_table(landing.profile_costs(None, ("paper",)))
    assert table.splitlines()[-1] == ("| `paper` | 3 | 0 | not measured: no run stored | "
                                      "not measured: no GPU run stored |")
