"""MATLAB-compatible bicubic resize (imresize with a=-0.5, antialiased when shrinking).

The SR benchmarks' LR images were made by MATLAB; any other resize shifts PSNR by tenths of a dB.
Each axis is a dense (out x in) weight matrix, so the resize is two matmuls and runs batched on any device.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))


@functools.lru_cache(maxsize=256)
def resize_matrix(in_len: int, out_len: int, scale: float, antialias: bool = True) -> np.ndarray:
    """Weights W (out_len x in_len) such that out = W @ in along one axis, as MATLAB's imresize."""
    kernel_width = 4.0
    shrink = scale < 1 and antialias
    if shrink:
        kernel_width /= scale
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    dist = u[:, None] - idx
    w = scale * _cubic(dist * scale) if shrink else _cubic(dist)
    w = w / w.sum(axis=1, keepdims=True)
    # Symmetric (mirror) padding, as MATLAB does at the borders.
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    src = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    mat = np.zeros((out_len, in_len), dtype=np.float64)
    np.add.at(mat, (np.repeat(np.arange(out_len), taps), src.ravel()), w.ravel())
    return mat


def imresize(img: torch.Tensor, scale: float | None = None, size: tuple[int, int] | None = None) -> torch.Tensor:
    """Resize a float tensor (..., H, W) by `scale` or to `size` (h, w). Values are not clipped or rounded."""
    h, w = img.shape[-2:]
    if size is None:
        assert scale is not None
        size = (int(math.ceil(h * scale)), int(math.ceil(w * scale)))
    sh = scale if scale is not None else size[0] / h
    sw = scale if scale is not None else size[1] / w
    mh = torch.from_numpy(resize_matrix(h, size[0], sh)).to(img.device, img.dtype)
    mw = torch.from_numpy(resize_matrix(w, size[1], sw)).to(img.device, img.dtype)
    return torch.matmul(torch.matmul(mh, img), mw.T)


def fit_within(arr: np.ndarray, side: int) -> np.ndarray:
    """A uint8 picture shrunk (MATLAB bicubic) so its longer side is at most `side`; smaller ones as they are."""
    return imresize_uint8(arr, side / max(arr.shape[:2])) if max(arr.shape[:2]) > side else arr


def imresize_uint8(arr: np.ndarray, scale: float) -> np.ndarray:
    """Resize an HxW or HxWxC uint8 array and round to uint8, exactly as MATLAB would return it."""
    t = torch.from_numpy(arr.astype(np.float64))
    t = t.permute(2, 0, 1) if t.ndim == 3 else t
    out = imresize(t, scale)
    out = out.permute(1, 2, 0) if out.ndim == 3 else out
    return out.round().clamp(0, 255).to(torch.uint8).numpy()
