import time

import cv2
import numpy as np
import pytest
import skimage.data

from facestyle.eval.panel import (
    ReferencePatches,
    blurred_baseline,
    colour_transfer_baseline,
    detail_ratio,
    identification,
    nearest_patch_distance,
    patch_descriptors,
    seam_ratio,
)
from facestyle.faces.paste import feather_mask

S = 256


def _square(rgb: np.ndarray) -> np.ndarray:
    return cv2.resize(rgb, (S, S), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def references(astronaut) -> list[np.ndarray]:
    """The astronaut's face, a heavily textured noise, a smooth gradient."""
    face = _square(astronaut[20:260, 110:350])
    noise = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 256, (S, S, 3)).astype(np.float32), (0, 0), 1.5)
    noise = ((noise - noise.mean()) * 4 + 128).clip(0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:S, 0:S]
    grad = np.stack([xx, yy, 255 - xx // 2], -1).astype(np.uint8)
    return [face, noise, grad]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return _square(skimage.data.chelsea()[:, 60:360])


@pytest.fixture(scope="module")
def panel(references) -> ReferencePatches:
    return ReferencePatches(references)


def quilt(src: np.ndarray, dst: np.ndarray, b: int = 64, step: int = 4) -> np.ndarray:
    """dst's layout rebuilt from src's pixels: each b x b block of dst replaced by the block of src's inner face
    whose mean luminance (standardised over each image) is nearest: an output made of the reference's patches."""
    luma = lambda im: im.astype(np.float64) @ [0.299, 0.587, 0.114]
    inner = feather_mask(S) >= 0.99
    cand = [(i, j) for i in range(0, S - b + 1, step) for j in range(0, S - b + 1, step) if inner[i:i + b, j:j + b].all()]
    ys, yd = luma(src), luma(dst)
    sm = np.array([ys[i:i + b, j:j + b].mean() for i, j in cand])
    dm = np.array([[yd[i:i + b, j:j + b].mean() for j in range(0, S, b)] for i in range(0, S, b)])
    sm, dm = ((v - v.mean()) / (v.std() + 1e-9) for v in (sm, dm))
    out = np.empty_like(dst)
    for bi, i in enumerate(range(0, S, b)):
        for bj, j in enumerate(range(0, S, b)):
            si, sj = cand[int(np.abs(sm - dm[bi, bj]).argmin())]
            out[i:i + b, j:j + b] = src[si:si + b, sj:sj + b]
    return out


def test_patch_descriptors_shapes_and_self_distance(photo):
    a, b = patch_descriptors(photo)
    qa, qb = patch_descriptors(photo, query=True)
    assert a.shape[1] == 49 and b.shape[1] == 75 and len(qa) < len(a) and len(qb) < len(b)
    assert a.mean(1).abs().max() < 1e-5  # luminance patches are mean-removed
    assert nearest_patch_distance(a, a) == pytest.approx(0.0, abs=1e-3)
    assert nearest_patch_distance(qa, a) > 0
    # any crop size gives the same patch counts (the region depends only on the resized size)
    assert [len(d) for d in patch_descriptors(_square(photo)[:200, :200].copy())] == [len(a), len(b)]


@pytest.mark.parametrize("own", [0, 1, 2])
def test_identification_finds_the_reference_an_output_is_made_of(panel, references, photo, own):
    out = quilt(references[own], photo)
    r = panel.identify(out, photo, own)
    others = [v for i, v in enumerate(r["rel"]) if i != own]
    assert r["identified"] and r["rank"] == 0, r
    assert r["rel_own"] < min(others) - 0.15, r
    # the list form gives the same, and the photo itself moves toward nothing
    assert identification(out, photo, references, own)["rel"] == pytest.approx(r["rel"], rel=1e-4)
    assert panel.identify(photo, photo, own)["rel"] == pytest.approx([1.0] * 3, abs=1e-5)


def test_a_blur_does_not_move_toward_the_textured_reference(panel, references, photo):
    blurred = cv2.GaussianBlur(photo, (0, 0), 2 * S / 128)  # 2 px at 128
    r = panel.identify(blurred, photo, 1)
    assert not r["identified"] and r["rel"][1] > min(r["rel"]) + 0.1, r
    assert not panel.identify(blurred_baseline(photo, references[1]), photo, 1)["identified"]


def test_input_cache_and_timing(references, photo):
    refs = [np.roll(r, 7 * i, axis=(0, 1)) for i in range(9) for r in references]  # 27 references
    t = time.perf_counter()
    panel = ReferencePatches(refs)
    t_build = time.perf_counter() - t
    out = quilt(references[1], photo)
    t = time.perf_counter()
    first = panel.identify(out, photo, 1)
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    again = panel.identify(out, photo.copy(), 1)  # same content: the input's distances come from the cache
    t_cached = time.perf_counter() - t
    assert len(panel._inputs) == 1 and again["rel"] == first["rel"] and len(first["rel"]) == 27
    print(f"\n27 references: build {t_build * 1e3:.0f} ms, identify {t_first * 1e3:.0f} ms (input cached: {t_cached * 1e3:.0f} ms)")


def test_detail_ratio(astronaut):
    mask = cv2.GaussianBlur((feather_mask(512) > 0.5).astype(np.float32), (0, 0), 5)
    assert detail_ratio(astronaut, astronaut, mask) == pytest.approx(1.0)
    small = cv2.resize(astronaut, (128, 128), interpolation=cv2.INTER_AREA)
    up = cv2.resize(small, (512, 512), interpolation=cv2.INTER_CUBIC)
    assert detail_ratio(up, astronaut, mask) < 0.3


def test_seam_ratio():
    # a smooth picture with a little grain: the blend edge of a face usually crosses skin, hair or background
    yy, xx = np.mgrid[0:512, 0:512]
    grain = cv2.GaussianBlur(np.random.default_rng(0).normal(0, 6, (512, 512, 3)).astype(np.float32), (0, 0), 1)
    pic = (np.stack([xx / 4 + 40, yy / 4 + 50, 200 - xx / 5], -1) + grain).clip(0, 255).astype(np.uint8)
    inside = feather_mask(512) >= 0.5
    mask = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 3)  # a blend edge about 15 px wide
    assert seam_ratio(pic, pic, mask) == pytest.approx(1.0)
    # the face pasted with a hard colour step at the mask's edge
    stepped = np.where(inside[..., None], (pic.astype(int) + [50, 40, 30]).clip(0, 255), pic).astype(np.uint8)
    assert seam_ratio(stepped, pic, mask) > 1.5
    # the same step blended through the mask is softer, and a hard mask falls back to its contour
    blended = (mask[..., None] * stepped + (1 - mask[..., None]) * pic).round().astype(np.uint8)
    assert seam_ratio(blended, pic, mask) < seam_ratio(stepped, pic, mask)
    hard = inside.astype(np.float32)
    assert seam_ratio(stepped, pic, hard) > 1.5 and seam_ratio(pic, pic, hard) == pytest.approx(1.0)


def test_baselines(references, photo):
    for fn in (colour_transfer_baseline, blurred_baseline):
        out = fn(photo[:200, :200].copy(), references[0])
        assert out.dtype == np.uint8 and out.shape == (200, 200, 3)
    c = colour_transfer_baseline(photo, references[2])
    assert np.abs(c.astype(int) - photo).mean() > 5  # the colours moved
    b = blurred_baseline(photo, references[2])
    assert detail_ratio(b, c, np.ones(photo.shape[:2], np.float32)) < 0.5
