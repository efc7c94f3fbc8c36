"""The person's structure put back over the features of a synthesised face (style/structure.py)."""

import cv2
import numpy as np
import pytest

from facestyle.eval.style import dlib_embedder
from facestyle.exemplar import ExemplarStylizer
from facestyle.faces import FaceDetector
from facestyle.style.structure import StructureConfig, band, features_region, restore_structure, shift_luminance
from facestyle.style.synthesis import synthesize
from facestyle.data import load_rgb
from facestyle.faces.landmarks import face_outline, polygon_mask
from tests.conftest import DATA

DISNEY = DATA / "styles" / "jojogan_disney.png"


@pytest.fixture(scope="module")
def case(astronaut):
    """The astronaut built from a Disney still (its big eyes come with its material)."""
    if not DISNEY.is_file():
        pytest.skip(f"shared style references not found at {DISNEY.parent} (set FACESTYLE_DATA)")
    st = ExemplarStylizer(FaceDetector())
    ex = st.exemplar(load_rgb(DISNEY))
    fc = st.face_crop(astronaut, st.detect(astronaut)[0])
    size = fc.crop.shape[0]
    ref = cv2.resize(ex.crop, (size, size), interpolation=cv2.INTER_AREA)
    ref_l68 = ex.landmarks * size / ex.crop.shape[0]
    made = synthesize([(fc.crop, fc.landmarks, fc.head)], [(ref, ref_l68)])[0]
    return fc, ref, ref_l68, made


def test_off_is_the_synthesis(case):
    fc, ref, ref_l68, made = case
    out = restore_structure(made, fc.crop, fc.landmarks, fc.head, ref, ref_l68, StructureConfig(features=0.0))
    np.testing.assert_array_equal(out, made)


def test_the_targets_band_comes_back_over_the_features_only(case):
    fc, ref, ref_l68, made = case
    out = restore_structure(made, fc.crop, fc.landmarks, fc.head, ref, ref_l68)
    feats = features_region(fc.crop.shape[0], fc.landmarks, StructureConfig().grow)
    grey = lambda c: cv2.cvtColor(np.asarray(c, np.float32), cv2.COLOR_RGB2GRAY)  # noqa: E731
    bt, bm, bo = (band(grey(c), StructureConfig().band) for c in (fc.crop, made, out))
    inside = feats > 0.9
    corr = lambda a, b: float(np.corrcoef(a[inside], b[inside])[0, 1])  # noqa: E731
    assert corr(bo, bt) > corr(bm, bt) + 0.2 and corr(bo, bt) > 0.7
    # elsewhere (no weight) the synthesis is untouched
    assert np.array_equal(out[feats == 0], made[feats == 0]) and (feats == 0).mean() > 0.3


def test_the_change_is_of_brightness_and_shadows_keep_their_colour(case):
    fc, ref, ref_l68, made = case
    out = restore_structure(made, fc.crop, fc.landmarks, fc.head, ref, ref_l68)
    grey = lambda c: cv2.cvtColor(np.asarray(c, np.float32), cv2.COLOR_RGB2GRAY)  # noqa: E731
    unclipped = (out > 0.5).all(-1) & (out < 254.5).all(-1)
    gm, go = grey(made), grey(out)
    # the grey level moves as the band says: as far as the old grey shift (the change added to R, G and B alike)
    bt, bm = (band(grey(c), StructureConfig().band) for c in (fc.crop, made))
    size, face = fc.crop.shape[0], lambda l: polygon_mask(fc.crop.shape[0], [face_outline(l)])  # noqa: E731
    std = lambda b, m: np.sqrt((b ** 2 * m).sum() / m.sum())  # noqa: E731
    gain = std(band(grey(ref), StructureConfig().band), face(ref_l68)) / std(bt, face(fc.landmarks))
    add = made + (features_region(size, fc.landmarks, StructureConfig().grow) * (gain * bt - bm))[..., None]
    both = unclipped & (add > 0.5).all(-1) & (add < 254.5).all(-1)
    assert both.mean() > 0.9
    np.testing.assert_allclose(go[both], grey(add)[both], atol=0.05)
    # darker by up to 4x: R, G and B scaled together (a grey shift would change their ratios)
    shade = unclipped & (go < gm - 5) & (go > gm / 4) & (made > 20).all(-1)
    assert shade.sum() > 100
    ratio = out[shade] / made[shade]
    np.testing.assert_allclose(ratio[:, 0], ratio[:, 2], atol=1e-3)
    assert np.abs((made[shade] + (go - gm)[shade][:, None]) - out[shade]).max() > 1  # not the grey shift
    # lighter: added equally to R, G and B
    light = unclipped & (go > gm + 5)
    d = (out - made)[light]
    np.testing.assert_allclose(d[:, 0], d[:, 1], atol=1e-3)


def test_shift_luminance_on_a_known_colour():
    skin = np.full((1, 2, 3), (200.0, 120.0, 80.0), np.float32)
    g = float(cv2.cvtColor(skin, cv2.COLOR_RGB2GRAY)[0, 0])
    out = shift_luminance(skin, np.array([[-g / 2, 30.0]], np.float32))
    np.testing.assert_allclose(out[0, 0], (100, 60, 40), atol=1e-3)  # half as bright, the same hue
    np.testing.assert_allclose(out[0, 1], (230, 150, 110), atol=1e-3)  # lighter: +30 on each
    deep = shift_luminance(skin, np.array([[-0.8 * g]], np.float32))[0, 0]  # beyond 4x: scaled by 1/4, rest added
    np.testing.assert_allclose(cv2.cvtColor(deep[None, None], cv2.COLOR_RGB2GRAY)[0, 0], 0.2 * g, atol=1e-3)
    np.testing.assert_allclose(deep, np.array((50, 30, 20)) - 0.05 * g, atol=1e-3)


def test_identity_is_nearer_with_the_structure(case):
    embed = dlib_embedder()
    if embed is None:
        pytest.skip("dlib's face embedding is not installed")
    fc, ref, ref_l68, made = case
    out = restore_structure(made, fc.crop, fc.landmarks, fc.head, ref, ref_l68)
    box = (0, 0, fc.crop.shape[1], fc.crop.shape[0])
    dist = lambda c: embed(fc.crop, box, np.clip(c, 0, 255).astype(np.uint8), box)  # noqa: E731
    assert dist(out) < dist(made) - 0.05  # measured: 0.70 -> 0.63
