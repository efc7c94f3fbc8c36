"""When Redis is down or no worker runs: /healthz still answers, /readyz says why, requests get 503, not 500."""

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from facestyle.config import Settings
from service.main import create_app


def test_redis_down_is_503_and_not_ready(astronaut):
    app = create_app(Settings(redis_url="redis://127.0.0.1:1/0", device="cpu", model="lite"))
    with TestClient(app) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["redis"] is False and r.json()["weights"] is True
        for resp in (c.get("/styles"), c.get("/styles/abc")):
            assert resp.status_code == 503 and resp.json()["error"] == "unavailable"
        buf = io.BytesIO()
        Image.fromarray(np.asarray(Image.fromarray(astronaut).resize((256, 256)))).save(buf, format="PNG")
        r = c.post("/styles", files={"image": ("a.png", buf.getvalue(), "image/png")})
        assert r.status_code == 503 and r.json()["error"] == "unavailable"
        # the photo style needs no store: stylizing keeps working
        r = c.post("/stylize", files={"image": ("a.png", buf.getvalue(), "image/png")}, data={"style": "photo"})
        assert r.status_code == 200 and r.headers["x-faces"] == "1"


def test_no_worker_means_not_ready():
    import pytest
    import redis as redis_lib

    try:
        redis_lib.Redis.from_url("redis://127.0.0.1:6379/14").ping()
    except redis_lib.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    with TestClient(create_app(Settings(redis_url="redis://127.0.0.1:6379/14", device="cpu", model="lite",
                                        queue_name="noworkers"))) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["redis"] is True and r.json()["workers"] == 0
