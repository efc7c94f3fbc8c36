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


def luma_features(x: torch.Tensor, weight: torch.Tensor | None = None) -> list[torch.Tensor]:
    """x (N,3,H,W) in 0..1 -> VGG features (TEXTURE_LAYERS) of its standardised luminance: colour-blind.
    `weight` (N,1,H,W), when given: the mean and spread it standardises by are taken over it."""
    y = luma(x)
    if weight is None:
        mean, std = y.mean((2, 3), keepdim=True), y.std((2, 3), keepdim=True)
    else:
        total = weight.sum((2, 3), keepdim=True).clamp_min(1e-6)
        mean = (y * weight).sum((2, 3), keepdim=True) / total
        std = (((y - mean) ** 2 * weight).sum((2, 3), keepdim=True) / total).sqrt()
    y = (y - mean) / (std + 1e-4) * 0.2 + 0.45
    return vgg().to(x.device)(y.expand(-1, 3, -1, -1))


def gram_luma(x: torch.Tensor, weight: torch.Tensor | None = None) -> list[torch.Tensor]:
    """x (N,3,H,W) in 0..1 -> Gram matrices of VGG features of its standardised luminance; with `weight`
    (N,1,H,W in 0..1), over the weighted region only (each layer's positions weighted by it, area-resized)."""
    grams = []
    for f in luma_features(x, weight):
        n, c, h, w = f.shape
        f = f.reshape(n, c, h * w)
        if weight is None:
            grams.append(f @ f.transpose(1, 2) / (c * h * w))
            continue
        wl = F.adaptive_avg_pool2d(weight, (h, w)).reshape(n, 1, h * w)
        grams.append((f * wl) @ f.transpose(1, 2) / (c * wl.sum(2, keepdim=True).clamp_min(1e-6)))
    return grams


def gram_distance(a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
    """Mean relative Frobenius distance between Gram sets (b is the target, broadcast over a's batch)."""
    return sum(((x - y).flatten(1).norm(dim=1) / (y.flatten(1).norm(dim=1) + 1e-8)).mean() for x, y in zip(a, b)) / len(a)
