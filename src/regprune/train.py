"""The one training engine every chapter uses.

Methods plug in as small objects instead of copied loops:

* a **loss** (``regprune.losses``): ``loss(outputs, targets)`` and ``loss.predict(outputs)``;
* **batch transforms** (``regprune.augment``): ``t(x, y, generator) -> (x, y)``;
* **penalties**: ``p(model) -> scalar tensor`` added to the loss at every step, called after
  that step's training forward; a penalty that needs that forward's activations (e.g.
  ``vc_bound``) has ``attach(model)``, which :func:`fit` calls once before training so the
  penalty can register forward hooks on the model;
* **weight parametrizations** on the model itself (companders, masks, switchers, ...), read
  by protocol (:mod:`regprune.parametrized`), never by type: the engine decays their
  effective weight where they ask for it, never decays their own scales, and the
  ``*_modified`` optimizers scale their steps by ``Psi'(v)``;
* **hooks** (:class:`regprune.callbacks.Hook`): called at fit start, after every optimizer step, at every
  epoch end (may return extra history fields) and at fit end (may return extras).

Every epoch draws its randomness (batch order, augmentation, dropout) from generators
seeded by ``(seed, epoch)``, so a run that is killed and resumed from its last
checkpoint ends with exactly the result of an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from .callbacks import FitState, Hook
from .data import ArrayDataset, BatchLoader, Splits
from . import parametrized
from .losses import CrossEntropy, Loss, hard_labels
from . import allocator, atomic
from . import environment
from .progress import Progress
from .registry import ConfigError, Registry, check_choice

OPTIMIZERS = Registry("optimizer")
SCHEDULES = ("constant", "multistep", "cosine", "plateau", "inverse")
PRECISIONS = ("fp32", "bf16", "fp16", "auto")
# ``compile``: off, on (torch.compile's default mode), or one of its modes by name.  The modes with
# CUDA graphs replay a whole step's kernels in one launch on a GPU, where a small network's step is
# bound by kernel launches (ResNet-20 on an H200: bench/README.md); on a CPU they compile as default.
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
CUDA_GRAPH_MODES = ("reduce-overhead", "max-autotune")  # the modes that record CUDA graphs on a GPU
AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}
SELECT = ("val_acc", "val_loss", "last")


@dataclass
class TrainConfig:
    """Optimization settings of one run (plain values, so a run config stays JSON)."""

    epochs: int = 10
    batch_size: int = 128
    eval_batch_size: int = 1000
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    decay_norm_and_bias: bool = True  # False: biases and norm parameters get no weight decay
    schedule: str = "constant"
    milestones: tuple[int, ...] = ()  # epochs at which multistep multiplies the lr by gamma
    gamma: float = 0.1
    patience: int = 10  # plateau: epochs without a better val_loss before the lr is multiplied by gamma
    precision: str = "fp32"  # bf16/fp16: autocast the forward pass (fp16 with a loss scaler); auto: resolve_precision
    channels_last: Any = "auto"  # "auto": on for conv nets, where it measured faster (CPU and CUDA)
    compile: Any = False  # False, True (= "default") or a mode of COMPILE_MODES
    fused: bool = False  # fused optimizer kernels: faster, but rounding differs from the default in the last bits
    select: str = "val_acc"  # which epoch's weights are kept: best on validation, or the last
    drop_last: bool = False
    monitor_test: bool = False  # also log test loss/acc every epoch, for plots only: never selects

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)
        self.milestones = tuple(int(m) for m in self.milestones)
        check_choice("train.optimizer", self.optimizer, OPTIMIZERS.names())
        check_choice("train.schedule", self.schedule, SCHEDULES)
        check_choice("train.precision", self.precision, PRECISIONS)
        check_choice("train.select", self.select, SELECT)
        check_choice("train.channels_last", self.channels_last, ("auto", True, False))
        check_choice("train.compile", self.compile, (False, True) + COMPILE_MODES)
        if not isinstance(self.compile, str):
            self.compile = bool(self.compile)  # 0 and 1 read as off and on
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"train.{name} must be a positive integer; got {getattr(self, name)!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"train.lr must be a positive number; got {self.lr!r}")
        if self.weight_decay < 0:
            raise ConfigError(f"train.weight_decay must be >= 0; got {self.weight_decay!r}")
        if int(self.patience) < 0:
            raise ConfigError(f"train.patience must be a non-negative integer; got {self.patience!r}")
        if self.schedule == "multistep" and not self.milestones:
            raise ConfigError("train.milestones must list epochs when train.schedule='multistep'")

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "TrainConfig":
        d = dict(d or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown train setting(s) {unknown}; allowed: {sorted(known)}")
        return cls(**d)

    def lr_factor(self, epoch: int, history: Sequence[dict[str, Any]] = ()) -> float:
        """Multiplier of the base lr during ``epoch`` (0-based), set once per epoch.

        ``plateau`` reads the ``val_loss`` of the epochs before (``history``), as PyTorch's
        ReduceLROnPlateau does (mode min, relative threshold 1e-4, no cooldown), so a resumed
        run needs no scheduler state beyond its history."""
        if self.schedule == "plateau":
            best, bad, factor = math.inf, 0, 1.0
            for row in history[:epoch]:
                if row["val_loss"] < best * (1 - 1e-4):
                    best, bad = row["val_loss"], 0
                else:
                    bad += 1
                if bad > self.patience:
                    factor, bad = factor * self.gamma, 0
            return factor
        if self.schedule == "multistep":
            return self.gamma ** sum(epoch >= m for m in self.milestones)
        if self.schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * epoch / self.epochs))
        if self.schedule == "inverse":  # lr / t in epoch t = 1, 2, ... (paper 003's FNNs)
            return 1.0 / (epoch + 1)
        return 1.0


def parameter_groups(model: nn.Module, cfg: TrainConfig) -> list[dict[str, Any]]:
    """Split parameters into decayed and non-decayed groups (and, for parameters with an
    ``_lr_scale`` attribute, groups whose lr is ``cfg.lr * _lr_scale``).

    One-dimensional parameters (biases, batch-norm affine) skip weight decay when
    ``decay_norm_and_bias`` is False. Always skipped: a parameter with ``_no_weight_decay =
    True``, the parameters of a reparameterization (learned compander ``a, b``), and the
    ``v`` of a reparameterization that decays its effective weight instead
    (:func:`regprune.parametrized.no_decay_parameters`; :func:`fit` adds that decay to the loss).
    """
    groups: dict[tuple[float, float], list[nn.Parameter]] = {(cfg.weight_decay, 1.0): []}  # decayed first
    reparam_skip = parametrized.no_decay_parameters(model)
    for p in model.parameters():
        if not p.requires_grad:
            continue
        skip = (getattr(p, "_no_weight_decay", False) or id(p) in reparam_skip
                or (not cfg.decay_norm_and_bias and p.dim() <= 1))
        key = (0.0 if skip else cfg.weight_decay, float(getattr(p, "_lr_scale", 1.0)))
        groups.setdefault(key, []).append(p)
    return [{"params": params, "weight_decay": wd, **({"lr": cfg.lr * scale} if scale != 1.0 else {})}
            for (wd, scale), params in groups.items() if params or (wd, scale) == (cfg.weight_decay, 1.0)]


def _kernel(cfg: TrainConfig) -> dict[str, bool]:
    """How the optimizer updates its tensors. ``foreach`` (multi-tensor) is PyTorch's default on
    CUDA only; on the CPU it is bitwise identical to the per-parameter loop and a little faster.
    ``fused`` is one kernel per step: faster again, with different rounding (an opt-in)."""
    return {"fused": True} if cfg.fused else {"foreach": True}


# Builders take (parameter groups, config, model); the model is there for optimizers that
# need to know its reparameterizations.
@OPTIMIZERS.register("sgd")
def _sgd(groups, cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov, **_kernel(cfg))


@OPTIMIZERS.register("adam")
def _adam(groups, cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas, **_kernel(cfg))


@OPTIMIZERS.register("adamw")
def _adamw(groups, cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """Decoupled weight decay (Loshchilov and Hutter)."""
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, **_kernel(cfg))


@OPTIMIZERS.register("adam_modified")
def _adam_modified(groups, cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """Adam whose step on a reparametrized weight is computed from dL/dPsi(v), then times Psi'(v)."""
    cls = parametrized.derivative_scaled(torch.optim.Adam)
    return cls(groups, derivatives=parametrized.derivatives(model), lr=cfg.lr, betas=cfg.betas, **_kernel(cfg))


@OPTIMIZERS.register("adamw_modified")
def _adamw_modified(groups, cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """AdamW, modified as ``adam_modified``."""
    cls = parametrized.derivative_scaled(torch.optim.AdamW)
    return cls(groups, derivatives=parametrized.derivatives(model), lr=cfg.lr, betas=cfg.betas, **_kernel(cfg))


@dataclass
class FitResult:
    status: str  # "completed" or "diverged"
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    extras: dict[str, Any]
    model: nn.Module


def epoch_seed(seed: int, epoch: int) -> int:
    """A distinct, reproducible seed for each epoch of a run."""
    return (int(seed) * 1_000_003 + int(epoch) * 7919 + 17) % (2**63 - 1)


def uses_conv(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def _channels_last(cfg: TrainConfig, model: nn.Module, device: torch.device) -> bool:
    """On this repo's 2-core CPU, channels_last trained LeNet-5 at 6.9k vs 4.1k samples/s and
    ResNet-20 at 550 vs 440; on CUDA it is the layout tensor cores want."""
    if cfg.channels_last == "auto":
        return uses_conv(model)
    return bool(cfg.channels_last)


def _step_model(cfg: TrainConfig, model: nn.Module, device: torch.device) -> tuple[nn.Module, Callable[[], None]]:
    """The model the training step calls (``model`` itself, or compiled in ``cfg.compile``'s mode) and
    what to call before each step: with CUDA graphs, ``cudagraph_mark_step_begin`` tells the graphs
    that the last step's outputs are no longer read, so their memory can be reused."""
    if not cfg.compile:
        return model, lambda: None
    mode = "default" if cfg.compile is True else cfg.compile
    compiled = torch.compile(model) if mode == "default" else torch.compile(model, mode=mode)
    graphs = device.type == "cuda" and mode in CUDA_GRAPH_MODES
    return compiled, (torch.compiler.cudagraph_mark_step_begin if graphs else lambda: None)


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"auto"``: bf16 where the device computes it natively (a CUDA GPU that supports it; a CPU
    with AVX-512-BF16 or AMX), fp16 with a gradient scaler on a CUDA GPU without bf16 (Colab's T4),
    fp32 otherwise (a CPU without native bf16 emulates it, slower than fp32). Any other value is kept."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if cuda_bf16_native(device) else "fp16"
    return "bf16" if environment.cpu_model().get("cpu_bf16") else "fp32"


def cuda_bf16_native(device: torch.device) -> bool:
    """Whether the GPU computes bf16 in hardware: compute capability 8.0 (Ampere) or later, or ROCm.
    Not ``torch.cuda.is_bf16_supported()``: by default it also says yes where bf16 only runs
    emulated, as on Colab's T4 (7.5), which then trained in slow emulated bf16 instead of fp16."""
    if torch.version.hip:
        return True
    return torch.cuda.get_device_properties(device).major >= 8


def _autocast(cfg: TrainConfig, device: torch.device):
    dtype = AUTOCAST.get(cfg.precision)
    if dtype is None:
        return contextlib.nullcontext()  # entering a disabled autocast costs more than nothing, every step
    return torch.autocast(device.type, dtype=dtype)


def _epoch_totals(losses: list[Tensor], sizes: list[int], totals: list[Tensor], preds: list[Tensor],
                  labels: list[Tensor]) -> tuple[float, bool, int]:
    """Train loss (sample-weighted mean), whether every step's objective was finite, and the count
    of correct predictions, from what each step kept. Reduced once per epoch so a step pays for
    one argmax, not a dozen small ops (5% of a LeNet-300-100 step on the CPU). The loss sum runs
    in float32, step by step, as a running sum would, so histories stay bit for bit reproducible."""
    if not losses:
        return 0.0, True, 0
    weighted = (torch.stack(losses).float() * torch.tensor(sizes, dtype=torch.float32, device=losses[0].device)).cpu()
    total = np.float32(0)
    for v in weighted.numpy():
        total = np.float32(total + v)
    finite = bool(torch.isfinite(torch.stack(totals)).all())
    correct = int((torch.cat(preds) == hard_labels(torch.cat(labels))).sum())
    return float(total) / sum(sizes), finite, correct


@torch.no_grad()
def evaluate(
    model: nn.Module,
    ds: ArrayDataset,
    loss: Loss | None = None,
    *,
    batch_size: int = 1000,
    cfg: TrainConfig | None = None,
) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` on ``ds`` (eval mode, no transforms)."""
    allocator.reuse_freed_memory()  # LeNet-5 on 10,000 samples: 112,510 page faults an evaluation without
    loss = loss or CrossEntropy()
    cfg = cfg or TrainConfig()
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    cl = _channels_last(cfg, model, device)
    with parametrize.cached():  # weights are fixed here: compute each parametrized weight once, not per batch
        for x, y in BatchLoader(ds.to(device), batch_size):
            if cl:
                x = x.contiguous(memory_format=torch.channels_last)
            with _autocast(cfg, device):
                out = model(x)
            total_loss += loss(out, y).float() * len(y)
            correct += (loss.predict(out) == y).sum()
    model.train(was_training)
    n = max(len(ds), 1)
    return {"loss": total_loss.item() / n, "acc": correct.item() / n}


class CheckpointError(Exception):
    """A checkpoint that cannot be read safely or belongs to another run: named, never applied."""


def save_checkpoint(path: Path, fingerprint: str, state: "FitState", hooks: Sequence[Hook],
                    scaler: "torch.amp.GradScaler | None" = None) -> None:
    """Tensors (model, optimizer, best weights) as tensors; everything else as JSON text, so the
    file loads with ``weights_only=True``: no object a file names is ever built."""
    plain = {"epoch": state.epoch, "step": state.step, "hooks": [h.state_dict() for h in hooks],
             "history": state.history, "elapsed": state.elapsed, "best": [state.best_score, state.best_epoch],
             "scaler": scaler.state_dict() if scaler is not None else None}
    ckpt = {"fingerprint": fingerprint, "plain": json.dumps(plain), "model": state.model.state_dict(),
            "optimizer": state.optimizer.state_dict(), "best_state": state.best_state}
    atomic.write(path, lambda tmp: torch.save(ckpt, tmp))


def load_checkpoint(path: Path, fingerprint: str, device: torch.device) -> dict[str, Any]:
    """The checkpoint at ``path`` if it loads as tensors and plain data and was written for ``fingerprint``."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
        found = ckpt.get("fingerprint") if isinstance(ckpt, dict) else None
        if found == fingerprint:
            return {**ckpt, **json.loads(ckpt["plain"])}
    except Exception as err:  # truncated, tampered, or a pickle naming code to run
        lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [""]
        why = next((line for line in lines if line.startswith("WeightsUnpickler error")), lines[0]).split(". Please")[0]
        raise CheckpointError(f"checkpoint {path} cannot be read safely: {type(err).__name__}: {why}") from None
    raise CheckpointError(f"checkpoint {path} belongs to another run (fingerprint {found!r}, expected {fingerprint!r})")


def _resume_from(path: Path | None, fingerprint: str, device: torch.device) -> dict[str, Any] | None:
    """The checkpoint to resume from, or None; a bad one is moved aside (kept) and the run starts over."""
    if path is None or not path.exists():
        return None
    try:
        return load_checkpoint(path, fingerprint, device)
    except CheckpointError as err:
        warnings.warn(f"{err}; moved aside to {atomic.set_aside(path)}, the run starts from scratch", stacklevel=3)
        return None


def _restore(state: FitState, ckpt: dict[str, Any], hooks: Sequence[Hook],
             scaler: "torch.amp.GradScaler | None") -> int:
    """Put a checkpoint's weights, optimizer, hooks, history and best weights back in place;
    returns the epoch to start at (the one after the checkpoint's)."""
    state.model.load_state_dict(ckpt["model"])
    state.optimizer.load_state_dict(ckpt["optimizer"])
    for h, hs in zip(hooks, ckpt["hooks"]):
        h.load_state_dict(hs)
    state.history, state.elapsed, state.step = ckpt["history"], ckpt["elapsed"], ckpt["step"]
    (state.best_score, state.best_epoch), state.best_state = ckpt["best"], ckpt["best_state"]
    if scaler is not None and ckpt.get("scaler"):
        scaler.load_state_dict(ckpt["scaler"])
    return ckpt["epoch"] + 1


def _keep_if_best(state: FitState, row: dict[str, Any]) -> None:
    """Model selection on the validation split: copy the weights of an epoch that scores strictly
    better than every earlier one (a tie keeps the earlier epoch)."""
    score = _score(state.cfg, row)
    if score > state.best_score:
        state.best_score, state.best_epoch = score, row["epoch"]
        state.best_state = {k: v.detach().clone() for k, v in state.model.state_dict().items()}


def _score(cfg: TrainConfig, row: dict[str, Any]) -> float:
    if cfg.select == "val_acc":
        return row["val_acc"]
    if cfg.select == "val_loss":
        return -row["val_loss"]
    return float(row["epoch"])


def fit(
    model: nn.Module,
    splits: Splits,
    cfg: TrainConfig,
    *,
    seed: int = 0,
    loss: Loss | None = None,
    transforms: Sequence[Callable] = (),
    penalties: Sequence[Callable[[nn.Module], torch.Tensor]] = (),
    hooks: Iterable[Hook] = (),
    device: str | torch.device = "cpu",
    checkpoint: str | Path | None = None,
    fingerprint: str = "",
    progress: str = "auto",
    desc: str = "train",
    stop_after_epoch: int | None = None,
) -> FitResult:
    """Train ``model`` on ``splits.train``, keep the best weights on ``splits.val``, test once.

    ``checkpoint``: a file written atomically after every epoch; if it exists and was written for
    the same ``fingerprint``, training resumes from it (a bad one is moved aside, with a warning).
    ``stop_after_epoch``: return after that many epochs (status "interrupted"), as a kill
    would; used to test resumption.
    """
    device = torch.device(device)
    cfg = dataclasses.replace(cfg, precision=resolve_precision(cfg.precision, device))
    allocator.reuse_freed_memory()  # no page faults per step; the numbers are the same
    # fp16's narrow range underflows small gradients: scale the loss up, unscale before the step
    scaler = torch.amp.GradScaler(device.type) if cfg.precision == "fp16" else None
    loss = loss or CrossEntropy()
    hooks = list(hooks)
    splits = splits.to(device)  # the whole data set lives on the training device
    model.to(device)
    cl = _channels_last(cfg, model, device)
    if cl:
        model.to(memory_format=torch.channels_last)
    optimizer = OPTIMIZERS.get(cfg.optimizer)(parameter_groups(model, cfg), cfg, model)
    decay, step_context = parametrized.effective_decay(model, cfg.weight_decay, loss_scaled=scaler is not None,
                                                       penalties=penalties)
    penalties = list(penalties) + decay
    for p in penalties:
        if hasattr(p, "attach"):
            p.attach(model)
    for g in optimizer.param_groups:
        g.setdefault("initial_lr", g["lr"])
    state = FitState(model, optimizer, cfg, splits, device, loss=loss, transforms=list(transforms), seed=int(seed))

    ckpt_path = Path(checkpoint) if checkpoint else None
    start_epoch = 0
    ckpt = _resume_from(ckpt_path, fingerprint, device)
    if ckpt is not None:
        start_epoch = _restore(state, ckpt, hooks, scaler)

    train_set = splits.train
    step_model, step_begin = _step_model(cfg, model, device)
    for h in hooks:
        h.on_fit_start(state)

    steps_per_epoch = len(BatchLoader(train_set, cfg.batch_size, drop_last=cfg.drop_last))
    bar = Progress(cfg.epochs * steps_per_epoch, desc, mode=progress)
    bar.update(start_epoch * steps_per_epoch)
    status = "completed"
    for epoch in range(start_epoch, cfg.epochs):
        state.epoch = epoch
        t0 = time.perf_counter()
        for g in optimizer.param_groups:
            g["lr"] = g["initial_lr"] * cfg.lr_factor(epoch, state.history)
        for h in hooks:
            h.on_epoch_start(state)
        gen = torch.Generator(device=device).manual_seed(epoch_seed(seed, epoch))
        torch.manual_seed(epoch_seed(seed, epoch) + 1)  # dropout and other global-RNG draws
        model.train()
        # kept per step, reduced once per epoch (no device sync per step)
        losses, sizes, totals, preds, labels = [], [], [], [], []
        loader = BatchLoader(train_set, cfg.batch_size, shuffle=True, drop_last=cfg.drop_last, generator=gen)
        for x, y in loader:
            for t in transforms:
                x, y = t(x, y, gen)
            if cl:
                x = x.contiguous(memory_format=torch.channels_last)
            step_begin()
            with step_context():
                with _autocast(cfg, device):
                    out = step_model(x)
                    batch_loss = loss(out, y)
                total = batch_loss
                for p in penalties:
                    total = total + p(model)
            optimizer.zero_grad(set_to_none=True)
            if scaler is None:
                total.backward()
                optimizer.step()
            else:
                scaler.scale(total).backward()
                scaler.step(optimizer)  # skipped when a gradient overflowed; the scale then shrinks
                scaler.update()
            state.step += 1
            for h in hooks:
                h.after_step(state)
            losses.append(batch_loss.detach())
            sizes.append(len(y))
            totals.append(total.detach())
            preds.append(loss.predict(out.detach()))
            labels.append(y)
            bar.update()

        train_loss, finite, correct = _epoch_totals(losses, sizes, totals, preds, labels)
        val = evaluate(model, splits.val, loss, batch_size=cfg.eval_batch_size, cfg=cfg)
        state.elapsed += time.perf_counter() - t0
        row = {
            "epoch": epoch + 1,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": train_loss,
            "train_acc": correct / max(sum(sizes), 1),
            "val_loss": val["loss"],
            "val_acc": val["acc"],
            "time": time.perf_counter() - t0,
        }
        if cfg.monitor_test:
            test = evaluate(model, splits.test, loss, batch_size=cfg.eval_batch_size, cfg=cfg)
            row.update(test_loss=test["loss"], test_acc=test["acc"])
        for h in hooks:
            row.update(h.on_epoch_end(state) or {})
        state.history.append(row)
        if not (finite and math.isfinite(train_loss) and math.isfinite(val["loss"])):
            status = "diverged"
            bar.epoch_end(f"diverged at epoch {epoch + 1}")
            break
        _keep_if_best(state, row)
        bar.epoch_end(f"epoch {epoch + 1}/{cfg.epochs} train_loss={train_loss:.4f} val_acc={val['acc']:.4f}")
        if ckpt_path is not None:
            save_checkpoint(ckpt_path, fingerprint, state, hooks, scaler)
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch and epoch + 1 < cfg.epochs:
            bar.close(f"stopped after epoch {epoch + 1}")
            return FitResult("interrupted", state.history, {}, {}, model)

    if state.best_state is not None and status == "completed":
        model.load_state_dict(state.best_state)
    metrics: dict[str, Any] = {
        "epochs_run": len(state.history),
        "best_epoch": state.best_epoch,
        "train_time_s": state.elapsed,
        "precision": cfg.precision,  # as resolved on this device (``auto`` never stays)
    }
    if status == "completed":
        best = state.history[state.best_epoch - 1]
        test = evaluate(model, splits.test, loss, batch_size=cfg.eval_batch_size, cfg=cfg)
        metrics.update(
            val_acc=best["val_acc"], val_loss=best["val_loss"], test_acc=test["acc"], test_loss=test["loss"]
        )
    extras: dict[str, Any] = {}
    state.status, state.metrics = status, metrics
    for h in hooks:
        extras.update(h.on_fit_end(state) or {})
    if cl:
        model.to(memory_format=torch.contiguous_format)
    bar.close(
        f"{status}, test_acc={metrics['test_acc']:.4f}" if status == "completed" else f"{status}"
    )
    return FitResult(status, state.history, metrics, extras, model)

