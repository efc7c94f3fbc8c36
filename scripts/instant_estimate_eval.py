"""The instant estimate, closed form vs learned (style/regressor.py), on the shared styles x held-out faces.

Scores as `facestyle eval-style` does (face kept, colour and texture gain), with no fine-tuning, and writes a
contact sheet: rows faces; columns input, then per style: reference, closed form, learned.

  python scripts/instant_estimate_eval.py [--faces 34] [--styles N] [--regressor F] [--sheet out/instant.png]
"""

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from facestyle.data import data_root, face_split, list_images, load_rgb
from facestyle.eval.style import _agg, score_output
from facestyle.faces import align_face
from facestyle.imresize import fit_within
from facestyle.runtime import NoFace, get_runtime
from facestyle.style.colour import ColourTarget
from facestyle.style.estimate import instant_head
from facestyle.style.prior import HR_SIZE
from facestyle.style.regressor import HeadRegressor

p = argparse.ArgumentParser()
p.add_argument("--faces", type=int, default=34)
p.add_argument("--styles", type=int)
p.add_argument("--regressor", help="a regressor .npz (default: the shipped one)")
p.add_argument("--sheet")
p.add_argument("--sheet-faces", type=int, default=6)
p.add_argument("--json")
a = p.parse_args()

root = data_root()
rt = get_runtime("lite")
reg = HeadRegressor.load(Path(a.regressor)) if a.regressor else rt.regressor
faces = []
for path in face_split(root / "faces/single")[1][: a.faces]:
    rgb = fit_within(load_rgb(path), 512)
    found = rt.stylizer.detect(rgb)
    if found:
        faces.append((rgb, max(found, key=lambda f: f.box[2] - f.box[0])))
result, cols = {"styles": {}}, [[align_face(rgb, f.landmarks, HR_SIZE)[0] for rgb, f in faces[: a.sheet_faces]]]
for sp in list_images(root / "styles")[: a.styles]:
    try:
        ref = rt.reference_crop(load_rgb(sp))
    except NoFace:
        print(f"{sp.name}: no face in the reference, skipped")
        continue
    target = ColourTarget.of(ref)
    heads = {"closed": instant_head(rt.stylizer.generator, ref, rt.prior),
             "learned": instant_head(rt.stylizer.generator, ref, rt.prior, reg)}
    result["styles"][sp.name] = {}
    cols.append([ref] * min(a.sheet_faces, len(faces)))
    for name, head in heads.items():
        outs = [rt.stylizer.stylize(rgb, head, faces=[f], colour=target)[0] for rgb, f in faces]
        result["styles"][sp.name][name] = _agg([score_output(rt, rgb, f, o, ref) for (rgb, f), o in zip(faces, outs)])
        cols.append([align_face(o, f.landmarks, HR_SIZE)[0] for (_, f), o in zip(faces[: a.sheet_faces], outs)])
    c, le = result["styles"][sp.name]["closed"], result["styles"][sp.name]["learned"]
    print(f"{sp.name[:32]:32s} texture {c['texture_gain']:+.3f} -> {le['texture_gain']:+.3f}  kept {c['face_kept']:.0%} -> "
          f"{le['face_kept']:.0%}  colour {c['colour_gain']:.2f} -> {le['colour_gain']:.2f}", flush=True)
for name in ("closed", "learned"):
    rows = [s[name] for s in result["styles"].values()]
    result[name] = {k: float(np.mean([r[k] for r in rows])) for k in ("face_kept", "colour_gain", "colour_gain_sliced", "texture_gain")}
    print(f"mean of {len(rows)} styles, {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in result[name].items()))
if a.json:
    Path(a.json).write_text(json.dumps(result, indent=1))
if a.sheet:
    cell = 96
    small = lambda c: np.asarray(Image.fromarray(np.asarray(c, np.uint8)).resize((cell, cell), Image.BICUBIC))  # noqa: E731
    grid = np.concatenate([np.concatenate([small(c) for c in col], 0) for col in cols], 1)
    sheet = Image.new("RGB", (grid.shape[1], grid.shape[0] + 14), "white")
    sheet.paste(Image.fromarray(grid), (0, 14))
    draw = ImageDraw.Draw(sheet)
    for i, label in enumerate(["input"] + ["reference", "closed", "learned"] * (len(cols) // 3)):
        draw.text((i * cell + 2, 1), label, fill="black")
    Path(a.sheet).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(a.sheet)
    print(f"sheet -> {a.sheet}")
