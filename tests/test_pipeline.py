import cv2
import numpy as np
import pytest

from facestyle.pipeline import Stylizer


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
