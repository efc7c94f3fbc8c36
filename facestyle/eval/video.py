"""`facestyle eval-video`: fps, detector calls per frame and flicker, tracked+smoothed vs detect-every-frame.

Clips need no download: a virtual camera (known pan, zoom, small rotation, brightness drift) moves over a
still picture, whose faces may also talk (a known warp of the mouth), so the true motion between frames is
known. Flicker = mean |warp(out[t-1]) - out[t]| over the face region, divided by the same for the input frames
(1.0: the stylized face changes no more than the input). Around the face (hair and backdrop), the same ratio and
the mean change the paste made there: a halo of the style's tint shows in the latter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from facestyle.tracking import FaceReuse, FaceTracker


@dataclass
class Clip:
    frames: list[np.ndarray]
    motions: list[np.ndarray]  # motions[t]: 2x3 affine taking frame t-1 pixels to frame t (motions[0] = identity)
    face_masks: list[np.ndarray]  # where the face is, per frame (ground truth from frame 0's detection)
    ring_masks: list[np.ndarray]  # around the face (its box grown 2x, less the box grown 1.3x): hair and backdrop
    cameras: list[np.ndarray] | None = None  # cameras[t]: still -> frame t (2x3)
    mouths: "Mouths | None" = None  # the talking clip's known non-rigid motion
    _input_error: dict[bool, float] = field(default_factory=dict, repr=False)

    def input_error(self, ring: bool = False) -> float:
        """warp_error of the clip's own frames: the denominator of every flicker ratio, computed once."""
        if ring not in self._input_error:
            self._input_error[ring] = warp_error(self.frames, self, ring=ring)
        return self._input_error[ring]

    def warp_prev(self, t: int, img: np.ndarray) -> np.ndarray:
        """Frame t-1's picture `img` moved by the known motion onto frame t: the camera's, and on a talking
        clip the mouths' too (they are motion, not flicker)."""
        h, w = img.shape[:2]
        if self.mouths is None:
            return cv2.warpAffine(img, self.motions[t], (w, h), flags=cv2.INTER_LINEAR)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        u = _apply(cv2.invertAffineTransform(self.cameras[t]), xx, yy)  # frame t pixel -> its talking still
        sx, sy = self.mouths.to_still(t, *u)
        px, py = _apply(self.cameras[t - 1], *self.mouths.from_still(t - 1, sx, sy))
        return cv2.remap(img, px, py, cv2.INTER_LINEAR)


def _apply(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ((m[0, 0] * x + m[0, 1] * y + m[0, 2]).astype(np.float32),
            (m[1, 0] * x + m[1, 1] * y + m[1, 2]).astype(np.float32))


@dataclass
class Mouths:
    """Talking frame t at still point u shows the still at (u_x, u_y - amplitudes[t] * field(u))."""
    field: np.ndarray  # (H, W) float32, in still pixels at full opening
    amplitudes: list[float]

    def _dy(self, t: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.amplitudes[t] * cv2.remap(self.field, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def to_still(self, t: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x, y - self._dy(t, x, y)

    def from_still(self, t: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The point of talking frame t that shows still point (x, y): solve v - dy(x, v) = y by fixed-point
        iteration (the field's slope is at most ~0.6, so 30 rounds leave well under 0.01 px)."""
        v = y.copy()
        for _ in range(30):
            v = y + self._dy(t, x, v)
        return x, v


def talking(still: np.ndarray, faces, n: int, period: int = 12, amplitude: float = 0.25
            ) -> tuple[list[np.ndarray], Mouths]:
    """The still with each face's mouth opening and closing (a period of `period` frames): the lower lip and
    chin pushed down by up to `amplitude` of the eye distance, a smooth local warp. Non-rigid motion that no
    camera move explains, so a method that reuses a face's last generation must notice it."""
    hh, ww = still.shape[:2]
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    field = np.zeros((hh, ww), np.float32)
    for f in faces:
        lm = f.landmarks.astype(np.float32)
        iod = float(np.linalg.norm(lm[1] - lm[0]))
        cx, cy = lm[3:5].mean(0)
        cy += 0.15 * iod  # below the mouth's corners: the lower lip and chin move, the upper lip stays
        field += amplitude * iod * np.exp(-(((xx - cx) / (0.45 * iod)) ** 2 + ((yy - cy) / (0.35 * iod)) ** 2))
    mouths = Mouths(field, [float(0.5 * (1 - np.cos(2 * np.pi * t / period))) for t in range(n)])
    frames = []
    for t in range(n):
        # float32 maps: cv2.remap takes a float64 second map for a fixed-point one and never returns
        frames.append(cv2.remap(still, *mouths.to_still(t, xx, yy), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101))
    return frames, mouths


def camera_clip(still: np.ndarray, detect, n: int = 60, size=(640, 480), pan=(2.0, 0.6), zoom=0.003,
                rotate_deg=0.08, brightness=0.003, talk: bool = False) -> Clip:
    """A virtual camera over `still`; talk=True also opens and closes each face's mouth (see talking)."""
    w, h = size
    stills, mouths = talking(still, detect(still), n) if talk else ([still] * n, None)
    sh, sw = still.shape[:2]
    s0 = 0.9 * min(w / sw, h / sh)
    mats = []
    for t in range(n):
        s = s0 * (1 + zoom * t)
        m = cv2.getRotationMatrix2D((sw / 2, sh / 2), rotate_deg * t, s)
        m[:, 2] += np.array([w / 2 - sw / 2, h / 2 - sh / 2]) + np.array(pan) * t - np.array([w, h]) * 0.03
        mats.append(m)
    frames = []
    for t, m in enumerate(mats):
        f = cv2.warpAffine(stills[t], m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        frames.append(np.clip(f.astype(np.float32) * (1 + brightness * t), 0, 255).astype(np.uint8))
    to3 = lambda m: np.vstack([m, [0, 0, 1]])  # noqa: E731
    motions = [np.eye(3)[:2]] + [(to3(mats[t]) @ np.linalg.inv(to3(mats[t - 1])))[:2] for t in range(1, n)]
    faces = detect(frames[0])

    def boxes(grow: float) -> np.ndarray:
        m = np.zeros((h, w), np.uint8)
        for f in faces:
            c, half = (f.box[:2] + f.box[2:]) / 2, (f.box[2:] - f.box[:2]) * grow / 2
            (x0, y0), (x1, y1) = np.maximum(0, c - half).astype(int), (c + half).astype(int)
            m[y0:y1, x0:x1] = 1
        return m

    mask0, ring0 = boxes(1.0), boxes(2.0) & (1 - boxes(1.3))
    masks, rings, cur = [], [], np.eye(3)
    for t in range(n):
        cur = to3(motions[t]) @ cur
        masks.append(cv2.warpAffine(mask0, cur[:2], (w, h), flags=cv2.INTER_NEAREST).astype(bool))
        rings.append(cv2.warpAffine(ring0, cur[:2], (w, h), flags=cv2.INTER_NEAREST).astype(bool))
    return Clip(frames, motions, masks, rings, mats, mouths)


def warp_error(frames: list[np.ndarray], clip: Clip, ring: bool = False) -> float:
    masks = clip.ring_masks if ring else clip.face_masks
    errs = []
    for t in range(1, len(frames)):
        prev = clip.warp_prev(t, frames[t - 1])
        valid = masks[t] & masks[t - 1]
        errs.append(np.abs(prev.astype(np.float32) - frames[t].astype(np.float32))[valid].mean())
    return float(np.mean(errs))


def run_config(stylizer, head: torch.Tensor, clip: Clip, detect_every: int, smooth: bool, blend: float = 1.0,
               generate_every: int = 1, colour=None, matte: bool | None = None) -> dict:
    tracker = FaceTracker(stylizer.detect, detect_every=detect_every, smooth=smooth)
    reuse = FaceReuse(generate_every, blend=blend)
    outs, faces, generated0 = [], 0, stylizer.batcher.faces_run
    t0 = time.perf_counter()
    for f in clip.frames:
        tracks = tracker.update(f)
        ids = [t.id for t in tracks]
        again, post = reuse.for_tracks(ids)
        outs.append(stylizer.stylize(f, head, faces=[t.face() for t in tracks], post=post, reuse=again,
                                     matte=matte, colour=colour)[0] if tracks else f)
        faces += len(tracks)
        reuse.next_frame()
    seconds = time.perf_counter() - t0
    return {"fps": len(clip.frames) / seconds, "detector_calls_per_frame": tracker.detector_calls / len(clip.frames),
            "flicker": warp_error(outs, clip) / clip.input_error(), "frames": len(clip.frames),
            # around the head: how much the paste changed the backdrop (a halo), and how much that flickers
            "backdrop_change": float(np.mean([np.abs(o.astype(np.float32) - f)[m].mean()
                                              for o, f, m in zip(outs, clip.frames, clip.ring_masks)])),
            "backdrop_flicker": warp_error(outs, clip, ring=True) / clip.input_error(ring=True),
            "generated_share": (stylizer.batcher.faces_run - generated0) / max(1, faces),
            "outputs": outs}


def compare(stylizer, head: torch.Tensor, clip: Clip, detect_every: int = 10, blend: float = 0.5,
            generate_every: int = 4, colour=None, matte: bool | None = None) -> dict:
    for _ in range(3):  # warm-up, so the first configuration timed does not pay for first calls
        stylizer.stylize(clip.frames[0], head)
    tracked = run_config(stylizer, head, clip, detect_every, smooth=True, blend=blend, generate_every=generate_every,
                         colour=colour, matte=matte)
    # the baseline: detect and generate every face on every frame, no smoothing
    baseline = run_config(stylizer, head, clip, 1, smooth=False, generate_every=1, colour=colour, matte=matte)
    return {"tracked": tracked, "baseline": baseline,
            "fps_ratio": tracked["fps"] / baseline["fps"],
            "flicker_reduction": 1 - tracked["flicker"] / baseline["flicker"]}


def frame_strip(clip: Clip, result: dict, every: int = 10, height: int = 160) -> np.ndarray:
    """Rows input | baseline | tracked, every `every`-th frame, for looking at."""
    rows = []
    for frames in (clip.frames, result["baseline"]["outputs"], result["tracked"]["outputs"]):
        cells = [cv2.resize(f, (int(f.shape[1] * height / f.shape[0]), height), interpolation=cv2.INTER_AREA)
                 for f in frames[::every]]
        rows.append(np.concatenate(cells, 1))
    return np.concatenate(rows, 0)
