"""Video files over HTTP (embedded queue), the live WebSocket stream, and the video pipeline itself."""

import io
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from facestyle.config import Settings
from facestyle.video import VideoError, probe, stylize_video, write_clip
from service.main import create_app


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory, astronaut):
    small = np.asarray(Image.fromarray(astronaut).resize((256, 256)))
    frames = [np.roll(small, 2 * i, axis=1) for i in range(12)]
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    write_clip(path, frames, fps=12, audio_seconds=1.0)
    return path.read_bytes()


@pytest.fixture(scope="module")
def client():
    settings = Settings(redis_url=None, device="cpu", model="lite", adapt_steps=4, key_prefix="videotest",
                        max_video_seconds=5)
    with TestClient(create_app(settings)) as c:
        yield c


def test_video_pipeline_keeps_frames_and_audio(tmp_path, clip_bytes, runtime):
    src = tmp_path / "in.mp4"
    src.write_bytes(clip_bytes)
    stats = stylize_video(src, tmp_path / "out.mp4", runtime.stylizer, runtime.stylizer.photo_head, detect_every=4)
    info = probe(tmp_path / "out.mp4")
    assert stats.frames == 12 and info.frames == 12 and info.audio and (info.width, info.height) == (256, 256)
    assert stats.detector_calls == 3 and stats.faces == 12


def test_corrupt_video_is_refused(tmp_path, clip_bytes):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(clip_bytes[: len(clip_bytes) // 3][:200])
    with pytest.raises(VideoError) as e:
        probe(bad)
    assert e.value.code == "corrupt_video"


def test_video_job_over_http(client, clip_bytes):
    r = client.post("/videos", files={"video": ("c.mp4", clip_bytes, "video/mp4")}, data={"style": "photo"})
    assert r.status_code == 202, r.text
    vid = r.json()["id"]
    deadline = time.time() + 120
    while (body := client.get(f"/videos/{vid}").json())["status"] not in ("done", "failed") and time.time() < deadline:
        time.sleep(0.3)
    assert body["status"] == "done" and body["progress"] == 1.0, body
    res = client.get(f"/videos/{vid}/result")
    assert res.status_code == 200 and res.headers["content-type"] == "video/mp4"
    assert res.content[4:8] == b"ftyp"


@pytest.mark.parametrize("payload,form,status,code", [
    (b"", {"style": "photo"}, 400, "empty_file"),
    (b"definitely not a video", {"style": "photo"}, 422, "corrupt_video"),
    (None, {"style": "nope"}, 404, "style_not_found"),
    (None, {"style": "photo", "strength": "2"}, 422, "invalid_field"),
])
def test_bad_video_uploads(client, clip_bytes, payload, form, status, code):
    r = client.post("/videos", files={"video": ("c.mp4", clip_bytes if payload is None else payload, "video/mp4")}, data=form)
    assert r.status_code == status and r.json()["error"] == code, r.text


def test_too_long_a_video_is_413(client, astronaut, tmp_path):
    frames = [np.asarray(Image.fromarray(astronaut).resize((64, 64)))] * 70
    write_clip(tmp_path / "long.mp4", frames, fps=10)  # 7 s > the 5 s limit
    r = client.post("/videos", files={"video": ("l.mp4", (tmp_path / "long.mp4").read_bytes(), "video/mp4")},
                    data={"style": "photo"})
    assert r.status_code == 413 and r.json()["error"] == "too_long"
    assert client.get("/videos/nope").json()["error"] == "video_not_found"


def _jpeg(rgb):
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG")
    return buf.getvalue()


def test_stream_answers_stylized_frames_and_drops_stale_ones(client, astronaut):
    frame = _jpeg(np.asarray(Image.fromarray(astronaut).resize((320, 320))))
    with client.websocket_connect("/stream?style=photo") as ws:
        ws.send_bytes(frame)
        out = Image.open(io.BytesIO(ws.receive_bytes()))
        assert out.format == "JPEG" and out.size == (320, 320)
        for _ in range(8):  # faster than the server can stylize
            ws.send_bytes(frame)
        ws.send_text("stats")
        msgs = []
        while True:
            m = ws.receive()
            if m.get("text"):
                stats = __import__("json").loads(m["text"])
                break
            msgs.append(m)
    assert stats["received"] == 9 and stats["dropped"] >= 1  # stale frames dropped, not queued


def test_stream_closes_cleanly_on_bad_frames_and_unknown_styles(client):
    with client.websocket_connect("/stream?style=photo") as ws:
        ws.send_bytes(b"not a jpeg")
        assert ws.receive_json()["error"] == "not_an_image"
        assert ws.receive()["code"] == 1003
    with client.websocket_connect("/stream?style=missing") as ws:
        assert ws.receive_json()["error"] == "style_not_found"
        assert ws.receive()["code"] == 1008


def test_generate_every_runs_the_generator_less_and_still_covers_every_frame(tmp_path, clip_bytes, runtime):
    src = tmp_path / "in.mp4"
    src.write_bytes(clip_bytes)
    b = runtime.stylizer.batcher
    n0 = b.faces_run
    stats = stylize_video(src, tmp_path / "o.mp4", runtime.stylizer, runtime.stylizer.photo_head, generate_every=3)
    assert stats.frames == 12 and stats.faces == 12
    assert b.faces_run - n0 == 4  # frames 0, 3, 6, 9
