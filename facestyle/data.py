"""Where the shared data lives, and which files may be trained on."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
TEST_SETS = ("Set5", "Set14", "BSD100")


def data_root() -> Path:
    """FACESTYLE_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("FACESTYLE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def pixel_hash(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes() + str(arr.shape).encode()).hexdigest()


def benchmark_pixel_hashes(sr_root: Path) -> set[str]:
    """Pixel hashes of every benchmark HR image (and its transposes), to keep them out of training."""
    hashes = set()
    for name in TEST_SETS:
        folder = sr_root / name
        if folder.is_dir():
            for p in list_images(folder):
                a = load_rgb(p)
                hashes.update(pixel_hash(v) for v in (a, np.ascontiguousarray(a.transpose(1, 0, 2))))
    return hashes


def face_split(folder: Path) -> tuple[list[Path], list[Path]]:
    """(train, held-out) split of the single-face photos: a fixed fifth by name hash, the same on every machine."""
    train, held = [], []
    for p in list_images(folder):
        (held if int(hashlib.sha1(p.name.encode()).hexdigest(), 16) % 5 == 0 else train).append(p)
    return train, held
