"""The FastAPI app. With REDIS_URL unset it embeds fakeredis and an in-process RQ worker thread."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from rq import Queue

from facestyle import __version__
from facestyle.config import Settings, get_settings
from facestyle.runtime import runtime_for
from facestyle.style.store import StyleStore
from facestyle.video_store import VideoStore
from service import errors, metrics, security
from service.routers import health, page, stream, styles, stylize, upscale, videos

log = logging.getLogger(__name__)


def connect(settings: Settings) -> tuple[Redis, object | None]:
    """A real Redis, or (embedded mode) a fakeredis with an in-process worker thread on the same server."""
    if settings.redis_url:
        # with Redis away a request gets its 503 within about a second (redis-py's default retries for ~10 s)
        return Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=10,
                              retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3)), None
    import fakeredis

    from facestyle.embedded import EmbeddedWorker

    conn = fakeredis.FakeRedis()
    return conn, EmbeddedWorker(conn, settings.queue_name)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.runtime = runtime_for(settings)
        app.state.redis, worker = connect(settings)
        app.state.queue = Queue(settings.queue_name, connection=app.state.redis)
        app.state.store = StyleStore(app.state.redis, settings.key_prefix)
        app.state.videos = VideoStore(app.state.redis, settings.key_prefix)
        if worker is not None:
            worker.start()
            log.info("embedded mode: fakeredis and an in-process worker (set REDIS_URL for a real queue)")
        yield
        if worker is not None:
            worker.stop()

    app = FastAPI(title="facestyle", version=__version__, lifespan=lifespan,
                  description="Real-time one-shot face stylization: register a style from one picture, "
                              "then stylize every face of any photo.")
    errors.install(app)
    security.install(app, settings)  # inside metrics: refused requests are counted too
    metrics.install(app)
    for r in (styles.router, stylize.router, upscale.router, videos.router, stream.router, health.router, page.router):
        app.include_router(r)
    return app
