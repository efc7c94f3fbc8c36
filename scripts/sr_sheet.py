"""Crop contact sheet for the SR models: bicubic | ours-PSNR | ours-GAN | HR.

python scripts/sr_sheet.py --out out/sr_sheet.png   (Set14 baboon and comic, two held-out faces)
"""

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from facestyle.data import data_root, face_split, load_rgb
from facestyle.eval.sr import FACE_SIDE, bicubic_upscaler, model_upscaler
from facestyle.imresize import imresize_uint8
from facestyle.metrics.psnr_ssim import psnr_y
from facestyle.weights import load_generator

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="out/sr_sheet.png")
ap.add_argument("--crop", type=int, default=128)
ap.add_argument("--zoom", type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(2)
root = data_root()
images = [root / "sr/Set14/baboon.png", root / "sr/Set14/comic.png"] + face_split(root / "faces/single")[1][:2]
models = {"bicubic": bicubic_upscaler(), "srresnet_full": model_upscaler(load_generator("srresnet_full")),
          "srgan_full": model_upscaler(load_generator("srgan_full"))}
rows = []
for p in images:
    hr = load_rgb(p)
    if max(hr.shape[:2]) > FACE_SIDE:
        hr = imresize_uint8(hr, FACE_SIDE / max(hr.shape[:2]))
    hr = hr[: hr.shape[0] // 4 * 4, : hr.shape[1] // 4 * 4]
    lr = imresize_uint8(hr, 0.25)
    cy, cx = hr.shape[0] // 2 // 4 * 4, hr.shape[1] // 2 // 4 * 4
    c = a.crop // 2
    cells, labels = [], []
    for name, fn in models.items():
        sr = fn(lr)
        cells.append(sr[cy - c : cy + c, cx - c : cx + c])
        labels.append(f"{name} {psnr_y(sr, hr):.2f} dB")
    cells.append(hr[cy - c : cy + c, cx - c : cx + c])
    labels.append(f"HR {p.stem[:16]}")
    rows.append((cells, labels))
z, s = a.zoom, a.crop * a.zoom
sheet = Image.new("RGB", (4 * s, len(rows) * (s + 14)), "white")
d = ImageDraw.Draw(sheet)
for j, (cells, labels) in enumerate(rows):
    for i, (cell, label) in enumerate(zip(cells, labels)):
        sheet.paste(Image.fromarray(cell).resize((s, s), Image.NEAREST), (i * s, j * (s + 14) + 14))
        d.text((i * s + 2, j * (s + 14) + 1), label, fill="black")
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
sheet.save(a.out)
print(f"wrote {a.out}")
