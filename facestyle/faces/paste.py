"""Paste a generated face back into the full picture through the inverse alignment, with a feathered mask."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from facestyle.faces.align import TEMPLATE


@functools.lru_cache(maxsize=8)
def feather_mask(size: int) -> np.ndarray:
    """1 over the head, falling smoothly to exactly 0 well inside the crop's border."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    cx, cy = TEMPLATE[:, 0].mean() * size, TEMPLATE[:, 1].mean() * size * 0.93
    r = np.hypot((xx - cx) / (0.36 * size), (yy - cy) / (0.44 * size))
    t = np.clip((1.0 - r) / 0.3, 0, 1)  # r <= 0.7 -> 1, r >= 1 -> 0: the head, little of the background
    return (t * t * (3 - 2 * t)).astype(np.float32)


def paste_face(canvas: np.ndarray, face: np.ndarray, m: np.ndarray, matte: np.ndarray | None = None) -> np.ndarray:
    """Blend `face` (S x S x 3, in crop coordinates) into `canvas` (H x W x 3) where M maps canvas -> crop.
    `matte` (S x S, 0..1), if given, multiplies the feather mask (see faces/matte.py).

    Only the face's bounding box of the canvas is touched; outside the mask the canvas is unchanged.
    """
    size = face.shape[0]
    inv = cv2.invertAffineTransform(m)
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64) @ inv[:, :2].T + inv[:, 2]
    h, w = canvas.shape[:2]
    x0, y0 = np.floor(corners.min(0)).astype(int).clip(0, [w, h])
    x1, y1 = np.ceil(corners.max(0)).astype(int).clip(0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return canvas
    shift = inv.copy()
    shift[:, 2] -= (x0, y0)
    box = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(face.astype(np.float32), shift, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    weights = feather_mask(size) if matte is None else feather_mask(size) * matte
    mask = cv2.warpAffine(weights, shift, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    out = canvas.copy()
    out[y0:y1, x0:x1] = (mask * warped + (1 - mask) * region).round().clip(0, 255).astype(canvas.dtype) \
        if canvas.dtype == np.uint8 else mask * warped + (1 - mask) * region
    return out
