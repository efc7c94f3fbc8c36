"""The instant head (the paper's regression step, in closed form): usable within a second of registration.

The colour part maps the typical photo face's colour distribution (the face prior's moments) onto the
reference face's by the Monge-Kantorovich linear map, the optimal transport between two Gaussians.
"""

from __future__ import annotations

import numpy as np
import torch

from facestyle.models import SRResNet
from facestyle.style.prior import FacePrior, face_region_pixels


def _sqrtm(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 1e-10, None))) @ v.T


def gaussian_transport(mu_s, cov_s, mu_t, cov_t, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """A, b with A x + b sending N(mu_s, cov_s) to N(mu_t, cov_t)."""
    cs = cov_s + eps * np.eye(3)
    s_half = _sqrtm(cs)
    s_inv = np.linalg.inv(s_half)
    a = s_inv @ _sqrtm(s_half @ (cov_t + eps * np.eye(3)) @ s_half) @ s_inv
    return a, mu_t - a @ mu_s


def colour_moments(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pix = face_region_pixels(crop)
    return pix.mean(0), np.cov(pix.T)


def set_colour(head: torch.Tensor, a: np.ndarray, b: np.ndarray) -> torch.Tensor:
    head = head.clone()
    head[-12:-3] = torch.from_numpy(a.reshape(-1)).to(head)
    head[-3:] = torch.from_numpy(b).to(head)
    return head


def instant_head(generator: SRResNet, reference_crop: np.ndarray, prior: FacePrior) -> torch.Tensor:
    """The photo head with its colour transform replaced by the photo-face -> reference-face transport."""
    mu_r, cov_r = colour_moments(reference_crop)
    a, b = gaussian_transport(prior.colour_mean, prior.colour_cov, mu_r, cov_r)
    return set_colour(generator.photo_head.detach().cpu(), a, b)
