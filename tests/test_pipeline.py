import cv2
import numpy as np
import pytest

from facestyle.faces.detect import found_at, iou
from facestyle.pipeline import Stylizer, blend_head
from facestyle.style.colour import ColourTarget


@pytest.fixture(scope="module")
def adaptive(runtime):
    """The runtime's generator and detector, with small faces allowed down to 32 px (off by default)."""
    s = runtime.stylizer
    return Stylizer(s.generator, s.detector, lr_size=64, min_lr_size=32)


def test_a_face_runs_at_the_smallest_size_that_still_oversamples_it_twice(adaptive, astronaut):
    face = adaptive.detect(astronaut)[0]
    assert adaptive.face_lr_size(face) == 64  # its crop spans ~180 px: twice that is more than 256
    assert adaptive.face_lr_size(face, scale=4) == 64
    small = cv2.resize(astronaut, (205, 205), interpolation=cv2.INTER_AREA)
    size = adaptive.face_lr_size(adaptive.detect(small)[0])
    assert size in (32, 40) and size % 8 == 0


def test_a_small_face_runs_at_its_smaller_size_and_comes_out_close_to_full_size(adaptive, runtime, astronaut):
    small = cv2.resize(astronaut, (205, 205), interpolation=cv2.INTER_AREA)
    faces = adaptive.detect(small)
    sizes = []
    out, _ = adaptive.stylize(small, adaptive.photo_head, faces=faces, post=lambda i, c: sizes.append(c.shape) or c,
                              matte=False)
    assert sizes == [(4 * adaptive.face_lr_size(faces[0]),) * 2 + (3,)]
    full, _ = runtime.stylizer.stylize(small, adaptive.photo_head, faces=faces)
    x0, y0, x1, y1 = faces[0].box.astype(int)
    face_diff = np.abs(out.astype(float) - full.astype(float))[y0:y1, x0:x1].mean()
    assert 0 < face_diff < 4  # measured 3.1 grey levels (lr 40 vs 64): a little softer, not another picture


def test_the_matte_travels_with_each_face_to_the_post_hook_and_into_the_paste(runtime, astronaut):
    """A hook that keeps a face's crop (FaceReuse) keeps its matte too: the paste uses the 4th channel."""
    seen = []

    def cut(i, crop):
        seen.append(crop.shape)
        crop = crop.copy()
        crop[..., 3] = 0  # a matte of nothing: the face must not be pasted at all
        return crop

    face = runtime.stylizer.detect(astronaut)
    out, _ = runtime.stylizer.stylize(astronaut, runtime.stylizer.photo_head, faces=face, post=cut, matte=True)
    assert seen == [(256, 256, 4)]
    assert np.array_equal(out, astronaut)
    styled, _ = runtime.stylizer.stylize(astronaut, runtime.stylizer.photo_head, faces=face, matte=True)
    assert not np.array_equal(styled, astronaut)


def _paper_white() -> ColourTarget:
    """A colour target that sends every face pixel to near-white paper: a face the detector cannot find."""
    return ColourTarget(np.full(3, 0.97), np.eye(3) * 1e-6)


def test_a_face_the_style_makes_undetectable_is_made_again_weaker_until_found(runtime, astronaut):
    s = runtime.stylizer
    faces = s.detect(astronaut)
    lost, _ = s.stylize(astronaut, s.photo_head, faces=faces, colour=_paper_white())
    assert not found_at(s.detect(lost), faces[0].box)
    out, _, kept = s.stylize_keeping_faces(astronaut, s.photo_head, faces=faces, colour=_paper_white())
    assert kept[0] < 1 and found_at(s.detect(out), faces[0].box)
    # the weakest try that still failed is not what came back: the paste is the face at kept[0]
    again, _ = s.stylize(astronaut, s.photo_head, faces=faces, colour=_paper_white().at(kept[0]))
    assert np.array_equal(out, again)


def test_faces_that_stay_found_keep_all_of_the_style_and_are_not_made_again(runtime, two_faces, style_reference,
                                                                            monkeypatch):
    s = runtime.stylizer
    faces = s.detect(two_faces)
    assert len(faces) == 2
    # the posterised style at half strength: both faces stay found (at full strength the left one is lost)
    head = blend_head(s.photo_head, runtime.instant_head(runtime.reference_crop(style_reference)), 0.5)
    plain, _ = s.stylize(two_faces, head, faces=faces)
    out, _, kept = s.stylize_keeping_faces(two_faces, head, faces=faces)
    assert kept == [1.0, 1.0] and np.array_equal(out, plain)

    calls = []
    real = s.detector.detect

    def lose_face_0_once(rgb):
        calls.append(rgb.shape)
        found = real(rgb)
        return [f for f in found if len(calls) > 1 or iou(f.box, faces[0].box) < 0.5]

    monkeypatch.setattr(s.detector, "detect", lose_face_0_once)
    before = s.batcher.faces_run
    out, _, kept = s.stylize_keeping_faces(two_faces, head, faces=faces)
    assert s.batcher.faces_run - before == 3  # both faces, then face 0 alone
    assert kept == [0.7, 1.0] and len(calls) == 2  # the picture looked at after each paste
    x0, y0, x1, y1 = faces[1].box.astype(int)
    assert np.array_equal(out[y0:y1, x0:x1], plain[y0:y1, x0:x1])  # face 1: pasted again as made
    x0, y0, x1, y1 = faces[0].box.astype(int)
    assert np.abs(out[y0:y1, x0:x1].astype(int) - plain[y0:y1, x0:x1]).mean() > 1  # face 0: made at 0.7
