"""Prototypes of the two routes for putting the SR generator back in the stills path, scored with eval-style's
served panel on 8 references x the first held-out faces (docs/generator-routes.md).

    python scripts/route_prototypes.py --route photo|zssr|teacher [--steps 300] [--faces 6] [--content 40] [--styles jinx,paint] [--coherence 10]

- photo: the synthesis at a quarter of the face's crop size, then the shipped `lite` generator 4x (no tuning);
- zssr: the same, the generator's weights first tuned on the reference's own quarter-size -> full-size patches
  (internal learning, one reference);
- teacher: the synthesis builds `--content` faces of the training split at 256 px (the teacher); the generator
  learns photo crop at 64 -> teacher at 256 (the student); served faces go crop at S/4 -> generator -> S.
Prints the panel's overall row, per-style rows and the median seconds of each part; writes out/route_<route>.json
and a contact sheet out/route_<route>.png.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facestyle.cli import _runtime  # noqa: E402
from facestyle.data import data_root, face_split, list_images, load_rgb  # noqa: E402
from facestyle.eval import served  # noqa: E402
from facestyle.eval.style import dlib_embedder  # noqa: E402
from facestyle.exemplar import ExemplarStylizer  # noqa: E402
from facestyle.faces import align_face  # noqa: E402
from facestyle.faces.align import transform_points  # noqa: E402
from facestyle.faces.head import head_region  # noqa: E402
from facestyle.faces.landmarks import dense_landmarks, five_points  # noqa: E402
from facestyle.imresize import fit_within  # noqa: E402
from facestyle.style.structure import restore_structure  # noqa: E402
from facestyle.style.synthesis import synthesize  # noqa: E402
from facestyle.weights import load_generator  # noqa: E402

KEYS = ("jinx", "1673", "sketch.", "jojo.", "00003", "_art", "paint", "disney")
TIMES: dict[str, list[float]] = {"adapt_s": [], "synthesis_s": [], "generator_s": []}


def _t(batch: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float() / 255


def reference_pairs(ex, n: int, hr: int = 96, rng=None) -> tuple[torch.Tensor, torch.Tensor]:
    """n (LR, HR) patch pairs of the reference at the sizes faces are served at, 80 % centred on its head."""
    rng = rng or np.random.default_rng(0)
    sizes = [s for s in (256, 384, 512) if s <= max(256, ex.crop.shape[0])]
    imgs = {}
    for s in sizes:
        h = cv2.resize(ex.crop, (s, s), interpolation=cv2.INTER_AREA)
        imgs[s] = (h, cv2.resize(h, (s // 4, s // 4), interpolation=cv2.INTER_AREA), cv2.resize(ex.head, (s, s)))
    lows, highs = [], []
    while len(highs) < n:
        s = sizes[rng.integers(len(sizes))]
        h, low, m = imgs[s]
        y, x = (int(rng.integers(0, (s - hr) // 4 + 1)) * 4 for _ in range(2))
        if m[y + hr // 2, x + hr // 2] < 0.5 and rng.random() < 0.8:
            continue
        ph, pl = h[y:y + hr, x:x + hr], low[y // 4:(y + hr) // 4, x // 4:(x + hr) // 4]
        if rng.integers(2):
            ph, pl = ph[:, ::-1], pl[:, ::-1]
        highs.append(ph.copy())
        lows.append(pl.copy())
    return _t(lows), _t(highs)


def content_faces(rt, n: int) -> list[tuple]:
    """Training-split faces aligned at 256 px with their landmarks and heads: the teacher's content."""
    out = []
    for p in face_split(data_root() / "faces/single")[0][:n]:
        rgb = fit_within(load_rgb(p), 768)
        faces = rt.exemplar.detect(rgb)
        if faces:
            f = max(faces, key=lambda f: f.box[2] - f.box[0])
            l68 = dense_landmarks(rgb, f.box)
            crop, m = align_face(rgb, five_points(l68), 256)
            l = transform_points(m, l68)
            out.append((crop, l, head_region(crop, l)))
    return out


def tune(generator, lr: torch.Tensor, hr: torch.Tensor, steps: int, lr_rate: float, crop: int | None = None,
         perceptual: float = 0.0):
    """All of the generator's weights (not its photo head), L1 (plus `perceptual` x the L1 distance of VGG19
    relu1_2/2_1/3_1 features), Adam, batch 8-16."""
    g = copy.deepcopy(generator).train()
    vgg = None
    if perceptual > 0:
        from facestyle.models.vgg import VGGFeatures

        vgg = VGGFeatures(("relu1_2", "relu2_1", "relu3_1")).eval().requires_grad_(False)
    opt = torch.optim.Adam([p for n, p in g.named_parameters() if n != "photo_head"], lr=lr_rate)
    for _ in range(steps):
        j = torch.randint(0, len(hr), (8 if crop else 16,))
        x, y = lr[j], hr[j]
        if crop:  # random LR crop of `crop` px and its HR counterpart
            oy, ox = (int(v) for v in torch.randint(0, lr.shape[-1] - crop + 1, (2,)))
            x, y = x[..., oy:oy + crop, ox:ox + crop], y[..., 4 * oy:4 * (oy + crop), 4 * ox:4 * (ox + crop)]
        out = g(x)
        loss = F.l1_loss(out, y)
        if vgg is not None:
            loss = loss + perceptual * sum(F.l1_loss(a, b) for a, b in zip(vgg(out), vgg(y))) / 255
        opt.zero_grad()
        loss.backward()
        opt.step()
    return g.eval()


class Routed(ExemplarStylizer):
    """The stills path with a generator: `adapt(exemplar)` makes the style's generator once per style."""

    def __init__(self, base: ExemplarStylizer, route: str, adapt):
        super().__init__(base.detector, base.config, base.structure, base.device)
        self.route, self.adapt, self.cache = route, adapt, {}

    def build(self, crops, exemplars):
        out = []
        for c, e in zip(crops, exemplars):
            if id(e) not in self.cache:
                self.cache = {id(e): self.adapt(e)}
            g, size = self.cache[id(e)], c.crop.shape[0]
            s = size // 4
            t0 = time.perf_counter()
            small = cv2.resize(c.crop, (s, s), interpolation=cv2.INTER_AREA)
            if self.route != "teacher":  # the synthesis at a quarter size, then 4x
                small = synthesize([(small, c.landmarks * (s / size), cv2.resize(c.head, (s, s), interpolation=cv2.INTER_AREA))],
                                   [(e.crop, e.landmarks, e.head)], self.config, self.device)[0]
            t1 = time.perf_counter()
            with torch.no_grad():
                made = g(torch.from_numpy(np.ascontiguousarray(small)).permute(2, 0, 1)[None].float() / 255)[0]
            made = made.permute(1, 2, 0).numpy().clip(0, 1) * 255
            TIMES["synthesis_s"].append(t1 - t0)
            TIMES["generator_s"].append(time.perf_counter() - t1)
            if self.route != "teacher":  # the teacher's pairs already hold the structure step
                ref = cv2.resize(e.crop, (size, size), interpolation=cv2.INTER_AREA)
                made = restore_structure(made, c.crop, c.landmarks, c.head, ref, e.landmarks * (size / e.crop.shape[0]), self.structure)
            out.append(made)
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--route", choices=["photo", "zssr", "teacher"], required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--faces", type=int, default=6)
    ap.add_argument("--content", type=int, default=40)
    ap.add_argument("--coherence", type=float, default=None, help="the synthesis's chunk coherence (default: as served)")
    ap.add_argument("--perceptual", type=float, default=0.0, help="teacher: weight of a VGG feature loss beside L1")
    ap.add_argument("--styles", default=",".join(KEYS), help="comma-separated name parts of the references")
    a = ap.parse_args()
    torch.manual_seed(0)
    rt = _runtime(None)
    if a.coherence is not None:
        rt.exemplar.config = replace(rt.exemplar.config, coherence=a.coherence)
    base = load_generator("srresnet_lite")
    content = content_faces(rt, a.content) if a.route == "teacher" else []

    def adapt(ex):
        t0 = time.perf_counter()
        if a.route == "photo":
            return base
        if a.route == "zssr":
            g = tune(base, *reference_pairs(ex, 16 * 40), a.steps, 1e-4)
        else:
            made = synthesize(content, [(ex.crop, ex.landmarks, ex.head)] * len(content), rt.exemplar.config)
            ref, rl = cv2.resize(ex.crop, (256, 256), interpolation=cv2.INTER_AREA), ex.landmarks * (256 / ex.crop.shape[0])
            teach = [restore_structure(m, c, l, h, ref, rl, rt.exemplar.structure) for m, (c, l, h) in zip(made, content)]
            low = [cv2.resize(c, (64, 64), interpolation=cv2.INTER_AREA) for c, _, _ in content]
            g = tune(base, _t(low), _t([np.clip(t, 0, 255).astype(np.uint8) for t in teach]), a.steps, 2e-4, crop=32, perceptual=a.perceptual)
        TIMES["adapt_s"].append(time.perf_counter() - t0)
        return g

    root = data_root()
    faces = [(p.name, fit_within(load_rgb(p), 768)) for p in face_split(root / "faces/single")[1][: a.faces]]
    every = list_images(root / "styles")
    styles = [(p.name, load_rgb(p)) for k in a.styles.split(",") for p in every if k in p.name.lower()]
    rt.exemplar = Routed(rt.exemplar, a.route, adapt)
    rows, sheet = served.evaluate_served(rt, faces, styles, dlib_embedder(), log=lambda *x, **k: None)
    summ = served.summary(rows)
    o = summ["overall"]["served"]
    med = {k: float(np.median(v)) if v else 0.0 for k, v in TIMES.items()}
    print(f"{a.route}: texture {o['texture_gain']:.3f} colour {o['colour_gain']:.2f} identified {o['identified']:.0%} "
          f"identity {o['identity_kept']:.0%} drift {o['drift_pct']:.1f} kept {o['kept_drawn']:.0%} seam {o['seam']:.2f} "
          f"detail {o['detail_200px']:.2f} s/face {o['seconds_per_face']:.2f} adapt {med['adapt_s']:.1f} s "
          f"synthesis {1000 * med['synthesis_s']:.0f} ms generator {1000 * med['generator_s']:.0f} ms")
    for name, agg in summ["styles"].items():
        s = agg["served"]
        print(f"  {name[:34]:34s} texture {s['texture_gain']:+.2f} identified {s['identified']:.0%} identity {s['identity_kept']:.0%}")
    Path("out").mkdir(exist_ok=True)
    json.dump(summ | {"timing": TIMES}, open(f"out/route_{a.route}.json", "w"))
    Image.fromarray(served.contact_sheet(sheet, faces=a.faces)).save(f"out/route_{a.route}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
