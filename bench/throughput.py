"""Training throughput of the regprune engine against a reference loop and the machine's limit.

Measured in one run, side by side (each case in a fresh subprocess, so its peak resident
memory is its own):

* **engine**: :func:`regprune.train.fit` on random data of the model's input shape held as one
  tensor (as the engine holds every data set), batch 128, SGD with momentum 0.9 and weight
  decay 5e-4, lr 0.01, channels_last for conv nets (the engine's ``"auto"``), ResNet-20 with the
  engine's batched ``random_crop_flip``. Throughput = training samples / the epoch's time
  (forward, loss, backward, optimizer step; the epoch's validation pass is over 16 samples),
  median over the epochs after the first (warm-up); **engine_fused**: the same with
  ``train.fused`` (one fused optimizer kernel per step: an opt-in, as its rounding differs);
* **plain**: the bare step (forward, loss, backward, ``torch.optim.SGD`` as constructed by default)
  on the engine's own batches, with none of the engine's bookkeeping: the speed of the model's
  compute, which no loop feeding in-memory batches beats. Engine / plain is the engine's
  overhead, and plain / reference the most any such loop can gain over the reference;
* **reference**: the loop the public reference trainers write: a ``Dataset`` that returns one
  sample at a time from uint8 images, converting and normalizing it per sample (as
  torchvision's ``ToTensor`` + ``Normalize``), for CIFAR with a per-sample random crop (pad 4)
  and flip; a ``DataLoader`` (batch 128, shuffle, ``--workers`` worker processes, 0 by default:
  this machine has 2 cores); a plain step; same model, optimizer and data sizes;
* **limit**: a square matmul (grown to 2048 or 0.05 s a product) in fp32 and bf16 timed in the same run; each training case's
  FLOP/s = 6 x forward MACs per sample x samples/s (a MAC is 2 FLOPs; backward costs about twice
  the forward), and its share of the matmul's FLOP/s;
* **memory**: peak resident set of each case's process (``ru_maxrss``);
* **end to end**: ``regprune train quickstart --profile cpu`` (LeNet-300-100, real MNIST, 3 seeds
  x 20 epochs) into a temporary store: wall time and CPU time (skipped without MNIST);
* **profile**: the torch profiler's top operators of one engine training step per model, to say
  where the time goes;
* **projection**: device-hours of every chapter's ``paper`` profile, from each run's epochs,
  training-set size and forward MACs at the FLOP/s of ResNet-20's engine case (a rough
  estimate: small and large networks reach different shares of the limit).

Results: ``bench/results/throughput.json`` (device, torch version, threads and settings with
every figure) and a table on stdout. ``--quick`` runs a few seconds (LeNet-300-100, tiny sizes).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import finish, is_cifar  # noqa: E402

from regprune import counting, models  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "throughput.json"
SHAPES = {"lenet300": (1, 28, 28), "lenet5": (1, 28, 28), "resnet20": (3, 32, 32)}
# samples per epoch and epochs per case: about 5-15 s of training each on a 2-core CPU
SIZES = {"lenet300": (20000, 5), "lenet5": (3000, 4), "resnet20": (512, 4)}
BATCH = 128
HELD_OUT = 16  # validation and test samples of the engine cases: the epoch's validation pass is timed with it
# engine: regprune.train.fit as every chapter runs it; engine_fused: the same with train.fused
# (fused optimizer kernels, an opt-in); plain: the bare step on the engine's batches; reference:
# the public reference trainers' DataLoader loop
LOOPS = ("engine", "engine_fused", "plain", "reference")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _uint8_data(name: str, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, *SHAPES[name]), generator=g, dtype=torch.uint8),
            torch.randint(0, 10, (n,), generator=g))


def _engine_splits(name: str, n: int):
    from regprune.data import ArrayDataset, Splits

    x, y = _uint8_data(name, n + 2 * HELD_OUT)
    x = (x.float() / 255 - 0.5) / 0.25
    ds = lambda a, b: ArrayDataset(x[a:b], y[a:b], 10, "random")  # noqa: E731
    return Splits(ds(0, n), ds(n, n + HELD_OUT), ds(n + HELD_OUT, n + 2 * HELD_OUT))


def _transforms(name: str) -> list:
    from regprune import augment

    return [augment.RandomCropFlip(padding=4)] if name == "resnet20" else []


def run_engine(name: str, n: int, epochs: int, device: str, fused: bool = False) -> dict[str, Any]:
    from regprune.train import TrainConfig, fit

    cfg = TrainConfig(epochs=epochs, batch_size=BATCH, lr=0.01, momentum=0.9, weight_decay=5e-4, select="last",
                      fused=fused)
    torch.manual_seed(0)
    result = fit(models.build(name), _engine_splits(name, n), cfg, transforms=_transforms(name), device=device,
                 progress="none")
    times = [row["time"] for row in result.history[1:]]
    return {"samples_per_s": n / statistics.median(times), "epoch_times_s": times}


def run_plain(name: str, n: int, epochs: int, device: str) -> dict[str, Any]:
    """The bare step on the engine's batches (same tensors, sampler, augmentation, memory format),
    with none of the engine's bookkeeping: the speed of the model's own compute, which no loop
    feeding in-memory batches can beat. Engine / plain is the engine's overhead."""
    from regprune.data import BatchLoader
    from regprune.train import TrainConfig, _channels_last

    train = _engine_splits(name, n).train.to(device)
    torch.manual_seed(0)
    model = models.build(name).to(device)
    channels_last = _channels_last(TrainConfig(), model, torch.device(device))
    if channels_last:
        model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    transforms = _transforms(name)

    def batches(epoch: int):
        gen = torch.Generator(device=device).manual_seed(epoch)
        for xb, yb in BatchLoader(train, BATCH, shuffle=True, generator=gen):
            for t in transforms:
                xb, yb = t(xb, yb, gen)
            yield (xb.contiguous(memory_format=torch.channels_last) if channels_last else xb), yb

    return _timed_epochs(model, opt, batches, epochs, n, device)


def _timed_epochs(model: nn.Module, opt: torch.optim.Optimizer, batches, epochs: int, n: int,
                  device: str) -> dict[str, Any]:
    """The plain step (forward, cross-entropy, backward, optimizer step) over ``batches(epoch)``;
    samples/s from the median epoch after the first (warm-up)."""
    times = []
    for epoch in range(epochs):
        model.train()
        t0 = time.perf_counter()
        for xb, yb in batches(epoch):
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return {"samples_per_s": n / statistics.median(times[1:]), "epoch_times_s": times[1:]}


class OneAtATime(torch.utils.data.Dataset):
    """What reference trainers hand to a DataLoader: one uint8 image at a time, converted,
    normalized and (for CIFAR) randomly cropped and flipped per sample."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, augment: bool):
        self.x, self.y, self.augment = x, y, augment

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = (self.x[i].float() / 255 - 0.5) / 0.25
        if self.augment:
            img = F.pad(img, (4, 4, 4, 4))
            top, left = torch.randint(0, 9, (2,)).tolist()
            img = img[:, top:top + 32, left:left + 32]
            if torch.rand(()) < 0.5:
                img = img.flip(-1)
        return img, int(self.y[i])


def run_reference(name: str, n: int, epochs: int, device: str, workers: int) -> dict[str, Any]:
    x, y = _uint8_data(name, n)
    loader = torch.utils.data.DataLoader(OneAtATime(x, y, name == "resnet20"), batch_size=BATCH, shuffle=True,
                                         num_workers=workers, pin_memory=device == "cuda")
    torch.manual_seed(0)
    model = models.build(name).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def batches(epoch: int):
        for xb, yb in loader:
            yield xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)

    return _timed_epochs(model, opt, batches, epochs, n, device)


def run_matmul(device: str, max_n: int = 2048, repeats: int = 5) -> dict[str, Any]:
    """Peak FLOP/s of a square matmul per dtype. The size grows from 256 until one product takes
    0.05 s (or reaches ``max_n``): a CPU without native bf16 runs bf16 100x slower than fp32, and
    a fixed 2048 would then take minutes."""
    out, sizes = {}, {}
    for dtype in (torch.float32, torch.bfloat16):
        n = 256
        while True:
            a = torch.randn(n, n, device=device, dtype=dtype)
            b = torch.randn(n, n, device=device, dtype=dtype)
            a @ b  # warm-up
            t0 = time.perf_counter()
            a @ b
            if device == "cuda":
                torch.cuda.synchronize()
            if time.perf_counter() - t0 >= 0.05 or n >= max_n:
                break
            n *= 2
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        name = str(dtype).split(".")[-1]
        out[name], sizes[name] = 2 * n**3 / statistics.median(times), n
    return {"flops_per_s": out, "n": sizes}


def profile_steps(name: str, device: str, steps: int = 6) -> list[dict[str, Any]]:
    """Where one engine training step's time goes: the torch profiler's top operators by self
    time over ``steps`` steps (after two warm-up steps), as the engine runs them."""
    from torch.profiler import ProfilerActivity, profile

    from regprune.train import OPTIMIZERS, TrainConfig, _channels_last, parameter_groups

    model = models.build(name).to(device)
    cfg = TrainConfig(lr=0.01, momentum=0.9, weight_decay=5e-4)
    channels_last = _channels_last(cfg, model, torch.device(device))
    opt = OPTIMIZERS.get(cfg.optimizer)(parameter_groups(model, cfg), cfg, model)  # as the engine builds it
    x = torch.randn(BATCH, *SHAPES[name], device=device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (BATCH,), device=device)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    return [{"op": e.key, "self_cpu_share": e.self_cpu_time_total / total, "calls": e.count,
             "self_cpu_ms_per_step": e.self_cpu_time_total / 1000 / steps} for e in events[:15]]


def case(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in this process (the parent starts one process per case)."""
    torch.set_num_threads(args.threads)
    if args.case == "matmul":
        result = run_matmul(args.device)
    elif args.case.startswith("profile:"):
        result = {"top_ops": profile_steps(args.case.split(":")[1], args.device)}
    else:
        loop, name = args.case.split(":")
        n, epochs = SIZES[name] if not args.quick else (512, 3)
        result = {"engine": lambda: run_engine(name, n, epochs, args.device),
                  "engine_fused": lambda: run_engine(name, n, epochs, args.device, fused=True),
                  "plain": lambda: run_plain(name, n, epochs, args.device),
                  "reference": lambda: run_reference(name, n, epochs, args.device, args.workers)}[loop]()
        result.update(samples=n, epochs=epochs, macs_per_sample=counting.count_macs(models.build(name), SHAPES[name])["total"])
    return {**result, "peak_rss_mb": peak_rss_mb()}


def spawn(case_name: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--case", case_name, "--threads", str(args.threads), "--device", args.device,
           "--workers", str(args.workers)] + (["--quick"] if args.quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"case {case_name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def end_to_end(args: argparse.Namespace) -> dict[str, Any]:
    """The quickstart chapter's cpu profile, trained from scratch into a temporary store."""
    data = Path(os.environ.get("REGPRUNE_DATA", "data"))
    if not (data / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists():
        return {"skipped": f"no MNIST under {data} (set REGPRUNE_DATA)"}
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        env = {**os.environ, "REGPRUNE_PROGRESS": "none", "OMP_NUM_THREADS": str(args.threads)}
        subprocess.run([sys.executable, "-m", "regprune", "train", "quickstart", "--profile", "cpu", "--device", "cpu",
                        "--data-root", str(data), "--results-dir", tmp], check=True, capture_output=True, env=env)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"chapter": "quickstart", "profile": "cpu", "runs": 3, "wall_s": wall, "cpu_s": cpu,
            "peak_rss_mb": after.ru_maxrss / 1024}


def projection(flops_per_s: float) -> list[dict[str, Any]]:
    """Device-hours of each chapter's paper profile at ``flops_per_s`` (6 x MACs per training sample)."""
    from regprune import chapters

    sizes = {"mnist": 55000, "cifar10": 45000, "cifar100": 45000, "dna": 1400, "a9a": 26049, "w8a": 39800}
    macs_of: dict[str, int] = {}  # forward MACs per sample, by model name (default settings)
    out = []
    for chapter in chapters.CHAPTERS.names():
        try:
            grid = chapters.configs(chapter, "paper", results_dir=tempfile.gettempdir() + "/regprune-empty")
        except Exception as err:  # a grid that needs stored results to list itself: say so, do not guess
            out.append({"chapter": chapter, "error": str(err)})
            continue
        samples, macs = 0.0, 0.0
        for c in grid:
            name = c["model"]["name"] if isinstance(c["model"], dict) else c["model"]
            if name not in macs_of:
                shape = models.MODELS.meta(name).get("input_shape") or (1, 28, 28)
                macs_of[name] = counting.count_macs(models.build(name), tuple(shape))["total"]
            n = sizes.get(c["data"]["name"], 50000) * c["train"]["epochs"]
            samples += n
            macs += n * macs_of[name]
        staged = "results_dir" in inspect.signature(chapters.CHAPTERS.get(chapter)).parameters
        out.append({"chapter": chapter, "runs": len(grid), "train_samples": samples, "cifar": is_cifar(grid),
                    "device_hours": 6 * macs / flops_per_s / 3600,
                    # a staged grid lists its later runs only once its search is stored: a lower bound
                    "lower_bound": staged})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--workers", type=int, default=0, help="reference DataLoader worker processes")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    p.add_argument("--quick", action="store_true", help="LeNet-300-100 only, tiny sizes: a smoke run")
    p.add_argument("--no-end-to-end", action="store_true")
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if args.case:
        print(json.dumps(case(args)))
        return
    if args.quick:
        args.models = ["lenet300"]
    t_start = time.perf_counter()
    matmul = spawn("matmul", args)
    rows = []
    for name in args.models:
        measured = {loop: spawn(f"{loop}:{name}", args) for loop in LOOPS}
        for loop, r in measured.items():
            flops = 6 * r["macs_per_sample"] * r["samples_per_s"]
            rows.append({"model": name, "loop": loop, "samples_per_s": r["samples_per_s"],
                         "speedup_vs_reference": r["samples_per_s"] / measured["reference"]["samples_per_s"],
                         "time_vs_plain": measured["plain"]["samples_per_s"] / r["samples_per_s"],
                         "gflops_per_s": flops / 1e9, "share_of_fp32_matmul": flops / matmul["flops_per_s"]["float32"],
                         "peak_rss_mb": r["peak_rss_mb"], "samples": r["samples"], "epochs": r["epochs"],
                         "epoch_times_s": r["epoch_times_s"], "macs_per_sample": r["macs_per_sample"]})
    profiles = {name: spawn(f"profile:{name}", args)["top_ops"] for name in args.models}
    e2e = {"skipped": "--no-end-to-end or --quick"} if args.no_end_to_end or args.quick else end_to_end(args)
    resnet = [r for r in rows if r["model"] == "resnet20" and r["loop"] == "engine"]
    rate = resnet[0]["gflops_per_s"] * 1e9 if resnet else rows[0]["gflops_per_s"] * 1e9
    result = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "environment": {"device": args.device, "device_name": torch.cuda.get_device_name() if args.device == "cuda"
                        else platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                        "torch": torch.__version__, "torch_threads": args.threads, "python": platform.python_version()},
        "settings": {"batch_size": BATCH, "optimizer": "sgd momentum 0.9, weight decay 5e-4, lr 0.01",
                     "reference_workers": args.workers, "quick": args.quick, "sizes": SIZES},
        "matmul": matmul,
        "rows": rows,
        "profiles": profiles,
        "end_to_end": e2e,
        "projection": {"flops_per_s": rate, "basis": "ResNet-20 engine case" if resnet else f"{rows[0]['model']} engine case",
                       "chapters": projection(rate)},
    }
    lines = [f"fp32 matmul: {matmul['flops_per_s']['float32'] / 1e9:.0f} GFLOP/s, "
             f"bf16: {matmul['flops_per_s']['bfloat16'] / 1e9:.0f} GFLOP/s",
             f"{'model':10} {'loop':12} {'samples/s':>10} {'x ref':>6} {'t/plain':>7} {'GFLOP/s':>8} {'of matmul':>9} "
             f"{'peak MB':>8}"]
    lines += [f"{r['model']:10} {r['loop']:12} {r['samples_per_s']:10.0f} {r['speedup_vs_reference']:6.2f} "
              f"{r['time_vs_plain']:7.2f} "
              f"{r['gflops_per_s']:8.1f} {r['share_of_fp32_matmul']:9.1%} {r['peak_rss_mb']:8.0f}" for r in rows]
    if "wall_s" in e2e:
        lines.append(f"end to end, quickstart cpu profile: {e2e['wall_s']:.0f} s wall, {e2e['cpu_s']:.0f} s CPU")
    finish(result, "\n".join(lines), time.perf_counter() - t_start, args.out, args.threads)


if __name__ == "__main__":
    main()
