"""/styles: register a one-shot style from one reference picture, watch it adapt, list, delete."""

from __future__ import annotations

import io
import json
import uuid
from typing import Annotated, Literal

import redis
from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from PIL import Image
from pydantic import BaseModel
from rq import Callback, Retry
from rq.job import Job
from starlette.concurrency import run_in_threadpool

from facestyle.jobs import adapt_style, on_adapt_failure
from facestyle.exemplar import NoLandmarks
from facestyle.faces.landmarks import LandmarkError, parse_landmarks
from facestyle.runtime import png_bytes
from facestyle.style.colour import ColourTarget
from facestyle.style.store import PHOTO, CorruptStyle, Style, photo_style
from service.deps import CallerDep, OwnedStyleDep, QueueDep, RuntimeDep, SettingsDep, StoreDep, read_image, visible_style
from service.errors import ERROR_RESPONSES, APIError
from service.security import Caller

router = APIRouter(prefix="/styles", tags=["styles"])


class StyleOut(BaseModel):
    id: str
    name: str
    status: Literal["queued", "adapting", "ready", "failed"]
    progress: float
    error: str | None = None
    model: str
    job: str | None = None
    created: float


class StyleCreated(BaseModel):
    id: str
    name: str
    status: str
    job: str


def get_style(store, style_id: str, rt, *, caller: Caller) -> Style:
    """The style `caller` may use (the photo style for everyone); 404 for an unknown id or another key's style,
    409 style_corrupt for a record that cannot be read."""
    return visible_style(store, style_id, rt, caller).usable()


@router.post("", status_code=202, response_model=StyleCreated, responses=ERROR_RESPONSES)
async def create_style(rt: RuntimeDep, store: StoreDep, queue: QueueDep, settings: SettingsDep, caller: CallerDep,
                       image: Annotated[UploadFile, File(description="the one reference picture (must show a face)")],
                       name: Annotated[str | None, Form(max_length=200)] = None,
                       landmarks: Annotated[str | None, Form(
                           description="for a reference no detector reads: a JSON list of 68 [x, y] points in the "
                                       "picture's pixels, dlib/iBUG 68-point layout (jaw 0-16, brows 17-26, nose "
                                       "27-35, eyes 36-47, lips 48-67)", max_length=20_000)] = None):
    decoded = await read_image(image, settings)
    points = None
    if landmarks:
        try:
            points = parse_landmarks(json.loads(landmarks), decoded.rgb.shape[1], decoded.rgb.shape[0])
        except (json.JSONDecodeError, LandmarkError) as exc:
            msg = str(exc) if isinstance(exc, LandmarkError) else "landmarks must be JSON: a list of 68 [x, y] pairs"
            raise APIError(422, "invalid_field", f"landmarks: {msg}", field="landmarks") from exc
    try:
        exemplar = await run_in_threadpool(rt.exemplar.exemplar, decoded.rgb, points)
    except NoLandmarks as exc:
        raise APIError(422, "no_landmarks", str(exc)) from exc
    crop = rt.head_crop(exemplar)
    head = await run_in_threadpool(rt.instant_head, crop)
    colour = ColourTarget.of(crop)
    job_id = uuid.uuid4().hex
    name = name or (image.filename or "style").rsplit(".", 1)[0][:200]
    try:
        style = store.create(name, rt.model, head, png_bytes(crop), job=job_id, colour=colour, exemplar=exemplar,
                             owner=caller.name)
    except redis.RedisError as exc:
        raise APIError(503, "unavailable", f"style store unavailable: {exc}") from exc
    try:
        queue.enqueue(adapt_style, style.id, settings.adapt_steps, store.prefix, job_id=job_id,
                      job_timeout=settings.job_timeout, retry=Retry(max=settings.job_retries) if settings.job_retries else None,
                      on_failure=Callback(on_adapt_failure), description=f"adapt style {style.id}")
    except redis.RedisError as exc:
        store.delete(style.id, caller.name)  # nothing half-written: no style without its job
        raise APIError(503, "unavailable", f"queue unavailable: {exc}") from exc
    return StyleCreated(id=style.id, name=style.name, status=style.status, job=job_id)


@router.get("", response_model=list[StyleOut], responses=ERROR_RESPONSES)
def list_styles(store: StoreDep, rt: RuntimeDep, caller: CallerDep):
    """The built-in photo style and the caller's own (with keys configured, only the ones its key made)."""
    return [photo_style(rt.model).public()] + [s.public() for s in store.list(owner=caller.name)]


@router.get("/{style_id}", response_model=StyleOut, responses=ERROR_RESPONSES)
def read_style(style: OwnedStyleDep):
    return style.public()  # a corrupt record reads as failed, with the reason


@router.delete("/{style_id}", status_code=204, responses=ERROR_RESPONSES)
def delete_style(style: OwnedStyleDep, store: StoreDep, queue: QueueDep):
    if style.id == PHOTO:
        raise APIError(409, "builtin_style", "the photo style is built in and cannot be deleted")
    store.delete(style.id, style.owner)  # a running job sees the style gone at its next step and stops
    if style.job:
        try:
            job = Job.fetch(style.job, connection=queue.connection)
            if job.get_status(refresh=False) in ("queued", "deferred", "scheduled"):
                job.cancel()
        except Exception:  # the job may have expired or finished; the style is gone either way
            pass
    return Response(status_code=204)


class StyleScore(BaseModel):
    style: str
    score: float  # 0..1: the style's critic's belief that the picture is in the style
    faces: int  # faces scored (0: the picture's centre was scored)


@router.post("/{style_id}/score", response_model=StyleScore, responses=ERROR_RESPONSES)
async def score_style(style: OwnedStyleDep, store: StoreDep, rt: RuntimeDep, settings: SettingsDep,
                      image: Annotated[UploadFile, File(description="a picture to score against the style")]):
    if style.id == PHOTO:
        raise APIError(409, "no_critic", "the photo style has no critic")
    style_id = style.usable().id
    data = store.critic(style_id)
    if not data:
        raise APIError(409, "not_ready", "the style's critic is trained by its adaptation job; it is not done yet")
    from facestyle.style.critic import PatchCritic

    try:
        critic = PatchCritic.from_bytes(data)
    except Exception as exc:  # torch.load raises several kinds on damaged bytes; all mean the same here
        raise CorruptStyle(style_id, f"critic unreadable ({type(exc).__name__})") from exc
    decoded = await read_image(image, settings)
    score, faces = await run_in_threadpool(rt.style_score, critic, decoded.rgb)
    return StyleScore(style=style_id, score=score, faces=faces)


def _reference_png(exemplar_crop, stored_png: bytes | None, size: int | None) -> bytes:
    if exemplar_crop is not None:
        im = Image.fromarray(exemplar_crop)
    elif size is None:
        return stored_png  # already a PNG: send it as stored
    else:
        im = Image.open(io.BytesIO(stored_png)).convert("RGB")
    if size is not None and max(im.size) > size:
        im.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@router.get("/{style_id}/reference", response_class=Response, responses={
    200: {"content": {"image/png": {}}, "description": "the style's reference face as stored: the exemplar (the "
          "reference's face aligned at its own resolution, 256-1024 px); the uploaded picture itself is not kept"},
    **ERROR_RESPONSES})
async def style_reference(style: OwnedStyleDep, store: StoreDep,
                          size: Annotated[int | None, Query(ge=16, le=1024, description="at most this many pixels "
                                                            "on the longer side (a thumbnail)")] = None):
    style_id = style.id
    if style_id == PHOTO:
        raise APIError(404, "no_reference", "the photo style is built in and has no reference picture")
    exemplar = store.exemplar(style_id)
    stored = None if exemplar is not None else store.reference(style_id)  # a style from before exemplars
    if exemplar is None and not stored:
        raise APIError(404, "no_reference", f"style {style_id!r} has no stored reference")
    body = await run_in_threadpool(_reference_png, exemplar.crop if exemplar is not None else None, stored, size)
    # a style's reference never changes under its id
    return Response(body, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})
