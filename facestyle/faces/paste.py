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


def outline_mask(size: int, outline: np.ndarray, feather: float = 0.025) -> np.ndarray:
    """(S, S) blend weights of a face whose outline (jaw and hairline, crop pixels) is given: 1 inside, falling
    to 0 at the outline over `feather` of the crop, so the blend follows the jaw line and forehead."""
    m = np.zeros((size, size), np.uint8)
    cv2.fillPoly(m, [np.round(outline).astype(np.int32)], 1)
    r = max(1, int(round(feather * size)))
    m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return cv2.GaussianBlur(m.astype(np.float32), (0, 0), r / 1.5)


def _multiband(a: np.ndarray, b: np.ndarray, mask: np.ndarray, levels: int) -> np.ndarray:
    """Laplacian-pyramid blend of a over b (Burt and Adelson): each band blends over a width fitting it, so a
    colour difference between face and photo fades out wide while brush detail stops sharp at the outline."""
    ga, gb, gm = [a], [b], [mask]
    for _ in range(levels):
        ga.append(cv2.pyrDown(ga[-1]))
        gb.append(cv2.pyrDown(gb[-1]))
        gm.append(cv2.pyrDown(gm[-1]))
    out = gm[-1][..., None] * ga[-1] + (1 - gm[-1][..., None]) * gb[-1]
    for i in range(levels - 1, -1, -1):
        size = ga[i].shape[1::-1]
        la, lb = ga[i] - cv2.pyrUp(ga[i + 1], dstsize=size), gb[i] - cv2.pyrUp(gb[i + 1], dstsize=size)
        out = cv2.pyrUp(out, dstsize=size) + gm[i][..., None] * la + (1 - gm[i][..., None]) * lb
    return out


def paste_blended(canvas: np.ndarray, face: np.ndarray, m: np.ndarray, mask: np.ndarray, levels: int = 4) -> np.ndarray:
    """Blend `face` (S x S x 3 crop) into `canvas` (uint8) where M maps canvas -> crop, weights `mask` (S x S,
    crop coordinates), band by band. Outside the mask's support (grown by the widest band) nothing changes."""
    size = face.shape[0]
    inv = cv2.invertAffineTransform(m)
    ys, xs = np.nonzero(mask > 1e-3)
    if len(xs) == 0:
        return canvas
    corners = np.array([[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.min(), ys.max()], [xs.max(), ys.max()]],
                       np.float64) @ inv[:, :2].T + inv[:, 2]
    h, w = canvas.shape[:2]
    grow = 2 ** levels * 2
    x0, y0 = (np.floor(corners.min(0)).astype(int) - grow).clip(0, [w, h])
    x1, y1 = (np.ceil(corners.max(0)).astype(int) + grow).clip(0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return canvas
    shift = inv.copy()
    shift[:, 2] -= (x0, y0)
    box = (x1 - x0, y1 - y0)
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    warped = cv2.warpAffine(face.astype(np.float32), shift, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    weight = cv2.warpAffine(mask.astype(np.float32), shift, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    inside = cv2.warpAffine(np.ones((size, size), np.float32), shift, box, flags=cv2.INTER_NEAREST)[..., None]
    warped = inside * warped + (1 - inside) * region  # beyond the crop the face's bands are the picture's
    levels = max(1, min(levels, int(np.log2(max(2, min(box)))) - 2))
    blended = _multiband(warped, region, weight, levels)
    far = weight < 1e-3  # pixels the face does not reach at any band stay exactly as they were
    far = cv2.erode(far.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2 ** levels).astype(bool)
    blended[far] = region[far]
    out = canvas.copy()
    out[y0:y1, x0:x1] = blended.round().clip(0, 255).astype(canvas.dtype)
    return out
