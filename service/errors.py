"""One error shape for every 4xx/5xx: {"error": code, "message": ...}; validation errors name the field."""

from __future__ import annotations

import logging

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from facestyle.imageio import ImageError
from facestyle.style.store import CorruptStyle

log = logging.getLogger(__name__)


class APIError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        self.status, self.code, self.message, self.extra = status, code, message, extra


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": code, "message": message, **extra}


ERROR_RESPONSES = {  # for the OpenAPI document
    status: {"description": desc, "content": {"application/json": {"example": error_body(code, desc)}}}
    for status, code, desc in [
        (400, "empty_file", "Bad request"), (401, "unauthorized", "Missing or wrong API key"),
        (404, "style_not_found", "Unknown resource"), (409, "style_model_mismatch", "Conflict"),
        (413, "too_large", "Upload or picture too large"), (422, "no_face", "Unusable input"),
        (429, "rate_limited", "Past the caller's rate limit (Retry-After)"),
        (503, "unavailable", "Redis unavailable, or overloaded (Retry-After)"),
    ]
}


def install(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api(_: Request, exc: APIError):
        return JSONResponse(error_body(exc.code, exc.message, **exc.extra), status_code=exc.status)

    @app.exception_handler(ImageError)
    async def _image(_: Request, exc: ImageError):
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(CorruptStyle)
    async def _corrupt(_: Request, exc: CorruptStyle):  # damaged bytes in Redis: that style alone is unusable
        log.warning("corrupt style record: %s", exc)
        return JSONResponse(error_body("style_corrupt", f"the stored style is corrupt ({exc.what}); delete it and "
                                                        "register it again", style=exc.style_id), status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errs = exc.errors()
        first = errs[0] if errs else {}
        field = ".".join(str(p) for p in first.get("loc", [])[1:]) or None
        code = "missing_field" if first.get("type") == "missing" else "invalid_field"
        msg = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg", "invalid request"))
        return JSONResponse(error_body(code, msg, field=field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(redis.RedisError)
    async def _redis(_: Request, exc: redis.RedisError):  # the store or queue is down: a server state, not a bug
        log.warning("redis unavailable: %s", exc)
        return JSONResponse(error_body("unavailable", f"style store or queue unavailable: {exc}"), status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "unexpected server error"), status_code=500)
