"""Seconds per face of the guided exemplar synthesis (style/synthesis.py) by crop size and batch, on CPU or CUDA,
and how far a CUDA result is from the CPU's on the same inputs.

The inputs (held-out faces and references aligned at 256, 512 and 1024 px, with their 68 landmarks and head
regions) are packed first where dlib and MTCNN are installed, so the timed run needs only torch and OpenCV:
  python scripts/bench_synthesis.py --pack .gpu/synth            # here: detect, landmarks, heads
  python scripts/bench_synthesis.py --inputs .gpu/synth [--device cuda]
Nothing of the shared data is kept in the project: the pack is a scratch folder (ignored by git).
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import facestyle.style.synthesis as synthesis

SIZES = (256, 512, 1024)


def pack(out: Path, faces: int, refs: int) -> None:
    from facestyle.data import data_root, face_split, list_images, load_rgb
    from facestyle.exemplar import ExemplarStylizer
    from facestyle.faces import FaceDetector, align_face
    from facestyle.faces.align import transform_points
    from facestyle.faces.head import head_region
    from facestyle.faces.landmarks import dense_landmarks, five_points

    st = ExemplarStylizer(FaceDetector())
    root = data_root()

    def aligned(paths, n):
        got = []
        for p in paths:
            rgb = load_rgb(p)
            found = st.detect(rgb)
            if not found:
                continue
            l68 = dense_landmarks(rgb, max(found, key=lambda f: f.box[2] - f.box[0]).box)
            got.append((rgb, l68))
            if len(got) == n:
                break
        return got

    sets = {"face": aligned(face_split(root / "faces/single")[1], faces), "ref": aligned(list_images(root / "styles"), refs)}
    out.mkdir(parents=True, exist_ok=True)
    for kind, items in sets.items():
        for size in SIZES:
            crops, l68s, heads = [], [], []
            for rgb, l68 in items:
                crop, m = align_face(rgb, five_points(l68), size)
                lm = transform_points(m, l68)
                crops.append(crop), l68s.append(lm), heads.append(head_region(crop, lm))
            np.savez_compressed(out / f"{kind}{size}.npz", crop=np.stack(crops), l68=np.stack(l68s), head=np.stack(heads))
    print(f"packed {len(sets['face'])} faces and {len(sets['ref'])} references at {SIZES} into {out}")


def load(folder: Path, kind: str, size: int) -> list[tuple]:
    z = np.load(folder / f"{kind}{size}.npz")
    return list(zip(z["crop"], z["l68"], z["head"]))


class GuideClock:
    """Time spent building guides (numpy, on the CPU whatever the device), so the search's share is known."""

    def __init__(self):
        self.seconds, self._guides = 0.0, synthesis.guides

    def __call__(self, *a, **k):
        t = time.perf_counter()
        g = self._guides(*a, **k)
        self.seconds += time.perf_counter() - t
        return g


def timed(targets, references, device, repeats):
    clock = GuideClock()
    synthesis.guides = clock
    try:
        synthesis.synthesize(targets, references, device=device)  # warm-up (kernels, caches)
        walls, shares = [], []
        for _ in range(repeats):
            clock.seconds = 0.0
            if device == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            out = synthesis.synthesize(targets, references, device=device)
            if device == "cuda":
                torch.cuda.synchronize()
            walls.append(time.perf_counter() - t)
            shares.append(clock.seconds / walls[-1])
    finally:
        synthesis.guides = clock._guides
    return statistics.median(walls), statistics.median(shares), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", type=Path, help="write the inputs here and stop")
    ap.add_argument("--inputs", type=Path, default=Path(".gpu/synth"))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--faces", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    a = ap.parse_args()
    if a.pack:
        return pack(a.pack, a.faces, a.faces)
    name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    print(f"device {name}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print("| size | batch | device | s / face | faces / s | guides' share | vs CPU batch 1 |")
    print("|---|---|---|---|---|---|---|")
    for size in a.sizes:
        faces, refs = load(a.inputs, "face", size), load(a.inputs, "ref", size)
        cpu_wall, cpu_share, cpu_out = timed(faces[:1], refs[:1], "cpu", a.repeats)
        print(f"| {size} | 1 | cpu | {cpu_wall:.3f} | {1 / cpu_wall:.2f} | {cpu_share:.0%} | 1.00x |", flush=True)
        if a.device == "cpu":
            continue
        for b in a.batches:
            n = min(b, len(faces))
            wall, share, out = timed(faces[:n], refs[:n], a.device, a.repeats)
            print(f"| {size} | {n} | {a.device} | {wall / n:.3f} | {n / wall:.2f} | {share:.0%} | "
                  f"{cpu_wall / (wall / n):.1f}x |", flush=True)
            if b == 1:
                d = np.abs(out[0] - cpu_out[0])
                print(f"  {a.device} against cpu, same face: max |diff| {d.max():.1f}, mean {d.mean():.3f}, "
                      f"pixels off by > 2 levels {(d.max(2) > 2).mean():.2%}", flush=True)


if __name__ == "__main__":
    main()
