"""Dense landmarks: dlib's 68-point shape predictor, run on MTCNN's box (MTCNN stays the detector).

The 68-point layout (iBUG 300-W) is also what `POST /styles` takes as `landmarks` for a reference no detector
reads: 0-16 jaw, 17-21 and 22-26 brows, 27-35 nose, 36-41 and 42-47 eyes, 48-59 outer lips, 60-67 inner lips.
The model file ships inside the `face-recognition-models` wheel; it is located without importing that
package (its import needs pkg_resources, which current setuptools dropped).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path

import cv2
import numpy as np

N_POINTS = 68
JAW, BROWS, NOSE = slice(0, 17), slice(17, 27), slice(27, 36)
LEFT_EYE, RIGHT_EYE, OUTER_LIPS, INNER_LIPS = slice(36, 42), slice(42, 48), slice(48, 60), slice(60, 68)


class LandmarkError(ValueError):
    """Landmarks that are not 68 finite (x, y) points inside the picture."""


def model_path(name: str = "shape_predictor_68_face_landmarks.dat") -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("dense landmarks need the face-recognition-models package (pip install face-recognition-models)")
    return Path(spec.submodule_search_locations[0]) / "models" / name


@functools.lru_cache(maxsize=1)
def _predictor():
    import dlib

    return dlib.shape_predictor(str(model_path()))


_lock = threading.Lock()  # dlib's predictor is not documented as thread-safe


def dense_landmarks(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """68 (x, y) points of the face in `box` (x1, y1, x2, y2, e.g. MTCNN's), float64 (68, 2)."""
    import dlib

    img = np.ascontiguousarray(rgb, dtype=np.uint8)
    rect = dlib.rectangle(*[int(round(float(v))) for v in box])
    with _lock:
        shape = _predictor()(img, rect)
    return np.array([[p.x, p.y] for p in shape.parts()], np.float64)


def five_points(l68: np.ndarray) -> np.ndarray:
    """MTCNN's 5-point layout (left eye, right eye, nose, left and right mouth corner) from the 68 points,
    so a face aligns the same way whichever detector placed it."""
    l68 = np.asarray(l68, np.float64)
    return np.stack([l68[LEFT_EYE].mean(0), l68[RIGHT_EYE].mean(0), l68[30], l68[48], l68[54]])


def inter_ocular(l68: np.ndarray) -> float:
    return float(np.linalg.norm(l68[LEFT_EYE].mean(0) - l68[RIGHT_EYE].mean(0)))


def parse_landmarks(value, width: int, height: int) -> np.ndarray:
    """A client's landmarks (68 [x, y] pairs in picture pixels) checked: the right count, finite, inside the
    picture, eyes apart. Raises LandmarkError with a message that says what is wrong."""
    try:
        pts = np.asarray(value, np.float64)
    except (TypeError, ValueError) as exc:
        raise LandmarkError("landmarks must be a JSON list of 68 [x, y] pairs") from exc
    if pts.shape != (N_POINTS, 2):
        raise LandmarkError(f"landmarks must be 68 [x, y] pairs (dlib/iBUG 68-point layout), got shape {list(pts.shape)}")
    if not np.isfinite(pts).all():
        raise LandmarkError("landmarks must be finite numbers")
    if (pts < 0).any() or (pts[:, 0] > width).any() or (pts[:, 1] > height).any():
        raise LandmarkError(f"landmarks must lie inside the {width}x{height} picture")
    if inter_ocular(pts) < 4:
        raise LandmarkError("landmarks: the eyes (points 36-47) are less than 4 px apart")
    return pts


def forehead(l68: np.ndarray) -> np.ndarray:
    """Ten points along an estimated hairline: the brows moved up by half the eyes-to-chin distance (the face's
    upper third is about the brow-to-hairline height), spread outward a little as a forehead is."""
    eyes = (l68[LEFT_EYE].mean(0) + l68[RIGHT_EYE].mean(0)) / 2
    up = eyes - l68[8]
    h = np.linalg.norm(up)
    up = up / max(h, 1e-6)
    brows = l68[BROWS]
    centre = brows.mean(0)
    return centre + (brows - centre) * 1.1 + up * 0.5 * h


def face_outline(l68: np.ndarray) -> np.ndarray:
    """The jaw from ear to ear, then the hairline back: the region the synthesis paints and the paste blends."""
    return np.concatenate([l68[JAW], forehead(l68)[::-1]])


def polygon_mask(size: int, polys: list[np.ndarray], thickness: int = 0) -> np.ndarray:
    """(S, S) float32: 1 inside the polygons (points in crop pixels), or along them as open lines `thickness`
    pixels wide."""
    m = np.zeros((size, size), np.uint8)
    for p in polys:
        p = np.round(p).astype(np.int32)
        cv2.fillPoly(m, [p], 1) if thickness == 0 else cv2.polylines(m, [p], False, 1, thickness)
    return m.astype(np.float32)


def skin_distance(crop: np.ndarray, l68: np.ndarray, regularise: float = 25.0) -> np.ndarray | None:
    """(H, W) Mahalanobis distance of every pixel's RGB to the cheeks' colour distribution (None when the
    cheeks are too small to sample): what tells skin from hair, a collar or a shirt."""
    cheeks = polygon_mask(crop.shape[0], [l68[[1, 2, 3, 4, 48, 31, 40, 41, 36]], l68[[15, 14, 13, 12, 54, 35, 47, 46, 45]]])
    pix = crop[cheeks > 0].reshape(-1, 3).astype(np.float64)
    if len(pix) < 16:
        return None
    mu, cov = pix.mean(0), np.cov(pix.T) + np.eye(3) * regularise
    d = crop.reshape(-1, 3).astype(np.float64) - mu
    return np.sqrt(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)).reshape(crop.shape[:2])
