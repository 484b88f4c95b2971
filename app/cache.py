"""Kept responses: the one owner of every answer served again without being built again.

A GET under /v1 whose route opts in (`KEEP`, one declaration per router) is kept whole
(status, headers, body) under a typed key: the data version and day (so nothing kept is
ever stale: a write moves the version), the base URL (links in bodies are absolute), the
path and query, the representation Accept picks and the body's coding. The edge
(app/http/edge.py) looks a request up before routing; a hit goes out through the same `Reply`
as any answer (validators, CORS, rate-limit and security headers, request id). Requests
that miss the same key at once wait for the first to finish and share its answer: a cold
search that 32 clients send together is ranked once, not 32 times.
"""

import asyncio
import datetime as dt
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from fastapi import Depends, Request
from starlette.types import Message, Scope, Send

from app.http.conditional import RawHeaders


class Key(NamedTuple):
    version: int
    day: dt.date
    base: tuple[Any, ...]  # scheme, Host, root path: what absolute URLs are built from
    path: str
    query: bytes
    media: str  # json, csv or ndjson: the representation, not Accept's spelling
    coding: str  # "br", "gzip" or "" (app/http/compression.py)


class Kept(NamedTuple):
    status: int
    headers: RawHeaders
    body: bytes


async def _keep(request: Request) -> None:
    request.scope["state"]["keep"] = True


KEEP = Depends(_keep)
"""A router's (or a route's) `dependencies=[KEEP]`: its 200s to GETs are kept."""

MOST_BODY = 1 << 20  # a larger answer (a long export) is streamed anew each time


class ResponseCache:
    """Kept responses, least recently used out first past `max_bytes` of bodies."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._kept: OrderedDict[Key, Kept] = OrderedDict()
        self._bytes = 0
        self._running: dict[Key, asyncio.Future[Kept | None]] = {}

    def get(self, key: Key) -> Kept | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def put(self, key: Key, kept: Kept) -> None:
        old = self._kept.pop(key, None)
        self._bytes += len(kept.body) - (len(old.body) if old else 0)
        self._kept[key] = kept
        while self._bytes > self.max_bytes:
            self._bytes -= len(self._kept.popitem(last=False)[1].body)

    async def answer(
        self, key: Key, scope: Scope, send: Send, run: Callable[[Send], Awaitable[None]]
    ) -> None:
        """A kept answer, or `run`'s, kept when its route opted in and it is whole. A
        request that arrives while the same key is being answered gets that answer (an
        error too: a 422 is the same for all), unless it failed on the server's side."""
        running = self._running.get(key)
        if running is not None:
            shared = await asyncio.shield(running)
            if shared is not None:
                await replay(shared, send)
                return
        done: asyncio.Future[Kept | None] = asyncio.get_running_loop().create_future()
        self._running[key] = done
        capture = Capture(send)
        answered: Kept | None = None
        try:
            await run(capture)
            if capture.whole and 0 < capture.status < 500:
                answered = Kept(capture.status, capture.headers, b"".join(capture.body))
                if answered.status == 200 and scope["state"].get("keep"):
                    self.put(key, answered)
        finally:
            del self._running[key]
            done.set_result(answered)


async def replay(kept: Kept, send: Send) -> None:
    start = {"type": "http.response.start", "status": kept.status, "headers": kept.headers}
    await send(start)
    await send({"type": "http.response.body", "body": kept.body})


class Capture:
    """A `send` that passes every message on and copies them, up to MOST_BODY bytes."""

    __slots__ = ("send", "status", "headers", "body", "size", "whole")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0
        self.headers: RawHeaders = []
        self.body: list[bytes] = []
        self.size = 0
        self.whole = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", ()))
        elif message["type"] == "http.response.body" and self.status > 0:
            chunk = message.get("body", b"")
            self.size += len(chunk)
            if self.size <= MOST_BODY:
                self.body.append(chunk)
                self.whole = not message.get("more_body", False)
            else:
                self.status = -1  # too large to keep: pass the rest on
        await self.send(message)
