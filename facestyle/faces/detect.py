"""MTCNN face detection (weights ship inside the facenet-pytorch wheel)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image


@dataclass
class Face:
    box: np.ndarray  # (4,) x1, y1, x2, y2 in pixels
    score: float
    landmarks: np.ndarray  # (5, 2): left eye, right eye, nose, left mouth corner, right mouth corner

    def to_json(self) -> dict:
        return {"box": [round(float(v), 1) for v in self.box], "score": round(self.score, 4),
                "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.landmarks]}


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every x1, y1, x2, y2 box of `a` (N, 4) with every box of `b` (M, 4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter + 1e-9)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes."""
    return float(iou_matrix(np.asarray(a, np.float64)[None], np.asarray(b, np.float64)[None])[0, 0])


def found_at(faces: list[Face], box: np.ndarray, min_iou: float = 0.5) -> bool:
    """Is one of `faces` where `box` is (IoU >= min_iou)? eval-style's "face kept", and keep_faces' check."""
    return any(iou(f.box, box) >= min_iou for f in faces)


class FaceDetector:
    def __init__(self, device: str = "cpu", min_face_size: int = 20, min_score: float = 0.9):
        from facenet_pytorch import MTCNN

        self.mtcnn = MTCNN(keep_all=True, device=torch.device(device), min_face_size=min_face_size)
        self.min_score = min_score
        self.min_face_size = min_face_size
        self._lock = threading.Lock()  # MTCNN keeps no per-call state, but torch threads are already saturated

    def detect(self, rgb: np.ndarray) -> list[Face]:
        if min(rgb.shape[:2]) < self.min_face_size:  # no face fits, and MTCNN's image pyramid would be empty
            return []
        with self._lock, torch.inference_mode():
            boxes, probs, points = self.mtcnn.detect(Image.fromarray(rgb), landmarks=True)
        if boxes is None:
            return []
        # facenet-pytorch 2.5.3 returns dtype=object arrays
        boxes, probs, points = boxes.astype(np.float32), probs.astype(np.float32), points.astype(np.float32)
        faces = [Face(b, float(p), l) for b, p, l in zip(boxes, probs, points) if p >= self.min_score]
        return sorted(faces, key=lambda f: (f.box[0], f.box[1]))
