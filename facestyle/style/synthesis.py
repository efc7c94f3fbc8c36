"""Guided exemplar synthesis: a target face built from the reference's own pixels (torch, batched, CPU or CUDA).

Both faces are aligned crops of the same size with 68 landmarks (style/guides.py builds their guides).
- Search: coarse to fine over a pyramid (coarsest ~64 px). At the coarsest level every target pixel looks, in a
  window around where the positional guide puts it in the reference, for the reference position whose 5x5
  neighbourhood of guides matches best (an exhaustive windowed search: no randomised propagation, so nothing of
  PatchMatch's patent, US 8,861,869). Each finer level takes the coarser field as rigid 2x2 chunks and refines it
  in a small window, with a small cost for leaving the coarser choice, so regions keep coherent chunks.
- Copy: the finest field is applied at the output size as rigid chunks of the reference (StyleBlit's way,
  stated unpatented), then every pixel takes the mean of what its 3x3 neighbours' chunks put there. Inside a
  chunk all nine agree and the reference pixel is copied exactly (its brushwork survives); only along chunk
  seams is there a 3-pixel blend. Averaging whole overlapping patches instead made faces soft and airbrushed;
  copying single pixels, a jagged mosaic.
- Meld: the copy is finished in the gradient domain (a screened Poisson solve, exact in the DCT basis): the
  reference's gradients, voted like its colours, held to the voted colours, so chunks from different places
  meet without the step (a crack) the 3-pixel blend left.
- The guides themselves are FaceStyle's kinds, built our own way (see guides.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy.fft import dctn, idctn
from torchvision.transforms.functional import gaussian_blur

from facestyle.faces.head import head_region
from facestyle.style.guides import guides, positional_map
from facestyle.style.structure import features_region


@dataclass(frozen=True)
class SynthesisConfig:
    # the target's structure (identity) in the reference's strokes. On 8 references x 6 held-out faces with the
    # head painted: 1 -> 3 -> 6 gave identity kept 25 -> 50 -> 54 %, texture gain 0.12 -> 0.16 -> 0.16, drift
    # 5.9 -> 5.6 -> 6.4 % IOD, faces kept as drawn 94 -> 94 -> 85 %; 6 more over the eyes, brows, nose and lips
    # only: 52 %, 0.14, 7.5 % (not kept)
    appearance: float = 3.0
    tone: float = 0.7  # low-passed grey: dark to dark
    segmentation: float = 3.0  # regions to regions (hair to hair); at 1.5 with appearance 2, hair strands cracked skin
    positional: float = 3.0  # stay near the corresponding place of the reference (1 until `arrangement`)
    window: float = 0.16  # coarsest search radius, as a fraction of the crop
    refine: int = 2  # search radius at finer levels, in pixels of that level
    # cost of leaving the coarser choice by the full refine radius. With the person's structure put back over the
    # features (style/structure.py), on 8 references x 6 held-out faces, 3.0 against 0.3: texture gain 0.125 vs
    # 0.118, identified 88 % vs 83 %, identity kept 100 % vs 100 %, drift 4.0 vs 3.8 % IOD (without it, 3.0 lost
    # identity: 25 % vs 31 %). 10 against 3.0 on those 8 x 6: 0.133 vs 0.125, 90 % vs 88 %, 100 % both; but on all
    # 27 x 8 identity kept fell 91 -> 88 % (the small blurred face lost it in 23 styles, not 19) for texture 0.24
    # vs 0.23, so 3.0 stays
    coherence: float = 3.0
    patch: int = 5  # guide neighbourhood compared, in pixels of each level
    colour: float = 4.0  # finer levels: match the coarser result's colours (keeps chunks' seams invisible)
    iterations: int = 2  # search, vote, search again with the new result's colours, per finer level
    # px at a 256 px crop: the appearance guide and the finer levels' colour guide are compared blurred by
    # this, blind to finer grain. On 8 references x 6 held-out faces, 0 / 1.5 / 3 / 5 / 8: texture gain 0.124 /
    # 0.130 / 0.138 / 0.138 / 0.140, identified 88 / 85 / 88 / 90 / 85 %, identity kept 98 / 100 / 100 / 100 /
    # 98 %, kept as drawn 94 / 94 / 96 / 96 / 96 % (the sketch 0.13 -> 0.20, JoJo 0.15 -> 0.21; the flat
    # cartoon -0.12 -> -0.18)
    fine: float = 5.0
    # px at a 256 px crop (0: off): the copy is finished in the gradient domain, so chunks cut from different
    # places of the reference meet without a step (the reference's own gradients, voted like its colours, held
    # to the voted colours at this scale). 27 references x 4 held-out faces, off / 1 / 1.5 / 3: seams 1.60 /
    # 1.13 / 1.08 / 0.97, texture gain 0.283 / 0.265 / 0.257 / 0.247 (the cracks it removes counted as texture),
    # identified 54 / 55 / 55 / 57 %, drift 4.98 / 4.90 / 4.95 / 5.20 % IOD; at 3 line art's hard patch edges
    # turned to grey halos
    meld: float = 1.5
    # away from the eyes, brows, nose and mouth (structure.features_region, each part's hull grown by
    # `features_grow` of the eye distance), the positional weight times `arrangement` and the appearance guide
    # times `away_appearance`: cheeks, forehead, hair and neck keep the reference's own arrangement (its strokes
    # and hair in coherent runs instead of a collage), the features follow the person. 27 references x 8
    # held-out faces, against positional 1 and no arrangement: texture gain 0.235 -> 0.313, identified 58 ->
    # 71 %, kept as drawn 98 -> 99 %, identity kept 93 -> 94 %, drift 4.8 -> 4.9 % IOD, with the faces it takes
    # from dlib or MTCNN built again without it (exemplar.person_arrangement) and the structure step's features
    # grown to 0.25 (structure.py). The other rows tried are in docs/exemplar-synthesis.md
    arrangement: float = 16.0
    away_appearance: float = 0.3
    features_grow: float = 0.35

    def weights(self) -> dict[str, float]:
        return {"appearance": self.appearance, "tone": self.tone, "segmentation": self.segmentation}


def pyramid(size: int, coarsest: int = 96) -> tuple[list[int], int]:
    """Search levels (coarse to fine) and the chunk size k of the final copy: the finest level is size / k,
    at most 256 px (a 1024 px face is searched at 256 and copied in 4 px chunks, their offsets interpolated)."""
    k = 1 if size <= 256 else (2 if size <= 512 else 4)
    levels = [size // k]
    while levels[0] > coarsest and levels[0] % 2 == 0:
        levels.insert(0, levels[0] // 2)
    return levels, k


def _resize(a: np.ndarray, size: int) -> np.ndarray:
    return a if a.shape[0] == size else cv2.resize(a, (size, size), interpolation=cv2.INTER_AREA)


def _with_head(crop: np.ndarray, l68: np.ndarray, head: np.ndarray | None = None) -> tuple:
    return crop, l68, head_region(crop, l68) if head is None else head


def _gather(img: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """img (B, C, H, W) at integer coordinates x, y (B, ...) -> (B, C, ...)."""
    b, c, h, w = img.shape
    idx = (y.clamp(0, h - 1) * w + x.clamp(0, w - 1)).reshape(b, 1, -1).expand(b, c, -1)
    return img.reshape(b, c, -1).gather(2, idx).reshape(b, c, *x.shape[1:])


def _search(t: torch.Tensor, r: torch.Tensor, warp: torch.Tensor, init: torch.Tensor, radius: int, coherence: float,
            cfg: SynthesisConfig, pos: torch.Tensor | float = 1.0, cw: torch.Tensor | None = None) -> torch.Tensor:
    """The best source (B, 2, H, W: x, y) per target pixel within `radius` of `init` (long coordinates); `pos`
    (B, 1, H, W) scales the positional weight per pixel, `cw` (B, C, H, W) the guides' channels."""
    b, _, h, w = t.shape
    offsets = [(dx, dy) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]
    pos_scale = pos * cfg.positional / (0.1 * w) ** 2  # 10% of the crop off costs `positional`
    best = torch.full((b, h, w), float("inf"), device=t.device)
    best_src = init.clone()
    chunk = max(1, int(2e7 // (b * t.shape[1] * h * w)))
    for i in range(0, len(offsets), chunk):
        d = torch.tensor(offsets[i : i + chunk], device=t.device)  # (K, 2)
        x = (init[:, 0, None] + d[None, :, 0, None, None]).clamp(0, w - 1)  # (B, K, H, W)
        y = (init[:, 1, None] + d[None, :, 1, None, None]).clamp(0, h - 1)
        diff = (t[:, :, None] - _gather(r, x, y)) ** 2
        cost = (diff if cw is None else diff * cw[:, :, None]).sum(1)
        cost += pos_scale * ((warp[:, 0, None] - x) ** 2 + (warp[:, 1, None] - y) ** 2)
        cost += coherence * (d.float() ** 2).sum(1)[None, :, None, None] / max(radius, 1) ** 2
        k = cost.shape[1]
        cost = F.avg_pool2d(cost.reshape(b * k, 1, h, w), cfg.patch, 1, cfg.patch // 2, count_include_pad=False)
        cost = cost.reshape(b, k, h, w)
        c, j = cost.min(1)
        better = c < best
        best = torch.where(better, c, best)
        pick = lambda v: v.gather(1, j[:, None])[:, 0]  # noqa: E731
        best_src = torch.where(better[:, None], torch.stack([pick(x), pick(y)], 1), best_src)
    return best_src


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, C, H, W) Gaussian-blurred by sigma px (3 sigma taps, reflect padding); unchanged for sigma < 0.3."""
    if sigma < 0.3:
        return x
    taps = 2 * int(3 * sigma + 0.5) + 1
    return gaussian_blur(x, [taps, taps], [sigma, sigma])


def _grid(h: int, w: int, device) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    return torch.stack([xx, yy])[None]


def _smooth_upsample(src: torch.Tensor, k: int) -> torch.Tensor:
    """A source field at k times the size, its offsets (source minus position) interpolated: where neighbours
    took different places, the reference is stretched between them instead of meeting at a square's edge."""
    b, _, h, w = src.shape
    off = (src - _grid(h, w, src.device)).float() * k
    off = F.interpolate(off, scale_factor=k, mode="bilinear", align_corners=False)
    return (off.round().long() + _grid(h * k, w * k, src.device)).clamp(0, h * k - 1)


def _median(src: torch.Tensor, size: int = 5) -> torch.Tensor:
    """The field's offsets median-filtered: isolated choices join their neighbours' region (coherent chunks)."""
    b, _, h, w = src.shape
    off = (src - _grid(h, w, src.device)).float()
    pad = F.pad(off, (size // 2,) * 4, mode="replicate")
    med = F.unfold(pad, size).reshape(b, 2, size * size, h * w).median(2).values.reshape(b, 2, h, w)
    return (med.long() + _grid(h, w, src.device)).clamp(0, h - 1)


def _vote(ref: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
    """Each pixel: the mean of the reference pixels its 3x3 neighbours' sources put at it."""
    total = torch.zeros_like(ref)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            s = torch.roll(src, shifts=(-dy, -dx), dims=(2, 3))
            total += _gather(ref, s[:, 0] - dx, s[:, 1] - dy)
    return total / 9


def _away_weights(l68s: list[np.ndarray], size: int, channels: int, cfg: SynthesisConfig, device
                  ) -> tuple[torch.Tensor | float, torch.Tensor | None]:
    """Per target pixel, the positional weight's factor (B, 1, S, S) and the guide channels' (B, C, S, S; None:
    all 1): `arrangement` and `away_appearance` away from the features, 1 over them."""
    if cfg.arrangement == 1.0 and cfg.away_appearance == 1.0:
        return 1.0, None
    away = torch.from_numpy(np.stack([1 - features_region(size, l, cfg.features_grow) for l in l68s])).float().to(device)[:, None]
    pos = 1 + (cfg.arrangement - 1) * away
    cw = torch.ones(len(l68s), channels, size, size, device=device)
    cw[:, :1] = 1 + (cfg.away_appearance - 1) * away
    return pos, cw


@torch.no_grad()
def synthesize(targets: list[tuple], references: list[tuple], cfg: SynthesisConfig = SynthesisConfig(),
               device: str | torch.device = "cpu") -> list[np.ndarray]:
    """Build each target face (aligned uint8 crop, 68 landmarks in its pixels, optionally its head_region) from
    its reference's pixels (the same, any size: brought to the target's). All targets share one size; faces of
    several sizes are synthesised in one call per size. Returns float32 (S, S, 3) crops in 0..255."""
    size = targets[0][0].shape[0]
    if any(t[0].shape[0] != size for t in targets):
        raise ValueError("synthesize: all targets of one call must be the same size")
    levels, k = pyramid(size)
    weights = cfg.weights()
    targets = [_with_head(*t) for t in targets]
    refs = [(_resize(c, size), l * (size / c.shape[0]), _resize(h, size)) for c, l, h in (_with_head(*r) for r in references)]
    warp128 = [positional_map(tl * (128 / size), rl * (128 / size), 128) for (_, tl, _), (_, rl, _) in zip(targets, refs)]
    src = result = None
    for lv in levels:
        s = lv / size
        t = torch.from_numpy(np.stack([guides(_resize(c, lv), l * s, weights, _resize(h, lv), cfg.fine) for c, l, h in targets])).to(device)
        r = torch.from_numpy(np.stack([guides(_resize(c, lv), l * s, weights, _resize(h, lv), cfg.fine) for c, l, h in refs])).to(device)
        warp = torch.from_numpy(np.stack([np.stack([cv2.resize(m, (lv, lv)) * (lv / 128) for m in w]) for w in warp128]))
        warp = warp.float().to(device)
        ref_lv = torch.from_numpy(np.stack([_resize(c, lv) for c, _, _ in refs])).permute(0, 3, 1, 2).float().to(device) / 255
        pos, cw = _away_weights([l * s for _, l, _ in targets], lv, t.shape[1] + 3, cfg, device)
        if src is None:
            src = _median(_search(t, r, warp, warp.round().long(), max(1, round(cfg.window * lv)), 0.0, cfg, pos,
                                  None if cw is None else cw[:, : t.shape[1]]))
        else:
            # image analogies' step: the coarser result's colours become a guide, so a finer choice must agree
            # with its neighbours' colours, not only with the guides
            src = _smooth_upsample(src, 2)
            result = F.interpolate(result, size=(lv, lv), mode="bilinear", align_corners=False)
            sigma = cfg.fine * lv / 256
            r_colour = torch.cat([r, _blur(ref_lv, sigma) * cfg.colour], 1)  # the reference's side is fixed per level
            for _ in range(cfg.iterations):
                src = _search(torch.cat([t, _blur(result, sigma) * cfg.colour], 1), r_colour, warp, src,
                              cfg.refine, cfg.coherence, cfg, pos, cw)
                result = _vote(ref_lv, src)
            continue
        result = _vote(ref_lv, src)
    src = _smooth_upsample(src, k) if k > 1 else src
    ref = torch.from_numpy(np.stack([c for c, _, _ in refs])).permute(0, 3, 1, 2).float().to(device)
    if cfg.meld <= 0:
        return list(_vote(ref, src).permute(0, 2, 3, 1).cpu().numpy())
    # the colours and their gradients in one vote; inside a chunk the voted gradients are the copied pixels'
    # own, so only the seams change
    gx, gy = F.pad(ref[..., 1:] - ref[..., :-1], (0, 1)), F.pad(ref[..., 1:, :] - ref[..., :-1, :], (0, 0, 0, 1))
    voted = _vote(torch.cat([ref, gx, gy], 1), src).permute(0, 2, 3, 1).cpu().numpy()
    lam = 1.0 / (cfg.meld * size / 256) ** 2
    return [np.clip(screened_poisson(*np.split(v, 3, axis=2), lam), 0, 255).astype(np.float32) for v in voted]


def screened_poisson(v: np.ndarray, gx: np.ndarray, gy: np.ndarray, lam: float) -> np.ndarray:
    """argmin_u |Dx u - gx|^2 + |Dy u - gy|^2 + lam |u - v|^2 for (H, W, C) images (forward differences,
    Neumann border), solved exactly in the DCT basis that diagonalises the Laplacian."""
    gx, gy = gx.copy(), gy.copy()
    gx[:, -1] = 0
    gy[-1] = 0
    rhs = lam * v - gx - gy
    rhs[:, 1:] += gx[:, :-1]
    rhs[1:] += gy[:-1]
    h, w = v.shape[:2]
    den = lam + (2 - 2 * np.cos(np.pi * np.arange(h) / h))[:, None] + (2 - 2 * np.cos(np.pi * np.arange(w) / w))[None]
    return idctn(dctn(rhs, type=2, axes=(0, 1), norm="ortho") / den[..., None], type=2, axes=(0, 1), norm="ortho")
