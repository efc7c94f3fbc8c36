"""Benchmark: what the identity ladder costs a still. ExemplarStylizer.stylize with and without it (dlib embeds
the photo's face and each made one), interleaved in one process, median seconds a face and the ratio.

  python scripts/bench_identity_ladder.py [--faces 4] [--repeats 2] [--styles jojogan_sketch.png jojogan_arcane_jinx.png]
"""

import argparse
import time

import numpy as np

from facestyle.data import data_root, face_split, load_rgb
from facestyle.imresize import fit_within
from facestyle.runtime import get_runtime

ap = argparse.ArgumentParser()
ap.add_argument("--faces", type=int, default=4, help="the first held-out single-face photos")
ap.add_argument("--repeats", type=int, default=2)
ap.add_argument("--styles", nargs="+", default=["jojogan_sketch.png", "jojogan_arcane_jinx.png"])
a = ap.parse_args()

ex, root = get_runtime("lite").exemplar, data_root()
photos = [fit_within(load_rgb(p), 768) for p in face_split(root / "faces/single")[1][: a.faces]]
faces = [ex.detect(p)[:1] for p in photos]
exemplars = [ex.exemplar(load_rgb(root / "styles" / n)) for n in a.styles]
seconds: dict[bool, list[float]] = {True: [], False: []}
steps = []
for _ in range(a.repeats):
    for photo, face in zip(photos, faces):
        for e in exemplars:
            for on in (False, True):
                report = {}
                t0 = time.perf_counter()
                ex.stylize(photo, e, faces=face, report=report, **({} if on else {"identity_ladder": ()}))
                seconds[on].append(time.perf_counter() - t0)
                steps += report["identity_steps"] if on else []
off, on = np.median(seconds[False]), np.median(seconds[True])
print(f"without the ladder {off:.3f} s a face, with {on:.3f} s (median of {len(seconds[True])}), ratio {on / off:.2f}; "
      f"faces that took a step: {sum(s > 0 for s in steps)} of {len(steps)}")
