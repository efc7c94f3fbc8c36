"""Build weights/face_prior.npz from the training four-fifths of ../shared/data/faces/single."""

import sys
import time
from pathlib import Path

from facestyle.data import data_root, face_split
from facestyle.faces import FaceDetector
from facestyle.style.prior import FacePrior, aligned_crops

out = Path(sys.argv[1] if len(sys.argv) > 1 else "weights/face_prior.npz")
t0 = time.time()
train, _ = face_split(data_root() / "faces/single")
crops = aligned_crops(train, FaceDetector())
prior = FacePrior.build(crops)
prior.save(out)
print(f"{len(crops)} faces of {len(train)} photos, {len(prior.stds)} components, "
      f"explained std {prior.stds[:5].round(2)}, {time.time() - t0:.0f} s -> {out}")
