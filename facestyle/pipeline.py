"""One stylization pipeline: detect -> align -> batched generator (per-face head) -> paste back."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

import cv2
import numpy as np
import torch

from facestyle.batcher import MicroBatcher
from facestyle.faces import Face, FaceDetector, align_face, paste_face
from facestyle.faces.align import alignment_matrix, visible_pixels
from facestyle.faces.detect import found_at
from facestyle.faces.matte import background_matte
from facestyle.imresize import imresize
from facestyle.models import SRResNet
from facestyle.precision import autocast, resolve
from facestyle.style.colour import ColourTarget


def blend_head(photo: torch.Tensor, style: torch.Tensor, strength: float) -> torch.Tensor:
    """strength 0 is the photo head, 1 the style; in between, the heads are interpolated (one forward pass)."""
    return photo + float(strength) * (style - photo)


def style_at(photo: torch.Tensor, head: torch.Tensor | None, colour: ColourTarget | None,
             strength: float) -> tuple[torch.Tensor, ColourTarget | None]:
    """A style's head and colour target at a strength (head None: the photo style, which has no colours)."""
    if head is None:
        return photo, None
    return blend_head(photo, head, strength), (colour.at(strength) if colour is not None else None)


# fractions of a style tried, in turn, on a face the style made undetectable (stylize_keeping_faces); in
# eval-style (27 tuned styles x 34 held-out photos) the 41 faces lost all came back, at 0.7 (23) or 0.4 (18)
KEEP_FACE_LADDER = (0.7, 0.4, 0.0)

_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def keep_colour(styled: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Luminance of `styled`, chroma (Cb, Cr of BT.601) of `source`: texture and tone without the colours."""
    ycc = styled.astype(np.float64) @ _TO_YCC.T
    ycc[..., 1:] = (source.astype(np.float64) @ _TO_YCC.T)[..., 1:]
    return np.clip(ycc @ np.linalg.inv(_TO_YCC).T, 0, 255)


class Stylizer:
    def __init__(self, generator: SRResNet, detector: FaceDetector | None, lr_size: int = 64,
                 max_batch: int = 8, max_wait: float = 0.01, device: str = "cpu", matte: bool = True,
                 precision: str = "auto", min_lr_size: int | None = None):
        self.device = torch.device(device)
        self.precision = resolve(precision, self.device)  # bf16 where the hardware runs it fast
        self.generator = generator.to(self.device).eval().to(memory_format=torch.channels_last)
        self.generator.requires_grad_(False)
        self.detector = detector
        self.lr_size = lr_size
        # faces that cover few pixels of the picture may run at a smaller LR size (down to min_lr_size): a
        # 256 px output pasted into 80 px costs 2.6x the compute of a 160 px one
        self.min_lr_size = lr_size if min_lr_size is None else min(min_lr_size, lr_size)
        self.matte = matte  # cut the feathered edge back where it would tint the backdrop
        self.scale = generator.config.scale
        self.batcher = MicroBatcher(self.run_batch, max_batch=max_batch, max_wait=max_wait)

    @property
    def photo_head(self) -> torch.Tensor:
        return self.generator.photo_head.detach().cpu()

    @torch.inference_mode()
    def run_batch(self, x: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device).contiguous(memory_format=torch.channels_last)
        with autocast(self.precision, self.device):
            out = self.generator(x, heads.to(self.device))
        return out.float().clamp(0, 1).cpu()

    def detect(self, rgb: np.ndarray) -> list[Face]:
        if self.detector is None:
            raise RuntimeError("this stylizer has no face detector")
        return self.detector.detect(rgb)

    def face_lr_size(self, face: Face, scale: int = 1) -> int:
        """The smallest LR size (a multiple of 8 in min_lr_size..lr_size) whose 4x output has twice as many
        pixels across as the face's crop covers on the canvas (the picture, or its 4x upscale). Twice: an LR
        of a quarter of the canvas size would ask the generator to restore 4x of detail the picture has, and
        it comes out visibly blurred; at half, the face is a little softer (on a 205 px astronaut, Laplacian
        variance 560 vs 770 at lr 64), which the eye hardly sees in a crowd of small faces."""
        if self.min_lr_size >= self.lr_size:
            return self.lr_size
        m = alignment_matrix(face.landmarks, self.lr_size * self.scale)
        canvas_px = self.lr_size * self.scale / float(np.hypot(m[0, 0], m[1, 0])) * scale
        need = int(np.ceil(canvas_px * 2 / self.scale / 8)) * 8
        return int(np.clip(need, self.min_lr_size, self.lr_size))

    def face_input(self, rgb: np.ndarray, face: Face, lr_size: int | None = None
                   ) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        """The generator's LR input for one face (the aligned HR crop, MATLAB-bicubic downscaled, as in
        training), M (the image -> HR-crop similarity) and the HR crop itself."""
        lr_size = lr_size or self.lr_size
        crop, m = align_face(rgb, face.landmarks, lr_size * self.scale)
        lr = imresize(torch.from_numpy(crop).permute(2, 0, 1).float(), size=(lr_size, lr_size))
        return lr.div(255).clamp(0, 1), m, crop

    def stylize(self, rgb: np.ndarray, heads: list[torch.Tensor] | torch.Tensor, scale: int = 1,
                faces: list[Face] | None = None, post=None, preserve_color: bool = False,
                reuse: Callable[[int, torch.Tensor, torch.Tensor], np.ndarray | None] | None = None,
                matte: bool | None = None,
                colour: ColourTarget | list[ColourTarget | None] | None = None) -> tuple[np.ndarray, list[Face]]:
        """Every face of `rgb` through the generator with its head (one head for all, or one per face),
        pasted back into the picture (scale 1) or into its 4x super-resolution (scale 4).
        post(i, crop) -> crop, if given, sees each face (aligned, float 0..255; with the matte on, a 4th channel
        holds it, x255) before the paste.
        colour (one for all, or one per face) moves each generated face onto the style's colour distribution;
        preserve_color instead keeps each face's own colours: the style's luminance, the input's chroma.
        reuse(i, lr, visible) -> crop | None, if given, may hand an earlier generated crop for face i (given
        its LR input now, and which of its pixels lie inside the picture) to paste with this frame's alignment
        instead of generating (see tracking.FaceReuse).
        matte (default: the stylizer's setting) cuts the feathered edge back over the backdrop. It is made
        with each generation and travels with the crop, so video that reuses and blends faces (FaceReuse)
        reuses and blends their mattes too, and they do not flicker more than the faces."""
        matte = self.matte if matte is None else matte
        faces = self.detect(rgb) if faces is None else faces
        heads = [heads] * len(faces) if isinstance(heads, torch.Tensor) else heads
        colours = colour if isinstance(colour, list) else [colour] * len(faces)
        jobs, fresh = [], []
        for i, (face, head) in enumerate(zip(faces, heads)):
            lr_size = self.face_lr_size(face, scale)
            lr, m, crop = self.face_input(rgb, face, lr_size)
            again = None
            if reuse is not None:
                again = reuse(i, lr, torch.from_numpy(visible_pixels(m, rgb.shape, lr_size, self.scale)))
            if again is not None:  # a recent generation of this unchanged face: paste it again
                done: Future = Future()
                done.set_result(again)
                jobs.append((done, m, None))
                continue
            jobs.append((None, m, crop))
            fresh.append((i, lr, head))
        futures = self.batcher.submit_many([lr for _, lr, _ in fresh], [h for _, _, h in fresh])
        for (i, _, _), fut in zip(fresh, futures):
            jobs[i] = (fut, *jobs[i][1:])
        canvas = rgb if scale == 1 else self.upscale(rgb)
        for i, (fut, m, crop) in enumerate(jobs):
            out = fut.result()
            out = out if isinstance(out, np.ndarray) else out.permute(1, 2, 0).numpy() * 255
            if preserve_color and crop is not None:
                out = keep_colour(out, crop)
            elif colours[i] is not None and crop is not None:  # reused crops were matched when generated
                out = colours[i].apply(out)
            if matte and crop is not None:  # the matte rides along as a 4th channel: reused and blended with the face
                out = np.dstack([out, background_matte(crop) * 255])
            if post is not None:
                out = post(i, out)
            m_canvas = m.copy()
            m_canvas[:, :2] /= scale  # canvas pixel p*scale maps to the same crop point as image pixel p
            canvas = paste_face(canvas, out[..., :3], m_canvas, out[..., 3] / 255 if out.shape[-1] == 4 else None)
        return canvas, faces

    def stylize_keeping_faces(self, rgb: np.ndarray, head: torch.Tensor, scale: int = 1,
                              faces: list[Face] | None = None, colour: ColourTarget | None = None,
                              preserve_color: bool = False, ladder: tuple[float, ...] = KEEP_FACE_LADDER
                              ) -> tuple[np.ndarray, list[Face], list[float]]:
        """stylize, then look for each face again where it was pasted: a face the style made undetectable (pale
        line art turns a bright child's skin into the paper's white) is made again with the style weakened
        along `ladder` (fractions of the given head's move and colour strength) until the detector finds it.
        Faces that were found are pasted again as made, not regenerated. An empty ladder is plain stylize.
        Returns the picture, the faces and the fraction of the style each face kept (1.0: all of it)."""
        faces = self.detect(rgb) if faces is None else faces
        heads, colours, kept = [head] * len(faces), [colour] * len(faces), [1.0] * len(faces)
        made: dict[int, np.ndarray] = {}

        def remember(i: int, crop: np.ndarray) -> np.ndarray:
            made[i] = crop
            return crop

        out = self.stylize(rgb, heads, scale, faces, post=remember, preserve_color=preserve_color, colour=colours)[0]
        redo = set(range(len(faces)))
        for fraction in ladder:
            # look in the whole picture, as the faces were found: MTCNN's pyramid depends on the picture's size,
            # and a window around a face at the picture's edge disagreed with it on a borderline face
            seen = self.detect(out if scale == 1 else cv2.resize(out, rgb.shape[1::-1], interpolation=cv2.INTER_AREA))
            redo = {i for i in redo if not found_at(seen, faces[i].box)}
            if not redo:
                break
            for i in redo:
                kept[i] = fraction
                heads[i] = blend_head(self.photo_head, head, fraction)
                colours[i] = colour.at(colour.strength * fraction) if colour is not None else None
            out = self.stylize(rgb, heads, scale, faces, post=remember, preserve_color=preserve_color,
                               colour=colours, reuse=lambda i, lr, visible: None if i in redo else made[i])[0]
        return out, faces, kept

    def upscale(self, rgb: np.ndarray, tile: int = 96, pad: int = 8) -> np.ndarray:
        """4x super-resolution of the whole picture with the photo head, tile by tile with overlapping
        margins (cropped away) so memory stays flat and seams do not show."""
        h, w = rgb.shape[:2]
        s = self.scale
        out = np.empty((h * s, w * s, 3), np.uint8)
        src = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div(255)
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
                ya, xa, yb, xb = max(0, y0 - pad), max(0, x0 - pad), min(h, y1 + pad), min(w, x1 + pad)
                sr = self.run_batch(src[None, :, ya:yb, xa:xb], self.photo_head[None])[0]
                sr = sr[:, (y0 - ya) * s : (y1 - ya) * s, (x0 - xa) * s : (x1 - xa) * s]
                out[y0 * s : y1 * s, x0 * s : x1 * s] = sr.mul(255).round().byte().permute(1, 2, 0).numpy()
        return out
