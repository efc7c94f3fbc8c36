import numpy as np

from facestyle.faces.align import TEMPLATE, similarity_matrix
from facestyle.faces.paste import feather_mask, paste_face


def test_outside_the_face_the_picture_is_unchanged_and_inside_it_is_replaced(astronaut):
    landmarks = np.array([[205.0, 101.7], [246.8, 103.7], [224.7, 129.0], [201.7, 139.2], [245.3, 141.9]])
    m = similarity_matrix(landmarks, TEMPLATE * 256)
    face = np.zeros((256, 256, 3), np.float32)
    out = paste_face(astronaut, face, m)
    assert out.dtype == np.uint8 and out.shape == astronaut.shape
    changed = np.any(out != astronaut, axis=-1)
    ys, xs = np.nonzero(changed)
    # everything changed lies within the face's neighbourhood ...
    assert xs.min() > 130 and xs.max() < 320 and ys.min() > 20 and ys.max() < 230
    # ... the far background is untouched bit for bit, and the face centre is the pasted face
    assert np.array_equal(out[300:], astronaut[300:]) and np.array_equal(out[:, :120], astronaut[:, :120])
    assert out[120, 225].max() == 0


def test_feather_mask_is_one_inside_zero_at_the_border_and_smooth():
    m = feather_mask(256)
    assert m[128, 128] == 1.0
    assert m[0].max() == 0 and m[-1].max() == 0 and m[:, 0].max() == 0 and m[:, -1].max() == 0
    assert np.abs(np.diff(m, axis=1)).max() < 0.06
