"""Dates known to the day, the month or only the year.

A partial date is stored and served as a reduced-precision ISO 8601 string: "2020-11-09",
"2020-11" or "2020". No day is ever invented for a source that gives only a month. ISO
strings of mixed precision sort correctly as text, so the database needs no second column.
"""

import calendar
import contextvars
import datetime as dt
import functools
import re
import time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class Precision(StrEnum):
    day = "day"
    month = "month"
    year = "year"


PRECISION = "day, month or year: how much of the date the source gives (none is invented)."

_LENGTHS = {Precision.year: 4, Precision.month: 7, Precision.day: 10}


def parse_partial(value: Any) -> str:
    """Accept a year (int) or an ISO string; return the canonical string. Files are read
    with dates as text, so the error names what was written."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _not_a_date(str(value))
    return _parse_text(value)


def _not_a_date(value: str) -> PydanticCustomError:
    message = "{value} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
    return PydanticCustomError("partial_date", message, {"value": value})


@functools.lru_cache(maxsize=16_384)  # a bulk load sees the same few thousand dates
def _parse_text(value: str) -> str:
    match = _PATTERN.match(value.strip())
    if not match:
        raise _not_a_date(value)
    year, month, day = match.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise _not_a_date(value) from exc
    return value.strip()


PartialDate = Annotated[str, BeforeValidator(parse_partial)]


def precision_of(value: str | None) -> Precision | None:
    if value is None:
        return None
    return {4: Precision.year, 7: Precision.month, 10: Precision.day}[len(value)]


def period(value: str) -> tuple[dt.date, dt.date]:
    """The first and last day the partial date may stand for."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        day = dt.date(*parts)
        return day, day
    if len(parts) == 2:
        year, month = parts
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, 1), dt.date(year, month, last)
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)


def truncate(day: dt.date, precision: Precision) -> str:
    return day.isoformat()[: _LENGTHS[precision]]


def certainly_by(value: str | None, day: dt.date) -> bool:
    """True when the whole period of a partial date lies on or before `day`."""
    return value is not None and period(value)[1] <= day


# The day a read at a named data version answers as of (app/history/past.py sets it).
READ_DAY: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("read_day", default=None)


def today() -> dt.date:
    """Today in UTC (read on every request: the day number, then its date once); for a
    read at a named data version (`as_of`), the day that version was made, so its answer
    is the same whenever it is asked (app/history/past.py)."""
    return READ_DAY.get() or _day(int(time.time() // 86_400))


@functools.lru_cache(maxsize=2)
def _day(number: int) -> dt.date:
    return EPOCH + dt.timedelta(days=number)


EPOCH = dt.date(1970, 1, 1)


def _iso_day(value: Any) -> Any:
    """Query dates are YYYY-MM-DD; pydantic alone would also take 0 as 1970-01-01."""
    if isinstance(value, str) and not _DAY.match(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Day = Annotated[
    dt.date,
    BeforeValidator(_iso_day),
    WithJsonSchema({"type": "string", "format": "date", "maxLength": 10}),
]
