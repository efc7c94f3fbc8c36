"""`facestyle worker`: an RQ SimpleWorker (no fork, so CUDA initialised in this process stays valid).

The model is loaded once, before the first job, and reused for every job this process runs.

A worker that dies in the middle of a job (SIGKILL, out of memory, a lost machine) leaves the job `started`
in Redis. RQ retries such an abandoned job in a worker's maintenance pass once the job's heartbeat has
expired; as RQ ships, a SimpleWorker's job holds a heartbeat of its whole timeout + 60 s (here 16 minutes) and
maintenance runs every 10 minutes, so a style could wait half an hour. Here a running job beats every
`job_heartbeat_seconds` (10) from a thread, expiring after three beats, and maintenance runs every
`worker_maintenance_seconds` (30), idle workers included: the job is back on the queue within about a minute
(3 x 10 + 30 s) and any worker, a restarted one too, takes it.

When Redis goes away the worker does not exit: it waits for Redis and starts working again (a job that was
running is then retried as an abandoned one).
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from redis import Redis
from rq import Queue, SimpleWorker
from rq.worker import WorkerStatus

from facestyle.config import Settings, get_settings
from facestyle.runtime import runtime_for

log = logging.getLogger(__name__)


class HeartbeatWorker(SimpleWorker):
    """A SimpleWorker whose running job keeps a short heartbeat, so that a dead worker's job is found soon."""

    max_connection_wait_time = 2.0  # rq backs off up to 60 s while Redis is away; come back within 2 s of it

    def __init__(self, *args, heartbeat: int = 10, maintenance: int = 30, **kwargs):
        # an idle worker blocks in its dequeue for worker_ttl - 15 s; maintenance runs between dequeues
        super().__init__(*args, job_monitoring_interval=heartbeat, maintenance_interval=maintenance,
                         worker_ttl=maintenance + 15, **kwargs)
        self.stopping = False

    def request_stop(self, signum, frame):
        self.stopping = True  # asked to stop (SIGINT/SIGTERM), not knocked out by Redis
        super().request_stop(signum, frame)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        return 3 * self.job_monitoring_interval

    def execute_job(self, job, queue):
        execution = self.prepare_execution(job)
        done = threading.Event()

        def beat() -> None:  # the job runs on this thread's sibling; torch and numpy release the GIL
            while not done.wait(self.job_monitoring_interval):
                try:
                    self.maintain_heartbeats(job, execution)
                except redis.RedisError as exc:
                    log.warning("job %s: heartbeat failed: %s", job.id, exc)

        beater = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        beater.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            done.set()
            beater.join()
        self.set_state(WorkerStatus.IDLE)


def _wait_for(conn: Redis) -> None:
    while True:
        try:
            conn.ping()
            return
        except redis.RedisError:
            time.sleep(0.5)


def run(settings: Settings | None = None, burst: bool = False, name: str | None = None) -> bool:
    settings = settings or get_settings()
    if not settings.redis_url:
        raise SystemExit("facestyle worker needs REDIS_URL (the API's embedded mode runs its own worker)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runtime_for(settings)  # preload: the first job should not pay for it
    conn = Redis.from_url(settings.redis_url)
    worked = False
    while True:
        worker = None
        try:  # making a worker talks to Redis too (it reads the server's version)
            worker = HeartbeatWorker([Queue(settings.queue_name, connection=conn)], connection=conn, name=name,
                                     heartbeat=settings.job_heartbeat_seconds,
                                     maintenance=settings.worker_maintenance_seconds)
            worked = worker.work(burst=burst, with_scheduler=True) or worked
        except redis.RedisError as exc:  # e.g. teardown, which could not reach Redis either
            log.warning("worker %s: Redis unavailable (%s)", name or "", exc)
        if burst or (worker is not None and worker.stopping):
            return worked
        log.warning("worker %s: lost Redis; waiting for it to come back", name or "")
        time.sleep(1)  # whatever knocked the loop out, do not spin on it
        _wait_for(conn)
        if worker is not None:
            try:  # the same name registers again only once this one is marked dead
                worker.register_death()
            except redis.RedisError:
                pass
