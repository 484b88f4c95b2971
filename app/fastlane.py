"""The hottest reads, answered without the framework's routing and dependency injection.

FastAPI finds a route and solves its dependencies in 0.3-2 ms per request (more with
more query parameters): more than reading a statement or a page of them takes. This
lane sits innermost, inside the edge (app/edge.py: request ids, logs, metrics, rate limits,
CORS, security headers, ETag/304 all apply as to any request), and answers a GET it can
answer exactly: a statement by id, a treaty detail or a search page already built for
this data version, and a JSON page of statements filtered by treaty, speaker, country,
article or date (it calls the route's own parameter functions and endpoint with what it
parsed). Statements and pages of them are kept per data version and URL (app.state.memo):
asked again, they are sent without a database read.
Anything else -- another parameter, a value it would have to refuse, an unknown id, an
alias to redirect -- goes on to the framework, which keeps the one implementation of
every rule and error. Each answer here is the framework route's, byte for byte
(tests/test_fastlane.py checks it on both databases).
"""

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.dates import Day
from app.db import inline_on_sqlite, off_loop
from app.errors import InvalidParameter
from app.listing import KeptPage, kept_page
from app.openapi import MAX_PATH_PARAM, MAX_QUERY_VALUE, MAX_REPEATS
from app.pagination import PageParams, Sort, negotiate, page_params
from app.reads.spec import Given
from app.search import router as search
from app.statements import router as statements
from app.statements import service
from app.statements.lists import statement_list
from app.statements.read import kept_statement, statement_json
from app.statements.spec import STATEMENTS
from app.treaties import router as treaties
from app.urls import Urls, urls_for

Handler = Callable[[Scope, str], Awaitable[bytes | Response | None]]
DAY: TypeAdapter[Any] = TypeAdapter(Day)


def _route(router: Any, name: str) -> APIRoute:
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.name == name)


async def _statement(scope: Scope, statement_id: str) -> bytes | None:
    if scope["query_string"]:
        return None
    app = scope["app"]
    urls, memo = urls_for(Request(scope)), (app.state.memo, scope["state"]["data_version"])
    kept = kept_statement(statement_id, urls, memo)  # no thread, no connection
    if kept is not None:
        return kept
    return await inline_on_sqlite(
        app.state.engine, statement_json, app.state.engine, statement_id, urls, memo
    )


async def _treaty(scope: Scope, slug: str) -> bytes | None:
    """Only a detail already built (by the framework route) for this version and day."""
    if scope["query_string"]:
        return None
    key = treaties.detail_key(scope["state"]["data_version"], slug, urls_for(Request(scope)))
    found: bytes | None = scope["app"].state.memo.get(key)
    return found


async def _search(scope: Scope, _: str) -> Response | None:
    """Only a page already ranked (by the framework route) for this version and URL: the
    route checked its parameters when it kept it."""
    request = Request(scope)
    if negotiate(request) != "json":  # pages are kept as JSON; CSV is the route's to refuse
        return None
    key = search.page_key(scope["state"]["data_version"], str(request.url), urls_for(request))
    kept = scope["app"].state.memo.get(key)
    return kept_page(kept) if kept is not None else None


LIST_PARAMETERS = {"treaty", "speaker", "country", "article"}
PARAMETERS = LIST_PARAMETERS | {"since", "until", "limit", "cursor", "sort"}
LIMIT = re.compile(r"[1-9][0-9]{0,5}")


def _arguments(query: bytes) -> dict[str, list[str]] | None:
    """The query string as the route's parameters, when each is one the lane takes, with
    a value the route would take as it is; else None (and the framework answers)."""
    given: dict[str, list[str]] = {}
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name not in PARAMETERS or not value or len(value) > MAX_QUERY_VALUE:
            return None
        given.setdefault(name, []).append(value)
    if any(len(v) > (MAX_REPEATS if k in LIST_PARAMETERS else 1) for k, v in given.items()):
        return None
    if "limit" in given and not LIMIT.fullmatch(given["limit"][0]):
        return None
    return given


async def _statement_list(scope: Scope, _: str) -> Response | None:
    """A JSON page of statements, kept per data version and URL: the same page asked
    again (a frontend's list view, every visitor's first page) is not read again, and
    identical requests arriving together read it once (`VersionMemo.computed`)."""
    request = Request(scope)
    if negotiate(request) != "json":  # pages are kept as JSON; streams are the route's
        return None
    urls, memo = urls_for(request), scope["app"].state.memo
    key = ("statements", scope["state"]["data_version"], str(request.url), urls.base)
    kept = memo.get(key)  # kept only after the checks below passed for this very URL
    if kept is not None:
        return kept_page(kept)
    given = _arguments(scope["query_string"])
    if given is None:
        return None
    one = {k: v[0] for k, v in given.items() if k not in LIST_PARAMETERS}
    try:
        lists: dict[str, Any] = {k: v for k, v in given.items() if k in LIST_PARAMETERS}
        filters = STATEMENTS.given(
            **lists,
            since=DAY.validate_python(one["since"]) if "since" in one else None,
            until=DAY.validate_python(one["until"]) if "until" in one else None,
        )
        page = await page_params(
            request, limit=int(one["limit"]) if "limit" in one else None, cursor=one.get("cursor")
        )
        sort = service.sort_statements.parse(one.get("sort", "-said_on"))
    except (ValidationError, InvalidParameter):
        return None
    if page.format != "json":
        return None  # Accept asked for CSV or NDJSON: streams stay with the route

    def read() -> Awaitable[KeptPage]:
        return off_loop(request, _list_page, request, urls, filters, page, sort)

    try:
        return kept_page(await memo.computed(key, read))
    except InvalidParameter:  # a cursor the route refuses, in its own words
        return None


def _list_page(
    request: Request,
    urls: Urls,
    filters: Given,
    page: PageParams,
    sort: Sort,
) -> KeptPage:
    """The route's page, as its body and Link header, in a session of its own (requests
    that share the read may finish before it does)."""
    response = Response()  # for the headers the endpoint sets (Link), as FastAPI makes it
    del response.headers["content-length"]
    with Session(request.app.state.engine) as session:
        answer = statement_list(request, response, session, urls, filters, page, sort, ())
    assert isinstance(answer, Response)  # a page of rows is always sent as bytes
    return bytes(answer.body), answer.headers.get("link")


ROUTES: list[tuple[re.Pattern[str], APIRoute, Handler]] = [
    (re.compile(r"/v1/statements/(?P<statement_id>[^/]+)"),
     _route(statements.router, "get_statement"), _statement),
    (re.compile(r"/v1/treaties/(?P<slug>[^/]+)"), _route(treaties.router, "get_treaty"), _treaty),
    (re.compile(r"/v1/statements()"), _route(statements.router, "list_statements"),
     _statement_list),
    (re.compile(r"/v1/search()"), _route(search.router, "run_search"), _search),
]  # fmt: skip


async def _json(send: Send, body: bytes) -> None:
    """The two messages Starlette's Response(body, media_type="application/json") sends,
    without building one (4 % of a kept treaty detail's instructions)."""
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FastLane:
    def __init__(self, app: ASGIApp, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.enabled
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and "data_version" in scope.get("state", {})
        ):
            for pattern, route, handler in ROUTES:
                match = pattern.fullmatch(scope["path"])
                if match and len(key := match.group(1)) <= MAX_PATH_PARAM:
                    try:
                        answer = await handler(scope, key)
                    except Exception:  # e.g. the database is lost: the route answers, with
                        answer = None  # its own error handling (503, 500)
                    if answer is not None:
                        # What the framework's routing would have set: metrics and logs
                        # report the route's template, with its prefix taken from the path.
                        scope["route"], scope["path_params"] = route, match.groupdict()
                        if isinstance(answer, bytes):
                            await _json(send, answer)
                        else:
                            await answer(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)
