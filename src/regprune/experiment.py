"""A run config (plain JSON) -> the objects the engine trains, and one executed run.

A run config looks like::

    {"chapter": "quickstart", "profile": "cpu", "seed": 0,
     "data": {"name": "mnist", "val_split": 5000, "split_seed": 0},
     "model": {"name": "lenet300"},
     "reparam": {"name": "compander", "fn": "arctan", "a": 1.0, "b": 0.6},  # optional
     "loss": {"name": "cross_entropy"},
     "transforms": [{"name": "crop_flip", "padding": 4}],
     "hooks": [], "penalties": [],
     "train": {"epochs": 20, "lr": 0.05, ...}}

Every name is looked up in a registry, so a config is checked whole (:func:`validate`)
before any data is read or any training starts.
"""

from __future__ import annotations

import inspect
import json
import math
import time
from pathlib import Path
from typing import Any

import torch

from . import augment, counting, data, filter_pruning, models, pruning, reparam, switcher  # noqa: F401  (they register hooks and reparams)
from .hooks import HOOKS
from .losses import LOSSES, PENALTIES
from .profiles import check_profile
from .registry import ConfigError, Registry, check_choice
from .train import TrainConfig, fit

SEED_MAX = 2**32 - 1  # numpy's seed range
CONFIG_KEYS = (
    "chapter", "profile", "seed", "data", "model", "reparam", "loss", "transforms", "hooks", "penalties", "train",
)


def _spec(spec: Any, param: str) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError(f"{param} must be a name or a dict with a 'name'; got {spec!r}")
    return dict(spec)


def _check_spec(registry: Registry, spec: Any, param: str) -> None:
    """The name exists and every keyword is one its builder accepts."""
    spec = _spec(spec, param)
    builder = registry.get(registry.check(spec.pop("name"), f"{param}.name"))
    params = inspect.signature(builder).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    for key in spec:
        if key not in params:
            raise ConfigError(f"{param}: unknown setting {key!r}; allowed: {sorted(params)}")


_VALIDATED: set[str] = set()  # canonical JSON of the configs this process has checked


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """Check every name and setting of a run config; raise ConfigError naming the bad one.

    A config is checked once, where it is made (:func:`regprune.chapters.configs`); the places that
    store or run it (:mod:`regprune.results`, :mod:`regprune.runner`, :func:`execute`) call this
    again as a guard for hand-made configs, and for one already checked (same content) that is a
    lookup, not a second check. A config changed in place is checked again."""
    canonical = json.dumps(config, sort_keys=True, default=repr)
    if canonical in _VALIDATED:
        return config
    _check(config)
    _VALIDATED.add(canonical)
    return config


def _check(config: dict[str, Any]) -> None:
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"unknown run config key(s) {unknown}; allowed: {list(CONFIG_KEYS)}")
    for key in ("chapter", "profile", "data", "model"):
        if key not in config:
            raise ConfigError(f"run config needs {key!r}")
    check_profile(config["profile"])
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ConfigError(f"seed={seed!r} is not allowed; allowed: an integer from 0 to {SEED_MAX}")
    data_spec = _spec(config["data"], "data")
    data.DATASETS.check(data_spec.pop("name"), "data.name")
    data.check_load_args(config["data"]["name"], **data_spec)
    model_spec = _spec(config["model"], "model")
    check_choice("model.init", model_spec.pop("init", "default"), models.INITS)
    _check_spec(models.MODELS, model_spec, "model")
    reparam.check(config.get("reparam"))
    _check_spec(LOSSES, config.get("loss", "cross_entropy"), "loss")
    _build(LOSSES, config.get("loss", "cross_entropy"), "loss")  # cheap objects: building checks values
    for key, registry in (("transforms", augment.TRANSFORMS), ("hooks", HOOKS), ("penalties", PENALTIES)):
        for i, spec in enumerate(config.get(key, [])):
            _check_spec(registry, spec, f"{key}[{i}]")
            _build(registry, spec, f"{key}[{i}]")
    TrainConfig.from_dict(config.get("train"))


def _build(registry: Registry, spec: Any, param: str, **extra: Any) -> Any:
    spec = _spec(spec, param)
    name = spec.pop("name")
    try:
        return registry.build(name, **extra, **spec)
    except TypeError as err:  # a misspelled keyword of a builder
        raise ConfigError(f"{param} {name!r}: {err}") from err


def load_data(config: dict[str, Any], data_root: str | Path | None = None) -> data.Splits:
    spec = _spec(config["data"], "data")
    return data.load(spec.pop("name"), root=data_root, **spec)


def build_model(config: dict[str, Any], num_classes: int | None = None,
                input_shape: tuple[int, ...] | None = None) -> torch.nn.Module:
    """The model of a run, initialized from the run's seed, with the run's reparameterization
    (initialized so that the effective weights equal the plain model's).

    ``input_shape`` (of one example): a builder with an ``input_dim`` argument (the FNNs, whose
    width depends on the data set) gets the product of it unless the config sets ``input_dim``."""
    torch.manual_seed(int(config.get("seed", 0)))
    spec = _spec(config["model"], "model")
    if num_classes is not None:
        spec.setdefault("num_classes", num_classes)
    if input_shape is not None and "input_dim" in inspect.signature(models.MODELS.get(spec["name"])).parameters:
        spec.setdefault("input_dim", math.prod(input_shape))
    init = spec.pop("init", "default")
    return reparam.apply(models.reinit(_build(models.MODELS, spec, "model"), init), config.get("reparam"))


def resolve_device(device: str | None = "auto") -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def execute(
    config: dict[str, Any],
    *,
    device: str | None = "auto",
    data_root: str | Path | None = None,
    checkpoint: str | Path | None = None,
    fingerprint: str = "",
    progress: str = "auto",
    desc: str | None = None,
    stop_after_epoch: int | None = None,
) -> dict[str, Any]:
    """Train one run config; return the record the results store keeps (minus env and key)."""
    validate(config)
    cfg = TrainConfig.from_dict(config.get("train"))
    dev = resolve_device(device)
    splits = load_data(config, data_root)
    model = build_model(config, splits.train.num_classes, splits.train.input_shape)
    loss = _build(LOSSES, config.get("loss", "cross_entropy"), "loss")
    transforms = [_build(augment.TRANSFORMS, t, "transforms") for t in config.get("transforms", [])]
    augment.bind_num_classes(transforms, splits.train.num_classes)  # mixup's (N, K) targets
    hooks = [_build(HOOKS, h, "hooks") for h in config.get("hooks", [])]
    penalties = [_build(PENALTIES, p, "penalties") for p in config.get("penalties", [])]
    t0 = time.perf_counter()
    result = fit(
        model,
        splits,
        cfg,
        seed=int(config.get("seed", 0)),
        loss=loss,
        transforms=transforms,
        penalties=penalties,
        hooks=hooks,
        device=dev,
        checkpoint=checkpoint,
        fingerprint=fingerprint,
        progress=progress,
        desc=desc or f"{config['chapter']}/{_spec(config['model'], 'model')['name']}/seed{config.get('seed', 0)}",
        stop_after_epoch=stop_after_epoch,
    )
    model = result.model.cpu()
    return {
        "status": result.status,
        "metrics": result.metrics,
        "history": result.history,
        "extras": result.extras,
        "counts": counting.summary(model, tuple(splits.train.input_shape)),
        "data": splits.info,
        "device": str(dev),
        "wall_time_s": time.perf_counter() - t0,
    }
