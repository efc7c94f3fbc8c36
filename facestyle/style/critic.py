"""The style's own critic: a small patch discriminator trained during adaptation on the reference's patches
(real) against generated faces (fake), SinGAN-style. Kept with the style, it answers "is this in the style?"
"""

from __future__ import annotations

import io

import torch
import torch.nn.functional as F
from torch import nn


class PatchCritic(nn.Module):
    def __init__(self, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 2 * width, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N,3,H,W) in 0..1 -> patch logits (N,1,H/4,W/4)."""
        return self.net(x * 2 - 1)

    @torch.no_grad()
    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Probability, per image, that its patches are in the style."""
        return torch.sigmoid(self(x)).mean((1, 2, 3))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        torch.save(self.state_dict(), buf)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "PatchCritic":
        c = cls()
        c.load_state_dict(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
        return c.eval()


def random_patches(x: torch.Tensor, n: int, size: int, gen: torch.Generator) -> torch.Tensor:
    """n random size x size patches from a batch of images."""
    b, _, h, w = x.shape
    idx = torch.randint(0, b, (n,), generator=gen).tolist()
    ys = torch.randint(0, h - size + 1, (n,), generator=gen).tolist()
    xs = torch.randint(0, w - size + 1, (n,), generator=gen).tolist()
    return torch.stack([x[i, :, y : y + size, xx : xx + size] for i, y, xx in zip(idx, ys, xs)])


def critic_step(critic: PatchCritic, opt: torch.optim.Optimizer, real: torch.Tensor, fake: torch.Tensor) -> float:
    lr, lf = critic(real), critic(fake.detach())
    loss = F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr)) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    # autocast (bf16 on AMX CPUs and GPUs) caches its casts of weights that require grad until the outermost
    # context exits, and Runtime.adapt holds one around the whole loop: drop them, or the next forward runs on
    # the critic's first weights and it trains blind
    torch.clear_autocast_cache()
    return loss.item()
