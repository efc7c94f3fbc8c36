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


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes."""
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


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
