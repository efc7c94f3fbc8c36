"""/videos: a video file in, a job on the queue, the stylized MP4 (H.264, audio copied) out."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Annotated

import redis
from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel
from rq import Callback, Retry
from starlette.concurrency import run_in_threadpool

from facestyle.jobs import on_video_failure, stylize_video_job
from facestyle.video import VideoError, probe
from service.deps import CallerDep, QueueDep, RuntimeDep, SettingsDep, StoreDep, VideosDep
from service.errors import ERROR_RESPONSES, APIError
from service.routers.styles import get_style

router = APIRouter(prefix="/videos", tags=["videos"])


class VideoOut(BaseModel):
    id: str
    style: str
    strength: float
    status: str  # queued | processing | done | failed
    progress: float
    error: str | None = None
    job: str
    created: float
    frames: int
    seconds: float
    fps: float


def _probe_bytes(data: bytes):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return probe(Path(f.name))


@router.post("", status_code=202, response_model=VideoOut, responses=ERROR_RESPONSES)
async def create_video(videos: VideosDep, rt: RuntimeDep, store: StoreDep, queue: QueueDep, settings: SettingsDep,
                       caller: CallerDep, video: Annotated[UploadFile, File(description="a video file (MP4, MOV, WebM, ...)")],
                       style: Annotated[str, Form()],
                       strength: Annotated[float, Form(ge=0.0, le=1.0)] = 1.0):
    get_style(store, style, rt, caller=caller)
    data = await video.read(settings.max_video_bytes + 1)
    if not data:
        raise APIError(400, "empty_file", "the upload is empty")
    if len(data) > settings.max_video_bytes:
        raise APIError(413, "too_large", f"video exceeds {settings.max_video_bytes} bytes")
    try:
        info = await run_in_threadpool(_probe_bytes, data)
    except VideoError as exc:
        raise APIError(exc.status, exc.code, exc.message) from exc
    if info.seconds > settings.max_video_seconds:
        raise APIError(413, "too_long", f"video is {info.seconds:.1f} s; the limit is {settings.max_video_seconds:.0f} s")
    if info.width * info.height > settings.max_video_pixels:
        raise APIError(413, "too_many_pixels", f"video is {info.width}x{info.height}; the limit is {settings.max_video_pixels} pixels")
    job_id = uuid.uuid4().hex
    try:
        meta = videos.create(style, strength, data, job_id, {"frames": info.frames, "seconds": info.seconds, "fps": info.fps},
                             owner=caller.name)
        queue.enqueue(stylize_video_job, meta["id"], videos.prefix, job_id=job_id, job_timeout=settings.job_timeout,
                      retry=Retry(max=settings.job_retries) if settings.job_retries else None,
                      on_failure=Callback(on_video_failure), description=f"stylize video {meta['id']}")
    except redis.RedisError as exc:
        raise APIError(503, "unavailable", f"queue unavailable: {exc}") from exc
    return meta


def _owned_video(videos, video_id: str, caller) -> dict:
    """The caller's video; another key's is a 404 like an unknown id."""
    meta = videos.get(video_id)
    if meta is None or not caller.owns(meta["owner"]):
        raise APIError(404, "video_not_found", f"no video {video_id!r}")
    return meta


@router.get("/{video_id}", response_model=VideoOut, responses=ERROR_RESPONSES)
def read_video(videos: VideosDep, video_id: str, caller: CallerDep):
    return _owned_video(videos, video_id, caller)


@router.get("/{video_id}/result", response_class=Response, responses={200: {"content": {"video/mp4": {}}}, **ERROR_RESPONSES})
def video_result(videos: VideosDep, video_id: str, caller: CallerDep):
    meta = _owned_video(videos, video_id, caller)
    if meta["status"] != "done":
        raise APIError(409, "not_ready", f"video is {meta['status']}", status=meta["status"])
    return Response(videos.result(video_id) or b"", media_type="video/mp4",
                    headers={"Content-Disposition": f'attachment; filename="{video_id}.mp4"'})
