"""Keep the face findable: MTCNN's own three nets, run differentiably on the generated face where MTCNN looks.

Pale line-art styles lose faces (eval-style's "face kept"): the colour map sends bright skin to the paper's
white and the shading that MTCNN keys on clips away. MTCNN is a torch model, so the adaptation can ask its
nets directly that each generated face still scores as a face: P-Net, R-Net and O-Net each see the box that
MTCNN puts around an aligned face, resampled to their input sizes (12, 24, 48), as their cascade does.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


class FaceLikeness:
    def __init__(self, mtcnn, box: tuple[int, int, int, int]):
        self.nets = (mtcnn.pnet, mtcnn.rnet, mtcnn.onet)
        for net in self.nets:
            net.requires_grad_(False)
        self.box = box  # x0, y0, x1, y1 in aligned-crop pixels, square, as MTCNN's refinement makes it

    @classmethod
    def of_aligned(cls, detector, crop: np.ndarray) -> "FaceLikeness | None":
        """Where MTCNN boxes a face in this aligned crop (the photo rendering of the prior's mean face): the
        alignment template puts every face there. None where it finds no face."""
        faces = detector.detect(crop)
        if not faces:
            return None
        x0, y0, x1, y1 = max(faces, key=lambda f: f.score).box
        side, cx, cy = max(x1 - x0, y1 - y0), (x0 + x1) / 2, (y0 + y1) / 2
        s = crop.shape[0]
        x0, y0 = int(np.clip(round(cx - side / 2), 0, s - 1)), int(np.clip(round(cy - side / 2), 0, s - 1))
        side = int(min(round(side), s - x0, s - y0))
        return cls(detector.mtcnn, (x0, y0, x0 + side, y0 + side))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x (N,3,S,S) aligned faces in 0..1 -> mean over faces and nets of -log P(face)."""
        x0, y0, x1, y1 = self.box
        face = (x[..., y0:y1, x0:x1].clamp(0, 1) * 255 - 127.5) * 0.0078125  # MTCNN's input scaling
        loss = 0.0
        for net, size in zip(self.nets, (12, 24, 48)):
            p = net(F.interpolate(face, size=(size, size), mode="area"))[-1]  # softmax, channel 1: face
            loss = loss - p[:, 1].float().clamp_min(1e-6).log().mean()
        return loss / len(self.nets)
