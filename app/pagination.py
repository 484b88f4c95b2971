"""Keyset paging and sorting: parameters, the list envelope, opaque cursors, Link headers.

A cursor holds the sort and the sort-key values of the last row served, so page N costs
what page 1 costs: the database seeks past the cursor instead of counting OFFSET rows.
Every sort ends with the primary key as a tie-breaker, so paging never repeats or skips.
"""

import base64
import binascii
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlmodel import Session

from app.errors import InvalidParameter

T = TypeVar("T")

# Counting every match of a huge filter costs as much as reading it; past this many the
# envelope says "at least" instead (total_relation "gte").
COUNT_CAP = 10_000


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="This page's records, in the order asked for.")
    total: int = Field(description="Rows matching the filters (see total_relation).")
    total_relation: Literal["eq", "gte"] = Field(
        default="eq",
        description=f"`eq`: total is exact. `gte`: more than {COUNT_CAP:,} rows match; "
        "total is a lower bound.",
    )
    next: str | None = Field(description="URL of the next page, or null on the last page.")


@dataclass(frozen=True)
class Sort:
    """A named sort: `-said_on` is said_on descending, then the primary key descending."""

    name: str
    order: Sequence[tuple[Any, bool]]  # (column, descending)
    by: Sequence[Any] = ()  # the ORDER BY terms, when not the columns themselves

    def terms(self) -> list[Any]:
        return list(self.by) or [c.desc() if desc else c.asc() for c, desc in self.order]


Format = Literal["json", "csv", "ndjson"]
MEDIA_TYPES: dict[str, Format] = {"text/csv": "csv", "application/x-ndjson": "ndjson"}


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    format: Format = "json"
    fields: tuple[str, ...] = ()
    explicit_limit: bool = True


def negotiate(request: Request, requested: Format | None = None) -> Format:
    """The format asked for: `format=` if given, else what Accept names, else JSON."""
    if requested:
        return requested
    accept = request.headers.get("accept", "")
    return next((fmt for media, fmt in MEDIA_TYPES.items() if media in accept), "json")


async def page_params(
    request: Request,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            description="Rows per page (default 50, at most 500). For csv and ndjson: "
            "rows in all (default: every matching row, streamed).",
        ),
    ] = None,
    cursor: Annotated[
        str | None, Query(description="Opaque cursor from a previous page's `next`.")
    ] = None,
    format: Annotated[
        Format | None,
        Query(description="json (default), csv or ndjson; `Accept: text/csv` works too."),
    ] = None,
    fields: Annotated[
        str | None, Query(description="Comma-separated top-level fields to return.")
    ] = None,
) -> PageParams:
    settings = request.app.state.settings
    fmt = negotiate(request, format)
    size = settings.default_page_size if limit is None else limit
    if fmt == "json" and size > settings.max_page_size:
        raise InvalidParameter(f"limit must be at most {settings.max_page_size}; got {size}.")
    names = tuple(name.strip() for name in (fields or "").split(",") if name.strip())
    return PageParams(size, cursor, fmt, names, explicit_limit=limit is not None)


PageDep = Annotated[PageParams, Depends(page_params)]


class SortParam:
    """A `sort` query parameter over `columns`, with `key` (the primary key) as tie-breaker.

    Call `.dependency` through Depends; `.default` is the parsed default sort.
    """

    def __init__(self, columns: dict[str, Any], key: Any, default: str) -> None:
        self.columns, self.key = columns, key
        self.choices = ", ".join(f"{name}, -{name}" for name in columns)
        self.default = self.parse(default)
        choices = self.choices

        async def dependency(  # async: no I/O, so no trip through the threadpool
            sort: Annotated[
                str, Query(description=f"One of: {choices}. A leading - sorts descending.")
            ] = default,
        ) -> Sort:
            return self.parse(sort)

        self.dependency = dependency

    def parse(self, sort: str) -> Sort:
        columns, key, choices = self.columns, self.key, self.choices
        descending = sort.startswith("-")
        column = columns.get(sort.removeprefix("-"))
        if column is None:
            raise InvalidParameter(f"sort must be one of: {choices}; got {sort!r}.")
        order = [(column, descending)]
        if column is not key:
            order.append((key, descending))
        return Sort(sort, order)


sort_param = SortParam


def _encode(sort: Sort, values: list[Any]) -> str:
    payload = json.dumps({"s": sort.name, "v": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


BAD_CURSOR = "cursor is not one this API issued; follow a `next` URL or drop the cursor."


def _decode(cursor: str, sort: Sort) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidParameter(BAD_CURSOR) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("v"), list):
        raise InvalidParameter(BAD_CURSOR)
    if payload.get("s") != sort.name:
        raise InvalidParameter(
            f"cursor belongs to sort={payload.get('s')}, not sort={sort.name}; "
            "keep the sort while paging, or drop the cursor."
        )
    values: list[Any] = payload["v"]
    if len(values) != len(sort.order) or not all(
        _fits(value, column) for value, (column, _) in zip(values, sort.order, strict=False)
    ):
        raise InvalidParameter(BAD_CURSOR)
    return values


def _fits(value: Any, column: Any) -> bool:
    """A tampered cursor must not reach the database with a value of the wrong type."""
    expected = int if isinstance(column.type, Integer) else str
    return isinstance(value, expected) and not isinstance(value, bool)


def _after(order: Sequence[tuple[Any, bool]], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in `order`.

    When every column runs the same way (all our sorts: the tie-breaker follows the sort),
    a row-value comparison `(said_on, id) < (?, ?)`, which both SQLite and PostgreSQL
    answer with one index seek. Mixed directions need the expanded OR form.
    """
    directions = {descending for _, descending in order}
    if len(directions) == 1:
        columns = tuple_(*(column for column, _ in order))
        bound = tuple_(*(literal(v) for v in values))
        return columns < bound if directions.pop() else columns > bound
    branches = []
    for i, (column, descending) in enumerate(order):
        equal = [order[j][0] == values[j] for j in range(i)]
        branches.append(and_(*equal, column < values[i] if descending else column > values[i]))
    return or_(*branches)


@dataclass
class Slice:
    rows: list[Any]
    total: int
    exact: bool
    next_cursor: str | None


class VersionMemo:
    """Values computed from the data, keyed with the data version; one memo per app.

    Totals per (version, endpoint, filters): paging through a result does not recount it;
    and the treaty and source summaries a page of statements embeds. (Whole responses are
    kept by app/cache.py.) A write moves the version, so nothing kept here is ever stale;
    old entries just age out, least recently used first, past `kept` entries or
    `max_bytes` of bodies.
    """

    def __init__(self, kept: int = 16_384, max_bytes: int = 64 << 20) -> None:
        self.kept, self.max_bytes = kept, max_bytes
        self._totals: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._totals.get(key)
            if found is None:
                return None
            self._totals.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any) -> None:
        size = _body_size(value)
        if size > self.max_bytes // 8:
            return  # a huge page would push out everything else: build it each time
        with self._lock:
            old = self._totals.pop(key, None)
            self._bytes += size - (old[1] if old else 0)
            self._totals[key] = (value, size)
            while len(self._totals) > self.kept or self._bytes > self.max_bytes:
                self._bytes -= self._totals.popitem(last=False)[1][1]


def _body_size(value: Any) -> int:
    """The bytes a kept value holds: a body, or a (body, next URL) pair; else ~0."""
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, tuple) and value and isinstance(value[0], bytes):
        return len(value[0])
    return 0


NOT_FILTERS = {"cursor", "limit", "sort", "fields", "expand", "format"}


def version_memo(request: Request) -> tuple[VersionMemo, int] | None:
    """The app's memo and this request's data version, when both are known."""
    version = getattr(request.state, "data_version", None)
    memo = getattr(request.app.state, "memo", None)
    return None if version is None or memo is None else (memo, version)


def counted_by(request: Request) -> tuple[VersionMemo, Hashable] | None:
    """Where this request's total may be cached, once the data version is known."""
    version = getattr(request.state, "data_version", None)
    counts = getattr(request.app.state, "memo", None)
    if version is None or counts is None:
        return None
    filters = sorted((k, v) for k, v in request.query_params.multi_items() if k not in NOT_FILTERS)
    return counts, (version, request.url.path, tuple(filters))


def count_capped(session: Session, query: Select[Any]) -> tuple[int, bool]:
    """(total up to COUNT_CAP, whether it is exact) of an ORM list query."""
    # Count rows, not columns: a listed column may be costly (a correlated aggregate) and
    # the database need not compute it. (No list query is DISTINCT or grouped.)
    only_rows: Select[Any] = query.with_only_columns(
        literal_column("1"), maintain_column_froms=True
    )
    capped = only_rows.order_by(None).limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped)) or 0
    return min(total, COUNT_CAP), total <= COUNT_CAP


def kept_count(
    cache: tuple[VersionMemo, Hashable] | None, count: Callable[[], tuple[int, bool]]
) -> tuple[int, bool]:
    """`count()`, kept per data version and filters in `cache`: paging through a long
    list counts it once."""
    if cache is not None and (found := cache[0].get(cache[1])) is not None:
        return found  # type: ignore[no-any-return]
    counted = count()
    if cache is not None:
        cache[0].put(cache[1], counted)
    return counted


def ordered_after(query: Select[Any], sort: Sort, cursor: str | None) -> Select[Any]:
    query = query.order_by(*sort.terms())
    return query.where(_after(sort.order, _decode(cursor, sort))) if cursor else query


def cursor_after(row: Any, sort: Sort) -> str:
    return _encode(sort, [getattr(row, col.key) for col, _ in sort.order])


def fetch_page(session: Session, query: Select[Any], sort: Sort, page: PageParams) -> Slice:
    """A page of ORM entities after the cursor, with the capped count."""
    total, exact = count_capped(session, query)
    paged = ordered_after(query, sort, page.cursor).limit(page.limit + 1)
    rows = list(session.execute(paged).scalars())
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Slice(rows, total, exact, cursor_after(rows[-1], sort) if more else None)


def next_link(url: str) -> str:
    """The Link header that advertises the next page."""
    return f'<{url}>; rel="next"'


def envelope(request: Request, response: Response, part: Slice, items: list[T]) -> Page[T]:
    """Wrap items in the list envelope and advertise the next page in a Link header."""
    next_url = None
    if part.next_cursor:
        next_url = str(request.url.include_query_params(cursor=part.next_cursor))
        response.headers["Link"] = next_link(next_url)
    relation: Literal["eq", "gte"] = "eq" if part.exact else "gte"
    return Page[T](items=items, total=part.total, total_relation=relation, next=next_url)
