"""Stills built from the reference: detect (MTCNN) -> 68 landmarks -> align at the face's own size -> guided
exemplar synthesis from the style's reference -> blend toward the photo by strength -> paste along the outline.

A style's exemplar is its reference face aligned at its own resolution (256-1024 px) with its 68 landmarks in
that crop; it is all the synthesis needs, so a style serves stills the moment it is registered.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, replace
from functools import cached_property

import cv2
import numpy as np
from PIL import Image

from facestyle.faces import Face, FaceDetector, align_face
from facestyle.faces.align import alignment_matrix, transform_points
from facestyle.faces.detect import found_at
from facestyle.faces.head import head_region
from facestyle.faces.identity import distance, embedding
from facestyle.faces.landmarks import dense_landmarks, face_outline, five_points
from facestyle.faces.paste import outline_mask, paste_blended
from facestyle.pipeline import KEEP_FACE_LADDER, keep_colour
from facestyle.style.structure import StructureConfig, restore_structure
from facestyle.style.synthesis import SynthesisConfig, synthesize

MIN_SIZE, MAX_SIZE = 128, 1024
# More of the person's structure for a face that dlib no longer takes for the person (its embedding over
# IDENTITY_MARGIN from the photo's, a margin under dlib's 0.6): their band over the features from a finer
# scale, 0.7, 0.5, then 0.3 px (not 1). The synthesis is not run again; the cheeks, forehead and hair stay
# the reference's (their shading from the photo too cost texture gain 0.23 on the faces that took it).
# Measured in docs/exemplar-synthesis.md ("Identity ladder").
IDENTITY_LADDER = tuple(StructureConfig(band=(s, 8.0)) for s in (0.7, 0.5, 0.3))
IDENTITY_MARGIN = 0.57
_HEADS: dict[bytes, np.ndarray] = {}  # exemplars' head regions, oldest first


def guards(keep_faces: bool) -> dict:
    """`stylize`'s two guards behind the one switch clients see (the service's `keep_faces`, the command line's
    `--no-keep-faces`): a face the style made undetectable pasted again weaker, and one no longer the person
    given more of their structure. On: stylize's defaults."""
    return {} if keep_faces else {"ladder": (), "identity_ladder": ()}


class NoLandmarks(ValueError):
    """A reference with no face a detector reads, and no landmarks given."""


def crop_size(l5: np.ndarray, lo: int = MIN_SIZE, hi: int = MAX_SIZE) -> int:
    """The aligned crop size at which one crop pixel is (at most) one picture pixel: a face is built at its own
    size in the picture, never upscaled from a smaller crop; a multiple of 64 in lo..hi."""
    m = alignment_matrix(l5, 256)
    native = 256 / float(np.hypot(m[0, 0], m[1, 0]))
    return int(np.clip(np.ceil(native / 64) * 64, lo, hi))


def crop_border(size: int) -> np.ndarray:
    """(S, S) float32: 1 inside an aligned crop, fading to 0 over its outer 6 % (outside the crop the picture is
    the photo's, so no paste reaches the crop's edge)."""
    edge = np.minimum(np.arange(size), np.arange(size)[::-1]).astype(np.float32)
    border = np.clip(edge / (0.06 * size), 0, 1)
    return border[:, None] * border[None, :]


@dataclass
class Exemplar:
    crop: np.ndarray  # the reference face, aligned, uint8 (S, S, 3)
    landmarks: np.ndarray  # its 68 points in crop pixels

    @cached_property
    def head(self) -> np.ndarray:
        # a style's exemplar is decoded from the store on every request: its region is computed once per process
        key = hashlib.blake2b(self.crop.tobytes() + self.landmarks.tobytes(), digest_size=16).digest()
        if key not in _HEADS:
            if len(_HEADS) >= 64:
                _HEADS.pop(next(iter(_HEADS)))
            _HEADS[key] = head_region(self.crop, self.landmarks)
        return _HEADS[key]

    @classmethod
    def of(cls, rgb: np.ndarray, l68: np.ndarray, lo: int = 256) -> "Exemplar":
        l5 = five_points(l68)
        crop, m = align_face(rgb, l5, crop_size(l5, lo=lo))
        return cls(crop, transform_points(m, l68))

    def to_bytes(self) -> tuple[bytes, bytes]:
        buf = io.BytesIO()
        Image.fromarray(self.crop).save(buf, format="PNG")
        return buf.getvalue(), json.dumps(np.round(self.landmarks, 2).tolist()).encode()

    @classmethod
    def from_bytes(cls, png: bytes, landmarks: bytes) -> "Exemplar":
        with Image.open(io.BytesIO(png)) as im:
            crop = np.asarray(im.convert("RGB"))
        return cls(crop, np.asarray(json.loads(landmarks), np.float64))


@dataclass
class FaceCrop:
    crop: np.ndarray
    m: np.ndarray  # picture -> crop
    landmarks: np.ndarray  # 68, crop pixels
    head: np.ndarray  # head_region: face, hair and neck

    @cached_property
    def person(self) -> np.ndarray:
        """dlib's embedding of the photo's face: who every build of it is compared with."""
        return embedding(self.crop, self.landmarks)


class ExemplarStylizer:
    def __init__(self, detector: FaceDetector | None, config: SynthesisConfig = SynthesisConfig(),
                 structure: StructureConfig = StructureConfig(), device: str = "cpu"):
        self.detector = detector
        self.config = config
        self.structure = structure
        self.device = device

    def detect(self, rgb: np.ndarray) -> list[Face]:
        return self.detector.detect(rgb) if self.detector is not None else []

    def exemplar(self, rgb: np.ndarray, landmarks: np.ndarray | None = None) -> Exemplar:
        """A reference's exemplar: from landmarks the client gave, else from the largest face MTCNN finds."""
        if landmarks is None:
            faces = self.detect(rgb)
            if not faces:
                raise NoLandmarks("no face found in the reference, so no landmarks: send them as `landmarks`, a JSON "
                                  "list of 68 [x, y] points in the picture's pixels (dlib/iBUG 68-point layout: jaw 0-16, "
                                  "brows 17-26, nose 27-35, eyes 36-47, lips 48-67)")
            face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
            landmarks = dense_landmarks(rgb, face.box)
        return Exemplar.of(rgb, landmarks)

    def face_crop(self, rgb: np.ndarray, face: Face, others: list[Face] = ()) -> FaceCrop:
        """The face aligned at its size, its landmarks and its head; `others`, the picture's other faces, are
        kept out of the head."""
        l68 = dense_landmarks(rgb, face.box)
        l5 = five_points(l68)
        crop, m = align_face(rgb, l5, crop_size(l5))
        l68 = transform_points(m, l68)
        boxes = []
        for o in others:
            x0, y0, x1, y1 = o.box
            c = transform_points(m, np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], np.float64))
            boxes.append(np.concatenate([c.min(0), c.max(0)]))
        return FaceCrop(crop, m, l68, head_region(crop, l68, others=boxes))

    @staticmethod
    def blend_mask(fc: FaceCrop) -> np.ndarray:
        """The paste's weights over a face's crop: the whole head (face, hair, the neck fading out below the chin),
        feathered, and never reaching the crop's border (outside the crop the picture is the photo's)."""
        size = fc.crop.shape[0]
        face = outline_mask(size, face_outline(fc.landmarks))
        l68 = fc.landmarks
        h = float(np.linalg.norm(l68[8] - l68[27]))  # chin to nose bridge
        y = np.arange(size, dtype=np.float32)[:, None]
        neck = np.clip((l68[8, 1] + 0.6 * h - y) / (0.5 * h), 0, 1)  # full to a little below the chin, then out
        head = cv2.GaussianBlur(fc.head, (0, 0), size / 128) * neck * crop_border(size)
        return np.maximum(face, head).astype(np.float32)

    @property
    def person_arrangement(self) -> SynthesisConfig | None:
        """The synthesis that follows the person's arrangement everywhere (cheeks, forehead and hair too): for a
        face that the reference's arrangement took from dlib or MTCNN. None when the config already does."""
        cfg = replace(self.config, positional=1.0, arrangement=1.0, away_appearance=1.0)
        return None if cfg == self.config else cfg

    def build(self, crops: list[FaceCrop], exemplars: list[Exemplar], strength: float = 1.0,
              identity_ladder: tuple[StructureConfig, ...] = (), on_person: bool = False
              ) -> tuple[list[np.ndarray], list[int], list[float | None], list[float | None]]:
        """Each face synthesised from its exemplar (faces of one size share one batched call; with the stylizer's
        config, or `on_person`, its person_arrangement), then the person's own structure put back over the
        features (style/structure.py); a face no longer the person at `strength` gets the first step of
        `identity_ladder` that makes it so, and if none does, is built again on the person's arrangement (when
        the config is not that already), whichever is nearer the person. Returns the faces and, per face, the
        ladder step used (0: none; past the ladder's length, a build on the person's arrangement and its own
        step), the distance before it and the distance after (None: unchecked)."""
        out: list[np.ndarray | None] = [None] * len(crops)
        steps, drawn, far = [0] * len(crops), [None] * len(crops), [None] * len(crops)
        first = len(identity_ladder) + 1 if on_person else 0  # steps past the ladder: the person's arrangement
        for size in sorted({c.crop.shape[0] for c in crops}):
            idx = [i for i, c in enumerate(crops) if c.crop.shape[0] == size]
            made = synthesize([(crops[i].crop, crops[i].landmarks, crops[i].head) for i in idx],
                              [(exemplars[i].crop, exemplars[i].landmarks, exemplars[i].head) for i in idx],
                              self.person_arrangement if on_person else self.config, self.device)
            for i, m in zip(idx, made):
                c, e = crops[i], exemplars[i]
                ref = cv2.resize(e.crop, (size, size), interpolation=cv2.INTER_AREA) if e.crop.shape[0] != size else e.crop
                ref_l68 = e.landmarks * (size / e.crop.shape[0])
                structure = lambda cfg: restore_structure(m, c.crop, c.landmarks, c.head, ref, ref_l68, cfg)  # noqa: E731
                out[i] = structure(self.structure)
                steps[i] = first
                if identity_ladder:
                    out[i], step, drawn[i], far[i] = self._keep_identity(out[i], c, strength, identity_ladder, structure)
                    steps[i] += step
        redo = [i for i in range(len(crops)) if far[i] is not None and far[i] > IDENTITY_MARGIN]
        if redo and not on_person and self.person_arrangement is not None:
            again, again_steps, _, again_far = self.build([crops[i] for i in redo], [exemplars[i] for i in redo],
                                                          strength, identity_ladder, on_person=True)
            for i, face, step, d in zip(redo, again, again_steps, again_far):
                if d < far[i]:
                    out[i], steps[i], far[i] = face, step, d
        return out, steps, drawn, far

    @staticmethod
    def _far(face: np.ndarray, c: FaceCrop, strength: float) -> float:
        """dlib's distance between the person and `face` blended toward the photo by `strength`."""
        return distance(embedding(strength * face + (1 - strength) * c.crop, c.landmarks), c.person)

    @classmethod
    def _keep_identity(cls, face: np.ndarray, c: FaceCrop, strength: float, ladder: tuple[StructureConfig, ...],
                       structure) -> tuple[np.ndarray, int, float, float]:
        """`face` or, when dlib no longer takes it (blended by `strength`) for the person, the first of
        `structure(step)` along `ladder` that it does (else the nearest): (face, step, distance before, after)."""
        best = drawn = cls._far(face, c, strength)
        step = 0
        for k, cfg in enumerate(ladder, 1):
            if best <= IDENTITY_MARGIN:
                break
            candidate = structure(cfg)
            d = cls._far(candidate, c, strength)
            if d < best:
                face, step, best = candidate, k, d
        return face, step, drawn, best

    def stylize(self, rgb: np.ndarray, exemplar: Exemplar, strength: float = 1.0, faces: list[Face] | None = None,
                preserve_color: bool = False, ladder: tuple[float, ...] = KEEP_FACE_LADDER,
                identity_ladder: tuple[StructureConfig, ...] = IDENTITY_LADDER, report: dict | None = None
                ) -> tuple[np.ndarray, list[Face], list[float]]:
        """Every face of `rgb` built from the exemplar at `strength` (0: the photo, 1: all synthesis) and pasted.
        A face no longer the person gets more of their structure along `identity_ladder`; a face the style made
        undetectable is pasted again weaker along `ladder` until MTCNN finds it (empty: never). Returns the
        picture, the faces and the fraction of the strength each face kept; `report`, when given, receives
        each face's identity ladder step ("identity_steps"), its distance before ("identity_drawn"), its paste
        weights in the picture ("masks"), whether it was built again ("rebuilt"), its whole built crop ("built")
        and the picture -> crop transform ("to_crop")."""
        faces = self.detect(rgb) if faces is None else faces
        if strength <= 0:
            return rgb, faces, [1.0] * len(faces)
        crops = [self.face_crop(rgb, f, [g for g in faces if g is not f]) for f in faces]
        made, steps, drawn, _ = self.build(crops, [exemplar] * len(crops), strength, identity_ladder) if crops else ([], [], [], [])
        if report is not None:
            report |= {"identity_steps": steps, "identity_drawn": drawn}
        if preserve_color:
            made = [keep_colour(s, c.crop) for s, c in zip(made, crops)]
        kept = [1.0] * len(faces)
        masks = [self.blend_mask(c) for c in crops]  # once: every keep-faces pass pastes with the same weights
        if report is not None:  # the paste's weights in the picture, where the eval measures seams and detail
            report["masks"] = [cv2.warpAffine(m, cv2.invertAffineTransform(c.m), rgb.shape[1::-1], flags=cv2.INTER_LINEAR)
                               for c, m in zip(crops, masks)]

        def paste(fractions: list[float]) -> np.ndarray:
            # strength scales the blend weights in the picture, so 0 is the photo exactly, not a resampled copy
            out = rgb
            for c, s, m, f in zip(crops, made, masks, fractions):
                if strength * f > 0:
                    out = paste_blended(out, s, c.m, m * (strength * f))
            return out

        out = paste(kept)
        redo = set(range(len(faces)))
        rebuilt = [False] * len(faces)
        # a face MTCNN no longer finds is first built again on the person's own arrangement, at full strength,
        # then pasted weaker along the ladder
        again = [None] if ladder and self.person_arrangement is not None else []
        for fraction in again + list(ladder):
            seen = self.detect(out)
            redo = {i for i in redo if not found_at(seen, faces[i].box)}
            if not redo:
                break
            if fraction is None:
                # a face the identity ladder already built on the person's arrangement would come out the same
                idx = sorted(i for i in redo if steps[i] <= len(identity_ladder))
                faces_again, steps_again, _, _ = self.build([crops[i] for i in idx], [exemplar] * len(idx), strength,
                                                            identity_ladder, on_person=True)
                for i, face, step in zip(idx, faces_again, steps_again):
                    made[i] = keep_colour(face, crops[i].crop) if preserve_color else face
                    rebuilt[i] = True
                    steps[i] = step
            else:
                for i in redo:
                    kept[i] = fraction
            out = paste(kept)
        if report is not None:  # what was pasted: each face's whole built crop and its picture -> crop transform
            report |= {"rebuilt": rebuilt, "built": made, "to_crop": [c.m for c in crops]}
        return out, faces, kept
