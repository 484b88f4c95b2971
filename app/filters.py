"""Query helpers every list endpoint shares: multi-valued filters and partial-date ranges.

Date rule (documented in the README): a record dated only to a month or a year matches
`since`/`until` when its period overlaps the range. A statement of "2020-11" matches
since=2020-11-15 (it may have been said that late) but not since=2020-12-01.
"""

import datetime as dt
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import ColumnElement, and_, func, or_

from app.dates import Day, Precision, truncate

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
    """`column` on or after a day given truncated to each precision (values or binds)."""
    exact = or_(
        *(
            and_(func.length(column) == length, column >= bounds[precision])
            for precision, length in PRECISIONS.items()
        )
    )
    # Implied by `exact` ("2020" sorts before every "2020-..."), and a plain range an
    # index can seek to.
    return and_(column >= bounds[Precision.year], exact)


def on_or_before(column: Any, day: Any) -> ColumnElement[bool]:
    # "2020-11" <= "2020-11-15" as text: a coarse date's string sorts before its days.
    return column <= (day.isoformat() if isinstance(day, dt.date) else day)  # type: ignore[no-any-return]
