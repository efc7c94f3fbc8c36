"""The embedded default: an RQ SimpleWorker in a thread of the API process, on the same fakeredis server.

RQ installs signal handlers and uses SIGALRM for job timeouts, neither of which works off the main
thread: this worker skips the handlers and times jobs with a timer thread instead.

An idle RQ worker loops on its dequeue and never looks at a stop request there; this one waits at most a
second a dequeue and leaves at the heartbeat before the next, so the API shuts down at once (it used to give
the thread 2 s and leave it blocked for the rest of a 405 s dequeue).
"""

from __future__ import annotations

import threading

from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.timeouts import TimerDeathPenalty


class ThreadWorker(SimpleWorker):
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):  # not the main thread
        pass

    def heartbeat(self, *args, **kwargs):
        # the bare call is the idle loop's, before each dequeue (and after a job): the moment to leave
        if self._stop_requested and not args and not kwargs:
            raise StopRequested()
        return super().heartbeat(*args, **kwargs)


class EmbeddedWorker:
    def __init__(self, conn, queue_name: str):
        # worker_ttl 16: dequeues wait 1 s (worker_ttl - 15), so a stop is seen within a second
        self.worker = ThreadWorker([Queue(queue_name, connection=conn)], connection=conn, worker_ttl=16)
        self.thread = threading.Thread(target=self._run, name="embedded-rq-worker", daemon=True)

    def _run(self) -> None:
        self.worker.work(with_scheduler=False, logging_level="WARNING")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.worker._stop_requested = True
        self.thread.join(timeout=5)  # a job in progress finishes first (up to its own timeout, past this join)
