"""HTTP validators for every GET: ETag, Last-Modified, Cache-Control and X-Data-Version.

Every write bumps one data version, so (version, day, URL, format) fully determines a
response: a matching If-None-Match, or (without one) an If-Modified-Since no older than
Last-Modified, gets a 304 without running the query at all. The day is part of it because
statuses are computed as of today: Last-Modified is the later of the last write and the
start of the day. A response compressed for the client (Vary: Accept-Encoding) carries the
same tag, weak (W/), as RFC 9110 8.8.3 asks of a representation that differs in its bytes.

The version is read from the database at most once per `version_ttl` seconds per process,
and again at once after any write this process served; a write made by another process
(another instance, the CLI) shows within `version_ttl` seconds.
"""

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

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


def media_of(accept: bytes | None) -> str:
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
    """The validators of one GET at one data version and day (app/http/edge.py adds them): the
    fields of a 200, and of a 304 as `on_304` completes them (the edge adds CORS's Vary)."""

    __slots__ = ("etag", "headers", "coded", "on_304", "coded_304", "version", "number", "day",
                 "route", "modified", "link")  # fmt: skip

    def __init__(
        self,
        current: tuple[int, dt.datetime],
        day: dt.date,
        key: str,
        max_age: int,
        on_304: Callable[[RawHeaders], RawHeaders],
        link: bytes = b"",
        fixed: bool = False,
    ) -> None:
        self.number, changed = current
        self.day = day
        self.route: Any = None  # the route that answered the URL's 200, for its 304s
        self.etag = b'"' + hashlib.sha256(key.encode()).hexdigest()[:32].encode() + b'"'
        self.version = str(self.number).encode()
        self.link = link  # the permalinks (RFC 7089), added to any Link the answer has
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        self.modified = max(changed, midnight).replace(microsecond=0)
        # `fixed`: an answer at a named version (`as_of`) never changes: its data, its day
        # and its URLs are all fixed by the URL.
        self.headers = [
            (b"etag", self.etag),
            (b"last-modified", format_datetime(self.modified, usegmt=True).encode()),
            (b"cache-control", IMMUTABLE if fixed else f"public, max-age={max_age}".encode()),
            (VERSION_KEY, self.version),
            (b"vary", b"Accept, Accept-Encoding"),
        ]
        self.coded = replace_headers(self.headers, [(b"etag", b"W/" + self.etag)])
        self.on_304 = on_304([header for header in self.headers if header[0] in ON_304])
        self.coded_304 = replace_headers(self.on_304, [(b"etag", b"W/" + self.etag)])

    def fresh(self, if_none_match: bytes | None, if_modified_since: bytes | None) -> bool:
        """Whether the client's copy is current (RFC 9110 13.2.2: If-None-Match, when
        sent, decides; If-Modified-Since only without it)."""
        if if_none_match is not None:
            return matches(if_none_match, self.etag)
        return if_modified_since is not None and self._unmodified_since(if_modified_since)

    def _unmodified_since(self, header: bytes) -> bool:
        try:
            since = parsedate_to_datetime(header.decode("latin-1"))
        except (TypeError, ValueError, IndexError):
            return False  # not an HTTP date: ignored, as RFC 9110 13.1.3 says
        return since.tzinfo is not None and self.modified <= since

    def not_modified(self, if_none_match: bytes | None) -> RawHeaders:
        """A 304's fields: with the tag the client holds, weak when its copy was the
        compressed one."""
        weak = if_none_match is not None and if_none_match.startswith(b"W/")
        return self.coded_304 if weak else self.on_304


class KeptValidators:
    """The validators of each URL and Accept, made once per data version and day: the
    same URL is revalidated over and over."""

    MOST = 4096

    def __init__(self, max_age: int, on_304: Callable[[RawHeaders], RawHeaders]) -> None:
        self.max_age = max_age
        self.on_304 = on_304
        self._kept: dict[tuple[str, bytes, bytes | None], Validators] = {}

    def get(
        self,
        scope: Scope,
        accept: bytes | None,
        current: tuple[int, dt.datetime],
        day: dt.date | None = None,
    ) -> Validators:
        """`current`: the data version the answer is at (the request's `as_of`, if any)
        and when it was made; `day`: the day it is dated (today, or a named version's
        own: its answer and validators never change)."""
        fixed = day is not None
        path, query, day = scope["path"], scope["query_string"], day or today()
        kept = self._kept.get(key := (path, query, accept))
        if kept is None or kept.number != current[0] or kept.day != day:
            if len(self._kept) >= self.MOST:
                self._kept.clear()
            # The representation Accept picks, not its spelling, makes the tag.
            tag = f"{current[0]}|{day}|{path}?{query.decode('latin-1')}|{media_of(accept)}"
            link = permalinks(scope, current[0])
            kept = self._kept[key] = Validators(
                current, day, tag, self.max_age, self.on_304, link, fixed
            )
        return kept


IMMUTABLE = b"public, max-age=31536000, immutable"


def permalinks(scope: Scope, version: int) -> bytes:
    """The answer's own URL at its version (RFC 7089 `memento`), and, for an answer at a
    named version, the URL of the current one (`original`): relative references, which
    a client resolves against the URL it asked (RFC 8288 3.2)."""
    path = scope.get("root_path", "") + scope["path"]
    pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    rest = [(name, value) for name, value in pairs if name != "as_of"]
    original = f"{path}?{urlencode(rest)}" if rest else path
    memento = f"{path}?{urlencode([*rest, ('as_of', str(version))])}"
    link = f'<{quote(memento, safe=SAFE)}>; rel="memento"'
    if len(rest) < len(pairs):
        link += f', <{quote(original, safe=SAFE)}>; rel="original"'
    return link.encode("latin-1")


SAFE = "/?&=%:+,;@!$'()*"  # what a URL may hold as it is: no space, <, > or "


# RFC 9110 15.4.5: a 304 carries the fields a 200 would among ETag, Cache-Control, Vary,
# Content-Location, Date (the server's) and Expires, and no other representation
# metadata, which a cache would otherwise write over what it stored with the 200.
ON_304 = frozenset({b"etag", b"cache-control", b"vary", b"content-location", b"expires"})
