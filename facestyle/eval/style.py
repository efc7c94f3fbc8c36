"""`facestyle eval-style`: does one reference really stylize, and are faces kept? Faces x styles, measured.

Statistics, all on the aligned face crop (template of faces/align) of input, output and reference:
- colour distance: 2-Wasserstein distance between Gaussians fitted to the inner-face RGB pixels. The pipeline
  moves each face onto the reference's Gaussian (style/colour.py), so this one is near its ceiling by design;
  a second, `colour_gain_sliced`, compares the whole pixel distributions (sliced 1-Wasserstein over 64 fixed
  directions, quantiles compared), which a Gaussian match moves only part of the way;
- texture distance: Gram matrices of VGG19 relu1_2, relu2_1, relu3_1 on the *luminance* only (replicated to
  three channels and standardised), so a colour transfer alone cannot move it;
- gain = 1 - d(output, reference) / d(input, reference): 0 is no move toward the style, 1 is all the way.
- critic: each style's patch critic (trained by the adaptation, as the job does) scores its own reference, the
  held-out photos and the other styles' references; accuracy = how often the own reference scores higher;
- variants: the instant head, the tuned head, and "kept": the tuned head as the service applies it by default,
  where a face the style made undetectable is made again with the style weakened (Stylizer.stylize_keeping_faces);
- face kept: MTCNN finds a face in the output overlapping the input's box with IoU >= 0.5; landmark drift is
  the mean 5-point distance in % of the inter-ocular distance; identity (optional, dlib) distance < 0.6.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from facestyle.faces import Face, align_face
from facestyle.faces.detect import iou
from facestyle.faces.identity import SAME_PERSON
from facestyle.style.colour import ColourTarget, colour_moments, gaussian_w2
from facestyle.style.critic import PatchCritic
from facestyle.style.prior import HR_SIZE, face_region_pixels
from facestyle.style.texture import crop_tensor, gram_distance, gram_luma, inner_face


def colour_distance(a: np.ndarray, b: np.ndarray) -> float:
    """W2 between Gaussian fits of the inner-face pixels of two aligned crops."""
    return gaussian_w2(*colour_moments(a), *colour_moments(b))


_DIRECTIONS = np.random.default_rng(0).standard_normal((64, 3))
_DIRECTIONS /= np.linalg.norm(_DIRECTIONS, axis=1, keepdims=True)
_QUANTILES = np.linspace(0.005, 0.995, 100)


def colour_distance_sliced(a: np.ndarray, b: np.ndarray) -> float:
    """Sliced 1-Wasserstein between the inner-face pixel sets of two aligned crops (shape beyond two moments)."""
    qa, qb = (np.quantile(face_region_pixels(c) @ _DIRECTIONS.T, _QUANTILES, axis=0) for c in (a, b))
    return float(np.abs(qa - qb).mean())


@torch.no_grad()
def texture_distance(a: np.ndarray, b: np.ndarray, mask_a: np.ndarray | None = None, mask_b: np.ndarray | None = None
                     ) -> float:
    """Gram distance of the inner faces' luminance features; with masks ((S, S) in 0..1 over each aligned crop),
    over the masked regions only (a face's outline, not the backdrop the paste leaves as it was)."""
    def grams(crop, mask):
        w = None if mask is None else inner_face(torch.from_numpy(np.asarray(mask, np.float32))[None, None])
        return gram_luma(inner_face(crop_tensor(crop)), w)
    return float(gram_distance(grams(a, mask_a), grams(b, mask_b)))


def gain(d_out: float, d_in: float) -> float:
    return 1.0 - d_out / d_in if d_in > 1e-9 else 0.0


@dataclass
class FaceScore:
    kept: bool
    drift_pct: float | None
    colour_gain: float
    texture_gain: float
    colour_gain_sliced: float
    identity: float | None = None


@dataclass
class StyleReport:
    style: str
    instant_seconds: float
    adapt_seconds: float
    steps: int
    # "instant" / "tuned" -> per face; "kept": the tuned head, faces it made undetectable made again weaker
    # (Stylizer.stylize_keeping_faces, what the service does)
    scores: dict[str, list[FaceScore]] = field(default_factory=dict)
    reference: np.ndarray | None = None  # the aligned reference face, for the contact sheet
    crops: dict[str, list[np.ndarray]] = field(default_factory=dict)  # "instant" / "tuned" -> aligned outputs
    inputs: list[np.ndarray] = field(default_factory=list)  # the aligned input faces
    critic: object = None  # the style's trained PatchCritic
    fractions: list[float] = field(default_factory=list)  # "kept": the share of the style each face kept
    critic_scores: dict = field(default_factory=dict)


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
    g = lambda d: gain(d(out_crop, ref_crop), d(in_crop, ref_crop))  # noqa: E731
    return FaceScore(kept, drift, g(colour_distance), g(texture_distance), g(colour_distance_sliced), identity)


def dlib_embedder():
    """dlib's 128-d face embedding distance between two pictures' faces, each aligned by dlib's own 5-point
    predictor on the box MTCNN gave (independent of the 68 landmarks the stylizer uses); None without dlib."""
    try:
        import dlib

        from facestyle.faces.identity import model
        from facestyle.faces.landmarks import model_path

        sp = dlib.shape_predictor(str(model_path("shape_predictor_5_face_landmarks.dat")))
        rec = model()
    except (ImportError, RuntimeError):
        return None

    def embed(img, box):
        img = np.ascontiguousarray(img, dtype=np.uint8)  # dlib takes only C-contiguous uint8
        rect = dlib.rectangle(*[int(v) for v in box])
        return np.array(rec.compute_face_descriptor(img, sp(img, rect)))

    return lambda a, box_a, b, box_b: float(np.linalg.norm(embed(a, box_a) - embed(b, box_b)))


def evaluate_styles(rt, faces: list[tuple[str, np.ndarray]], styles: list[tuple[str, np.ndarray]], steps: int,
                    embedder=None, log=print, max_seconds: float | None = None) -> list[StyleReport]:
    from facestyle.runtime import NoFace

    detected = [(name, rgb, max(rt.stylizer.detect(rgb), key=lambda f: (f.box[2] - f.box[0]), default=None))
                for name, rgb in faces]
    detected = [d for d in detected if d[2] is not None]
    inputs = [align_face(rgb, f.landmarks, HR_SIZE)[0] for _, rgb, f in detected]  # the same for every style
    reports = []
    for sname, ref in styles:
        try:
            ref_crop = rt.reference_crop(ref)
        except NoFace:
            log(f"{sname}: no face found in the reference, skipped (POST /styles answers no_face)")
            continue
        t0 = time.perf_counter()
        h0, target = rt.instant_head(ref_crop), ColourTarget.of(ref_crop)
        t1 = time.perf_counter()
        critic = PatchCritic()
        h1, hist = rt.adapt(ref_crop, h0, steps, critic=critic, max_seconds=max_seconds) if steps else (h0, [])
        rep = StyleReport(sname, t1 - t0, time.perf_counter() - t1, len(hist), reference=ref_crop,
                          critic=critic if steps else None)
        for variant, head in (("instant", h0), ("tuned", h1), ("kept", h1)):
            if variant == "kept":  # the tuned head as the service applies it: faces it lost made again, weaker
                made = [rt.stylizer.stylize_keeping_faces(rgb, head, faces=[f], colour=target) for _, rgb, f in detected]
                outs, rep.fractions = [m[0] for m in made], [m[2][0] for m in made]
            else:
                outs = [rt.stylizer.stylize(rgb, head, faces=[f], colour=target)[0] for _, rgb, f in detected]
            rep.scores[variant] = [score_output(rt, rgb, f, out, ref_crop, embedder)
                                   for (_, rgb, f), out in zip(detected, outs)]
            rep.crops[variant] = [align_face(out, f.landmarks, HR_SIZE)[0] for (_, _, f), out in zip(detected, outs)]
        rep.inputs = inputs
        reports.append(rep)
        log(summary_row(rep), flush=True)
    score_critics(rt, reports, [rgb for _, rgb, _ in detected], dict(styles))
    return reports


@torch.no_grad()
def score_critics(rt, reports: list[StyleReport], photos: list[np.ndarray], references: dict[str, np.ndarray]) -> None:
    """Each trained critic on its own reference, the photos, the other styles' references and its tuned outputs."""
    inputs = {r.style: rt.critic_input(references[r.style])[0] for r in reports}
    photo_inputs = [rt.critic_input(p)[0] for p in photos]
    for r in reports:
        if r.critic is None:
            continue
        score = lambda batch: float(r.critic.score(batch).mean())  # noqa: E731
        own = score(inputs[r.style])
        photo = [score(b) for b in photo_inputs]
        other = [score(b) for name, b in inputs.items() if name != r.style]
        tuned = [score(crop_tensor(c)) for c in r.crops["tuned"]]
        r.critic_scores = {"own_reference": own, "photos": float(np.mean(photo)),
                           "other_references": float(np.mean(other)) if other else None,
                           "tuned_outputs": float(np.mean(tuned)),
                           "accuracy_vs_photos": float(np.mean([own > p for p in photo])),
                           "accuracy_vs_other_styles": float(np.mean([own > o for o in other])) if other else None}


def contact_sheet(reports: list[StyleReport], cell: int = 96) -> np.ndarray:
    """Rows faces; columns input, then per style: reference, instant, fine-tuned (aligned crops)."""
    from PIL import Image, ImageDraw

    small = lambda c: np.asarray(Image.fromarray(np.asarray(c, np.uint8)).resize((cell, cell), Image.BICUBIC))  # noqa: E731
    inputs = reports[0].inputs
    cols = [("input", [small(c) for c in inputs])]
    for r in reports:
        cols += [(f"{r.style[:14]} ref", [small(r.reference)] * len(inputs)),
                 ("instant", [small(c) for c in r.crops["instant"]]), ("tuned", [small(c) for c in r.crops["tuned"]])]
    grid = np.concatenate([np.concatenate(cells, 0) for _, cells in cols], 1)
    sheet = Image.new("RGB", (grid.shape[1], grid.shape[0] + 14), "white")
    sheet.paste(Image.fromarray(grid), (0, 14))
    draw = ImageDraw.Draw(sheet)
    for i, (name, _) in enumerate(cols):
        draw.text((i * cell + 2, 1), name, fill="black")
    return np.asarray(sheet)


def _agg(scores: list[FaceScore]) -> dict:
    kept = [s for s in scores if s.kept]
    ids = [s.identity for s in kept if s.identity is not None]
    return {"face_kept": len(kept) / max(1, len(scores)),
            "drift_pct": float(np.mean([s.drift_pct for s in kept])) if kept else None,
            "identity_kept": (float(np.mean([d < SAME_PERSON for d in ids])) if ids else None),
            "colour_gain": float(np.mean([s.colour_gain for s in scores])),
            "colour_gain_sliced": float(np.mean([s.colour_gain_sliced for s in scores])),
            "texture_gain": float(np.mean([s.texture_gain for s in scores]))}


VARIANTS = ("instant", "tuned", "kept")


def summary(reports: list[StyleReport]) -> dict:
    out = {"styles": {}, "overall": {}}
    for r in reports:
        out["styles"][r.style] = {"instant_seconds": r.instant_seconds, "adapt_seconds": r.adapt_seconds, "steps": r.steps,
                                  "critic": r.critic_scores, **{v: _agg(s) for v, s in r.scores.items()},
                                  "faces_weakened": sum(f < 1 for f in r.fractions), "fractions": r.fractions}
    for v in VARIANTS:
        out["overall"][v] = _agg([s for r in reports for s in r.scores.get(v, [])])
    out["overall"]["faces_weakened"] = sum(f < 1 for r in reports for f in r.fractions)
    critics = [r.critic_scores for r in reports if r.critic_scores]
    if critics:
        out["overall"]["critic"] = {k: float(np.mean([c[k] for c in critics if c[k] is not None]))
                                    for k in critics[0] if any(c[k] is not None for c in critics)}
    return out


def summary_row(r: StyleReport) -> str:
    a, b, c = _agg(r.scores["instant"]), _agg(r.scores["tuned"]), _agg(r.scores["kept"])
    return (f"{r.style[:32]:32s} instant colour {a['colour_gain']:+.2f} texture {a['texture_gain']:+.2f} | tuned colour "
            f"{b['colour_gain']:+.2f} sliced {b['colour_gain_sliced']:+.2f} texture {b['texture_gain']:+.2f} kept {b['face_kept']:.0%} drift "
            f"{b['drift_pct'] if b['drift_pct'] is None else round(b['drift_pct'], 1)}% | faces kept: {c['face_kept']:.0%}, "
            f"texture {c['texture_gain']:+.2f}, {sum(f < 1 for f in r.fractions)} weakened | {r.adapt_seconds:.0f} s")


def markdown(summary_: dict) -> str:
    rows = ["| style | variant | face kept | drift % IOD | identity kept | colour gain | colour gain (sliced) "
            "| texture gain | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda v, p="{:.2f}": "-" if v is None else p.format(v)  # noqa: E731
    for name, s in list(summary_["styles"].items()) + [("**overall**", None)]:
        for v in VARIANTS:
            m = s[v] if s else summary_["overall"][v]
            secs = "" if not s or v == "kept" else fmt(s["instant_seconds"] if v == "instant" else s["adapt_seconds"], "{:.1f}")
            rows.append(f"| {name} | {v} | {fmt(m['face_kept'], '{:.0%}')} | {fmt(m['drift_pct'], '{:.1f}')} | "
                        f"{fmt(m['identity_kept'], '{:.0%}')} | {fmt(m['colour_gain'])} | {fmt(m['colour_gain_sliced'])} | "
                        f"{fmt(m['texture_gain'])} | {secs} |")
    c = summary_["overall"].get("critic")
    if c:
        rows += ["", "| critic: own reference | held-out photos | other styles' references | tuned outputs | "
                 "accuracy vs photos | accuracy vs other styles |", "|---|---|---|---|---|---|",
                 f"| {c['own_reference']:.2f} | {c['photos']:.2f} | {fmt(c.get('other_references'))} | "
                 f"{c['tuned_outputs']:.2f} | {c['accuracy_vs_photos']:.0%} | {fmt(c.get('accuracy_vs_other_styles'), '{:.0%}')} |"]
    return "\n".join(rows)
