"""The application factory: lifespan, middleware, routers and error handlers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.types import ASGIApp

from app.articles.router import router as articles
from app.cache import KEEP
from app.config import Settings, get_settings
from app.countries.router import router as countries
from app.curation.bulk import router as bulk
from app.curation.changes import router as changes
from app.curation.router import router as records
from app.db import limit_threads, make_engine
from app.errors import ERROR_RESPONSES, InvalidParameter, install_error_handlers
from app.events.router import router as events
from app.explorer.router import FILES as EXPLORER_FILES
from app.explorer.router import router as explorer
from app.health.router import router as health
from app.history.past import past_engine
from app.history.router import as_of
from app.history.router import router as versions
from app.http.compression import Compression
from app.http.edge import Edge
from app.http.observability import Metrics, configure_logging, metrics_endpoint
from app.meta.router import router as meta
from app.openapi import MAX_PATH_PARAM, MAX_QUERY_VALUE, MAX_REPEATS, install_openapi
from app.pagination import VersionMemo
from app.people.router import router as people
from app.search.engine import for_settings
from app.search.router import router as search
from app.statements.router import router as statements
from app.treaties.router import router as treaties

DESCRIPTION = """
An open knowledge base of arms-control treaties (New START, the Open Skies Treaty and the
INF Treaty): their limits, dated events, parties, officials' statements and the articles
that report them. Every fact cites its sources.

* Dates are ISO 8601 at the precision the source gives: `2020-11-12`, `2020-11` or `2020`;
  `*_precision` fields say which. No day is invented for a source that gives a month.
* Lists return `{"items", "total", "next"}` and a `Link: <...>; rel="next"` header.
* Errors are RFC 9457 `application/problem+json`.
"""


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


_KNOWN: dict[int, set[str]] = {}  # per route, by id: routes are neither hashable nor many
_READS: set[int] = set()  # the public reads' routes, by id: they take `as_of`


async def reject_unknown_parameters(request: Request) -> None:
    """A typo in a filter name must not silently return the whole table."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _KNOWN.get(id(route))
    if known is None:
        # A router's own dependencies (include_router's) are not in its routes' dependant.
        shared = _query_names(get_dependant(path="", call=as_of)) if id(route) in _READS else set()
        known = _KNOWN[id(route)] = _query_names(route.dependant) | shared
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise InvalidParameter(
            f"Unknown query parameter(s): {', '.join(unknown)}. "
            f"This endpoint accepts: {', '.join(sorted(known)) or 'none'}."
        )
    check_parameter_sizes(request)


def check_parameter_sizes(request: Request) -> None:
    """The bounds the OpenAPI document states (app/openapi.py) hold for every request."""
    for name, value in request.path_params.items():
        if len(str(value)) > MAX_PATH_PARAM:
            raise InvalidParameter(f"{name} is longer than {MAX_PATH_PARAM} characters.")
    for name in set(request.query_params):
        given = request.query_params.getlist(name)
        if len(given) > MAX_REPEATS:
            raise InvalidParameter(
                f"{name} is repeated {len(given)} times; at most {MAX_REPEATS} (or use commas)."
            )
        if any(len(value) > MAX_QUERY_VALUE for value in given):
            raise InvalidParameter(f"{name} is longer than {MAX_QUERY_VALUE} characters.")


def _operation_id(route: APIRoute) -> str:
    return route.operation_id or route.name


class TreatyKB(FastAPI):
    """FastAPI with the edge (app/http/edge.py) outermost, outside even the framework's own
    error middleware: an unexpected error's 500 gets the request id, CORS and security
    headers like any answer, and a 304 made at the edge goes through no other layer."""

    def build_middleware_stack(self) -> ASGIApp:
        return Edge(
            super().build_middleware_stack(),
            settings=self.state.settings, metrics=self.state.metrics, api=self,
        )  # fmt: skip


PUBLIC = (treaties, statements, people, articles, countries, events, search, meta, versions)
CURATION = (records, bulk, changes)


def _include_routers(app: FastAPI) -> None:
    """Each router straight under the app: FastAPI matches included routers level by
    level, and one level less took ~80 us off every request. The public reads' answers
    are kept per data version (app/cache.py), and can be read at a past one (`as_of`,
    app/history); curation's are neither (a record for editing, a token's own view)."""
    for router in (*PUBLIC, *CURATION):
        kept = [KEEP, Depends(as_of)] if router in PUBLIC else []
        if router in PUBLIC:
            _READS.update(id(route) for route in router.routes)
        app.include_router(
            router,
            prefix="/v1",
            dependencies=[Depends(reject_unknown_parameters), *kept],
            responses=ERROR_RESPONSES,
        )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The engine of the app's settings, from startup to shutdown."""
    settings = app.state.settings

    def engine(pool_size: int = 20) -> Engine:
        return make_engine(
            settings.database_url, settings.statement_timeout_ms, settings.sqlite_mmap_bytes,
            pool_size,
        )  # fmt: skip

    app.state.engine = engine()
    # Reads at a past data version (`as_of`): the same database, seen as it was then, on a
    # smaller pool of PostgreSQL connections (each instance's count against its limit).
    app.state.past_engine = past_engine(app.state.engine, lambda: engine(pool_size=5))
    app.state.metrics.engine = app.state.engine
    limit_threads(app.state.engine, settings.read_threads)
    app.state.search = for_settings(settings)
    app.state.search.current_in_background(app.state.engine)  # repair or build the index
    yield
    app.state.engine.dispose()
    app.state.past_engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = TreatyKB(
        title="treatykb",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
        generate_unique_id_function=_operation_id,
        # Our own Prometheus metrics and JSON logs observe every request; FastAPI's
        # OpenTelemetry hooks would only look up providers nobody set, on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.memo = VersionMemo()
    app.state.metrics = Metrics()
    if settings.log_json:
        configure_logging(settings.log_level)
    # Everything every request goes through (ids, logs, metrics, CORS, limits, deadline,
    # cache validators and 304s, kept responses, HEAD and OPTIONS) is the edge, outermost
    # (TreatyKB). Brotli or gzip, streams included, for a client that takes it: JSON, CSV,
    # NDJSON and the explorer over 1 KiB (a 14 KB treaty detail goes out as about 2 KB).
    app.add_middleware(Compression)
    install_error_handlers(app)
    _include_routers(app)
    # Probes for orchestrators (documented in the README), never rate-limited: not API.
    app.include_router(health, include_in_schema=False)
    if settings.metrics_enabled:
        app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.include_router(explorer)
    app.mount("/explorer", EXPLORER_FILES, name="explorer")
    install_openapi(app, settings)
    return app


app = create_app()
