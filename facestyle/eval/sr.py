"""The SR benchmark harness: 4x PSNR/SSIM on Set5, Set14, BSD100 as the SRGAN paper reports them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from facestyle.data import face_split, list_images, load_rgb
from facestyle.imresize import imresize_uint8
from facestyle.metrics.psnr_ssim import psnr_ssim_y

Upscaler = Callable[[np.ndarray], np.ndarray]

PAPER_ROWS = {  # Ledig et al. 2017, Table 2 (PSNR / SSIM)
    "paper SRResNet": {"Set5": (32.05, 0.9019), "Set14": (28.49, 0.8184), "BSD100": (27.58, 0.7620)},
    "paper SRGAN": {"Set5": (29.40, 0.8472), "Set14": (26.02, 0.7397), "BSD100": (25.16, 0.6688)},
}


def bicubic_upscaler(scale: int = 4) -> Upscaler:
    return lambda lr: imresize_uint8(lr, scale)


def model_upscaler(model: torch.nn.Module, device: str = "cpu") -> Upscaler:
    model = model.to(device).eval()

    @torch.inference_mode()
    def run(lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(lr).permute(2, 0, 1)[None].float().div(255).to(device)
        y = model(x).clamp(0, 1).mul(255).round().byte()[0].permute(1, 2, 0)
        return y.cpu().numpy()

    return run


FACES = "Faces"  # the held-out fifth of faces/single, each shrunk to at most FACE_SIDE px


FACE_SIDE = 384


def set_images(sr_root: Path, name: str) -> tuple[list[Path], int | None]:
    """The image paths of a benchmark (a folder under sr_root) or of the held-out faces, and their max side."""
    if name == FACES:
        return face_split(sr_root.parent / "faces/single")[1], FACE_SIDE
    return list_images(sr_root / name), None


def evaluate_set(upscale: Upscaler, folder: Path | list[Path], scale: int = 4, limit: int | None = None,
                 max_side: int | None = None) -> dict:
    """Mean PSNR/SSIM (Y, shaved by `scale`) and seconds per image over one benchmark folder (or list)."""
    psnrs, ssims, seconds = [], [], 0.0
    paths = list_images(folder) if isinstance(folder, Path) else folder
    for path in paths[:limit]:
        with Image.open(path) as im:
            grey = im.mode in ("L", "I;16", "1")
        hr = load_rgb(path)
        if max_side and max(hr.shape[:2]) > max_side:
            hr = imresize_uint8(hr, max_side / max(hr.shape[:2]))
        h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
        hr = hr[:h, :w]
        lr = imresize_uint8(hr, 1 / scale)
        t0 = time.perf_counter()
        sr = upscale(lr)
        seconds += time.perf_counter() - t0
        if grey:  # the published scripts score a grey image (Set14 bridge) on its grey values, not on 16..235 Y
            hr, sr = hr[..., 0], np.round(sr.astype(np.float64) @ [0.299, 0.587, 0.114]).clip(0, 255)
        p, s = psnr_ssim_y(sr, hr, shave=scale)
        psnrs.append(p)
        ssims.append(s)
    n = max(len(psnrs), 1)
    return {"psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims)), "seconds": seconds / n, "images": len(psnrs)}


def evaluate(upscalers: dict[str, Upscaler], sr_root: Path, sets: list[str], limit: int | None = None) -> dict:
    images = {s: set_images(sr_root, s) for s in sets}
    return {name: {s: evaluate_set(fn, images[s][0], limit=limit, max_side=images[s][1]) for s in sets}
            for name, fn in upscalers.items()}


def markdown_table(results: dict, sets: list[str], paper: bool = True) -> str:
    head = "| model | " + " | ".join(f"{s} PSNR / SSIM" for s in sets) + " | s/image |"
    rows = [head, "|---" * (len(sets) + 2) + "|"]
    for name, per_set in results.items():
        cells = [f"{per_set[s]['psnr']:.2f} / {per_set[s]['ssim']:.4f}" for s in sets]
        secs = np.mean([per_set[s]["seconds"] for s in sets])
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {secs:.3f} |")
    if paper:
        for name, per_set in PAPER_ROWS.items():
            cells = [f"{per_set[s][0]:.2f} / {per_set[s][1]:.4f}" if s in per_set else "-" for s in sets]
            rows.append(f"| {name} | " + " | ".join(cells) + " | - |")
    return "\n".join(rows)
