"""Load benchmark: `facestyle serve` with a real redis-server and one `facestyle worker`, driven by a bounded
httpx + asyncio client: N `POST /stylize` over a mix of one-face and group photos at each concurrency, once per
micro-batching setting (FACESTYLE_MAX_BATCH). Prints requests/s, faces/s, latency p50/p95/p99, errors by status,
the generator's mean batch size, and the api's and worker's memory (RSS and USS, psutil) sampled through the run.

    python scripts/bench_load.py --requests 2000 --concurrency 1,8,32 --batch 8,1 [--style photo] [--json F]

The photos come from the shared data (faces/single and faces/group; FACESTYLE_DATA to point elsewhere), each
fitted within --max-side px and sent as JPEG; they are read, never copied. `--style photo` (the default) runs
every face through the batched generator, which is what micro-batching is about; `--style reference.png`
registers that picture and stylizes with it (faces built from the reference, about a second a face on a CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facestyle.data import data_root  # noqa: E402

MB = 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_photos(max_side: int, singles: int) -> list[tuple[str, bytes, str]]:
    """(name, JPEG bytes, kind): `singles` one-face photos and every group photo, fitted within max_side."""
    root = data_root() / "faces"
    picks = [(p, "single") for p in sorted((root / "single").iterdir())[:singles]]
    picks += [(p, "group") for p in sorted((root / "group").iterdir())]
    out = []
    for path, kind in picks:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((max_side, max_side))
            buf = io.BytesIO()
            im.save(buf, format="JPEG", quality=90)
        out.append((path.name, buf.getvalue(), kind))
    return out


def mix(photos: list[tuple[str, bytes, str]], n: int, group_share: float) -> list[tuple[str, bytes, str]]:
    """A deterministic sequence of n photos, about group_share of them group photos."""
    singles = [p for p in photos if p[2] == "single"]
    groups = [p for p in photos if p[2] == "group"]
    every = max(1, round(1 / group_share)) if group_share > 0 else 0
    seq, si, gi = [], 0, 0
    for i in range(n):
        if every and i % every == every - 1:
            seq.append(groups[gi % len(groups)])
            gi += 1
        else:
            seq.append(singles[si % len(singles)])
            si += 1
    return seq


class Proc:
    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log = open(log_dir / f"{name}.log", "wb")
        self.p = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.ps = psutil.Process(self.p.pid)

    def memory(self) -> tuple[float, float, float]:
        """RSS and USS of the process, PSS of it and its children: the worker forks rq's scheduler, which
        shares the worker's pages copy-on-write, so those pages are in neither process's USS."""
        m = self.ps.memory_full_info()
        pss = m.pss
        for child in self.ps.children(recursive=True):
            try:
                pss += child.memory_full_info().pss
            except psutil.Error:  # gone between the listing and the read
                pass
        return m.rss / MB, m.uss / MB, pss / MB

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


@contextmanager
def redis_server(url: str | None, workdir: Path):
    if url:
        yield url
        return
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(workdir)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            if time.time() > deadline:
                raise TimeoutError("redis-server did not start")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        p.terminate()
        p.wait()


@contextmanager
def stack(redis_url: str, max_batch: int, log_dir: Path, extra_env: dict):
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "FACESTYLE_MAX_BATCH": str(max_batch), **extra_env}
    cli = [sys.executable, "-m", "facestyle.cli"]
    worker = Proc(f"worker-b{max_batch}", cli + ["worker"], env, log_dir)
    api = Proc(f"api-b{max_batch}", cli + ["serve", "--host", "127.0.0.1", "--port", str(port)], env, log_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300
        while True:
            for p in (worker, api):
                if p.p.poll() is not None:
                    raise RuntimeError(f"{p.name} exited; see {log_dir / (p.name + '.log')}")
            try:
                r = httpx.get(f"{url}/readyz", timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise TimeoutError("the stack did not become ready")
            time.sleep(0.5)
        yield url, api, worker
    finally:
        api.stop()
        worker.stop()


class Sampler(threading.Thread):
    """Memory of the api and the worker every `every` s, tagged with how many requests were done."""

    def __init__(self, procs: list[Proc], done: list[int], every: float = 0.5):
        super().__init__(daemon=True)
        self.procs, self.done, self.every = procs, done, every
        self.samples: list[dict] = []
        self.halt = threading.Event()

    def sample(self) -> None:
        row = {"done": self.done[0], "t": time.time()}
        for p in self.procs:
            row[p.name.split("-")[0]] = p.memory()
        self.samples.append(row)

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.sample()


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))]


async def drive(url: str, key: str | None, seq: list, concurrency: int, style: str, done: list[int],
                timeout: float) -> dict:
    latencies, statuses, faces = [], Counter(), 0
    nxt = iter(range(len(seq)))
    headers = {"X-API-Key": key} if key else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, headers=headers) as client:
        async def one_client() -> None:
            nonlocal faces
            for i in nxt:
                name, body, _ = seq[i]
                t0 = time.perf_counter()
                try:
                    r = await client.post("/stylize", files={"image": (name, body, "image/jpeg")},
                                          data={"style": style, "format": "jpeg", "on_no_face": "passthrough"})
                    statuses[r.status_code] += 1
                    if r.status_code == 200:
                        faces += int(r.headers.get("x-faces", 0))
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                latencies.append(time.perf_counter() - t0)
                done[0] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
        metrics = (await client.get("/metrics")).text
    batch = next((float(line.split()[-1]) for line in metrics.splitlines()
                  if line.startswith("facestyle_model_recent_batch_size ")), float("nan"))
    return {"requests": len(seq), "seconds": wall, "rps": len(seq) / wall, "faces": faces, "faces_per_s": faces / wall,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "statuses": dict(statuses), "mean_batch": batch}


def memory_summary(samples: list[dict], n: int, who: str) -> dict:
    """RSS and USS at the start, at 25% of the requests (the issue's 500th of 2,000) and at the end; growth from
    the 25% mark to the end."""
    if not samples:
        return {}
    quarter = next((s for s in samples if s["done"] >= n // 4), samples[-1])
    first, last = samples[0], samples[-1]
    growth = {k: (last[who][i] - quarter[who][i]) / quarter[who][i] for i, k in enumerate(("rss", "uss", "pss"))}
    return {"start": first[who], "quarter": quarter[who], "end": last[who], "peak_rss": max(s[who][0] for s in samples),
            "growth_rss": growth["rss"], "growth_uss": growth["uss"], "growth_pss": growth["pss"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000, help="POST /stylize requests at each concurrency")
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--batch", default="8,1", help="FACESTYLE_MAX_BATCH values, one stack each")
    ap.add_argument("--style", default="photo", help="'photo' (the generator) or a reference picture to register")
    ap.add_argument("--group-share", type=float, default=0.25, help="share of group photos in the mix")
    ap.add_argument("--singles", type=int, default=24, help="how many one-face photos to cycle through")
    ap.add_argument("--max-side", type=int, default=512, help="photos fitted within this many pixels")
    ap.add_argument("--redis-url", help="an existing Redis (default: start a redis-server for the run)")
    ap.add_argument("--device", default=os.environ.get("FACESTYLE_DEVICE", "auto"))
    ap.add_argument("--timeout", type=float, default=300.0, help="per request, seconds")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()

    if a.redis_url is None and shutil.which("redis-server") is None:
        raise SystemExit("redis-server not found: install it or pass --redis-url")
    photos = load_photos(a.max_side, a.singles)
    concurrencies = [int(c) for c in a.concurrency.split(",")]
    batches = [int(b) for b in a.batch.split(",")]
    seq = mix(photos, a.requests, a.group_share)
    key = "bench-key-0000000000"
    env = {"FACESTYLE_DEVICE": a.device, "FACESTYLE_API_KEYS": f"bench:{key}", "FACESTYLE_KEY_PREFIX": "bench",
           "FACESTYLE_QUEUE_NAME": "bench", "FACESTYLE_ADAPT_STEPS": "20"}
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?") if Path("/proc/cpuinfo").exists() else "?"
    print(f"{a.requests} requests a level over {len(photos)} photos ({sum(p[2] == 'group' for p in photos)} group), "
          f"{a.group_share:.0%} group; style {a.style}; {os.cpu_count()} cores, {cpu}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, redis_server(a.redis_url, Path(tmp)) as redis_url:
        for b in batches:
            with stack(redis_url, b, Path(tmp), env) as (url, api, worker):
                style = a.style
                if style != "photo":
                    r = httpx.post(f"{url}/styles", headers={"X-API-Key": key}, timeout=600,
                                   files={"image": (Path(style).name, Path(style).read_bytes(), "image/png")})
                    r.raise_for_status()
                    style = r.json()["id"]
                # warm-up: every photo once, so first-call costs (allocator, caches) are not measured
                asyncio.run(drive(url, key, [p for p in photos], 2, style, [0], a.timeout))
                for c in concurrencies:
                    done = [0]
                    sampler = Sampler([api, worker], done)
                    sampler.sample()
                    sampler.start()
                    run = asyncio.run(drive(url, key, seq, c, style, done, a.timeout))
                    sampler.halt.set()
                    sampler.join()
                    sampler.sample()
                    step = max(1, len(sampler.samples) // 40)
                    run |= {"batch": b, "concurrency": c,
                            "api": memory_summary(sampler.samples, a.requests, "api"),
                            "worker": memory_summary(sampler.samples, a.requests, "worker"),
                            # (requests done, api RSS, USS) through the run: whether memory levels off
                            "api_trace": [(s["done"], round(s["api"][0]), round(s["api"][1]))
                                          for s in sampler.samples[::step]]}
                    results.append(run)
                    print(row(run), flush=True)
    print()
    print(table(results))
    ratios = batching_ratios(results)
    if ratios:
        print()
        for c, r in ratios.items():
            print(f"concurrency {c}: max_batch {max(batches)} / {min(batches)} throughput ratio {r:.2f}x")
    if a.json:
        Path(a.json).write_text(json.dumps({"results": results, "ratios": ratios, "args": vars(a)}, indent=2))
    return 0


def _mem(m: dict) -> str:
    if not m:
        return "-"
    return (f"{m['quarter'][0]:.0f}->{m['end'][0]:.0f} / {m['quarter'][1]:.0f}->{m['end'][1]:.0f} / "
            f"{m['quarter'][2]:.0f}->{m['end'][2]:.0f} ({m['growth_rss']:+.1%} / {m['growth_uss']:+.1%} / "
            f"{m['growth_pss']:+.1%})")


def row(r: dict) -> str:
    errors = {k: v for k, v in r["statuses"].items() if k != 200}
    return (f"| {r['batch']} | {r['concurrency']} | {r['requests']} | {r['rps']:.2f} | {r['faces_per_s']:.2f} | "
            f"{r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} | {errors or 0} | {r['mean_batch']:.2f} | "
            f"{_mem(r['api'])} | {_mem(r['worker'])} |")


def table(results: list[dict]) -> str:
    head = ("| max batch | concurrency | requests | req/s | faces/s | p50 s | p95 s | p99 s | errors | mean batch | "
            "api MB RSS / USS / PSS, 25% -> end (growth) | worker MB RSS / USS / PSS with children, 25% -> end "
            "(growth) |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|")
    return "\n".join([head] + [row(r) for r in results])


def batching_ratios(results: list[dict]) -> dict:
    by = {(r["batch"], r["concurrency"]): r["rps"] for r in results}
    batches = sorted({r["batch"] for r in results})
    if len(batches) < 2:
        return {}
    lo, hi = batches[0], batches[-1]
    return {c: by[(hi, c)] / by[(lo, c)] for (b, c) in by if b == hi and (lo, c) in by}


if __name__ == "__main__":
    sys.exit(main())
