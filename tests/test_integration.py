"""Real parts end to end: redis-server, two `facestyle worker` processes, `facestyle serve` on a loopback port."""

import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import redis
from PIL import Image
from rq.job import Job

from tests.processes import Stack, png

REDIS_URL = os.environ.get("FACESTYLE_TEST_REDIS", "redis://127.0.0.1:6379/13")
pytestmark = pytest.mark.integration


def _redis_or_skip() -> redis.Redis:
    conn = redis.Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (.ci/run starts one)")
    return conn


@pytest.fixture(scope="module")
def stack():
    conn = _redis_or_skip()
    conn.flushdb()  # db 13 belongs to these tests
    log_dir = Path(tempfile.mkdtemp(prefix="facestyle-itest-"))
    s = Stack({**os.environ, "REDIS_URL": REDIS_URL, "FACESTYLE_QUEUE_NAME": "itest", "FACESTYLE_KEY_PREFIX": "itest",
               "FACESTYLE_ADAPT_STEPS": "6", "FACESTYLE_DEVICE": "cpu", "FACESTYLE_MODEL": "lite",
               "OMP_NUM_THREADS": "1"}, log_dir)
    s.start("w1", "worker", "--name", "itest-w1")
    s.start("w2", "worker", "--name", "itest-w2")
    s.start("api", "serve", "--host", "127.0.0.1", "--port", str(s.port))
    try:
        s.wait_ready(workers=2)
        yield s
    finally:
        s.stop_all()
        conn.flushdb()
        shutil.rmtree(log_dir, ignore_errors=True)


def _wait_status(client, sid, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = client.get(f"/styles/{sid}").json()
        if body["status"] in ("ready", "failed"):
            return body
        time.sleep(0.5)
    raise TimeoutError(body)


def test_styles_adapt_on_both_workers_and_stylize_two_faces(stack, astronaut, style_reference, two_faces):
    with httpx.Client(base_url=stack.url, timeout=120) as c:
        refs = [style_reference, astronaut, astronaut[:, ::-1].copy(), two_faces]
        created = []
        for i, ref in enumerate(refs):
            r = c.post("/styles", files={"image": (f"r{i}.png", png(ref), "image/png")}, data={"name": f"s{i}"})
            assert r.status_code == 202, r.text
            created.append(r.json())
        for body in created:
            final = _wait_status(c, body["id"])
            assert final["status"] == "ready" and final["progress"] == 1.0, final
        conn = redis.Redis.from_url(REDIS_URL)
        workers = {Job.fetch(b["job"], connection=conn).worker_name for b in created}
        assert workers == {"itest-w1", "itest-w2"}  # scale-out: both processes took jobs
        assert Job.fetch(created[0]["job"], connection=conn).meta["progress"] == 1.0

        r = c.post("/stylize", files={"image": ("two.png", png(two_faces), "image/png")},
                   data={"style": created[0]["id"], "format": "png"})
        assert r.status_code == 200 and r.headers["x-faces"] == "2"
        out = np.asarray(Image.open(io.BytesIO(r.content)))
        assert out.shape == two_faces.shape and np.abs(out.astype(int) - two_faces).mean() > 1

        small = np.asarray(Image.fromarray(astronaut).resize((64, 64)))
        r = c.post("/upscale", files={"image": ("s.png", png(small), "image/png")})
        assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (256, 256)

        assert c.delete(f"/styles/{created[1]['id']}").status_code == 204
        assert c.get(f"/styles/{created[1]['id']}").status_code == 404


def test_a_restarted_api_loses_nothing(stack, style_reference):
    with httpx.Client(base_url=stack.url, timeout=120) as c:
        sid = c.post("/styles", files={"image": ("r.png", png(style_reference), "image/png")}).json()["id"]
        assert _wait_status(c, sid)["status"] == "ready"
        before = c.get("/styles").json()
    stack.stop("api")
    stack.start("api", "serve", "--host", "127.0.0.1", "--port", str(stack.port))
    stack.wait_ready(workers=2)
    with httpx.Client(base_url=stack.url, timeout=120) as c:
        assert c.get("/styles").json() == before
        r = c.post("/stylize", files={"image": ("r.png", png(style_reference), "image/png")}, data={"style": sid})
        assert r.status_code == 200 and r.headers["x-faces"] == "1"


def test_a_style_deleted_while_adapting_ends_cleanly(stack, style_reference):
    conn = redis.Redis.from_url(REDIS_URL)
    with httpx.Client(base_url=stack.url, timeout=120) as c:
        body = c.post("/styles", files={"image": ("r.png", png(style_reference), "image/png")}).json()
        deadline = time.time() + 60
        while c.get(f"/styles/{body['id']}").json().get("status") == "queued" and time.time() < deadline:
            time.sleep(0.05)
        assert c.delete(f"/styles/{body['id']}").status_code == 204
        job = Job.fetch(body["job"], connection=conn)
        deadline = time.time() + 60
        while job.get_status() not in ("finished", "failed", "canceled") and time.time() < deadline:
            time.sleep(0.2)
        assert job.get_status() in ("finished", "canceled")
        assert c.get(f"/styles/{body['id']}").status_code == 404
        assert not conn.keys(f"itest:style:{body['id']}")


def test_a_video_job_runs_on_a_worker_process(stack, astronaut, tmp_path):
    from facestyle.video import probe, write_clip

    small = np.asarray(Image.fromarray(astronaut).resize((192, 192)))
    write_clip(tmp_path / "c.mp4", [np.roll(small, i, axis=1) for i in range(8)], fps=8, audio_seconds=0.5)
    with httpx.Client(base_url=stack.url, timeout=120) as c:
        r = c.post("/videos", files={"video": ("c.mp4", (tmp_path / "c.mp4").read_bytes(), "video/mp4")},
                   data={"style": "photo"})
        assert r.status_code == 202, r.text
        vid = r.json()["id"]
        deadline = time.time() + 120
        while (body := c.get(f"/videos/{vid}").json())["status"] not in ("done", "failed") and time.time() < deadline:
            time.sleep(0.3)
        assert body["status"] == "done", body
        (tmp_path / "out.mp4").write_bytes(c.get(f"/videos/{vid}/result").content)
    info = probe(tmp_path / "out.mp4")
    assert info.frames == 8 and info.audio
    worker = Job.fetch(body["job"], connection=redis.Redis.from_url(REDIS_URL)).worker_name
    assert worker in {"itest-w1", "itest-w2"}
