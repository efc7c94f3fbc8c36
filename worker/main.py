"""`facestyle worker`: an RQ SimpleWorker (no fork, so CUDA initialised in this process stays valid).

The model is loaded once, before the first job, and reused for every job this process runs.
"""

from __future__ import annotations

import logging

from redis import Redis
from rq import Queue, SimpleWorker

from facestyle.config import Settings, get_settings
from facestyle.runtime import runtime_for


def run(settings: Settings | None = None, burst: bool = False, name: str | None = None) -> bool:
    settings = settings or get_settings()
    if not settings.redis_url:
        raise SystemExit("facestyle worker needs REDIS_URL (the API's embedded mode runs its own worker)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runtime_for(settings)  # preload: the first job should not pay for it
    conn = Redis.from_url(settings.redis_url)
    worker = SimpleWorker([Queue(settings.queue_name, connection=conn)], connection=conn, name=name)
    return worker.work(burst=burst, with_scheduler=True)
