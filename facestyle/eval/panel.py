"""Measures of a stylized face that neither blur nor artifacts can pass.

- identification: is the output made of its own reference's patches? Nearest-patch distances from the output to
  each reference, relative to the input's (so a face that already resembles a reference gains nothing); the
  output is identified when its own reference has the lowest ratio. Two patch kinds: mean-removed luminance
  (texture and line work; colour cannot move it) and small RGB patches (palette with its local arrangement).
  A blur lowers patch contrast, which brings the output no nearer to a textured reference than to any other;
- detail_ratio: high-frequency energy of the pasted face over the photo's, where an upscaled small crop fails;
- seam_ratio: gradient energy along the blend edge over the photo's, where a visible paste line fails;
- baselines: the photo with the reference's colours only, and that blurred, scored as served outputs are.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from facestyle.faces.paste import feather_mask
from facestyle.style.colour import ColourTarget

_Y = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601
# (resized size, patch size, reference stride, query stride) per kind: luminance texture, RGB colour
_KINDS = ((128, 7, 2, 3), (64, 5, 1, 2))


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ _Y / 255


def _patches(img: np.ndarray, size: int, k: int, stride: int, centre_mean: bool) -> torch.Tensor:
    """(N, C*k*k) patches of an HxW(xC) float image, those centred in the inner face (feather mask >= 0.5)."""
    x = torch.from_numpy(np.ascontiguousarray(img.reshape(size, size, -1).transpose(2, 0, 1)))[None]
    p = F.unfold(x, k, stride=stride)[0].T  # (L, C*k*k), row-major over top-left corners
    n = (size - k) // stride + 1
    centres = (feather_mask(size) >= 0.5)[k // 2::stride, k // 2::stride][:n, :n]
    p = p[torch.from_numpy(centres.reshape(-1))]
    return p - p.mean(1, keepdim=True) if centre_mean else p  # texture only: local brightness is not style


def patch_descriptors(crop: np.ndarray, query: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Luminance 7x7 patches (mean removed) at 128 px and RGB 5x5 patches at 64 px of an aligned crop.
    The query side is subsampled (every 3rd / 2nd position): a mean over query patches needs fewer samples than
    the reference side, which must be dense so that a copied patch finds its source."""
    (sa, ka, ra, qa), (sb, kb, rb, qb) = _KINDS
    y = _luma(cv2.resize(crop, (sa, sa), interpolation=cv2.INTER_AREA))
    rgb = cv2.resize(crop, (sb, sb), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return (_patches(y, sa, ka, qa if query else ra, True), _patches(rgb, sb, kb, qb if query else rb, False))


def _min_dist(query: torch.Tensor, refs: torch.Tensor, chunk: int = 128) -> torch.Tensor:
    """(R,) mean over query patches of the min L2 distance into each of R stacked (R, N, D) reference sets."""
    r, n, _ = refs.shape
    flat = refs.reshape(r * n, -1)
    r2 = (flat * flat).sum(1)
    mins = []
    for q in query.split(chunk):  # |q|^2 + |r|^2 - 2 q.r as one matmul against all references, min before sqrt
        d2 = torch.addmm(r2[None], q, flat.T, alpha=-2).view(len(q), r, n).amin(2)
        mins.append((d2 + (q * q).sum(1, keepdim=True)).clamp_min(0).sqrt())
    return torch.cat(mins).mean(0)


def nearest_patch_distance(query: torch.Tensor, reference: torch.Tensor) -> float:
    """Mean over query patches of the L2 distance to the nearest reference patch (one descriptor kind)."""
    return float(_min_dist(query, reference[None])[0])


class ReferencePatches:
    """The dense descriptors of all references, stacked (every crop gives the same patch count: the region
    depends only on the resized size), so one output is measured against all of them in one batched cdist.
    Inputs recur across styles, so their distances are cached by key."""

    def __init__(self, reference_crops: list[np.ndarray]):
        descs = [patch_descriptors(c) for c in reference_crops]
        self.refs = [torch.stack([d[i] for d in descs]) for i in range(len(_KINDS))]
        self._inputs: dict = {}

    def distances(self, crop: np.ndarray) -> torch.Tensor:
        """(kinds, R) nearest-patch distances from a crop to every reference."""
        with torch.no_grad():
            return torch.stack([_min_dist(q, r) for q, r in zip(patch_descriptors(crop, query=True), self.refs)])

    def identify(self, output_crop: np.ndarray, input_crop: np.ndarray, own: int, input_key=None) -> dict:
        # a content hash, not id(): ids are reused once an array is freed
        key = input_key if input_key is not None else (input_crop.shape, hashlib.blake2b(input_crop.tobytes()).digest())
        if key not in self._inputs:
            self._inputs[key] = self.distances(input_crop)
        rel = (self.distances(output_crop) / self._inputs[key].clamp_min(1e-9)).mean(0)
        order = torch.argsort(rel).tolist()
        return {"identified": order[0] == own, "rank": order.index(own), "order": order, "rel_own": float(rel[own]),
                "rel": rel.tolist()}


def identification(output_crop: np.ndarray, input_crop: np.ndarray, reference_crops, own: int) -> dict:
    """rel_r = mean over kinds of d(output, r) / d(input, r); identified when the own reference has the lowest.
    `reference_crops` is a list of crops or a prebuilt ReferencePatches (the cache)."""
    refs = reference_crops if isinstance(reference_crops, ReferencePatches) else ReferencePatches(reference_crops)
    return refs.identify(output_crop, input_crop, own)


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    return float((x * w).sum() / max(float(w.sum()), 1e-9))


def detail_ratio(output: np.ndarray, inp: np.ndarray, mask: np.ndarray) -> float:
    """Mask-weighted energy of luminance minus its Gaussian blur (sigma 1.5 px), output over input, both full
    pictures: measured at the face's pasted size, where a small crop upscaled shows as missing detail."""
    def hf(img):
        y = _luma(img)
        return (y - cv2.GaussianBlur(y, (0, 0), 1.5)) ** 2
    w = mask.astype(np.float32)
    return _weighted_mean(hf(output), w) / max(_weighted_mean(hf(inp), w), 1e-12)


def _ring(blend_mask: np.ndarray) -> np.ndarray:
    """The blend edge: where the mask is partial, dilated 2 px; for a hard mask, its 0.5 contour dilated 3 px."""
    m = blend_mask.astype(np.float32)
    ring = ((m > 0.05) & (m < 0.95)).astype(np.uint8)
    if ring.any():
        return cv2.dilate(ring, np.ones((5, 5), np.uint8)) > 0
    inside = (m >= 0.5).astype(np.uint8)
    edge = cv2.dilate(inside, np.ones((3, 3), np.uint8)) - cv2.erode(inside, np.ones((3, 3), np.uint8))
    return cv2.dilate(edge, np.ones((7, 7), np.uint8)) > 0


def seam_ratio(output: np.ndarray, inp: np.ndarray, blend_mask: np.ndarray) -> float:
    """Sobel gradient energy of luminance on the blend edge ring, output over input; no seam is about 1."""
    ring = _ring(blend_mask)
    if not ring.any():
        return 1.0

    def energy(img):
        y = _luma(img)
        g = cv2.Sobel(y, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(y, cv2.CV_32F, 0, 1) ** 2
        return float(g[ring].mean())
    return energy(output) / max(energy(inp), 1e-12)


def colour_transfer_baseline(input_crop: np.ndarray, reference_crop: np.ndarray) -> np.ndarray:
    """The photo moved onto the reference's colour Gaussian, nothing else: what a style must beat."""
    return ColourTarget.of(reference_crop).apply(input_crop).round().clip(0, 255).astype(np.uint8)


def blurred_baseline(input_crop: np.ndarray, reference_crop: np.ndarray) -> np.ndarray:
    """The colour baseline blurred by sigma 2 px at 128 px (scaled with the crop): a blur must not score."""
    sigma = 2.0 * input_crop.shape[0] / 128
    return cv2.GaussianBlur(colour_transfer_baseline(input_crop, reference_crop), (0, 0), sigma)
