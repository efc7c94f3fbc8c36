"""Train the learned instant estimate (style/regressor.py) on procedural styles of training-split faces.

For each procedural style x a few training faces: make the reference, adapt a head from the closed-form
estimate (as the job does), and record (descriptor of the reference, how the normalisation part moved).
Then pick the ridge strength by leaving each style out and write weights/head_regressor_<model>.npz.

  python scripts/train_head_regressor.py [--model lite] [--faces-per-style 3] [--steps 60] [--pairs out/pairs.npz]
"""

import argparse
import time
from pathlib import Path

import numpy as np

from facestyle.data import data_root, face_split, load_rgb
from facestyle.imresize import fit_within
from facestyle.runtime import NoFace, get_runtime
from facestyle.style.procedural import STYLES
from facestyle.style.regressor import HeadRegressor, describe, held_out_error

p = argparse.ArgumentParser()
p.add_argument("--model", default="lite")
p.add_argument("--faces-per-style", type=int, default=3)
p.add_argument("--steps", type=int, default=60)
p.add_argument("--pairs", default="out/regressor_pairs.npz", help="cache of (descriptor, head move) pairs")
p.add_argument("--out")
a = p.parse_args()

rt = get_runtime(a.model)
rt.regressor = None  # pairs start where the closed form does: the regressor learns the whole move from there
t0 = time.time()
if Path(a.pairs).exists():
    z = np.load(a.pairs)
    xs, ys, names = list(z["x"]), list(z["y"]), list(z["names"])
else:
    train = face_split(data_root() / "faces/single")[0]
    xs, ys, names = [], [], []
    for si, (sname, make) in enumerate(STYLES.items()):
        for j in range(a.faces_per_style):
            path = train[(si * a.faces_per_style + j) * 3 % len(train)]  # a different face for every pair
            rgb = fit_within(load_rgb(path), 384)
            try:
                crop = rt.reference_crop(make(rgb))
            except NoFace:
                print(f"{sname} {path.name}: no face in the reference, skipped")
                continue
            h0 = rt.instant_head(crop)
            h1, _ = rt.adapt(crop, h0, a.steps)
            xs.append(describe(crop))
            ys.append((h1 - h0)[:-12].numpy().astype(np.float64))
            names.append(f"{sname}:{path.name}")
            print(f"{names[-1]} |move| {np.linalg.norm(ys[-1]):.2f} ({time.time() - t0:.0f} s)", flush=True)
    Path(a.pairs).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(a.pairs, x=np.stack(xs), y=np.stack(ys), names=np.array(names))
x, y = np.stack(xs), np.stack(ys)
# the ridge strength is chosen for styles never seen: each procedural style held out in turn
styles = np.array([n.split(":")[0] for n in names])
errs = {lam: held_out_error(x, y, lam, styles) for lam in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 1e6)}
print("error on a held-out style, relative to no move (1e6: the mean move alone):", {k: round(v, 3) for k, v in errs.items()})
lam = min(errs, key=errs.get)
out = Path(a.out or f"weights/head_regressor_{a.model}.npz")
HeadRegressor.fit(x, y, lam).save(out)
print(f"{len(x)} pairs, lambda {lam}, held-out-style error {errs[lam]:.3f}, leave-one-pair-out "
      f"{held_out_error(x, y, lam):.3f} -> {out} ({time.time() - t0:.0f} s)")
