import csv
import io
import subprocess
import sys

import pytest

from regprune import cli

from conftest import REPO


def run_cli(*args, capsys):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_models_csv(capsys):
    code, out, _ = run_cli("models", "--format", "csv", capsys=capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["name", "params", "macs"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["lenet300"]["params"] == "266610" and by_name["lenet300"]["macs"] == "266200"
    assert by_name["lenet5"]["params"] == "431080"
    assert round(int(by_name["resnet20"]["macs"]) / 1e6, 2) == 40.55
    assert round(int(by_name["resnet110"]["macs"]) / 1e6, 2) == 252.89


def test_models_table(capsys):
    code, out, _ = run_cli("models", capsys=capsys)
    assert code == 0 and "266,610" in out and "resnet56" in out


def test_data_check(mnist_root, capsys):
    code, out, _ = run_cli("data", "check", "--root", str(mnist_root), capsys=capsys)
    assert code == 0
    mnist = [line for line in out.splitlines() if line.startswith("mnist")]
    assert len(mnist) == 4 and all(" yes " in line and " ok " in line for line in mnist)
    assert any(line.startswith("cifar10") and " no " in line for line in out.splitlines())


@pytest.mark.parametrize(
    "args, expected",
    [
        (["run", "nosuch", "--profile", "smoke"], "quickstart"),
        (["run", "quickstart", "--profile", "fast"], "'smoke', 'cpu', 'paper'"),
        (["run", "quickstart", "--profile", "smoke", "-p", "epochs", "3"], "recompute"),
        (["book", "--profile", "huge"], "profile='huge'"),
    ],
)
def test_bad_names_exit_2_listing_the_allowed(args, expected, capsys, tmp_path):
    code, _, err = run_cli(*args, "--build-dir", str(tmp_path), capsys=capsys)
    assert code == 2
    assert "error" in err and expected in err
    assert not any(tmp_path.iterdir())  # nothing ran


def test_argparse_errors_exit_2():
    proc = subprocess.run([sys.executable, "-m", "regprune", "models", "--format", "xml"], capture_output=True, text=True)
    assert proc.returncode == 2 and "table" in proc.stderr and "csv" in proc.stderr


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "regprune", "--help"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and "models" in proc.stdout and "book" in proc.stdout


def test_train_runs_a_grid_once_then_loads_it(tmp_path, capsys):
    from regprune import chapters, results

    args = ("train", "quickstart", "--profile", "smoke", "--results-dir", str(tmp_path), "--device", "cpu")
    code, out, _ = run_cli(*args, capsys=capsys)
    assert code == 0 and "1 runs, 0 stored, 1 to train" in out and "completed" in out
    code, out, _ = run_cli(*args, capsys=capsys)
    assert code == 0 and "1 stored, 0 to train" in out
    found, missing = results.stored(chapters.configs("quickstart", "smoke"), tmp_path)
    assert len(found) == 1 and missing == []
    found, missing = results.stored(chapters.configs("quickstart", "smoke", seeds=[5]), tmp_path)
    assert found == [] and missing[0]["seed"] == 5


def test_train_rejects_unknown_chapter(capsys, tmp_path):
    code, _, err = run_cli("train", "nosuch", "--profile", "smoke", "--results-dir", str(tmp_path), capsys=capsys)
    assert code == 2 and "efficiency_llr" in err and not any(tmp_path.iterdir())
