"""The hottest reads, answered without the framework's routing and dependency injection.

FastAPI finds a route and solves its dependencies in a few hundred microseconds per
request: more than reading a statement takes. This lane sits innermost, inside every
middleware (request ids, logs, metrics, rate limits, CORS, security headers, ETag/304
all apply as to any request), and answers a GET it can answer exactly: a statement by id,
or a treaty whose detail is already built for this data version. Anything else -- a query
parameter, an unknown id, an alias to redirect, a long path -- goes on to the framework,
which keeps the one implementation of every rule and error. Each answer here is the
framework route's, byte for byte (tests/test_fastlane.py checks it on both databases).
"""

import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.db import is_sqlite
from app.openapi import MAX_PATH_PARAM
from app.statements import router as statements
from app.statements.read import statement_json
from app.treaties import router as treaties
from app.urls import urls_for

Handler = Callable[[Scope, str], Awaitable[bytes | None]]


def _route(router: Any, name: str) -> APIRoute:
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.name == name)


async def _statement(scope: Scope, statement_id: str) -> bytes | None:
    app = scope["app"]
    urls, memo = urls_for(Request(scope)), (app.state.memo, scope["state"]["data_version"])
    read = partial(statement_json, app.state.engine, statement_id, urls, memo)
    # As the framework route does: a primary-key read on SQLite costs less than a thread trip.
    return read() if is_sqlite(app.state.engine) else await run_in_threadpool(read)


async def _treaty(scope: Scope, slug: str) -> bytes | None:
    """Only a detail already built (by the framework route) for this version and day."""
    key = treaties.detail_key(scope["state"]["data_version"], slug, urls_for(Request(scope)))
    found: bytes | None = scope["app"].state.memo.get(key)
    return found


ROUTES: list[tuple[re.Pattern[str], APIRoute, Handler]] = [
    (re.compile(r"/v1/statements/([^/]+)"), _route(statements.router, "get_statement"), _statement),
    (re.compile(r"/v1/treaties/([^/]+)"), _route(treaties.router, "get_treaty"), _treaty),
]


class FastLane:
    def __init__(self, app: ASGIApp, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.enabled
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope["query_string"]
            and "data_version" in scope.get("state", {})
        ):
            for pattern, route, handler in ROUTES:
                match = pattern.fullmatch(scope["path"])
                if match and len(key := match.group(1)) <= MAX_PATH_PARAM:
                    body = await handler(scope, key)
                    if body is not None:
                        scope["route"] = route  # the template metrics and logs report
                        await _json(send, body)
                        return
                    break
        await self.app(scope, receive, send)


async def _json(send: Send, body: bytes) -> None:
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
