"""Keys, ownership, rate limits, overload and the upload cap, in embedded mode (fakeredis, in-process worker) and
on the gate alone (ASGI messages). The same rules against real processes: tests/test_faults.py."""

import asyncio
import io
import json
import logging
import threading
import time

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image
from starlette.testclient import WebSocketDenialResponse

from facestyle.config import Settings
from service.main import create_app
from service.security import Caller, Gate, Keys

KEYS = "alice:alice-key-0123456789,bob:bob-key-9876543210"
ALICE, BOB = {"X-API-Key": "alice-key-0123456789"}, {"X-API-Key": "bob-key-9876543210"}


def png(rgb) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def settings(**kw) -> Settings:
    return Settings(redis_url=None, device="cpu", model="lite", adapt_steps=2, key_prefix="sectest", **kw)


def err(resp, status, code):
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == code and resp.json()["message"], resp.json()


@pytest.fixture(scope="module")
def small(astronaut):
    return np.asarray(Image.fromarray(astronaut).resize((192, 192)))


@pytest.fixture(scope="module")
def keyed(small, style_reference):
    """A keyed service with one style of alice's (registered through the API) and one made in open mode."""
    with TestClient(create_app(settings(api_keys=KEYS))) as c:
        r = c.post("/styles", files={"image": ("r.png", png(style_reference[::2, ::2].copy()), "image/png")},
                   data={"name": "alices"}, headers=ALICE)
        assert r.status_code == 202, r.text
        store, rt = c.app.state.store, c.app.state.runtime
        unowned = store.create("legacy", rt.model, rt.stylizer.photo_head, png(small))
        yield c, r.json()["id"], unowned.id


# --- keys ------------------------------------------------------------------------------------------------

def test_key_table_from_the_variable_and_the_file(tmp_path):
    f = tmp_path / "keys"
    f.write_text("# tenants\ncarol:c-key\n\n  dave : d-key  \n")
    s = Settings(api_keys="alice:a-key, bob:b-key", api_keys_file=f)
    assert s.api_key_table() == {"a-key": "alice", "b-key": "bob", "c-key": "carol", "d-key": "dave"}
    assert "a-key" not in repr(s) and "a-key" not in str(s.model_dump())  # SecretStr: printed settings hide keys
    assert Settings().api_key_table() == {}  # none configured: open mode
    for bad in ("alice", "alice:", ":key", "alice:k1,alice:k2", "alice:k1,bob:k1"):
        with pytest.raises(ValueError) as e:
            Settings(api_keys=bad).api_key_table()
        assert "k1" not in str(e.value) and "key" in str(e.value)  # the message never echoes a key
    with pytest.raises(OSError):
        Settings(api_keys_file=tmp_path / "missing").api_key_table()
    with pytest.raises(ValueError):
        Settings(rate_limit="ten per second")


def test_keys_match_exactly():
    keys = Keys({"secret-a": "alice", "secret-b": "bob"})
    assert keys.name_for("secret-a") == "alice" and keys.name_for("secret-b") == "bob"
    for wrong in (None, "", "secret-", "secret-a ", "SECRET-A", "secret-c"):
        assert keys.name_for(wrong) is None
    assert Keys({}).open and not keys.open


def test_a_missing_or_wrong_key_is_401_and_probes_stay_open(keyed, small, caplog):
    c, _, _ = keyed
    caplog.set_level(logging.DEBUG)
    f = {"image": ("a.png", png(small), "image/png")}
    for headers in ({}, {"X-API-Key": "alice-key-012345678"}, {"X-API-Key": "nope-wrong-key"}):
        err(c.get("/styles", headers=headers), 401, "unauthorized")
        err(c.post("/stylize", files=f, data={"style": "photo"}, headers=headers), 401, "unauthorized")
        err(c.get("/styles/photo", headers=headers), 401, "unauthorized")
        err(c.get("/no/such/route", headers=headers), 401, "unauthorized")  # ids and routes are not probed either
    assert c.get("/styles", headers=ALICE).status_code == 200
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/"):
        assert c.get(path).status_code == 200, path
    assert "X-API-Key" in c.get("/openapi.json").json()["components"]["securitySchemes"]["api_key"]["name"]
    assert "nope-wrong-key" not in caplog.text and "alice-key" not in caplog.text


def test_the_websocket_takes_the_key_in_the_query_and_refuses_without(keyed):
    c, sid, _ = keyed
    with pytest.raises(WebSocketDenialResponse) as denied:
        with c.websocket_connect("/stream?style=photo"):
            pass
    assert denied.value.status_code == 401 and denied.value.json()["error"] == "unauthorized"
    with pytest.raises(WebSocketDenialResponse):
        with c.websocket_connect("/stream?style=photo&api_key=wrong"):
            pass
    with c.websocket_connect("/stream?style=photo&api_key=bob-key-9876543210") as ws:
        ws.send_text("stats")
        assert ws.receive_json() == {"dropped": 0, "received": 0, "sent": 0}
    with c.websocket_connect(f"/stream?style={sid}", headers=ALICE) as ws:  # the header works too
        ws.send_text("stats")
        assert ws.receive_json()["received"] == 0


def test_the_key_is_taken_out_of_the_query_string_the_access_log_reads():
    scope = {"type": "websocket", "path": "/stream", "query_string": b"style=photo&api_key=s3cret&strength=0.5",
             "headers": []}
    assert Gate._take_key(scope) == "s3cret"
    assert scope["query_string"] == b"style=photo&strength=0.5"
    http = {"type": "http", "path": "/styles", "query_string": b"api_key=s3cret", "headers": []}
    assert Gate._take_key(http) is None and http["query_string"] == b""  # HTTP takes the header only


# --- ownership -------------------------------------------------------------------------------------------

def test_another_keys_style_is_404_everywhere(keyed, small, tmp_path):
    c, sid, _ = keyed
    f = {"image": ("a.png", png(small), "image/png")}
    assert c.get(f"/styles/{sid}", headers=ALICE).json()["name"] == "alices"
    err(c.get(f"/styles/{sid}", headers=BOB), 404, "style_not_found")
    missing = c.get("/styles/0123456789abcdef", headers=BOB)
    assert c.get(f"/styles/{sid}", headers=BOB).json()["message"] == missing.json()["message"].replace(
        "0123456789abcdef", sid)  # word for word the answer for an id that does not exist
    err(c.post("/stylize", files=f, data={"style": sid}, headers=BOB), 404, "style_not_found")
    err(c.post(f"/styles/{sid}/score", files=f, headers=BOB), 404, "style_not_found")
    err(c.get(f"/styles/{sid}/reference", headers=BOB), 404, "style_not_found")
    from facestyle.video import write_clip

    write_clip(tmp_path / "c.mp4", [small] * 2, fps=2)
    err(c.post("/videos", files={"video": ("c.mp4", (tmp_path / "c.mp4").read_bytes(), "video/mp4")},
               data={"style": sid}, headers=BOB), 404, "style_not_found")
    with c.websocket_connect(f"/stream?style={sid}", headers=BOB) as ws:
        assert ws.receive_json()["error"] == "style_not_found"
    err(c.delete(f"/styles/{sid}", headers=BOB), 404, "style_not_found")
    assert c.get(f"/styles/{sid}", headers=ALICE).status_code == 200  # bob's DELETE did nothing
    assert c.get(f"/styles/{sid}/reference", headers=ALICE).status_code == 200
    assert [s["id"] for s in c.get("/styles", headers=BOB).json()] == ["photo"]  # photo belongs to everyone
    assert [s["id"] for s in c.get("/styles", headers=ALICE).json()] == ["photo", sid]
    r = c.post("/stylize", files=f, data={"style": "photo"}, headers=BOB)
    assert r.status_code == 200 and r.headers["x-faces"] == "1"


def test_a_style_made_without_a_key_is_no_ones_once_keys_exist(keyed, small):
    c, _, unowned = keyed
    for who in (ALICE, BOB):
        err(c.get(f"/styles/{unowned}", headers=who), 404, "style_not_found")
        assert unowned not in [s["id"] for s in c.get("/styles", headers=who).json()]


def test_videos_belong_to_their_key(keyed, small, tmp_path):
    c, _, _ = keyed
    from facestyle.video import write_clip

    write_clip(tmp_path / "c.mp4", [small] * 2, fps=2)
    r = c.post("/videos", files={"video": ("c.mp4", (tmp_path / "c.mp4").read_bytes(), "video/mp4")},
               data={"style": "photo"}, headers=ALICE)
    assert r.status_code == 202, r.text
    vid = r.json()["id"]
    assert "owner" not in r.json()
    assert c.get(f"/videos/{vid}", headers=ALICE).status_code == 200
    err(c.get(f"/videos/{vid}", headers=BOB), 404, "video_not_found")
    err(c.get(f"/videos/{vid}/result", headers=BOB), 404, "video_not_found")


def test_open_mode_keeps_styles_made_without_a_key_usable(small, style_reference):
    with TestClient(create_app(settings())) as c:
        store, rt = c.app.state.store, c.app.state.runtime
        legacy = store.create("legacy", rt.model, rt.stylizer.photo_head, png(small))  # as stored before owners
        assert c.get(f"/styles/{legacy.id}").json()["name"] == "legacy"
        assert legacy.id in [s["id"] for s in c.get("/styles").json()]
        assert c.delete(f"/styles/{legacy.id}").status_code == 204


# --- corrupt records -------------------------------------------------------------------------------------

def test_a_corrupt_record_is_an_error_for_that_style_alone(small, style_reference):
    with TestClient(create_app(settings())) as c:
        f = {"image": ("a.png", png(small), "image/png")}
        ids = [c.post("/styles", files={"image": ("r.png", png(ref), "image/png")}).json()["id"]
               for ref in (style_reference[::2, ::2].copy(), small)]
        bad, good = ids
        deadline = time.time() + 120  # the jobs write the heads: corrupt them only once those are done
        while {c.get(f"/styles/{i}").json()["status"] for i in ids} != {"ready"} and time.time() < deadline:
            time.sleep(0.2)
        store = c.app.state.store
        head = store.r.hget(store.key(bad), "head")
        store.r.hset(store.key(bad), "head", head[: len(head) // 2 + 1])  # truncated, not whole float32s
        body = c.get(f"/styles/{bad}").json()
        assert body["status"] == "failed" and "corrupt" in body["error"] and "head" in body["error"]
        err(c.post("/stylize", files=f, data={"style": bad}), 409, "style_corrupt")
        err(c.post(f"/styles/{bad}/score", files=f), 409, "style_corrupt")
        with c.websocket_connect(f"/stream?style={bad}") as ws:
            assert ws.receive_json()["error"] == "style_corrupt"
        listed = {s["id"]: s["status"] for s in c.get("/styles").json()}
        assert listed[bad] == "failed" and listed[good] == "ready"
        assert c.post("/stylize", files=f, data={"style": good}).status_code == 200
        store.r.hset(store.key(bad), "head", head[: 4 * (len(head) // 8)])  # whole floats, the wrong number of them
        assert "values" in c.get(f"/styles/{bad}").json()["error"]
        err(c.post("/stylize", files=f, data={"style": bad}), 409, "style_corrupt")
        store.r.hset(store.key(good), "exemplar", b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # a damaged reference face
        err(c.post("/stylize", files=f, data={"style": good}), 409, "style_corrupt")
        assert c.delete(f"/styles/{bad}").status_code == 204  # a damaged style can still be removed
        err(c.get(f"/styles/{bad}"), 404, "style_not_found")


# --- rate limits -----------------------------------------------------------------------------------------

def test_rate_limits_count_per_key_and_answer_429_with_retry_after():
    with TestClient(create_app(settings(api_keys=KEYS, rate_limit="3/minute", style_rate_limit="1/hour"))) as c:
        assert [c.get("/styles", headers=ALICE).status_code for _ in range(3)] == [200] * 3
        r = c.get("/styles/photo", headers=ALICE)  # every request counts, whatever its route
        err(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert c.get("/styles", headers=BOB).status_code == 200  # bob has his own allowance
        assert c.get("/healthz").status_code == 200  # probes are not counted
        err(c.post("/styles", files={"image": ("e.png", b"", "image/png")}, headers=BOB), 400, "empty_file")
        r = c.post("/styles", files={"image": ("e.png", b"", "image/png")}, headers=BOB)  # a 2nd registration
        err(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) > 60  # the hourly window
        assert c.get("/styles", headers=BOB).status_code == 429  # 3 requests: the request limit now


def test_open_mode_limits_per_client_address():
    async def main():
        app = _App()
        gate = Gate(app, settings(rate_limit="2/minute"))
        statuses = []
        for address in ("10.0.0.1",) * 3 + ("10.0.0.2",):
            scope, receive, send, out, _ = _call(gate, app, path="/styles")
            scope["method"], scope["client"] = "GET", (address, 5000)
            await gate(scope, receive, send)
            statuses.append(out[0]["status"])
        return statuses

    assert asyncio.run(main()) == [200, 200, 429, 200]


# --- overload --------------------------------------------------------------------------------------------

def test_a_full_generator_queue_is_503_at_once(small):
    with TestClient(create_app(settings(max_queue=4))) as c:
        batcher = c.app.state.runtime.stylizer.batcher
        release, real = threading.Event(), batcher.run_batch
        batcher.run_batch = lambda x, h: (release.wait(30), real(x, h))[1]  # the generator stalls
        try:
            face = torch.zeros(3, 64, 64)
            held = batcher.submit_many([face] * 6, [batcher_head(c)] * 6)
            deadline = time.time() + 5
            while batcher.pending < 6 and time.time() < deadline:
                time.sleep(0.01)
            assert batcher.pending == 6
            t0 = time.perf_counter()
            r = c.post("/stylize", files={"image": ("a.png", png(small), "image/png")}, data={"style": "photo"})
            err(r, 503, "overloaded")
            assert r.headers["retry-after"] == "1" and time.perf_counter() - t0 < 1.0
            assert c.get("/styles").status_code == 200  # reading is not refused
        finally:
            release.set()
            batcher.run_batch = real
        for fut in held:
            fut.result(timeout=30)
        assert batcher.pending == 0
        assert c.post("/stylize", files={"image": ("a.png", png(small), "image/png")},
                      data={"style": "photo"}).status_code == 200


def batcher_head(c) -> torch.Tensor:
    return c.app.state.runtime.stylizer.photo_head


# --- the gate alone: in flight, and the body cap while it streams -----------------------------------------

class _State:
    pass


class _App:
    """A stand-in app that reads the whole body and answers 200 with the byte count."""

    def __init__(self):
        self.state, self.received, self.started = _State(), 0, asyncio.Event()
        self.hold: asyncio.Event | None = None

    async def __call__(self, scope, receive, send):
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                break
            self.received += len(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(self.received).encode()})


def _call(gate, app, path="/stylize", chunks=(b"",), headers=()):
    """Run one request through the gate; returns (status, body, bytes the client got to send)."""
    sent, out = {"n": 0}, []
    pending = list(chunks)

    async def receive():
        chunk = pending.pop(0)
        sent["n"] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(msg):
        out.append(msg)

    scope = {"type": "http", "method": "POST", "path": path, "headers": list(headers), "query_string": b"",
             "client": ("127.0.0.1", 1), "app": app}
    return scope, receive, send, out, sent


def test_a_chunked_upload_without_length_stops_at_the_cap():
    app = _App()
    gate = Gate(app, settings(max_upload_bytes=100_000))
    cap = 100_000 + 256 * 1024
    scope, receive, send, out, sent = _call(gate, app, chunks=[b"x" * 65536] * 40)  # 2.6 MB, no Content-Length
    asyncio.run(gate(scope, receive, send))
    start = next(m for m in out if m["type"] == "http.response.start")
    body = json.loads(next(m for m in out if m["type"] == "http.response.body")["body"])
    assert start["status"] == 413 and body["error"] == "too_large"
    assert len([m for m in out if m["type"] == "http.response.start"]) == 1  # the app's own answer was dropped
    assert sent["n"] <= cap + 65536  # reading stopped at the chunk that crossed the cap
    assert app.received <= cap  # the app never saw a byte past the cap


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    app = _App()
    gate = Gate(app, settings(max_upload_bytes=1000))
    scope, receive, send, out, sent = _call(gate, app, chunks=[b"x" * 10], headers=[(b"content-length", b"99999999")])
    asyncio.run(gate(scope, receive, send))
    assert out[0]["status"] == 413 and sent["n"] == 0 and not app.started.is_set()
    app2 = _App()  # under the cap: through, untouched
    gate2 = Gate(app2, settings())
    scope, receive, send, out, _ = _call(gate2, app2, chunks=[b"a" * 500, b"b" * 500])
    asyncio.run(gate2(scope, receive, send))
    assert out[0]["status"] == 200 and out[1]["body"] == b"1000"


def test_requests_in_flight_past_the_bound_are_503():
    async def main():
        app = _App()
        app.hold = asyncio.Event()
        gate = Gate(app, settings(max_inflight=2))
        calls = [_call(gate, app, path=p) for p in ("/stylize", "/upscale", "/styles", "/styles")]
        first = [asyncio.create_task(gate(*c[:3])) for c in calls[:2]]
        await asyncio.sleep(0.05)
        assert gate.inflight == 2
        await gate(*calls[2][:3])  # a third picture request: refused at once
        assert calls[2][3][0]["status"] == 503
        scope, receive, send, out, _ = _call(gate, app, path="/styles")
        scope["method"] = "GET"  # a read is not a picture request
        app.hold.set()
        await asyncio.gather(*first, gate(scope, receive, send))
        assert [c[3][0]["status"] for c in calls[:2]] == [200, 200] and out[0]["status"] == 200
        assert gate.inflight == 0

    asyncio.run(main())


def test_caller_ownership_rule():
    assert Caller(None, "1.2.3.4").owns(None) and Caller(None, "1.2.3.4").owns("alice")  # open: no tenants
    assert Caller("alice", "x").owns("alice") and not Caller("alice", "x").owns("bob")
    assert not Caller("alice", "x").owns(None)  # made before keys: nobody's once keys exist
    assert Caller(None, "1.2.3.4").limit_key == "addr:1.2.3.4" and Caller("a", "x").limit_key == "key:a"


def test_serve_warns_when_it_binds_a_network_address_without_keys(monkeypatch, capsys):
    import uvicorn

    from facestyle import cli

    assert cli.open_to_network("0.0.0.0", Settings()) and cli.open_to_network("192.168.1.5", Settings())
    assert cli.open_to_network("example.org", Settings())
    for host in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"):
        assert not cli.open_to_network(host, Settings()), host
    assert not cli.open_to_network("0.0.0.0", Settings(api_keys="a:k"))
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: None)
    monkeypatch.setattr(cli, "_settings", lambda: Settings())
    cli.main(["serve", "--host", "0.0.0.0", "--port", "1"])
    assert "without API keys" in capsys.readouterr().err
    cli.main(["serve", "--host", "127.0.0.1", "--port", "1"])
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(cli, "_settings", lambda: Settings(api_keys="broken"))
    with pytest.raises(SystemExit) as e:
        cli.main(["serve", "--host", "0.0.0.0", "--port", "1"])
    assert "name:key" in str(e.value.code)
