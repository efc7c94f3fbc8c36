import numpy as np
import torch

from facestyle.style.detectable import FaceLikeness
from facestyle.style.texture import crop_tensor


def test_mtcnn_nets_score_an_aligned_face_as_a_face_and_a_blank_as_none(runtime, astronaut):
    likeness = runtime.face_likeness
    assert likeness is not None
    x0, y0, x1, y1 = likeness.box
    assert x1 - x0 == y1 - y0 and 0 <= x0 < x1 <= 256 and 0 <= y0 < y1 <= 256  # square, inside the crop
    face = crop_tensor(runtime.reference_crop(astronaut))
    blank = torch.full_like(face, 0.8)
    assert float(likeness(face)) < 0.2 < 2.0 < float(likeness(blank))


def test_the_likeness_loss_gives_the_pixels_a_gradient_that_makes_a_washed_out_face_findable(runtime, astronaut):
    likeness = runtime.face_likeness
    face = crop_tensor(runtime.reference_crop(astronaut))
    washed = (0.85 + (face - face.mean()) * 0.15).requires_grad_(True)  # pale, low contrast: line art's failure
    before = likeness(washed)
    before.backward()
    assert washed.grad is not None and washed.grad.abs().sum() > 0
    with torch.no_grad():
        stepped = washed - 0.02 * washed.grad.sign()
    assert float(likeness(stepped)) < before.item()


def test_of_aligned_finds_no_box_where_there_is_no_face(runtime):
    assert FaceLikeness.of_aligned(runtime.stylizer.detector, np.full((256, 256, 3), 200, np.uint8)) is None
