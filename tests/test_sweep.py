"""`regprune sweep`: a chapter's grid on the local backend or on Ray, resumable, failures reported.

The Ray tests use a local Ray instance (2 CPUs); they are skipped only where Ray is not installed.
"""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from regprune import chapters, cli, results, runner

from conftest import REPO

SEEDS = list(range(8))
TIMING = ("wall_time_s", "finished_at")


def smoke_grid(seeds=SEEDS):
    return chapters.configs("quickstart", "smoke", seeds=seeds)


def broken(config):
    """Passes validation, raises in training: the hook looks for a layer the model lacks."""
    return {**config, "seed": 99, "hooks": [{"name": "weight_stats", "layers": ["no_such_layer"]}]}


def without_timing(record):
    """The record without what differs between two identical runs: timings, and the repository's
    commit and dirty flag (another process committing meanwhile moves them; the run is the same)."""
    out = {k: v for k, v in record.items() if k not in TIMING}
    if "env" in record:
        out["env"] = {k: v for k, v in record["env"].items() if k not in ("git_commit", "git_dirty")}
    out["history"] = [{k: v for k, v in row.items() if k != "time"} for row in record["history"]]
    out["metrics"] = {k: v for k, v in record["metrics"].items() if k != "train_time_s"}
    return out


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    """A local Ray instance. It and this process keep the checkpoints of a URL store (else under
    ~/.cache/regprune) in a temp folder; set before ``ray.init``, as Ray's workers take its environment."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install regprune[ray]); the Ray backend is untested")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGPRUNE_CHECKPOINTS", str(tmp_path_factory.mktemp("ray-checkpoints")))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield ray
        ray.shutdown()



@pytest.mark.parametrize(
    "args, expected",
    [
        (["--backend", "slurm"], "'local', 'ray'"),
        (["--backend", "ray", "--gpus-per-run", "-1"], "--gpus-per-run"),
        (["--backend", "ray", "--gpus-per-run", "1.5"], "whole number"),
        (["--gpus-per-run", "1"], "backend='ray'"),
        (["--address", "localhost:6379"], "backend='ray'"),
        (["--profile", "huge"], "'smoke', 'cpu', 'paper'"),
    ],
)
def test_bad_sweep_settings_exit_2_before_anything_runs(args, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(results.experiment, "execute", lambda *a, **k: pytest.fail("trained before checking"))
    code = cli.main(["sweep", "quickstart", "--profile", "smoke", "--results-dir", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2 and "error" in err and expected in err
    assert not any(tmp_path.iterdir())


def test_unknown_chapter_and_missing_ray_are_named(tmp_path, capsys, monkeypatch):
    code = cli.main(["sweep", "nosuch", "--profile", "smoke", "--results-dir", str(tmp_path)])
    assert code == 2 and "quickstart" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray sees
    code = cli.main(["sweep", "quickstart", "--profile", "smoke", "--results-dir", str(tmp_path), "--backend", "ray"])
    assert code == 2 and "pip install regprune[ray]" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_ray_sweep_stores_what_the_local_sweep_stores(ray_session, one_thread, tmp_path):
    """8 smoke runs on each backend; the Ray side writes to a store given as a URL."""
    local_dir, ray_url = tmp_path / "local", (tmp_path / "ray").as_uri()  # a URL: checkpoints per ray_session
    kwargs = dict(label="quickstart (smoke)", device="cpu", progress="none", report=lambda line: None)
    local = runner.sweep(smoke_grid, backend="local", results_dir=local_dir, **kwargs)
    lines = []
    remote = runner.sweep(smoke_grid, backend="ray", results_dir=ray_url, **{**kwargs, "report": lines.append})
    assert local.failures == remote.failures == []
    assert (local.tally.trained, remote.tally.trained) == (8, 8)
    assert len(results.ResultStore(local_dir).records()) == 8
    assert [without_timing(r) for r in remote.records] == [without_timing(r) for r in local.records]
    assert [without_timing(r) for r in results.ResultStore(ray_url).records()] == \
           [without_timing(r) for r in results.ResultStore(local_dir).records()]
    assert lines[0] == "quickstart (smoke): 8 runs, 0 stored, 8 to train"
    assert "8/8 done, 0 running, 0 failed, ~0s left" in lines[-2]
    again = runner.sweep(smoke_grid, backend="ray", results_dir=ray_url, **kwargs)
    assert (again.tally.loaded, again.tally.trained) == (8, 0)


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_failing_run_is_reported_and_the_others_finish(backend, request, tmp_path, capsys, monkeypatch):
    if backend == "ray":
        request.getfixturevalue("ray_session")
    good = smoke_grid(seeds=[0, 1])
    bad = broken(good[0])
    monkeypatch.setattr(chapters, "configs", lambda *a, **k: [good[0], bad, good[1]])
    code = cli.main(["sweep", "quickstart", "--profile", "smoke", "--backend", backend, "--device", "cpu",
                     "--results-dir", str(tmp_path)])
    out = capsys.readouterr().out
    key = results.run_key(bad)
    assert code == 1
    assert f"{key} seed=99 FAILED ConfigError: weight_stats.layers: unknown layer(s) ['no_such_layer']" in out
    assert f"failed: {key} seed=99: ConfigError" in out and "2 trained, 1 failed" in out
    assert "Traceback" in out and "on_fit_start" in out  # where it raised, for the one who fixes it
    found, missing = results.stored([*good, bad], tmp_path)
    assert [r["seed"] for r in found] == [0, 1] and missing == [bad]


def _kill_session(sid):
    """SIGKILL every process of a session: the sweep and the Ray processes and workers it started."""
    members = [p for p in psutil.process_iter() if _session(p) == sid]
    for p in members:
        p.kill()
    psutil.wait_procs(members, timeout=30)
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in members):
        time.sleep(0.1)


def _session(process):
    try:
        return os.getsid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None


# The sweep's driver, killed at an exact point: right after it has taken its second finished run
# from Ray, it SIGKILLs every process of its session (Ray's and the workers'), itself last.
KILL_AFTER_TWO = """
import os, signal, sys
import psutil
from regprune import cli, ray_backend

real = ray_backend.RayBackend.__call__
def call(self, configs, run_kwargs):
    for taken, outcome in enumerate(real(self, configs, run_kwargs), 1):
        yield outcome
        if taken == 2:
            sid = os.getsid(0)
            for p in psutil.process_iter():
                try:
                    if p.pid != os.getpid() and os.getsid(p.pid) == sid:
                        p.kill()
                except (psutil.Error, OSError):
                    pass
            os.kill(os.getpid(), signal.SIGKILL)
ray_backend.RayBackend.__call__ = call
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_killed_ray_sweep_restarts_with_only_the_missing_runs(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install regprune[ray]); the Ray backend is untested")
    args = ["sweep", "quickstart", "--profile", "smoke", "--seeds", *map(str, SEEDS),
            "--backend", "ray", "--address", "local", "--device", "cpu", "--results-dir", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "REGPRUNE_PROGRESS": "none"}
    stored = lambda: sorted((tmp_path / "quickstart" / "smoke").glob("*.json"))  # noqa: E731
    log = tmp_path / "killed-driver.log"  # a file, not a pipe that Ray's processes would hold open
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", KILL_AFTER_TWO, *args], env=env, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        proc.wait(timeout=600)
    finally:
        _kill_session(proc.pid)  # nothing should be left; never leave a Ray process behind a failed test
    assert proc.returncode == -signal.SIGKILL, log.read_text()[-2000:]
    cmd = [sys.executable, "-m", "regprune", *args]
    before = {p.name: p.read_bytes() for p in stored()}
    n = len(before)
    assert 2 <= n < len(SEEDS)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"8 runs, {n} stored, {8 - n} to train" in done.stdout
    assert f"{n} loaded, {8 - n} trained, 0 failed" in done.stdout
    after = {p.name: p.read_bytes() for p in stored()}
    assert len(after) == 8 and all(after[name] == text for name, text in before.items())  # untouched
