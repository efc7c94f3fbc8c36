"""PSNR and SSIM as SR papers report them: Y of BT.601 (16..235, MATLAB's rgb2ycbcr), borders shaved."""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """uint8 RGB (or grey) -> float64 Y in [16, 235], unrounded as in the common evaluation scripts."""
    img = img.astype(np.float64)
    if img.ndim == 2:
        return img
    return 16.0 + (65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2]) / 255.0


def _prepare(sr: np.ndarray, hr: np.ndarray, shave: int) -> tuple[np.ndarray, np.ndarray]:
    if sr.shape != hr.shape:
        raise ValueError(f"shape mismatch: {sr.shape} vs {hr.shape}")
    a, b = rgb_to_y(sr), rgb_to_y(hr)
    if shave:
        a, b = a[shave:-shave, shave:-shave], b[shave:-shave, shave:-shave]
    return a, b


def psnr_y(sr: np.ndarray, hr: np.ndarray, shave: int = 4) -> float:
    a, b = _prepare(sr, hr, shave)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim_y(sr: np.ndarray, hr: np.ndarray, shave: int = 4) -> float:
    """Wang et al. 2004: Gaussian window (sigma 1.5, 11 taps), population covariance, L = 255."""
    a, b = _prepare(sr, hr, shave)
    return float(
        structural_similarity(a, b, data_range=255.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    )


def psnr_ssim_y(sr: np.ndarray, hr: np.ndarray, shave: int = 4) -> tuple[float, float]:
    return psnr_y(sr, hr, shave), ssim_y(sr, hr, shave)
