"""/stylize: every face in the picture, in a style, pasted back; the picture or JSON (faces + base64)."""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from facestyle.exemplar import guards
from facestyle.imageio import encode_image
from facestyle.pipeline import style_at
from service.deps import CallerDep, RuntimeDep, SettingsDep, StoreDep, read_image
from service.errors import ERROR_RESPONSES, APIError
from service.routers.styles import get_style

router = APIRouter(tags=["stylize"])

IMAGE_RESPONSES = {200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "application/json": {}},
                         "description": "the stylized picture (headers X-Faces, X-Faces-Weakened), or JSON with "
                                        "Accept: application/json (each face with the strength it was made at)"},
                   **ERROR_RESPONSES}


@router.post("/stylize", responses=IMAGE_RESPONSES, response_class=Response)
async def stylize(rt: RuntimeDep, store: StoreDep, settings: SettingsDep, caller: CallerDep,
                  image: Annotated[UploadFile, File(description="a photo with one or more faces")],
                  style: Annotated[str, Form(description="style id, or 'photo'")],
                  strength: Annotated[float, Form(ge=0.0, le=1.0)] = 1.0,
                  scale: Annotated[int, Form(description="1 keeps the size; 4 super-resolves the picture",
                                             json_schema_extra={"enum": [1, 4]})] = 1,
                  format: Annotated[Literal["png", "jpeg", "webp"], Form()] = "png",
                  on_no_face: Annotated[Literal["error", "passthrough"], Form()] = "error",
                  preserve_color: Annotated[bool, Form(description="keep the faces' own colours; take texture and tone")] = False,
                  keep_faces: Annotated[bool, Form(description="a face the style makes undetectable (pale line art on a "
                                                   "bright face) is made again with less of the style "
                                                   "(X-Faces-Weakened counts them), and one no longer the "
                                                   "person by dlib's face embedding gets more of their own "
                                                   "structure")] = True,
                  accept: Annotated[str | None, Header()] = None):
    if scale not in (1, 4):
        raise APIError(422, "invalid_field", "scale: must be 1 or 4", field="scale")
    st = get_style(store, style, rt, caller=caller)
    if st.model != rt.model:
        raise APIError(409, "style_model_mismatch", f"style was made for the {st.model} model; this service runs {rt.model}")
    decoded = await read_image(image, settings, settings.max_upscale_pixels if scale == 4 else None)
    faces = await run_in_threadpool(rt.stylizer.detect, decoded.rgb)
    if not faces and on_no_face == "error":
        raise APIError(422, "no_face", "no face found in the image (send on_no_face=passthrough to get it back unchanged)")
    exemplar = None
    if st.head is not None:  # a registered style: its faces are built from its reference (exemplar.py)
        exemplar = store.exemplar(st.id)
        if exemplar is None:
            raise APIError(409, "style_outdated", "this style was stored before faces were built from the reference; "
                                                  "register it again (POST /styles with its reference picture)")
    kept: list[float] = []  # the share of the style each face got: keep_faces may weaken some
    if faces and exemplar is not None:
        out, _, kept = await run_in_threadpool(lambda: rt.exemplar.stylize(
            decoded.rgb, exemplar, strength, faces, preserve_color=preserve_color, **guards(keep_faces)))
        if scale == 4:  # faces built at their size in the picture, then the whole picture super-resolved
            out = await run_in_threadpool(rt.stylizer.upscale, out)
    elif faces:
        head, colour = style_at(rt.stylizer.photo_head, st.head, st.colour, strength)
        out, _, kept = await run_in_threadpool(lambda: rt.stylizer.stylize_keeping_faces(
            decoded.rgb, head, scale, faces, preserve_color=preserve_color, colour=colour, ladder=()))
    else:
        out = decoded.rgb if scale == 1 else await run_in_threadpool(rt.stylizer.upscale, decoded.rgb)
    body, media = await run_in_threadpool(encode_image, decoded, out, format)
    headers = {"X-Faces": str(len(faces)), "X-Style": st.id, "X-Faces-Weakened": str(sum(k < 1 for k in kept))}
    if accept and "application/json" in accept:
        return JSONResponse({"style": st.id, "strength": strength, "scale": scale, "faces": [f.to_json() | {"strength": round(strength * k, 4)} for f, k in zip(faces, kept)],
                             "width": out.shape[1], "height": out.shape[0], "media_type": media,
                             "image": base64.b64encode(body).decode()}, headers=headers)
    return Response(body, media_type=media, headers=headers)
