"""The person's structure put back over the features of a synthesised face (style/structure.py)."""

import cv2
import numpy as np
import pytest

from facestyle.eval.style import dlib_embedder
from facestyle.exemplar import ExemplarStylizer
from facestyle.faces import FaceDetector
from facestyle.style.structure import StructureConfig, band, features_region, restore_structure
from facestyle.style.synthesis import synthesize
from facestyle.data import load_rgb
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
    feats = features_region(fc.crop.shape[0], fc.landmarks)
    grey = lambda c: cv2.cvtColor(np.asarray(c, np.float32), cv2.COLOR_RGB2GRAY)  # noqa: E731
    bt, bm, bo = (band(grey(c), StructureConfig().band) for c in (fc.crop, made, out))
    inside = feats > 0.9
    corr = lambda a, b: float(np.corrcoef(a[inside], b[inside])[0, 1])  # noqa: E731
    assert corr(bo, bt) > corr(bm, bt) + 0.2 and corr(bo, bt) > 0.7
    # elsewhere (no weight) the synthesis is untouched; the change is grey (the same on R, G and B)
    assert np.array_equal(out[feats == 0], made[feats == 0]) and (feats == 0).mean() > 0.3
    d = (out - made)[(out > 0.5).all(-1) & (out < 254.5).all(-1)]
    np.testing.assert_allclose(d[:, 0], d[:, 1], atol=1e-3)


def test_identity_is_nearer_with_the_structure(case):
    embed = dlib_embedder()
    if embed is None:
        pytest.skip("dlib's face embedding is not installed")
    fc, ref, ref_l68, made = case
    out = restore_structure(made, fc.crop, fc.landmarks, fc.head, ref, ref_l68)
    box = (0, 0, fc.crop.shape[1], fc.crop.shape[0])
    dist = lambda c: embed(fc.crop, box, np.clip(c, 0, 255).astype(np.uint8), box)  # noqa: E731
    assert dist(out) < dist(made) - 0.05  # measured: 0.70 -> 0.63
