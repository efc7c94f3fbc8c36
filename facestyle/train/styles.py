"""`facestyle train-styles`: give the trunk a space of styles for the per-style heads to move in.

Plain SR training leaves a trunk whose normalisation parameters only ever rendered photos: a head tuned on a
new reference moves texture a little (tuned texture gain 0.13 on the shared references). Dumoulin et al. ("A learned
representation for artistic style") show that one network with per-style conditional normalisation renders
many styles; so the trained SR generator is fine-tuned here on styles made by code (style/procedural.py:
line work, flat colour, painterly smoothing, colour grades) of the training faces, each style with its own
head, supervised by L1 against the procedural rendering of the HR face, while the photo head keeps its SR
loss on T91 + BSD200 patches. The learned style heads ship in the checkpoint (`style_heads`, `style_names`):
the instant estimate starts a new style from the nearest of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from facestyle.models import SRResNet
from facestyle.precision import autocast, resolve
from facestyle.style.prior import downscale
from facestyle.style.procedural import STYLES
from facestyle.style.texture import crop_tensor
from facestyle.train.pairs import PairSampler


@dataclass
class StyleTrainConfig:
    seconds: float = 1800.0
    steps: int | None = None  # stop at whichever of steps and seconds comes first
    batch: int = 8  # faces a step (random styles, one in len(STYLES)+1 of them the photo head), plus as many SR patches
    crop: int = 32  # LR crop side of a face (HR 4x)
    lr: float = 1e-4
    lr_heads: float = 2e-3
    seed: int = 0
    log_every: int = 100


class StyleTrainer:
    def __init__(self, generator: SRResNet, crops: list[np.ndarray], sr: PairSampler, cfg: StyleTrainConfig,
                 style_heads: torch.Tensor | None = None):
        """`crops`: aligned HR training faces (256x256 uint8); `sr`: photo SR pairs; `style_heads`: resume."""
        self.G, self.sr, self.cfg = generator.train().requires_grad_(True), sr, cfg
        self.names = list(STYLES)
        self.rng = np.random.default_rng(cfg.seed)
        self.hr = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)  # uint8: 7 renderings of each face follow
        self.lr = torch.cat([crop_tensor(downscale(c)) for c in crops]).clamp(0, 1)
        self.targets = torch.stack([torch.from_numpy(np.stack([f(c) for c in crops])).permute(0, 3, 1, 2)
                                    for f in STYLES.values()])  # (styles, faces, 3, S, S) uint8
        init = style_heads if style_heads is not None else generator.photo_head.detach().repeat(len(self.names), 1)
        self.heads = torch.nn.Parameter(init.clone())
        self.opt = torch.optim.Adam([{"params": list(self.G.parameters()), "lr": cfg.lr},
                                     {"params": [self.heads], "lr": cfg.lr_heads}])
        self.step, self.history = 0, []

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Random faces, styles (index len(names): the photo head and the HR face itself) and crops."""
        b, c, r = self.cfg.batch, self.cfg.crop, self.rng
        idx, sty = r.integers(0, len(self.hr), b), r.integers(0, len(self.names) + 1, b)
        ys, xs = r.integers(0, self.lr.shape[-1] - c + 1, b), r.integers(0, self.lr.shape[-1] - c + 1, b)
        lo = torch.stack([self.lr[i, :, y : y + c, x : x + c] for i, y, x in zip(idx, ys, xs)])
        tg = torch.stack([(self.hr[i] if s == len(self.names) else self.targets[s, i])[:, 4 * y : 4 * (y + c), 4 * x : 4 * (x + c)]
                          for i, s, y, x in zip(idx, sty, ys, xs)]).float().div(255)
        flip = torch.from_numpy(r.random(b) < 0.5)[:, None, None, None]
        heads = torch.stack([self.G.photo_head if s == len(self.names) else self.heads[s] for s in sty])
        return torch.where(flip, lo.flip(-1), lo), torch.where(flip, tg.flip(-1), tg), heads

    def train_step(self) -> dict:
        lo, target, heads = self.batch()
        lr_sr, hr_sr = self.sr.sample(self.cfg.batch)
        with autocast(resolve("auto", "cpu"), "cpu"):  # bf16 on AMX: ~2x the steps
            styled, photo = self.G(lo, heads), self.G(lr_sr)
        style_loss, sr_loss = F.l1_loss(styled.float(), target), F.l1_loss(photo.float(), hr_sr)
        self.opt.zero_grad(set_to_none=True)
        (style_loss + sr_loss).backward()
        self.opt.step()
        self.step += 1
        return {"style": style_loss.item(), "sr": sr_loss.item()}

    def run(self, log=print) -> list[dict]:
        t0, logs = time.perf_counter(), []
        while time.perf_counter() - t0 < self.cfg.seconds and (self.cfg.steps is None or self.step < self.cfg.steps):
            logs.append(self.train_step())
            if self.step % self.cfg.log_every == 0:
                mean = {k: float(np.mean([x[k] for x in logs])) for k in logs[0]}
                self.history.append({"step": self.step, "seconds": time.perf_counter() - t0, **mean})
                log(f"step {self.step}: style L1 {mean['style']:.4f}, SR L1 {mean['sr']:.4f}")
                logs = []
        self.seconds = time.perf_counter() - t0
        return self.history

    def checkpoint(self, **meta) -> dict:
        return {**self.G.checkpoint(steps=self.step, seconds=self.seconds, history=self.history, **meta),
                "style_heads": self.heads.detach().clone(), "style_names": self.names}
