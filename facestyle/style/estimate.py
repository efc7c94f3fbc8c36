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


def set_colour(head: torch.Tensor, a: np.ndarray, b: np.ndarray) -> torch.Tensor:
    head = head.clone()
    head[-12:-3] = torch.from_numpy(a.reshape(-1)).to(head)
    head[-3:] = torch.from_numpy(b).to(head)
    return head


def instant_head(generator: SRResNet, reference_crop: np.ndarray, prior: FacePrior,
                 regressor: HeadRegressor | None = None) -> torch.Tensor:
    """The photo head with its colour transform replaced by the photo-face -> reference-face transport and,
    given a regressor, its normalisation part moved as predicted from the reference's texture."""
    mu_r, cov_r = colour_moments(reference_crop)
    a, b = gaussian_transport(prior.colour_mean, prior.colour_cov, mu_r, cov_r)
    head = set_colour(generator.photo_head.detach().cpu(), a, b)
    if regressor is not None:
        head[:-12] += torch.from_numpy(regressor.predict(describe(reference_crop))[0]).to(head)
    return head
