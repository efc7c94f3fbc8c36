"""The instant head (the paper's regression step): usable within a second of registration.

The colour part maps the typical photo face's colour distribution (the face prior's moments) onto the
reference face's by the Monge-Kantorovich linear map, the optimal transport between two Gaussians (closed
form). The normalisation part, where a learned regressor ships for the model (style/regressor.py), moves
from the photo head the way fine-tuning would for a reference of this texture.
"""

from __future__ import annotations

import numpy as np
import torch

from facestyle.models import SRResNet
from facestyle.style.colour import colour_moments, gaussian_transport
from facestyle.style.prior import FacePrior
from facestyle.style.regressor import HeadRegressor, describe
from facestyle.style.texture import crop_tensor, gram_distance, gram_luma, inner_face

MOVE_SCALES = (0.0, 0.5, 1.0)


def set_colour(head: torch.Tensor, a: np.ndarray, b: np.ndarray) -> torch.Tensor:
    head = head.clone()
    head[-12:-3] = torch.from_numpy(a.reshape(-1)).to(head)
    head[-3:] = torch.from_numpy(b).to(head)
    return head


def instant_head(generator: SRResNet, reference_crop: np.ndarray, prior: FacePrior,
                 regressor: HeadRegressor | None = None, faces: int = 4,
                 style_heads: torch.Tensor | None = None) -> torch.Tensor:
    """The photo head with its colour transform replaced by the photo-face -> reference-face transport; its
    normalisation part is then whichever candidate renders `faces` prior faces closest to the reference's
    texture: the photo head's, the regressor's predicted move (taken 0.5 or 1 times), or one of the
    generator's learned style heads (train/styles.py)."""
    mu_r, cov_r = colour_moments(reference_crop)
    a, b = gaussian_transport(prior.colour_mean, prior.colour_cov, mu_r, cov_r)
    head = set_colour(generator.photo_head.detach().cpu(), a, b)
    candidates = [head]
    if regressor is not None:
        move = torch.from_numpy(regressor.predict(describe(reference_crop))[0]).to(head)
        for s in MOVE_SCALES[1:]:
            candidates.append(head.clone())
            candidates[-1][:-12] += s * move
    for h in style_heads if style_heads is not None else []:
        candidates.append(head.clone())
        candidates[-1][:-12] = h[:-12].to(head)
    if len(candidates) == 1:
        return head
    return candidates[closest_texture(generator, candidates, reference_crop, prior, faces)]


@torch.no_grad()
def closest_texture(generator: SRResNet, heads: list[torch.Tensor], reference_crop: np.ndarray, prior: FacePrior,
                    faces: int) -> int:
    """Which head renders fixed prior faces closest to the reference by the adaptation's own texture loss. A
    regressor's prediction is mostly the move all styles share (add line work): for flat cartoons it
    overshoots, and this is where that shows."""
    device = next(generator.parameters()).device
    x = prior.sample(faces, np.random.default_rng(0)).to(device).contiguous(memory_format=torch.channels_last)
    target = gram_luma(inner_face(crop_tensor(reference_crop).to(device)))
    losses = []
    for h in heads:
        out = generator(x, h.to(device)[None].expand(faces, -1)).float().clamp(0, 1)
        losses.append(float(gram_distance(gram_luma(inner_face(out)), target)))
    return int(np.argmin(losses))
