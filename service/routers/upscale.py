"""/upscale: 4x super-resolution of the whole picture with the photo generator (tiled)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from facestyle.imageio import encode_image
from service.deps import RuntimeDep, SettingsDep, read_image
from service.routers.stylize import IMAGE_RESPONSES

router = APIRouter(tags=["upscale"])


@router.post("/upscale", responses=IMAGE_RESPONSES, response_class=Response)
async def upscale(rt: RuntimeDep, settings: SettingsDep, image: Annotated[UploadFile, File()],
                  format: Annotated[Literal["png", "jpeg", "webp"], Form()] = "png"):
    decoded = await read_image(image, settings, settings.max_upscale_pixels)
    out = await run_in_threadpool(rt.stylizer.upscale, decoded.rgb)
    body, media = await run_in_threadpool(encode_image, decoded, out, format)
    return Response(body, media_type=media, headers={"X-Scale": "4"})
