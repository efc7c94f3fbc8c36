"""`facestyle eval-style`'s panel for stills as served (faces built from the reference, exemplar.py), with the two
trivial baselines scored the same way, per style, per family of references and overall.

Measures (all but detail and seams on the aligned 256 px crop of eval/style.py):
- texture gain (colour-blind Gram statistic) and colour gain, as eval/style.py defines them; and the texture gain
  over the face: the same statistic over the face's outline (jaw and hairline, from the 68 landmarks) in input,
  output and reference alike. On the aligned crop's inner three quarters a photo's backdrop, which the paste
  leaves as it was, weighs as much as the face on a sharp portrait (docs/exemplar-synthesis.md, "Texture gain
  and the backdrop");
- identification (eval/panel.py): is the output nearest to its own reference among all, relative to the input;
- faces kept as drawn (MTCNN finds the full-strength face) and as served (after keep-faces), landmark drift,
  identity kept (dlib distance < 0.6);
- detail: high-frequency energy of the pasted face at its size in the picture over the photo's (faces >= 200 px;
  median over faces);
- seams: gradient energy on the ring along the blend edge, output over photo (median over faces);
- seconds per face (detection excluded: the request detects once for any style).
Baselines: the photo colour-transferred to the reference, and that blurred by 2 px at 128 px.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from facestyle.eval.panel import ReferencePatches, blurred_baseline, colour_transfer_baseline, detail_ratio, seam_ratio
from facestyle.eval.style import colour_distance, gain, score_output, texture_distance
from facestyle.exemplar import Exemplar, NoLandmarks
from facestyle.faces import align_face
from facestyle.faces.align import alignment_matrix, transform_points
from facestyle.faces.landmarks import dense_landmarks, face_outline, five_points, polygon_mask
from facestyle.faces.identity import SAME_PERSON
from facestyle.style.prior import HR_SIZE

FAMILIES = (("Arcane-like", ("arcane",)), ("line art", ("lineart",)), ("sketches", ("sketch",)),
            ("anime", ("anime", "jojo", "dio")), ("flat cartoons", ("cartoon", "disney")),
            ("paintings", ("art", "paint", "archer", "supergirl", "pinup", "caricature")))


def family(name: str) -> str:
    """The family of a shared reference, by its name after the source's prefix (`jojogan_art`: a painting, not
    anime), then by the source (`dualstylegan-anime_16031200`)."""
    low = name.lower()
    source, _, stem = low.partition("_")
    for text in (stem, source):
        for fam, keys in FAMILIES:
            if any(k in text for k in keys):
                return fam
    return "other"


@dataclass
class Row:
    style: str
    face: str
    variant: str  # served | colour | colour+blur
    texture_gain: float
    colour_gain: float
    identified: bool
    texture_gain_face: float | None = None  # over the face's outline only (not the backdrop or hair)
    nearest: str | None = None  # the reference the output is nearest to (its own when identified)
    kept_drawn: bool | None = None
    kept_served: bool | None = None
    drift_pct: float | None = None
    identity: float | None = None
    identity_drawn: float | None = None  # the stylizer's own check before its identity ladder (on the crop)
    identity_step: int | None = None  # the identity ladder's step it took (0: none)
    rebuilt: bool | None = None  # built again on the person's arrangement (MTCNN had lost the first build)
    detail: float | None = None
    seam: float | None = None
    seconds: float | None = None
    face_px: float | None = None


def readable_references(rt, styles: list[tuple[str, np.ndarray]], log=print
                        ) -> tuple[list[tuple[str, Exemplar]], list[np.ndarray]]:
    """The references a style can be made from, (name, exemplar) each, and their faces at the measures' crop; one
    with no landmarks readable is skipped, as POST /styles refuses it."""
    exemplars, refs = [], []
    for name, rgb in styles:
        try:
            ex = rt.exemplar.exemplar(rgb)
        except NoLandmarks:
            log(f"{name}: no landmarks readable in the reference, skipped (POST /styles answers no_landmarks)")
            continue
        exemplars.append((name, ex))
        refs.append(rt.head_crop(ex))
    return exemplars, refs


def face_mask(l68: np.ndarray, l5: np.ndarray) -> np.ndarray:
    """The face inside its outline (jaw and hairline) at the measures' aligned crop; 68 and 5 points in the
    same picture's pixels."""
    return polygon_mask(HR_SIZE, [face_outline(transform_points(alignment_matrix(l5, HR_SIZE), l68))])


def evaluate_served(rt, faces: list[tuple[str, np.ndarray]], styles: list[tuple[str, np.ndarray]], embedder=None,
                    log=print) -> tuple[list[Row], dict]:
    exemplars, refs = readable_references(rt, styles, log)
    patches = ReferencePatches(refs)
    detected = [(n, rgb, max(rt.stylizer.detect(rgb), key=lambda f: f.box[2] - f.box[0], default=None)) for n, rgb in faces]
    detected = [d for d in detected if d[2] is not None]
    inputs = [align_face(rgb, f.landmarks, HR_SIZE)[0] for _, rgb, f in detected]
    input_faces = [face_mask(dense_landmarks(rgb, f.box), f.landmarks) for _, rgb, f in detected]
    rows = []
    sheet = {"inputs": inputs, "styles": [], "centres": [((f.box[1] + f.box[3]) / 2, (f.box[0] + f.box[2]) / 2)
                                                       for _, _, f in detected]}
    for si, (sname, ex) in enumerate(exemplars):
        ref_crop, ref_face = refs[si], face_mask(ex.landmarks, five_points(ex.landmarks))
        served_crops, whole = [], []
        for (fname, rgb, f), in_crop, in_face in zip(detected, inputs, input_faces):
            # the input's distance over its face, once for the served output and both baselines
            d_in_face = texture_distance(in_crop, ref_crop, in_face, ref_face)
            face_gain = lambda crop: gain(texture_distance(crop, ref_crop, in_face, ref_face), d_in_face)  # noqa: E731
            t0 = time.perf_counter()
            report = {}
            out, _, kept = rt.exemplar.stylize(rgb, ex, faces=[f], report=report)
            secs = time.perf_counter() - t0
            mask = report["masks"][0]  # the served paste's own weights
            s = score_output(rt, rgb, f, out, ref_crop, embedder)
            out_crop = align_face(out, f.landmarks, HR_SIZE)[0]
            served_crops.append(out_crop)
            whole.append(out)
            face_px = float(f.box[2] - f.box[0])
            ident = patches.identify(out_crop, in_crop, si, input_key=fname)
            rows.append(Row(sname, fname, "served", s.texture_gain, s.colour_gain, ident["identified"],
                            nearest=exemplars[ident["order"][0]][0], kept_drawn=kept[0] == 1.0, kept_served=s.kept,
                            drift_pct=s.drift_pct, identity=s.identity, identity_drawn=report["identity_drawn"][0],
                            identity_step=report["identity_steps"][0], rebuilt=report.get("rebuilt", [False])[0],
                            detail=detail_ratio(out, rgb, mask) if face_px >= 200 else None,
                            seam=seam_ratio(out, rgb, mask), seconds=secs, face_px=face_px,
                            texture_gain_face=face_gain(out_crop)))
            d_in = {d: d(in_crop, ref_crop) for d in (texture_distance, colour_distance)}
            for variant, make in (("colour", colour_transfer_baseline), ("colour+blur", blurred_baseline)):
                b = make(in_crop, ref_crop)
                g = lambda d: gain(d(b, ref_crop), d_in[d])  # noqa: E731
                ident = patches.identify(b, in_crop, si, input_key=fname)
                rows.append(Row(sname, fname, variant, g(texture_distance), g(colour_distance), ident["identified"],
                                texture_gain_face=face_gain(b), nearest=exemplars[ident["order"][0]][0]))
        sheet["styles"].append((sname, ref_crop, served_crops, whole))
        log(line(sname, [r for r in rows if r.style == sname]), flush=True)
    return rows, sheet


def _mean(v):
    v = [x for x in v if x is not None]
    return float(np.mean(v)) if v else None


def _median(v):
    v = [x for x in v if x is not None]
    return float(np.median(v)) if v else None


def aggregate(rows: list[Row]) -> dict:
    served = [r for r in rows if r.variant == "served"]
    out = {v: {"texture_gain": _mean([r.texture_gain for r in rows if r.variant == v]),
               "texture_gain_face": _mean([r.texture_gain_face for r in rows if r.variant == v]),
               "colour_gain": _mean([r.colour_gain for r in rows if r.variant == v]),
               "identified": _mean([r.identified for r in rows if r.variant == v]),
               # or nearest another reference of its family: near-copies (one renderer's line drawings, one
               # artist's anime) cannot be told apart by patches, so this says how much of a miss is that
               "identified_family": _mean([r.identified or (r.nearest is not None and family(r.nearest) == family(r.style))
                                           for r in rows if r.variant == v])}
           for v in ("served", "colour", "colour+blur")}
    ids = [r.identity for r in served if r.identity is not None]
    out["served"] |= {"kept_drawn": _mean([r.kept_drawn for r in served]), "kept_served": _mean([r.kept_served for r in served]),
                      "drift_pct": _mean([r.drift_pct for r in served]),
                      "identity_kept": _mean([d < SAME_PERSON for d in ids]) if ids else None,
                      "identity_kept_drawn": _mean([r.identity_drawn < SAME_PERSON for r in served if r.identity_drawn is not None]),
                      "identity_restored": _mean([r.identity_step > 0 for r in served if r.identity_step is not None]),
                      "rebuilt": _mean([bool(r.rebuilt) for r in served]),
                      # medians: a ratio over a near-flat photo face (an old, smooth print) runs into the hundreds
                      "detail_200px": _median([r.detail for r in served]), "seam": _median([r.seam for r in served]),
                      "seconds_per_face": float(np.median([r.seconds for r in served])) if served else None,
                      "faces": len(served)}
    return out


def own_identified(rows: list[Row]) -> float:
    """Of the styles, the share whose outputs name their own reference most often (majority of faces)."""
    per = {}
    for r in rows:
        if r.variant == "served":
            per.setdefault(r.style, []).append(r.identified)
    return _mean([np.mean(v) > 0.5 for v in per.values()])


def summary(rows: list[Row]) -> dict:
    styles = sorted({r.style for r in rows})
    fams = sorted({family(s) for s in styles})
    return {"overall": aggregate(rows) | {"styles_identified": own_identified(rows)},
            "families": {f: aggregate([r for r in rows if family(r.style) == f]) for f in fams},
            "styles": {s: aggregate([r for r in rows if r.style == s]) for s in styles},
            "rows": [asdict(r) for r in rows]}


def line(style: str, rows: list[Row]) -> str:
    a = aggregate(rows)
    s, c, b = a["served"], a["colour"], a["colour+blur"]
    f = lambda v, p="{:+.2f}": "-" if v is None else p.format(v)  # noqa: E731
    return (f"{style[:34]:34s} served texture {f(s['texture_gain'])} face {f(s['texture_gain_face'])} colour {f(s['colour_gain'])} id {f(s['identified'], '{:.0%}')}"
            f" kept {f(s['kept_drawn'], '{:.0%}')}/{f(s['kept_served'], '{:.0%}')} identity {f(s['identity_kept'], '{:.0%}')} (drawn {f(s['identity_kept_drawn'], '{:.0%}')})"
            f" detail {f(s['detail_200px'], '{:.2f}')} seam {f(s['seam'], '{:.2f}')} {f(s['seconds_per_face'], '{:.2f}')} s"
            f" | colour texture {f(c['texture_gain'])} face {f(c['texture_gain_face'])} id {f(c['identified'], '{:.0%}')}"
            f" | blur texture {f(b['texture_gain'])} face {f(b['texture_gain_face'])} id {f(b['identified'], '{:.0%}')}")


def markdown(summ: dict) -> str:
    f = lambda v, p="{:.2f}": "-" if v is None else p.format(v)  # noqa: E731
    out = ["| group | texture gain (served / colour / blur) | over the face (served / colour / blur) | colour gain "
           "| own ref. identified (served / colour / blur) | kept drawn / served | drift % IOD | identity kept (drawn / served) "
           "| detail >=200 px | seams | s / face |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    groups = [("**overall**", summ["overall"])] + [(k, v) for k, v in summ["families"].items()] + \
             [(k, v) for k, v in summ["styles"].items()]
    for name, a in groups:
        s, c, b = a["served"], a["colour"], a["colour+blur"]
        out.append(f"| {name} | {f(s['texture_gain'])} / {f(c['texture_gain'])} / {f(b['texture_gain'])} | "
                   f"{f(s['texture_gain_face'])} / {f(c['texture_gain_face'])} / {f(b['texture_gain_face'])} | {f(s['colour_gain'])} | "
                   f"{f(s['identified'], '{:.0%}')} / {f(c['identified'], '{:.0%}')} / {f(b['identified'], '{:.0%}')} | "
                   f"{f(s['kept_drawn'], '{:.0%}')} / {f(s['kept_served'], '{:.0%}')} | {f(s['drift_pct'], '{:.1f}')} | "
                   f"{f(s['identity_kept_drawn'], '{:.0%}')} / {f(s['identity_kept'], '{:.0%}')} | {f(s['detail_200px'])} | {f(s['seam'])} | {f(s['seconds_per_face'])} |")
    o = summ["overall"]
    out.append(f"\nStyles whose outputs name their own reference (majority of faces): {f(o['styles_identified'], '{:.0%}')}")
    out.append(f"Faces built again on the person's arrangement because MTCNN lost the first build: {f(o['served']['rebuilt'], '{:.0%}')}")
    out.append("Own reference or another of its family identified (served / colour / blur): " + " / ".join(
        f(o[v]["identified_family"], "{:.0%}") for v in ("served", "colour", "colour+blur")))
    return "\n".join(out)


def contact_sheet(sheet: dict, faces: int = 6, cell: int = 128) -> np.ndarray:
    """Rows: styles. Per face: input | reference | served (aligned whole faces), then a 100 % crop of the served
    picture around the face's centre (cell x cell picture pixels, unscaled)."""
    from PIL import Image, ImageDraw

    small = lambda c: np.asarray(Image.fromarray(np.asarray(c, np.uint8)).resize((cell, cell), Image.BICUBIC))  # noqa: E731
    rows = []
    for sname, ref, served, whole in sheet["styles"]:
        cells = []
        for i in range(min(faces, len(served))):
            pic = whole[i]
            cy, cx = (int(v) for v in sheet["centres"][i])
            full = np.zeros((cell, cell, 3), np.uint8)
            y0, x0 = max(0, cy - cell // 2), max(0, cx - cell // 2)
            patch = pic[y0 : y0 + cell, x0 : x0 + cell]
            full[: patch.shape[0], : patch.shape[1]] = patch
            cells += [small(sheet["inputs"][i]), small(ref), small(served[i]), full]
        row = np.concatenate(cells, 1)
        label = Image.fromarray(np.full((14, row.shape[1], 3), 255, np.uint8))
        ImageDraw.Draw(label).text((2, 1), f"{sname[:60]}: input | reference | served | 100% centre", fill="black")
        rows.append(np.concatenate([np.asarray(label), row], 0))
    return np.concatenate(rows, 0)
