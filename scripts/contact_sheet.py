"""Contact sheet: rows are pictures, columns input | photo | per style (instant, fine-tuned).

python scripts/contact_sheet.py --out out/sheet.png [--styles a.png,b.png] [--faces x.jpg,...] [--steps 120]
Defaults: three shared style references and four held-out faces plus one group photo.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from facestyle.data import data_root, face_split, load_rgb
from facestyle.runtime import get_runtime
from facestyle.style.colour import ColourTarget

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="out/sheet.png")
ap.add_argument("--styles", default="jojogan_arcane_jinx.png,jojogan_sketch.png,dualstylegan-cartoon_Cartoons_00038_07.jpg")
ap.add_argument("--faces", default="")
ap.add_argument("--group", default="deepface_couple.jpg")
ap.add_argument("--steps", type=int, default=120)
ap.add_argument("--model", default="lite")
ap.add_argument("--cell", type=int, default=192)
a = ap.parse_args()
torch.set_num_threads(2)
root = data_root()
rt = get_runtime(a.model, "cpu", 64)
faces = [Path(f) for f in a.faces.split(",") if f] or face_split(root / "faces/single")[1][:4]
faces = [f if f.exists() else root / "faces/single" / f for f in faces] + ([root / "faces/group" / a.group] if a.group else [])
photo = rt.stylizer.photo_head
columns = [("input", None, None), ("photo", photo, None)]
for s in a.styles.split(","):
    crop = rt.reference_crop(load_rgb(root / "styles" / s))
    t = time.time()
    h0 = rt.instant_head(crop)
    h1, hist = rt.adapt(crop, h0, a.steps)
    print(f"{s}: instant + fine-tune {a.steps} steps {time.time() - t:.1f} s, loss {hist[0]['loss']:.3f} -> {hist[-1]['loss']:.3f}")
    target = ColourTarget.of(crop)  # every face lands on the reference's colours, as the service does
    columns += [(f"{s[:18]} ref", crop, None), (f"{s[:14]} instant", h0, target), (f"{s[:14]} tuned", h1, target)]


def fit(img, cell):
    im = Image.fromarray(img)
    im.thumbnail((cell * 3 // 2, cell))
    canvas = Image.new("RGB", (im.width, cell), "white")
    canvas.paste(im, ((canvas.width - im.width) // 2, (cell - im.height) // 2))
    return canvas


rows = []
for f in faces:
    rgb = load_rgb(f)
    if max(rgb.shape[:2]) > 1024:
        rgb = np.asarray(Image.fromarray(rgb).resize((rgb.shape[1] * 1024 // max(rgb.shape[:2]), rgb.shape[0] * 1024 // max(rgb.shape[:2]))))
    found = rt.stylizer.detect(rgb)
    if found:  # show the region around the faces
        b = np.array([f.box for f in found])
        x0, y0 = b[:, :2].min(0); x1, y1 = b[:, 2:].max(0)
        pad = 0.6 * max(x1 - x0, y1 - y0)
        box = [int(max(0, x0 - pad)), int(max(0, y0 - pad)), int(min(rgb.shape[1], x1 + pad)), int(min(rgb.shape[0], y1 + pad))]
    else:
        box = [0, 0, rgb.shape[1], rgb.shape[0]]
    cells = []
    for name, head, target in columns:
        if head is None:
            img = rgb
        elif isinstance(head, np.ndarray):
            cells.append(fit(head, a.cell)); continue
        else:
            img = rt.stylizer.stylize(rgb, head, faces=found, colour=target)[0]
        cells.append(fit(img[box[1]:box[3], box[0]:box[2]], a.cell))
    rows.append(cells)
widths = [max(r[i].width for r in rows) for i in range(len(columns))]
sheet = Image.new("RGB", (sum(widths), a.cell * len(rows) + 16), "white")
d = ImageDraw.Draw(sheet)
x = 0
for i, (name, _, _) in enumerate(columns):
    d.text((x + 2, 2), name, fill="black")
    for j, r in enumerate(rows):
        sheet.paste(r[i], (x, 16 + j * a.cell))
    x += widths[i]
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
sheet.save(a.out)
print(f"wrote {a.out} ({sheet.width}x{sheet.height})")
