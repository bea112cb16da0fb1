"""The paper profiles' CIFAR-10: torchvision's files by default (their run keys unchanged), the JPEG
q75 copy on request through REGPRUNE_PAPER_CIFAR10, and a clear exit 2 for any other value."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import REPO

CHAPTERS = ("flops_pruning", "efficiency_llr_cifar", "weight_compander_cifar", "vc_bound_cifar", "switcher_network_cifar")
LIST = """
import json, sys, tempfile
from regprune import chapters
out = {ch: [c["data"] for c in chapters.configs(ch, "paper", results_dir=tempfile.mkdtemp())] for ch in sys.argv[1:]}
print(json.dumps(out))
"""


def paper_data(choice: str | None) -> dict[str, list[dict]]:
    env = {k: v for k, v in os.environ.items() if k != "REGPRUNE_PAPER_CIFAR10"}
    if choice is not None:
        env["REGPRUNE_PAPER_CIFAR10"] = choice
    done = subprocess.run([sys.executable, "-c", LIST, *CHAPTERS], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_paper_grids_train_on_torchvisions_cifar10_unless_asked_for_the_jpeg_copy():
    default, jpeg = paper_data(None), paper_data("cifar10-jpeg")
    for chapter in CHAPTERS:
        names = [d["name"] for d in default[chapter]]
        assert "cifar10" in names, chapter
        assert [d["name"] for d in jpeg[chapter]] == ["cifar10-jpeg" if n == "cifar10" else n for n in names]
        for before, after in zip(default[chapter], jpeg[chapter]):
            if before["name"] == "cifar10":  # written out here, not taken from the package
                assert before == {"name": "cifar10", "val_split": 5000, "split_seed": 0, "download": True}
                assert after == {"name": "cifar10-jpeg", "val_split": 5000, "split_seed": 0}
            else:
                assert after == before  # CIFAR-100 and MNIST rows are untouched


def test_an_unknown_paper_cifar10_source_is_a_clear_error_before_anything_runs(tmp_path):
    env = {**os.environ, "REGPRUNE_PAPER_CIFAR10": "cifar11", "REGPRUNE_DATA": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "regprune", "train", "flops_pruning", "--profile", "paper",
                           "--results-dir", str(tmp_path / "results")], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=300)
    assert done.returncode == 2
    assert "REGPRUNE_PAPER_CIFAR10='cifar11' is not allowed; choose one of: 'cifar10', 'cifar10-jpeg'" in done.stderr
    assert not (tmp_path / "results").exists()
