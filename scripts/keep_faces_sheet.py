"""The faces a style makes undetectable, and what keeping faces makes of them: per weakened held-out face, the
aligned input | the full style (lost) | as kept (weakened) | the reference. Instant head, no fine-tuning.

  python scripts/keep_faces_sheet.py [--style apdrawing-lineart_img_1682] [--out out/keep_faces.png]
"""

import argparse

import numpy as np
from PIL import Image

from facestyle.data import data_root, face_split, list_images, load_rgb
from facestyle.faces import align_face
from facestyle.imresize import fit_within
from facestyle.runtime import get_runtime
from facestyle.style.colour import ColourTarget
from facestyle.style.prior import HR_SIZE

p = argparse.ArgumentParser()
p.add_argument("--style", default="apdrawing-lineart_img_1682")
p.add_argument("--out", default="out/keep_faces.png")
p.add_argument("--rows", type=int, default=6)
a = p.parse_args()

root, rt = data_root(), get_runtime("lite")
s = rt.stylizer
ref = rt.reference_crop(load_rgb(next(p for p in list_images(root / "styles") if a.style in p.name)))
head, colour = rt.instant_head(ref), ColourTarget.of(ref)
rows = []
for path in face_split(root / "faces/single")[1]:
    rgb = fit_within(load_rgb(path), 512)
    found = s.detect(rgb)
    if not found:
        continue
    face = max(found, key=lambda f: f.box[2] - f.box[0])
    out, _, kept = s.stylize_keeping_faces(rgb, head, faces=[face], colour=colour)
    if kept[0] < 1:
        full = s.stylize(rgb, head, faces=[face], colour=colour)[0]
        rows.append(np.concatenate([align_face(x, face.landmarks, HR_SIZE)[0] for x in (rgb, full, out)] + [ref], 1))
        print(f"{path.name}: kept {kept[0]} of the style")
if rows:
    Image.fromarray(np.concatenate(rows[: a.rows], 0)).save(a.out)
    print(f"{len(rows)} weakened faces; sheet: {a.out}")
