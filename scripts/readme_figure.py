"""The README's figure: held-out photos stylized with shared references, one row per pair, columns
input | reference | result, each cell a square crop around the face. The result is what `facestyle stylize`
serves (strength 1, keep faces on, scale 1); photos are first shrunk to at most 768 px, as eval-style does.

    python scripts/readme_figure.py [--out docs/figure.png] [--cell 240] [--styles A,B,C] [--photos X,Y]

References come from ../shared/data/styles (or $FACESTYLE_DATA/styles), photos from the held-out fifth of
faces/single (facestyle.data.face_split); names may be given without their suffix.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# a painting, an Arcane still, a pencil sketch
STYLES = "jojogan_art,jojogan_arcane_jinx,jojogan_sketch"
PHOTOS = "starganv2-celebahq_src_female_172559,apdrawing_young-507297_1920"
LABELS = ("input", "reference", "result")
BAR = 28  # the header's height in pixels


def pick(paths: list[Path], names: str) -> list[Path]:
    by = {p.stem: p for p in paths} | {p.name: p for p in paths}
    missing = [n for n in names.split(",") if n not in by]
    if missing:
        raise SystemExit(f"not found: {', '.join(missing)}")
    return [by[n] for n in names.split(",")]


def face_square(rgb: np.ndarray, box: np.ndarray, cell: int, grow: float = 1.7) -> np.ndarray:
    """A square around the face box, `grow` times its longer side but never past the picture (shifted and, if
    need be, shrunk to fit), resized to cell x cell."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    side = min(max(x1 - x0, y1 - y0) * grow, w, h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + 0.04 * side  # a little lower: the chin and neck, less air above
    left = int(round(np.clip(cx - side / 2, 0, w - side)))
    top = int(round(np.clip(cy - side / 2, 0, h - side)))
    s = int(side)
    crop = rgb[top : top + s, left : left + s]
    return np.asarray(Image.fromarray(crop).resize((cell, cell), Image.LANCZOS))


def largest(faces):
    return max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1])) if faces else None


def header(width: int, cell: int) -> np.ndarray:
    im = Image.new("RGB", (width, BAR), (255, 255, 255))
    d = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=16)
    for i, label in enumerate(LABELS):
        w = d.textlength(label, font=font)
        d.text((i * cell + (cell - w) / 2, (BAR - 16) / 2), label, fill=(40, 40, 40), font=font)
    return np.asarray(im)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "figure.png"))
    p.add_argument("--cell", type=int, default=240, help="each cell's side in pixels")
    p.add_argument("--styles", default=STYLES, help="reference file names in the shared styles folder")
    p.add_argument("--photos", default=PHOTOS, help="held-out photo file names in faces/single")
    p.add_argument("--gap", type=int, default=4, help="white pixels between rows")
    a = p.parse_args()

    from facestyle.config import Settings
    from facestyle.data import data_root, face_split, list_images, load_rgb
    from facestyle.imresize import fit_within
    from facestyle.runtime import runtime_for

    root = data_root()
    held = face_split(root / "faces/single")[1]
    not_held = [n for n in a.photos.split(",") if n not in {q.stem for q in held} | {q.name for q in held}]
    if not_held:
        raise SystemExit(f"not held out (trained on): {', '.join(not_held)}")
    photos = pick(held, a.photos)
    styles = pick(list_images(root / "styles"), a.styles)

    rt = runtime_for(Settings(), None)
    rows = []
    for sp in styles:
        ref = load_rgb(sp)
        t0 = time.perf_counter()
        exemplar = rt.exemplar.exemplar(ref)
        face = largest(rt.exemplar.detect(ref))
        ref_cell = face_square(ref, face.box, a.cell)
        print(f"{sp.name}: exemplar {exemplar.crop.shape[0]} px in {time.perf_counter() - t0:.1f} s", flush=True)
        for pp in photos:
            rgb = fit_within(load_rgb(pp), 768)
            t0 = time.perf_counter()
            out, faces, kept = rt.exemplar.stylize(rgb, exemplar)
            face = largest(faces)
            if face is None:
                raise SystemExit(f"{pp.name}: no face found")
            cells = [face_square(rgb, face.box, a.cell), ref_cell, face_square(out, face.box, a.cell)]
            rows.append(np.concatenate(cells, 1))
            print(f"  {pp.name}: {len(faces)} face(s), strength kept {kept}, {time.perf_counter() - t0:.1f} s",
                  flush=True)
    width = rows[0].shape[1]
    gap = np.full((a.gap, width, 3), 255, np.uint8)
    parts = [header(width, a.cell)]
    for r in rows:
        parts += [r, gap]
    sheet = np.concatenate(parts[:-1], 0)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(out, optimize=True)
    print(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]}, {out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
