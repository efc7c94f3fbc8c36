"""Guides for exemplar synthesis, built from a face's 68 landmarks on its aligned crop (FaceStyle's three kinds):

- positional: where in the reference crop each target pixel corresponds to: a piecewise-affine map over a
  Delaunay triangulation of the landmarks, estimated forehead points and the crop's border. Only this map is
  warped, never the reference's pixels;
- appearance: the grey image high-passed (minus a blur of 1/16 of the crop), standardised over the face, so the
  target's eyes, wrinkles and shading pick the reference's strokes of the same contrast; plus its low-passed
  grey, lightly weighted, so dark goes to dark;
- segmentation: soft regions from landmark polygons and the head's region (faces/head.py): background, skin,
  hair, neck, brows, eyes, nose, lips, mouth. Hair inside the outline (a fringe on the forehead) is told from
  skin by colour: far from the cheeks' colour distribution. That keeps a reference's fringe off a bare forehead
  and the other way round; outside the outline, the head above the jaw is hair and below it the neck.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.interpolate import LinearNDInterpolator

from facestyle.faces.head import below_jaw, head_region
from facestyle.faces.landmarks import (INNER_LIPS, LEFT_EYE, NOSE, OUTER_LIPS, RIGHT_EYE, face_outline, forehead,
                                      inter_ocular, polygon_mask, skin_distance)

SEGMENTS = ("background", "skin", "hair", "neck", "brows", "eyes", "nose", "lips", "mouth")


def _border(size: int, n: int = 4) -> np.ndarray:
    t = np.linspace(0, size - 1, n + 1)
    pts = [(x, 0) for x in t] + [(x, size - 1) for x in t] + [(0, y) for y in t[1:-1]] + [(size - 1, y) for y in t[1:-1]]
    return np.array(pts, np.float64)


def positional_map(target_l68: np.ndarray, reference_l68: np.ndarray, size: int) -> np.ndarray:
    """(2, size, size) reference-crop coordinates (x, y) of every target-crop pixel; landmarks in crop pixels."""
    border = _border(size)
    src = np.concatenate([target_l68, forehead(target_l68), border])
    dst = np.concatenate([reference_l68, forehead(reference_l68), border])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    grid = np.stack([xx.ravel(), yy.ravel()], 1)
    mapped = LinearNDInterpolator(src, dst)(grid)
    mapped = np.where(np.isfinite(mapped), mapped, grid)  # points outside the hull (none with the border) stay
    return mapped.T.reshape(2, size, size).clip(0, size - 1)


def segmentation(crop: np.ndarray, l68: np.ndarray, head: np.ndarray | None = None) -> np.ndarray:
    """(len(SEGMENTS), S, S) soft region channels of an aligned crop (uint8 RGB) with landmarks in its pixels;
    `head` (S, S) is its head_region, computed when not given."""
    size = crop.shape[0]
    head = head_region(crop, l68) if head is None else head
    iod = inter_ocular(l68)
    face = polygon_mask(size, [face_outline(l68)])
    brows = polygon_mask(size, [l68[17:22], l68[22:27]], thickness=max(1, int(iod * 0.12)))
    eyes = cv2.dilate(polygon_mask(size, [l68[LEFT_EYE], l68[RIGHT_EYE]]), np.ones((3, 3), np.uint8), iterations=max(1, int(iod * 0.04)))
    nose = polygon_mask(size, [l68[[27, 31, 33, 35]]]) + polygon_mask(size, [l68[NOSE][4:]])  # bridge to tip, and the nostrils
    mouth = polygon_mask(size, [l68[INNER_LIPS]])
    lips = np.clip(polygon_mask(size, [l68[OUTER_LIPS]]) - mouth, 0, 1)
    parts = np.clip(brows + eyes + nose + lips + mouth, 0, 1)
    # skin vs hair inside the outline, by colour: Mahalanobis distance to the cheeks' RGB distribution
    maha = skin_distance(crop, l68)
    skin_like = np.ones((size, size), np.float32) if maha is None else np.clip((4.0 - maha) / 2.0, 0, 1).astype(np.float32)  # <2 sigma skin, >4 not
    # hair inside the outline is a region (a fringe), not a stroke: a drawing's outlines and shading lines
    # across the cheeks, thinner than a sixth of the eye distance, stay skin, so they are not copied as hair
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, int(iod / 6)) | 1,) * 2)
    skin_like = 1 - cv2.morphologyEx(1 - skin_like, cv2.MORPH_OPEN, k)
    inner = face * (1 - parts)
    around = np.clip(head - face, 0, 1)
    below = below_jaw(size, l68)
    channels = np.stack([1 - np.maximum(face, head), inner * skin_like, inner * (1 - skin_like) + around * ~below,
                         around * below, brows * (1 - eyes), eyes, nose * (1 - lips), lips, mouth])
    return np.stack([cv2.GaussianBlur(c, (0, 0), max(0.5, size / 128)) for c in channels])


def appearance(crop: np.ndarray, face: np.ndarray) -> np.ndarray:
    """(2, S, S): high-passed grey and low-passed grey, each standardised over the face region (`face`, 0..1)."""
    size = crop.shape[0]
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    low = cv2.GaussianBlur(grey, (0, 0), size / 16)
    out = []
    w = face / max(face.sum(), 1e-6)
    for c in (grey - low, low):
        mean = float((c * w).sum())
        std = float(np.sqrt(((c - mean) ** 2 * w).sum()))
        out.append((c - mean) / max(std, 1e-3))
    return np.stack(out)


def guides(crop: np.ndarray, l68: np.ndarray, weights: dict[str, float], head: np.ndarray | None = None,
           fine: float = 0.0) -> np.ndarray:
    """The appearance and segmentation guides of one crop, each scaled by its weight: (2 + 9, S, S) float32;
    the appearance guides blurred by `fine` px at a 256 px crop."""
    seg = segmentation(crop, l68, head)
    app = appearance(crop, polygon_mask(crop.shape[0], [face_outline(l68)]))  # standardised over the face, not the hair
    # compared blurred: a photo's smooth skin against a sketch's grain or a painting's strokes would otherwise
    # send the search to the reference's smoothest patches, and the copy lost the very texture of the style
    sigma = fine * crop.shape[0] / 256
    if sigma >= 0.3:
        app = np.stack([cv2.GaussianBlur(a, (0, 0), sigma) for a in app])
    return np.concatenate([app[:1] * weights["appearance"], app[1:] * weights["tone"],
                           seg * weights["segmentation"]]).astype(np.float32)
