"""The adaptation job under a real RQ worker (in this process, on fakeredis): progress, success, failure, retries."""

import fakeredis
import torch
from rq import Callback, Queue, Retry, SimpleWorker

from facestyle.jobs import adapt_style, on_adapt_failure
from facestyle.runtime import png_bytes
from facestyle.style.store import StyleStore


def _setup(runtime, reference_png):
    conn = fakeredis.FakeRedis()
    store = StyleStore(conn, "jt")
    style = store.create("s", "lite", runtime.stylizer.photo_head, reference_png, job="j1")
    q = Queue("jt", connection=conn)
    job = q.enqueue(adapt_style, style.id, 5, "jt", job_id="j1", retry=Retry(max=1), on_failure=Callback(on_adapt_failure))
    return conn, store, style, q, job


def test_the_job_adapts_the_head_and_reports_progress(runtime, style_reference):
    crop = runtime.reference_crop(style_reference)
    conn, store, style, q, job = _setup(runtime, png_bytes(crop))
    SimpleWorker([q], connection=conn).work(burst=True)
    done = store.get(style.id)
    assert (done.status, done.progress, done.error) == ("ready", 1.0, None)
    assert not torch.equal(done.head, runtime.stylizer.photo_head)
    job.refresh()
    assert job.meta["progress"] == 1.0 and job.return_value()["loss_last"] > 0


def test_a_failing_job_is_retried_then_recorded_on_the_style(runtime):
    conn, store, style, q, job = _setup(runtime, b"not a png")
    SimpleWorker([q], connection=conn).work(burst=True)
    failed = store.get(style.id)
    assert failed.status == "failed" and "UnidentifiedImageError" in failed.error
    job.refresh()
    assert job.get_status() == "failed" and job.retries_left == 0


def test_a_job_for_a_deleted_style_does_nothing(runtime, style_reference):
    conn, store, style, q, job = _setup(runtime, png_bytes(runtime.reference_crop(style_reference)))
    store.delete(style.id)
    SimpleWorker([q], connection=conn).work(burst=True)
    job.refresh()
    assert job.return_value() == {"style": style.id, "cancelled": True}
    assert conn.keys("jt:style:*") == []
