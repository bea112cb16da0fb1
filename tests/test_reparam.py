"""Weight reparameterizations: derivatives, inverse initialization, bounds, where weight decay
lands, the modified adaptive optimizer, baking, and their run-config wiring."""

import math
import shutil
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from regprune import experiment, models, parametrized, reparam, results
from regprune.data import ArrayDataset, Splits
from regprune.losses import Loss
from regprune.reparam import Compander, PowerProp, WeightNorm
from regprune.registry import ConfigError
from regprune.train import OPTIMIZERS, TrainConfig, fit, parameter_groups

from conftest import smoke_config

ELEMENTWISE = [Compander("arctan", 0.8, 0.5), Compander("arsinh", 0.7, 0.9), Compander("erf", 1.0, 0.6),
               PowerProp(2.0), PowerProp(3.0)]


def small_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def tiny_splits(n: int = 32, seed: int = 0) -> Splits:
    g = torch.Generator().manual_seed(seed)
    ds = ArrayDataset(torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g), 3)
    return Splits(ds, ds, ds, {})


class ZeroLoss(Loss):
    """A loss with zero gradient: only weight decay moves the weights."""

    def __call__(self, outputs, targets):
        return outputs.sum() * 0.0


@pytest.mark.parametrize("p", ELEMENTWISE, ids=lambda p: repr(p))
def test_autograd_gradient_matches_analytic_derivative(p):
    v = torch.linspace(-2.5, 2.5, 101, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(p(v).sum(), v)
    assert torch.allclose(grad, p.derivative(v.detach()), atol=1e-12)


def test_arctan_compander_closed_form():
    """Eq. (3) of the paper: dPsi/dv = a / (b (1 + v^2 / b^2)); Psi bounded by a*pi/2."""
    a, b = 0.8, 0.5
    v = torch.tensor([-3.0, 0.0, 0.2, 10.0], dtype=torch.float64)
    c = Compander("arctan", a, b)
    assert torch.allclose(c.derivative(v), a / (b * (1 + v**2 / b**2)))
    assert torch.allclose(c(v), a * torch.atan(v / b))
    assert c(torch.tensor(1e9, dtype=torch.float64)).item() < a * math.pi / 2


@pytest.mark.parametrize("p", ELEMENTWISE + [WeightNorm()], ids=lambda p: repr(p))
def test_inverse_initialization_reproduces_weights_and_outputs(p):
    net, plain = small_net(), small_net()
    x = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        expected = plain(x)
    reparam._register(net, lambda: p)
    for m in (net[0], net[4]):
        assert parametrize.is_parametrized(m, "weight")
    assert torch.allclose(net[0].weight, plain[0].weight, atol=1e-6)
    assert torch.allclose(net[4].weight, plain[4].weight, atol=1e-6)
    with torch.no_grad():
        assert torch.allclose(net(x), expected, atol=1e-5)
    assert not parametrize.is_parametrized(net[1])  # batch norm untouched
    assert not parametrize.is_parametrized(net[0], "bias")


def test_pole_guard_clamps_and_warns():
    c = Compander("arctan", 0.5, 1.0)  # bound 0.5 * pi / 2 = 0.785
    w = torch.tensor([0.1, -0.9, 2.0])
    with pytest.warns(UserWarning, match="2 of 3 weights"):
        v = c.right_inverse(w)
    assert torch.isfinite(v).all()
    out = c(v)
    assert out[0].item() == pytest.approx(0.1, abs=1e-6)
    assert abs(out[1].item()) < 0.5 * math.pi / 2 and out[1].item() < 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Compander("arsinh", 0.5, 1.0).right_inverse(w)  # unbounded: no pole, no warning


def test_weights_stay_bounded_through_training():
    """|w| < a*pi/2 at every epoch, even with a step size that sends plain weights far beyond it."""
    a = 0.5
    config = smoke_config(lr=2.0, epochs=3, weight_decay=0.0)
    config["reparam"] = {"name": "compander", "a": a, "b": 0.5}
    config["hooks"] = [{"name": "weight_stats"}]
    plain = {**config, "reparam": None}
    bounded = experiment.execute(config, progress="none")
    free = experiment.execute(plain, progress="none")
    bound = a * math.pi / 2
    for row in bounded["history"]:
        for key, value in row.items():
            if key.endswith((".p100", ".p0")):
                assert abs(value) < bound, (key, value)
    assert max(abs(v) for row in free["history"] for k, v in row.items() if k.endswith((".p100", ".p0"))) > bound


def _one_decay_step(spec, lam=0.1, lr=0.5):
    net = small_net()
    reparam.apply(net, spec)
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    psi_before = net[4].weight.detach().clone()
    chain = net[4].parametrizations.weight
    deriv = chain[0].derivative(chain.original.detach()) if hasattr(chain[0], "derivative") else None
    cfg = TrainConfig(epochs=1, batch_size=32, lr=lr, momentum=0.0, weight_decay=lam, select="last")
    fit(net, tiny_splits(), cfg, loss=ZeroLoss(), progress="none")
    after = dict(net.named_parameters())
    return net, before, after, psi_before, deriv


def test_weight_decay_reaches_psi_not_v_for_fixed_compander():
    lam, lr = 0.1, 0.5
    net, before, after, psi, deriv = _one_decay_step({"name": "compander", "a": 0.8, "b": 0.5}, lam, lr)
    key = "4.parametrizations.weight.original"
    step = after[key].detach() - before[key]
    assert torch.allclose(step, -lr * lam * psi * deriv, atol=1e-7)  # d/dv of lam/2 Psi(v)^2
    assert not torch.allclose(step, -lr * lam * before[key], atol=1e-5)  # not decay on v
    assert torch.allclose(after["4.bias"].detach(), before["4.bias"] * (1 - lr * lam))  # plain params as usual


def test_weight_decay_reaches_v_not_a_b_for_learnable_compander():
    lam, lr = 0.1, 0.5
    net, before, after, _, _ = _one_decay_step(
        {"name": "compander", "a": 0.5, "b": 1.0, "learnable": "fine"}, lam, lr)
    key = "4.parametrizations.weight.original"
    assert torch.allclose(after[key].detach(), before[key] * (1 - lr * lam), atol=1e-7)
    for name in ("4.parametrizations.weight.0.a", "4.parametrizations.weight.0.b"):
        assert after[name].item() == before[name].item()
    groups = parameter_groups(net, TrainConfig(weight_decay=lam))
    no_decay = {id(p) for g in groups if g["weight_decay"] == 0 for p in g["params"]}
    assert id(net[4].parametrizations.weight[0].a) in no_decay
    assert id(net[4].parametrizations.weight.original) not in no_decay


def test_learnable_a_b_are_trained_and_shared_as_asked():
    fine, coarse = small_net(), small_net()
    reparam.apply(fine, {"name": "compander", "learnable": "fine", "a": 0.5, "b": 1.0})
    reparam.apply(coarse, {"name": "compander", "learnable": "coarse", "a": 0.5, "b": 1.0})
    assert fine[0].parametrizations.weight[0].a is not fine[4].parametrizations.weight[0].a
    assert coarse[0].parametrizations.weight[0].a is coarse[4].parametrizations.weight[0].a
    n_plain = sum(p.numel() for p in small_net().parameters())
    assert sum(p.numel() for p in fine.parameters()) == n_plain + 4
    assert sum(p.numel() for p in coarse.parameters()) == n_plain + 2
    cfg = TrainConfig(epochs=2, batch_size=8, lr=0.1, select="last")
    fit(fine, tiny_splits(), cfg, progress="none")
    assert fine[4].parametrizations.weight[0].a.item() != 0.5


def test_modified_optimizer_scales_the_adaptive_step_by_derivative():
    """adam_modified: Adam's step on dL/dPsi(v), times Psi'(v); a plain Adam step on v differs."""
    torch.manual_seed(0)
    lin = nn.Linear(6, 3)
    reparam.apply(lin, {"name": "compander", "a": 0.8, "b": 0.5})
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    cfg = TrainConfig(optimizer="adam_modified", lr=0.01)
    chain = lin.parametrizations.weight
    v0 = chain.original.detach().clone()
    d0 = chain[0].derivative(v0)
    # the reference: plain Adam on a free tensor w holding Psi(v0), fed dL/dPsi(v)
    w = nn.Parameter(lin.weight.detach().clone())
    ref = torch.optim.Adam([w], lr=0.01)
    nn.functional.cross_entropy(nn.functional.linear(x, w, lin.bias.detach()), y).backward()
    ref.step()
    adam_step = w.detach() - lin.weight.detach()
    opt = OPTIMIZERS.get("adam_modified")(parameter_groups(lin, cfg), cfg, lin)
    nn.functional.cross_entropy(lin(x), y).backward()
    opt.step()
    step = chain.original.detach() - v0
    assert torch.allclose(step, adam_step * d0, atol=1e-7)
    # plain Adam on v would normalize Psi' away: its first step is lr * sign(grad) almost everywhere
    assert not torch.allclose(step, adam_step, atol=1e-4)
    assert type(opt).__name__ == "DerivativeScaledAdam"


def test_modified_optimizer_trains_through_fit():
    config = smoke_config(optimizer="adamw_modified", lr=1e-3, epochs=2)
    config["reparam"] = {"name": "compander", "a": 1.0, "b": 0.6}
    run = experiment.execute(config, progress="none")
    assert run["status"] == "completed" and run["metrics"]["test_acc"] > 0.2


@pytest.mark.parametrize("spec", [
    {"name": "compander", "a": 0.8, "b": 0.5},
    {"name": "compander", "fn": "erf", "learnable": "coarse"},
    {"name": "powerprop", "alpha": 2.0},
    {"name": "weight_norm"},
], ids=lambda s: s["name"] + s.get("fn", "") + str(s.get("learnable", "")))
def test_baking_leaves_outputs_unchanged(spec):
    model = models.build("lenet5")
    reparam.apply(model, spec)
    fit(model, tiny_splits_mnist(), TrainConfig(epochs=1, batch_size=16, lr=0.05, select="last"), progress="none")
    model.eval()
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        before = model(x)
    reparam.bake(model)
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in models.build("lenet5").parameters())
    with torch.no_grad():
        assert torch.allclose(model(x), before, atol=1e-5)


def test_baking_a_copy_leaves_the_original_parametrized():
    """torch's deep copies share one generated class; baking a copy must not strip the original
    (the pruning and quantization sweeps bake copies of a compander network, one per setting)."""
    import copy

    model = reparam.apply(models.build("lenet300"), {"name": "compander", "a": 1.0, "b": 0.5})
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        before = model(x)
        for _ in range(2):
            baked = reparam.bake(copy.deepcopy(model))
            assert torch.allclose(baked(x), before, atol=1e-5)
        assert all(parametrize.is_parametrized(m, "weight") for m in model.modules() if isinstance(m, nn.Linear))
        assert torch.equal(model(x), before)


def tiny_splits_mnist() -> Splits:
    g = torch.Generator().manual_seed(0)
    ds = ArrayDataset(torch.randn(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g), 10)
    return Splits(ds, ds, ds, {})


@pytest.mark.parametrize("spec, param", [
    ({"name": "compander", "a": 0}, "compander.a"),
    ({"name": "compander", "b": -1}, "compander.b"),
    ({"name": "compander", "fn": "tanh"}, "compander.fn"),
    ({"name": "compander", "learnable": "medium"}, "compander.learnable"),
    ({"name": "compander", "decay": "both"}, "reparam.decay"),
    ({"name": "powerprop", "alpha": 0.5}, "powerprop.alpha"),
    ({"name": "spline"}, "reparam.name"),
    ({"name": "compander", "c": 1}, "reparam 'compander'"),
])
def test_bad_specs_are_rejected_before_training(spec, param):
    config = smoke_config()
    config["reparam"] = spec
    with pytest.raises(ConfigError, match=param.replace(".", r"\.")):
        experiment.validate(config)


def test_reparam_twice_is_an_error():
    net = small_net()
    reparam.apply(net, "weight_norm")
    with pytest.raises(ConfigError, match="already has a parametrized weight"):
        reparam.apply(net, "powerprop")


def test_compander_run_resumes_and_logs_scales(tmp_path):
    """A killed learnable-compander run resumes from its checkpoint to the uninterrupted result."""
    config = smoke_config(epochs=3)
    config["reparam"] = {"name": "compander", "learnable": "fine", "a": 0.5, "b": 1.0}
    config["hooks"] = [{"name": "compander_scales"}]
    full = results.run_or_load(config, results_dir=tmp_path / "a", progress="none")
    part = results.run_or_load(config, results_dir=tmp_path / "b", progress="none", stop_after_epoch=1)
    assert part["status"] == "interrupted"
    resumed = results.run_or_load(config, results_dir=tmp_path / "b", progress="none")
    assert resumed["metrics"]["test_acc"] == full["metrics"]["test_acc"]
    assert resumed["history"][-1]["a.classifier.fc1"] == full["history"][-1]["a.classifier.fc1"]
    assert full["history"][0]["a.classifier.fc1"] != 0.5
    assert {"a.classifier.fc1", "b.classifier.fc3"} <= set(full["history"][-1])


def test_curves_are_exact():
    v, psi, dpsi = reparam.curves("arctan", 1.0, 1.0, lim=3.0, n=7)
    assert psi[3] == 0.0 and dpsi[3] == 1.0
    assert psi[-1] == pytest.approx(math.atan(3.0)) and dpsi[-1] == pytest.approx(1 / 10)


def _reference_steps(net: nn.Module, spec: dict, splits: Splits, cfg: TrainConfig, steps: int):
    """The compander trained the straightforward way, independent of ``reparam``/``parametrized``:
    ``w = a * atan(v / b)`` written out on a plain copy of the net, cross-entropy plus
    ``lam/2 * sum ||w||^2`` where the decay acts on the effective weight, autograd, and SGD with
    momentum and weight decay written out (decay on biases, BN and, when the decay is raw, ``v``;
    never on ``a, b``). One full batch per step."""
    lam, effective = cfg.weight_decay, spec.get("decay", "auto") == "effective" or not spec.get("learnable")
    plain = small_net()
    names = [n for n, m in plain.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    params = {f"{n}.v": net.get_submodule(n).parametrizations.weight.original.detach().clone() for n in names}
    for n in names:
        chain = net.get_submodule(n).parametrizations.weight[0]
        params[f"{n}.a"], params[f"{n}.b"] = (torch.as_tensor(x, dtype=torch.float32).detach().clone() for x in (chain.a, chain.b))
    params.update({k: p.detach().clone() for k, p in net.named_parameters() if "parametrizations" not in k})
    learned = [f"{n}.{s}" for n in names for s in "ab"] if spec.get("learnable") else []
    for k, p in params.items():
        p.requires_grad_(k in learned or not k.endswith((".a", ".b")))
    momentum, losses = {}, []
    x, y = splits.train.x, splits.train.y
    for _ in range(steps):
        ws = {f"{n}.weight": params[f"{n}.a"] * torch.atan(params[f"{n}.v"] / params[f"{n}.b"]) for n in names}
        others = {k: p for k, p in params.items() if not k.endswith((".v", ".a", ".b"))}
        out = torch.func.functional_call(plain, {**ws, **others}, (x,))
        ce = nn.functional.cross_entropy(out, y)
        total = ce + (0.5 * lam * sum(w.pow(2).sum() for w in ws.values()) if effective else 0.0)
        for p in params.values():
            p.grad = None
        total.backward()
        losses.append(ce.item())
        with torch.no_grad():
            for k, p in params.items():
                if p.grad is None:
                    continue
                d = p.grad + (0.0 if k.endswith((".a", ".b")) or (k.endswith(".v") and effective) else lam * p)
                momentum[k] = d if k not in momentum else momentum[k] * cfg.momentum + d
                p -= cfg.lr * momentum[k]
    return params, losses


@pytest.mark.parametrize("spec", [
    {"name": "compander", "a": 0.8, "b": 0.5},  # fixed a, b: decay on Psi(v) through the engine's penalty
    {"name": "compander", "a": 1.0, "b": 0.6},  # a = 1: the forward skips its multiply
    {"name": "compander", "a": 0.5, "b": 1.0, "learnable": "fine"},  # learned a, b: decay on v
    {"name": "compander", "a": 0.5, "b": 1.0, "learnable": "fine", "decay": "effective"},  # penalty reaches a, b
])
def test_compander_training_matches_a_written_out_reference(spec):
    """The engine's compander step (one Psi per step, cached for the decay penalty, backward
    written out) trains exactly as the straightforward computation does, step by step."""
    steps, splits = 4, tiny_splits()
    net = reparam.apply(small_net(), dict(spec))
    cfg = TrainConfig(epochs=steps, batch_size=len(splits.train), lr=0.1, momentum=0.9, weight_decay=0.05,
                      select="last", channels_last=False)
    ref, ref_losses = _reference_steps(net, spec, splits, cfg, steps)
    result = fit(net, splits, cfg, progress="none")
    assert [row["train_loss"] for row in result.history] == pytest.approx(ref_losses, rel=1e-5, abs=1e-6)
    for name, m in (("0", net[0]), ("4", net[4])):
        chain = m.parametrizations.weight
        assert torch.allclose(chain.original.detach(), ref[f"{name}.v"].detach(), rtol=1e-5, atol=1e-6)
        for s in "ab":
            assert float(torch.as_tensor(getattr(chain[0], s)).detach()) == pytest.approx(float(ref[f"{name}.{s}"].detach()), rel=1e-5)
        assert torch.allclose(m.bias.detach(), ref[f"{name}.bias"].detach(), rtol=1e-5, atol=1e-6)
    if spec.get("learnable"):
        assert float(net[4].parametrizations.weight[0].a.detach()) != spec["a"]  # the scales did train


def _grads(net: nn.Module, splits: Splits) -> tuple[torch.Tensor, torch.Tensor]:
    """dCE/dv of the last layer through the net's parametrization, and written out by hand
    (``w = 0.8 * atan(v / 0.5)`` on a plain copy, autograd): the bare chain rule, no decay."""
    net.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(net(splits.train.x), splits.train.y).backward()
    chain = net[4].parametrizations.weight
    v = chain.original.detach().clone().requires_grad_(True)
    plain = {"4.weight": 0.8 * torch.atan(v / 0.5), "0.weight": net[0].weight.detach()}
    plain.update({k: t for k, t in net.state_dict().items() if "parametrizations" not in k})
    out = torch.func.functional_call(small_net().eval(), plain, (splits.train.x,))
    nn.functional.cross_entropy(out, splits.train.y).backward()
    return chain.original.grad.clone(), v.grad


def test_folded_decay_acts_only_inside_a_training_step():
    """The compander's decay is folded into its backward during a training step only: inside the
    engine's step context the gradient gains ``lam * Psi(v) * Psi'(v)``; outside it, and after
    ``fit``, a backward gives the bare chain rule."""
    splits = tiny_splits()
    net = reparam.apply(small_net(), {"name": "compander", "a": 0.8, "b": 0.5})
    net.eval()  # batch norm in eval mode: the same function in every pass
    ours, bare = _grads(net, splits)
    assert torch.allclose(ours, bare, atol=1e-6)
    weight_decay = 0.5
    penalties, context = parametrized.effective_decay(net, weight_decay)
    assert penalties == []  # both layers fold
    net.zero_grad(set_to_none=True)
    with context():
        nn.functional.cross_entropy(net(splits.train.x), splits.train.y).backward()
    chain = net[4].parametrizations.weight
    v = chain.original.detach()
    expected = bare + weight_decay * 0.8 * torch.atan(v / 0.5) * chain[0].derivative(v)
    assert torch.allclose(chain.original.grad, expected, atol=1e-6)
    fit(net, splits, TrainConfig(epochs=1, batch_size=32, lr=0.1, weight_decay=weight_decay, select="last"),
        progress="none")
    assert all(m.parametrizations.weight[0].folded_decay == 0.0 for m in (net[0], net[4]))
    net.eval()
    ours, bare = _grads(net, splits)
    assert torch.allclose(ours, bare, atol=1e-6)
    with pytest.raises(RuntimeError, match="a step that fails"), context():  # a failing step switches it off too
        assert net[0].parametrizations.weight[0].folded_decay == weight_decay
        raise RuntimeError("a step that fails")
    assert all(m.parametrizations.weight[0].folded_decay == 0.0 for m in (net[0], net[4]))


def test_decay_is_a_penalty_where_it_cannot_be_folded():
    """Under a loss scaler (the folded term would miss the scale), behind a mask, or for a
    parametrization without ``fold_decay`` (Powerpropagation), the decay stays a loss penalty."""
    from regprune.pruning import apply_masks
    net = reparam.apply(small_net(), {"name": "compander", "a": 0.8, "b": 0.5})
    penalties, _ = parametrized.effective_decay(net, 0.1, loss_scaled=True)
    assert [len(p.layers) for p in penalties] == [2]
    apply_masks(net, {"4": torch.ones_like(net[4].weight)})
    penalties, _ = parametrized.effective_decay(net, 0.1)
    assert [p.layers for p in penalties] == [[net[4]]]  # the masked layer; layer 0 folds
    penalties, _ = parametrized.effective_decay(reparam.apply(small_net(), {"name": "powerprop"}), 0.1)
    assert [len(p.layers) for p in penalties] == [2]
    assert parametrized.effective_decay(net, 0.0)[0] == []


def test_folded_decay_trains_as_the_penalty_does_in_bf16_channels_last(monkeypatch):
    """The CIFAR runs' setting (bf16 autocast, channels_last, a = 1, b = 0.6): fit with the decay
    folded into the compander's backward and fit with it as a loss penalty (the engine's path
    under a loss scaler, forced here) end at the same weights, up to float rounding."""
    splits = tiny_splits(64)
    cfg = TrainConfig(epochs=3, batch_size=16, lr=0.1, momentum=0.9, weight_decay=0.05, select="last",
                      precision="bf16", channels_last=True)
    finals = []
    for forced in (False, True):
        if forced:
            real = parametrized.effective_decay
            monkeypatch.setattr(parametrized, "effective_decay",
                                lambda *a, **k: real(*a, **{**k, "loss_scaled": True}))
        net = reparam.apply(small_net(), {"name": "compander", "a": 1.0, "b": 0.6})
        fit(net, splits, cfg, progress="none")
        finals.append({k: p.detach().clone() for k, p in net.named_parameters()})
    folded, penalty = finals
    for k in folded:
        assert torch.allclose(folded[k], penalty[k], rtol=1e-4, atol=1e-6), k


@pytest.mark.parametrize("fn,a,b", [("arctan", 0.8, 0.5), ("arctan", 1.0, 0.6), ("arctan", 0.7, -0.4),
                                    ("arsinh", 0.7, 0.9), ("erf", 1.0, 0.6)])
@pytest.mark.parametrize("decay", [0.0, 0.3])
def test_fixed_scale_path_is_bit_identical_to_the_general_one(fn, a, b, decay):
    """Fixed floats ``a, b`` take ``_CompandFixed`` (the compander rides on ``ctx``); it must give
    exactly the output and the gradient, folded decay included, of the general ``_Compand``
    that learned scales take (same kernels, same order)."""
    torch.manual_seed(0)
    v = (0.3 * torch.randn(40, 30)).requires_grad_(True)
    g = torch.randn(40, 30)
    c = Compander(fn, a, b)
    c.fold_decay(decay)
    w = c(v)
    assert w.grad_fn.name().startswith("_CompandFixedBackward")
    (fast,) = torch.autograd.grad(w, v, g)
    w_ref = reparam._Compand.apply(v, a, b, fn, decay)
    (ref,) = torch.autograd.grad(w_ref, v, g)
    assert torch.equal(w, w_ref) and torch.equal(fast, ref)


def test_cached_scalars_first_made_in_inference_mode_still_train():
    """A fixed compander's scalar operands are made once and shared; made first under
    ``torch.inference_mode`` (an evaluation before any training), they must not break a later
    training step."""
    reparam._made_once.cache_clear()
    net = reparam.apply(small_net(), {"name": "compander", "a": 0.8, "b": 0.3})
    x = torch.randn(4, 1, 8, 8)
    with torch.inference_mode():
        net(x)
    assert reparam._made_once.cache_info().currsize > 0
    penalties, context = parametrized.effective_decay(net, 0.1)
    with context():
        loss = net(x).square().mean()
    loss.backward()
    assert torch.isfinite(net[4].parametrizations.weight.original.grad).all()


@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                    reason="torch.compile's CPU backend needs a C++ compiler")
@pytest.mark.parametrize("spec", [
    {"name": "compander", "a": 0.8, "b": 0.5},  # decay folded into the backward: a float lambda
    {"name": "compander", "fn": "arsinh", "a": 0.8, "b": 0.5},  # the same fold, the general derivative
    {"name": "compander", "a": 0.5, "b": 1.0, "learnable": "fine", "decay": "effective"},  # a tensor lambda * a
    {"name": "compander", "a": 0.5, "b": 1.0, "learnable": "coarse"},
    {"name": "compander", "a": 0.8, "b": 0.5, "masked": True},  # behind a mask: the decay is a penalty
    {"name": "compander", "a": 0.8, "b": 0.5, "mode": "reduce-overhead"},  # a mode by name (no CUDA graphs on a CPU)
    {"name": "powerprop"}, {"name": "weight_norm"},
], ids=lambda s: "-".join(str(v) for v in s.values()))
def test_a_compiled_reparam_trains_as_the_eager_one(spec):
    """``TrainConfig(compile=True)`` trains each reparameterization as eager mode does, to float
    rounding. Until 2026-12-04 the compander did not: inductor read the folded decay's
    ``torch.add(..., alpha=lambda)`` as ``alpha = 1``, the weights shrank towards zero and the loss
    stayed at chance."""
    from regprune.pruning import apply_masks, magnitude_masks, std_thresholds
    spec = dict(spec)
    masked = spec.pop("masked", False)
    mode = spec.pop("mode", True)
    splits = tiny_splits(64)
    finals = []
    for compiled in (False, mode):
        torch._dynamo.reset()
        torch.manual_seed(0)
        net = reparam.apply(nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3)), spec)
        if masked:
            apply_masks(net, magnitude_masks(net, std_thresholds(net, 0.5, 0.5)))
        cfg = TrainConfig(epochs=3, batch_size=16, lr=0.1, momentum=0.9, weight_decay=0.05, select="last",
                          compile=compiled)
        fit(net, splits, cfg, progress="none")
        finals.append({k: p.detach().clone() for k, p in net.named_parameters()})
    eager, compiled = finals
    for k in eager:
        assert torch.allclose(eager[k], compiled[k], rtol=1e-4, atol=1e-6), k
