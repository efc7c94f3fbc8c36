"""The head in an aligned crop: face, hair and neck told from the backdrop, seeded by the 68 landmarks.

GrabCut (OpenCV's colour-model graph cut, no trained weights) at 128 px: the face inside its outline is sure
head; a zone around it (hair above and beside the face, the neck below the chin) is probably head; the rest of
the crop is probably backdrop. Only the component touching the face is kept and holes are filled, so a
backdrop coloured like hair further away does not join. Below the chin, in the neck's column, only skin (by
chromaticity, near the cheeks') stays head: a collar or shirt there is not painted. The synthesis uses it to
send hair to hair and neck to neck, and the paste to cover the whole head instead of a jaw-to-hairline oval.
"""

from __future__ import annotations

import cv2
import numpy as np

from facestyle.faces.landmarks import JAW, face_outline, polygon_mask

NECK_HUE = 25.0  # degrees of hue from the cheeks' beyond which the neck's column is not skin
NECK_GREY = 0.4  # saturation, as a share of the cheeks', under which it is grey (a white or grey shirt)
NECK_BLACK = 0.15  # grey level, as a share of the face's, under which it is black (hue is noise there)
WORK = 128  # GrabCut's size: the region is blurred to size / 64 anyway, and 128 px costs ~20 ms


def others_region(size: int, boxes: list[np.ndarray]) -> np.ndarray:
    """(S, S) uint8: where other people's heads are: each other face's box (crop pixels) grown by a quarter of
    its width beside, half its height above (hair) and its whole height below (neck, collar)."""
    m = np.zeros((size, size), np.uint8)
    for x0, y0, x1, y1 in boxes:
        w, h = x1 - x0, y1 - y0
        r = np.round([x0 - 0.25 * w, y0 - 0.5 * h, x1 + 0.25 * w, y1 + h]).astype(int)
        m[max(r[1], 0) : max(r[3], 0), max(r[0], 0) : max(r[2], 0)] = 1
    return m


def not_skin(small: np.ndarray, l68: np.ndarray, core: np.ndarray) -> np.ndarray:
    """(W, W) bool: not skin by hue: a hue far from the cheeks' (a denim collar), a colour nearly grey (a white
    or grey shirt) or nearly black (where hue is noise); nothing when the cheeks are too small to sample.
    `core`: the sure face. Hue, not chromaticity: a neck's shadowed side is darker and more saturated than the
    cheeks but of their hue, and stays head (docs/exemplar-synthesis.md)."""
    cheeks = polygon_mask(small.shape[0], [l68[[1, 2, 3, 4, 48, 31, 40, 41, 36]], l68[[15, 14, 13, 12, 54, 35, 47, 46, 45]]]) > 0
    if cheeks.sum() < 16:
        return np.zeros(small.shape[:2], bool)
    hsv = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    angle = hsv[..., 0] * (2 * np.pi / 256)
    mean = np.angle(np.exp(1j * angle[cheeks]).mean())
    off = np.degrees(np.abs(np.angle(np.exp(1j * (angle - mean)))))
    sat, grey = hsv[..., 1] / 255, small.astype(np.float32).mean(-1)
    return (off > NECK_HUE) | (sat < NECK_GREY * float(np.median(sat[cheeks]))) | \
        (grey < NECK_BLACK * float(np.median(grey[core > 0])))


def head_region(crop: np.ndarray, l68: np.ndarray, iterations: int = 4, others: list[np.ndarray] = ()) -> np.ndarray:
    """(S, S) float32 in 0..1: 1 over face, hair and neck, 0 over the backdrop. `others`: the boxes of the
    picture's other faces in crop pixels; their heads are backdrop here (in a group photo a neighbour's dark
    hair or jacket beside the face otherwise joined this head and was painted as its hair)."""
    size = crop.shape[0]
    s = WORK / size
    small = cv2.resize(crop, (WORK, WORK), interpolation=cv2.INTER_AREA)
    l = l68 * s
    outline = face_outline(l)
    face = np.zeros((WORK, WORK), np.uint8)
    cv2.fillPoly(face, [np.round(outline).astype(np.int32)], 1)
    h = float(l[8, 1] - outline[:, 1].min())  # chin to hairline
    w = float(l[16, 0] - l[0, 0])
    # the zone that may be head: hair up to 0.45 face heights above the hairline and 0.3 widths beside it, the
    # neck a jaw-wide column down to the crop's foot
    zone = np.zeros_like(face)
    cx, top = float(l[27, 0]), float(outline[:, 1].min())
    # abs, at least 1 px: landmarks sent with a reference need not be in the iBUG order (a jaw given right to
    # left), and OpenCV refuses negative axes
    axes = (max(1, int(0.8 * abs(w))), max(1, int(0.85 * abs(h))))
    cv2.ellipse(zone, (int(cx), int(top + 0.45 * h)), axes, 0, 0, 360, 1, -1)
    neck = np.array([[l[4, 0], l[4, 1]], [l[12, 0], l[12, 1]], [l[12, 0], WORK], [l[4, 0], WORK]])
    cv2.fillPoly(zone, [np.round(neck).astype(np.int32)], 1)
    mask = np.where(zone > 0, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    core = cv2.erode(face, np.ones((3, 3), np.uint8), iterations=2)
    elsewhere = (others_region(WORK, [np.asarray(b) * s for b in others]) > 0) & (core == 0)
    zone[elsewhere] = 0
    mask[elsewhere] = cv2.GC_BGD
    mask[core > 0] = cv2.GC_FGD
    if (mask == cv2.GC_PR_BGD).sum() < 64:  # a face filling the crop: no backdrop to model
        fg = zone
    else:
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)  # GrabCut's GMM starts from k-means: the same crop always gives the same head
        cv2.grabCut(np.ascontiguousarray(small), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
        fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8) & zone
    # below the chin the head is the neck only where it is skin: a collar or shirt in the neck's column was
    # painted as a pale patch of the reference's neck
    fg[not_skin(small, l, core) & neck_column(WORK, l) & (core == 0)] = 0
    n, labels = cv2.connectedComponents(fg | core)
    keep = np.isin(labels, np.unique(labels[core > 0])) & (labels > 0) if n > 1 else fg > 0
    filled = keep.astype(np.uint8)
    contours, _ = cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(filled, contours, -1, 1, -1)  # holes (an earring, a shadow) are head
    filled = cv2.morphologyEx(filled, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return cv2.GaussianBlur(cv2.resize(filled.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR),
                            (0, 0), max(0.5, size / 256))


def below_jaw(size: int, l68: np.ndarray) -> np.ndarray:
    """(S, S) bool: below the jaw line (the jaw's height at each column, its ends' beyond them): the neck side."""
    jaw = l68[JAW]
    order = np.argsort(jaw[:, 0])
    xs = np.arange(size, dtype=np.float64)
    y_at = np.interp(xs, jaw[order, 0], jaw[order, 1])
    return np.arange(size)[:, None] > y_at[None, :]


def neck_column(size: int, l68: np.ndarray) -> np.ndarray:
    """(S, S) bool: below the jaw line, between the jaw's points 4 and 12 (where the neck is)."""
    xs = np.arange(size)
    lo, hi = sorted((float(l68[4, 0]), float(l68[12, 0])))
    return below_jaw(size, l68) & ((xs >= lo) & (xs <= hi))[None, :]
