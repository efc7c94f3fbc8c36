"""Fine-tune a style head from one reference face, trunk frozen: a real optimisation with a real loss.

Losses (each weighted in AdaptConfig):
- internal: the reference's own degraded crops must super-resolve to the reference (ZSSR's idea), which
  teaches the head the reference's line work and texture at the generator's own scale;
- colour: colour moments of generated faces (content sampled from the face prior) match the reference face;
- texture: Gram matrices of VGG19 features of the luminance of generated faces match the reference face's
  (Gatys; colour-blind, so it teaches line work and shading, not hue);
- structure: standardised low-frequency luminance of each output matches its input, so faces keep their shape;
- adversarial (optional, w_adv): the style's patch critic (style/critic.py), trained alongside on the
  reference's patches against generated faces, must take generated patches for the reference's;
- anchor: the normalisation part stays near the photo head's, which keeps the frozen trunk in its working range
  (near the photo head, not near the start: a learned instant start must not move the anchor with it).
The colour transform and the normalisation parameters are optimised as two groups with their own rates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from facestyle.faces.paste import feather_mask
from facestyle.imresize import imresize
from facestyle.models import SRResNet
from facestyle.style.critic import PatchCritic, critic_step, random_patches
from facestyle.style.prior import FacePrior
from facestyle.style.texture import (
    crop_tensor,
    gram_distance,
    gram_luma,
    inner_face,
    luma,
)


class Cancelled(Exception):
    """The style went away (deleted) while it was adapting."""


@dataclass
class AdaptConfig:
    steps: int = 200
    lr: float = 0.01
    batch: int = 4
    crop: int = 96
    w_internal: float = 1.0
    w_colour: float = 4.0
    w_texture: float = 4.0
    w_structure: float = 0.5
    w_anchor: float = 1.0
    w_adv: float = 0.0
    anchor_to: str = "photo"  # or "start": hold the normalisation part near the instant head's (a style head)
    lr_colour: float = 0.005
    patch: int = 48
    seed: int = 0
    max_seconds: float | None = None  # stop early, with the steps done so far, once this much time has passed
    photo_pool: int = 16  # the critic's photo-rendered fakes: prior faces rendered once, not every step


def _moments(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pix = x.permute(0, 2, 3, 1)[:, mask].reshape(-1, 3)
    mu = pix.mean(0)
    d = pix - mu
    return mu, d.T @ d / (len(pix) - 1)


def _standardised_luma(x: torch.Tensor, size: int = 32) -> torch.Tensor:
    y = F.adaptive_avg_pool2d(luma(x), size)
    return (y - y.mean((2, 3), keepdim=True)) / (y.std((2, 3), keepdim=True) + 1e-4)


def adapt_head(generator: SRResNet, reference_crop: np.ndarray, prior: FacePrior, init_head: torch.Tensor,
               cfg: AdaptConfig = AdaptConfig(), progress: Callable[[int, int, float], None] | None = None,
               should_stop: Callable[[], bool] | None = None, critic: PatchCritic | None = None
               ) -> tuple[torch.Tensor, list[dict]]:
    """Returns the tuned head and the per-step losses (fewer than cfg.steps where cfg.max_seconds ran out); a
    given `critic` is trained in place alongside."""
    device = next(generator.parameters()).device
    generator.requires_grad_(False)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    ref = crop_tensor(reference_crop)[0].to(device)
    s = ref.shape[-1]
    mask_hr = torch.from_numpy(feather_mask(s) > 0.99).to(device)
    mu_r, cov_r = _moments(ref[None], mask_hr)
    init = init_head.detach().clone().to(device)
    film = init[:-12].clone().requires_grad_(True)
    anchor_film = (generator.photo_head.detach()[:-12] if cfg.anchor_to == "photo" else init[:-12]).to(device)
    colour_params = init[-12:].clone().requires_grad_(True)
    opt = torch.optim.Adam([{"params": [film], "lr": cfg.lr}, {"params": [colour_params], "lr": cfg.lr_colour}])
    if critic is not None:
        critic.to(device).train()
        ref_blur = imresize(imresize(ref[None], 0.25), 4.0)[0].clamp(0, 1)
        opt_c = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.999))
        # the photo head does not change while the style's head learns: render its fakes once (a quarter of a
        # step's time on the CPU when it was done every step)
        with torch.no_grad():
            photo_head = generator.photo_head.detach().unsqueeze(0)
            pool = torch.cat([generator(f, photo_head.expand(len(f), -1)) for f in
                              prior.sample(cfg.photo_pool, rng).to(device).split(cfg.batch)])
    if cfg.w_texture:
        with torch.no_grad():
            ref_grams = gram_luma(inner_face(ref[None]))
    history, t0 = [], time.perf_counter()
    for step in range(1, cfg.steps + 1):
        if should_stop and should_stop():
            raise Cancelled()
        # internal learning on random crops of the reference
        idx = torch.randint(0, s - cfg.crop + 1, (cfg.batch, 2), generator=gen).tolist()
        crops = torch.stack([ref[:, y : y + cfg.crop, x : x + cfg.crop] for y, x in idx])
        crops = torch.where(torch.rand(cfg.batch, 1, 1, 1, generator=gen).to(device) < 0.5, crops, crops.flip(-1))
        lr_crops = imresize(crops, 0.25)
        head = torch.cat([film, colour_params])
        heads = head.unsqueeze(0).expand(cfg.batch, -1)
        internal = F.l1_loss(generator(lr_crops, heads), crops)
        # colour and structure on faces from the prior
        faces = prior.sample(cfg.batch, rng).to(device)
        out = generator(faces, heads)
        mu_o, cov_o = _moments(out, mask_hr)
        colour = (mu_o - mu_r).abs().sum() + (cov_o - cov_r).abs().sum()
        structure = F.l1_loss(_standardised_luma(out), _standardised_luma(faces))
        texture = gram_distance(gram_luma(inner_face(out)), ref_grams) if cfg.w_texture else torch.zeros(())
        anchor = (film - anchor_film).pow(2).mean()
        adv, critic_loss = torch.zeros(()), 0.0
        if critic is not None:
            # real: the reference, sharp and blurred (so sharpness is no cue); fake: generated faces, styled
            # and photo-rendered (so the photo look is what it learns to reject)
            photo_out = pool[torch.randint(0, len(pool), (cfg.batch,), generator=gen)]
            real = torch.cat([ref[None], ref_blur[None]])
            fake = torch.cat([out.detach(), photo_out])
            critic_loss = critic_step(critic, opt_c, random_patches(real, 8, cfg.patch, gen),
                                      random_patches(fake, 8, cfg.patch, gen))
            if cfg.w_adv:
                logits = critic(random_patches(out, 8, cfg.patch, gen))
                adv = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        loss = (cfg.w_internal * internal + cfg.w_colour * colour + cfg.w_texture * texture
                + cfg.w_structure * structure + cfg.w_anchor * anchor + cfg.w_adv * adv)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append({"step": step, "loss": loss.item(), "internal": internal.item(), "colour": colour.item(),
                        "structure": structure.item(), "texture": texture.item(), "anchor": anchor.item(), "adv": adv.item(), "critic": critic_loss, "seconds": time.perf_counter() - t0})
        if progress:
            progress(step, cfg.steps, loss.item())
        if cfg.max_seconds is not None and time.perf_counter() - t0 >= cfg.max_seconds:
            break
    if critic is not None:
        critic.cpu().eval()
    return torch.cat([film, colour_params]).detach().cpu(), history
