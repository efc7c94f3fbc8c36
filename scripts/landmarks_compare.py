"""Dense landmarks, dlib 68 (on MTCNN's box) against mediapipe FaceMesh: agreement with MTCNN's 5 points.

.venv/bin/python scripts/landmarks_compare.py [--sheet /tmp/landmarks_sheet.png]
Agreement = mean distance of the 5 points (eye centres, nose tip, mouth corners) to MTCNN's, in % of MTCNN's
inter-ocular distance (IOD). Failure = no landmarks, or agreement > 15 % IOD. See docs/landmarks.md.
"""

import argparse
import time
from collections import defaultdict

import cv2
import numpy as np
import torch

from facestyle.data import data_root, face_split, list_images, load_rgb
from facestyle.faces.detect import FaceDetector
from facestyle.faces.landmarks import dense_landmarks, five_points

ap = argparse.ArgumentParser()
ap.add_argument("--sheet", default="/tmp/landmarks_sheet.png")
ap.add_argument("--fail", type=float, default=15.0, help="failure threshold, %% IOD")
a = ap.parse_args()
torch.set_num_threads(2)
import mediapipe as mp  # noqa: E402  (after torch: both bring their own thread pools)

det = FaceDetector()
mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True)
times = defaultdict(list)


def mtcnn(rgb):
    t = time.perf_counter(); faces = det.detect(rgb); times["mtcnn"].append(time.perf_counter() - t)
    return max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1])) if faces else None


def by_x(p, q):
    return (p, q) if p[0] <= q[0] else (q, p)


def run_dlib(rgb, face):
    if face is None:
        return None, None
    t = time.perf_counter(); l68 = dense_landmarks(rgb, face.box); times["dlib"].append(time.perf_counter() - t)
    return l68, five_points(l68)


def _mesh(rgb):
    res = mesh.process(np.ascontiguousarray(rgb))
    if not res.multi_face_landmarks:
        return None
    h, w = rgb.shape[:2]
    return np.array([[p.x * w, p.y * h] for p in res.multi_face_landmarks[0].landmark])


def run_mp(rgb, face):
    t = time.perf_counter(); pts = _mesh(rgb)
    if pts is None and face is not None:  # retry on a crop of MTCNN's box, 1.6x
        (x1, y1, x2, y2), (h, w) = face.box, rgb.shape[:2]
        cx, cy, s = (x1 + x2) / 2, (y1 + y2) / 2, 0.8 * max(x2 - x1, y2 - y1)
        X0, Y0, X1, Y1 = int(max(0, cx - s)), int(max(0, cy - s)), int(min(w, cx + s)), int(min(h, cy + s))
        pts = _mesh(rgb[Y0:Y1, X0:X1])
        pts = None if pts is None else pts + [X0, Y0]
    times["mediapipe"].append(time.perf_counter() - t)
    if pts is None:
        return None, None
    eyes = by_x(pts[468], pts[473])  # iris centres
    mouth = by_x(pts[61], pts[291])
    return pts, np.stack([eyes[0], eyes[1], pts[1], mouth[0], mouth[1]])


def agree(p5, ref):
    """Mean 5-point distance in % IOD (None if either side is missing)."""
    if p5 is None or ref is None:
        return None
    return 100 * float(np.linalg.norm(p5 - ref, axis=1).mean() / np.linalg.norm(ref[0] - ref[1]))


def fmt(v):
    return "   -" if v is None else f"{v:5.1f}"


def family(name):
    n = name.lower().replace("jojogan", "")  # the "jojo" style, not the JoJoGAN repo
    for key, fam in (("apdrawing", "line art"), ("sketch", "sketches"), ("cartoon", "cartoons"), ("disney", "cartoons"),
                     ("arcane", "Arcane"), ("anime", "anime"), ("jojo", "anime"), ("dio", "anime")):
        if key in n:
            return fam
    return "paintings/comics"


def summary(errs, n):
    ok = [e for e in errs if e is not None]
    fails = sum(e is None or e > a.fail for e in errs)
    med = f"{np.median(ok):6.1f}" if ok else "     -"
    mean = f"{np.mean(ok):6.1f}" if ok else "     -"
    return f"{len(ok):3d}/{n:<3d} {mean} {med} {fails:3d} ({100 * fails / max(n, 1):3.0f} %)"


# 1. style references
root = data_root()
refs = list_images(root / "styles")
print(f"\n## Style references ({len(refs)}), agreement with MTCNN in % IOD (- = no landmarks / no MTCNN face)\n")
print(f"{'reference':52s} {'family':17s} mtcnn  dlib  mesh")
rows, sheet = [], []
for p in refs:
    rgb = load_rgb(p)
    face = mtcnn(rgb)
    ref = None if face is None else face.landmarks.astype(np.float64)
    l68, d5 = run_dlib(rgb, face)
    pts, m5 = run_mp(rgb, face)
    ed, em = agree(d5, ref), agree(m5, ref)
    rows.append((family(p.name), face is not None, l68 is not None, pts is not None, ed, em))
    sheet.append((p.name, rgb, ref, l68, pts, ed, em))
    note = "" if face else f"  (no reference; mesh {'found a face' if pts is not None else 'none'})"
    print(f"{p.stem[:52]:52s} {family(p.name):17s} {'yes' if face else ' no'}  {fmt(ed)} {fmt(em)}{note}")
print(f"\n{'family':17s}   n  mtcnn dlib-pts mesh-pts | dlib mean  mesh mean | dlib fail mesh fail")
for fam in ["line art", "sketches", "anime", "cartoons", "Arcane", "paintings/comics", "all"]:
    rs = [r for r in rows if fam in ("all", r[0])]
    mean = lambda i: fmt(np.mean([r[i] for r in rs if r[i] is not None]) if any(r[i] is not None for r in rs) else None)  # noqa: E731
    fail = lambda i: sum(r[1] and (r[i] is None or r[i] > a.fail) for r in rs)  # noqa: E731
    print(f"{fam:17s} {len(rs):3d} {sum(r[1] for r in rs):5d} {sum(r[2] for r in rs):8d} {sum(r[3] for r in rs):8d} |"
          f"     {mean(4)}      {mean(5)} | {fail(4):9d} {fail(5):9d}")
print(f"  (fail: of the references MTCNN finds a face in, no landmarks or > {a.fail:g} % IOD)")

# 2. held-out photos, clean and perturbed
_, held = face_split(root / "faces" / "single")
errs = defaultdict(list)
for p in held:
    rgb = load_rgb(p)
    face = mtcnn(rgb)
    if face is None:
        print(f"  (MTCNN finds no face in {p.name}; skipped)")
        continue
    clean = face.landmarks.astype(np.float64)
    h, w = rgb.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), 30, 1.0)
    rot = cv2.warpAffine(rgb, M, (w, h), borderMode=cv2.BORDER_REFLECT)
    flip = np.ascontiguousarray(rgb[:, ::-1])
    occ = rgb.copy()
    x1, y1, x2, y2 = face.box.astype(int)
    occ[max(0, y2 - (y2 - y1) // 3):max(0, y2), max(0, x1):max(0, x2)] = 128
    flip_ref = np.stack([clean[1], clean[0], clean[2], clean[4], clean[3]]) * [-1, 1] + [w - 1, 0]
    rot_ref = np.c_[clean, np.ones(5)] @ M.T
    for cond, img, fallback in (("clean", rgb, clean), ("rotated 30", rot, rot_ref), ("mirrored", flip, flip_ref),
                                ("lower third hidden", occ, clean)):
        f = face if cond == "clean" else mtcnn(img)
        # reference: MTCNN on the perturbed image (rotated, mirrored); on the clean image when the face is covered
        ref = fallback if (f is None or cond == "lower third hidden") else f.landmarks.astype(np.float64)
        errs[cond, "mtcnn"].append(None if f is None else agree(f.landmarks.astype(np.float64), fallback))
        for d, fn in (("dlib", run_dlib), ("mediapipe", run_mp)):
            p5 = fn(img, f)[1]
            errs[cond, d].append(agree(p5, ref))
            errs[cond, d + " *"].append(agree(p5, fallback))  # against the clean points carried through
            errs[cond, d + " +box"] += [] if f is None else [agree(p5, ref)]  # only where MTCNN has a box
n = len(errs["clean", "dlib"])
print(f"\n## Held-out faces/single ({n} photos), agreement in % IOD; failure = none or > {a.fail:g} %\n")
print(f"{'condition':19s} {'detector':14s}  got/n    mean median fail")
for cond in ("clean", "rotated 30", "mirrored", "lower third hidden"):
    for d in ("dlib", "mediapipe", "mtcnn", "dlib +box", "mediapipe +box", "dlib *", "mediapipe *"):
        if (cond == "clean" and d not in ("dlib", "mediapipe")) or (cond.startswith("lower") and "*" in d):
            continue  # nothing perturbed / the reference is already the clean one
        print(f"{cond:19s} {d:14s} {summary(errs[cond, d], len(errs[cond, d]))}")
print("  mtcnn: MTCNN on the perturbed image against the clean MTCNN points carried through the perturbation;\n"
      "  +box: only photos where MTCNN finds the perturbed face; *: against the carried-through clean points")

# 3. speed
print("\n## Seconds per face (median over all calls above)\n")
for k in ("mtcnn", "dlib", "mediapipe"):
    print(f"{k:10s} {np.median(times[k]):.4f} s  (n={len(times[k])})")
print(f"{'dlib+mtcnn':10s} {np.median(times['dlib']) + np.median(times['mtcnn']):.4f} s  (dlib needs MTCNN's box)")

# contact sheet: MTCNN 5 (white), dlib 68 (green), mediapipe 478 (red, iris/nose/mouth used in orange)
if a.sheet:
    keys = ("1673", "1794", "anime_1603", "anime_2307", "Liv_Tyler", "00038", "viktor", "dio", "pinup",
            "jojogan_jojo.", "sketch2", "supergirl")
    picks = [s for k in keys for s in sheet if k in s[0]][:12]
    tiles, C = [], 320
    for name, rgb, ref, l68, pts, ed, em in picks:
        s = C / max(rgb.shape[:2])
        t = np.full((C + 36, C, 3), 255, np.uint8)
        im = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        t[:im.shape[0], :im.shape[1]] = im
        for q in ([] if pts is None else pts * s):
            cv2.circle(t, (int(q[0]), int(q[1])), 1, (255, 0, 0), -1)
        for q in ([] if pts is None else pts[[468, 473, 1, 61, 291]] * s):
            cv2.circle(t, (int(q[0]), int(q[1])), 3, (255, 140, 0), -1)
        for q in ([] if l68 is None else l68 * s):
            cv2.circle(t, (int(q[0]), int(q[1])), 2, (0, 200, 0), -1)
        for q in ([] if ref is None else ref * s):
            cv2.drawMarker(t, (int(q[0]), int(q[1])), (255, 255, 255), cv2.MARKER_CROSS, 9, 2)
        cv2.putText(t, name[:40], (3, C + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1)
        cv2.putText(t, f"dlib {fmt(ed).strip()}  mesh {fmt(em).strip()} %IOD", (3, C + 30), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1)
        tiles.append(t)
    while len(tiles) % 4:
        tiles.append(np.full_like(tiles[0], 255))
    grid = np.vstack([np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)])
    cv2.imwrite(a.sheet, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(f"\nsheet: {a.sheet} (white cross MTCNN, green dlib 68, red mediapipe mesh, orange mediapipe 5)")
