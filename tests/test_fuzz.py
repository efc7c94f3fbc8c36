"""schemathesis over the OpenAPI document as `facestyle serve` serves it (the committed openapi/openapi.json,
checked equal to the served one), with API keys configured: every operation, generated inputs (valid and not),
over real HTTP. No answer may be a 5xx, and every answer must be
one the document declares, with its declared content type, headers and schema.

Random ids and bytes alone only ever reach the 404 and not_an_image branches, so every other case is aimed:
the generated style id is swapped for a registered style (one from a photo, one registered with 68 random
points as its landmarks) or photo, the generated picture for a real one with a face, the video for a real
clip, and some landmarks for 68 random points; the other fields (strength, scale, format, name, size, ...) stay
as generated. (The style with random landmarks is how a 500 in the head region was found: OpenCV refused the
negative ellipse a right-to-left jaw made.) Bounded: FUZZ_EXAMPLES an operation (default 10), no shrinking: about a minute."""

import io
import itertools
import json
import os
import time
import zlib

import httpx
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.local import local_server
from service.openapi import PATH

KEY = "fuzz-key-3c1d9b7a55"
H = {"X-API-Key": KEY}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
BOUNDED = dict(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


def _png(rgb) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def served(astronaut, tmp_path_factory):
    """A served app with one style and one video of the fuzzer's key, and the bytes aimed cases send."""
    from facestyle.video import write_clip

    face = np.asarray(Image.fromarray(astronaut).resize((160, 160)))
    clip = tmp_path_factory.mktemp("fuzz") / "c.mp4"
    write_clip(clip, [np.roll(face[:96, :96], i, axis=1) for i in range(4)], fps=4)
    env = {"FACESTYLE_API_KEYS": f"fuzzer:{KEY}", "FACESTYLE_ADAPT_STEPS": "2", "FACESTYLE_MAX_UPLOAD_BYTES": "2000000",
           "FACESTYLE_MAX_UPSCALE_PIXELS": "100000", "FACESTYLE_MAX_VIDEO_BYTES": "2000000", "OMP_NUM_THREADS": "1"}
    with local_server(env) as url, httpx.Client(base_url=url, timeout=120, headers=H) as c:
        sid = c.post("/styles", files={"image": ("r.png", _png(face), "image/png")}).json()["id"]
        # and one registered with 68 points in no face's order (sent landmarks are taken as given)
        odd = json.dumps(np.random.default_rng(7).uniform(0, 159, (68, 2)).round(1).tolist())
        made = c.post("/styles", files={"image": ("o.png", _png(face), "image/png")}, data={"landmarks": odd})
        assert made.status_code == 202, made.text
        odd_id = made.json()["id"]
        vid = c.post("/videos", files={"video": ("c.mp4", clip.read_bytes(), "video/mp4")},
                     data={"style": "photo"}).json()["id"]
        deadline = time.time() + 120
        while any(c.get(f"/styles/{i}").json()["status"] not in ("ready", "failed") for i in (sid, odd_id)) \
                and time.time() < deadline:
            time.sleep(0.3)
        assert c.get("/openapi.json").json() == schema.raw_schema  # what is fuzzed is what is served
        yield {"url": url, "styles": [sid, odd_id, "photo"], "video": vid, "image": _png(face),
               "clip": clip.read_bytes()}


# loaded at import so that each operation is its own test (a fixture-loaded schema needs pytest < 9)
schema = schemathesis.openapi.from_path(str(PATH))
_turns: dict[tuple[str, str], itertools.count] = {}
# registering a style costs seconds on a CPU (landmarks, exemplar, instant head): aim fewer of those
AIM_EVERY = {("POST", "/styles"): 4}


def _aim(case, served) -> None:
    """Every other case of an operation: real ids and real bytes where it takes them."""
    op = (case.method.upper(), case.path)
    n = next(_turns.setdefault(op, itertools.count()))
    if n % AIM_EVERY.get(op, 2):
        return
    params = case.path_parameters or {}
    style = served["styles"][n // 2 % 3]
    if "style_id" in params:  # photo for DELETE: the registered styles must outlive the run
        params["style_id"] = "photo" if case.method.upper() == "DELETE" else style
    if "video_id" in params:
        params["video_id"] = served["video"]
    if isinstance(case.body, dict):
        if "landmarks" in case.body and n % 8 == 0:  # 68 points anywhere in the picture, in no face's order
            seed = zlib.crc32(repr(case.body["landmarks"]).encode())
            case.body["landmarks"] = json.dumps(np.random.default_rng(seed).uniform(0, 159, (68, 2)).round(1).tolist())
        if "style" in case.body:
            case.body["style"] = style
        if "image" in case.body:
            case.body["image"] = served["image"]
        if "video" in case.body:
            case.body["video"] = served["clip"]


@schema.parametrize()
@settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], **BOUNDED)
def test_no_server_errors_and_answers_as_documented(case, served):
    case.headers = {**(case.headers or {}), **H}  # a generated key would only ever meet the 401 (tested below)
    _aim(case, served)
    case.call_and_validate(base_url=served["url"], headers=H, checks=CHECKS, timeout=120)


@schema.parametrize()
@settings(max_examples=1, phases=[Phase.generate], **BOUNDED)
def test_a_wrong_key_is_401_on_every_operation(case, served):
    response = case.call(base_url=served["url"], headers={"X-API-Key": "not-the-key"}, timeout=120)
    if case.path in ("/healthz", "/readyz"):  # probes stay open
        assert response.status_code in (200, 503)
    else:
        assert response.status_code == 401 and response.json()["error"] == "unauthorized", response.text
    case.validate_response(response, checks=CHECKS)


def test_the_document_declares_the_key_and_the_refusals(served):
    doc = httpx.get(f"{served['url']}/openapi.json").json()
    assert doc["components"]["securitySchemes"]["api_key"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "the API key, where the service has keys configured (FACESTYLE_API_KEYS)"}
    for path, method in (("/stylize", "post"), ("/styles", "get"), ("/styles/{style_id}", "delete")):
        op = doc["paths"][path][method]
        assert {"api_key": []} in op["security"] and {"401", "429", "503"} <= set(op["responses"]), path
