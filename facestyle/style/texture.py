"""Colour-blind texture statistics: Gram matrices of VGG19 features of the standardised luminance."""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

TEXTURE_LAYERS = ("relu1_2", "relu2_1", "relu3_1")


@functools.lru_cache(maxsize=1)
def vgg():
    from facestyle.models.vgg import VGGFeatures

    return VGGFeatures(TEXTURE_LAYERS)


def inner_face(x: torch.Tensor, size: int = 128) -> torch.Tensor:
    """(N,3,S,S) aligned crops -> the inner face (an eighth of the border off), area-resized to size."""
    c = x.shape[-1] // 8
    return F.interpolate(x[..., c:-c, c:-c], size=(size, size), mode="area")


def luma(x: torch.Tensor) -> torch.Tensor:
    """(N,3,H,W) RGB -> (N,1,H,W) BT.601 luminance."""
    return (x * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1).to(x)).sum(1, keepdim=True)


def crop_tensor(crop: np.ndarray) -> torch.Tensor:
    """An aligned crop (H,W,3 uint8 or float 0..255) -> (1,3,H,W) float in 0..1."""
    return torch.from_numpy(np.array(crop)).permute(2, 0, 1).float().div(255)[None]


def luma_features(x: torch.Tensor) -> list[torch.Tensor]:
    """x (N,3,H,W) in 0..1 -> VGG features (TEXTURE_LAYERS) of its standardised luminance: colour-blind."""
    y = luma(x)
    y = (y - y.mean((2, 3), keepdim=True)) / (y.std((2, 3), keepdim=True) + 1e-4) * 0.2 + 0.45
    return vgg().to(x.device)(y.expand(-1, 3, -1, -1))


def gram_luma(x: torch.Tensor) -> list[torch.Tensor]:
    """x (N,3,H,W) in 0..1 -> Gram matrices of VGG features of its standardised luminance."""
    grams = []
    for f in luma_features(x):
        n, c, h, w = f.shape
        f = f.reshape(n, c, h * w)
        grams.append(f @ f.transpose(1, 2) / (c * h * w))
    return grams


def gram_distance(a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
    """Mean relative Frobenius distance between Gram sets (b is the target, broadcast over a's batch)."""
    return sum(((x - y).flatten(1).norm(dim=1) / (y.flatten(1).norm(dim=1) + 1e-8)).mean() for x, y in zip(a, b)) / len(a)
