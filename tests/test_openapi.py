import json

from fastapi.testclient import TestClient

from facestyle.config import Settings
from service.main import create_app
from service.openapi import PATH, document


def test_committed_openapi_matches_the_app():
    assert PATH.exists(), "run: python -m service.openapi"
    assert PATH.read_text() == document(), "openapi/openapi.json drifted from the app: run python -m service.openapi"


def test_served_openapi_is_the_committed_one():
    with TestClient(create_app(Settings(redis_url=None, device="cpu", model="lite"))) as c:
        served = c.get("/openapi.json").json()
    assert served == json.loads(PATH.read_text())
    assert {"/styles", "/styles/{style_id}", "/stylize", "/upscale", "/healthz", "/readyz"} <= set(served["paths"])
