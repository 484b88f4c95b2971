"""Query helpers every list endpoint shares: multi-valued filters and partial-date ranges.

Date rule (documented in the README): a record dated only to a month or a year matches
`since`/`until` when its period overlaps the range. A statement of "2020-11" matches
since=2020-11-15 (it may have been said that late) but not since=2020-12-01.
"""

import datetime as dt
import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import ColumnElement, and_, or_

from app.dates import Day, Precision, period, truncate
from app.errors import InvalidParameter

OnQuery = Annotated[
    Day | None,
    Query(description="The day to evaluate; default today (UTC).", examples=["2021-02-04"]),
]


def values(raw: list[str] | None) -> list[str]:
    """Filter values from repeated parameters or comma lists: treaty=inf,new-start."""
    if not raw:
        return []
    return [part.strip() for item in raw for part in item.split(",") if part.strip()]


PRECISIONS = {Precision.day: 10, Precision.month: 7, Precision.year: 4}  # and their lengths


def on_or_after(column: Any, day: dt.date) -> ColumnElement[bool]:
    return overlapping_from(column, {p: truncate(day, p) for p in PRECISIONS})


def overlapping_from(column: Any, bounds: dict[Precision, Any]) -> ColumnElement[bool]:
    """`column` on or after a day given truncated to each precision (values or binds).

    ISO dates of mixed precision sort as text with a coarse date before its own days
    ("2020" < "2020-11" < "2020-11-15"), so a date is on or after the day at its own
    precision exactly when it is at or after the day itself, or is the day's month, or
    its year. Written so, a range and two equalities, a planner can estimate how many
    rows match (it cannot see into length() tests); the year's range leads, which an
    index seeks to."""
    exact = or_(
        column >= bounds[Precision.day],
        column == bounds[Precision.month],
        column == bounds[Precision.year],
    )
    return and_(column >= bounds[Precision.year], exact)


def on_or_before(column: Any, day: Any) -> ColumnElement[bool]:
    # "2020-11" <= "2020-11-15" as text: a coarse date's string sorts before its days.
    return column <= (day.isoformat() if isinstance(day, dt.date) else day)  # type: ignore[no-any-return]


def period_bounds(values: tuple[str, ...]) -> tuple[str, ...]:
    """Each period given (a year, month or day) as the bounds of its dates as text: a date
    within "2020-11" is at least "2020-11" and below "2020-11~" ('~' sorts after '-' and
    every digit)."""
    for value in values:
        if not PERIOD.fullmatch(value):
            raise InvalidParameter(f"during={value!r} is not a year, month or day (2020, "
                                   "2020-11 or 2020-11-21).")  # fmt: skip
        try:
            period(value)
        except ValueError:
            raise InvalidParameter(f"during={value!r} is not a real date.") from None
    return tuple(bound for value in values for bound in (value, value + "~"))


PERIOD = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def within(column: Any, bounds: Sequence[Any]) -> ColumnElement[bool]:
    """`column` within any of the periods `period_bounds` gave (`during`)."""
    pairs = zip(bounds[::2], bounds[1::2], strict=True)
    return or_(*(and_(column >= low, column < high) for low, high in pairs))
