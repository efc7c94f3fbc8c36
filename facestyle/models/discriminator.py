"""SRGAN discriminator (Ledig et al., Fig. 4), global-pooled so it also scores faces of any size."""

from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int, stride: int, norm: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride, 1)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


class Discriminator(nn.Module):
    def __init__(self, channels: int = 64):
        super().__init__()
        c = channels
        spec = [(3, c, 1, False), (c, c, 2, True), (c, 2 * c, 1, True), (2 * c, 2 * c, 2, True),
                (2 * c, 4 * c, 1, True), (4 * c, 4 * c, 2, True), (4 * c, 8 * c, 1, True), (8 * c, 8 * c, 2, True)]
        self.features = nn.Sequential(*[m for cin, cout, s, n in spec for m in _block(cin, cout, s, n)])
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8 * c, 1024), nn.LeakyReLU(0.2, inplace=True), nn.Linear(1024, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x in [0,1]; returns one logit per image."""
        return self.classifier(self.features(x * 2 - 1)).squeeze(1)
