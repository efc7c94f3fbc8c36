import numpy as np
import pytest

from facestyle.faces import align_face
from facestyle.style.colour import ColourTarget, colour_moments, gaussian_w2


def _target_crop(rgb):
    """A differently coloured face: channels rotated and darkened."""
    return (rgb[..., [2, 0, 1]] * 0.7).astype(np.uint8)


@pytest.fixture(scope="module")
def aligned(runtime, astronaut):
    face = runtime.stylizer.detect(astronaut)[0]
    return align_face(astronaut, face.landmarks, 256)[0]


def test_apply_lands_the_face_on_the_targets_gaussian(aligned):
    target = ColourTarget.of(_target_crop(aligned))
    before = gaussian_w2(*colour_moments(aligned), target.mean, target.cov)
    moved = target.apply(aligned)
    assert moved.shape == aligned.shape and moved.min() >= 0 and moved.max() <= 255
    after = gaussian_w2(*colour_moments(moved), target.mean, target.cov)
    assert before > 0.2 and after < 0.02 * before  # clipping to 0..255 leaves a little


def test_strength_walks_the_way_between(aligned):
    target = ColourTarget.of(_target_crop(aligned))
    np.testing.assert_allclose(target.at(0).apply(aligned), aligned, atol=1e-3)
    d = [gaussian_w2(*colour_moments(target.at(s).apply(aligned)), target.mean, target.cov) for s in (0, 0.5, 1)]
    assert d[0] > d[1] > d[2]
    assert abs(d[1] - d[0] / 2) < 0.1 * d[0]  # the displacement interpolation halves the W2 distance


def test_bytes_round_trip_and_bad_bytes(aligned):
    t = ColourTarget.of(aligned)
    back = ColourTarget.from_bytes(t.to_bytes())
    np.testing.assert_allclose(back.mean, t.mean, rtol=1e-6)
    np.testing.assert_allclose(back.cov, t.cov, rtol=1e-5)
    with pytest.raises(ValueError):
        ColourTarget.from_bytes(b"\0" * 8)


def test_stylize_moves_every_face_onto_the_reference_colours(runtime, astronaut):
    faces = runtime.stylizer.detect(astronaut)
    crop = align_face(astronaut, faces[0].landmarks, 256)[0]
    target = ColourTarget.of(_target_crop(crop))
    photo = runtime.stylizer.photo_head
    plain = runtime.stylizer.stylize(astronaut, photo, faces=faces)[0]
    coloured = runtime.stylizer.stylize(astronaut, photo, faces=faces, colour=target)[0]
    kept = runtime.stylizer.stylize(astronaut, photo, faces=faces, colour=target, preserve_color=True)[0]
    dist = lambda im: gaussian_w2(*colour_moments(align_face(im, faces[0].landmarks, 256)[0]), target.mean, target.cov)  # noqa: E731
    assert dist(coloured) < 0.25 * dist(plain)
    assert dist(kept) > 0.8 * dist(plain)  # preserve_color wins over the target
    assert np.array_equal(coloured[-40:], astronaut[-40:])  # outside the face nothing changes
