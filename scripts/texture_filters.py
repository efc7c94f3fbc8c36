"""What do clean, classic stylizations score on eval-style's texture statistic? Each filter (procedural styles,
OpenCV's non-photorealistic filters) is applied to the held-out aligned input faces themselves, no generator,
and scored as eval-style scores texture (1 - d(filtered, ref) / d(input, ref), Gram of VGG19 on luminance).
Per reference: the best filter (an oracle), and the filter a rule picks without held-out data: the one whose
renderings of 40 training-split faces lie closest to the reference on average.

  python scripts/texture_filters.py [--json out/texture_filters.json]
"""

import argparse
import json

import cv2
import numpy as np
import torch

from facestyle.data import data_root, face_split, list_images, load_rgb
from facestyle.faces import align_face
from facestyle.imresize import fit_within
from facestyle.runtime import NoFace, get_runtime
from facestyle.style.prior import HR_SIZE
from facestyle.style.procedural import STYLES
from facestyle.style.texture import crop_tensor, gram_distance, gram_luma, inner_face

p = argparse.ArgumentParser()
p.add_argument("--train-faces", type=int, default=40)
p.add_argument("--json")
a = p.parse_args()

FILTERS = {
    "none": lambda x: x,
    "posterise": STYLES["posterise"],
    "cartoon": STYLES["cartoon"],
    "watercolour": STYLES["watercolour"],
    "cv_stylization": lambda x: cv2.stylization(x, sigma_s=60, sigma_r=0.45),
    "cv_pencil": lambda x: cv2.cvtColor(cv2.pencilSketch(x, sigma_s=60, sigma_r=0.07, shade_factor=0.05)[0],
                                        cv2.COLOR_GRAY2RGB),
    "cv_detail": lambda x: cv2.detailEnhance(x, sigma_s=10, sigma_r=0.15),
    "cv_airbrush": lambda x: cv2.edgePreservingFilter(x, flags=1, sigma_s=60, sigma_r=0.4),
}
root, rt = data_root(), get_runtime("lite")


def aligned(paths, n=None):
    out = []
    for path in paths:
        rgb = fit_within(load_rgb(path), 512)
        found = rt.stylizer.detect(rgb)
        if found:
            out.append(align_face(rgb, max(found, key=lambda f: f.box[2] - f.box[0]).landmarks, HR_SIZE)[0])
        if n and len(out) >= n:
            break
    return out


@torch.no_grad()
def grams(crops):
    return gram_luma(inner_face(torch.cat([crop_tensor(np.asarray(c, np.uint8)) for c in crops])))


def distances(g, ref_grams) -> np.ndarray:
    return np.array([float(gram_distance([x[i : i + 1] for x in g], ref_grams)) for i in range(len(g[0]))])


train_split, held_split = face_split(root / "faces/single")
train, held = aligned(train_split, a.train_faces), aligned(held_split)
render = lambda f, crops: grams([f(np.ascontiguousarray(c)) for c in crops])  # noqa: E731
g_train = {n: render(f, train) for n, f in FILTERS.items()}
g_held = {n: render(f, held) for n, f in FILTERS.items()}
result = {}
print(f"{len(held)} held-out faces, {len(train)} training faces for the rule")
print("| reference | rule's pick | its gain | best filter | its gain |\n|---|---|---|---|---|")
for sp in list_images(root / "styles"):
    try:
        ref_grams = grams([rt.reference_crop(load_rgb(sp))])
    except NoFace:
        continue
    d_in = distances(g_held["none"], ref_grams)
    gains = {n: float((1 - distances(g, ref_grams) / d_in).mean()) for n, g in g_held.items()}
    near = {n: distances(g, ref_grams).mean() for n, g in g_train.items()}
    pick, best = min(near, key=near.get), max(gains, key=gains.get)
    result[sp.name] = {"gains": gains, "rule": pick, "oracle": best}
    print(f"| {sp.name[:32]} | {pick} | {gains[pick]:+.2f} | {best} | {gains[best]:+.2f} |", flush=True)
rule = np.mean([r["gains"][r["rule"]] for r in result.values()])
oracle = np.mean([r["gains"][r["oracle"]] for r in result.values()])
print(f"mean over {len(result)} references: rule {rule:+.3f}, oracle {oracle:+.3f}")
if a.json:
    with open(a.json, "w") as f:
        json.dump(result, f, indent=2)
