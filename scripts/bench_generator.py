"""Benchmark: generator faces/s by model, batch and precision; ratio against batch 1 fp32 in the same run.

Usage: python scripts/bench_generator.py [--device cuda|cpu] [--weights-dir DIR]
"""

import argparse
import time

import torch

from facestyle.models import SRResNet, SRResNetConfig

ap = argparse.ArgumentParser()
ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
ap.add_argument("--size", type=int, default=64)
ap.add_argument("--batches", default="1,8,32")
ap.add_argument("--repeats", type=int, default=20)
a = ap.parse_args()
dev = torch.device(a.device)
if dev.type == "cpu":
    torch.set_num_threads(2)


def timed(fn, n):
    for _ in range(3):
        fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]


print(f"device {torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'}, torch {torch.__version__}")
print("| model | batch | dtype | ms/batch (median) | faces/s | vs batch 1 fp32 |")
print("|---|---|---|---|---|---|")
for name in ("lite", "full"):
    g = SRResNet(SRResNetConfig.preset(name)).to(dev).eval().to(memory_format=torch.channels_last)
    base = None
    dtypes = [torch.float32] + ([torch.bfloat16] if dev.type == "cuda" else [])
    for dtype in dtypes:
        for b in map(int, a.batches.split(",")):
            x = torch.rand(b, 3, a.size, a.size, device=dev).to(memory_format=torch.channels_last)
            heads = g.photo_head.detach().expand(b, -1).clone()

            def run():
                with torch.inference_mode(), torch.autocast(dev.type, dtype=dtype, enabled=dtype != torch.float32):
                    g(x, heads)

            ms = timed(run, a.repeats) * 1000
            fps = b / ms * 1000
            base = base or fps
            print(f"| {name} | {b} | {str(dtype)[6:]} | {ms:.2f} | {fps:.0f} | {fps / base:.2f}x |")
