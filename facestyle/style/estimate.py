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
                 regressor: HeadRegressor | None = None, faces: int = 4) -> torch.Tensor:
    """The photo head with its colour transform replaced by the photo-face -> reference-face transport and,
    given a regressor, its normalisation part moved as predicted from the reference's texture."""
    mu_r, cov_r = colour_moments(reference_crop)
    a, b = gaussian_transport(prior.colour_mean, prior.colour_cov, mu_r, cov_r)
    head = set_colour(generator.photo_head.detach().cpu(), a, b)
    if regressor is not None:
        move = torch.from_numpy(regressor.predict(describe(reference_crop))[0]).to(head)
        head[:-12] += best_scale(generator, head, move, reference_crop, prior, faces) * move
    return head


@torch.no_grad()
def best_scale(generator: SRResNet, head: torch.Tensor, move: torch.Tensor, reference_crop: np.ndarray,
               prior: FacePrior, faces: int) -> float:
    """How far to take the predicted move: the scale whose faces (fixed prior samples) come closest to the
    reference by the adaptation's own texture loss. The prediction is mostly the move all styles share (add
    line work); for flat cartoons it overshoots, and this is where that shows."""
    device = next(generator.parameters()).device
    x = prior.sample(faces, np.random.default_rng(0)).to(device).contiguous(memory_format=torch.channels_last)
    target = gram_luma(inner_face(crop_tensor(reference_crop).to(device)))
    losses = []
    for s in MOVE_SCALES:
        h = head.clone()
        h[:-12] += s * move
        out = generator(x, h.to(device)[None].expand(faces, -1)).float().clamp(0, 1)
        losses.append(float(gram_distance(gram_luma(inner_face(out)), target)))
    return MOVE_SCALES[int(np.argmin(losses))]
