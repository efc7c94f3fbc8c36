"""How far can the texture statistic be pushed at all? Optimise the output pixels of aligned held-out faces
directly for it (Gatys: Adam on pixels), with the adaptation's structure loss holding the face's shape, and
report the texture gain, the structure loss and how many faces MTCNN still finds (on the crop, edge-padded).

A ceiling for the metric, not a method: it takes 150 steps per face batch and draws what the Gram matrices
ask for, which is not what the reference looks like. Look at the sheet (per style: reference, then 4 faces).

  python scripts/texture_ceiling.py --styles Cartoons_00003,jinx,sketch4 --lams 0,0.5,2 --sheet out/ceiling.png
"""

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from facestyle.data import data_root, face_split, list_images, load_rgb
from facestyle.faces import align_face
from facestyle.imresize import fit_within
from facestyle.runtime import get_runtime
from facestyle.style.adapt import _standardised_luma
from facestyle.style.prior import HR_SIZE
from facestyle.style.texture import crop_tensor, gram_distance, gram_luma, inner_face

p = argparse.ArgumentParser()
p.add_argument("--styles", required=True, help="comma-separated parts of reference file names")
p.add_argument("--lams", default="0,0.5,2", help="structure loss weights")
p.add_argument("--faces", type=int, default=6)
p.add_argument("--steps", type=int, default=150)
p.add_argument("--sheet")
a = p.parse_args()

torch.manual_seed(0)
root, rt = data_root(), get_runtime("lite")
faces = []
for path in face_split(root / "faces/single")[1][: a.faces + 2]:
    rgb = fit_within(load_rgb(path), 512)
    found = rt.stylizer.detect(rgb)
    if found:
        faces.append(align_face(rgb, max(found, key=lambda f: f.box[2] - f.box[0]).landmarks, HR_SIZE)[0])
faces = faces[: a.faces]
x_in = torch.cat([crop_tensor(c) for c in faces])
structure = lambda x: F.l1_loss(_standardised_luma(x), _standardised_luma(x_in))  # noqa: E731


def distances(x, ref_grams):  # per face; the whole batch through VGG at once
    grams = gram_luma(inner_face(x))
    return torch.stack([gram_distance([g[i : i + 1] for g in grams], ref_grams) for i in range(len(x))])


rows = []
for sp in list_images(root / "styles"):
    if not any(n in sp.name for n in a.styles.split(",")):
        continue
    ref_crop = rt.reference_crop(load_rgb(sp))
    ref_grams = [g.detach() for g in gram_luma(inner_face(crop_tensor(ref_crop)))]
    with torch.no_grad():
        d_in = distances(x_in, ref_grams)
    for lam in (float(v) for v in a.lams.split(",")):
        pix = x_in.clone().requires_grad_(True)
        opt = torch.optim.Adam([pix], lr=0.01)
        for _ in range(a.steps):
            x = pix.clamp(0, 1)
            loss = gram_distance(gram_luma(inner_face(x)), ref_grams) + lam * structure(x)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            x = pix.clamp(0, 1)
            gain = (1 - distances(x, ref_grams) / d_in).mean().item()
            s = structure(x).item()
        imgs = (x.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
        kept = sum(bool(rt.stylizer.detect(np.pad(im, ((64, 64), (64, 64), (0, 0)), mode="edge"))) for im in imgs)
        print(f"{sp.name[:30]:30s} structure weight {lam:4.1f}: texture gain {gain:+.3f}, structure loss {s:.3f}, "
              f"faces found {kept}/{len(imgs)}", flush=True)
        rows.append(np.concatenate([ref_crop] + list(imgs[:4]), 1))
if a.sheet and rows:
    Image.fromarray(np.concatenate(rows, 0)).save(a.sheet)
    print("sheet:", a.sheet)
