"""/healthz (the process answers) and /readyz (weights loaded, Redis reachable, a worker seen)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from rq import Worker

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz():
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request):
    state = request.app.state
    checks = {"weights": getattr(state, "runtime", None) is not None, "redis": False, "workers": 0}
    try:
        state.redis.ping()
        checks["redis"] = True
        checks["workers"] = len(Worker.all(connection=state.redis, queue=state.queue))
    except Exception as exc:  # report, never raise: readiness is a question, not an error
        checks["redis_error"] = str(exc)
    ready = checks["weights"] and checks["redis"] and checks["workers"] > 0
    return JSONResponse({"status": "ready" if ready else "not_ready", **checks}, status_code=200 if ready else 503)
