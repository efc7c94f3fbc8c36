"""What eval-style's texture gain and identification give the reference's own face warped onto the person (the
positional map alone: all of the reference's pixels in their own arrangement, none of the person's features),
beside the synthesis without the structure step and the served still, on the same faces. A bar that the warp
does not reach is out of reach of the reference's material on another face.

  python scripts/reference_warp_ceiling.py [--faces 3] [--styles arcane sketch] [--variants "reference warped"]
  (--faces 0: every held-out photo; --styles: substrings of style names, "" for all). Texture gain over the
  aligned crop's inner square and over the face's outline (eval/served.py), and identification. The variant
  "served, painted beyond the head" pastes the served build's whole crop: how much of the square's gain is the
  backdrop's.
"""

import argparse
import functools

import cv2
import numpy as np

from facestyle.data import data_root, face_split, list_images, load_rgb
from facestyle.eval.panel import ReferencePatches
from facestyle.eval.served import face_mask, family, readable_references
from facestyle.eval.style import gain, texture_distance
from facestyle.exemplar import ExemplarStylizer, crop_border
from facestyle.faces import align_face
from facestyle.faces.landmarks import dense_landmarks, five_points
from facestyle.faces.paste import paste_blended
from facestyle.imresize import fit_within
from facestyle.runtime import get_runtime
from facestyle.style.guides import positional_map
from facestyle.style.prior import HR_SIZE
from facestyle.style.structure import StructureConfig

ap = argparse.ArgumentParser()
ap.add_argument("--faces", type=int, default=3, help="the first held-out single-face photos (0: all)")
ap.add_argument("--styles", nargs="+", default=["arcane"], help="substrings of the style references' names")
ap.add_argument("--variants", nargs="+", help="of: served, 'served, painted beyond the head', 'synthesis, no structure', "
                "'reference warped' (default: all)")
ap.add_argument("--start", type=int, default=0, help="the first held-out photo taken")
ap.add_argument("--every", type=int, default=1, help="every n-th of the matching styles")
a = ap.parse_args()

rt, root = get_runtime("lite"), data_root()
st = rt.exemplar
named, refs = readable_references(rt, [(p.name, load_rgb(p)) for p in list_images(root / "styles")])
patches = ReferencePatches(refs)  # identification among every readable reference, as eval-style does
bare = ExemplarStylizer(st.detector, st.config, StructureConfig(features=0.0), st.device)


def warp_paste(photo, face, e):
    """The exemplar warped onto the face's crop by the positional map, pasted as a served still is."""
    fc = st.face_crop(photo, face)
    n = fc.crop.shape[0]
    m = positional_map(fc.landmarks, e.landmarks * (n / e.crop.shape[0]), n).astype(np.float32)
    made = cv2.remap(cv2.resize(e.crop, (n, n), interpolation=cv2.INTER_AREA), m[0], m[1], cv2.INTER_LINEAR)
    return paste_blended(photo, made.astype(np.float32), fc.m, st.blend_mask(fc))


def served_once(photo, face, e):
    """`served()`: the served still and stylize's report for it, made on the first call only."""
    @functools.cache
    def served():
        report = {}
        return st.stylize(photo, e, faces=[face], report=report)[0], report
    return served


def painted_beyond_head(photo, face, e, served):
    """The served build's whole crop pasted (the synthesis's backdrop, clothes and hair beyond the head too),
    fading out only at the crop's border: what the served still would score if it painted the backdrop."""
    report = served()[1]
    made = report["built"][0]
    return paste_blended(photo, made, report["to_crop"][0], crop_border(made.shape[0]))


# each takes the photo, its face, the exemplar and `served()`: the served still and its report, made once per pair
variants = {
    "served": lambda photo, face, e, served: served()[0],
    "served, painted beyond the head": painted_beyond_head,
    "synthesis, no structure": lambda photo, face, e, served: bare.stylize(photo, e, faces=[face], identity_ladder=())[0],
    "reference warped": lambda photo, face, e, served: warp_paste(photo, face, e),
}
variants = {k: v for k, v in variants.items() if not a.variants or k in a.variants}
photos = [fit_within(load_rgb(p), 768) for p in face_split(root / "faces/single")[1][a.start :][: a.faces or None]]
faces = [max(st.detect(p), key=lambda f: f.box[2] - f.box[0], default=None) for p in photos]
photos, faces = [p for p, f in zip(photos, faces) if f is not None], [f for f in faces if f is not None]
outlines = [face_mask(dense_landmarks(p, f.box), f.landmarks) for p, f in zip(photos, faces)]
print(f"{'style':34s} {'variant':24s} texture gain (inner square / face)  identified")
total: dict = {}
by_family: dict = {}
chosen = [si for si, (name, _) in enumerate(named) if any(s in name for s in a.styles)][:: a.every]
for si in chosen:
    name, e = named[si]
    rows = {}
    ref_face = face_mask(e.landmarks, five_points(e.landmarks))
    for photo, face, outline in zip(photos, faces, outlines):
        inp = align_face(photo, face.landmarks, HR_SIZE)[0]
        d_in = texture_distance(inp, refs[si])
        d_face = texture_distance(inp, refs[si], outline, ref_face)
        served = served_once(photo, face, e)
        for v, make in variants.items():
            crop = align_face(make(photo, face, e, served), face.landmarks, HR_SIZE)[0]
            rows.setdefault(v, []).append((gain(texture_distance(crop, refs[si]), d_in),
                                           gain(texture_distance(crop, refs[si], outline, ref_face), d_face),
                                           patches.identify(crop, inp, si)["identified"]))
    for v, r in rows.items():
        total.setdefault(v, []).extend(r)
        by_family.setdefault((family(name), v), []).extend(r)
        m = np.mean(r, 0)
        print(f"{name[:34]:34s} {v:24s} {m[0]:+.3f} / {m[1]:+.3f}                    {m[2]:.0%}", flush=True)
for v, r in total.items():
    m = np.mean(r, 0)
    print(f"{'all':34s} {v:24s} {m[0]:+.3f} / {m[1]:+.3f}                    {m[2]:.0%}")
for (fam, v), r in sorted(by_family.items()):
    m = np.mean(r, 0)
    print(f"{fam:34s} {v:24s} {m[0]:+.3f} / {m[1]:+.3f}                    {m[2]:.0%}")
