"""The head in an aligned crop: face, hair and neck told from the backdrop, seeded by the 68 landmarks.

GrabCut (OpenCV's colour-model graph cut, no trained weights) at 128 px: the face inside its outline is sure
head; a zone around it (hair above and beside the face, the neck below the chin) is probably head; the rest of
the crop is probably backdrop. Only the component touching the face is kept and holes are filled, so a
backdrop coloured like hair further away does not join. Long hair past the zone is added by colour: what has
the hair's colours beside the face and hangs down unbroken past the chin beside the neck. The synthesis uses it to send hair to hair and neck to
neck, and the paste to cover the whole head instead of a jaw-to-hairline oval.
"""

from __future__ import annotations

import cv2
import numpy as np

from facestyle.faces.landmarks import JAW, face_outline

WORK = 128  # GrabCut's size: the region is blurred to size / 64 anyway, and 128 px costs ~20 ms


def head_region(crop: np.ndarray, l68: np.ndarray, iterations: int = 4) -> np.ndarray:
    """(S, S) float32 in 0..1: 1 over face, hair and neck, 0 over the backdrop."""
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
    mask[core > 0] = cv2.GC_FGD
    if (mask == cv2.GC_PR_BGD).sum() < 64:  # a face filling the crop: no backdrop to model
        fg = zone
    else:
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)  # GrabCut's GMM starts from k-means: the same crop always gives the same head
        cv2.grabCut(np.ascontiguousarray(small), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
        fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8) & zone
    n, labels = cv2.connectedComponents(fg | core)
    keep = np.isin(labels, np.unique(labels[core > 0])) & (labels > 0) if n > 1 else fg > 0
    filled = keep.astype(np.uint8)
    contours, _ = cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(filled, contours, -1, 1, -1)  # holes (an earring, a shadow) are head
    filled = cv2.morphologyEx(filled, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    filled |= _long_hair(small, l, filled, face)
    return cv2.GaussianBlur(cv2.resize(filled.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR),
                            (0, 0), max(0.5, size / 256))


def _long_hair(small: np.ndarray, l: np.ndarray, head: np.ndarray, face: np.ndarray) -> np.ndarray:
    """Hair past the zone: pixels below the eyes, outside the face and the neck column, within a face width of
    the nose, of the colours of the head's hair above the brows (Mahalanobis < 3), joined to the head, and
    below the chin only where they run unbroken down from it. The zone stops 0.3 face heights below the chin
    and hugs the jaw, so long hair was cut there and stayed the photo's. A top of the hair's colour that
    touches hair hanging behind the ear joins too (seen on a man's dark jacket)."""
    brows = float(l[17:27, 1].min())
    hair = (head > 0) & (face == 0)
    hair[int(max(brows, 0)):] = False
    pix = small[hair].reshape(-1, 3).astype(np.float64)
    if len(pix) < 32:
        return np.zeros_like(head)
    mu, cov = pix.mean(0), np.cov(pix.T) + np.eye(3) * 25.0
    d = small.reshape(-1, 3).astype(np.float64) - mu
    maha = np.sqrt(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)).reshape(head.shape)
    yy, xx = np.mgrid[0 : head.shape[0], 0 : head.shape[1]]
    w = abs(float(l[16, 0] - l[0, 0]))
    lo, hi = sorted((float(l[4, 0]), float(l[12, 0])))
    eyes = float(l[36:48, 1].mean())
    cand = (maha < 3) & (yy > eyes) & (face == 0) & (np.abs(xx - l[27, 0]) < 1.0 * w)
    cand &= ~((yy > l[8, 1]) & (xx >= lo) & (xx <= hi))  # not the neck
    # below the chin only what hangs down unbroken from beside the face: a dark top under dark short hair is
    # cut off by the neck or backdrop between them
    chin = int(np.clip(l[8, 1], 1, head.shape[0] - 1))
    cand[chin:] &= np.cumprod(cand[chin:], 0).astype(bool)
    n, labels = cv2.connectedComponents((cand | (head > 0)).astype(np.uint8))
    joined = np.isin(labels, np.unique(labels[head > 0])) & (labels > 0)
    return (cand & joined).astype(np.uint8)


def neck_column(size: int, l68: np.ndarray) -> np.ndarray:
    """(S, S) float32: 1 in the jaw-wide column below the jaw (between landmarks 4 and 12), feathered by a
    twentieth of the jaw's width; beside it, what the head has below the jaw is hair."""
    lo, hi = sorted((float(l68[4, 0]), float(l68[12, 0])))
    f = max(1.0, 0.05 * (hi - lo))
    xs = np.arange(size, dtype=np.float32)
    col = np.clip(np.minimum(xs - lo, hi - xs) / f + 0.5, 0, 1)
    return (below_jaw(size, l68) * col[None, :]).astype(np.float32)


def below_jaw(size: int, l68: np.ndarray) -> np.ndarray:
    """(S, S) bool: below the jaw line (the jaw's height at each column, its ends' beyond them): the neck side."""
    jaw = l68[JAW]
    order = np.argsort(jaw[:, 0])
    xs = np.arange(size, dtype=np.float64)
    y_at = np.interp(xs, jaw[order, 0], jaw[order, 1])
    return np.arange(size)[:, None] > y_at[None, :]
