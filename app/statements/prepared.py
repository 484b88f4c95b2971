"""Pages of statements through SQL compiled once per filter shape.

A list request used to build its SQLAlchemy statement anew, and SQLAlchemy then walked
it to find its cached compilation and adapted the result to it: ~0.7 ms a page, more
than SQLite took to run it. Here the statement for a shape (which filters, how many
values each, a cursor or not, the sort) is built with named parameters and compiled
once; a request only fills in the values and runs it through the driver. Same filters,
same SQL as `service.statement_rows` + `pagination.fetch_page` (tests compare them).
"""

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Select, bindparam, func, literal_column, select, tuple_
from sqlmodel import Session

from app import models as m
from app.db import Prepared
from app.pagination import COUNT_CAP, PageParams, Sort, _decode, _encode
from app.statements import read, service
from app.statements.service import StatementFilters

S = m.Statement
Shape = tuple[Any, ...]


def _names(prefix: str, count: int) -> list[Any]:
    return [bindparam(f"{prefix}{i}") for i in range(count)]


def _filtered(query: Select[Any], filters: Shape) -> Select[Any]:
    """The service's conditions (`service.CONDITIONS`), each value a bind parameter."""
    return query.where(*service.conditions({name: _names(name, n) for name, n in filters}))


@lru_cache(maxsize=512)
def _compiled(dialect: Dialect, shape: Shape) -> Prepared:
    filters, order, cursor = shape
    query = _filtered(read.base(dialect.name), filters)
    query = query.order_by(*(c.desc() if d else c.asc() for c, d in order))
    if cursor:  # every statement sort runs one way: a row-value comparison, one seek
        columns = tuple_(*(c for c, _ in order))
        bound = tuple_(*_names("after", len(order)))
        query = query.where(columns < bound if order[0][1] else columns > bound)
    return Prepared(query.limit(bindparam("limit")), dialect)


@lru_cache(maxsize=512)
def _counting(dialect: Dialect, filters: Shape) -> Prepared:
    """The count `pagination.count_capped` makes of a list query, for statements alone:
    the outer joins of a page (on unique keys, so never more rows) read a row each."""
    matching = _filtered(select(literal_column("1")).select_from(S), filters)
    capped = matching.limit(COUNT_CAP + 1).subquery()
    return Prepared(select(func.count()).select_from(capped), dialect)


def _shape(f: StatementFilters) -> Shape:
    """Which filters a request gives and how many values each: one compiled statement."""
    return tuple((name, len(values)) for name, values in service.given(f).items())


def _values(f: StatementFilters, after: list[Any] | None, limit: int) -> dict[str, Any]:
    given = {**service.given(f), "after": after or ()}
    values: dict[str, Any] = {"limit": limit}
    values.update({f"{name}{i}": v for name, vs in given.items() for i, v in enumerate(vs)})
    return values


def supports(f: StatementFilters, sort: Sort) -> bool:
    """`q` filters by a search first: that page goes the general way (as would a sort
    whose columns ran different ways; no statement sort does)."""
    return f.q is None and len({descending for _, descending in sort.order}) == 1


def page_rows(
    session: Session, f: StatementFilters, sort: Sort, page: PageParams
) -> tuple[Sequence[Any], str | None]:
    """The page's rows (`read.COLUMNS` order) and the cursor of the next page, if any."""
    after = _decode(page.cursor, sort) if page.cursor else None
    shape = (_shape(f), tuple(sort.order), after is not None)
    statement = _compiled(session.get_bind().dialect, shape)
    rows = statement.rows(session.connection(), _values(f, after, page.limit + 1))
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    keys = [read.COLUMNS.index(c.key) for c, _ in sort.order]
    return rows, _encode(sort, [rows[-1][k] for k in keys])


def count_rows(session: Session, f: StatementFilters) -> tuple[int, bool]:
    """(total, exact) as `pagination.count_capped` counts them, by SQL compiled once."""
    values = _values(f, None, 0)
    del values["limit"]
    rows = _counting(session.get_bind().dialect, _shape(f)).rows(session.connection(), values)
    total = rows[0][0]
    return min(total, COUNT_CAP), total <= COUNT_CAP
