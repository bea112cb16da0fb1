import math

import pytest
import torch

from regprune.losses import LOSSES, LogLikelihoodRatio
from regprune.registry import ConfigError


def test_llr_loss_matches_hand_computation():
    # Two examples, three classes. Per class: -log sigmoid(L) for the true class,
    # -log(1 - sigmoid(L)) = -log sigmoid(-L) for the others; summed over classes, averaged over examples.
    outputs = torch.tensor([[2.0, -1.0, 0.0], [0.5, 0.5, -3.0]])
    targets = torch.tensor([0, 2])

    def nls(z):  # -log sigmoid(z)
        return math.log1p(math.exp(-z))

    first = nls(2.0) + nls(1.0) + nls(0.0)
    second = nls(-0.5) + nls(-0.5) + nls(-3.0)
    expected = (first + second) / 2
    assert LogLikelihoodRatio()(outputs, targets).item() == pytest.approx(expected, rel=1e-6)
    assert LogLikelihoodRatio("mean")(outputs, targets).item() == pytest.approx(expected / 3, rel=1e-6)


def test_llr_outputs_are_log_likelihood_ratios():
    # The minimizer of the per-class loss for a class seen with frequency p is L = log p / (1 - p).
    p = 0.8
    L = torch.zeros(1, 2, requires_grad=True)
    opt = torch.optim.SGD([L], lr=0.5)
    targets = torch.tensor([0] * 8 + [1] * 2)
    for _ in range(2000):
        opt.zero_grad()
        LogLikelihoodRatio()(L.expand(10, 2), targets).backward()
        opt.step()
    assert L[0, 0].item() == pytest.approx(math.log(p / (1 - p)), abs=1e-3)
    assert L[0, 1].item() == pytest.approx(math.log((1 - p) / p), abs=1e-3)


def test_llr_predicts_argmax_and_takes_soft_targets():
    loss = LOSSES.build("llr")
    out = torch.tensor([[0.1, 3.0, -2.0]])
    assert loss.predict(out).tolist() == [1]
    hard = loss(out, torch.tensor([1]))
    soft = loss(out, torch.tensor([[0.0, 1.0, 0.0]]))
    assert hard.item() == pytest.approx(soft.item())


def test_llr_rejects_bad_reduction():
    with pytest.raises(ConfigError, match="class_reduction"):
        LogLikelihoodRatio("max")
