"""Request ids, one JSON log line per request, and Prometheus metrics at GET /metrics.

A request keeps the `X-Request-ID` it came with (when it is a sane token) or gets a new
one; the response echoes it and the log line carries it, so a client's report can be
matched to the server's record. Metrics: requests and latency per route template (not
per URL, so cardinality stays bounded), in-flight requests, and database pool use.
"""

import asyncio
import logging
import re
import sys
import time
from bisect import bisect_left
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.utils import floatToGoString
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

ACCESS = "treatykb.access"
log = logging.getLogger(ACCESS)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


_second = (0, "1970-01-01T00:00:00")  # the second last stamped, formatted
_MILLISECONDS = [f".{n:03d}Z" for n in range(1000)]


def _stamp(created: float) -> str:
    """ISO 8601 in UTC with milliseconds; each second is formatted once (a table of the
    thousand endings: formatting the milliseconds was a third of an access line's cost)."""
    global _second
    whole = int(created)
    if whole != _second[0]:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return _second[1] + _MILLISECONDS[int((created - whole) * 1000)]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class JsonLines(logging.StreamHandler):  # type: ignore[type-arg]
    """JSON lines on a stream. The access line, one per request, is written straight
    (`write`) when this handler is the only one it would reach: the same line as through
    `logging`, without a LogRecord or a formatter (a sixth of the cost).

    On the event loop, access lines are gathered and written together a few milliseconds
    later (`DELAY`), not one write per request: a 304's own write to a pipe was 7 % of its
    time. Any other record, a flush or the handler's close writes what is gathered
    first, so lines keep their order and none is lost at shutdown."""

    DELAY = 0.005  # seconds
    MOST = 256  # lines gathered before they are written regardless

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._gathered: list[bytes] = []

    def write(self, line: bytes) -> None:
        """One JSON line (without its end) to write with the others gathered."""
        with self.lock:  # type: ignore[union-attr]
            self._gathered.append(line)
            if len(self._gathered) >= self.MOST:
                self.flush()
            elif len(self._gathered) == 1:
                try:
                    asyncio.get_running_loop().call_later(self.DELAY, self.flush)
                except RuntimeError:  # no loop here: write it now
                    self.flush()

    def _drain(self) -> None:
        if self._gathered:
            lines, self._gathered = self._gathered, []
            lines.append(b"")
            self.stream.write(b"\n".join(lines).decode())

    def emit(self, record: logging.LogRecord) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._drain()
        super().emit(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self.stream is not None:
                self._drain()
        super().flush()


def configure_logging(level: str) -> None:
    """JSON lines on stderr for our loggers and uvicorn's (its access log is ours now)."""
    handler = JsonLines(sys.stderr)
    handler.setFormatter(JsonFormatter())
    # The line carries none of these; not collecting them halves a record's cost (the
    # logging HOWTO's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for name in ("treatykb", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


class Metrics:
    """Requests by (method, route, status), latency by (method, route), requests in flight.

    Counted in plain dicts and ints by the edge, on the event loop's thread, and made
    into Prometheus families only when /metrics is read: prometheus_client's Counter,
    Histogram and Gauge take a lock on every call, 5 % of a 304's time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.in_flight = 0
        self.engine: Engine | None = None
        self._requests: dict[tuple[str, str, int], int] = {}
        # Per (method, route): a count per bucket of BUCKETS, one for +Inf, then the sum.
        self._latency: dict[tuple[str, str], list[float]] = {}
        self.registry.register(_RequestCollector(self))
        self.registry.register(_PoolCollector(self))

    def count(self, method: str, route: str, status: int, seconds: float) -> None:
        """One answered request."""
        key = (method, route, status)
        self._requests[key] = self._requests.get(key, 0) + 1
        latency = self._latency.get(pair := (method, route))
        if latency is None:
            latency = self._latency[pair] = [0] * (len(BUCKETS) + 1) + [0.0]
        latency[bisect_left(BUCKETS, seconds)] += 1  # the first bucket with le >= seconds
        latency[-1] += seconds

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _RequestCollector:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Any:
        requests = CounterMetricFamily(
            "treatykb_requests", "HTTP requests answered.", labels=["method", "route", "status"]
        )
        for (method, route, status), value in list(self.metrics._requests.items()):
            requests.add_metric([method, route, str(status)], value)
        latency = HistogramMetricFamily(
            "treatykb_request_duration_seconds", "Time to answer, by route.",
            labels=["method", "route"],
        )  # fmt: skip
        for labels, counts in list(self.metrics._latency.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip(
                [*map(floatToGoString, BUCKETS), "+Inf"], counts[:-1], strict=True
            ):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric(list(labels), buckets, sum_value=counts[-1])
        in_flight = GaugeMetricFamily("treatykb_requests_in_flight", "Requests being answered.")
        in_flight.add_metric([], self.metrics.in_flight)
        yield from (requests, latency, in_flight)


class _PoolCollector:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Any:
        pool: Any = self.metrics.engine.pool if self.metrics.engine is not None else None
        if pool is None or not hasattr(pool, "checkedout"):
            return
        for name, value, help_text in (
            ("treatykb_db_pool_checked_out", pool.checkedout(), "Connections in use."),
            ("treatykb_db_pool_idle", pool.checkedin(), "Connections open and idle."),
            ("treatykb_db_pool_size", pool.size(), "Configured pool size."),
        ):
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], value)
            yield family


_PREFIXES: dict[int, str] = {}  # by route id: each route object sits under one prefix


def route_of(scope: Scope) -> str:
    """The route's template with its router prefixes: /v1/statements/{statement_id}."""
    route = scope.get("route")
    relative: str | None = getattr(route, "path", None)
    if relative is None:
        return "unmatched"
    if (prefix := _PREFIXES.get(id(route))) is not None:
        return prefix + relative
    rendered = relative
    for name, value in scope.get("path_params", {}).items():
        pattern = r"\{" + re.escape(name) + r"(:[^}]*)?\}"
        rendered = re.sub(pattern, str(value).replace("\\", "\\\\"), rendered)
    path: str = scope["path"]
    if not path.endswith(rendered):  # an escaped parameter: keep the template alone
        return relative
    prefix = _PREFIXES[id(route)] = path[: len(path) - len(rendered)]
    return prefix + relative


def _sole_handler() -> JsonLines | None:
    """Our handler, when the access line would reach it and nothing else."""
    parent = log.parent
    if log.handlers or log.filters or not log.propagate or log.disabled or parent is None:
        return None
    if parent.filters or parent.propagate or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if type(handler) is not JsonLines or handler.filters or handler.level > logging.INFO:
        return None
    return handler


def access_log(
    scope: Scope, request_id: str, method: str, route: str, status: int, seconds: float
) -> None:
    """The access log line of one answered request."""
    if not log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    line = {
        "time": _stamp(time.time()), "level": "info", "logger": ACCESS, "message": "request",
        "request_id": request_id, "method": method, "path": scope["path"], "route": route,
        "status": status, "duration_ms": int(seconds * 1_000_000) / 1000,
        "client": client[0] if client else None,
    }  # fmt: skip
    handler = _sole_handler()
    if handler is not None:
        handler.write(orjson.dumps(line))  # as JsonFormatter makes it of the record below
        return
    fields = {name: value for name, value in line.items() if name not in RECORD}
    log.info("request", extra={"fields": fields})


RECORD = frozenset({"time", "level", "logger", "message"})  # what the LogRecord carries


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return metrics.render()
