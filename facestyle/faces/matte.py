"""A background-aware matte for the paste: where the crop's pixels look like the background around the head,
the feathered falloff is cut back, so a style's colour and tone do not leave a halo on the backdrop.

The background model is the colours of the crop's outer ring (outside the feathered ellipse): the mean colours
of its most populated cells of a coarse RGB histogram (deterministic, unlike k-means' random starts); a pixel
close to one of them is background-like. The inner face (the matte's core) is never cut.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from facestyle.faces.paste import feather_mask


def background_matte(crop: np.ndarray, clusters: int = 6, near: float = 12.0, far: float = 36.0) -> np.ndarray:
    """(S,S) weights in 0..1 to multiply into the feather mask of this aligned crop."""
    size = crop.shape[0]
    mask = feather_mask(size)
    ring = crop[mask == 0].reshape(-1, 3).astype(np.float32)
    if len(ring) < clusters * 4:
        return np.ones((size, size), np.float32)
    cells = (ring // 32).astype(np.int64) @ np.array([64, 8, 1])
    counts = np.bincount(cells, minlength=512)
    top = np.argsort(counts)[::-1][:clusters]
    top = top[counts[top] >= 0.02 * len(ring)]  # colours that are really part of the backdrop
    centres = np.stack([ring[cells == c].mean(0) for c in top]) if len(top) else ring.mean(0, keepdims=True)
    # on every other pixel (a video pays this for each generated face): the matte is blurred by size/64 anyway;
    # subsampled, not averaged, so an edge between head and backdrop does not blend into a third colour
    pix = crop[::2, ::2].astype(np.float32)
    d2 = np.min([((pix - c) ** 2).sum(-1) for c in centres], axis=0)
    fg = np.clip((np.sqrt(d2) - near) / (far - near), 0, 1)
    fg = cv2.resize(cv2.GaussianBlur(fg, (0, 0), size / 128), (size, size), interpolation=cv2.INTER_LINEAR)
    return np.maximum(_core(size), fg).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _core(size: int) -> np.ndarray:
    """The inner face, softened: never cut."""
    return cv2.GaussianBlur((feather_mask(size) >= 1.0).astype(np.float32), (0, 0), size / 32)
