"""Real processes for the integration and fault tests: `facestyle serve` and `facestyle worker` on loopback."""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from PIL import Image


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(rgb) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


class Stack:
    """facestyle processes sharing one environment; each one's output goes to a log file (a pipe nobody reads
    would fill and block it)."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log_dir = env, log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "facestyle.cli", *args], env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def kill(self, name: str) -> None:
        p = self.procs.pop(name)
        p.send_signal(signal.SIGKILL)
        p.wait()

    def stop(self, name: str) -> None:
        p = self.procs.pop(name)
        p.send_signal(signal.SIGINT)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def wait_ready(self, workers: int, timeout: float = 180) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name, p in self.procs.items():
                assert p.poll() is None, f"{name} exited: {self.log(name)[-2000:]}"
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200 and r.json()["workers"] >= workers:
                    return r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError("stack did not become ready")
