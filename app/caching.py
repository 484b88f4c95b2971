"""HTTP validators for every GET: ETag, Last-Modified, Cache-Control and X-Data-Version.

Every write bumps one data version, so (version, day, URL, format) fully determines a
response: a matching If-None-Match gets a 304 without running the query at all. The day
is part of it because statuses are computed as of today.

The version is read from the database at most once per `version_ttl` seconds per process,
and again at once after any write this process served; a write made by another process
(another instance, the CLI) shows within `version_ttl` seconds.
"""

import asyncio
import datetime as dt
import hashlib
import time
from email.utils import format_datetime
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.dates import today
from app.db import inline_on_sqlite
from app.meta.service import read_version
from app.pagination import MEDIA_TYPES

VERSION_HEADER = "X-Data-Version"
READS = ("GET", "HEAD")


class VersionCache:
    """The data version, re-read when older than `ttl` seconds or after a local write."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.value: tuple[int, dt.datetime] | None = None
        self.read_at = float("-inf")
        self._reading = asyncio.Lock()

    def _stale(self) -> bool:
        return self.value is None or time.monotonic() - self.read_at >= self.ttl

    async def get(self, engine: Engine) -> tuple[int, dt.datetime] | None:
        if self._stale():
            # One read for every request that finds the version stale at once.
            async with self._reading:
                if self._stale():
                    now = time.monotonic()
                    try:
                        # On SQLite on the loop: through a thread, this read stalled every
                        # waiting request 100-300 ms once a second (see inline_on_sqlite).
                        self.value = await inline_on_sqlite(engine, read_version, engine)
                    except SQLAlchemyError:
                        self.value = None  # unmigrated or unreachable: /readyz says which
                    self.read_at = now
        return self.value

    def invalidate(self) -> None:
        self.read_at = float("-inf")


def _etag(scope: Scope, headers: Headers, version: int) -> str:
    query = scope["query_string"].decode("latin-1")
    accept = headers.get("accept", "")
    # The representation Accept picks, not its spelling: `*/*` and no Accept are both JSON.
    media = next((fmt for media, fmt in MEDIA_TYPES.items() if media in accept), "json")
    key = f"{version}|{today()}|{scope['path']}?{query}|{media}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


@lru_cache(maxsize=16)
def _http_date(changed: dt.datetime) -> str:
    return format_datetime(changed, usegmt=True)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


class CachingMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware task and queue per request): this runs on every GET."""

    def __init__(self, app: ASGIApp, max_age: int, version_ttl: float) -> None:
        self.app = app
        self.max_age = max_age
        self.versions = VersionCache(version_ttl)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in READS:
            try:
                await self.app(scope, receive, send)
            finally:
                self.versions.invalidate()  # this process wrote: the next read re-reads
            return
        current = await self.versions.get(scope["app"].state.engine)
        if current is None:
            await self.app(scope, receive, send)
            return
        version, changed = current
        scope.setdefault("state", {})["data_version"] = version  # request.state.data_version
        request_headers = Headers(scope=scope)
        etag = _etag(scope, request_headers, version)
        validators = {
            "etag": etag,
            "last-modified": _http_date(changed),
            "cache-control": f"public, max-age={self.max_age}",
            VERSION_HEADER.lower(): str(version),
            "vary": "Accept",
        }
        if_none_match = request_headers.get("if-none-match")
        if _matches(if_none_match, etag):
            await _not_modified(send, validators)
            return
        replaced = [False]

        async def send_with_validators(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if message["status"] != 200:
                    headers[VERSION_HEADER] = str(version)
                elif "etag" in headers:  # a record's own validator (the write API's)
                    own = {k: v for k, v in validators.items() if k != "etag"}
                    if _matches(if_none_match, headers["etag"]):
                        replaced[0] = True
                        await _not_modified(send, {**own, "etag": headers["etag"]})
                        return
                    headers.update(own)
                else:
                    headers.update(validators)
            elif replaced[0]:
                return  # the body of a response already answered by a 304
            await send(message)

        await self.app(scope, receive, send_with_validators)


async def _not_modified(send: Send, headers: dict[str, str]) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": 304, "headers": raw})
    await send({"type": "http.response.body", "body": b""})
