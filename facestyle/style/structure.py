"""The person's structure put back into a synthesised face: their own mid-band luminance over the features.

The synthesis copies the reference's material, and with it the reference's eyes, their size and its shading of
nose and mouth; dlib then kept the person's identity for about half of the faces. What identity rests on is the
shape of the eyes, brows, nose and mouth, seen at a middle band of scales: here the target's own luminance band
(a difference of Gaussians, 1 to 8 px at a 256 px crop) replaces the synthesis's band over those features,
scaled to the contrast the reference's face has in that band (a line drawing's strong, a flat cartoon's faint),
and applied as a change of brightness that keeps the synthesis's colour (shadows are the reference's skin darker).
The finer band (the reference's brushwork) and the coarser one (its tonal layout) stay the synthesis's, and so
does the rest of the face. Measured in docs/exemplar-synthesis.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facestyle.faces.landmarks import LEFT_EYE, NOSE, OUTER_LIPS, RIGHT_EYE, face_outline, inter_ocular, polygon_mask


@dataclass(frozen=True)
class StructureConfig:
    features: float = 1.0  # share of the target's band over the eyes, brows, nose and mouth (0: the synthesis)
    elsewhere: float = 0.0  # and over the rest of the head (flat styles get the photo's shading)
    band: tuple[float, float] = (1.0, 8.0)  # the band's Gaussian sigmas, in pixels at a 256 px crop
    # the features' region: each part's hull grown by this share of the eye distance. With the reference's
    # arrangement away from the features (synthesis.py), 27 references x 8 held-out faces, 0.2 / 0.25 / 0.28 /
    # 0.35 / 0.5: drift 5.05 / 4.86 / 4.65 / 4.61 / 4.43 % IOD, identity kept 92 / 94 / 95 / 97 / 99 %, texture
    # gain 0.313 / 0.313 / 0.309 / 0.303 / 0.279, identified 72 / 71 / 70 / 68 / 61 %
    grow: float = 0.25


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.asarray(rgb, np.float32), cv2.COLOR_RGB2GRAY)


def band(grey: np.ndarray, sigmas: tuple[float, float]) -> np.ndarray:
    s = grey.shape[0] / 256
    return cv2.GaussianBlur(grey, (0, 0), sigmas[0] * s) - cv2.GaussianBlur(grey, (0, 0), sigmas[1] * s)


def features_region(size: int, l68: np.ndarray, grow: float) -> np.ndarray:
    """(S, S) soft region over the eyes and brows, nose and mouth: each part's hull grown by `grow` of the
    eye distance, feathered by a tenth of it."""
    iod = inter_ocular(l68)
    hulls = [cv2.convexHull(np.round(l68[p]).astype(np.int32))[:, 0] for p in (slice(17, 22), slice(22, 27), LEFT_EYE, RIGHT_EYE, NOSE, OUTER_LIPS)]
    m = cv2.dilate(polygon_mask(size, hulls), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(2 * grow * iod) | 1,) * 2))
    return cv2.GaussianBlur(m, (0, 0), max(0.1 * iod, 0.5))


def restore_structure(made: np.ndarray, target: np.ndarray, target_l68: np.ndarray, target_head: np.ndarray,
                      reference: np.ndarray, reference_l68: np.ndarray, cfg: StructureConfig = StructureConfig()
                      ) -> np.ndarray:
    """`made` (float 0..255, the synthesis of `target`) with the target's band over its features. All crops
    are the same size; landmarks in their pixels. The change is the same on R, G and B (luminance only)."""
    size = target.shape[0]
    face_t, face_r = polygon_mask(size, [face_outline(target_l68)]), polygon_mask(size, [face_outline(reference_l68)])
    bt, bo, br = (band(_grey(c), cfg.band) for c in (target, made, reference))
    std = lambda b, m: float(np.sqrt((b ** 2 * m).sum() / max(m.sum(), 1.0)))  # noqa: E731
    gain = std(br, face_r) / max(std(bt, face_t), 1e-3)
    w = cfg.features * features_region(size, target_l68, cfg.grow)
    if cfg.elsewhere > 0:
        w = np.maximum(w, cfg.elsewhere * cv2.GaussianBlur(np.maximum(target_head, face_t), (0, 0), size / 64))
    return shift_luminance(made, w * (gain * bt - bo))


def shift_luminance(rgb: np.ndarray, delta: np.ndarray, most: float = 4.0) -> np.ndarray:
    """`rgb` (float 0..255) with its grey level moved by `delta`. Darker is R, G and B scaled together (down to
    1 / `most`), so a shadow on skin is a darker skin and not a grey blot; lighter, and what the scale leaves, is
    added equally to all three (scaling up would turn a dark brown into a vivid orange). The grey result is
    that of adding `delta`, up to clipping."""
    grey = _grey(rgb)
    # a black pixel has no colour to scale: it is only added to (and no change leaves it exactly as it was)
    ratio = np.where(grey > 1e-3, np.clip((grey + delta) / np.maximum(grey, 1e-3), 1 / most, 1.0), 1.0)
    rest = grey + delta - grey * ratio
    return np.clip(rgb * ratio[..., None] + rest[..., None], 0, 255)
