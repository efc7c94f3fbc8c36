"""Dependencies as Annotated aliases: the app state built at startup, handed to routers."""

from __future__ import annotations

from typing import Annotated

import redis
from fastapi import Depends, Request, Security, UploadFile
from fastapi.security import APIKeyHeader
from redis import Redis
from rq import Queue
from starlette.concurrency import run_in_threadpool

from facestyle.config import Settings
from facestyle.imageio import DecodedImage, ImageError, decode_image
from facestyle.runtime import Runtime
from facestyle.style.store import PHOTO, Style, StyleStore, photo_style
from facestyle.video_store import VideoStore
from service.errors import APIError
from service.security import Caller, caller_of


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

# the gate (service/security.py) checks the key; declared here too so the OpenAPI document shows the scheme
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="api_key",
                        description="the API key, where the service has keys configured (FACESTYLE_API_KEYS)")


def _caller(request: Request, _key: Annotated[str | None, Security(_api_key)] = None) -> Caller:
    return caller_of(request.scope)


CallerDep = Annotated[Caller, Depends(_caller)]


def visible_style(store: StyleStore, style_id: str, rt: Runtime, caller: Caller) -> Style:
    """The style as `caller` may see it, or the built-in photo style (everyone's). Another key's style is a 404,
    the same answer as an unknown id, so that a caller cannot learn which ids exist. A record that cannot be
    read comes back marked corrupt (Style.usable refuses it) so it can still be read and deleted."""
    if style_id == PHOTO:
        return photo_style(rt.model)
    try:
        style = store.get(style_id)
    except redis.RedisError as exc:
        raise APIError(503, "unavailable", f"style store unavailable: {exc}") from exc
    if style is None or not caller.owns(style.owner):
        raise APIError(404, "style_not_found", f"no style {style_id!r}")
    if not style.corrupt and style.model == rt.model and style.head is not None and style.head.numel() != rt.head_dim:
        style.corrupt = f"head has {style.head.numel()} values, the {rt.model} model takes {rt.head_dim}"
    return style


def _owned_style(style_id: str, store: StoreDep, rt: RuntimeDep, caller: CallerDep) -> Style:
    return visible_style(store, style_id, rt, caller)


OwnedStyleDep = Annotated[Style, Depends(_owned_style)]  # /styles/{style_id}/...: the caller's style, or 404


async def read_image(upload: UploadFile, settings: Settings, max_pixels: int | None = None) -> DecodedImage:
    """Read at most max_upload_bytes + 1 bytes (so an oversized upload is refused without holding it) and decode."""
    data = await upload.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise ImageError("too_large", f"upload exceeds {settings.max_upload_bytes} bytes", 413)
    return await run_in_threadpool(decode_image, data, max_bytes=settings.max_upload_bytes,
                                   max_pixels=max_pixels or settings.max_pixels)
