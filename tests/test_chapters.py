"""Chapter grids: every config of every profile validates, and the grids have the shape the chapters promise."""

import pytest

from regprune import chapters, experiment
from regprune.chapters.efficiency_llr import LABELS, describe
from regprune.registry import ConfigError


@pytest.mark.parametrize("chapter", chapters.CHAPTERS.names())
@pytest.mark.parametrize("profile", ["smoke", "cpu", "paper"])
def test_every_config_validates(chapter, profile):
    for config in chapters.configs(chapter, profile):
        experiment.validate(config)


def test_efficiency_llr_mnist_grid():
    cpu = chapters.configs("efficiency_llr", "cpu")
    cells = {(d["model"], d["output"], d["regularizer"]) for d in map(describe, cpu)}
    assert len(cpu) == 36 and len(cells) == 12 and {c["seed"] for c in cpu} == {0, 1, 2}
    assert all(c["data"]["name"] == "mnist" and c["data"]["val_split"] == 5000 for c in cpu)
    lenet5 = next(c for c in cpu if c["model"]["name"] == "lenet5")
    prune = next(h for h in lenet5["hooks"] if h["name"] == "snapshot_pruning")
    assert prune["theta_conv"] == pytest.approx([0.5 + 0.1 * k for k in range(10)]) and prune["theta_fc"] == 1.25
    assert all(c["data"]["name"].startswith("synthetic") for c in chapters.configs("efficiency_llr", "smoke"))
    assert chapters.configs("efficiency_llr", "cpu", seeds=[7])[0]["seed"] == 7


def test_efficiency_llr_cifar_grid():
    paper = chapters.configs("efficiency_llr_cifar", "paper")
    coords = [describe(c) for c in paper]
    assert {d["model"] for d in coords} == {f"resnet{d}" for d in (20, 32, 56)} | {f"densenet{d}" for d in (40, 60, 100)}
    assert {d["dataset"] for d in coords} == {"cifar10", "cifar100"} and len(paper) == 72
    prune = paper[0]["hooks"][0]
    assert prune["theta_conv"] == pytest.approx([0.5 + 0.05 * k for k in range(10)]) and prune["theta_fc"] == 0.75
    assert chapters.configs("efficiency_llr_cifar", "cpu") == []  # CIFAR waits for a GPU
    smoke = chapters.configs("efficiency_llr_cifar", "smoke")
    assert {describe(c)["dataset"] for c in smoke} == {"cifar10", "cifar100"}
    assert {describe(c)["family"] for c in smoke} == {"resnet", "densenet"}
    assert all(d["model"] in LABELS for d in coords)


def test_unknown_chapter_and_profile_are_named():
    with pytest.raises(ConfigError, match="quickstart"):
        chapters.configs("nosuch", "cpu")
    with pytest.raises(ConfigError, match="profile"):
        chapters.configs("efficiency_llr", "huge")
