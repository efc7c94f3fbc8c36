"""Temporal consistency in the aligned face space: blend each generated face with that track's last one;
reuse a tracked face's last generation while the face has not changed.

The tracker's smoothed landmarks put a face at the same place of its aligned crop frame after frame, so
no optical flow is needed: an exponential moving average per track id, reset when a track is new.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


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
    """Run the generator for a tracked face only when its picture needs it: at least every `every` frames,
    and at once when the face's aligned input changed (a blink, the mouth), whatever its age. In between, the
    last generated crop is pasted with the current frame's alignment, so it follows the head. On a CPU the
    generator is most of a tracked frame's cost; a still or rigidly moving face then costs it `every` times
    less often, a talking one as often as it changes.

    Change: the largest mean absolute difference, over a 6x6 grid of cells on the inner face (an eighth of
    the crop's border off: the paste never shows it, and a face near the frame's edge has a reflected border
    that shifts with the camera), between the face's LR input now and the one its cached crop was generated
    from (0..1 units). Cells, not the whole face: a mouth that opens moves a few cells a lot and the face's
    mean a little; resampling noise averages out in a cell. Measured on the eval's clips, frame to frame: a rigidly
    moving face 0.004 (median; up to 0.05 where a detection re-anchors its landmarks), a talking one 0.03.
    """

    def __init__(self, every: int = 1, change: float = 0.02, cells: int = 6):
        self.every, self.change, self.cells = every, change, cells
        self.cache: dict[int, tuple[int, torch.Tensor, np.ndarray]] = {}  # track id -> (frame, LR input, crop)
        self.frame = 0
        self.generated = self.reused = 0

    def difference(self, a: torch.Tensor, b: torch.Tensor) -> float:
        c = a.shape[-1] // 8
        d = (a - b)[..., c:-c, c:-c].abs().mean(0, keepdim=True)
        return float(F.adaptive_avg_pool2d(d, self.cells).max())

    def for_tracks(self, track_ids: list[int]):
        """(reuse, post) hooks for Stylizer.stylize, for this frame's faces in the order of track_ids:
        reuse(i, lr) gives the crop to paste again, or None to generate; post records what was generated."""
        alive = set(track_ids)
        self.cache = {k: v for k, v in self.cache.items() if k in alive}
        asked: dict[int, torch.Tensor] = {}

        def reuse(i: int, lr: torch.Tensor) -> np.ndarray | None:
            hit = self.cache.get(track_ids[i])
            if (hit is not None and self.frame - hit[0] < self.every and hit[1].shape == lr.shape
                    and self.difference(hit[1], lr) <= self.change):
                self.reused += 1
                return hit[2]
            asked[i] = lr
            return None

        def post(i: int, crop: np.ndarray) -> np.ndarray:
            if i in asked:
                self.generated += 1
                self.cache[track_ids[i]] = (self.frame, asked.pop(i), crop)
            return crop

        return reuse, post

    def next_frame(self) -> None:
        self.frame += 1
