import inspect
import math
import time

import pytest
import torch

from regprune import data, experiment, models
from regprune.callbacks import FitState, Hook
from regprune.losses import Loss
from regprune.progress import Progress
from regprune.registry import ConfigError
from regprune.train import TrainConfig, evaluate, fit, parameter_groups

from conftest import skip_under_mutmut, smoke_config


def _strip_time(history):
    return [{k: v for k, v in row.items() if k != "time"} for row in history]


def test_learns_synthetic_mnist():
    run = experiment.execute(smoke_config(epochs=4), device="cpu")
    assert run["status"] == "completed"
    assert run["metrics"]["test_acc"] > 0.5  # ten classes: chance is 0.1
    assert run["history"][-1]["train_loss"] < run["history"][0]["train_loss"]
    assert len(run["history"]) == 4 and run["metrics"]["epochs_run"] == 4


def test_same_seed_same_numbers_and_other_seed_differs():
    a = experiment.execute(smoke_config(), device="cpu")
    b = experiment.execute(smoke_config(), device="cpu")
    c = experiment.execute({**smoke_config(), "seed": 1}, device="cpu")
    assert _strip_time(a["history"]) == _strip_time(b["history"])
    assert a["metrics"]["test_acc"] == b["metrics"]["test_acc"]
    assert _strip_time(a["history"]) != _strip_time(c["history"])


def test_resume_equals_uninterrupted(tmp_path):
    cfg = smoke_config(epochs=4)
    full = experiment.execute(cfg, device="cpu")
    ckpt = tmp_path / "ckpt.pt"
    part = experiment.execute(cfg, device="cpu", checkpoint=ckpt, fingerprint="k", stop_after_epoch=2)
    assert part["status"] == "interrupted" and len(part["history"]) == 2 and ckpt.exists()
    resumed = experiment.execute(cfg, device="cpu", checkpoint=ckpt, fingerprint="k")
    assert resumed["status"] == "completed"
    assert _strip_time(resumed["history"]) == _strip_time(full["history"])
    assert resumed["metrics"]["test_acc"] == full["metrics"]["test_acc"]
    assert resumed["metrics"]["test_loss"] == full["metrics"]["test_loss"]


def test_checkpoint_of_another_run_is_set_aside_and_the_run_starts_over(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    experiment.execute(smoke_config(epochs=2), device="cpu", checkpoint=ckpt, fingerprint="a", stop_after_epoch=1)
    with pytest.warns(UserWarning, match=f"checkpoint {ckpt} belongs to another run"):
        run = experiment.execute(smoke_config(epochs=2), device="cpu", checkpoint=ckpt, fingerprint="b")
    fresh = experiment.execute(smoke_config(epochs=2), device="cpu")
    assert _strip_time(run["history"]) == _strip_time(fresh["history"])
    assert [p.name.startswith("ckpt.pt.bad-") for p in tmp_path.iterdir() if p != ckpt] == [True]


def test_divergence_stops_the_run():
    splits = data.load("synthetic-mnist", val_split=64, n_train=256, n_test=64)
    model = models.build("lenet300")
    nan = lambda m: next(m.parameters()).sum() * float("nan")  # noqa: E731
    result = fit(model, splits, TrainConfig(epochs=5, batch_size=64), penalties=[nan], progress="none")
    assert result.status == "diverged"
    assert len(result.history) == 1 and math.isnan(result.history[0]["val_loss"])
    assert "test_acc" not in result.metrics


class Snapshots(Hook):
    """The oracle of model selection, outside the engine: each epoch's weights, and the validation
    accuracy and loss computed here from them in one plain forward pass."""

    def __init__(self):
        self.weights, self.acc, self.loss = [], [], []

    @torch.no_grad()
    def on_epoch_end(self, state):
        m, val = state.model, state.splits.val
        self.weights.append({k: v.detach().clone() for k, v in m.state_dict().items()})
        was, _ = m.training, m.eval()
        out = m(val.x)
        m.train(was)
        self.acc.append(int((out.argmax(1) == val.y).sum()) / len(val.y))
        self.loss.append(float(torch.nn.functional.cross_entropy(out, val.y)))


@pytest.mark.parametrize("select", ["val_acc", "val_loss", "last"])
def test_the_selected_epochs_weights_are_kept(select):
    splits = data.load("synthetic-mnist", val_split=128, n_train=512, n_test=128)
    torch.manual_seed(0)
    model = models.build("lenet300")
    seen = Snapshots()
    result = fit(model, splits, TrainConfig(epochs=5, batch_size=64, lr=0.2, select=select), hooks=[seen],
                 progress="none")
    assert [r["val_acc"] for r in result.history] == pytest.approx(seen.acc)
    assert [r["val_loss"] for r in result.history] == pytest.approx(seen.loss, rel=1e-5)
    epochs = range(5)
    best = {"val_acc": min(epochs, key=lambda e: (-seen.acc[e], e)),  # the first epoch of highest accuracy
            "val_loss": min(epochs, key=lambda e: (seen.loss[e], e)),  # of lowest loss
            "last": 4}[select]
    assert result.metrics["best_epoch"] == best + 1
    kept = result.model.state_dict()
    assert all(torch.equal(kept[k], v) for k, v in seen.weights[best].items())


def test_parameter_groups_exclude_norm_and_bias():
    model = models.build("resnet20")
    groups = parameter_groups(model, TrainConfig(weight_decay=5e-4, decay_norm_and_bias=False))
    decayed, free = groups
    assert decayed["weight_decay"] == 5e-4 and free["weight_decay"] == 0.0
    assert all(p.dim() > 1 for p in decayed["params"]) and all(p.dim() == 1 for p in free["params"])
    assert len(parameter_groups(model, TrainConfig(weight_decay=5e-4))) == 1


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("schedule", ["constant", "cosine", "multistep", "inverse"])
def test_optimizers_and_schedules_run(optimizer, schedule):
    cfg = smoke_config(epochs=2, optimizer=optimizer, schedule=schedule, milestones=[1], lr=0.01)
    run = experiment.execute(cfg, device="cpu")
    assert run["status"] == "completed"
    lrs = [row["lr"] for row in run["history"]]
    if schedule == "constant":
        assert lrs == [0.01, 0.01]
    else:
        second = {"multistep": 0.001, "cosine": 0.005, "inverse": 0.005}[schedule]
        assert lrs[0] == pytest.approx(0.01) and lrs[1] == pytest.approx(second)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "adam_modified"])
def test_optimizer_kernels_foreach_is_exact_fused_is_close(optimizer):
    """The default multi-tensor (foreach) update must give the per-parameter loop's weights bit for
    bit, so stored runs stay reproducible; the fused opt-in differs in rounding only."""
    from regprune import reparam
    from regprune.train import OPTIMIZERS

    def build():
        torch.manual_seed(0)
        model = models.build("lenet300")
        return reparam.apply(model, {"name": "powerprop", "alpha": 2.0}) if optimizer == "adam_modified" else model

    weights = {}
    for kernel in ("loop", "foreach", "fused"):
        model = build()
        cfg = TrainConfig(optimizer=optimizer, lr=0.01, momentum=0.9, weight_decay=5e-4, fused=kernel == "fused")
        opt = OPTIMIZERS.get(optimizer)(parameter_groups(model, cfg), cfg, model)
        assert opt.defaults["fused" if kernel == "fused" else "foreach"]
        if kernel == "loop":
            for group in opt.param_groups:
                group["foreach"] = False
        g = torch.Generator().manual_seed(1)
        for _ in range(5):
            x, y = torch.randn(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        weights[kernel] = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert torch.equal(weights["foreach"], weights["loop"])
    assert torch.allclose(weights["fused"], weights["loop"], atol=1e-5)
    initial = torch.cat([p.detach().flatten() for p in build().parameters()])
    assert not torch.equal(weights["loop"], initial)  # the steps moved the weights


def test_inverse_schedule_divides_by_the_epoch_number():
    cfg = TrainConfig(schedule="inverse", epochs=500)
    assert [cfg.lr_factor(e) for e in (0, 1, 3, 499)] == pytest.approx([1, 1 / 2, 1 / 4, 1 / 500])


def test_bf16_and_channels_last_on_cpu_run():
    """bf16 autocast is really on (the numbers differ from fp32 in their low bits) and costs no
    accuracy worth the name; channels_last alone changes no result beyond float rounding."""
    def run(**train):
        cfg = smoke_config(epochs=1, **train)
        cfg["model"] = {"name": "lenet5"}
        return experiment.execute(cfg, device="cpu")

    fp32, bf16, cl = run(), run(precision="bf16", channels_last=True), run(channels_last=True)
    assert fp32["status"] == bf16["status"] == cl["status"] == "completed"
    assert bf16["history"][0]["val_loss"] != fp32["history"][0]["val_loss"]
    assert abs(bf16["metrics"]["test_acc"] - fp32["metrics"]["test_acc"]) <= 0.1
    assert cl["history"][0]["val_loss"] == pytest.approx(fp32["history"][0]["val_loss"], rel=1e-3)


@pytest.mark.parametrize(
    "change, param",
    [
        ({"train": {"optimizer": "rmsprop"}}, "train.optimizer"),
        ({"train": {"schedule": "linear"}}, "train.schedule"),
        ({"train": {"lr": -1}}, "train.lr"),
        ({"train": {"epoch": 3}}, "unknown train setting"),
        ({"train": {"schedule": "multistep"}}, "train.milestones"),
        ({"model": {"name": "lenet7"}}, "model.name"),
        ({"data": {"name": "imagenet"}}, "data.name"),
        ({"loss": {"name": "hinge9"}}, "loss.name"),
        ({"profile": "fast"}, "profile"),
        ({"extra": 1}, "unknown run config key"),
        ({"data": {"name": "synthetic-mnist", "val_split": 0}}, "val_split"),
        ({"data": {"name": "synthetic-mnist", "n_trian": 5}}, "n_trian"),
        ({"model": {"name": "lenet300", "width": 2}}, "width"),
        ({"transforms": [{"name": "random_crop_flip", "pad": 4}]}, "pad"),
    ],
)
def test_bad_config_is_rejected_before_training(change, param):
    cfg = {**smoke_config(), **change}
    with pytest.raises(ConfigError, match=param.replace(".", r"\.")):
        experiment.validate(cfg)


def test_progress_log_mode_prints_few_lines(capsys):
    bar = Progress(10_000, "run", mode="log", interval=3600)
    for _ in range(10_000):
        bar.update()
    for epoch in range(50):
        bar.epoch_end(f"epoch {epoch}")
    bar.close("done")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "done" in lines[0]


def test_cifar_path_resnet20_with_crop_flip():
    cfg = smoke_config(epochs=1, batch_size=32)
    cfg.update(
        data={"name": "synthetic-cifar10", "val_split": 32, "n_train": 160, "n_test": 32},
        model={"name": "resnet20"},
        transforms=[{"name": "random_crop_flip", "padding": 4}],
    )
    run = experiment.execute(cfg, device="cpu")
    assert run["status"] == "completed" and run["counts"]["params"] == 269_722
    assert run["counts"]["macs"]["conv"] == 40_550_400


def test_weight_stats_hook_from_config():
    cfg = {**smoke_config(epochs=2), "hooks": [{"name": "weight_stats", "layers": ["classifier.fc1"]}]}
    run = experiment.execute(cfg, device="cpu")
    for row in run["history"]:
        ps = [row[f"w.classifier.fc1.p{p}"] for p in (100, 93, 84, 69, 50, 31, 16, 7, 0)]
        assert ps == sorted(ps, reverse=True) and ps[0] > 0 > ps[-1]
        assert row["w.classifier.fc1.zeros"] == 0 and row["w.classifier.fc1.l2"] > 0
    assert run["history"][0]["w.classifier.fc1.l2"] != run["history"][1]["w.classifier.fc1.l2"]


def test_weight_stats_unknown_layer_fails_before_training():
    cfg = {**smoke_config(epochs=1), "hooks": [{"name": "weight_stats", "layers": ["fc9"]}]}
    with pytest.raises(ConfigError, match="classifier.fc1"):
        experiment.execute(cfg, device="cpu")


def test_monitor_test_logs_test_error_but_never_selects():
    splits = data.load("synthetic-mnist", val_split=128, n_train=512, n_test=128)
    runs = {}
    for monitor in (False, True):
        torch.manual_seed(0)
        model = models.build("lenet300")
        runs[monitor] = fit(model, splits, TrainConfig(epochs=3, batch_size=64, lr=0.05, monitor_test=monitor),
                            progress="none", seed=3)
    assert "test_acc" not in runs[False].history[0] and "test_acc" in runs[True].history[0]
    assert runs[True].metrics["best_epoch"] == runs[False].metrics["best_epoch"]
    assert runs[True].metrics["test_acc"] == runs[False].metrics["test_acc"]
    last = runs[True].history[-1]
    assert evaluate(runs[True].model, splits.test)["acc"] == pytest.approx(
        runs[True].history[runs[True].metrics["best_epoch"] - 1]["test_acc"])
    assert 0 <= last["test_acc"] <= 1


@pytest.mark.parametrize("select, history, best", [
    ("val_loss", [0.9, 0.4, 0.6], 2),   # the lowest validation loss, not the highest
    ("val_acc", [0.5, 0.8, 0.7], 2),
    ("last", [0.5, 0.8, 0.7], 3),
])
def test_model_selection_keeps_the_right_epoch(select, history, best):
    from regprune.train import TrainConfig, _score

    cfg = TrainConfig(select=select)
    key = "val_loss" if select == "val_loss" else "val_acc"
    rows = [{"epoch": i + 1, "val_loss": 1.0, "val_acc": 0.0, key: v} for i, v in enumerate(history)]
    assert max(rows, key=lambda r: _score(cfg, r))["epoch"] == best


def _small_state(weight: float = 0.0, select: str = "val_acc"):
    """A FitState around a 2-to-1 linear layer whose weights all equal ``weight`` (SGD, momentum 0.9)."""
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(weight)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return FitState(model, opt, TrainConfig(select=select), splits=None, device=torch.device("cpu"))


@pytest.mark.parametrize("select, values, best", [
    ("val_acc", [0.5, 0.8, 0.8, 0.7], 2),    # a tie keeps the earlier epoch
    ("val_loss", [0.9, 0.4, 0.4, 0.6], 2),   # the lowest loss; a tie keeps the earlier epoch
    ("last", [0.5, 0.8, 0.8, 0.7], 4),
])
def test_keep_if_best_copies_the_weights_of_the_first_best_epoch(select, values, best):
    """The oracle is the list itself: the first index of its best value, and the weights as they were then."""
    from regprune.train import _keep_if_best

    state = _small_state(select=select)
    model = state.model
    key = "val_loss" if select == "val_loss" else "val_acc"
    for epoch, v in enumerate(values, start=1):
        with torch.no_grad():
            model.weight.fill_(float(epoch))  # the weights say which epoch they come from
        _keep_if_best(state, {"epoch": epoch, "val_loss": 1.0, "val_acc": 0.0, key: v})
    assert state.best_epoch == best
    assert state.best_state["weight"].tolist() == [[float(best), float(best)]]  # a copy, not the live tensor
    assert model.weight.tolist() == [[4.0, 4.0]]


def test_restore_puts_every_part_of_a_checkpoint_back(tmp_path):
    """A checkpoint written by save_checkpoint and read by load_checkpoint restores model, optimizer,
    hook state, history, step, elapsed time and best weights, and resumes at the next epoch."""
    from regprune.train import _restore, load_checkpoint, save_checkpoint

    class Counter(Hook):
        def __init__(self, n=0):
            self.n = n

        def state_dict(self):
            return {"n": self.n}

        def load_state_dict(self, d):
            self.n = d["n"]

    saved = _small_state(3.0)
    saved.model.weight.grad = torch.ones_like(saved.model.weight)
    saved.optimizer.step()  # a momentum buffer to carry over
    saved.epoch, saved.step, saved.elapsed = 6, 70, 12.5
    saved.history = [{"epoch": e} for e in range(1, 8)]
    saved.best_score, saved.best_epoch, saved.best_state = 0.75, 5, {"weight": torch.full((1, 2), 9.0)}
    save_checkpoint(tmp_path / "ck.pt", "fp", saved, [Counter(41)], torch.amp.GradScaler("cpu", init_scale=256.0))
    ckpt = load_checkpoint(tmp_path / "ck.pt", "fp", torch.device("cpu"))
    fresh, hook, scaler = _small_state(0.0), Counter(), torch.amp.GradScaler("cpu")  # fp16's loss scale
    assert _restore(fresh, ckpt, [hook], scaler) == 7
    assert scaler.get_scale() == 256.0
    assert _restore(_small_state(0.0), ckpt, [Counter()], None) == 7  # an fp32 run ignores a stored scale
    assert fresh.model.weight.tolist() == saved.model.weight.tolist() != [[3.0, 3.0]]
    buf = fresh.optimizer.state[fresh.model.weight]["momentum_buffer"]
    assert buf.tolist() == [[1.0, 1.0]]
    assert hook.n == 41
    assert (fresh.step, fresh.elapsed, fresh.history) == (70, 12.5, saved.history)
    assert (fresh.best_score, fresh.best_epoch) == (0.75, 5)
    assert fresh.best_state["weight"].tolist() == [[9.0, 9.0]]


def test_a_bad_checkpoint_is_refused_with_its_reason_in_one_line(tmp_path):
    """The error names the file, the exception type and torch's own first reason, without torch's
    advice to load it unsafely; a file that is not a checkpoint of ours reads as another run's."""
    from test_faults import malicious_checkpoint
    from regprune.train import CheckpointError, load_checkpoint

    cpu = torch.device("cpu")
    evil, cut, other = tmp_path / "evil.pt", tmp_path / "cut.pt", tmp_path / "list.pt"
    malicious_checkpoint(evil, tmp_path / "marker", "k")
    torch.save({"fingerprint": "k", "plain": "{}"}, cut)
    cut.write_bytes(cut.read_bytes()[:100])
    torch.save([1, 2], other)
    expected = {
        evil: f"checkpoint {evil} cannot be read safely: UnpicklingError: WeightsUnpickler error: Unsupported global: "
              "GLOBAL exec was not an allowed global by default",
        cut: f"checkpoint {cut} cannot be read safely: RuntimeError: PytorchStreamReader failed reading zip archive",
        other: f"checkpoint {other} belongs to another run (fingerprint None, expected 'k')",
    }
    for path, message in expected.items():
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(path, "k", cpu)
        assert str(err.value).startswith(message) and "\n" not in str(err.value) and "Please" not in str(err.value)
    assert str(err.value) == expected[other]


def test_epoch_seeds_are_the_ones_the_stored_runs_were_trained_with():
    """Known answers: every committed run shuffled epoch e of seed s with s*1,000,003 + e*7,919 + 17
    (mod 2^63 - 1); another formula would reshuffle every batch and change every stored number."""
    from regprune.train import epoch_seed

    assert [epoch_seed(0, e) for e in range(3)] == [17, 7936, 15855]
    assert epoch_seed(1, 2) == 1_015_858 and epoch_seed(4, 29) == 4_229_680
    assert epoch_seed(2**62, 1) == (2**62 * 1_000_003 + 7936) % (2**63 - 1)


@pytest.mark.parametrize("patience, gamma", [(0, 0.1), (1, 0.5), (2, 0.1)])
def test_plateau_factor_follows_torchs_reduce_lr_on_plateau(patience, gamma):
    """A second implementation as the oracle: torch's ReduceLROnPlateau (mode min, relative
    threshold 1e-4, no cooldown, eps 0) stepped with the same validation losses, epoch by epoch.
    The losses hold a loss exactly at the threshold (not an improvement), improvements just above
    and just below it, ties, and rises."""
    losses = [1.0, 1.0 * (1 - 1e-4), 0.99995, 0.9998, 0.9998, 1.2, 0.5, 0.50004, 0.49994, 0.6, 0.7, 0.8, 0.3, 0.3]
    cfg = TrainConfig(schedule="plateau", patience=patience, gamma=gamma, epochs=len(losses) + 1)
    weight = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([weight], lr=1.0)
    torch_plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=gamma, patience=patience, threshold=1e-4, threshold_mode="rel", cooldown=0, eps=0.0)
    history = [{"val_loss": v} for v in losses]
    expected = []
    for e in range(len(losses) + 1):
        expected.append(opt.param_groups[0]["lr"])  # the lr used in epoch e
        if e < len(losses):
            torch_plateau.step(losses[e])
    assert [cfg.lr_factor(e, history) for e in range(len(losses) + 1)] == pytest.approx(expected, rel=1e-12)
    assert expected[-1] < 1.0  # the sequence does trigger reductions


def test_epoch_totals_by_hand():
    """Sample-weighted mean loss, finiteness of every step's objective, and correct predictions
    against index or soft (mixup) labels, worked out by hand."""
    from regprune.train import _epoch_totals

    losses, sizes = [torch.tensor(1.0), torch.tensor(3.0)], [2, 6]  # (2*1 + 6*3) / 8 = 2.5
    preds = [torch.tensor([0, 1]), torch.tensor([2, 2, 0, 1, 1, 1])]
    labels = [torch.tensor([0, 0]), torch.tensor([2, 2, 2, 1, 0, 1])]  # 1 + 4 = 5 correct
    totals = [torch.tensor(1.5), torch.tensor(3.5)]
    assert _epoch_totals(losses, sizes, totals, preds, labels) == (2.5, True, 5)
    soft = [torch.tensor([[0.7, 0.3, 0.0], [0.6, 0.4, 0.0]]),
            torch.nn.functional.one_hot(labels[1], 3).float() * 0.8 + 0.2 / 3]
    assert _epoch_totals(losses, sizes, totals, preds, soft) == (2.5, True, 5)
    assert _epoch_totals(losses, sizes, [totals[0], torch.tensor(float("inf"))], preds, labels)[1] is False
    assert _epoch_totals(losses, sizes, [torch.tensor(float("nan")), totals[1]], preds, labels)[1] is False
    assert _epoch_totals([], [], [], [], []) == (0.0, True, 0)


def test_the_warning_about_a_bad_checkpoint_points_at_the_line_calling_fit(tmp_path):
    skip_under_mutmut()
    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(b"not a checkpoint")
    splits = data.load("synthetic-mnist", val_split=64, n_train=128, n_test=64)
    with pytest.warns(UserWarning, match="moved aside") as seen:
        line = inspect.currentframe().f_lineno + 1
        fit(models.build("lenet300"), splits, TrainConfig(epochs=1, batch_size=64), checkpoint=ckpt, progress="none")
    assert [(w.filename, w.lineno) for w in seen] == [(__file__, line)]


def test_parameter_groups_by_hand():
    """Which parameter is decayed, at which lr, in which order (decayed first, as the history's lr
    column reads group 0), worked out by hand for a small net and a learnable compander."""
    from regprune import reparam

    first, second = torch.nn.Linear(3, 2), torch.nn.Linear(2, 2)
    first.weight._no_weight_decay = True
    second.weight._lr_scale = 0.1
    groups = parameter_groups(torch.nn.Sequential(first, second), TrainConfig(weight_decay=0.01, lr=0.5))
    ids = lambda g: [id(p) for p in g["params"]]  # noqa: E731
    assert [ids(g) for g in groups] == [[id(first.bias), id(second.bias)], [id(first.weight)], [id(second.weight)]]
    assert [(g["weight_decay"], g.get("lr")) for g in groups] == [(0.01, None), (0.0, None), (0.01, 0.05)]

    lone = torch.nn.Linear(2, 1, bias=False)
    lone.weight._no_weight_decay = True  # nothing is decayed: the decayed group is still first, empty
    assert [(ids(g), g["weight_decay"]) for g in parameter_groups(lone, TrainConfig(weight_decay=0.01))] == [
        ([], 0.01), ([id(lone.weight)], 0.0)]

    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    reparam.apply(net, {"name": "compander", "learnable": "fine", "a": 0.5, "b": 1.0})
    chain = net[0].parametrizations.weight
    decayed, free = parameter_groups(net, TrainConfig(weight_decay=0.01))
    assert (decayed["weight_decay"], free["weight_decay"]) == (0.01, 0.0)
    assert set(ids(free)) == {id(chain[0].a), id(chain[0].b)}
    assert set(ids(decayed)) == {id(net[0].bias), id(chain.original)}


class _Scaled(Loss):
    """Three times cross-entropy: a loss no default would stand in for."""

    def __call__(self, outputs, targets):
        return 3.0 * torch.nn.functional.cross_entropy(outputs.float(), targets)


class _Recorder(Hook):
    def __init__(self):
        self.epochs, self.steps = [], []

    def on_epoch_start(self, state):
        self.epochs.append(state.epoch)
        self.steps.append(0)

    def after_step(self, state):
        self.steps[-1] += 1


def test_fit_hands_its_settings_to_every_part(tmp_path):
    """What fit is given reaches the parts that use it, each checked against a hand oracle: the
    hooks get the live state each epoch; drop_last drops the short batch (384 samples, batch 100:
    3 steps, not 4); the plateau schedule reads the run's own history (torch's ReduceLROnPlateau
    on the logged validation losses as the oracle); fp16 keeps a loss scaler in its checkpoint;
    validation and the final test use the run's loss (by hand on the returned, last-epoch model); the train
    time adds up."""
    from regprune.train import load_checkpoint

    splits = data.load("synthetic-mnist", val_split=128, n_train=512, n_test=64)
    hook, ckpt = _Recorder(), tmp_path / "fp16.pt"
    cfg = TrainConfig(epochs=4, batch_size=100, drop_last=True, lr=0.5, schedule="plateau", patience=0,
                      gamma=0.5, precision="fp16", select="last")
    torch.manual_seed(0)
    result = fit(models.build("lenet300"), splits, cfg, hooks=[hook], loss=_Scaled(), checkpoint=ckpt,
                 fingerprint="k", progress="none")
    assert result.status == "completed"
    assert hook.epochs == [0, 1, 2, 3] and hook.steps == [3, 3, 3, 3]
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    oracle = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=1e-4, eps=0.0)
    for row in result.history:
        assert row["lr"] == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
        oracle.step(row["val_loss"])
    scale = load_checkpoint(ckpt, "k", torch.device("cpu"))["scaler"]
    assert scale is not None and scale["scale"] > 0
    model = result.model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.float16):
        by_hand = 3.0 * torch.nn.functional.cross_entropy(model(splits.val.x).float(), splits.val.y)
        by_hand_test = 3.0 * torch.nn.functional.cross_entropy(model(splits.test.x).float(), splits.test.y)
    assert result.history[-1]["val_loss"] == pytest.approx(float(by_hand), rel=1e-5)
    assert result.metrics["test_loss"] == pytest.approx(float(by_hand_test), rel=1e-5)
    # the train time is the epochs' own times added up: more than the last epoch's, less than all
    assert result.history[-1]["time"] < result.metrics["train_time_s"] <= sum(r["time"] for r in result.history)


@pytest.mark.parametrize("setting, message", [
    ({"optimizer": "rmsprop"}, "train.optimizer='rmsprop' is not allowed; choose one of: 'sgd', "),
    ({"schedule": "step"}, "train.schedule='step' is not allowed; choose one of: 'constant', 'multistep', "
                           "'cosine', 'plateau', 'inverse'"),
    ({"precision": "fp8"}, "train.precision='fp8' is not allowed; choose one of: 'fp32', 'bf16', 'fp16', 'auto'"),
    ({"select": "test_acc"}, "train.select='test_acc' is not allowed; choose one of: 'val_acc', 'val_loss', 'last'"),
    ({"channels_last": "yes"}, "train.channels_last='yes' is not allowed; choose one of: 'auto', True, False"),
    ({"epochs": 0}, "train.epochs must be a positive integer; got 0"),
    ({"batch_size": -5}, "train.batch_size must be a positive integer; got -5"),
    ({"eval_batch_size": 0}, "train.eval_batch_size must be a positive integer; got 0"),
    ({"lr": float("nan")}, "train.lr must be a positive number; got nan"),
    ({"lr": 0.0}, "train.lr must be a positive number; got 0.0"),
    ({"weight_decay": -1e-4}, "train.weight_decay must be >= 0; got -0.0001"),
    ({"patience": -1}, "train.patience must be a non-negative integer; got -1"),
    ({"schedule": "multistep"}, "train.milestones must list epochs when train.schedule='multistep'"),
])
def test_a_bad_train_setting_is_named_with_what_is_allowed(setting, message):
    """Each message written out here, word for word: the parameter, the value and what is allowed."""
    with pytest.raises(ConfigError) as err:
        TrainConfig(**setting)
    assert str(err.value).startswith(message)
    assert str(err.value) == message or setting == {"optimizer": "rmsprop"}  # the optimizer list grows


# fit's contract, one promise per test; each was found unguarded by a sampled mutation run (tests/MUTATION.md)

def _tiny_splits():
    return data.load("synthetic-mnist", val_split=64, n_train=256, n_test=64)


def _fit(splits, cfg, **kw):
    torch.manual_seed(0)
    return fit(models.build("lenet300"), splits, cfg, **kw)


class _ProgressSpy:
    """Stands in for Progress and keeps what fit told it."""

    made = []

    def __init__(self, total, desc, mode="auto"):
        self.total, self.desc, self.mode, self.steps, self.epochs, self.closed = total, desc, mode, 0, [], None
        _ProgressSpy.made.append(self)

    def update(self, n=1):
        self.steps += n

    def epoch_end(self, text):
        self.epochs.append(text)

    def close(self, text=""):
        self.closed = text


def test_fit_defaults_to_seed_0_and_automatic_progress(monkeypatch):
    from regprune import train

    monkeypatch.setattr(train, "Progress", _ProgressSpy)
    _ProgressSpy.made = []
    splits, cfg = _tiny_splits(), TrainConfig(epochs=2, batch_size=64)
    default = _fit(splits, cfg)
    explicit = _fit(splits, cfg, seed=0, progress="none")
    assert _strip_time(default.history) == _strip_time(explicit.history)
    assert [(p.mode, p.desc) for p in _ProgressSpy.made] == [("auto", "train"), ("none", "train")]


def test_progress_hears_every_step_each_epochs_numbers_and_the_outcome(monkeypatch):
    """192 training samples in batches of 50: 4 steps an epoch (the last one short), 3 epochs."""
    from regprune import train

    monkeypatch.setattr(train, "Progress", _ProgressSpy)
    _ProgressSpy.made = []
    result = _fit(_tiny_splits(), TrainConfig(epochs=3, batch_size=50), progress="log", desc="ch/lenet/seed0")
    (bar,) = _ProgressSpy.made
    assert (bar.total, bar.desc, bar.mode, bar.steps) == (12, "ch/lenet/seed0", "log", 12)
    assert bar.epochs == [f"epoch {r['epoch']}/3 train_loss={r['train_loss']:.4f} val_acc={r['val_acc']:.4f}"
                          for r in result.history]
    assert bar.closed == f"completed, test_acc={result.metrics['test_acc']:.4f}"


@pytest.mark.parametrize("bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_precision_is_resolved_before_training_and_recorded(bf16, expected, monkeypatch):
    from regprune import train

    monkeypatch.setattr(train.environment, "cpu_model", lambda: {"cpu_bf16": bf16})
    result = _fit(_tiny_splits(), TrainConfig(epochs=1, batch_size=64, precision="auto"), progress="none")
    assert result.metrics["precision"] == expected


@pytest.mark.parametrize("compile_", [True, False])
def test_torch_compile_is_used_only_when_asked(compile_, monkeypatch):
    from regprune import train

    compiled = []
    monkeypatch.setattr(train.torch, "compile", lambda m: compiled.append(m) or m)
    result = _fit(_tiny_splits(), TrainConfig(epochs=1, batch_size=64, compile=compile_), progress="none")
    assert compiled == ([result.model] if compile_ else [])


@pytest.mark.parametrize("mode", ["reduce-overhead", "max-autotune-no-cudagraphs"])
def test_a_compile_mode_reaches_torch_compile_and_cuda_graphs_are_told_each_step(mode, monkeypatch):
    """A mode by name goes to ``torch.compile``; on a CPU no step marks a CUDA graph step (the graphs
    are CUDA's), as the same config does on a GPU only for the modes that use them."""
    from regprune import train

    calls, marks = [], []
    monkeypatch.setattr(train.torch, "compile", lambda m, **kw: calls.append(kw) or m)
    monkeypatch.setattr(train.torch.compiler, "cudagraph_mark_step_begin", lambda: marks.append(1))
    _fit(_tiny_splits(), TrainConfig(epochs=1, batch_size=64, compile=mode), progress="none")
    assert calls == [{"mode": mode}] and marks == []
    cfg = TrainConfig(compile=mode)
    step_model, step_begin = train._step_model(cfg, torch.nn.Linear(2, 2), torch.device("cuda"))
    step_begin()
    assert marks == ([1] if mode == "reduce-overhead" else [])


@pytest.mark.parametrize("bad", ["fast", "cudagraphs", 2])
def test_an_unknown_compile_mode_is_refused_naming_the_modes(bad):
    with pytest.raises(ConfigError, match=r"train\.compile.*reduce-overhead"):
        TrainConfig(compile=bad)


def test_each_epoch_shuffles_and_seeds_the_global_rng_from_the_documented_epoch_seed():
    """The order of epoch e is torch.randperm from a generator seeded with epoch_seed(seed, e); the
    global RNG (dropout) is seeded with epoch_seed(seed, e) + 1: the seeds the stored runs used."""
    from regprune.train import epoch_seed

    splits, seen = _tiny_splits(), []

    def record(x, y, gen):
        seen.append((x.clone(), torch.rand(1)))
        return x, y

    _fit(splits, TrainConfig(epochs=2, batch_size=64), seed=5, transforms=[record], progress="none")
    assert len(seen) == 6  # 192 samples, 3 steps an epoch
    for epoch in range(2):
        order = torch.randperm(192, generator=torch.Generator().manual_seed(epoch_seed(5, epoch)))
        assert not torch.equal(order, torch.arange(192))
        dropout_rng = torch.Generator().manual_seed(epoch_seed(5, epoch) + 1)
        for step in range(3):
            x, drawn = seen[3 * epoch + step]
            assert torch.equal(x, splits.train.x[order[64 * step:64 * (step + 1)]])
            if step == 0:
                assert torch.equal(drawn, torch.rand(1, generator=dropout_rng))


def test_an_epochs_train_columns_by_hand_when_the_weights_do_not_move():
    """At lr 1e-30 no weight changes (each update is below float32's resolution), so the epoch's
    train accuracy and loss are the untrained model's on the training split, computed here by hand;
    the epoch's time lies within the wall time of the whole call."""
    splits = _tiny_splits()
    torch.manual_seed(0)
    model = models.build("lenet300")
    with torch.no_grad():
        out = model(splits.train.x)
    acc = int((out.argmax(1) == splits.train.y).sum()) / len(splits.train.y)
    ce = float(torch.nn.functional.cross_entropy(out, splits.train.y))
    t0 = time.perf_counter()
    result = _fit(splits, TrainConfig(epochs=1, batch_size=64, lr=1e-30, weight_decay=0.0), progress="none")
    wall = time.perf_counter() - t0
    (row,) = result.history
    assert set(row) == {"epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "time"}
    assert row["train_acc"] == acc
    assert row["train_loss"] == pytest.approx(ce, rel=1e-5)
    assert 0 < row["time"] <= wall


def test_every_evaluation_uses_the_runs_batch_size_and_precision(monkeypatch):
    """Per-epoch test columns and the final test of the same (last) weights agree exactly, and every
    evaluate call fit makes gets the run's eval_batch_size and resolved precision."""
    from regprune import train

    calls = []

    def spy(model, ds, loss=None, *, batch_size=1000, cfg=None):
        calls.append((batch_size, cfg.precision if cfg else None))
        return evaluate(model, ds, loss, batch_size=batch_size, cfg=cfg)

    monkeypatch.setattr(train, "evaluate", spy)
    cfg = TrainConfig(epochs=2, batch_size=64, eval_batch_size=7, precision="bf16", monitor_test=True, select="last")
    result = _fit(_tiny_splits(), cfg, progress="none")
    assert calls == [(7, "bf16")] * 5  # val and test each epoch, then the final test
    last = result.history[-1]
    assert (last["test_loss"], last["test_acc"]) == (result.metrics["test_loss"], result.metrics["test_acc"])


def test_stopping_after_the_last_epoch_is_a_completed_run():
    result = _fit(_tiny_splits(), TrainConfig(epochs=2, batch_size=64), stop_after_epoch=2, progress="none")
    assert result.status == "completed" and "test_acc" in result.metrics


def test_progress_says_where_a_run_stopped_or_diverged(monkeypatch):
    """Stopped after epoch 1 of 2; diverged in epoch 2 (the penalty turns NaN at the 4th of 3-step epochs)."""
    from regprune import train

    monkeypatch.setattr(train, "Progress", _ProgressSpy)
    _ProgressSpy.made = []
    _fit(_tiny_splits(), TrainConfig(epochs=2, batch_size=64), stop_after_epoch=1, progress="none")
    assert _ProgressSpy.made[-1].closed == "stopped after epoch 1"
    steps = []

    def nan_from_step_4(model):
        steps.append(1)
        return next(model.parameters()).sum() * (float("nan") if len(steps) > 3 else 0.0)

    result = _fit(_tiny_splits(), TrainConfig(epochs=3, batch_size=64), penalties=[nan_from_step_4], progress="none")
    assert result.status == "diverged" and len(result.history) == 2
    bar = _ProgressSpy.made[-1]
    assert bar.epochs[-1] == "diverged at epoch 2" and bar.closed == "diverged"


def test_the_training_device_reaches_the_data_and_the_checkpoint(tmp_path, monkeypatch):
    """On a CPU-only machine a forgotten ``device`` changes no number, so this checks the hand-over
    itself: the data and a resumed checkpoint get fit's device (on a GPU, forgetting either puts
    tensors on the wrong device). The shuffle generator's device cannot be checked so on a CPU:
    tests/MUTATION.md."""
    from regprune import train
    from regprune.data.arrays import Splits

    seen = {"splits": [], "checkpoint": []}
    to, load = Splits.to, train.load_checkpoint
    monkeypatch.setattr(Splits, "to", lambda self, device: seen["splits"].append(device) or to(self, device))
    monkeypatch.setattr(train, "load_checkpoint",
                        lambda path, fp, device: seen["checkpoint"].append(device) or load(path, fp, device))
    splits, ckpt, cfg = _tiny_splits(), tmp_path / "ckpt.pt", TrainConfig(epochs=2, batch_size=64)
    _fit(splits, cfg, checkpoint=ckpt, fingerprint="k", stop_after_epoch=1, progress="none")
    _fit(splits, cfg, checkpoint=ckpt, fingerprint="k", progress="none")
    cpu = torch.device("cpu")
    assert seen == {"splits": [cpu, cpu], "checkpoint": [cpu]}
