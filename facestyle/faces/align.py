"""Similarity alignment from MTCNN's 5 landmarks to a canonical template, and its inverse."""

from __future__ import annotations

import cv2
import numpy as np

# ArcFace's 112x112 five-point template, normalised, then shrunk about the face centre so the crop
# also holds the hair, chin and some background: stylization should cover the whole head.
_ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]]) / 112.0
TEMPLATE = (np.array([0.5, 0.56]) + (_ARCFACE - _ARCFACE.mean(0)) * 0.65).astype(np.float64)


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src points to dst; 2x3."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    n = len(src)
    a = np.zeros((2 * n, 4))
    a[0::2] = np.c_[src[:, 0], -src[:, 1], np.ones(n), np.zeros(n)]
    a[1::2] = np.c_[src[:, 1], src[:, 0], np.zeros(n), np.ones(n)]
    (p, q, tx, ty), *_ = np.linalg.lstsq(a, dst.reshape(-1), rcond=None)
    return np.array([[p, -q, tx], [q, p, ty]])


def transform_points(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return np.asarray(pts, np.float64) @ m[:, :2].T + m[:, 2]


def alignment_matrix(landmarks: np.ndarray, size: int) -> np.ndarray:
    """The image -> crop similarity that puts the landmarks on the template of a size x size crop."""
    return similarity_matrix(landmarks, TEMPLATE * size)


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Crop the face to size x size in template pose. Returns (crop, M) with M mapping image -> crop pixels."""
    m = alignment_matrix(landmarks, size)
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    src = rgb
    if scale < 0.5:  # a face much larger than the crop: shrink with area averaging first, warping alone aliases
        f = min(1.0, scale * 2)
        src = cv2.resize(rgb, (max(1, round(rgb.shape[1] * f)), max(1, round(rgb.shape[0] * f))), interpolation=cv2.INTER_AREA)
        fx, fy = src.shape[1] / rgb.shape[1], src.shape[0] / rgb.shape[0]
        m_src = m @ np.diag([1 / fx, 1 / fy, 1.0])
    else:
        m_src = m
    crop = cv2.warpAffine(src, m_src, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    return crop, m


def visible_pixels(m: np.ndarray, image_shape: tuple[int, ...], lr_size: int, scale: int) -> np.ndarray:
    """Which pixels of a face's LR input (lr_size square, 1/scale of the HR crop that m maps the image to)
    sample the picture itself rather than its reflected border: bool (lr_size, lr_size)."""
    mi = cv2.invertAffineTransform(m)
    c = (np.arange(lr_size) + 0.5) * scale - 0.5  # LR pixel centres in HR crop coordinates
    xx, yy = np.meshgrid(c, c)
    px = mi[0, 0] * xx + mi[0, 1] * yy + mi[0, 2]
    py = mi[1, 0] * xx + mi[1, 1] * yy + mi[1, 2]
    h, w = image_shape[:2]
    return (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)
