"""/stream: live stylization over a WebSocket. JPEG frames in, stylized JPEG frames out, one tracker each.
A text message "stats" answers {"received", "sent", "dropped"}.

When the client sends faster than frames can be stylized, only the newest waiting frame is kept: stale
frames are dropped, never queued, so latency stays at about one frame's processing time.
"""

from __future__ import annotations

import asyncio
import io

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from PIL import Image
from starlette.concurrency import run_in_threadpool

from facestyle.imageio import ImageError, decode_image
from facestyle.pipeline import style_at
from facestyle.tracking import FaceReuse, FaceTracker
from facestyle.style.store import CorruptStyle
from service.errors import APIError
from service.routers.styles import get_style
from service.security import caller_of

router = APIRouter(tags=["stream"])


def _jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@router.websocket("/stream")
async def stream(ws: WebSocket, style: str = "photo", strength: float = 1.0):
    state = ws.app.state
    rt, settings = state.runtime, state.settings
    await ws.accept()
    try:  # the key was checked by the gate (service/security.py); ownership is checked here
        st = get_style(state.store, style, rt, caller=caller_of(ws.scope))
        if not 0.0 <= strength <= 1.0:
            raise APIError(422, "invalid_field", "strength: must be within 0..1")
    except CorruptStyle as exc:
        await ws.send_json({"error": "style_corrupt", "message": str(exc)})
        await ws.close(code=1008, reason="style_corrupt")
        return
    except APIError as exc:
        await ws.send_json({"error": exc.code, "message": exc.message})
        await ws.close(code=1008, reason=exc.code)
        return
    head, colour = style_at(rt.stylizer.photo_head, st.head, st.colour, strength)
    tracker = FaceTracker(rt.stylizer.detect, detect_every=10)
    reuse = FaceReuse(settings.generate_every, blend=settings.temporal_blend)
    latest: dict = {"frame": None, "dropped": 0, "received": 0, "sent": 0}
    ready = asyncio.Event()
    closed = asyncio.Event()

    async def receive() -> None:
        try:
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                if msg.get("text") is not None:  # "stats": counters, for clients watching their latency
                    await ws.send_json({k: v for k, v in latest.items() if k != "frame"})
                    continue
                data = msg.get("bytes") or b""
                latest["received"] += 1
                if latest["frame"] is not None:
                    latest["dropped"] += 1  # the previous frame was never started: drop it
                latest["frame"] = data
                ready.set()
        except (WebSocketDisconnect, RuntimeError, KeyError):
            pass
        finally:
            closed.set()
            ready.set()

    def process(data: bytes) -> bytes:
        img = decode_image(data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_upscale_pixels * 4)
        tracks = tracker.update(img.rgb)
        again, record = reuse.for_tracks([t.id for t in tracks])
        out = rt.stylizer.stylize(img.rgb, head, faces=[t.face() for t in tracks], colour=colour,
                                  reuse=again, post=record)[0] if tracks else img.rgb
        reuse.next_frame()
        return _jpeg(out)

    receiver = asyncio.create_task(receive())
    try:
        while True:
            await ready.wait()
            ready.clear()
            if closed.is_set() and latest["frame"] is None:
                break
            data, latest["frame"] = latest["frame"], None
            if data is None:
                continue
            try:
                out = await run_in_threadpool(process, data)
            except ImageError as exc:
                await ws.send_json({"error": exc.code, "message": exc.message})
                await ws.close(code=1003, reason=exc.code)
                break
            if closed.is_set():
                break
            await ws.send_bytes(out)
            latest["sent"] += 1
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        receiver.cancel()
