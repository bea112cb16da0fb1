"""The results store without training: keys, layout, what a record must be to load, repair,
orphans, and the frames the chapters read. Oracles: the key by its definition (sha256 of the
canonical JSON, worked out here with hashlib), hand-written records and file names. Written for
what `make mutate` found the older tests let through."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re

import pytest

from regprune import results

from conftest import skip_under_mutmut, smoke_config

CFG = {"chapter": "ch", "profile": "smoke", "seed": 0, "b": [1, 2], "a": {"y": 1.5, "x": None}}


def key_by_hand(config):
    text = '{"a":{"x":null,"y":1.5},"b":[1,2],"chapter":"ch","profile":"smoke","seed":0}'
    assert config == CFG
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_key_is_sha256_of_the_canonical_json():
    assert results.canonical(CFG) == '{"a":{"x":null,"y":1.5},"b":[1,2],"chapter":"ch","profile":"smoke","seed":0}'
    assert results.run_key(CFG) == key_by_hand(CFG)


def record(config=CFG, **extra):
    return {"config": config, "key": results.run_key(config), "status": "completed", "metrics": {"test_acc": 0.5},
            **extra}


def test_layout_of_records_checkpoints_and_locks(tmp_path):
    store = results.ResultStore(tmp_path)
    key = key_by_hand(CFG)
    assert store.path(CFG) == tmp_path / "ch" / "smoke" / f"{key}.json"
    assert store.checkpoint_path(CFG) == tmp_path / ".checkpoints" / "ch" / "smoke" / f"{key}.pt"
    assert store.lock_path(CFG) == tmp_path / "ch" / "smoke" / f"{key}.json.lock"
    saved = store.save(record())
    assert saved == store.path(CFG)
    assert saved.read_text() == json.dumps(record(), indent=1, sort_keys=True) + "\n"
    assert store.load(CFG) == record() and store.load({**CFG, "seed": 1}) is None


@pytest.mark.parametrize("text, problem", [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "is not a run record (no config)"),
    ('{"config": 3}', "is not a run record (no config)"),
    (json.dumps({"config": CFG, "schema": 2}), "has schema 2; this regprune reads schema 1"),
    (json.dumps({"config": {**CFG, "seed": 1}}), "holds the config of run"),
    (json.dumps({"config": CFG, "key": "0123456789abcdef"}), "(key field '0123456789abcdef')"),
])
def test_a_record_that_is_not_what_its_name_says_is_refused(text, problem, tmp_path):
    path = tmp_path / "ch" / "smoke" / f"{key_by_hand(CFG)}.json"
    with pytest.raises(results.BadRecord) as err:
        results.verify(text, path)
    assert str(err.value).startswith(f"record {path} ") and problem in str(err.value)
    if "run record" in problem or "schema" in problem:  # the whole problem, word for word
        assert str(err.value).startswith(f"record {path} {problem}; ")
    assert str(err.value).endswith("run with --repair (repair=True) to move it aside and train again")
    assert err.value.path == path


def test_a_record_without_key_or_schema_fields_is_fine():
    good = results.verify(json.dumps({"config": CFG}), f"memory://x/{key_by_hand(CFG)}.json")
    assert good == {"config": CFG}
    assert results.verify(json.dumps({"config": CFG, "schema": 1, "key": key_by_hand(CFG)}),
                          f"{key_by_hand(CFG)}.json")["schema"] == 1


def test_a_bad_record_raises_or_with_repair_is_moved_aside(tmp_path):
    store = results.ResultStore(tmp_path)
    path = store.save(record())
    path.write_text("{truncated")
    with pytest.raises(results.BadRecord, match="truncated|not valid JSON"):
        store.load(CFG)
    assert path.exists()
    with pytest.warns(UserWarning, match="moved aside to"):
        assert results.ResultStore(tmp_path, repair=True).load(CFG) is None
    [aside] = path.parent.glob(f"{path.name}.bad-*")
    assert not path.exists() and aside.read_text() == "{truncated"


def test_records_filter_by_chapter_and_profile_in_key_order_and_skip_bad_ones(tmp_path):
    store = results.ResultStore(tmp_path)
    configs = [{**CFG, "seed": s} for s in range(4)] + [{**CFG, "profile": "cpu"}, {**CFG, "chapter": "other"}]
    for c in configs:
        store.save(record(c))
    bad = store.path(configs[0])
    bad.write_text("{")
    with pytest.warns(UserWarning, match=f"record {bad} is not valid JSON"):
        found = store.records("ch", "smoke")
    assert [r["config"]["seed"] for r in found] == [c["seed"] for c in sorted(configs[1:4], key=results.run_key)]
    assert [r["config"]["profile"] for r in store.records(profile="cpu")] == ["cpu"]
    assert [r["config"]["chapter"] for r in store.records(chapter="other")] == ["other"]
    with pytest.warns(UserWarning):
        assert len(store.records()) == 5


def test_stored_splits_found_from_missing_and_counts_a_bad_one_missing(tmp_path):
    a, b, c = (smoke_config(lr=lr) for lr in (0.01, 0.02, 0.03))
    store = results.ResultStore(tmp_path)
    for cfg in (a, b):
        store.save(record(cfg))
    store.path(b).write_text("{")
    with pytest.warns(UserWarning, match="not valid JSON"):
        found, missing = results.stored([a, b, c], tmp_path)
    assert found == [record(a)] and missing == [b, c]


def test_clean_orphans_removes_checkpoints_of_stored_runs_only(tmp_path):
    store = results.ResultStore(tmp_path)
    done, running = CFG, {**CFG, "seed": 1}
    store.save(record(done))
    for cfg in (done, running):
        store.checkpoint_path(cfg).parent.mkdir(parents=True, exist_ok=True)
        store.checkpoint_path(cfg).write_bytes(b"ckpt")
    removed = store.clean_orphans()
    assert store.checkpoint_path(done) in removed and not store.checkpoint_path(done).exists()
    assert store.checkpoint_path(running).exists() and store.path(done).exists()


def test_clean_orphans_of_one_run_removes_its_temp_files_at_once(tmp_path):
    store = results.ResultStore(tmp_path)
    path = store.path(CFG)
    path.parent.mkdir(parents=True)
    dead = 2**22 + 12345  # beyond pid_max on Linux: no such process
    mine = path.parent / f".{path.name}.{dead}.abcd1234.tmp"
    other = path.parent / f".{results.run_key({**CFG, 'seed': 1})}.json.{dead}.abcd1234.tmp"
    mine.write_text("half"), other.write_text("half")
    assert store.clean_orphans(CFG) == [mine]
    assert not mine.exists() and other.exists()  # another run's, and too young to be an orphan
    os.utime(other, (0, 0))
    assert other in store.clean_orphans()


def test_frames_flatten_configs_counts_and_histories():
    r = {**record(CFG), "seed": 3, "chapter": "ch", "profile": "smoke", "wall_time_s": 2.0,
         "counts": {"macs": {"nonzero": 7}}, "history": [{"epoch": 1, "val_acc": 0.1}, {"epoch": 2, "val_acc": 0.2}]}
    row = results.to_frame([r]).iloc[0].to_dict()
    assert row["config.a.y"] == 1.5 and row["config.b"] == "[1, 2]" and row["counts.macs.nonzero"] == 7
    assert row["test_acc"] == 0.5 and row["seed"] == 3 and row["wall_time_s"] == 2.0 and row["key"] == r["key"]
    hist = results.history_frame([r])
    assert list(hist["epoch"]) == [1, 2] and list(hist["seed"]) == [3, 3] and list(hist["config.a.y"]) == [1.5, 1.5]
    assert list(results.history_frame([{k: v for k, v in r.items() if k != "seed"}])["seed"]) == [0, 0]
    assert row["chapter"] == "ch" and row["profile"] == "smoke" and row["status"] == r["status"]
    assert list(hist["key"]) == [r["key"], r["key"]]
    bare = {k: v for k, v in r.items() if k not in ("metrics", "counts")}  # a record without them still has a row
    assert sorted(results.to_frame([bare]).columns) == sorted(
        ["key", "chapter", "profile", "seed", "status", "wall_time_s", "config.a.x", "config.a.y", "config.b",
         "config.chapter", "config.profile", "config.seed"])


def test_a_bad_record_in_a_url_store_is_moved_aside_with_the_time_in_its_name(tmp_path, monkeypatch, utc_plus_0530):
    monkeypatch.setenv("REGPRUNE_CHECKPOINTS", str(tmp_path / "checkpoints"))
    root = f"memory://regprune-aside-{tmp_path.name}"
    store = results.ResultStore(root, repair=True)
    path = store.save(record())
    store._fs.pipe_file(store._location(path), b"{truncated")
    moved = rf"^bad record {re.escape(path)} moved aside to {re.escape(path)}\.bad-\d{{8}}T\d{{6}}Z$"
    with pytest.warns(UserWarning, match=moved) as seen:  # in UTC+05:30: the name says Z, so it must be UTC
        assert store.load(CFG) is None
    stamp = datetime.datetime.strptime(str(seen[0].message)[-16:], "%Y%m%dT%H%M%SZ")
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs((now - stamp).total_seconds()) < 120
    [aside] = store._fs.glob(store._location(path) + ".bad-*")
    assert re.fullmatch(r".*\.json\.bad-\d{8}T\d{6}Z", aside) and store._fs.cat_file(aside) == b"{truncated"
    assert not store._fs.exists(store._location(path))


def test_a_url_store_takes_a_second_record_into_an_existing_folder():
    store = results.ResultStore(f"memory://regprune-two-{os.getpid()}")
    for seed in (0, 1):
        store.save(record({**CFG, "seed": seed}))
    assert sorted(r["config"]["seed"] for r in store.records()) == [0, 1]


def test_warnings_about_bad_records_point_at_the_callers_line(tmp_path):
    """A reader's traceback names the line of their own code that loaded the records (the warning's
    ``stacklevel``), not a line inside the store; for a local and a URL store."""
    skip_under_mutmut()
    store = results.ResultStore(tmp_path, repair=True)
    store.save(record()).write_text("{")
    run = smoke_config()  # stored() validates what it is given as a run config
    store.save(record(run)).write_text("{")
    url_store = results.ResultStore(f"memory://regprune-lines-{tmp_path.name}", repair=True)
    url_path = url_store.save(record())
    url_store._fs.pipe_file(url_store._location(url_path), b"{")
    calls = [
        lambda: results.ResultStore(tmp_path).records(),
        lambda: results.stored([run], tmp_path),
        lambda: store.load(CFG),  # repair: moved aside
        lambda: url_store.load(CFG),
    ]
    for call in calls:
        with pytest.warns(UserWarning) as seen:
            call()
        assert {(w.filename, w.lineno) for w in seen} == {(__file__, call.__code__.co_firstlineno)}


def test_a_url_store_keeps_its_records_where_its_url_says(tmp_path):
    """Another tool reading the bucket finds each record at <url>/<chapter>/<profile>/<key>.json
    (a trailing slash on the URL changes nothing)."""
    import fsspec

    name = f"regprune-where-{tmp_path.name}X"
    store = results.ResultStore(f"memory://{name}/")
    store.save(record())
    memory = fsspec.filesystem("memory")
    assert memory.find(f"/{name}") == [f"/{name}/ch/smoke/{key_by_hand(CFG)}.json"]
    assert store.records() == [record()]


def fake_run(config, **kwargs):
    """What experiment.execute returns, without training."""
    return {"status": "completed", "device": "cpu", "metrics": {"test_acc": 0.5}, "history": []}


def no_training(*args, **kwargs):
    pytest.fail("trained a run that is stored")


def test_obtain_loads_a_stored_run_and_says_it_did_not_train_it(tmp_path, monkeypatch):
    run = smoke_config()
    results.ResultStore(tmp_path).save(record(run))
    monkeypatch.setattr(results.experiment, "execute", no_training)
    assert results.obtain(run, results_dir=tmp_path) == (record(run), False)


def test_obtain_raises_on_a_bad_record_unless_asked_to_repair(tmp_path, monkeypatch):
    run = smoke_config()
    results.ResultStore(tmp_path).save(record(run)).write_text("{")
    monkeypatch.setattr(results.experiment, "execute", no_training)
    with pytest.raises(results.BadRecord):
        results.obtain(run, results_dir=tmp_path)


def test_obtain_waits_for_the_lock_and_then_loads_what_the_other_process_stored(tmp_path, monkeypatch):
    """Two sweeps on one run: the second finds no record, waits for the first's lock (by default),
    and then loads the record the first stored instead of training it again."""
    import contextlib

    run = smoke_config()
    store = results.ResultStore(tmp_path)
    waited = []

    @contextlib.contextmanager
    def held(path, wait):
        waited.append((path, wait))
        store.save(record(run))  # the other sweep finishes while this one waits
        yield

    monkeypatch.setattr(results.lock, "held", held)
    monkeypatch.setattr(results.experiment, "execute", no_training)
    assert results.obtain(run, results_dir=tmp_path) == (record(run), False)
    assert waited == [(store.lock_path(run), True)]


def test_a_trained_record_says_its_seed_and_when_it_finished_in_utc(tmp_path, monkeypatch, utc_plus_0530):
    """A config without a seed runs seed 0 (the engine's default) and says so; ``finished_at`` is
    UTC whatever the machine's time zone."""
    monkeypatch.setattr(results.experiment, "execute", fake_run)
    run = {k: v for k, v in smoke_config().items() if k != "seed"}
    rec, trained = results.obtain(run, results_dir=tmp_path)
    assert trained and rec["seed"] == 0 and rec["status"] == "completed"
    finished = datetime.datetime.strptime(rec["finished_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - finished).total_seconds()) < 120
