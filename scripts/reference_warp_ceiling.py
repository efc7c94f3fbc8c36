"""What eval-style's texture gain and identification give the reference's own face warped onto the person (the
positional map alone: all of the reference's pixels in their own arrangement, none of the person's features),
beside the synthesis without the structure step and the served still, on the same faces. A bar that the warp
does not reach is out of reach of the reference's material on another face.

  python scripts/reference_warp_ceiling.py [--faces 3] [--styles arcane sketch]   (substrings of style names)
"""

import argparse

import cv2
import numpy as np

from facestyle.data import data_root, face_split, list_images, load_rgb
from facestyle.eval.panel import ReferencePatches
from facestyle.eval.served import readable_references
from facestyle.eval.style import gain, texture_distance
from facestyle.exemplar import ExemplarStylizer
from facestyle.faces import align_face
from facestyle.faces.paste import paste_blended
from facestyle.imresize import fit_within
from facestyle.runtime import get_runtime
from facestyle.style.guides import positional_map
from facestyle.style.prior import HR_SIZE
from facestyle.style.structure import StructureConfig

ap = argparse.ArgumentParser()
ap.add_argument("--faces", type=int, default=3, help="the first held-out single-face photos")
ap.add_argument("--styles", nargs="+", default=["arcane"], help="substrings of the style references' names")
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


variants = {
    "served": lambda photo, face, e: st.stylize(photo, e, faces=[face])[0],
    "synthesis, no structure": lambda photo, face, e: bare.stylize(photo, e, faces=[face], identity_ladder=())[0],
    "reference warped": warp_paste,
}
photos = [fit_within(load_rgb(p), 768) for p in face_split(root / "faces/single")[1][: a.faces]]
faces = [max(st.detect(p), key=lambda f: f.box[2] - f.box[0]) for p in photos]
print(f"{'style':34s} {'variant':24s} texture gain  identified")
for si, (name, e) in enumerate(named):
    if not any(s in name for s in a.styles):
        continue
    rows = {}
    for photo, face in zip(photos, faces):
        inp = align_face(photo, face.landmarks, HR_SIZE)[0]
        d_in = texture_distance(inp, refs[si])
        for v, make in variants.items():
            crop = align_face(make(photo, face, e), face.landmarks, HR_SIZE)[0]
            rows.setdefault(v, []).append((gain(texture_distance(crop, refs[si]), d_in),
                                           patches.identify(crop, inp, si)["identified"]))
    for v, r in rows.items():
        print(f"{name[:34]:34s} {v:24s} {np.mean([x[0] for x in r]):+.3f}        {np.mean([x[1] for x in r]):.0%}")
