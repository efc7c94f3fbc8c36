import numpy as np
import pytest

from facestyle.style.procedural import STYLES


@pytest.mark.parametrize("name", sorted(STYLES))
def test_a_procedural_style_changes_the_photo_and_keeps_its_face(name, astronaut, runtime):
    out = STYLES[name](astronaut)
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    assert np.abs(out.astype(float) - astronaut).mean() > 8  # a visible change, not the photo
    faces = runtime.stylizer.detect(out)
    assert faces, f"{name}: MTCNN lost the face"
    box = runtime.stylizer.detect(astronaut)[0].box
    assert np.abs(faces[0].box - box).max() < 20  # the same face, where it was
