"""What one process loads once (generator, MTCNN, face prior) and the style operations built on it."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from facestyle.exemplar import Exemplar, ExemplarStylizer
from facestyle.faces import FaceDetector, align_face
from facestyle.faces.landmarks import five_points
from facestyle.pipeline import Stylizer
from facestyle.precision import autocast
from facestyle.style.adapt import AdaptConfig, adapt_head
from facestyle.style.estimate import instant_head
from facestyle.style.prior import HR_SIZE, FacePrior
from facestyle.style.regressor import HeadRegressor
from facestyle.style.texture import crop_tensor
from facestyle.weights import WEIGHTS_DIR, load_generator
from facestyle.weights import style_heads as load_style_heads


class NoFace(ValueError):
    """No face was found where one is required."""


@dataclass
class Runtime:
    model: str
    device: str
    stylizer: Stylizer
    prior: FacePrior
    regressor: HeadRegressor | None = None  # the learned instant estimate, where one ships for the model
    style_heads: torch.Tensor | None = None  # heads the generator learned multi-style (train/styles.py)
    exemplar: ExemplarStylizer | None = None  # stills built from the reference's pixels (exemplar.py)

    @property
    def head_dim(self) -> int:
        return self.stylizer.generator.head_dim

    def reference_crop(self, rgb: np.ndarray) -> np.ndarray:
        """The largest face of a reference picture, aligned at the generator's output size."""
        faces = self.stylizer.detect(rgb)
        if not faces:
            raise NoFace("no face found in the reference image")
        face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        return align_face(rgb, face.landmarks, HR_SIZE)[0]

    def head_crop(self, exemplar: Exemplar) -> np.ndarray:
        """The exemplar's face at the generator's alignment and output size: what the head adapts to."""
        return align_face(exemplar.crop, five_points(exemplar.landmarks), HR_SIZE)[0]

    def instant_head(self, crop: np.ndarray) -> torch.Tensor:
        with autocast(self.stylizer.precision, self.stylizer.device):  # the learned part runs the generator
            return instant_head(self.stylizer.generator, crop, self.prior, self.regressor, style_heads=self.style_heads)

    def adapt(self, crop: np.ndarray, init: torch.Tensor, steps: int, progress=None, should_stop=None, critic=None,
              max_seconds: float | None = None, **config):
        """Fine-tune `init` on the reference crop; `config` overrides AdaptConfig's other fields."""
        with autocast(self.stylizer.precision, self.stylizer.device):  # the generator's own float type
            return adapt_head(self.stylizer.generator, crop, self.prior, init,
                              AdaptConfig(steps=steps, max_seconds=max_seconds, **config),
                              progress=progress, should_stop=should_stop, critic=critic)

    def style_score(self, critic, rgb: np.ndarray) -> tuple[float, int]:
        """The critic's probability that the picture's faces (or, with none, its centre) are in the style."""
        batch, faces = self.critic_input(rgb)
        return float(critic.score(batch).mean()), faces

    def critic_input(self, rgb: np.ndarray) -> tuple[torch.Tensor, int]:
        """What a critic scores: the picture's aligned faces (or its centre square) as a batch, and the face count."""
        faces = self.stylizer.detect(rgb)
        crops = [align_face(rgb, f.landmarks, HR_SIZE)[0] for f in faces]
        if not crops:
            side = min(rgb.shape[:2])
            y, x = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
            crops = [np.asarray(Image.fromarray(rgb[y : y + side, x : x + side]).resize((HR_SIZE, HR_SIZE)))]
        batch = torch.cat([crop_tensor(c) for c in crops])
        return batch, len(faces)


def png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def png_array(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


@functools.lru_cache(maxsize=4)
def get_runtime(model: str, device: str = "cpu", lr_size: int = 64, max_batch: int = 8,
                max_wait: float = 0.01, precision: str = "auto", min_lr_size: int | None = None) -> Runtime:
    generator = load_generator(f"srresnet_{model}")
    style_heads = load_style_heads(f"srresnet_{model}")
    stylizer = Stylizer(generator, FaceDetector(device=device), lr_size=lr_size, max_batch=max_batch,
                        max_wait=max_wait, device=device, precision=precision,
                        min_lr_size=min_lr_size)
    regressor = WEIGHTS_DIR / f"head_regressor_{model}.npz"
    return Runtime(model, device, stylizer, FacePrior.load(WEIGHTS_DIR / "face_prior.npz"),
                   HeadRegressor.load(regressor, generator.head_dim - 12) if regressor.exists() else None,
                   style_heads, ExemplarStylizer(stylizer.detector, device=device))


def runtime_for(settings, model: str | None = None) -> Runtime:
    """The process's runtime as the settings (config.py) describe it; `model` overrides theirs."""
    return get_runtime(model or settings.resolved_model, settings.resolved_device, settings.lr_size,
                       settings.max_batch, settings.max_wait_ms / 1000, settings.precision, settings.min_lr_size)
