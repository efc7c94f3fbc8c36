"""`facestyle serve` as a child process on a free loopback port, for the page's browser tests and screenshots."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_server(env: dict[str, str] | None = None, timeout: float = 120):
    """Yields the base URL of a service on the embedded default (REDIS_URL unset: fakeredis, in-process worker)."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    child_env.update({"FACESTYLE_DEVICE": "cpu", "FACESTYLE_MODEL": "lite", **(env or {})})
    log = tempfile.TemporaryFile()  # a file, not a pipe: a pipe nobody reads fills up and stalls the server
    proc = subprocess.Popen([sys.executable, "-m", "facestyle.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=child_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def tail() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")[-3000:]

    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"facestyle serve exited: {tail()}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise TimeoutError(f"facestyle serve did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
