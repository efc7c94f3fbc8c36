"""Pack the training data for a device run (the device sees only the repo): lossless WebP, faces <= 512 px.

Usage: python scripts/pack_gpu_data.py .gpu/data
The leak check runs here, against all three benchmarks, before anything is packed.
"""

import shutil
import sys
from pathlib import Path

from PIL import Image

from facestyle.data import (
    benchmark_pixel_hashes,
    data_root,
    face_split,
    list_images,
    load_rgb,
    pixel_hash,
)

out = Path(sys.argv[1])
root = data_root()
forbidden = benchmark_pixel_hashes(root / "sr")
jobs = [(p, out / "sr/train" / p.parent.name) for sub in ("T91", "BSD200") for p in list_images(root / "sr/train" / sub)]
jobs += [(p, out / "faces/single") for p in face_split(root / "faces/single")[0]]
for src, dst in jobs:
    a = load_rgb(src)
    assert pixel_hash(a) not in forbidden, src
    im = Image.fromarray(a)
    if max(im.size) > 512:
        im = im.resize((round(im.width * 512 / max(im.size)), round(im.height * 512 / max(im.size))), Image.LANCZOS)
    dst.mkdir(parents=True, exist_ok=True)
    im.save(dst / (src.stem + ".webp"), lossless=True, quality=100, method=4)
shutil.copytree(root / "sr/Set5", out / "sr/Set5", dirs_exist_ok=True)
print(sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20, "MiB")
