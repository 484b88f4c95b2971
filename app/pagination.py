"""Keyset paging: page parameters, the list envelope, opaque cursors and Link headers.

A cursor holds the sort-key values of the last row served, so page N costs what page 1
costs: the database seeks past the cursor instead of counting OFFSET rows.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlmodel import Session

from app.errors import InvalidParameter

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Rows matching the filters, across all pages.")
    next: str | None = Field(description="URL of the next page, or null on the last page.")


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


def page_params(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="Rows per page (default 50).")] = None,
    cursor: Annotated[
        str | None, Query(description="Opaque cursor from a previous page's `next`.")
    ] = None,
) -> PageParams:
    settings = request.app.state.settings
    size = settings.default_page_size if limit is None else limit
    if size > settings.max_page_size:
        raise InvalidParameter(f"limit must be at most {settings.max_page_size}; got {size}.")
    return PageParams(limit=size, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]

Order = Sequence[tuple[Any, bool]]  # (column, descending)


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidParameter("cursor is not one this API issued; use a `next` URL.") from exc
    if not isinstance(values, list) or len(values) != width:
        raise InvalidParameter("cursor is not one this API issued; use a `next` URL.")
    return values


def _after(order: Order, values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in `order` (a tuple comparison with mixed directions)."""
    branches = []
    for i, (column, descending) in enumerate(order):
        equal = [order[j][0] == values[j] for j in range(i)]
        branches.append(and_(*equal, column < values[i] if descending else column > values[i]))
    return or_(*branches)


@dataclass
class Slice:
    rows: list[Any]
    total: int
    next_cursor: str | None


def fetch_page(session: Session, query: Select[Any], order: Order, page: PageParams) -> Slice:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    ordered = query.order_by(*(col.desc() if desc else col.asc() for col, desc in order))
    if page.cursor:
        ordered = ordered.where(_after(order, _decode(page.cursor, len(order))))
    rows = list(session.execute(ordered.limit(page.limit + 1)).scalars())
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    cursor = _encode([getattr(rows[-1], col.key) for col, _ in order]) if more else None
    return Slice(rows, total or 0, cursor)


def envelope(request: Request, response: Response, part: Slice, items: list[T]) -> Page[T]:
    """Wrap items in the list envelope and advertise the next page in a Link header."""
    next_url = None
    if part.next_cursor:
        next_url = str(request.url.include_query_params(cursor=part.next_cursor))
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return Page[T](items=items, total=part.total, next=next_url)
