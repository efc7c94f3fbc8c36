"""Who a face is (faces/identity.py) and the stylizer's identity ladder (exemplar.py)."""

import cv2
import numpy as np
import pytest

from facestyle.data import load_rgb
from facestyle.exemplar import IDENTITY_LADDER, IDENTITY_MARGIN, ExemplarStylizer
from facestyle.faces import FaceDetector
from facestyle.faces.identity import SAME_PERSON, distance, embedding
from tests.conftest import DATA

BOY = DATA / "faces" / "single" / "codeformer-lq_0763.png"  # a small blurred face: the style takes him most often
LINE_ART = DATA / "styles" / "apdrawing-lineart_img_1682_fake_B.png"


@pytest.fixture(scope="module")
def stylizer():
    return ExemplarStylizer(FaceDetector())


def _crop(st, rgb):
    return st.face_crop(rgb, max(st.detect(rgb), key=lambda f: f.box[2] - f.box[0]))


def test_the_same_face_is_near_and_another_far(stylizer, astronaut):
    if not BOY.is_file():
        pytest.skip(f"shared face photos not found at {BOY.parent} (set FACESTYLE_DATA)")
    a = _crop(stylizer, astronaut)
    e = embedding(a.crop, a.landmarks)
    assert e.shape == (128,)
    # the same crop, JPEG'd and at half size (landmarks scaled): the same person, well inside dlib's rule
    ok, jpg = cv2.imencode(".jpg", a.crop, [cv2.IMWRITE_JPEG_QUALITY, 60])
    half = cv2.resize(cv2.imdecode(jpg, cv2.IMREAD_UNCHANGED), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    assert distance(e, embedding(half, a.landmarks * 0.5)) < 0.25
    b = _crop(stylizer, load_rgb(BOY))
    assert distance(e, embedding(b.crop, b.landmarks)) > SAME_PERSON


def test_the_ladder_wins_the_person_back(stylizer):
    if not (BOY.is_file() and LINE_ART.is_file()):
        pytest.skip(f"shared data not found at {DATA} (set FACESTYLE_DATA)")
    boy = load_rgb(BOY)
    ex = stylizer.exemplar(load_rgb(LINE_ART))
    faces = stylizer.detect(boy)[:1]
    plain, report = {}, {}
    out0, _, _ = stylizer.stylize(boy, ex, faces=faces, identity_ladder=(), report=plain)
    out1, _, _ = stylizer.stylize(boy, ex, faces=faces, report=report)
    assert plain["identity_steps"] == [0] and plain["identity_drawn"] == [None]  # no ladder, no check
    assert len(plain["masks"]) == 1 and plain["masks"][0].shape == boy.shape[:2]
    # measured: 0.65 as drawn, over the margin, so a step is taken and the face differs from the plain one; here
    # no step of the band wins him back, so he is built again on his own arrangement (measured: step 3 of that)
    assert report["identity_drawn"][0] > IDENTITY_MARGIN and report["identity_steps"][0] > len(IDENTITY_LADDER)
    assert np.abs(out1.astype(int) - out0).max() > 20
    fc = _crop(stylizer, boy)
    person = embedding(fc.crop, fc.landmarks)
    after = [distance(embedding(o, fc.landmarks), person) for o in (cv2.warpAffine(x, fc.m, fc.crop.shape[1::-1]) for x in (out0, out1))]
    assert after[1] < after[0] - 0.05
