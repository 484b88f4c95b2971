"""The kinds of filter every list is made of, each one line in a read spec.

Date rules: a record dated only to a month or a year matches `since`/`until` when its
period overlaps the range (app/filters.py), and `during` only when it is known to lie
within the period named (a statement of "2020" is not during 2020-11; one of "2020-11"
is during 2020 and 2020-11, and during no day). Several values of one filter are OR.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlmodel import col

from app.dates import truncate
from app.filters import PRECISIONS, on_or_before, overlapping_from, period_bounds, within
from app.reads.spec import Filter, Where, unindexed
from app.search.query import HELP as SEARCH_HELP
from app.search.service import matching_keys

OVERLAP = "A record dated only to a month or year matches when its period overlaps."
WITHIN = (
    "A record dated less precisely than the period does not match (2020 is not during 2020-11)."
)


def one_of(
    name: str, description: str, example: str, column: Any, *, index: str | None = None,
    orders: str | None = None, upper: bool = False,
) -> Filter:  # fmt: skip
    """The record's own `column` is one of the values."""

    def condition(where: Where, values: Sequence[Any]) -> ColumnElement[bool]:
        tested = unindexed(col(column)) if where.walk else col(column)
        return tested.in_(values)

    normalize = (lambda v: v.strip().upper()) if upper else str.strip
    return Filter(name, "keys", description, example, condition, index, orders,
                  normalize=normalize)  # fmt: skip


def linked(
    name: str, description: str, example: str, key: str, owner: Any, target: Any,
    *, index: str | None = None,
) -> Filter:  # fmt: skip
    """A row of a link (or owned) table names the record (`owner`) and one of the values
    (`target`)."""

    def condition(where: Where, values: Sequence[Any]) -> ColumnElement[bool]:
        return col(where.columns[key]).in_(select(owner).where(col(target).in_(values)))

    return Filter(name, "keys", description, example, condition, index)


def _bounds(day: dt.date) -> tuple[str, ...]:
    return tuple(truncate(day, precision) for precision in PRECISIONS)


def dated(column: str, noun: str, examples: tuple[str, str], index: str | None = None
          ) -> tuple[Filter, Filter, Filter]:  # fmt: skip
    """`since`, `until` and `during` on the date in `column` (one of the read's order
    columns, so a link that copies it serves the range from its own index)."""

    def tested(where: Where) -> Any:
        return unindexed(where.columns[column]) if where.walk else where.columns[column]

    def since(where: Where, bounds: Sequence[Any]) -> ColumnElement[bool]:
        return overlapping_from(tested(where), dict(zip(PRECISIONS, bounds, strict=True)))

    def until(where: Where, day: Sequence[Any]) -> ColumnElement[bool]:
        return on_or_before(tested(where), day[0])

    def during(where: Where, bounds: Sequence[Any]) -> ColumnElement[bool]:
        return within(tested(where), bounds)

    return (
        Filter("since", "day", f"{noun} on or after. {OVERLAP}", examples[0], since, index,
               column, own_row=False, prepare=_bounds, arity=len(PRECISIONS)),
        Filter("until", "day", f"{noun} on or before. {OVERLAP}", examples[1], until, index,
               column, own_row=False, prepare=lambda d: (d.isoformat(),)),
        Filter("during", "keys", f"{noun} within the year, month or day (repeat for any of "
               f"several). {WITHIN}", examples[0][:7], during, index, column, own_row=False,
               prepare=period_bounds, arity=2),
    )  # fmt: skip


def search(kind: str, key: str, description: str = SEARCH_HELP, example: str = "verif*") -> Filter:
    """The record is among the search index's matches for the words (`q`)."""

    def condition(where: Where, text: Sequence[Any]) -> ColumnElement[bool]:
        tested = col(where.columns[key])
        return (unindexed(tested) if where.walk else tested).in_(
            matching_keys(where.dialect, kind, text[0])
        )

    return Filter("q", "text", description, example, condition, "search_fts",
                  own_row=False, compiled=False)  # fmt: skip


def flag(name: str, description: str, column: Any) -> Filter:
    """The record's boolean `column` is the value given."""

    def condition(_: Where, value: Sequence[Any]) -> ColumnElement[bool]:
        return col(column).is_(value[0])

    return Filter(name, "flag", description, "true", condition)
