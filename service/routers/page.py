"""The web page at `/`: plain HTML, CSS and JavaScript shipped in service/page/, same origin, nothing fetched
from elsewhere. Not part of the OpenAPI document: the page is a client of the API, not the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from service.errors import APIError

PAGE = Path(__file__).resolve().parents[1] / "page"
# a fixed list, so no request path ever reaches the file system
ASSETS = {"app.js": "text/javascript", "style.css": "text/css", "icon.svg": "image/svg+xml"}

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
def index():
    # no-cache: revalidated (ETag) on every load, so an upgraded service never runs with a stale page
    return FileResponse(PAGE / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.api_route("/page/{name}", methods=["GET", "HEAD"])
def asset(name: str):
    if name not in ASSETS:
        raise APIError(404, "not_found", f"no page asset {name!r}")
    return FileResponse(PAGE / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
