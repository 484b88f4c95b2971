"""Whether a position was held on a day, from dates of mixed precision: never a guess."""

import datetime as dt

import pytest

from app import models as m
from app.people.tenure import held_on


def position(**dates: str) -> m.Position:
    return m.Position(person_slug="x", title="t", organization="o", **dates)


@pytest.mark.parametrize(
    ("dates", "day", "expected"),
    [
        ({}, "2020-01-01", "unknown"),
        ({"start_on": "2019-12"}, "2019-11-30", "no"),
        ({"start_on": "2019-12"}, "2019-12-15", "unknown"),  # the day in December unknown
        ({"start_on": "2019-12"}, "2030-01-01", "unknown"),  # no end: never "still held"
        ({"start_on": "2019-12", "still_held_on": "2020-11-09"}, "2020-11-09", "yes"),
        ({"start_on": "2019-12", "still_held_on": "2020-11-09"}, "2020-11-10", "unknown"),
        ({"start_on": "2019-12", "end_by_on": "2021-04-14"}, "2021-04-13", "unknown"),
        ({"start_on": "2019-12", "end_by_on": "2021-04-14"}, "2021-04-14", "no"),
        ({"start_on": "2019-12", "end_by_on": "2021-04"}, "2021-04-29", "unknown"),
        ({"start_on": "2019-12", "end_by_on": "2021-04"}, "2021-04-30", "no"),
        ({"start_on": "2011", "end_on": "2015"}, "2013-06-01", "yes"),
        ({"start_on": "2011", "end_on": "2015"}, "2015-06-01", "unknown"),
        ({"start_on": "2011", "end_on": "2015"}, "2016-01-01", "no"),
        ({"start_on": "2018-01-09", "end_on": "2021-01-08"}, "2021-01-08", "yes"),
        ({"still_held_on": "2020-11-12"}, "2020-11-12", "yes"),  # seen that day, start unknown
        ({"still_held_on": "2020-11-12"}, "2020-11-11", "unknown"),
        ({"still_held_on": "2020-11"}, "2020-11-12", "unknown"),
    ],
)
def test_held_on(dates: dict[str, str], day: str, expected: str) -> None:
    assert held_on(position(**dates), dt.date.fromisoformat(day)) == expected
