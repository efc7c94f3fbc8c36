"""Faults with real processes: a redis-server of this module's own (append-only file, appendfsync everysec, as
the compose file runs it), two `facestyle worker` processes and `facestyle serve` with API keys.

- a worker SIGKILLed in the middle of an adaptation: its job is retried on the other worker and the style ends
  ready within RECOVERY_BOUND seconds of the kill (heartbeat 1 s, expiring after 3; maintenance every 2 s);
- Redis SIGKILLed and started again on its append-only file: the API answers 503 while it is away and recovers by
  itself, styles keep their heads and ready state, the job that was running is retried, the workers live on;
- a style record with truncated head bytes: 409 style_corrupt for that style, the others unaffected;
- the upload cap holds for a chunked body without Content-Length over real HTTP; limits are shared by replicas.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import redis
from rq.job import Job

from tests.processes import Stack, free_port, png

pytestmark = pytest.mark.integration

KEY = "fault-key-5f0c2a9e71"
OTHER = "other-key-0b8e44d1c3"
H = {"X-API-Key": KEY}
STEPS = 10  # ~0.7 s a step on one core of the 2-core Xeon; progress is written at steps 5 and 10
HEARTBEAT, MAINTENANCE = 1, 2
RECOVERY_BOUND = 60.0  # kill -> ready: heartbeat expiry (3 s) + maintenance (2 s) + the adaptation run again


class RedisServer:
    def __init__(self, workdir: Path):
        self.port, self.dir = free_port(), workdir
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                                      "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = redis.Redis.from_url(self.url)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if conn.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)  # a crash, not a shutdown: nothing is flushed on the way out
        self.proc.wait()


@pytest.fixture(scope="module")
def servers():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed (.ci/run installs it)")
    tmp = Path(tempfile.mkdtemp(prefix="facestyle-faults-"))
    rs = RedisServer(tmp)
    rs.start()
    stack = Stack({**os.environ, "REDIS_URL": rs.url, "FACESTYLE_DEVICE": "cpu", "FACESTYLE_MODEL": "lite",
                   "FACESTYLE_ADAPT_STEPS": str(STEPS), "FACESTYLE_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT),
                   "FACESTYLE_WORKER_MAINTENANCE_SECONDS": str(MAINTENANCE),
                   "FACESTYLE_API_KEYS": f"tenant:{KEY},other:{OTHER}", "FACESTYLE_RATE_LIMIT": "1000/second",
                   "FACESTYLE_MAX_UPLOAD_BYTES": "2000000", "OMP_NUM_THREADS": "1"}, tmp)
    stack.start("w1", "worker", "--name", "fault-w1")
    stack.start("w2", "worker", "--name", "fault-w2")
    stack.start("api", "serve", "--host", "127.0.0.1", "--port", str(stack.port))
    try:
        stack.wait_ready(workers=2)
        yield rs, stack
    finally:
        stack.stop_all()
        if rs.proc.poll() is None:
            rs.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def _register(c: httpx.Client, ref) -> dict:
    r = c.post("/styles", files={"image": ("r.png", png(ref), "image/png")}, headers=H)
    assert r.status_code == 202, r.text
    return r.json()


def _ready_styles(c: httpx.Client, refs: list) -> list[str]:
    """Ids of len(refs) ready styles of the key: those earlier tests left, else registered from refs."""
    ready = [s["id"] for s in c.get("/styles", headers=H).json() if s["id"] != "photo" and s["status"] == "ready"]
    for ref in refs[len(ready):]:
        ready.append(_register(c, ref)["id"])
    for sid in ready[: len(refs)]:
        _wait(c, sid, lambda b: b["status"] == "ready")
    return ready[: len(refs)]


def _wait(c: httpx.Client, sid: str, until, timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    body = None
    while time.time() < deadline:
        r = c.get(f"/styles/{sid}", headers=H)
        if r.status_code == 200:
            body = r.json()
            if until(body):
                return body
        time.sleep(0.1)
    raise TimeoutError(body)


def test_a_worker_killed_mid_adaptation_is_retried_on_another(servers, style_reference):
    rs, stack = servers
    conn = redis.Redis.from_url(rs.url)
    with httpx.Client(base_url=stack.url, timeout=60) as c:
        made = _register(c, style_reference)
        _wait(c, made["id"], lambda b: b["status"] == "adapting" and b["progress"] > 0)  # in the middle
        victim = Job.fetch(made["job"], connection=conn).worker_name
        name = {"fault-w1": "w1", "fault-w2": "w2"}[victim]
        stack.kill(name)
        killed = time.time()
        final = _wait(c, made["id"], lambda b: b["status"] in ("ready", "failed"), timeout=RECOVERY_BOUND + 60)
        recovery = time.time() - killed
        assert final["status"] == "ready" and final["progress"] == 1.0 and final["error"] is None, final
        job = Job.fetch(made["job"], connection=conn)
        assert job.worker_name != victim and job.get_status() == "finished"
        assert job.retries_left == 1  # one of its two retries went to the abandoned run
        print(f"\nworker SIGKILLed mid-adaptation: style ready {recovery:.1f} s after the kill")
        assert recovery < RECOVERY_BOUND
        r = c.post("/stylize", files={"image": ("r.png", png(style_reference), "image/png")},
                   data={"style": made["id"]}, headers=H)
        assert r.status_code == 200 and r.headers["x-faces"] == "1"
    stack.start(name, "worker", "--name", f"{victim}-restarted")  # back to two (it loads while the next test runs)


def test_redis_restarted_on_its_append_only_file_loses_nothing(servers, style_reference, astronaut):
    rs, stack = servers
    conn = redis.Redis.from_url(rs.url)
    with httpx.Client(base_url=stack.url, timeout=60) as c:
        ready = {"id": _ready_styles(c, [astronaut])[0]}
        head = conn.hget(f"facestyle:style:{ready['id']}", "head")
        running = _register(c, style_reference)
        _wait(c, running["id"], lambda b: b["status"] == "adapting" and b["progress"] > 0)
        time.sleep(1.2)  # past one everysec fsync: what a restart keeps is what the file had
        rs.kill()
        down = time.time()
        for path in ("/styles", f"/styles/{ready['id']}"):
            t0 = time.perf_counter()
            r = c.get(path, headers=H)
            assert r.status_code == 503 and r.json()["error"] == "unavailable", r.text
            assert r.headers["retry-after"] and time.perf_counter() - t0 < 5  # quickly, not hung
        assert c.get("/healthz").status_code == 200  # the process itself answers
        time.sleep(max(0.0, 3 - (time.time() - down)))  # past the running job's heartbeat expiry (3 s)
        rs.start()
        back = time.time()
        deadline = back + 30
        while c.get("/styles", headers=H).status_code != 200:  # the API recovers by itself
            assert time.time() < deadline, "the API did not recover"
            time.sleep(0.2)
        api_recovery = time.time() - back
        after = c.get(f"/styles/{ready['id']}", headers=H).json()
        assert after["status"] == "ready" and after["progress"] == 1.0
        assert conn.hget(f"facestyle:style:{ready['id']}", "head") == head  # the adapted head, byte for byte
        r = c.post("/stylize", files={"image": ("a.png", png(style_reference), "image/png")},
                   data={"style": ready["id"]}, headers=H)
        assert r.status_code == 200 and r.headers["x-faces"] == "1"
        final = _wait(c, running["id"], lambda b: b["status"] in ("ready", "failed"), timeout=RECOVERY_BOUND + 60)
        job_recovery = time.time() - back
        assert final["status"] == "ready" and final["error"] is None, final
        assert Job.fetch(running["job"], connection=conn).get_status() == "finished"
        print(f"\nRedis SIGKILLed for {back - down:.1f} s: API answering again {api_recovery:.1f} s after the "
              f"restart, the interrupted style ready {job_recovery:.1f} s after it")
    for name in ("w1", "w2", "api"):
        assert stack.procs[name].poll() is None, f"{name} died with Redis: {stack.log(name)[-6000:]}"
    stack.wait_ready(workers=2, timeout=60)


def test_a_corrupt_style_record_fails_alone(servers, style_reference, astronaut):
    rs, stack = servers
    conn = redis.Redis.from_url(rs.url)
    with httpx.Client(base_url=stack.url, timeout=60) as c:
        bad, good = _ready_styles(c, [style_reference, astronaut])
        key = f"facestyle:style:{bad}"
        conn.hset(key, "head", conn.hget(key, "head")[:-3])  # truncated head bytes
        f = {"image": ("a.png", png(style_reference), "image/png")}
        r = c.post("/stylize", files=f, data={"style": bad}, headers=H)
        assert r.status_code == 409 and r.json()["error"] == "style_corrupt" and "head" in r.json()["message"]
        body = c.get(f"/styles/{bad}", headers=H).json()
        assert body["status"] == "failed" and "corrupt" in body["error"]
        listed = {s["id"]: s["status"] for s in c.get("/styles", headers=H).json()}
        assert listed[bad] == "failed" and listed[good] == "ready"
        r = c.post("/stylize", files=f, data={"style": good}, headers=H)
        assert r.status_code == 200 and r.headers["x-faces"] == "1"
        assert c.delete(f"/styles/{bad}", headers=H).status_code == 204
        assert c.get(f"/styles/{bad}", headers=H).status_code == 404


def test_keys_and_ownership_over_http_and_the_key_is_not_logged(servers):
    rs, stack = servers
    with httpx.Client(base_url=stack.url, timeout=60) as c:
        assert c.get("/styles").status_code == 401 and c.get("/styles").json()["error"] == "unauthorized"
        mine = [s["id"] for s in c.get("/styles", headers=H).json()]
        theirs = [s["id"] for s in c.get("/styles", headers={"X-API-Key": OTHER}).json()]
        assert theirs == ["photo"] and len(mine) > 1
        assert c.get(f"/styles/{mine[1]}", headers={"X-API-Key": OTHER}).status_code == 404
        assert c.get(f"/styles/{mine[1]}?api_key={KEY}", headers=H).status_code == 200  # a key in a query string
    time.sleep(0.5)
    log = stack.log("api")
    assert f"/styles/{mine[1]}" in log  # the access log is on ...
    assert KEY not in log and OTHER not in log  # ... and holds no key, not even one sent in the query


def test_a_chunked_upload_over_the_cap_is_cut_off_over_real_http(servers):
    rs, stack = servers
    cap = 2_000_000 + 256 * 1024
    with socket.create_connection(("127.0.0.1", stack.port), timeout=30) as s:
        s.sendall(b"POST /upscale HTTP/1.1\r\nHost: x\r\nX-API-Key: " + KEY.encode() +
                  b"\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n")
        part = b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
        s.sendall(b"%x\r\n%s\r\n" % (len(part), part))  # a well-formed part whose file never ends
        sent, answer = 0, b""
        chunk = b"x" * 65536
        s.setblocking(False)
        while sent < 40 * cap and b"\r\n\r\n" not in answer:
            try:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.01)
            try:
                answer += s.recv(65536)
            except BlockingIOError:
                pass
        s.setblocking(True)
        while b"}" not in answer:
            more = s.recv(65536)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"too_large"' in answer
    assert sent < 10 * cap  # refused while the body was still coming, not after taking it all in


def test_rate_limits_are_shared_by_api_replicas_through_redis(servers):
    from fastapi.testclient import TestClient

    from facestyle.config import Settings
    from service.main import create_app

    rs, _ = servers
    cfg = dict(redis_url=rs.url, device="cpu", model="lite", api_keys=f"tenant:{KEY}", rate_limit="5/minute",
               key_prefix="replicas", queue_name="replicas")
    with TestClient(create_app(Settings(**cfg))) as a, TestClient(create_app(Settings(**cfg))) as b:
        codes = [c.get("/styles", headers=H).status_code for c in (a, b, a, b, a, b)]
        assert codes == [200] * 5 + [429]  # one allowance, counted in Redis, whichever replica answers
        r = a.get("/styles", headers=H)
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
