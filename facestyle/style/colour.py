"""Colour as Gaussians: the moments of a face region, the optimal transport between two, and its distance.

A style keeps its reference face's colour distribution (`ColourTarget`, 12 numbers). Each generated face is
moved onto it by the Monge-Kantorovich linear map, computed per face at run time, so a face of any skin tone
or lighting lands on the reference's palette (a fixed colour matrix can only be right for the average face).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from facestyle.style.prior import face_region_pixels


def sqrtm_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 1e-10, None))) @ v.T


def gaussian_transport(mu_s, cov_s, mu_t, cov_t, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """A, b with A x + b sending N(mu_s, cov_s) to N(mu_t, cov_t)."""
    cs = cov_s + eps * np.eye(3)
    s_half = sqrtm_psd(cs)
    s_inv = np.linalg.inv(s_half)
    a = s_inv @ sqrtm_psd(s_half @ (cov_t + eps * np.eye(3)) @ s_half) @ s_inv
    return a, mu_t - a @ mu_s


def gaussian_w2(mu_a, cov_a, mu_b, cov_b) -> float:
    """2-Wasserstein distance between two Gaussians."""
    sa = sqrtm_psd(cov_a)
    cross = sqrtm_psd(sa @ cov_b @ sa)
    return float(np.sqrt(max(0.0, np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * cross))))


def colour_moments(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (RGB in 0..1) of the inner face region of an aligned crop."""
    pix = face_region_pixels(crop)
    return pix.mean(0), np.cov(pix.T)


@dataclass(frozen=True)
class ColourTarget:
    mean: np.ndarray  # (3,) RGB in 0..1
    cov: np.ndarray  # (3, 3)
    strength: float = 1.0  # 0 leaves faces as generated, 1 moves them all the way (the W2 geodesic between)

    @classmethod
    def of(cls, crop: np.ndarray) -> "ColourTarget":
        return cls(*colour_moments(crop))

    def at(self, strength: float) -> "ColourTarget":
        return replace(self, strength=float(strength))

    def to_array(self) -> np.ndarray:
        """The 12 stored numbers (mean, then covariance), float32."""
        return np.concatenate([self.mean, self.cov.reshape(-1)]).astype(np.float32)

    @classmethod
    def from_array(cls, v: np.ndarray) -> "ColourTarget":
        v = np.asarray(v, np.float64).reshape(-1)
        if v.shape != (12,):
            raise ValueError(f"a colour target is 12 float32 values, got {v.size}")
        return cls(v[:3], v[3:].reshape(3, 3))

    def to_bytes(self) -> bytes:
        return self.to_array().tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "ColourTarget":
        return cls.from_array(np.frombuffer(data, dtype=np.float32))

    def apply(self, crop: np.ndarray) -> np.ndarray:
        """An aligned generated face (float or uint8, 0..255) moved onto the target's colour distribution."""
        mu, cov = colour_moments(crop)
        a, b = gaussian_transport(mu, cov, self.mean, self.cov)
        a = np.eye(3) + self.strength * (a - np.eye(3))
        b = self.strength * b
        x = crop.astype(np.float32) / 255
        return np.clip((x @ a.T.astype(np.float32) + b.astype(np.float32)) * 255, 0, 255)
