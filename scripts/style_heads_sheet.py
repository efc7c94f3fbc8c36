"""What a multi-style generator (facestyle train-styles) renders from each learned style head, on held-out faces.

Rows in pairs: the input, the photo head's output, then each style head's | the input twice, then each
procedural target. With --prior, two face-prior samples (no targets) follow.

  python scripts/style_heads_sheet.py runs/srresnet_lite_styles.pt --out out/style_heads.png [--faces 3] [--prior]
"""

import argparse

import numpy as np
import torch
from PIL import Image

from facestyle.data import data_root, face_split, load_rgb
from facestyle.faces import FaceDetector, align_face
from facestyle.imresize import fit_within
from facestyle.models import SRResNet
from facestyle.style.prior import HR_SIZE, FacePrior, downscale
from facestyle.style.procedural import STYLES
from facestyle.style.texture import crop_tensor
from facestyle.weights import WEIGHTS_DIR

p = argparse.ArgumentParser()
p.add_argument("weights")
p.add_argument("--out", default="out/style_heads.png")
p.add_argument("--faces", type=int, default=3)
p.add_argument("--prior", action="store_true", help="also a row of face-prior samples (the adaptation's content)")
a = p.parse_args()

ckpt = torch.load(a.weights, map_location="cpu", weights_only=True)
G, heads = SRResNet.from_checkpoint(ckpt).eval(), ckpt["style_heads"]
to_img = lambda t: (t[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).astype(np.uint8)  # noqa: E731
det, rows = FaceDetector(), []
lrs = []
for path in face_split(data_root() / "faces/single")[1][: a.faces]:
    rgb = fit_within(load_rgb(path), 512)
    face = max(det.detect(rgb), key=lambda f: f.box[2] - f.box[0])
    crop = align_face(rgb, face.landmarks, HR_SIZE)[0]
    lrs.append((crop, crop_tensor(downscale(crop)).clamp(0, 1)))
if a.prior:
    for x in FacePrior.load(WEIGHTS_DIR / "face_prior.npz").sample(2, np.random.default_rng(0)):
        lrs.append((None, x[None]))
for crop, lr in lrs:
    with torch.no_grad():
        first = crop if crop is not None else np.kron(to_img(lr), np.ones((4, 4, 1), np.uint8))  # the input
        rows.append(np.concatenate([first, to_img(G(lr))] + [to_img(G(lr, heads[i : i + 1])) for i in range(len(heads))], 1))
    if crop is not None:
        rows.append(np.concatenate([crop, crop] + [STYLES[n](crop) for n in ckpt["style_names"]], 1))
sheet = np.concatenate(rows, 0)
Image.fromarray(sheet).resize((sheet.shape[1] // 2, sheet.shape[0] // 2)).save(a.out)
print(f"wrote {a.out}")
