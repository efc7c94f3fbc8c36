import threading
import time

import pytest
import torch

from facestyle.batcher import MicroBatcher


def test_concurrent_faces_are_batched_and_each_gets_its_own_result():
    calls = []

    def run(x, heads):
        calls.append(len(x))
        time.sleep(0.01)
        return x * heads[:, :1, None, None]

    b = MicroBatcher(run, max_batch=4, max_wait=0.2)
    futs = [b.submit(torch.full((3, 2, 2), float(i)), torch.tensor([float(i + 1)])) for i in range(6)]
    results = [f.result(timeout=5) for f in futs]
    b.close()
    for i, r in enumerate(results):
        torch.testing.assert_close(r, torch.full((3, 2, 2), float(i * (i + 1))))
    assert calls[0] == 4 and sum(calls) == 6 and max(calls) <= 4


def test_an_error_reaches_every_waiting_request_and_the_batcher_survives():
    def run(x, heads):
        if (x < 0).any():
            raise ValueError("bad face")
        return x

    b = MicroBatcher(run, max_batch=2, max_wait=0.05)
    bad = [b.submit(torch.full((1,), -1.0), torch.zeros(1)), b.submit(torch.ones(1), torch.zeros(1))]
    for f in bad:
        with pytest.raises(ValueError):
            f.result(timeout=5)
    assert b.submit(torch.ones(1), torch.zeros(1)).result(timeout=5).item() == 1.0
    b.close()


def test_requests_from_many_threads_share_batches():
    b = MicroBatcher(lambda x, h: x + 1, max_batch=8, max_wait=0.05)
    out = {}

    def client(i):
        out[i] = b.submit(torch.tensor([float(i)]), torch.zeros(1)).result(timeout=5).item()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    b.close()
    assert out == {i: i + 1.0 for i in range(8)}
    assert max(b.batch_sizes) > 1


def test_pending_counts_faces_until_they_are_answered():
    release = threading.Event()
    b = MicroBatcher(lambda x, h: (release.wait(5), x)[1], max_batch=2, max_wait=0.0)
    assert b.pending == 0
    futs = b.submit_many([torch.ones(1)] * 3, [torch.zeros(1)] * 3) + [b.submit(torch.ones(1), torch.zeros(1))]
    assert b.pending == 4  # counted on submit, before the batcher thread takes them
    release.set()
    for f in futs:
        f.result(timeout=5)
    assert b.pending == 0
    bad = MicroBatcher(lambda x, h: 1 / 0, max_batch=2, max_wait=0.0)
    with pytest.raises(ZeroDivisionError):
        bad.submit(torch.ones(1), torch.zeros(1)).result(timeout=5)
    assert bad.pending == 0  # a failed batch is answered too
    b.close()
    bad.close()
