"""Benchmark: what keeping faces costs a still. stylize vs stylize_keeping_faces (which detects once more in the
pasted picture, and again per round where a face was lost), median ms over repeats, ratio in the same run.

  python scripts/bench_keep_faces.py [--repeats 5] [--style apdrawing-lineart_img_1682]
"""

import argparse
import time

import skimage.data

from facestyle.data import data_root, list_images, load_rgb
from facestyle.imresize import fit_within
from facestyle.runtime import get_runtime
from facestyle.style.colour import ColourTarget

ap = argparse.ArgumentParser()
ap.add_argument("--repeats", type=int, default=5)
ap.add_argument("--style", default="apdrawing-lineart_img_1682", help="a shared reference (instant head)")
a = ap.parse_args()

rt = get_runtime("lite")
s = rt.stylizer
root = data_root()
ref = rt.reference_crop(load_rgb(next(p for p in list_images(root / "styles") if a.style in p.name)))
head, colour = rt.instant_head(ref), ColourTarget.of(ref)
pictures = [("astronaut 512", skimage.data.astronaut())]
pictures += [(p.name[:24], fit_within(load_rgb(p), 1024)) for p in list_images(root / "faces/group")[:3]]


def median_ms(fn) -> float:
    fn()
    ts = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2] * 1000


print(f"style {a.style} (instant head), lite, {s.precision}")
print("| picture | size | faces | weakened | stylize ms | keeping faces ms | ratio |")
print("|---|---|---|---|---|---|---|")
for name, rgb in pictures:
    faces = s.detect(rgb)
    plain = median_ms(lambda: s.stylize(rgb, head, faces=faces, colour=colour))
    kept = median_ms(lambda: s.stylize_keeping_faces(rgb, head, faces=faces, colour=colour))
    weakened = sum(k < 1 for k in s.stylize_keeping_faces(rgb, head, faces=faces, colour=colour)[2])
    print(f"| {name} | {rgb.shape[1]}x{rgb.shape[0]} | {len(faces)} | {weakened} | {plain:.0f} | {kept:.0f} | {kept / plain:.2f} |")
