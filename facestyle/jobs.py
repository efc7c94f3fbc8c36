"""RQ jobs. They live in the core library so the API's embedded worker and `facestyle worker` run the same code."""

from __future__ import annotations

import logging

from rq import get_current_job

from facestyle.config import get_settings
from facestyle.runtime import png_array, runtime_for
from facestyle.style.adapt import Cancelled
from facestyle.style.critic import PatchCritic
from facestyle.style.store import StyleStore

log = logging.getLogger(__name__)


def _runtime(model: str):
    return runtime_for(get_settings(), model)


def adapt_style(style_id: str, steps: int, prefix: str = "facestyle") -> dict:
    """Fine-tune a registered style's head from its instant estimate; progress goes to the style and job meta."""
    job = get_current_job()
    store = StyleStore(job.connection, prefix)
    style = store.get(style_id)
    if style is None:
        return {"style": style_id, "cancelled": True}
    rt = _runtime(style.model)
    crop = png_array(store.reference(style_id))
    if not store.update(style_id, status="adapting", progress=0.0, error=None):
        return {"style": style_id, "cancelled": True}

    def progress(step: int, total: int, loss: float) -> None:
        if step % 5 == 0 or step == total:
            store.update(style_id, progress=step / total)
            job.meta.update(progress=step / total, loss=loss)
            job.save_meta()

    def should_stop() -> bool:
        return not store.exists(style_id)

    critic = PatchCritic()
    try:
        head, history = rt.adapt(crop, style.head, steps, progress=progress, should_stop=should_stop, critic=critic,
                                 max_seconds=get_settings().adapt_seconds)
    except Cancelled:
        log.info("style %s deleted while adapting; stopped", style_id)
        return {"style": style_id, "cancelled": True}
    store.update(style_id, head=head, critic=critic.to_bytes(), status="ready", progress=1.0, error=None)
    return {"style": style_id, "steps": len(history), "loss_first": history[0]["loss"], "loss_last": history[-1]["loss"],
            "seconds": history[-1]["seconds"]}


def _failure(job, exc_type, exc_value) -> dict:
    """While RQ still retries, the item stays queued with the error noted; after the last try it failed."""
    return {"status": "queued" if job.retries_left else "failed", "error": f"{exc_type.__name__}: {exc_value}"}


def on_adapt_failure(job, connection, exc_type, exc_value, tb) -> None:
    style_id, prefix = job.args[0], (job.args[2] if len(job.args) > 2 else "facestyle")
    StyleStore(connection, prefix).update(style_id, **_failure(job, exc_type, exc_value))


def stylize_video_job(video_id: str, prefix: str = "facestyle") -> dict:
    """Stylize an uploaded video with its style (the instant or adapted head as it is now)."""
    import tempfile
    from pathlib import Path

    from facestyle.pipeline import style_at
    from facestyle.style.store import PHOTO
    from facestyle.video import stylize_video
    from facestyle.video_store import VideoStore

    job = get_current_job()
    videos = VideoStore(job.connection, prefix)
    meta = videos.get(video_id)
    data = videos.input(video_id)
    if meta is None or data is None:
        return {"video": video_id, "missing": True}
    styles = StyleStore(job.connection, prefix)
    style = None if meta["style"] == PHOTO else styles.get(meta["style"])
    if meta["style"] != PHOTO and style is None:
        videos.update(video_id, status="failed", error="the style was deleted")
        return {"video": video_id, "failed": "style deleted"}
    rt = _runtime(style.model if style else get_settings().resolved_model)
    head, colour = style_at(rt.stylizer.photo_head, style.head if style else None, style.colour if style else None,
                            meta["strength"])
    videos.update(video_id, status="processing")

    def progress(done: int, total: int) -> None:
        if done % 10 == 0:
            videos.update(video_id, progress=min(0.99, done / max(total, 1)))

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in", Path(tmp) / "out.mp4"
        src.write_bytes(data)
        stats = stylize_video(src, dst, rt.stylizer, head, progress=progress, colour=colour,
                              generate_every=get_settings().generate_every,
                              blend=get_settings().temporal_blend)
        videos.finish(video_id, dst.read_bytes())
    return {"video": video_id, "frames": stats.frames, "fps": stats.fps, "detector_calls": stats.detector_calls}


def on_video_failure(job, connection, exc_type, exc_value, tb) -> None:
    from facestyle.video_store import VideoStore

    video_id, prefix = job.args[0], (job.args[1] if len(job.args) > 1 else "facestyle")
    VideoStore(connection, prefix).update(video_id, **_failure(job, exc_type, exc_value))
