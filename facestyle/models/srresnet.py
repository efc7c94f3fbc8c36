"""SRResNet generator (SRGAN's G) whose normalisation parameters come from a per-sample style head.

Head layout, one flat vector per sample: for each CondNorm layer gamma (C) then beta (C), then a
3x3 colour matrix and a 3-vector bias applied to the RGB output. `photo_head` is the head learned by
plain SR training; a style is just another such vector (kilobytes), so faces of many styles batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from facestyle.models.blocks import CondNorm, ResidualBlock, Upsample2x


@dataclass(frozen=True)
class SRResNetConfig:
    channels: int = 64
    blocks: int = 16
    scale: int = 4
    image_skip: bool = True  # add the bicubic upscale of the input: the net learns the residual, converges faster

    @classmethod
    def preset(cls, name: str) -> "SRResNetConfig":
        presets = {"full": cls(64, 16), "lite": cls(32, 8)}
        if name not in presets:
            raise ValueError(f"unknown model {name!r}, expected one of {sorted(presets)}")
        return presets[name]


class SRResNet(nn.Module):
    def __init__(self, config: SRResNetConfig = SRResNetConfig()):
        super().__init__()
        c = config.channels
        self.config = config
        self.head = nn.Sequential(nn.Conv2d(3, c, 9, padding=4), nn.PReLU(c))
        self.body = nn.ModuleList(ResidualBlock(c) for _ in range(config.blocks))
        self.body_conv = nn.Conv2d(c, c, 3, padding=1)
        self.body_norm = CondNorm(c)
        self.upsample = nn.Sequential(*(Upsample2x(c) for _ in range(config.scale // 2)))
        self.tail = nn.Conv2d(c, 3, 9, padding=4)
        self.num_norms = 2 * config.blocks + 1
        self.head_dim = self.num_norms * 2 * c + 12
        self.photo_head = nn.Parameter(self.identity_head())

    def identity_head(self) -> torch.Tensor:
        c = self.config.channels
        norms = torch.cat([torch.ones(c), torch.zeros(c)]).repeat(self.num_norms)
        colour = torch.cat([torch.eye(3).flatten(), torch.zeros(3)])
        return torch.cat([norms, colour])

    def split_head(self, head: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """(N, head_dim) -> per-norm [gamma, beta, ...], colour matrices (N,3,3), colour bias (N,3)."""
        c, n = self.config.channels, head.shape[0]
        norms = head[:, : self.num_norms * 2 * c].reshape(n, self.num_norms * 2, c).unbind(1)
        colour = head[:, self.num_norms * 2 * c :]
        return list(norms), colour[:, :9].reshape(n, 3, 3), colour[:, 9:]

    def forward(self, x: torch.Tensor, head: torch.Tensor | None = None) -> torch.Tensor:
        """x: (N,3,h,w) RGB in [0,1]; head: (N, head_dim) or None for the photo head. Returns (N,3,4h,4w)."""
        if head is None:
            head = self.photo_head.unsqueeze(0).expand(x.shape[0], -1)
        norms, cmat, cbias = self.split_head(head.to(x.dtype))
        feat = self.head(x)
        y = feat
        for i, block in enumerate(self.body):
            y = block(y, norms[4 * i : 4 * i + 4])
        y = feat + self.body_norm(self.body_conv(y), norms[-2], norms[-1])
        out = self.tail(self.upsample(y))
        if self.config.image_skip:
            out = out + F.interpolate(x, scale_factor=self.config.scale, mode="bicubic", align_corners=False)
        out = torch.einsum("nij,njhw->nihw", cmat, out) + cbias[:, :, None, None]
        return out

    def trunk_parameters(self):
        return (p for name, p in self.named_parameters() if name != "photo_head")

    def checkpoint(self, **meta) -> dict:
        return {"config": asdict(self.config), "state_dict": self.state_dict(), "meta": meta}

    @classmethod
    def from_checkpoint(cls, ckpt: dict) -> "SRResNet":
        model = cls(SRResNetConfig(**ckpt["config"]))
        model.load_state_dict(ckpt["state_dict"])
        return model
