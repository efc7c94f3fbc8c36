"""Dependencies as Annotated aliases: the app state built at startup, handed to routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, UploadFile
from redis import Redis
from rq import Queue
from starlette.concurrency import run_in_threadpool

from facestyle.config import Settings
from facestyle.imageio import DecodedImage, ImageError, decode_image
from facestyle.runtime import Runtime
from facestyle.style.store import StyleStore
from facestyle.video_store import VideoStore


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _store(request: Request) -> StyleStore:
    return request.app.state.store


def _videos(request: Request) -> VideoStore:
    return request.app.state.videos


def _queue(request: Request) -> Queue:
    return request.app.state.queue


def _redis(request: Request) -> Redis:
    return request.app.state.redis


SettingsDep = Annotated[Settings, Depends(_settings)]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]
StoreDep = Annotated[StyleStore, Depends(_store)]
VideosDep = Annotated[VideoStore, Depends(_videos)]
QueueDep = Annotated[Queue, Depends(_queue)]
RedisDep = Annotated[Redis, Depends(_redis)]


async def read_image(upload: UploadFile, settings: Settings, max_pixels: int | None = None) -> DecodedImage:
    """Read at most max_upload_bytes + 1 bytes (so an oversized upload is refused without holding it) and decode."""
    data = await upload.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise ImageError("too_large", f"upload exceeds {settings.max_upload_bytes} bytes", 413)
    return await run_in_threadpool(decode_image, data, max_bytes=settings.max_upload_bytes,
                                   max_pixels=max_pixels or settings.max_pixels)
