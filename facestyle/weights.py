"""The shipped weights: weights/NAME.pt, each with weights/NAME.md as its model card."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import torch

from facestyle.models import SRResNet

# the repo's weights/ (an editable install or the Docker image's /app); FACESTYLE_WEIGHTS_DIR overrides
WEIGHTS_DIR = Path(os.environ.get("FACESTYLE_WEIGHTS_DIR") or Path(__file__).resolve().parents[1] / "weights")


def weight_path(name: str) -> Path:
    p = Path(name)
    if p.suffix == ".pt" and p.exists():
        return p
    return WEIGHTS_DIR / f"{name}.pt"


@functools.lru_cache(maxsize=8)
def _load(path: str) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def style_heads(name: str) -> torch.Tensor | None:
    """The heads a generator learned multi-style (train/styles.py), shipped in its checkpoint; None if none."""
    path = weight_path(name)
    return _load(str(path)).get("style_heads") if path.exists() else None


def load_generator(name: str) -> SRResNet:
    """A fresh eval-mode generator from a shipped weight name (srresnet_lite, ...) or a .pt path."""
    path = weight_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no weights at {path}")
    return SRResNet.from_checkpoint(_load(str(path))).eval()
