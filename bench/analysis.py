"""Post-training analysis time: the hooks that run after training (snapshot pruning, the threshold
sweep with its quantization sweeps, the t-SNE map), timed one by one on one trained network of a
stored grid, one case per model whose grid analyses after training.

The network is trained briefly (``--epochs``, on ``--train-samples`` examples) so that its weights
have a trained spread; the analysis cost depends on the model and the splits, not on how long it
trained. Needs ``$REGPRUNE_DATA`` with MNIST (the LeNets) or the CIFAR-10 JPEG copy (quicknet,
ResNet-20). ``bench/regeneration.py`` puts each stored case's total in place of its grid's stored
after-training time ("today's code").

    python bench/analysis.py                 # LeNet-5 of the comparison grid (issue 31: <= 60 s)
    python bench/analysis.py --case quicknet # the quick net of vc_bound_cifar
    python bench/analysis.py --case all      # every case, one after another (a few minutes)
    python bench/analysis.py --profile       # plus the top functions by cumulative time
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import pstats
import time

import torch

from pathlib import Path

from common import ANALYSIS_HOOKS, finish
from regprune import chapters, environment, experiment
from regprune.callbacks import HOOKS, FitState
from regprune.data import Splits
from regprune.losses import LOSSES
from regprune.train import TrainConfig, _channels_last, fit

CASES = {  # (grid, model): the stored grid whose first run of that model is analysed
    "lenet5": ("comparison", "lenet5"),
    "lenet300": ("comparison", "lenet300"),
    "quicknet": ("vc_bound_cifar", "quicknet"),
    "resnet20": ("efficiency_llr_cifar", "resnet20"),
}
TARGET_S = {"lenet5": 60.0}  # issue 31: a LeNet-5 run's analysis in at most a minute


def trained_state(config: dict, epochs: int, train_samples: int) -> FitState:
    splits = experiment.load_data(config)
    small = Splits(splits.train.subset(torch.arange(min(train_samples, len(splits.train)))), splits.val, splits.test,
                   splits.info)
    model = experiment.build_model(config, splits.train.num_classes, splits.train.input_shape)
    cfg = TrainConfig.from_dict({**config["train"], "epochs": epochs, "milestones": [epochs]})
    loss = experiment._build(LOSSES, config.get("loss", "cross_entropy"), "loss")
    result = fit(model, small, cfg, seed=int(config["seed"]), loss=loss, progress="none")
    if _channels_last(cfg, result.model, torch.device("cpu")):  # fit runs its hooks in the training layout
        result.model.to(memory_format=torch.channels_last)
    return FitState(model=result.model, optimizer=None, cfg=cfg, splits=splits, device=torch.device("cpu"),
                    loss=loss, seed=int(config["seed"]), status="completed", metrics=result.metrics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES) + ["all"], default="lenet5")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-samples", type=int, default=10000)
    parser.add_argument("--profile", action="store_true", help="print the top functions (cProfile)")
    args = parser.parse_args()
    for case in (CASES if args.case == "all" else [args.case]):
        measure(case, args)


def measure(case: str, args: argparse.Namespace) -> None:
    t_start = time.perf_counter()
    grid, model_name = CASES[case]
    config = next(c for c in chapters.configs(grid, "cpu") if c["model"]["name"] == model_name)
    state = trained_state(config, args.epochs, args.train_samples)
    rows = []
    for spec in config["hooks"]:
        if spec["name"] not in ANALYSIS_HOOKS:
            continue
        hook = HOOKS.get(spec["name"])(**{k: v for k, v in spec.items() if k != "name"})
        prof = cProfile.Profile() if args.profile else None
        t0 = time.perf_counter()
        if prof:
            prof.enable()
        hook.on_fit_end(copy.copy(state))
        if prof:
            prof.disable()
        seconds = time.perf_counter() - t0
        rows.append({"hook": spec["name"], "seconds": round(seconds, 2)})
        print(f"{case} {spec['name']}: {seconds:.1f} s", flush=True)
        if prof:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue())
    total = sum(r["seconds"] for r in rows)
    target = TARGET_S.get(case)
    table = "\n".join(f"{r['hook']:>20}  {r['seconds']:8.1f} s" for r in rows)
    table += f"\n{'analysis':>20}  {total:8.1f} s" + (f"  (target <= {target:.0f} s)" if target else "")
    out = Path(__file__).resolve().parent / "results" / f"analysis_{case}.json"
    finish({"case": case, "grid": grid, "key_config": config["model"], "hooks": rows, "total_s": round(total, 2),
            "target_s": target, "environment": environment.describe("cpu")}, table, time.perf_counter() - t_start,
           out)


if __name__ == "__main__":
    main()
