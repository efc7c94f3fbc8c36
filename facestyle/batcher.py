"""Micro-batching: faces from concurrent requests are gathered (up to max_batch, or max_wait) and run together.

Requests call submit() from worker threads and wait on the returned future; one thread owns the model,
so the event loop never runs a forward pass. On a GPU this is where batching pays; on a CPU it is neutral.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

import torch

RunBatch = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class MicroBatcher:
    def __init__(self, run_batch: RunBatch, max_batch: int = 8, max_wait: float = 0.01):
        self.run_batch, self.max_batch, self.max_wait = run_batch, max_batch, max_wait
        self._queue: queue.Queue = queue.Queue()
        self.batch_sizes: deque[int] = deque(maxlen=1024)  # recent batch sizes, for metrics and tests
        self.faces_run = 0  # total faces through the model (a long-running service must not keep a list)
        self._pending = 0  # faces submitted and not yet answered: the service's overload measure
        self._pending_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="micro-batcher", daemon=True)
        self._thread.start()

    def submit(self, x: torch.Tensor, head: torch.Tensor) -> Future:
        """x: (3,h,w) one face; head: (head_dim,). The future resolves to the (3,4h,4w) output.
        More faces may follow, so the batcher waits up to max_wait to gather them."""
        fut: Future = Future()
        self._add_pending([fut])
        self._queue.put(([(x, head, fut)], False))
        return fut

    def submit_many(self, xs: list[torch.Tensor], heads: list[torch.Tensor]) -> list[Future]:
        """All faces of one picture at once: nothing more is coming from this caller, so the batcher runs them
        with whatever else is already queued instead of waiting (a video frame does not pay max_wait)."""
        futs = [Future() for _ in xs]
        if futs:
            self._add_pending(futs)
            self._queue.put((list(zip(xs, heads, futs)), True))
        return futs

    @property
    def pending(self) -> int:
        """Faces waiting for the generator or in its current batch."""
        return self._pending

    def _add_pending(self, futs: list[Future]) -> None:
        with self._pending_lock:
            self._pending += len(futs)
        for f in futs:
            f.add_done_callback(self._done)

    def _done(self, _: Future) -> None:
        with self._pending_lock:
            self._pending -= 1

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is None:
                return
            items, complete = list(entry[0]), entry[1]
            deadline = time.monotonic() + self.max_wait
            while len(items) < self.max_batch:
                try:  # gather what is queued; wait for more only while a caller has said more may follow
                    nxt = self._queue.get_nowait() if complete else \
                        self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                items += nxt[0]
                complete = complete and nxt[1]
            # faces of one size run together; other sizes (a configured lr_size change) run as their own batch
            by_shape: dict[tuple, list] = {}
            for it in items:
                by_shape.setdefault(tuple(it[0].shape), []).append(it)
            for group in by_shape.values():
                for i in range(0, len(group), self.max_batch):
                    self._run(group[i : i + self.max_batch])

    def _run(self, group: list) -> None:
        try:
            out = self.run_batch(torch.stack([g[0] for g in group]), torch.stack([g[1] for g in group]))
            self.batch_sizes.append(len(group))
            self.faces_run += len(group)
            for (_, _, fut), y in zip(group, out):
                fut.set_result(y)
        except Exception as exc:  # hand the error to every waiting request instead of killing the thread
            for _, _, fut in group:
                if not fut.done():
                    fut.set_exception(exc)
