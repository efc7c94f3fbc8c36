"""HR/LR training pairs held in memory (on the training device), sampled as random aligned crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from facestyle.data import load_rgb, pixel_hash
from facestyle.imresize import imresize


class LeakError(ValueError):
    """A training file has the pixels of a benchmark test image."""


def load_hr_images(paths: list[Path], forbidden: set[str], max_side: int = 512) -> list[np.ndarray]:
    images = []
    for p in paths:
        a = load_rgb(p)
        if pixel_hash(a) in forbidden:
            raise LeakError(f"{p} matches a test image pixel for pixel; refusing to train on it")
        h, w = a.shape[:2]
        if max(h, w) > max_side:  # large face photos: shrink (antialiased) so crops hold whole features
            t = imresize(torch.from_numpy(a).permute(2, 0, 1).double(), max_side / max(h, w))
            a = t.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
        images.append(a)
    return images


class PairSampler:
    """Random HR crops of size `crop` with the matching LR crop of the MATLAB-bicubic downscaled image."""

    def __init__(self, images: list[np.ndarray], scale: int = 4, crop: int = 96, device: str = "cpu", seed: int = 0):
        self.scale, self.crop = scale, crop
        self.hr, self.lr = [], []
        for a in images:
            h, w = (a.shape[0] // scale) * scale, (a.shape[1] // scale) * scale
            if h < crop or w < crop:
                continue
            hr = torch.from_numpy(np.ascontiguousarray(a[:h, :w])).permute(2, 0, 1).to(device)
            lr = imresize(hr.double(), 1 / scale).round().clamp(0, 255).to(torch.uint8)
            self.hr.append(hr)
            self.lr.append(lr)
        if not self.hr:
            raise ValueError("no training image is large enough for the crop size")
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.hr)

    def sample(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        s, c = self.scale, self.crop // self.scale
        idx = torch.randint(len(self.hr), (batch,), generator=self.gen).tolist()
        aug = torch.randint(8, (batch,), generator=self.gen).tolist()
        lrs, hrs = [], []
        for i, a in zip(idx, aug):
            lr_img, hr_img = self.lr[i], self.hr[i]
            y = int(torch.randint(lr_img.shape[1] - c + 1, (1,), generator=self.gen))
            x = int(torch.randint(lr_img.shape[2] - c + 1, (1,), generator=self.gen))
            lr = lr_img[:, y : y + c, x : x + c]
            hr = hr_img[:, y * s : (y + c) * s, x * s : (x + c) * s]
            lrs.append(_augment(lr, a))
            hrs.append(_augment(hr, a))
        return torch.stack(lrs).float() / 255, torch.stack(hrs).float() / 255


def _augment(t: torch.Tensor, code: int) -> torch.Tensor:
    """One of the 8 flips/rotations of the square."""
    if code & 1:
        t = t.flip(-1)
    if code & 2:
        t = t.flip(-2)
    if code & 4:
        t = t.transpose(-1, -2)
    return t
