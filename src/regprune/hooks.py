"""Epoch hooks registered by name, so a run config can ask for them (``"hooks": [...]``).

A hook subclasses :class:`regprune.callbacks.Hook`; what ``on_epoch_end`` returns joins that
epoch's history row, what ``on_fit_end`` returns joins the run's ``extras``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from .callbacks import HOOKS, FitState, Hook
from .layers import weight_layers
from .registry import ConfigError
from .reparam import Compander

PERCENTILES = (100, 93, 84, 69, 50, 31, 16, 7, 0)  # max, ~±1.5σ, ±1σ, ±0.5σ, median, ..., min


@HOOKS.register("weight_stats")
class WeightStatistics(Hook):
    """Per-epoch percentiles, L2 norm and fraction of exact zeros of layers' effective weights.

    Effective means after any parametrization (a compander, a mask), i.e. what the layer
    computes with. History fields are ``w.<layer>.p<percentile>``, ``w.<layer>.l2``,
    ``w.<layer>.zeros``, and for each tolerance ``t`` in ``near_zero`` the fraction of weights
    with ``|w| < t`` as ``w.<layer>.near<t>``. ``first_only`` keeps the first weight layer
    (the layer paper 001's Figs. 3 and 4 follow).
    """

    def __init__(self, layers: Sequence[str] | None = None, percentiles: Sequence[float] = PERCENTILES,
                 near_zero: Sequence[float] = (), first_only: bool = False):
        self.layers = list(layers) if layers is not None else None
        self.percentiles = [float(p) for p in percentiles]
        self.near_zero = [float(t) for t in near_zero]
        self.first_only = bool(first_only)
        if any(not 0 <= p <= 100 for p in self.percentiles):
            raise ConfigError(f"weight_stats.percentiles must lie in [0, 100]; got {list(percentiles)}")
        if any(not t > 0 for t in self.near_zero):
            raise ConfigError(f"weight_stats.near_zero tolerances must be > 0; got {list(near_zero)}")
        if self.first_only and self.layers is not None:
            raise ConfigError("weight_stats: give either layers or first_only=True, not both")

    def on_fit_start(self, state: FitState) -> None:
        available = weight_layers(state.model)
        names = self.layers if self.layers is not None else list(available)[: 1 if self.first_only else None]
        unknown = [n for n in names if n not in available]
        if unknown:
            raise ConfigError(f"weight_stats.layers: unknown layer(s) {unknown}; allowed: {list(available)}")
        self._modules = {n: available[n] for n in names}

    @torch.no_grad()
    def on_epoch_end(self, state: FitState) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, module in self._modules.items():
            w = module.weight.detach().float().flatten()
            q = torch.quantile(w, torch.tensor(self.percentiles, device=w.device) / 100)
            row.update({f"w.{name}.p{p:g}": v for p, v in zip(self.percentiles, q.tolist())})
            row[f"w.{name}.l2"] = w.norm().item()
            row[f"w.{name}.zeros"] = (w == 0).float().mean().item()
            row.update({f"w.{name}.near{t:g}": (w.abs() < t).float().mean().item() for t in self.near_zero})
        return row


@HOOKS.register("compander_scales")
class CompanderScales(Hook):
    """Per-epoch ``a`` and ``b`` of every layer's compander (the paper logs them for learnable
    companders): history fields ``a.<layer>`` and ``b.<layer>``."""

    @torch.no_grad()
    def on_epoch_end(self, state: FitState) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, module in weight_layers(state.model).items():
            chain = getattr(getattr(module, "parametrizations", None), "weight", ())
            for p in chain:
                if isinstance(p, Compander):
                    row[f"a.{name}"], row[f"b.{name}"] = float(p.a), float(p.b)
        return row


@HOOKS.register("weight_histogram")
class WeightHistogram(Hook):
    """Histogram of each layer's final (selected) weights on fixed bins, for weight-distribution figures.

    Bins are ``bins`` equal intervals of [-limit, limit], the same for every run so runs can
    be overlaid; weights outside are counted in ``below`` / ``above``. Extras:
    ``weight_histogram`` with ``edges``, and per layer ``counts``, ``below``, ``above``, ``std``.
    """

    def __init__(self, limit: float = 0.5, bins: int = 200):
        if not limit > 0 or int(bins) < 1:
            raise ConfigError(f"weight_histogram needs limit > 0 and bins >= 1; got limit={limit!r}, bins={bins!r}")
        self.limit, self.bins = float(limit), int(bins)

    @torch.no_grad()
    def on_fit_end(self, state: FitState) -> dict[str, Any]:
        edges = torch.linspace(-self.limit, self.limit, self.bins + 1)
        layers = {}
        for name, module in weight_layers(state.model).items():
            w = module.weight.detach().float().flatten().cpu()
            layers[name] = {
                "counts": torch.histc(w, self.bins, -self.limit, self.limit).long().tolist(),
                "below": int((w < -self.limit).sum()),
                "above": int((w > self.limit).sum()),
                "std": w.std().item(),
            }
        return {"weight_histogram": {"edges": edges.tolist(), "layers": layers}}


@HOOKS.register("tsne_embedding")
class TSNEEmbedding(Hook):
    """A 2-D t-SNE map (scikit-learn) of what the last weight layer reads, for ``per_class``
    seeded random test samples of each class: paper 003's Fig. 2 draws one for DenseNet-40 on
    CIFAR-10 (50 per class). Stored in extras as ``tsne`` (coordinates rounded to 1e-3, labels)."""

    def __init__(self, per_class: int = 50, perplexity: float = 30.0):
        if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 2:
            raise ConfigError(f"tsne_embedding.per_class={per_class!r} must be an integer >= 2")
        if not perplexity > 0:
            raise ConfigError(f"tsne_embedding.perplexity={perplexity!r} must be > 0")
        self.per_class, self.perplexity = per_class, float(perplexity)

    @torch.no_grad()
    def on_fit_end(self, state: FitState) -> dict[str, Any]:
        from sklearn.manifold import TSNE  # lazy: only this hook needs scikit-learn's t-SNE

        if state.status != "completed":
            return {}
        test, model = state.splits.test, state.model
        g = torch.Generator().manual_seed(state.seed)
        picked = torch.cat([idx[torch.randperm(len(idx), generator=g)[: self.per_class]]
                            for c in range(test.num_classes) for idx in [(test.y == c).nonzero().squeeze(1)]])
        name, last = list(weight_layers(model).items())[-1]
        features: list[torch.Tensor] = []
        handle = last.register_forward_pre_hook(lambda m, args: features.append(args[0].flatten(1).float().cpu()))
        was_training = model.training
        model.eval()
        try:
            model(test.x[picked].to(state.device))
        finally:
            handle.remove()
            model.train(was_training)
        x = features[0].numpy()
        perplexity = min(self.perplexity, (len(x) - 1) / 3)  # scikit-learn needs perplexity < n_samples
        coords = TSNE(2, perplexity=perplexity, init="pca", random_state=state.seed).fit_transform(x)
        return {"tsne": {"layer": name, "labels": test.y[picked].tolist(),
                         "coords": [[round(float(a), 3), round(float(b), 3)] for a, b in coords]}}


def tsne_silhouette(tsne: dict[str, Any]) -> float:
    """Silhouette score of a stored 2-D t-SNE map (hook ``tsne_embedding``) by class: higher means
    tighter, better separated classes; NaN with fewer than two classes."""
    from sklearn.metrics import silhouette_score  # lazy: only t-SNE pages need scikit-learn

    y = np.asarray(tsne["labels"])
    return float(silhouette_score(np.asarray(tsne["coords"]), y)) if len(set(y.tolist())) > 1 else float("nan")
