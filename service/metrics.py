"""Prometheus metrics at /metrics: request latency by route and status, faces stylized, model batch sizes."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)


def install(app: FastAPI) -> None:
    registry = CollectorRegistry()
    latency = Histogram("facestyle_request_seconds", "HTTP request latency", ["route", "method", "status"],
                        registry=registry, buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
    faces = Counter("facestyle_faces_total", "faces found in /stylize requests", registry=registry)
    model_faces = Gauge("facestyle_model_faces_run", "faces through the generator since start", registry=registry)
    batch = Gauge("facestyle_model_recent_batch_size", "mean of the last 1024 generator batch sizes", registry=registry)

    @app.middleware("http")
    async def observe(request: Request, call_next):
        t0 = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        latency.labels(getattr(route, "path", "unmatched"), request.method, str(response.status_code)).observe(
            time.perf_counter() - t0)
        if request.url.path == "/stylize" and "x-faces" in response.headers:
            faces.inc(int(response.headers["x-faces"]))
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request):
        rt = getattr(request.app.state, "runtime", None)
        if rt is not None:
            b = rt.stylizer.batcher
            model_faces.set(b.faces_run)
            sizes = list(b.batch_sizes)
            batch.set(sum(sizes) / len(sizes) if sizes else 0)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
