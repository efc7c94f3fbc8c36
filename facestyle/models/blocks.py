"""Shared blocks: conditional normalisation (the per-style head) and the SRResNet residual block."""

from __future__ import annotations

import torch
from torch import nn


class CondNorm(nn.Module):
    """Per-sample scale and shift per channel: y = x * gamma[n] + beta[n].

    No batch statistics: BatchNorm costs PSNR in SR (EDSR) and would make one face's output depend on
    its batch mates; the affine part alone is what conditional instance norm uses to carry a style.
    The parameters arrive per sample from the style head, so mixed styles share one forward pass.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return x * gamma[:, :, None, None] + beta[:, :, None, None]


class ResidualBlock(nn.Module):
    """conv-norm-PReLU-conv-norm with identity skip (SRGAN, Fig. 4)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm1 = CondNorm(channels)
        self.act = nn.PReLU(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = CondNorm(channels)

    def forward(self, x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
        g1, b1, g2, b2 = params
        y = self.act(self.norm1(self.conv1(x), g1, b1))
        return x + self.norm2(self.conv2(y), g2, b2)


class Upsample2x(nn.Sequential):
    """conv to 4C, PixelShuffle x2, PReLU: one of the two x2 stages."""

    def __init__(self, channels: int):
        super().__init__(nn.Conv2d(channels, channels * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(channels))
