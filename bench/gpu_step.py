"""Where one bare ResNet-20 training step's time goes on a GPU: the floor under `bench/gpu.py`.

The bare step (forward, cross-entropy, backward, ``torch.optim.SGD``) on one fixed batch of 128,
no data loading, augmentation or bookkeeping: fp32 and bf16 autocast, channels_last and
contiguous, each the mean of 100 steps after 10 warm-ups, synchronized at both ends. Then the
same step compiled in each of ``--modes`` (channels_last; ``reduce-overhead`` replays the step's
kernels as CUDA graphs), with SGD's foreach kernels and with its fused one (``train.fused``), the
floor the engine's ``train.compile`` modes can reach. Then the torch profiler's top operators of
the eager bf16 step by self CPU time over 20 steps, with their GPU time. Where the step's CPU time
(kernel launches above all) exceeds its GPU time, the step is launch-bound, and only fewer
launches (``torch.compile``, CUDA graphs) make it faster. Prints only; its output on the lent H200
is kept in ``bench/results/gpu_step.txt``.

    python bench/gpu_step.py [--device cuda] [--modes reduce-overhead default]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F
from torch.profiler import ProfilerActivity, profile

from regprune import models
from regprune.train import COMPILE_MODES, CUDA_GRAPH_MODES


def bare_step(device: str, precision: str, channels_last: bool, mode: str | None = None, fused: bool = False):
    torch.manual_seed(0)
    model = models.build("resnet20").to(device)
    x = torch.randn(128, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (128,), device=device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, fused=fused or None)
    net = torch.compile(model, mode=mode) if mode else model
    graphs = device == "cuda" and mode in CUDA_GRAPH_MODES

    def step():
        if graphs:
            torch.compiler.cudagraph_mark_step_begin()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--modes", nargs="*", default=["reduce-overhead"], choices=COMPILE_MODES,
                   help="torch.compile modes to time the step in (none: eager only)")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device is visible here (allowed: cpu, cuda)")
    cases = [(prec, cl, None, False) for prec in ("fp32", "bf16") for cl in (True, False)]
    cases += [(prec, True, mode, fused) for mode in args.modes for prec in ("fp32", "bf16") for fused in (False, True)]
    for precision, cl, mode, fused in cases:
        step = bare_step(args.device, precision, cl, mode, fused)
        for _ in range(10):
            step()
        sync(args.device)
        t = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync(args.device)
        ms = (time.perf_counter() - t) / args.steps * 1000
        how = f"compiled ({mode}){', fused SGD' if fused else ''}" if mode else ""
        print(" ".join(w for w in (precision, "channels_last" if cl else "contiguous", how, f"{ms:.2f} ms/step") if w),
              flush=True)
    step = bare_step(args.device, "bf16", False)  # the eager step, profiled
    for _ in range(10):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if args.device == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(20):
            step()
        sync(args.device)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    for e in events[:12]:
        gpu = getattr(e, "self_device_time_total", 0) / 1000 / 20
        print(f"{e.key[:50]:50} calls/step {e.count / 20:6.1f} self cpu ms/step "
              f"{e.self_cpu_time_total / 1000 / 20:7.3f} gpu ms/step {gpu:7.3f}")
    print("gpu total ms/step", sum(getattr(e, "self_device_time_total", 0) for e in events) / 1000 / 20)


if __name__ == "__main__":
    main()
