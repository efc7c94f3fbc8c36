import numpy as np
import torch

from facestyle.faces.detect import Face
from facestyle.tracking import FaceReuse, FaceTracker, OneEuroFilter

LM = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.8], [0.65, 0.8]])


def face_at(cx, cy, size=60.0, jitter=None):
    box = np.array([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2], np.float32)
    lm = box[:2] + LM * size
    if jitter is not None:
        lm = lm + jitter
    return Face(box, 0.99, lm.astype(np.float32))


class Script:
    """A fake detector that plays scripted faces per frame (and counts its calls)."""

    def __init__(self, frames):
        self.frames, self.i = frames, 0

    def __call__(self, rgb):
        return self.frames[int(rgb[0, 0, 0])]


def run(tracker, n):
    out = []
    for i in range(n):
        frame = np.full((4, 4, 3), i, np.uint8)
        out.append([(t.id, t.box.copy(), t.landmarks.copy()) for t in tracker.update(frame)])
    return out


def test_ids_are_stable_through_a_detection_gap():
    frames = [[face_at(100 + 3 * i, 120)] if not 10 <= i < 15 else [] for i in range(30)]
    tr = FaceTracker(Script(frames), detect_every=1, max_misses=8)
    out = run(tr, 30)
    ids = {tid for frame in out for tid, _, _ in frame}
    assert ids == {1}
    assert out[29] and abs((out[29][0][1][0] + out[29][0][1][2]) / 2 - (100 + 3 * 29)) < 6


def test_two_crossing_faces_keep_their_ids():
    frames = [[face_at(60 + 6 * i, 100), face_at(300 - 6 * i, 125)] for i in range(41)]
    tr = FaceTracker(Script(frames), detect_every=1)
    out = run(tr, 41)
    first = {tid: box[0] for tid, box, _ in out[0]}
    last = {tid: box[0] for tid, box, _ in out[-1]}
    assert set(first) == set(last) == {1, 2}
    left_mover = min(first, key=first.get)  # started on the left ...
    assert last[left_mover] == max(last.values())  # ... and ended on the right with the same id


def test_detection_runs_every_n_frames_and_tracks_follow_in_between():
    frames = [[face_at(100 + 2 * i, 120)] for i in range(50)]
    script = Script(frames)
    calls = []
    tr = FaceTracker(lambda rgb: calls.append(1) or script(rgb), detect_every=5, flow=False)
    out = run(tr, 50)
    assert len(calls) == 10 and tr.detector_calls == 10
    for i in (23, 38, 47):  # frames without detection (once two detections gave a velocity): the Kalman prediction keeps up with the motion
        cx = (out[i][0][1][0] + out[i][0][1][2]) / 2
        assert abs(cx - (100 + 2 * i)) < 4


def test_a_face_that_flow_loses_is_detected_again_early_but_not_every_frame():
    # 4x4 frames: flow has no texture to follow, so every track is lost after each frame
    frames = [[face_at(100 + 2 * i, 120)] for i in range(50)]
    tr = FaceTracker(Script(frames), detect_every=10)
    run(tr, 50)
    assert 5 < tr.detector_calls <= 25  # more than every 10th frame, at most every 2nd


def test_a_face_leaving_is_dropped_and_a_new_one_gets_a_new_id():
    frames = [[face_at(100, 100)] if i < 10 else [face_at(300, 100)] for i in range(30)]
    out = run(FaceTracker(Script(frames), detect_every=1, max_misses=3), 30)
    assert [t for t, _, _ in out[5]] == [1] and [t for t, _, _ in out[-1]] == [2]


def test_landmark_jitter_is_smoothed():
    rng = np.random.default_rng(0)
    frames = [[face_at(100, 100, jitter=rng.normal(0, 1.5, (5, 2)))] for _ in range(60)]
    out = run(FaceTracker(Script(frames), detect_every=1), 60)
    smoothed = np.array([f[0][2] for f in out[10:]])
    raw = np.array([frames[i][0].landmarks for i in range(10, 60)])
    assert smoothed.std(0).mean() < 0.5 * raw.std(0).mean()


def test_one_euro_follows_a_fast_move():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.5)
    for _ in range(10):
        f(np.zeros(2))
    ys = [f(np.array([50.0, 50.0]))[0] for _ in range(5)]
    assert ys[0] > 10 and ys[-1] > 45  # opens up for speed: little lag


def test_optical_flow_carries_landmarks_through_a_rotation_between_detections(astronaut):
    import cv2

    lm0 = np.array([[205.0, 101.7], [246.8, 103.7], [224.7, 129.0], [201.7, 139.2], [245.3, 141.9]])
    face0 = Face(np.array([181, 62, 268, 172], np.float32), 0.99, lm0.astype(np.float32))
    mats = [cv2.getRotationMatrix2D((256, 256), 1.5 * i, 1.0 + 0.004 * i) for i in range(12)]
    frames = [cv2.warpAffine(astronaut, m, (512, 512)) for m in mats]
    errors = {}
    for flow in (True, False):
        tr = FaceTracker(lambda rgb: [face0] if rgb is frames[0] else [], detect_every=100, flow=flow, smooth=False)
        for f in frames:
            tracks = tr.update(f)
        truth = lm0 @ mats[-1][:, :2].T + mats[-1][:, 2]
        errors[flow] = np.linalg.norm(tracks[0].landmarks - truth, axis=1).mean()
    assert errors[True] < 2.0 and errors[True] < 0.5 * errors[False], errors


def test_face_reuse_pastes_an_unchanged_face_again_until_its_age_runs_out():
    reuse = FaceReuse(every=3)
    lr = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    generated = []
    for frame in range(7):
        again, record = reuse.for_tracks([5])
        hit = again(0, lr.clone())
        if hit is None:
            generated.append(frame)
            record(0, np.full((256, 256, 3), frame, np.float32))
        else:
            assert hit[0, 0, 0] == generated[-1]  # the crop generated last, not another
        reuse.next_frame()
    assert generated == [0, 3, 6]
    assert (reuse.generated, reuse.reused) == (3, 4)


def test_face_reuse_generates_at_once_when_the_face_changes_and_never_across_tracks():
    reuse = FaceReuse(every=10)
    lr = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0)) * 0.5
    again, record = reuse.for_tracks([1])
    assert again(0, lr) is None
    record(0, np.zeros((256, 256, 3), np.float32))
    reuse.next_frame()
    again, record = reuse.for_tracks([1, 2])
    assert again(0, lr + 0.003) is not None  # a little noise or brightness: the same face
    mouth = lr.clone()
    mouth[:, 44:52, 26:38] += 0.3  # one small region moves a lot, the face's mean hardly (0.007)
    assert again(0, mouth) is None
    assert again(1, lr) is None  # another track's face is not this one's
    assert again(0, lr[:, :48, :48]) is None  # a size change (the face got smaller) is generated anew


def test_face_reuse_ignores_changes_outside_the_picture():
    """Near the frame's edge the crop's reflected border shifts with the camera; it is never pasted."""
    reuse = FaceReuse(every=10)
    lr = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(1)) * 0.5
    visible = torch.ones(64, 64, dtype=torch.bool)
    visible[:, 40:] = False  # the right part of the crop lies beyond the frame's edge
    again, record = reuse.for_tracks([1])
    assert again(0, lr, visible) is None
    record(0, np.zeros((256, 256, 3), np.float32))
    reuse.next_frame()
    again, _ = reuse.for_tracks([1])
    border = lr.clone()
    border[:, :, 44:] += 0.3
    assert again(0, border, visible) is not None  # only the reflected part changed
    assert again(0, border) is None  # the same change, had it been in the picture
    inside = lr.clone()
    inside[:, 20:30, 20:30] += 0.3
    assert again(0, inside, visible) is None


def test_visible_pixels_marks_the_part_of_the_crop_inside_the_picture():
    from facestyle.faces.align import alignment_matrix, visible_pixels

    face = face_at(20, 100)  # a face at the left edge of a 200x200 picture
    m = alignment_matrix(face.landmarks, 256)
    vis = visible_pixels(m, (200, 200, 3), 64, 4)
    assert vis.shape == (64, 64)
    assert not vis[:, 0].any() and vis[:, -1].all()  # left border outside, right border inside
    assert 0.3 < vis.mean() < 0.9
    assert visible_pixels(alignment_matrix(face_at(100, 100).landmarks, 256), (200, 200, 3), 64, 4).all()


def _texture(seed: int, size: int = 72) -> np.ndarray:
    import cv2

    noise = np.random.default_rng(seed).random((size, size, 3)).astype(np.float32)
    return cv2.GaussianBlur(noise, (0, 0), 2.0) * 2 - 0.5


def test_flow_blend_takes_away_what_the_motion_explains_and_keeps_new_content():
    import cv2

    from facestyle.tracking import flow_blend

    tex = _texture(0)
    last_lr, lr = tex[4:68, 4:68], tex[4:68, 2:66]  # the face moved 2 LR px to the right
    up = lambda x: cv2.resize(x, (x.shape[1] * 4, x.shape[0] * 4), interpolation=cv2.INTER_CUBIC) * 255  # noqa: E731
    t = lambda x: torch.from_numpy(np.ascontiguousarray(x.clip(0, 1))).permute(2, 0, 1)  # noqa: E731
    clean, last = up(lr), up(last_lr)
    noise = np.random.default_rng(1).normal(0, 10, clean.shape).astype(np.float32)  # the generator re-rendering
    new = clean + noise
    out = flow_blend(new, t(lr), last, t(last_lr), alpha=0.5)
    inner = (slice(24, 232), slice(24, 232))
    before = np.abs(new - clean)[inner].mean()
    after = np.abs(out - clean)[inner].mean()
    assert after < 0.65 * before, (before, after)  # about halved: the last output moved onto this one

    changed = lr.copy()
    changed[30:42, 30:42] = 1.0  # something new (teeth that appear): no flow explains it
    out = flow_blend(new, t(changed), last, t(last_lr), alpha=0.5)
    assert np.abs(out - new)[128:160, 128:160].mean() < 2.0  # taken as generated, not ghosted
    assert np.abs(out - new)[inner].mean() > 2.0  # while the rest is still blended


def test_face_reuse_blends_each_new_generation_with_the_last_output():
    reuse = FaceReuse(every=1, blend=0.5)
    lr = torch.from_numpy(_texture(2)[:64, :64].clip(0, 1)).permute(2, 0, 1).contiguous()
    outputs = []
    for frame in range(3):
        again, record = reuse.for_tracks([7])
        assert again(0, lr) is None  # every=1: generated each frame
        outputs.append(record(0, np.full((256, 256, 4), 100.0 * frame, np.float32)))  # RGB and the matte
        reuse.next_frame()
    assert np.allclose(outputs[0], 0)  # a new track: nothing to blend with
    assert 40 < outputs[1].mean() < 60  # half of 100, half of the last output (0)
    assert 115 < outputs[2].mean() < 135  # half of 200, half of the last output (~50)
    assert outputs[2].shape == (256, 256, 4) and np.allclose(outputs[2][..., 3], outputs[2][..., 0])  # matte too
