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
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Scope

from app.dates import today
from app.db import inline_on_sqlite
from app.meta.service import read_version
from app.pagination import MEDIA_TYPES

VERSION_HEADER = "X-Data-Version"
VERSION_KEY = VERSION_HEADER.lower().encode()
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

    def fresh(self) -> tuple[int, dt.datetime] | None:
        """The version when it needs no read (most requests: no await, no engine)."""
        return None if self._stale() else self.value

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


def _media(accept: bytes | None) -> str:
    """The representation Accept picks, not its spelling: `*/*` and no Accept are JSON."""
    if accept is None or accept == b"*/*":
        return "json"
    return next((fmt for media, fmt in MEDIA_BYTES if media in accept), "json")


MEDIA_BYTES = [(media.encode(), fmt) for media, fmt in MEDIA_TYPES.items()]


def matches(header: bytes, etag: bytes) -> bool:
    """Whether an If-None-Match header names `etag` (weakly, RFC 9110 13.1.2) or `*`."""
    if header == etag:  # what a client sends back, mostly
        return True
    tags = {tag.strip().removeprefix(b"W/") for tag in header.split(b",")}
    return b"*" in tags or etag in tags


RawHeaders = list[tuple[bytes, bytes]]


def replace_headers(raw: RawHeaders, new: RawHeaders) -> RawHeaders:
    """`raw` with `new` in place of any header of the same names."""
    names = {name for name, _ in new}
    return [header for header in raw if header[0] not in names] + new


class Validators:
    """The validators of one GET at one data version and day (app/edge.py adds them): the
    fields of a 200, and of a 304 as `on_304` completes them (the edge adds CORS's Vary)."""

    __slots__ = ("etag", "headers", "on_304", "version", "number", "day", "route")

    def __init__(
        self,
        current: tuple[int, dt.datetime],
        day: dt.date,
        key: str,
        max_age: int,
        on_304: Callable[[RawHeaders], RawHeaders],
    ) -> None:
        self.number, changed = current
        self.day = day
        self.route: Any = None  # the route that answered the URL's 200, for its 304s
        self.etag = b'"' + hashlib.sha256(key.encode()).hexdigest()[:32].encode() + b'"'
        self.version = str(self.number).encode()
        self.headers = [
            (b"etag", self.etag),
            (b"last-modified", format_datetime(changed, usegmt=True).encode()),
            (b"cache-control", f"public, max-age={max_age}".encode()),
            (VERSION_KEY, self.version),
            (b"vary", b"Accept"),
        ]
        self.on_304 = on_304([header for header in self.headers if header[0] in ON_304])

    def matches(self, if_none_match: bytes) -> bool:
        return matches(if_none_match, self.etag)


class KeptValidators:
    """The validators of each URL and Accept, made once per data version and day: the
    same URL is revalidated over and over."""

    MOST = 4096

    def __init__(self, max_age: int, on_304: Callable[[RawHeaders], RawHeaders]) -> None:
        self.max_age = max_age
        self.on_304 = on_304
        self._kept: dict[tuple[str, bytes, bytes | None], Validators] = {}

    def get(
        self, scope: Scope, accept: bytes | None, current: tuple[int, dt.datetime]
    ) -> Validators:
        path, query, day = scope["path"], scope["query_string"], today()
        kept = self._kept.get(key := (path, query, accept))
        if kept is None or kept.number != current[0] or kept.day != day:
            if len(self._kept) >= self.MOST:
                self._kept.clear()
            # The representation Accept picks, not its spelling, makes the tag.
            tag = f"{current[0]}|{day}|{path}?{query.decode('latin-1')}|{_media(accept)}"
            kept = self._kept[key] = Validators(current, day, tag, self.max_age, self.on_304)
        return kept


# RFC 9110 15.4.5: a 304 carries the fields a 200 would among ETag, Cache-Control, Vary,
# Content-Location, Date (the server's) and Expires, and no other representation
# metadata, which a cache would otherwise write over what it stored with the 200.
ON_304 = frozenset({b"etag", b"cache-control", b"vary", b"content-location", b"expires"})
