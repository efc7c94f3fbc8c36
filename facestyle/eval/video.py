"""`facestyle eval-video`: fps, detector calls per frame and flicker, tracked+smoothed vs detect-every-frame.

Clips need no download: a virtual camera (known pan, zoom, small rotation, brightness drift) moves over a
still picture, so the true motion between frames is known. Flicker = mean |warp(out[t-1]) - out[t]| over the
face region, divided by the same for the input frames (1.0: the stylized face changes no more than the input).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from facestyle.tracking import FaceReuse, FaceTracker, TemporalBlend


@dataclass
class Clip:
    frames: list[np.ndarray]
    motions: list[np.ndarray]  # motions[t]: 2x3 affine taking frame t-1 pixels to frame t (motions[0] = identity)
    face_masks: list[np.ndarray]  # where the face is, per frame (ground truth from frame 0's detection)


def talking(still: np.ndarray, faces, n: int, period: int = 12, amplitude: float = 0.25) -> list[np.ndarray]:
    """The still with each face's mouth opening and closing (a period of `period` frames): the lower lip and
    chin pushed down by up to `amplitude` of the eye distance, a smooth local warp. Non-rigid motion that no
    camera move explains, so a method that reuses a face's last generation must notice it."""
    hh, ww = still.shape[:2]
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    bumps = []
    for f in faces:
        lm = f.landmarks.astype(np.float32)
        iod = float(np.linalg.norm(lm[1] - lm[0]))
        cx, cy = lm[3:5].mean(0)
        cy += 0.15 * iod  # below the mouth's corners: the lower lip and chin move, the upper lip stays
        bumps.append((iod, np.exp(-(((xx - cx) / (0.45 * iod)) ** 2 + ((yy - cy) / (0.35 * iod)) ** 2))))
    frames = []
    for t in range(n):
        a = amplitude * 0.5 * (1 - np.cos(2 * np.pi * t / period))
        dy = sum(a * iod * bump for iod, bump in bumps) if bumps else np.zeros_like(yy)
        # float32 maps: cv2.remap takes a float64 second map for a fixed-point one and never returns
        frames.append(cv2.remap(still, xx, (yy - dy).astype(np.float32), cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT101))
    return frames


def camera_clip(still: np.ndarray, detect, n: int = 60, size=(640, 480), pan=(2.0, 0.6), zoom=0.003,
                rotate_deg=0.08, brightness=0.003, talk: bool = False) -> Clip:
    """A virtual camera over `still`; talk=True also opens and closes each face's mouth (see talking)."""
    w, h = size
    stills = talking(still, detect(still), n) if talk else [still] * n
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
    mask0 = np.zeros((h, w), np.uint8)
    for f in faces:
        x0, y0, x1, y1 = f.box.astype(int)
        mask0[max(0, y0):y1, max(0, x0):x1] = 1
    masks, cur = [], np.eye(3)
    for t in range(n):
        cur = to3(motions[t]) @ cur
        masks.append(cv2.warpAffine(mask0, cur[:2], (w, h), flags=cv2.INTER_NEAREST).astype(bool))
    return Clip(frames, motions, masks)


def warp_error(frames: list[np.ndarray], clip: Clip) -> float:
    errs = []
    for t in range(1, len(frames)):
        h, w = frames[t].shape[:2]
        prev = cv2.warpAffine(frames[t - 1], clip.motions[t], (w, h), flags=cv2.INTER_LINEAR)
        valid = clip.face_masks[t] & clip.face_masks[t - 1]
        errs.append(np.abs(prev.astype(np.float32) - frames[t].astype(np.float32))[valid].mean())
    return float(np.mean(errs))


def run_config(stylizer, head: torch.Tensor, clip: Clip, detect_every: int, smooth: bool, blend: float = 1.0,
               generate_every: int = 1, colour=None) -> dict:
    tracker = FaceTracker(stylizer.detect, detect_every=detect_every, smooth=smooth)
    temporal = TemporalBlend(blend)
    reuse = FaceReuse(generate_every)
    outs, faces, generated0 = [], 0, stylizer.batcher.faces_run
    t0 = time.perf_counter()
    for f in clip.frames:
        tracks = tracker.update(f)
        ids = [t.id for t in tracks]
        # blending needs every face generated; otherwise a tracked face may be pasted again while unchanged
        again, post = (None, temporal.for_tracks(ids)) if blend < 1 else reuse.for_tracks(ids)
        outs.append(stylizer.stylize(f, head, faces=[t.face() for t in tracks], post=post, reuse=again,
                                     matte=False, colour=colour)[0] if tracks else f)
        faces += len(tracks)
        reuse.next_frame()
    seconds = time.perf_counter() - t0
    return {"fps": len(clip.frames) / seconds, "detector_calls_per_frame": tracker.detector_calls / len(clip.frames),
            "flicker": warp_error(outs, clip) / warp_error(clip.frames, clip), "frames": len(clip.frames),
            "generated_share": (stylizer.batcher.faces_run - generated0) / max(1, faces),
            "outputs": outs}


def compare(stylizer, head: torch.Tensor, clip: Clip, detect_every: int = 10, blend: float = 1.0,
            generate_every: int = 3, colour=None) -> dict:
    for _ in range(3):  # warm-up, so the first configuration timed does not pay for first calls
        stylizer.stylize(clip.frames[0], head)
    tracked = run_config(stylizer, head, clip, detect_every, smooth=True, blend=blend, generate_every=generate_every,
                         colour=colour)
    baseline = run_config(stylizer, head, clip, 1, smooth=False, generate_every=1, colour=colour)  # every frame
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
