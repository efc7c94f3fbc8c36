"""GPU timings in one run (for a lent device): style adaptation (lite, full) and live video fps, tracked vs
detect-every-frame. python scripts/device_bench.py [--frames 120]"""

import argparse
import time

import numpy as np
import skimage.data
import torch

from facestyle.eval.video import camera_clip, compare
from facestyle.runtime import get_runtime
from facestyle.style.adapt import AdaptConfig, adapt_head

ap = argparse.ArgumentParser()
ap.add_argument("--frames", type=int, default=120)
ap.add_argument("--steps", type=int, default=120)
a = ap.parse_args()
dev = "cuda" if torch.cuda.is_available() else "cpu"
print("device", torch.cuda.get_device_name() if dev == "cuda" else "cpu", "torch", torch.__version__)
astro = skimage.data.astronaut()
ref = (astro[..., [2, 0, 1]] // 64 * 64 + 32).astype(np.uint8)
for model in ("lite", "full"):
    rt = get_runtime(model, dev, 64)
    crop = rt.reference_crop(ref)
    t = time.perf_counter()
    h0 = rt.instant_head(crop)
    instant = time.perf_counter() - t
    adapt_head(rt.stylizer.generator, crop, rt.prior, h0, AdaptConfig(steps=3))  # warm-up
    if dev == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    _, hist = adapt_head(rt.stylizer.generator, crop, rt.prior, h0, AdaptConfig(steps=a.steps))
    if dev == "cuda":
        torch.cuda.synchronize()
    print(f"| adapt {model} | {a.steps} steps | {time.perf_counter() - t:.1f} s | instant {instant * 1000:.0f} ms | "
          f"loss {hist[0]['loss']:.3f} -> {hist[-1]['loss']:.3f} |")
    clip = camera_clip(astro, rt.stylizer.detect, n=a.frames)
    r = compare(rt.stylizer, rt.stylizer.photo_head, clip)
    for cfg in ("tracked", "baseline"):
        m = r[cfg]
        print(f"| video {model} 640x480 | {cfg} | {m['fps']:.1f} fps | {m['detector_calls_per_frame']:.2f} det/frame | "
              f"flicker {m['flicker']:.3f} |")
    print(f"| video {model} | tracked/baseline fps {r['fps_ratio']:.2f}x | flicker {r['flicker_reduction']:+.0%} |")
