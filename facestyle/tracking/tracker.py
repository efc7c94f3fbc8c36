"""Tracking by detection (SORT-like): constant-velocity Kalman boxes, IoU association, MTCNN every N frames
and whenever optical flow loses a face.

Between detections each face is followed by optical flow: points on a grid over its box are tracked with
pyramidal Lucas-Kanade from the last frame, a similarity fitted to them (RANSAC) moves the landmarks (rotation
included) and corrects the Kalman box. Where flow fails, the landmarks ride with the Kalman prediction.
Every landmark set passes a One-Euro filter, so the alignment (and the stylized face) does not jitter.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from facestyle.faces.detect import Face, iou_matrix
from facestyle.tracking.one_euro import OneEuroFilter


class BoxKalman:
    """State (cx, cy, w, h, vcx, vcy, vw, vh); measurement (cx, cy, w, h)."""

    def __init__(self, box: np.ndarray):
        self.x = np.r_[_cxcywh(box), np.zeros(4)]
        self.P = np.diag([10, 10, 10, 10, 100, 100, 100, 100]).astype(np.float64)
        self.F = np.eye(8)
        self.F[:4, 4:] = np.eye(4)
        self.H = np.eye(4, 8)
        self.Q = np.diag([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5])
        self.R = np.diag([4, 4, 8, 8]).astype(np.float64)

    def predict(self) -> np.ndarray:
        self.x = self.F @ self.x
        self.P = self.F @ self.P @ self.F.T + self.Q
        return self.box

    def correct(self, box: np.ndarray) -> None:
        y = _cxcywh(box) - self.H @ self.x
        s = self.H @ self.P @ self.H.T + self.R
        k = self.P @ self.H.T @ np.linalg.inv(s)
        self.x = self.x + k @ y
        self.P = (np.eye(8) - k @ self.H) @ self.P

    @property
    def box(self) -> np.ndarray:
        cx, cy, w, h = self.x[:4]
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _cxcywh(b: np.ndarray) -> np.ndarray:
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]], np.float64)


@dataclass
class Track:
    id: int
    kalman: BoxKalman
    landmarks: np.ndarray  # smoothed (5, 2)
    score: float
    filter: OneEuroFilter = field(default_factory=OneEuroFilter)
    hits: int = 1
    misses: int = 0

    @property
    def box(self) -> np.ndarray:
        return self.kalman.box

    def face(self) -> Face:
        return Face(self.box.astype(np.float32), self.score, self.landmarks.astype(np.float32))


class FaceTracker:
    def __init__(self, detect, detect_every: int = 10, iou_threshold: float = 0.3, max_misses: int = 3,
                 fps: float = 30.0, min_cutoff: float = 1.0, beta: float = 0.05, smooth: bool = True,
                 flow: bool = True):
        """detect: frame -> list[Face] (a FaceDetector's .detect). detect_every=1 detects on every frame."""
        self.detect, self.detect_every, self.iou_threshold = detect, detect_every, iou_threshold
        self.max_misses, self.dt, self.smooth, self.flow = max_misses, 1.0 / fps, smooth, flow
        self._prev_grey: np.ndarray | None = None
        self.filter_args = {"min_cutoff": min_cutoff, "beta": beta}
        self.tracks: list[Track] = []
        self.frame = 0
        self.detector_calls = 0
        self._last_detection = -1
        self._ids = itertools.count(1)

    def update(self, rgb: np.ndarray) -> list[Track]:
        """Advance one frame; returns the tracks to render (seen recently), with stable ids.

        A missed detection costs a track one of its `max_misses` lives (counted in detection rounds), so a
        face behind a hand for a moment keeps its id and its smoothed landmarks."""
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if self.flow and rgb.ndim == 3 else None
        lost = False  # flow lost a face: its confidence dropped, so the detector runs now, not at its turn
        for t in self.tracks:
            before = t.box
            after = t.kalman.predict()
            m = self._flow(t, grey) if grey is not None else None
            if m is not None:  # the face's own motion, measured
                motion = lambda p, m=m: _affine(m, p)  # noqa: E731
                t.kalman.correct(_affine_box(m, before))
            else:  # landmarks ride along with the predicted box (translation and scale)
                lost = lost or grey is not None
                motion = lambda p, b=before, a=after: _move_points(p, b, a)  # noqa: E731
            t.landmarks = motion(t.landmarks)
            t.filter.move(motion)
        self._prev_grey = grey
        # (a face that flow cannot follow at all would otherwise cost a detection on every frame)
        lost = lost and self.frame - self._last_detection >= 2
        due = self.frame % self.detect_every == 0 or not self.tracks or lost
        if due:
            self._last_detection = self.frame
            self.detector_calls += 1
            self._associate(self.detect(rgb))
        self.frame += 1
        return [t for t in self.tracks if t.misses == 0 or (t.hits >= 2 and t.misses <= 2)]

    def _flow(self, t: Track, grey: np.ndarray) -> np.ndarray | None:
        """Similarity (2x3) moving the track's face from the previous frame to this one, or None."""
        if self._prev_grey is None or self._prev_grey.shape != grey.shape:
            return None
        x0, y0, x1, y1 = t.box
        h, w = grey.shape
        xs, ys = np.meshgrid(np.linspace(x0 + 0.15 * (x1 - x0), x1 - 0.15 * (x1 - x0), 6),
                             np.linspace(y0 + 0.15 * (y1 - y0), y1 - 0.15 * (y1 - y0), 6))
        pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < w - 1) & (pts[:, 1] >= 0) & (pts[:, 1] < h - 1)
        if inside.sum() < 8:
            return None
        pts = pts[inside].reshape(-1, 1, 2)
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(self._prev_grey, grey, pts, None, winSize=(21, 21), maxLevel=3)
        ok = status.ravel() == 1
        if ok.sum() < 8:
            return None
        m, inliers = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=2.0)
        if m is None or inliers is None or inliers.sum() < 6:
            return None
        return m

    def _associate(self, faces: list[Face]) -> None:
        boxes = np.array([f.box for f in faces]).reshape(-1, 4)
        ious = iou_matrix(np.array([t.box for t in self.tracks]).reshape(-1, 4), boxes)
        matched_t, matched_f = set(), set()
        if ious.size:
            rows, cols = linear_sum_assignment(-ious)
            for r, c in zip(rows, cols):
                if ious[r, c] >= self.iou_threshold:
                    t, f = self.tracks[r], faces[c]
                    t.kalman.correct(f.box)
                    t.landmarks = t.filter(f.landmarks, self.dt) if self.smooth else f.landmarks.astype(np.float64)
                    t.score, t.hits, t.misses = f.score, t.hits + 1, 0
                    matched_t.add(r)
                    matched_f.add(c)
        for i, t in enumerate(self.tracks):
            if i not in matched_t:
                t.misses += 1
        self.tracks = [t for t in self.tracks if t.misses <= self.max_misses]
        for c, f in enumerate(faces):
            if c not in matched_f:
                t = Track(next(self._ids), BoxKalman(f.box), f.landmarks.astype(np.float64), f.score,
                          OneEuroFilter(**self.filter_args))
                t.filter(f.landmarks, self.dt)
                self.tracks.append(t)


def _affine(m: np.ndarray, pts):
    return None if pts is None else np.asarray(pts) @ m[:, :2].T + m[:, 2]


def _affine_box(m: np.ndarray, box: np.ndarray) -> np.ndarray:
    corners = _affine(m, np.array([[box[0], box[1]], [box[2], box[1]], [box[0], box[3]], [box[2], box[3]]]))
    return np.r_[corners.min(0), corners.max(0)]


def _move_points(pts, before: np.ndarray, after: np.ndarray):
    if pts is None:
        return pts
    cb, ca = _cxcywh(before), _cxcywh(after)
    s = ca[2] / max(cb[2], 1e-6)
    return (np.asarray(pts) - cb[:2]) * s + ca[:2]
