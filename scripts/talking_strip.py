"""The talking clip's face up close, frames 2-12 (one mouth cycle): rows input | every frame detected and
generated | tracked, no blend | tracked, flow blend. For looking at the mouth, the line work and ghosting.

python scripts/talking_strip.py --out out/talking.png [--style out/sketch.pt] [--blend 0.5]
"""

import argparse

import cv2
import numpy as np
import skimage.data

from facestyle.cli import _runtime, load_style_file, style_file_colour
from facestyle.eval.video import camera_clip, run_config

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="out/talking.png")
ap.add_argument("--style", help="a style file (default: photo)")
ap.add_argument("--blend", type=float, default=0.5)
a = ap.parse_args()

rt = _runtime("lite")
st = rt.stylizer
style = load_style_file(a.style) if a.style else None
head = style["head"] if style else st.photo_head
colour = style_file_colour(style)
astronaut = skimage.data.astronaut()
clip = camera_clip(astronaut, st.detect, n=14, talk=True)
rows = [clip.frames]
for kw in (dict(detect_every=1, smooth=False, generate_every=1), dict(detect_every=10, smooth=True, generate_every=4),
           dict(detect_every=10, smooth=True, generate_every=4, blend=a.blend)):
    rows.append(run_config(st, head, clip, colour=colour, **kw)["outputs"])
centre = st.detect(astronaut)[0].landmarks.mean(0)  # the face in the still; each frame's camera moves it
cells = []
for frames in rows:
    row = []
    for t in range(2, 14, 2):
        x, y = (clip.cameras[t] @ np.r_[centre, 1.0]).astype(int)
        row.append(cv2.resize(frames[t][y - 60 : y + 60, x - 50 : x + 50], (200, 240), interpolation=cv2.INTER_NEAREST))
    cells.append(np.concatenate(row, 1))
cv2.imwrite(a.out, np.concatenate(cells, 0)[..., ::-1])
print(a.out)
