"""Styles made by code: a photo turned into a style reference (training data for the head regressor).

Each maps an RGB uint8 photo to an RGB uint8 "reference" of the same size and keeps the face findable, so
the adaptation job can align it. They span what the shared references do: line work (pencil, ink), flat
colour (posterise, cartoon), painterly smoothing (watercolour) and colour grades (sepia, teal-orange).
"""

from __future__ import annotations

import cv2
import numpy as np


def pencil(rgb: np.ndarray) -> np.ndarray:
    """Colour dodge of the blurred negative: grey paper, dark lines where the photo has edges."""
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    blur = cv2.GaussianBlur(255 - g, (0, 0), max(2.0, rgb.shape[0] / 80))
    return _grey(np.clip(g * 255 / np.maximum(255 - blur, 1), 0, 255))


def ink(rgb: np.ndarray) -> np.ndarray:
    """Black lines on white: an adaptive threshold of the smoothed luminance."""
    g = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 5)
    block = max(3, rgb.shape[0] // 40) | 1
    return _grey(cv2.adaptiveThreshold(g, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 6))


def posterise(rgb: np.ndarray, levels: int = 4) -> np.ndarray:
    step = 256 // levels
    return (rgb // step * step + step // 2).astype(np.uint8)


def cartoon(rgb: np.ndarray) -> np.ndarray:
    """Flat colour regions (repeated bilateral filtering, quantised) under dark outlines."""
    x = rgb
    for _ in range(5):
        x = cv2.bilateralFilter(x, 9, 40, 7)
    flat = posterise(x, 6)
    edges = ink(rgb)[..., :1] > 127
    return np.where(edges, flat, (flat * 0.15).astype(np.uint8))


def watercolour(rgb: np.ndarray) -> np.ndarray:
    return cv2.stylization(rgb[..., ::-1].copy(), sigma_s=60, sigma_r=0.45)[..., ::-1].copy()


def sepia(rgb: np.ndarray) -> np.ndarray:
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)
    return np.clip(rgb.astype(np.float32) @ m.T, 0, 255).astype(np.uint8)


def teal_orange(rgb: np.ndarray) -> np.ndarray:
    """A contrasty film grade: shadows toward teal, highlights toward orange (an S-curve on luminance)."""
    x = rgb.astype(np.float32) / 255
    y = x @ np.array([0.299, 0.587, 0.114], np.float32)
    s = y * y * (3 - 2 * y)
    s = s[..., None]
    tint = np.where(s < 0.5, [0.0, 0.5, 0.55], [1.0, 0.6, 0.35])
    w = np.abs(s - 0.5) * 2  # how far into the shadows or highlights: how much of the tint
    out = s * 0.65 + 0.35 * (tint * w + s * (1 - w))
    return np.clip(out * 255, 0, 255).astype(np.uint8)


def _grey(g: np.ndarray) -> np.ndarray:
    return np.repeat(np.asarray(g, np.uint8)[..., None], 3, 2)


STYLES = {f.__name__: f for f in (pencil, ink, posterise, cartoon, watercolour, sepia, teal_orange)}
