"""A plan's page and capped count, run through SQL compiled once per shape.

Built anew each request, a SQLAlchemy statement is walked to find its cached compilation
and its result adapted to it: ~0.7 ms a page, more than SQLite took to run it. Here the
statement for a shape (the filters given and how many values each, a cursor or not, the
sort) is built from the read spec with named parameters and compiled once; a request only
fills in the values and runs it through the driver. A filter whose SQL depends on its
value (a search) makes the same statement from the same spec with the values inline.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Dialect, Select, bindparam, func, literal_column, select, tuple_
from sqlmodel import Session

from app.db import Prepared
from app.pagination import COUNT_CAP, PageParams, _decode, _encode
from app.reads.spec import Plan

Base = Callable[[str], Select[Any]]


def _names(prefix: str, count: int) -> list[Any]:
    return [bindparam(f"{prefix}{i}") for i in range(count)]


def _binds(plan: Plan) -> dict[str, list[Any]]:
    return {name: _names(name, len(values)) for name, values in plan.given.items()}


def page_query(plan: Plan, base: Base, dialect: str, values: Any, after: Sequence[Any] | None
               ) -> Select[Any]:  # fmt: skip
    """A page of `base()` rows: filtered, in the plan's order, after the cursor's row.
    The sort's columns are selected too, after `base()`'s (page_rows drops them): SQLite
    flattens a UNION ALL view (a read at a past version, app/history/past.py) into the
    query only when every ORDER BY term is selected, and then merges its arms' index
    orders; otherwise it sorts every matching row of the view (a treaty's 100,000
    statements at 1M, to show 50)."""
    order = plan.sort.order
    query = plan.filtered(base(dialect), dialect, values).order_by(*plan.sort.terms())
    query = query.add_columns(*(column for column, _ in order))
    if after is not None:  # every sort runs one way: a row-value comparison, one seek
        columns, bound = tuple_(*(c for c, _ in order)), tuple_(*after)
        query = query.where(columns < bound if order[0][1] else columns > bound)
    return query


def count_query(plan: Plan, dialect: str, values: Any) -> Select[Any]:
    """How many rows match, up to COUNT_CAP + 1: through the link a filter names (its
    index holds them), each record once, from that index alone when no filter tests the
    record's own row, so a count costs what a page costs."""
    via = plan.counting_via
    conditions = plan.conditions(dialect, values, counting=True)
    if via is None:
        matching: Select[Any] = select(literal_column("1")).select_from(plan.spec.model)
    else:  # a record linked to several of the values is one match
        key = via.columns[plan.spec.key]
        matching = select(key).distinct().select_from(via.model)
        if plan.reads_rows:
            matching = matching.join(plan.spec.model, via.on())
    capped = matching.where(*conditions).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(capped)


Compiled = dict[tuple[Any, ...], Prepared]
_PAGES: Compiled = {}
_COUNTS: Compiled = {}
MOST = 512  # compiled statements kept of each kind (shapes in use are far fewer)


def _kept(kept: Compiled, key: tuple[Any, ...], make: Callable[[], Any], dialect: Dialect
          ) -> Prepared:  # fmt: skip
    found = kept.get(key)
    if found is None:
        if len(kept) >= MOST:
            kept.clear()
        found = kept[key] = Prepared(make(), dialect)
    return found


def _shape(plan: Plan, dialect: Dialect) -> tuple[Any, ...]:
    """What a compiled statement depends on: not the values, only how many each filter
    has, the sort, the driving link and the database."""
    return (plan.spec.name, plan.shape(), plan.requested.name, dialect)


def _values(plan: Plan, after: Sequence[Any] | None) -> dict[str, Any]:
    given = {**plan.given, "after": after or ()}
    return {f"{name}{i}": v for name, vs in given.items() for i, v in enumerate(vs)}


def page_rows(
    session: Session, plan: Plan, base: Base, page: PageParams, key_of: Callable[[str], int]
) -> tuple[Sequence[Any], str | None]:
    """The page's rows (in `base()`'s column order; `key_of` finds a column's position)
    and the cursor of the next page, if any."""
    after = _decode(page.cursor, plan.requested) if page.cursor else None
    connection, dialect = session.connection(), session.get_bind().dialect
    if plan.compiled:
        values = {**_values(plan, after), "limit": page.limit + 1}
        cursor = _names("after", len(plan.sort.order)) if after is not None else None

        def make() -> Select[Any]:
            query = page_query(plan, base, dialect.name, _binds(plan), cursor)
            return query.limit(bindparam("limit"))

        key = (*_shape(plan, dialect), base, cursor is not None)
        rows = _kept(_PAGES, key, make, dialect).rows(connection, values)
    else:
        query = page_query(plan, base, dialect.name, None, after).limit(page.limit + 1)
        rows = list(connection.execute(query).all())
    extra = len(plan.sort.order)  # the sort's own copies, after base()'s columns
    rows = [row[:-extra] for row in rows]
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    keys = [key_of(column.key) for column, _ in plan.requested.order]
    return rows, _encode(plan.requested, [rows[-1][k] for k in keys])


def count_rows(session: Session, plan: Plan) -> tuple[int, bool]:
    """(total up to COUNT_CAP, whether it is exact)."""
    connection, dialect = session.connection(), session.get_bind().dialect
    if plan.compiled:
        make = lambda: count_query(plan, dialect.name, _binds(plan))  # noqa: E731
        # A count depends on the filters alone, not on the sort or how a page is read.
        key = (plan.spec.name, tuple((n, len(v)) for n, v in plan.given.items()), dialect)
        counting = _kept(_COUNTS, key, make, dialect)
        total = counting.rows(connection, _values(plan, None))[0][0]
    else:
        total = connection.execute(count_query(plan, dialect.name, None)).scalar_one()
    return min(total, COUNT_CAP), total <= COUNT_CAP
