"""A compact distribution of aligned low-resolution faces (PCA), shipped in weights/face_prior.npz.

The adaptation job samples its content faces from it, so no face dataset ships with the project;
its colour moments are the "typical photo face" that the instant colour estimate maps from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from facestyle.faces.align import align_face
from facestyle.faces.paste import feather_mask
from facestyle.imresize import imresize

HR_SIZE, LR_SIZE = 256, 64


def face_region_pixels(crop: np.ndarray) -> np.ndarray:
    """RGB pixels (N,3, in 0..1) of the inner face region of an aligned crop: where colour statistics are taken."""
    mask = feather_mask(crop.shape[0]) > 0.99
    return crop[mask].astype(np.float64) / 255


def downscale(crop: np.ndarray, size: int = LR_SIZE) -> np.ndarray:
    t = torch.from_numpy(crop).permute(2, 0, 1).double()
    return imresize(t, size=(size, size)).clamp(0, 255).permute(1, 2, 0).numpy()


@dataclass
class FacePrior:
    mean: np.ndarray  # (3*64*64,) in 0..1
    components: np.ndarray  # (k, 3*64*64), unit rows
    stds: np.ndarray  # (k,)
    colour_mean: np.ndarray  # (3,)
    colour_cov: np.ndarray  # (3, 3)

    @classmethod
    def build(cls, crops: list[np.ndarray], k: int = 32) -> "FacePrior":
        x = np.stack([downscale(c).reshape(-1) / 255 for c in crops])
        mean = x.mean(0)
        _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
        pix = np.concatenate([face_region_pixels(c) for c in crops])
        return cls(mean, vt[:k], s[:k] / np.sqrt(len(x) - 1), pix.mean(0), np.cov(pix.T))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, mean=self.mean.astype(np.float32), components=self.components.astype(np.float16),
                            stds=self.stds.astype(np.float32), colour_mean=self.colour_mean, colour_cov=self.colour_cov)

    @classmethod
    def load(cls, path: Path) -> "FacePrior":
        z = np.load(path)
        return cls(z["mean"].astype(np.float64), z["components"].astype(np.float64), z["stds"].astype(np.float64),
                   z["colour_mean"], z["colour_cov"])

    def sample(self, n: int, rng: np.random.Generator, truncation: float = 0.8) -> torch.Tensor:
        """n faces (n,3,64,64) in 0..1 drawn from the Gaussian, truncated for plausibility."""
        z = np.clip(rng.standard_normal((n, len(self.stds))), -2, 2) * truncation
        x = self.mean + (z * self.stds) @ self.components
        return torch.from_numpy(x.reshape(n, LR_SIZE, LR_SIZE, 3)).permute(0, 3, 1, 2).float().clamp(0, 1)


def aligned_crops(paths: list[Path], detector) -> list[np.ndarray]:
    """The largest face of each photo, aligned at 256 (photos without a face are skipped)."""
    from facestyle.data import load_rgb

    crops = []
    for p in paths:
        rgb = load_rgb(p)
        faces = detector.detect(rgb)
        if faces:
            face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
            crops.append(align_face(rgb, face.landmarks, HR_SIZE)[0])
    return crops
