"""Temporal consistency in the aligned face space: blend each generated face with that track's last one.

The tracker's smoothed landmarks put a face at the same place of its aligned crop frame after frame, so
no optical flow is needed: an exponential moving average per track id, reset when a track is new.
"""

from __future__ import annotations

import numpy as np


class TemporalBlend:
    def __init__(self, alpha: float = 0.5):
        self.alpha = alpha  # weight of the new frame; 1 disables blending
        self.prev: dict[int, np.ndarray] = {}

    def for_tracks(self, track_ids: list[int]):
        """A Stylizer `post` hook for this frame's faces (in the order of track_ids)."""
        alive = set(track_ids)
        self.prev = {k: v for k, v in self.prev.items() if k in alive}

        def post(i: int, crop: np.ndarray) -> np.ndarray:
            tid = track_ids[i]
            last = self.prev.get(tid)
            out = crop if last is None or last.shape != crop.shape else self.alpha * crop + (1 - self.alpha) * last
            self.prev[tid] = out
            return out

        return post


class FaceReuse:
    """Generate each tracked face every `every` frames and paste the last generation, re-aligned to the
    current landmarks, in between: the generator (the CPU's bottleneck) runs `every` times less often."""

    def __init__(self, every: int = 1):
        self.every = every
        self.cache: dict[int, tuple[int, np.ndarray]] = {}  # track id -> (frame generated, crop)
        self.frame = 0

    def plan(self, track_ids: list[int]) -> list[np.ndarray | None]:
        self.cache = {k: v for k, v in self.cache.items() if k in set(track_ids)}
        plan = []
        for tid in track_ids:
            hit = self.cache.get(tid)
            plan.append(hit[1] if hit is not None and self.frame - hit[0] < self.every else None)
        return plan

    def recorder(self, track_ids: list[int], plan: list[np.ndarray | None]):
        """A Stylizer `post` hook that remembers freshly generated crops."""

        def post(i: int, crop: np.ndarray) -> np.ndarray:
            if plan[i] is None:
                self.cache[track_ids[i]] = (self.frame, crop)
            return crop

        return post

    def next_frame(self) -> None:
        self.frame += 1
