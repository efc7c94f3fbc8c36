"""Who is calling, how often, how much: API keys, rate limits, overload and the upload cap.

One pure ASGI middleware (the gate) checks each request before any router sees it, so a refused request is
refused before its body is read: a wrong key, a client past its limit or a full generator queue costs the
service a header parse, not a 20 MB upload. What passes carries its `Caller` in the ASGI scope, which routers
take as a dependency (`service.deps.CallerDep`) to decide what the caller may see.

- Keys: `X-API-Key` (a WebSocket may send `?api_key=` instead, which is removed from the scope before anything
  logs the path). Compared in constant time, never logged. No keys configured: open mode.
- Limits (the `limits` package, moving window): counted in Redis when the service runs on one, so every API
  replica shares them; per key, or per client address in open mode.
- Overload: faces waiting for the generator past `max_queue`, or picture requests in this process past
  `max_inflight`: 503 at once.
- Upload cap: counted while the body streams, so a chunked upload without Content-Length stops at the cap.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import redis
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facestyle.config import Settings
from service.errors import error_body

CALLER = "facestyle.caller"  # the scope key the gate leaves the Caller under
KEY_HEADER = "x-api-key"
KEY_QUERY = "api_key"
# no tenant data behind these: probes, scrapers, the API's own description and the web page
OPEN_PATHS = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/"}
OPEN_PREFIXES = ("/page/",)
# the requests that run the models: what overload protects
HEAVY = [("POST", re.compile(p)) for p in (r"/stylize", r"/upscale", r"/styles", r"/styles/[^/]+/score", r"/videos")]
FORM_SLACK = 256 * 1024  # multipart framing and the small form fields around the one file


@dataclass(frozen=True)
class Caller:
    name: str | None  # the API key's name; None in open mode
    address: str

    def owns(self, owner: str | None) -> bool:
        """Whether this caller may see an item made by `owner`: in open mode every item (there are no tenants),
        with keys only its own."""
        return self.name is None or owner == self.name

    @property
    def limit_key(self) -> str:
        return f"key:{self.name}" if self.name is not None else f"addr:{self.address}"


OPEN = Caller(None, "local")


class Keys:
    """The configured keys. Each presented key is compared with every configured one (no early exit), by the
    SHA-256 of both so that the comparison's time does not even depend on the keys' lengths."""

    def __init__(self, table: dict[str, str]):
        self._digests = [(hashlib.sha256(k.encode()).digest(), name) for k, name in table.items()]

    @property
    def open(self) -> bool:
        return not self._digests

    def name_for(self, presented: str | None) -> str | None:
        digest = hashlib.sha256((presented or "").encode()).digest()
        found = None
        for d, name in self._digests:
            if hmac.compare_digest(digest, d):
                found = name
        return found if presented else None


class Limits:
    """The request and style-registration limits on one moving-window limiter. Storage: the service's Redis
    (shared by replicas) or, in embedded mode, this process's memory. A limiter is made per event loop,
    since an asyncio Redis pool belongs to the loop it was made on."""

    def __init__(self, settings: Settings):
        self.requests: list[RateLimitItem] = parse_many(settings.rate_limit) if settings.rate_limit else []
        self.styles: list[RateLimitItem] = parse_many(settings.style_rate_limit) if settings.style_rate_limit else []
        self.redis_url, self.prefix = settings.redis_url, settings.key_prefix
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limiter: MovingWindowRateLimiter | None = None

    def _get(self) -> MovingWindowRateLimiter:
        loop = asyncio.get_running_loop()
        if self._limiter is None or self._loop is not loop:
            if self.redis_url:
                url = re.sub(r"^(rediss?)://", r"async+\1://", self.redis_url)
                # short timeouts: with Redis away the answer is a quick 503, not a hung request
                storage = RedisStorage(url, implementation="redispy", socket_connect_timeout=2, socket_timeout=5)
            else:
                storage = MemoryStorage()
            self._limiter, self._loop = MovingWindowRateLimiter(storage), loop
        return self._limiter

    async def retry_after(self, items: list[RateLimitItem], who: str, what: str) -> int | None:
        """Count one hit against each limit; the seconds until the first refusing one has room, or None."""
        limiter = self._get() if items else None
        for item in items:
            if not await limiter.hit(item, self.prefix, what, who):
                stats = await limiter.get_window_stats(item, self.prefix, what, who)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None


class Gate:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings
        self.keys = Keys(settings.api_key_table())
        self.limits = Limits(settings)
        self.inflight = 0  # picture requests of this process being answered now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope.get("method", "GET")
        presented = self._take_key(scope)
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            scope[CALLER] = OPEN
            return await self._capped(scope, receive, send)
        address = (scope.get("client") or ("unknown", 0))[0]
        if self.keys.open:
            caller = Caller(None, address)
        else:
            name = self.keys.name_for(presented)
            if name is None:
                return await self._refuse(scope, send, 401, "unauthorized",
                                          "a valid API key is required (header X-API-Key)")
            caller = Caller(name, address)
        try:
            wait = await self.limits.retry_after(self.limits.requests, caller.limit_key, "requests")
            if wait is None and method == "POST" and path == "/styles":
                wait = await self.limits.retry_after(self.limits.styles, caller.limit_key, "styles")
        except redis.RedisError:  # the counters live in Redis: without it there is no answer to give yet
            return await self._refuse(scope, send, 503, "unavailable", "rate limit store unavailable", retry_after=5)
        if wait is not None:
            return await self._refuse(scope, send, 429, "rate_limited", f"too many requests; retry in {wait} s",
                                      retry_after=wait)
        scope[CALLER] = caller
        if not any(m == method and p.fullmatch(path) for m, p in HEAVY):
            return await self._capped(scope, receive, send)
        runtime = getattr(scope["app"].state, "runtime", None)
        queued = runtime.stylizer.batcher.pending if runtime is not None else 0
        if queued > self.settings.max_queue or self.inflight >= self.settings.max_inflight:
            return await self._refuse(scope, send, 503, "overloaded",
                                      f"busy ({queued} faces queued, {self.inflight} requests in progress); retry shortly",
                                      retry_after=1)
        self.inflight += 1
        try:
            await self._capped(scope, receive, send)
        finally:
            self.inflight -= 1

    @staticmethod
    def _take_key(scope: Scope) -> str | None:
        """The presented key: the header, or for a WebSocket `?api_key=`. The query parameter is taken out of
        the scope (the same dict the server's access log reads), so the key is never written to a log."""
        key = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == KEY_HEADER.encode()), None)
        qs = scope.get("query_string", b"")
        if KEY_QUERY.encode() in qs:
            pairs = parse_qsl(qs.decode("latin-1"), keep_blank_values=True)
            if scope["type"] == "websocket" and key is None:
                key = next((v for k, v in pairs if k == KEY_QUERY), None)
            scope["query_string"] = urlencode([(k, v) for k, v in pairs if k != KEY_QUERY]).encode("latin-1")
        return key

    def _cap(self, path: str) -> int:
        return (self.settings.max_video_bytes if path.startswith("/videos") else self.settings.max_upload_bytes) + FORM_SLACK

    async def _capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with the body counted as it arrives: past the cap the client gets 413 at once and the app
        sees the client gone (its own answer, if any, is dropped)."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = self._cap(scope["path"])
        length = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if length is not None and length.isdigit() and int(length) > cap:
            return await self._refuse(scope, send, 413, "too_large", f"request body exceeds {cap} bytes")
        seen, state = 0, {"refused": False, "started": False}

        async def counted_receive() -> Message:
            nonlocal seen
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    state["refused"] = True
                    if not state["started"]:
                        await self._refuse(scope, send, 413, "too_large", f"request body exceeds {cap} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, code: str, message: str,
                      retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        response = JSONResponse(error_body(code, message), status_code=status, headers=headers)
        if scope["type"] == "websocket":
            if "websocket.http.response" in scope.get("extensions", {}):
                await send({"type": "websocket.http.response.start", "status": status,
                            "headers": response.raw_headers})
                await send({"type": "websocket.http.response.body", "body": response.body})
            else:  # a server without denial responses: a policy-violation close before the handshake completes
                await send({"type": "websocket.close", "code": 1008, "reason": code})
            return
        await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


def caller_of(scope: Scope) -> Caller:
    return scope.get(CALLER, OPEN)


def install(app, settings: Settings) -> None:
    app.add_middleware(Gate, settings=settings)
