"""Temporal consistency in the aligned face space: reuse a tracked face's last generation while the face has
not changed, and blend each new generation with the face's last output moved by optical flow.

The tracker's smoothed landmarks put a face at the same place of its aligned crop frame after frame, so what
is left between two frames' crops is small motion (a mouth, a re-anchored detection) that a dense flow on the
64 px LR inputs follows; per track id, reset when a track is new or its crop size changes.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def _grey(lr: torch.Tensor, up: int = 2) -> np.ndarray:
    # at twice the LR size: DIS wants a few pixels of texture in each of its patches
    return cv2.resize((lr.mean(0).numpy() * 255).astype(np.uint8), None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)


def move(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """An earlier picture of the face crop (any size) moved onto now by a flow over the same crop (any size)."""
    h, w = img.shape[:2]
    if flow.shape[:2] != (h, w):
        flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) * (w / flow.shape[1])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(np.ascontiguousarray(img, np.float32), xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_CUBIC,
                     borderMode=cv2.BORDER_REPLICATE)


def flow_blend(new: np.ndarray, lr: torch.Tensor, last: np.ndarray, last_lr: torch.Tensor, alpha: float,
               sigma: float = 0.04) -> np.ndarray:
    """A freshly generated face (aligned, float 0..255) blended with the track's last output, moved onto it by
    dense optical flow between the two LR inputs. The generator is not equivariant: its texture re-renders a
    little differently as the face moves (a mouth that opens), and that difference is flicker. Blending takes
    1 - alpha of it away where the flow explains the input (residual well under sigma, 0..1 units) and
    nothing where it does not (teeth that appear, an occlusion), so new content is not ghosted."""
    a, b = _grey(lr), _grey(last_lr)
    # for each pixel now, where it was in the last input (aligned, so the motion left is small)
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST).calc(a, b, None)
    residual = cv2.GaussianBlur(np.abs(move(b, flow) - a) / 255, (5, 5), 0)
    keep = (1 - alpha) * np.exp(-((residual / sigma) ** 2))
    n = new.shape[0]
    keep = cv2.resize(keep, (n, n), interpolation=cv2.INTER_LINEAR)[..., None]
    return new + keep * (move(last, flow) - new)


class FaceReuse:
    """Run the generator for a tracked face only when its picture needs it: at least every `every` frames,
    and at once when the face's aligned input changed (a blink, the mouth), whatever its age. In between, the
    last generated crop is pasted with the current frame's alignment, so it follows the head (moving it by
    optical flow as well, to reuse a talking face more often, measured worse: see the README). On a CPU the
    generator is most of a tracked frame's cost; a still or rigidly moving face then costs it `every` times
    less often, a talking one as often as it changes. With blend < 1, each new generation goes through
    flow_blend with the face's last output (which is what was on screen).

    Change: the largest mean absolute difference, over a 6x6 grid of cells on the inner face (an eighth of
    the crop's border off: the paste hardly shows it), between the face's LR input now and the one its cached
    crop was generated from (0..1 units). Cells, not the whole face: a mouth that opens moves a few cells a lot
    and the face's mean a little; resampling noise averages out in a cell. Only pixels inside the picture
    count, and a cell at least half inside: near the frame's edge the crop takes in a reflected border that
    shifts with the camera but is never pasted (on the couple clip such a face measured 0.05-0.18 over all
    pixels, 0.003-0.014 over the visible ones). Measured on the eval's clips, frame to frame: a rigidly
    moving face 0.004 (median; up to 0.05 where a detection re-anchors its landmarks), a talking one 0.03.
    """

    def __init__(self, every: int = 1, change: float = 0.02, cells: int = 6, blend: float = 1.0):
        self.every, self.change, self.cells, self.blend = every, change, cells, blend
        self.cache: dict[int, tuple[int, torch.Tensor, np.ndarray]] = {}  # track id -> (frame, LR input, crop)
        self.frame = 0
        self.generated = self.reused = 0

    def difference(self, a: torch.Tensor, b: torch.Tensor, visible: torch.Tensor | None = None) -> float:
        c = a.shape[-1] // 8
        d = (a - b)[..., c:-c, c:-c].abs().mean(0, keepdim=True)
        v = torch.ones_like(d) if visible is None else visible[None, c:-c, c:-c].float()
        share = F.adaptive_avg_pool2d(v, self.cells)
        cell = F.adaptive_avg_pool2d(d * v, self.cells) / share.clamp(min=1e-6)
        seen = share >= 0.5
        return float(cell[seen].max()) if bool(seen.any()) else 0.0  # nothing of it in the picture: no change

    def for_tracks(self, track_ids: list[int]):
        """(reuse, post) hooks for Stylizer.stylize, for this frame's faces in the order of track_ids:
        reuse(i, lr, visible=None) gives the crop to paste again, or None to generate; post records what was
        generated."""
        alive = set(track_ids)
        self.cache = {k: v for k, v in self.cache.items() if k in alive}
        asked: dict[int, torch.Tensor] = {}  # face -> its LR input, to be generated

        def reuse(i: int, lr: torch.Tensor, visible: torch.Tensor | None = None) -> np.ndarray | None:
            hit = self.cache.get(track_ids[i])
            if (hit is not None and hit[1].shape == lr.shape and self.frame - hit[0] < self.every
                    and self.difference(hit[1], lr, visible) <= self.change):
                self.reused += 1
                return hit[2]
            asked[i] = lr
            return None

        def post(i: int, crop: np.ndarray) -> np.ndarray:
            if i in asked:
                self.generated += 1
                lr, last = asked.pop(i), self.cache.get(track_ids[i])
                if self.blend < 1 and last is not None and last[1].shape == lr.shape and last[2].shape == crop.shape:
                    crop = flow_blend(crop, lr, last[2], last[1], self.blend)
                self.cache[track_ids[i]] = (self.frame, lr, crop)
            return crop

        return reuse, post

    def next_frame(self) -> None:
        self.frame += 1
