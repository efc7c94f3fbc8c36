import dataclasses

import numpy as np

from facestyle.eval.video import camera_clip, talking, warp_error


def test_mouths_from_still_inverts_to_still(astronaut, runtime):
    _, mouths = talking(astronaut, runtime.stylizer.detect(astronaut), n=7)
    yy, xx = np.mgrid[0:512:4, 0:512:4].astype(np.float32)
    t = 6  # the mouth wide open (period 12)
    assert np.abs(mouths.to_still(t, xx, yy)[1] - yy).max() > 8  # it moves the chin by pixels
    sx, sy = mouths.to_still(t, *mouths.from_still(t, xx, yy))
    assert np.abs(sx - xx).max() == 0 and np.abs(sy - yy).max() < 0.05


def test_talking_clip_compensates_the_mouths_known_motion(astronaut, runtime):
    """Flicker counts change that the known motion does not explain: a talking mouth is motion, so with it
    compensated the input's warp error is that of a rigid clip, and without it much larger."""
    talk = camera_clip(astronaut, runtime.stylizer.detect, n=13, talk=True)
    rigid = camera_clip(astronaut, runtime.stylizer.detect, n=13)
    err = warp_error(talk.frames, talk)
    camera_only = warp_error(talk.frames, dataclasses.replace(talk, mouths=None))
    assert err < 1.1 * warp_error(rigid.frames, rigid)
    assert camera_only > 1.3 * err


def test_ring_masks_surround_the_face_and_follow_the_camera(astronaut, runtime):
    clip = camera_clip(astronaut, runtime.stylizer.detect, n=8)
    for face, ring in zip(clip.face_masks, clip.ring_masks):
        assert ring.sum() > 2 * face.sum() and not (ring & face).any()
        ys, xs = np.nonzero(face)
        ry, rx = np.nonzero(ring)
        assert abs(ry.mean() - ys.mean()) < 0.2 * (ys.max() - ys.min())  # centred on the face
        assert rx.min() < xs.min() and rx.max() > xs.max()
    assert not np.array_equal(clip.ring_masks[0], clip.ring_masks[-1])  # the camera moved them
