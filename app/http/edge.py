"""Every request's way in and out, in one layer.

On the way in, in this order, each step answering at once when it refuses:
1. a request id (the caller's, when sane, or a new one), the clock, the in-flight gauge;
2. a CORS preflight is answered;
3. a URL longer than allowed gets 414, a body larger than allowed 413 (app/http/security.py);
4. the rate limit counts the request, or answers 429 (app/http/ratelimit.py);
5. OPTIONS is answered with the methods the path takes (app/http/methods.py);
6. a GET under /v1 learns the data version; a matching If-None-Match (or, without one, an
   If-Modified-Since no older than the data) gets its 304 here, without running anything
   else (app/http/conditional.py);
7. a response kept for this URL, version and representation is answered (app/cache.py);
8. else the app answers (brotli or gzip where the client takes it and the body is over 1 KiB, then
   FastAPI), with HEAD run as GET, under the deadline: no response started in time
   becomes a 503; what a route that opted in answers is kept.

On the way out, one wrapper around `send` (`Reply`) adds to whatever answered: the cache
validators, the full Allow of a 405, the rate-limit headers, CORS headers, security headers
(not on a 304, which has no content) and the request id; it drops a HEAD's body, and notes
the status for the access log line and the metrics.

These were nine middleware layers, each wrapping `send` and copying every message: in one
layer, a 304 answered in-process went from 227 to 133 us (same minutes, same machine). The
layer's own five `send` wrappers became one: 184,000 -> 154,000 instructions a 304. The
layer then moved outside FastAPI's own middleware (app/main.py, `TreatyKB`), and a 304 made
here became one prepared header list: a server's instructions per 304 fell from 297,000 to
236,000 (uvicorn's hello: 109,000).
"""

import asyncio
import random
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cache import Key, ResponseCache, replay
from app.config import Settings
from app.db import inline_on_sqlite
from app.errors import (
    AppError,
    BodyTooLarge,
    InvalidParameter,
    app_error_response,
    problem_response,
)
from app.history.past import reading_at
from app.history.versions import Past, read_past
from app.http.compression import encoding
from app.http.conditional import (
    ON_304,
    READS,
    VERSION_HEADER,
    VERSION_KEY,
    KeptValidators,
    RawHeaders,
    Validators,
    VersionCache,
    matches,
    media_of,
    replace_headers,
)
from app.http.methods import allow_header, allowed_methods
from app.http.observability import REQUEST_ID, Metrics, access_log, route_of
from app.http.ratelimit import RateLimiter
from app.http.security import security_headers

EXPOSED = [
    "Link", "ETag", "Last-Modified", VERSION_HEADER, "X-Request-ID", "Retry-After",
    "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy",
]  # fmt: skip
VARY = b"vary"


class Reply:
    """The one `send` wrapper of a request: everything the edge adds to the response,
    whoever answers, in one place (a 304 made here goes straight to the server)."""

    __slots__ = ("send", "edge", "scope", "path", "origin", "named", "counted", "validators",
                 "if_none_match", "head", "status", "started", "deadline", "sent_body",
                 "replaced")  # fmt: skip

    def __init__(self, edge: "Edge", scope: Scope, send: Send, origin: bytes | None,
                 named: tuple[bytes, bytes]) -> None:  # fmt: skip
        self.send, self.edge, self.scope, self.origin, self.named = send, edge, scope, origin, named
        self.path = scope["path"]  # as asked: routing may rewrite the scope's
        self.counted: RawHeaders = NONE  # the rate-limit headers, once counted
        self.validators: Validators | None = None
        self.if_none_match: bytes | None = None
        self.head = self.started = self.sent_body = self.replaced = False
        self.status = 500
        self.deadline: asyncio.Timeout | None = None

    async def __call__(self, message: Message) -> None:
        """The app's (or an answer's made here) messages, on their way to the server:
        the validators on a GET (a record's own ETag kept, and its 304 made here), the
        Allow of a 405, then the rest (`start`); HEAD's body dropped."""
        if message["type"] != "http.response.start":
            if self.replaced:
                return  # the body of a response already answered by a 304
            if self.head:
                if self.sent_body:
                    return
                self.sent_body = True
                message = {**message, "body": b"", "more_body": False}
            await self.send(message)
            return
        self.started = True
        if self.deadline is not None:
            self.deadline.reschedule(None)  # streaming may take as long as it needs
        status, raw = message["status"], list(message.get("headers", ()))
        own = self.validators
        if own is not None:
            etag = next((v for k, v in raw if k == b"etag"), None)
            if status != 200:
                raw = replace_headers(raw, [(VERSION_KEY, own.version)])
            elif etag is None:
                coded = any(name == b"content-encoding" for name, _ in raw)
                raw = with_link(replace_headers(raw, own.coded if coded else own.headers), own)
                own.route = self.scope.get("route")  # its 304s are counted under it
            else:
                raw = with_link(raw, own)
                rest = [header for header in own.headers if header[0] != b"etag"]
                if self.if_none_match is not None and matches(self.if_none_match, etag):
                    self.replaced = True
                    await self.not_modified([*rest, (b"etag", etag)])
                    return
                raw = replace_headers(raw, rest)
        if status == 405:
            raw = replace_headers(raw, [(b"allow", allow_header(self.edge.api, self.scope))])
        await self.start(status, raw)

    async def start(self, status: int, raw: RawHeaders) -> None:
        """The response's start, with the rate-limit headers, CORS, the security headers
        (not on a 304, which guards no content) and the request id."""
        raw = self.edge.with_cors([*raw, *self.counted], self.origin)
        if status != 304:
            raw += security_headers(self.path)
        await self.send(self._start(status, raw))

    def _start(self, status: int, raw: RawHeaders) -> Message:
        """The start message, with the request id (a call, not a coroutine: this is on
        every 304's way)."""
        self.status = status
        raw.append(self.named)
        return {"type": "http.response.start", "status": status, "headers": raw}

    async def not_modified(self, headers: RawHeaders) -> None:
        await self.start(304, [header for header in headers if header[0] in ON_304])
        await self.send(EMPTY)

    async def unchanged(self, fields: RawHeaders) -> None:
        """The 304 of validators made here: what `not_modified(own.headers)` sends, from
        the fields prepared once for its URL and version (`Vary: Origin` included)."""
        raw = [*fields, *self.counted]
        if self.origin is not None:
            raw += self.edge.cors_headers(self.origin)
        await self.send(self._start(304, raw))
        await self.send(EMPTY)


class Exchange:
    """One request on its way in: what the steps read and what they learn."""

    __slots__ = ("scope", "receive", "reply", "request", "current", "own", "past")

    def __init__(self, scope: Scope, receive: Receive, reply: Reply,
                 request: dict[bytes, bytes]) -> None:  # fmt: skip
        self.scope, self.receive, self.reply, self.request = scope, receive, reply, request
        self.current: tuple[int, Any] | None = None  # the data version and when it moved
        self.own: Validators | None = None
        self.past: Past | None = None  # the version `as_of` names, if any


EMPTY: Message = {"type": "http.response.body", "body": b""}
NONE: RawHeaders = []  # never changed: a request's headers are a new list


# Answers under /v1 that the data version does not determine, so they get no validators
# (and are never kept): an import job's progress moves while the version stands still,
# and an import that changed nothing adds its event to GET /v1/imports without moving it
# (a no-op load leaves every cached answer valid).
UNVERSIONED = "/v1/imports"


class Edge:
    def __init__(self, app: ASGIApp, *, settings: Settings, metrics: Metrics, api: Any) -> None:
        self.app = app
        self.api = api
        self.metrics = metrics
        # Starlette's CORS rules (origins, preflight answers); the headers are added here.
        self.cors = CORSMiddleware(
            app,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD"],
            expose_headers=EXPOSED,
        )
        self.cors_simple = [
            (k.lower().encode(), v.encode()) for k, v in self.cors.simple_headers.items()
        ]
        self.limiter = RateLimiter.from_settings(settings) if settings.rate_limit_enabled else None
        self.versions = VersionCache(settings.version_ttl)
        # What each `as_of` named, while the current version is `versions_seen`.
        self.pasts: dict[str, Past] = {}
        self.versions_seen = -1
        self.cache = ResponseCache() if settings.response_cache else None
        # A 304's fields get the `Vary: Origin` of with_cors once, when they are made.
        self.validators = KeptValidators(
            settings.cache_max_age, on_304=lambda raw: self.with_cors(raw, None)
        )
        self.seconds = settings.request_timeout
        self.max_url = settings.max_url_length
        self.max_body = settings.max_body_bytes
        self.max_import = settings.max_import_bytes
        # The way in, step by step (the module's docstring): each answers, or passes on.
        self.steps = (self._preflight, self._url_length, self._body_size, self._rate_limit,
                      self._options, self._writes, self._conditional)  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = dict(reversed(scope["headers"]))  # the first of a repeated header wins
        request_id = _request_id(request.get(b"x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        reply = Reply(self, scope, send, request.get(b"origin"), (ID_KEY, request_id.encode()))
        method = scope["method"]  # as asked: a HEAD is answered as a GET
        self.metrics.in_flight += 1
        try:
            await self._answer(Exchange(scope, receive, reply, request))
        finally:
            self.metrics.in_flight -= 1
            elapsed = time.perf_counter() - started
            route = route_of(scope)
            self.metrics.count(method, route, reply.status, elapsed)
            access_log(scope, request_id, method, route, reply.status, elapsed)

    def cors_headers(self, origin: bytes) -> RawHeaders:
        """Starlette's CORS headers for a request that named an origin: the exposed
        headers, and the allowed origin."""
        new = [*self.cors_simple]
        text = origin.decode("latin-1")
        if not self.cors.allow_all_origins and self.cors.is_allowed_origin(text):
            new.append((b"access-control-allow-origin", origin))
        return new

    def with_cors(self, raw: RawHeaders, origin: bytes | None) -> RawHeaders:
        """Starlette's CORS answer headers: `Vary: Origin` always; the allowed origin and
        exposed headers when the request named an origin."""
        vary = b", ".join([*(value for name, value in raw if name == VARY), b"Origin"])
        new = [(VARY, vary)]
        if origin is not None:
            new += self.cors_headers(origin)
        return replace_headers(raw, new)

    async def _answer(self, x: "Exchange") -> None:
        """Each step of the way in (the module's docstring), in order, until one answers;
        then a kept answer, or the app's."""
        for step in self.steps:
            if await step(x):
                return
        if x.past is None:
            await self._kept_or_built(x)
            return
        # Only a version before the current one reads the history; the current one's
        # answer, at its own day, is read from the tables as they are.
        past = x.past.version if x.scope["state"].get("past") else None
        with reading_at(past, x.past.made_at.date()):
            await self._kept_or_built(x)

    async def _preflight(self, x: "Exchange") -> bool:
        """A CORS preflight, answered by Starlette's CORS rules."""
        scope = x.scope
        if scope["method"] != "OPTIONS" or x.reply.origin is None:
            return False
        if b"access-control-request-method" not in x.request:
            return False
        await self.cors.preflight_response(Request(scope).headers)(scope, x.receive, x.reply)
        return True

    async def _url_length(self, x: "Exchange") -> bool:
        scope = x.scope
        length = len(scope.get("raw_path") or scope["path"]) + len(scope["query_string"]) + 1
        if length <= self.max_url:
            return False
        await _problem(
            scope, x.receive, x.reply, 414, title="URI too long", slug="uri-too-long",
            detail=f"The URL is {length} bytes; at most {self.max_url} are accepted. "
            "Send fewer filter values per request.",
        )  # fmt: skip
        return True

    async def _body_size(self, x: "Exchange") -> bool:
        """A body declared too large is refused at once; one that grows too large as it
        is read, when it does."""
        if b"content-length" not in x.request and b"transfer-encoding" not in x.request:
            return False
        limit = self.max_import if x.scope["path"] == "/v1/imports" else self.max_body
        declared = x.request.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            answer = app_error_response(Request(x.scope), BodyTooLarge(limit))
            await answer(x.scope, x.receive, x.reply)
            return True
        x.receive = _counting(x.receive, limit)
        return False

    async def _rate_limit(self, x: "Exchange") -> bool:
        if self.limiter is None:
            return False
        counted = self.limiter.check(x.scope, x.request.get(b"authorization"))
        if not isinstance(counted, list | Response):  # counted in Redis
            counted = await counted
        if isinstance(counted, Response):
            await counted(x.scope, x.receive, x.reply)
            return True
        x.reply.counted = counted
        return False

    async def _options(self, x: "Exchange") -> bool:
        """OPTIONS names the methods the path takes."""
        if x.scope["method"] != "OPTIONS" or not allowed_methods(self.api, x.scope):
            return False
        await x.reply.start(204, [(b"allow", allow_header(self.api, x.scope))])
        await x.reply.send(EMPTY)
        return True

    async def _writes(self, x: "Exchange") -> bool:
        """HEAD goes on as GET; a write is the app's, and the next read re-reads the
        version."""
        method = x.scope["method"]
        if method == "HEAD":
            x.reply.head = True
            x.scope["method"] = "GET"
            return False
        if method in READS:
            return False
        try:
            await self._deadlined(x.scope, x.receive, x.reply)
        finally:
            self.versions.invalidate()  # this process wrote: the next read re-reads
        return True

    async def _conditional(self, x: "Exchange") -> bool:
        """A GET under /v1 learns the data version and its validators; a client whose copy
        is current gets a 304. Outside /v1, or with no version to be had, the app answers."""
        scope = x.scope
        if scope["path"].startswith("/v1") and not scope["path"].startswith(UNVERSIONED):
            x.current = self.versions.fresh() or await self.versions.get(scope["app"].state.engine)
        if x.current is None:
            await self._deadlined(scope, x.receive, x.reply)
            return True
        if b"as_of" in scope["query_string"] and await self._as_of(x):
            return True
        scope["state"]["data_version"] = x.current[0]  # request.state.data_version
        scope["state"]["changed_at"] = x.current[1]
        day = x.past.made_at.date() if x.past else None
        own = x.own = self.validators.get(scope, x.request.get(b"accept"), x.current, day)
        if_none_match = x.request.get(b"if-none-match")
        if own.fresh(if_none_match, x.request.get(b"if-modified-since")):
            if own.route is not None:  # metrics and the log name the route, as on the 200
                scope["route"] = own.route
            await x.reply.unchanged(own.not_modified(if_none_match))
            return True
        x.reply.validators, x.reply.if_none_match = own, if_none_match
        return False

    async def _as_of(self, x: "Exchange") -> bool:
        """The version `as_of` names becomes the request's (its answer is that version's),
        or a problem answers: a malformed `as_of` (422), or a version that cannot be
        read (404)."""
        scope, current = x.scope, x.current
        assert current is not None
        given = parse_qs(scope["query_string"].decode("latin-1")).get("as_of")
        if given is None:
            return False
        if current[0] != self.versions_seen:  # a new version: a timestamp may name it
            self.pasts.clear()
            self.versions_seen = current[0]
        try:
            if len(given) > 1:
                raise InvalidParameter("as_of is given more than once.")
            past = self.pasts.get(given[0])
            if past is None:
                engine = scope["app"].state.engine
                past = await inline_on_sqlite(engine, read_past, engine, given[0], current[0])
                if len(self.pasts) >= MOST_PASTS:  # any time a client sends is a key
                    self.pasts.clear()
                self.pasts[given[0]] = past
        except AppError as error:
            await app_error_response(Request(scope), error)(scope, x.receive, x.reply)
            return True
        x.past, x.current = past, (past.version, past.made_at)
        scope["state"]["as_of"] = past.version
        scope["state"]["past"] = past.version < current[0]  # read from the history
        return False

    async def _kept_or_built(self, x: "Exchange") -> None:
        """The answer kept for this URL, version and representation, or the app's."""
        scope, own, request = x.scope, x.own, x.request
        if self.cache is None or own is None or x.current is None:
            await self._deadlined(scope, x.receive, x.reply)
            return
        key = Key(x.current[0], own.day, (scope["scheme"], request.get(b"host"),
                  scope.get("root_path", "")), scope["path"], scope["query_string"],
                  media_of(request.get(b"accept")), encoding(scope["headers"]))  # fmt: skip
        kept = self.cache.get(key)
        if kept is not None:
            if own.route is not None:  # metrics and the log name the route, as on a miss
                scope["route"] = own.route
            await replay(kept, x.reply)
            return

        async def run(send: Send) -> None:
            await self._deadlined(scope, x.receive, x.reply, send)

        await self.cache.answer(key, scope, x.reply, run)

    async def _deadlined(
        self, scope: Scope, receive: Receive, reply: Reply, send: Send | None = None
    ) -> None:
        """The app under the deadline: a response not started in time becomes a 503 (a
        streaming body may then take longer), without the validators. Answers made here
        without the app (a 304, OPTIONS) start no timer: in-process, the timer was a
        tenth of a 304's time."""
        send = send or reply  # the app's messages, on their way through `reply`
        if self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        deadline = reply.deadline = asyncio.timeout(self.seconds)
        try:
            async with deadline:
                await self.app(scope, receive, send)
        except TimeoutError:
            if reply.started or not deadline.expired():
                raise  # not ours, or too late for a problem: the server ends the response
            reply.validators = reply.deadline = None
            await _problem(
                scope, receive, reply, 503, title="Service unavailable", slug="timeout",
                detail=f"The request did not complete within {self.seconds:g} s; "
                "narrow the filters or page with a smaller limit.",
                headers={"Retry-After": "5"},
            )  # fmt: skip


ID_KEY = b"x-request-id"
MOST_PASTS = 4096  # `as_of` values resolved and kept at once
LINK = b"link"


def with_link(raw: RawHeaders, own: Validators) -> RawHeaders:
    """`raw` with the answer's permalinks added to its Link (a page's `next`, if any)."""
    if not own.link:
        return raw
    found = next((value for name, value in raw if name == LINK), None)
    return replace_headers(raw, [(LINK, own.link if found is None else found + b", " + own.link)])


def _request_id(given: bytes | None) -> str:
    """The caller's id when it is a sane token, else 128 random bits (an id names a
    request, it guards nothing: os.urandom's syscall was 8 % of a 304's time)."""
    if given is not None and REQUEST_ID.match(text := given.decode("latin-1")):
        return text
    return f"{random.getrandbits(128):032x}"


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


async def _problem(scope: Scope, receive: Receive, send: Send, status: int, **kw: Any) -> None:
    response = problem_response(Request(scope), status=status, **kw)
    await response(scope, receive, send)
