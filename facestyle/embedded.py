"""The embedded default: an RQ SimpleWorker in a thread of the API process, on the same fakeredis server.

RQ installs signal handlers and uses SIGALRM for job timeouts, neither of which works off the main
thread: this worker skips the handlers and times jobs with a timer thread instead.
"""

from __future__ import annotations

import threading

from rq import Queue, SimpleWorker
from rq.timeouts import TimerDeathPenalty


class ThreadWorker(SimpleWorker):
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):  # not the main thread
        pass


class EmbeddedWorker:
    def __init__(self, conn, queue_name: str):
        self.worker = ThreadWorker([Queue(queue_name, connection=conn)], connection=conn)
        self.thread = threading.Thread(target=self._run, name="embedded-rq-worker", daemon=True)

    def _run(self) -> None:
        self.worker.work(with_scheduler=False, logging_level="WARNING")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.worker._stop_requested = True  # picked up at its next dequeue timeout
        self.thread.join(timeout=2)
