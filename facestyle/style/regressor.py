"""A learned instant estimate: the normalisation part of a head predicted from the reference alone.

Kernel ridge regression from a texture descriptor of the reference face (channel means and deviations of
VGG19 features of its standardised luminance: colour-blind, like the texture loss) to how fine-tuning moved
the head away from the photo head. Trained on procedural styles (style/procedural.py) by
`scripts/train_head_regressor.py`; the colour part stays the closed-form transport (estimate.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from facestyle.style.texture import crop_tensor, inner_face, luma_features


@torch.no_grad()
def describe(crop: np.ndarray) -> np.ndarray:
    """An aligned face crop (uint8 RGB) -> (896,) texture descriptor."""
    with torch.autocast("cpu", enabled=False):  # fp32 as in training, whatever context the caller holds
        feats = luma_features(inner_face(crop_tensor(crop)))
    return torch.cat([torch.cat([f.mean((2, 3)), f.std((2, 3))], 1)[0] for f in feats]).numpy().astype(np.float64)


@dataclass
class HeadRegressor:
    x_mean: np.ndarray  # (d,) descriptor standardisation
    x_std: np.ndarray
    train_x: np.ndarray  # (n, d) standardised training descriptors
    coef: np.ndarray  # (n, k) dual coefficients
    y_mean: np.ndarray  # (k,) the mean move: prediction = y_mean + (x . train_x^T / d) @ coef
    lam: float

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, lam: float) -> "HeadRegressor":
        mean, std = x.mean(0), x.std(0) + 1e-6
        z = (x - mean) / std
        k = z @ z.T / z.shape[1]
        # what every style's fine-tuning does alike is the intercept, the ridge fits how styles differ
        y_mean = y.mean(0)
        return cls(mean, std, z, np.linalg.solve(k + lam * np.eye(len(z)), y - y_mean), y_mean, lam)

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.x_mean) / self.x_std
        return self.y_mean + (z @ self.train_x.T / z.shape[1]) @ self.coef

    def save(self, path: Path) -> None:
        np.savez_compressed(path, x_mean=self.x_mean, x_std=self.x_std, train_x=self.train_x.astype(np.float32),
                            coef=self.coef.astype(np.float32), y_mean=self.y_mean.astype(np.float32), lam=self.lam)

    @classmethod
    def load(cls, path: Path, dim: int | None = None) -> "HeadRegressor":
        """`dim`: the normalisation part's size of the generator it is for (checked, so a lite regressor cannot
        be loaded for full)."""
        z = np.load(path)
        if dim is not None and z["coef"].shape[1] != dim:
            raise ValueError(f"{path} predicts {z['coef'].shape[1]} values, the generator's head has {dim}")
        return cls(z["x_mean"], z["x_std"], z["train_x"].astype(np.float64), z["coef"].astype(np.float64),
                   z["y_mean"].astype(np.float64), float(z["lam"]))


def held_out_error(x: np.ndarray, y: np.ndarray, lam: float, groups: np.ndarray | None = None) -> float:
    """Mean squared error of predicting each pair with its group held out (leave-one-out without groups),
    relative to predicting no move. Group the pairs by style, so the error is the one for a new style."""
    groups = np.arange(len(x)) if groups is None else np.asarray(groups)
    errs = []
    for g in np.unique(groups):
        out = groups == g
        reg = HeadRegressor.fit(x[~out], y[~out], lam)
        errs += [((reg.predict(x[i])[0] - y[i]) ** 2).sum() / (y[i] ** 2).sum() for i in np.where(out)[0]]
    return float(np.mean(errs))
