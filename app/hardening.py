"""Limits on what a request may be, a deadline for answering, and security headers.

- a URL longer than `max_url_length` gets 414; a body larger than `max_body_bytes` gets
  413 (`max_import_bytes` for POST /v1/imports), whether or not it declares its length;
- a response not started within `request_timeout` seconds becomes a 503 problem (and on
  PostgreSQL the query itself is cancelled by `statement_timeout`);
- every response says `nosniff`, sends no referrer and may not be framed; the explorer
  page gets a Content-Security-Policy that allows only its own files and the API.
"""

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem_response

API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = scope["path"] == "/" or scope["path"].startswith("/explorer")
        csp = (b"content-security-policy", (PAGE_CSP if page else API_CSP).encode())

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *COMMON, csp]}
            await send(message)

        await self.app(scope, receive, secured)


class BodyTooLarge(Exception):
    pass


async def _problem(scope: Scope, receive: Receive, send: Send, status: int, **kw: Any) -> None:
    response = problem_response(Request(scope), status=status, **kw)
    await response(scope, receive, send)


class InputLimits:
    def __init__(
        self, app: ASGIApp, *, max_url_length: int, max_body_bytes: int, max_import_bytes: int
    ) -> None:
        self.app = app
        self.max_url = max_url_length
        self.max_body = max_body_bytes
        self.max_import = max_import_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = len(scope.get("raw_path") or scope["path"]) + len(scope["query_string"]) + 1
        if length > self.max_url:
            await _problem(
                scope, receive, send, 414, title="URI too long", slug="uri-too-long",
                detail=f"The URL is {length} bytes; at most {self.max_url} are accepted. "
                "Send fewer filter values per request.",
            )  # fmt: skip
            return
        limit = self.max_import if scope["path"] == "/v1/imports" else self.max_body
        headers = dict(scope["headers"])
        if b"content-length" not in headers and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: nothing to count
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except BodyTooLarge:
            if not started:
                await self._too_large(scope, receive, send, limit)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await _problem(
            scope, receive, send, 413, title="Content too large", slug="content-too-large",
            detail=f"The body exceeds {limit:,} bytes. Split a large import into several.",
        )  # fmt: skip


class Deadline:
    """Answer within `seconds` or say so; a streaming body, once started, may take longer."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deadline.reschedule(None)  # streaming may take as long as it needs
            await send(message)

        try:
            async with asyncio.timeout(self.seconds) as deadline:
                await self.app(scope, receive, watch)
        except TimeoutError:
            if started:
                raise
            await _problem(
                scope, receive, send, 503, title="Service unavailable", slug="timeout",
                detail=f"The request did not complete within {self.seconds:g} s; "
                "narrow the filters or page with a smaller limit.",
                headers={"Retry-After": "5"},
            )  # fmt: skip
