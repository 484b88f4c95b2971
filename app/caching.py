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


def _etag(scope: Scope, accept: bytes | None, version: int) -> bytes:
    # The representation Accept picks, not its spelling: `*/*` and no Accept are both JSON.
    media = next((fmt for media, fmt in MEDIA_BYTES if accept and media in accept), "json")
    return _tag(version, today(), scope["path"], scope["query_string"], media)


@lru_cache(maxsize=4096)  # the same URL is revalidated over and over: hash it once a version
def _tag(version: int, day: dt.date, path: str, query: bytes, media: str) -> bytes:
    key = f"{version}|{day}|{path}?{query.decode('latin-1')}|{media}"
    return b'"' + hashlib.sha256(key.encode()).hexdigest()[:32].encode() + b'"'


MEDIA_BYTES = [(media.encode(), fmt) for media, fmt in MEDIA_TYPES.items()]


@lru_cache(maxsize=16)
def _http_date(changed: dt.datetime) -> bytes:
    return format_datetime(changed, usegmt=True).encode()


def matches(header: bytes, etag: bytes) -> bool:
    """Whether an If-None-Match header names `etag` (weakly, RFC 9110 13.1.2) or `*`."""
    tags = {tag.strip().removeprefix(b"W/") for tag in header.split(b",")}
    return b"*" in tags or etag in tags


RawHeaders = list[tuple[bytes, bytes]]


def replace_headers(raw: RawHeaders, new: RawHeaders) -> RawHeaders:
    """`raw` with `new` in place of any header of the same names."""
    names = {name for name, _ in new}
    return [header for header in raw if header[0] not in names] + new


class Validators:
    """The validators of one GET at one data version (app/edge.py adds them)."""

    __slots__ = ("etag", "headers", "version")

    def __init__(self, etag: bytes, headers: RawHeaders, version: bytes) -> None:
        self.etag = etag
        self.headers = headers
        self.version = version

    def matches(self, if_none_match: bytes) -> bool:
        return matches(if_none_match, self.etag)


@lru_cache(maxsize=8)
def _cache_control(max_age: int) -> bytes:
    return f"public, max-age={max_age}".encode()


def validators(
    scope: Scope, accept: bytes | None, current: tuple[int, dt.datetime], max_age: int
) -> Validators:
    version, changed = current
    etag = _etag(scope, accept, version)
    stamp = str(version).encode()
    headers = [
        (b"etag", etag),
        (b"last-modified", _http_date(changed)),
        (b"cache-control", _cache_control(max_age)),
        (VERSION_KEY, stamp),
        (b"vary", b"Accept"),
    ]
    return Validators(etag, headers, stamp)


# RFC 9110 15.4.5: a 304 carries the fields a 200 would among ETag, Cache-Control, Vary,
# Content-Location, Date (the server's) and Expires, and no other representation
# metadata, which a cache would otherwise write over what it stored with the 200.
ON_304 = frozenset({b"etag", b"cache-control", b"vary", b"content-location", b"expires"})
