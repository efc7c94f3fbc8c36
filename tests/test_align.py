import numpy as np
import pytest

from facestyle.faces.align import (
    TEMPLATE,
    align_face,
    similarity_matrix,
    transform_points,
)


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    a, t = 1.7 * np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]]), np.array([12.0, -5.0])
    m = similarity_matrix(src, src @ a.T + t)
    np.testing.assert_allclose(m[:, :2], a, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], t, atol=1e-9)


def test_warp_then_inverse_warp_returns_the_landmarks(astronaut):
    landmarks = np.array([[205.0, 101.7], [246.8, 103.7], [224.7, 129.0], [201.7, 139.2], [245.3, 141.9]])
    crop, m = align_face(astronaut, landmarks, 256)
    assert crop.shape == (256, 256, 3)
    in_crop = transform_points(m, landmarks)
    assert np.abs(in_crop - TEMPLATE * 256).max() < 10  # five points, four dof: a best fit, not exact
    inv = np.vstack([m, [0, 0, 1]])
    back = transform_points(np.linalg.inv(inv)[:2], in_crop)
    np.testing.assert_allclose(back, landmarks, atol=1e-6)


@pytest.mark.parametrize("size", [64, 256])
def test_aligned_crop_shows_the_eye_where_the_template_puts_it(astronaut, size):
    # mark a bright dot at the left eye; after alignment it must sit at the template's left eye
    img = astronaut.copy()
    landmarks = np.array([[205.0, 101.7], [246.8, 103.7], [224.7, 129.0], [201.7, 139.2], [245.3, 141.9]])
    img[99:105, 202:208] = [0, 255, 0]
    crop, m = align_face(img, landmarks, size)
    gy, gx = np.nonzero((crop[..., 1] > 200) & (crop[..., 0] < 80))
    ex, ey = transform_points(m, landmarks[:1])[0]
    assert abs(gx.mean() - ex) < 1.5 and abs(gy.mean() - ey) < 1.5
