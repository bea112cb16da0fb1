"""Faults and abuse: kills at exact points, truncated and tampered records and checkpoints, a
malicious checkpoint, two sweeps on one store, and a table of bad inputs. Everything writes under tmp_path."""

import json
import os
import pickle
import re
import socket
import subprocess
import sys
import threading
import time
import zipfile

import pytest
import torch

from regprune import book, chapters, cli, data, lock, results, runner, train

from conftest import REPO, fake_store, smoke_config
from test_sweep import without_timing

CPU = torch.device("cpu")


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(cfg, root, **kw):
    return results.run_or_load(cfg, results_dir=root, device="cpu", progress="none", **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The smoke run, uninterrupted, on one thread (as the killed subprocesses train)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield run(smoke_config(), tmp_path_factory.mktemp("reference"))
    torch.set_num_threads(threads)



# --------------------------------------------------------------------- kills at exact points

KILL = """
import os, sys
import torch
sys.path.insert(0, {tests!r})
torch.set_num_threads(1)
from conftest import smoke_config
from regprune import experiment, results, train
point, at = {point!r}, {at!r}
die = lambda: os._exit(137)  # as SIGKILL: no finally, no atexit, nothing flushed

class Kill(train.Hook):
    def after_step(self, state):
        if point == "step" and state.step == at:
            die()

real_fit, real_replace, real_save = train.fit, os.replace, results.ResultStore.save
experiment.fit = lambda *a, hooks=(), **k: real_fit(*a, hooks=[*hooks, Kill()], **k)
def replace(src, dst):  # killed between writing a temp file and renaming it
    if point == "write" and str(dst).endswith(at):
        die()
    real_replace(src, dst)
os.replace = replace
def save(self, record):  # killed just after the record landed, before its checkpoint is removed
    real_save(self, record)
    if point == "stored":
        die()
results.ResultStore.save = save
results.run_or_load(smoke_config(), results_dir={root!r}, device="cpu", progress="none")
"""

# smoke_config: 384 training examples in batches of 64 -> 6 steps an epoch, 3 epochs
KILL_POINTS = {
    "epoch 1, step 3 (no checkpoint yet)": ("step", 3),
    "epoch 2, step 8 (checkpoint of epoch 1)": ("step", 8),
    "epoch 3, step 17 (checkpoint of epoch 2)": ("step", 17),
    "writing the first checkpoint": ("write", ".pt"),
    "writing the record": ("write", ".json"),
    "after the record, before its checkpoint is removed": ("stored", None),
}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_run_killed_at_an_exact_point_resumes_to_the_uninterrupted_record(point, reference, one_thread, tmp_path):
    root = tmp_path / "store"
    script = KILL.format(tests=str(REPO / "tests"), point=KILL_POINTS[point][0], at=KILL_POINTS[point][1], root=str(root))
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(REPO / "src")},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 137, proc.stderr[-2000:]
    lines = []
    swept = runner.sweep(lambda: [smoke_config()], label="resume", results_dir=root, device="cpu", progress="none",
                         report=lines.append)
    assert not swept.failures and [without_timing(r) for r in swept.records] == [without_timing(reference)]
    key = results.run_key(smoke_config())
    # no temp file, checkpoint or lock is left: only the record
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [f"tests/smoke/{key}.json"]


# --------------------------------------------------------------------- checkpoints


class Payload:
    """Unpickling this writes a marker file: what a crafted checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('code ran')",)


def malicious_checkpoint(path, marker, fingerprint):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"fingerprint": fingerprint, "plain": Payload(marker), "model": {}}, path)


def test_the_payload_is_real(tmp_path):
    """Unpickled by plain pickle, the crafted checkpoint does run its code (so the test below means something)."""
    malicious_checkpoint(tmp_path / "evil.pt", tmp_path / "marker", "k")
    with zipfile.ZipFile(tmp_path / "evil.pt") as z:
        pickle.loads(z.read(next(n for n in z.namelist() if n.endswith("data.pkl"))))
    assert (tmp_path / "marker").read_text() == "code ran"


def test_a_malicious_checkpoint_runs_nothing_and_is_named(tmp_path, reference, one_thread):
    cfg, root, marker = smoke_config(), tmp_path / "store", tmp_path / "marker"
    ckpt = results.ResultStore(root).checkpoint_path(cfg)
    malicious_checkpoint(ckpt, marker, results.run_key(cfg))
    with pytest.raises(train.CheckpointError, match=re.escape(f"checkpoint {ckpt} cannot be read safely")):
        train.load_checkpoint(ckpt, results.run_key(cfg), CPU)
    with pytest.warns(UserWarning, match=re.escape(f"checkpoint {ckpt} cannot be read safely") + ".*moved aside"):
        record = run(cfg, root)
    assert not marker.exists()
    assert without_timing(record) == without_timing(reference)  # started over
    [aside] = ckpt.parent.glob(f"{ckpt.name}.bad-*")  # kept for a person to look at
    assert b"code ran" in aside.read_bytes()


def _cut(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(os.urandom(path.stat().st_size))


def _another_runs(path):
    cfg = {**smoke_config(), "seed": 7}
    run(cfg, path.parent / "other", stop_after_epoch=1)
    os.replace(results.ResultStore(path.parent / "other").checkpoint_path(cfg), path)


def _plain_part_edited(path):
    ckpt = torch.load(path, weights_only=True)
    ckpt["plain"] = ckpt["plain"][:-5]
    torch.save(ckpt, path)


@pytest.mark.parametrize("tamper", [_cut, _garbage, _another_runs, _plain_part_edited])
def test_a_bad_checkpoint_is_named_set_aside_and_the_run_starts_over(tamper, tmp_path, reference, one_thread):
    cfg, root = smoke_config(), tmp_path / "store"
    assert run(cfg, root, stop_after_epoch=1)["status"] == "interrupted"
    ckpt = results.ResultStore(root).checkpoint_path(cfg)
    tamper(ckpt)
    bad = ckpt.read_bytes()
    with pytest.warns(UserWarning, match=re.escape(f"checkpoint {ckpt} ") + ".*moved aside.*starts from scratch"):
        record = run(cfg, root)
    assert without_timing(record) == without_timing(reference)
    [aside] = ckpt.parent.glob(f"{ckpt.name}.bad-*")
    assert aside.read_bytes() == bad and not ckpt.exists()


def test_no_checkpoint_is_loaded_with_weights_only_false():
    needle = "weights_only=" + "False"  # spelled apart, so this file is no offender
    files = [p for pattern in ("*.py", "*.ipynb") for p in REPO.rglob(pattern)
             if not {".venv", "_build", "mutants"} & set(p.relative_to(REPO).parts)]  # mutants/: `make mutate`
    offenders = [p for p in files if needle in p.read_text()]
    assert offenders == []


# --------------------------------------------------------------------- records


def _truncated(path):
    path.write_text(path.read_text()[:40])


def _not_a_record(path):
    path.write_text("[1, 2, 3]\n")


def _other_schema(path):
    path.write_text(json.dumps({**json.loads(path.read_text()), "schema": 99}))


def _config_edited(path):  # the lr changed in place: the file's key no longer names its config
    record = json.loads(path.read_text())
    record["config"]["train"]["lr"] = 0.5
    path.write_text(json.dumps(record))


def _copied_from_another_run(path):
    other = {**json.loads(path.read_text())["config"], "seed": 3}
    path.write_text(json.dumps({"config": other, "key": results.run_key(other), "status": "completed"}))


TAMPERED = [_truncated, _not_a_record, _other_schema, _config_edited, _copied_from_another_run]


def grid():
    return chapters.configs("quickstart", "smoke", seeds=[0, 1])


@pytest.mark.parametrize("tamper", TAMPERED)
def test_a_bad_record_is_named_and_failed_while_the_sweep_goes_on(tamper, tmp_path, capsys, monkeypatch):
    bad, good = grid()
    fake_store(tmp_path, [bad, good], lambda c: 0.9)
    path = results.ResultStore(tmp_path).path(bad)
    tamper(path)
    before = snapshot(tmp_path)
    with pytest.raises(results.BadRecord, match=re.escape(str(path))):
        results.ResultStore(tmp_path).load(bad)
    with pytest.warns(UserWarning, match=re.escape(str(path))):
        assert results.stored([bad, good], tmp_path) == ([results.ResultStore(tmp_path).load(good)], [bad])
    monkeypatch.setattr(results.experiment, "execute", lambda *a, **k: pytest.fail("trained over a bad record"))
    code = cli.main(["train", "quickstart", "--profile", "smoke", "--seeds", "0", "1", "--results-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "2 runs: 1 loaded, 0 trained, 1 failed" in out and f"failed: {results.run_key(bad)} seed=0: BadRecord" in out
    assert str(path) in out and "--repair" in out and "Traceback" not in out
    assert snapshot(tmp_path) == before  # nothing stored was touched


def test_repair_moves_a_bad_record_aside_and_trains_the_run_again(tmp_path, capsys):
    bad, good = grid()
    fake_store(tmp_path, [bad, good], lambda c: 0.9)
    path = results.ResultStore(tmp_path).path(bad)
    _truncated(path)
    kept = path.read_bytes()
    with pytest.warns(UserWarning, match=re.escape(f"bad record {path} moved aside")):
        code = cli.main(["train", "quickstart", "--profile", "smoke", "--seeds", "0", "1", "--device", "cpu",
                         "--results-dir", str(tmp_path), "--repair"])
    assert code == 0 and "1 loaded, 1 trained, 0 failed" in capsys.readouterr().out
    assert results.ResultStore(tmp_path).load(bad)["status"] == "completed"
    [aside] = path.parent.glob(f"{path.name}.bad-*")
    assert aside.read_bytes() == kept


def test_records_lists_the_good_and_names_the_bad(tmp_path):
    bad, good = grid()
    fake_store(tmp_path, [bad, good], lambda c: 0.9)
    _config_edited(results.ResultStore(tmp_path).path(bad))
    with pytest.warns(UserWarning, match=re.escape(str(results.ResultStore(tmp_path).path(bad)))):
        assert [r["key"] for r in results.ResultStore(tmp_path).records()] == [results.run_key(good)]


def test_committed_records_all_verify():
    store = results.ResultStore(REPO / "results")
    found = sorted((REPO / "results").glob("*/*/*.json"))
    assert found and all(results.verify(p.read_text(), p)["key"] == p.stem for p in found)
    assert len(store.records()) == len(found)


def test_orphan_temp_files_of_dead_writers_are_cleaned_on_start(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    folder = tmp_path / "quickstart" / "smoke"
    folder.mkdir(parents=True)
    orphan, live, young = (folder / f".a.json.{pid}.tmp", folder / f".b.json.{os.getpid()}.tmp",
                           folder / f".c.json.{pid}.tmp")
    for p in (orphan, live, young):
        p.write_text("{")
    os.utime(orphan, (time.time() - 120, time.time() - 120))
    os.utime(live, (time.time() - 120, time.time() - 120))
    lines = []
    runner.sweep(lambda: [], label="empty", results_dir=tmp_path, report=lines.append)
    assert not orphan.exists() and live.exists() and young.exists()  # a young one may be mid-write on another machine
    assert any(str(orphan) in line for line in lines)


# --------------------------------------------------------------------- locks


def dead_pid():
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


def test_a_lock_is_exclusive_and_a_stale_one_is_taken_over(tmp_path):
    path = tmp_path / "run.json.lock"
    lock.acquire(path)
    with pytest.raises(lock.Busy, match=f"pid {os.getpid()}"):
        lock.acquire(path)
    lock.release(path)
    path.write_text(json.dumps({"pid": dead_pid(), "host": socket.gethostname(), "time": "then"}))
    lock.acquire(path)  # its owner is dead
    assert lock.owner(path)["pid"] == os.getpid()
    lock.release(path)
    path.write_text(json.dumps({"pid": dead_pid(), "host": "another-machine", "time": "then"}))
    with pytest.raises(lock.Busy, match="another-machine"):  # cannot tell: trusted
        lock.acquire(path)
    path.write_text("")  # cut short by a kill between create and write
    os.utime(path, (time.time() - 60, time.time() - 60))
    lock.acquire(path)
    lock.release(path)
    assert not path.exists()


def test_a_locked_run_is_waited_for_and_its_record_loaded(tmp_path, monkeypatch):
    cfg = smoke_config()
    store = results.ResultStore(tmp_path)
    monkeypatch.setattr(results.experiment, "execute", lambda *a, **k: pytest.fail("trained a locked run"))
    lock.acquire(store.lock_path(cfg))  # "another sweep", alive, trains it
    with pytest.raises(lock.Busy):
        run(cfg, tmp_path, wait=False)
    got = []
    waiter = threading.Thread(target=lambda: got.append(run(cfg, tmp_path)))
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive() and not got
    fake_store(tmp_path, [cfg], lambda c: 0.7)
    lock.release(store.lock_path(cfg))
    waiter.join(30)
    assert got == [store.load(cfg)]


def test_two_sweeps_on_one_store_train_each_run_once(tmp_path):
    cmd = [sys.executable, "-m", "regprune", "train", "quickstart", "--profile", "smoke", "--seeds", "0", "1", "2", "3",
           "--device", "cpu", "--results-dir", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "REGPRUNE_PROGRESS": "none", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    trained = [int(out.split(" loaded, ")[1].split(" trained")[0]) for out, _ in outs]
    assert sum(trained) == 4, [out for out, _ in outs]
    assert len(list(tmp_path.glob("quickstart/smoke/*.json"))) == 4 and not list(tmp_path.rglob("*.lock"))


# --------------------------------------------------------------------- bad inputs

NO_CUDA = "cuda:99" if torch.cuda.is_available() else "cuda"
GRID = ["train", "quickstart", "--profile", "smoke", "--results-dir", "{results}"]
SWEEP = ["sweep", "quickstart", "--profile", "smoke", "--results-dir", "{results}"]
RUN = ["run", "quickstart", "--profile", "smoke", "--build-dir", "{tmp}/build"]
BOOK = ["book", "--profile", "smoke", "--build-dir", "{tmp}/build"]

# (command line, environment, what the one-line error must name)
BAD_INPUTS = {
    "negative seed": (GRID + ["--seeds", "-1"], {}, "--seeds"),
    "seed over 2**32-1": (GRID + ["--seeds", "4294967296"], {}, "--seeds"),
    "seed not a number": (GRID + ["--seeds", "x"], {}, "--seeds"),
    "fractional seed": (GRID + ["--seeds", "1.5"], {}, "--seeds"),
    "no seed after --seeds": (GRID + ["--seeds"], {}, "--seeds"),
    "cuda without CUDA": (GRID + ["--device", NO_CUDA], {}, "--device"),
    "unknown device": (GRID + ["--device", "tpu"], {}, "--device"),
    "results location is a file": (GRID[:-1] + ["{file}"], {}, "--results-dir"),
    "results in memory://": (GRID[:-1] + ["memory://regprune"], {}, "--results-dir"),
    "unknown fsspec protocol": (GRID[:-1] + ["nosuch://bucket/results"], {}, "--results-dir"),
    "empty results location": (GRID[:-1] + [""], {}, "--results-dir"),
    "unwritable results location": (GRID[:-1] + ["/proc/regprune-results"], {}, "--results-dir"),
    "missing data root": (GRID + ["--data-root", "{tmp}/missing"], {}, "--data-root"),
    "data root is a file": (GRID + ["--data-root", "{file}"], {}, "--data-root"),
    "unknown profile": (["train", "quickstart", "--profile", "huge", "--results-dir", "{results}"], {}, "profile"),
    "unknown chapter": (["train", "nosuch", "--profile", "smoke", "--results-dir", "{results}"], {}, "chapter"),
    "unknown option": (GRID + ["--epochs", "3"], {}, "--epochs"),
    "unknown backend": (SWEEP + ["--backend", "slurm"], {}, "--backend"),
    "nan GPUs": (SWEEP + ["--backend", "ray", "--gpus-per-run", "nan"], {}, "--gpus-per-run"),
    "inf GPUs": (SWEEP + ["--backend", "ray", "--gpus-per-run", "inf"], {}, "--gpus-per-run"),
    "negative GPUs": (SWEEP + ["--backend", "ray", "--gpus-per-run", "-1"], {}, "--gpus-per-run"),
    "GPUs not a number": (SWEEP + ["--backend", "ray", "--gpus-per-run", "many"], {}, "--gpus-per-run"),
    "1.5 GPUs": (SWEEP + ["--backend", "ray", "--gpus-per-run", "1.5"], {}, "gpus_per_run"),
    "GPUs without Ray": (SWEEP + ["--gpus-per-run", "1"], {}, "gpus_per_run"),
    "unreachable Ray address": (SWEEP + ["--backend", "ray", "--address", "127.0.0.1:9"], {}, "address"),
    "malformed Ray address": (SWEEP + ["--backend", "ray", "--address", "not an address"], {}, "address"),
    "unreachable RAY_ADDRESS": (SWEEP + ["--backend", "ray"], {"RAY_ADDRESS": "127.0.0.1:9"}, "RAY_ADDRESS"),
    "REGPRUNE_RESULTS in memory://": (["train", "quickstart", "--profile", "smoke"], {"REGPRUNE_RESULTS": "memory://x"},
                                      "REGPRUNE_RESULTS"),
    "REGPRUNE_RESULTS is a file": (["train", "quickstart", "--profile", "smoke"], {"REGPRUNE_RESULTS": "{file}"},
                                   "REGPRUNE_RESULTS"),
    "REGPRUNE_DATA missing": (GRID, {"REGPRUNE_DATA": "{tmp}/missing"}, "REGPRUNE_DATA"),
    "REGPRUNE_PROGRESS unknown": (GRID, {"REGPRUNE_PROGRESS": "loud"}, "REGPRUNE_PROGRESS"),
    "REGPRUNE_MALLOC unknown": (GRID, {"REGPRUNE_MALLOC": "jemalloc"}, "REGPRUNE_MALLOC"),
    "REGPRUNE_CHECKPOINTS is a file": (GRID, {"REGPRUNE_CHECKPOINTS": "{file}"}, "REGPRUNE_CHECKPOINTS"),
    "-p seeds as a string": (RUN + ["-p", "seeds", '"12"'], {}, "seeds"),
    "-p seeds not a number": (RUN + ["-p", "seeds", "not-a-number"], {}, "seeds"),
    "-p seeds negative": (RUN + ["-p", "seeds", "[0, -1]"], {}, "seeds"),
    "-p seeds fractional": (RUN + ["-p", "seeds", "[1, 1.5]"], {}, "seeds"),
    "-p seeds unreadable YAML": (RUN + ["-p", "seeds", "[1,"], {}, "seeds"),
    "-p recompute maybe": (RUN + ["-p", "recompute", "maybe"], {}, "recompute"),
    "-p profile contradicts --profile": (RUN + ["-p", "profile", "cpu"], {}, "profile"),
    "-p device cuda without CUDA": (RUN + ["-p", "device", NO_CUDA], {}, "device"),
    "-p results_dir in memory://": (RUN + ["-p", "results_dir", "memory://x"], {}, "results_dir"),
    "-p data_root missing": (RUN + ["-p", "data_root", "{tmp}/missing"], {}, "data_root"),
    "-p tables_dir is a file": (RUN + ["-p", "tables_dir", "{file}"], {}, "tables_dir"),
    "-p unknown parameter": (RUN + ["-p", "epochs", "3"], {}, "epochs"),
    "-p tolerance_pp a string": (["run", "efficiency_llr", "--profile", "smoke", "--build-dir", "{tmp}/build",
                                  "-p", "tolerance_pp", '"x"'], {}, "tolerance_pp"),
    "unknown notebook": (["run", "nosuch", "--profile", "smoke", "--build-dir", "{tmp}/build"], {}, "notebook"),
    "REGPRUNE_BUILD is a file": (RUN, {"REGPRUNE_BUILD": "{file}"}, "REGPRUNE_BUILD"),
    "book -p recompute 2": (BOOK + ["-p", "recompute", "2"], {}, "recompute"),
    "book -p profile contradicts": (BOOK + ["-p", "profile", "paper"], {}, "profile"),
    "models --format xml": (["models", "--format", "xml"], {}, "--format"),
    "data check --format xml": (["data", "check", "--format", "xml"], {}, "--format"),
}


@pytest.fixture
def guarded(tmp_path, monkeypatch):
    """A store holding one record, and every way to train, load data or run a notebook made to fail the test."""
    store = tmp_path / "results"
    fake_store(store, chapters.configs("quickstart", "smoke"), lambda c: 0.9)
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("REGPRUNE_RESULTS", str(store))
    for name in ("RAY_ADDRESS", "REGPRUNE_BUILD", "REGPRUNE_CHECKPOINTS", "REGPRUNE_PROGRESS"):
        monkeypatch.delenv(name, raising=False)
    fail = lambda what: lambda *a, **k: pytest.fail(f"{what} before the input was checked")  # noqa: E731
    monkeypatch.setattr(results.experiment, "execute", fail("trained"))
    monkeypatch.setattr(data, "load", fail("loaded data"))
    monkeypatch.setattr(book, "run", fail("ran a notebook"))
    return {"tmp": str(tmp_path), "results": str(store), "file": str(tmp_path / "a-file")}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_a_bad_input_exits_2_with_one_line_naming_it_before_anything_runs(case, guarded, tmp_path, capfd, monkeypatch):
    args, env, names = BAD_INPUTS[case]
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(**guarded))
    before = snapshot(tmp_path)
    try:
        code = cli.main([a.format(**guarded) for a in args])
    except SystemExit as exit:  # argparse
        code = exit.code
    err = capfd.readouterr().err.strip()
    assert code == 2, err
    assert "\n" not in err and "Traceback" not in err and err.startswith("regprune")
    assert names in err, err
    assert snapshot(tmp_path) == before  # nothing stored changed, no folder made


def test_data_check_fails_on_a_named_data_set_that_is_missing(tmp_path, capsys):
    assert cli.main(["data", "check", "mnist", "--root", str(tmp_path)]) == 1
    assert "mnist" in capsys.readouterr().err


def test_every_notebook_parameter_has_a_type():
    import papermill

    from regprune import inputs

    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        missing = set(papermill.inspect_notebook(str(path))) - set(inputs.fields())
        assert not missing, f"{path.name}: parameters without a type in regprune.inputs: {missing}"
