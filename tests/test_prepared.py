"""Statement pages through SQL compiled once per shape are the general path's pages."""

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, column, event, func, select, table
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from app import models as m
from app.db import Prepared, insert_many, make_engine
from app.migrate import upgrade
from app.pagination import count_capped
from app.statements import prepared, service
from app.statements.service import StatementFilters

FILTERS = [
    {},
    {"treaty": "new-start"},
    {"treaty": "inf,open-skies", "sort": "said_on"},
    {"speaker": "sergei-lavrov"},
    {"speaker": "sergei-lavrov,mike-pompeo", "since": "2019-01-01"},
    {"country": "RU", "until": "2020-11-15"},
    {"since": "2020-11-15", "until": "2020-12-31"},  # month-precision dates overlap
    {"article": "act-2020-12-new-start-deal-to-wait-for-biden"},
    {"treaty": "new-start", "country": "US", "since": "2020-01-01", "until": "2021-12-31"},
    {"sort": "id"},
    {"sort": "-id", "treaty": "nothing-here"},
]


def _pages(client: TestClient, params: dict[str, str]) -> list[dict[str, object]]:
    pages, url, query = [], "/v1/statements", {**params, "limit": "4"}
    while url:
        response = client.get(url, params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json() | {"link": response.headers.get("link")})
        url, query = pages[-1]["next"], None  # type: ignore[assignment]
    return pages


@pytest.mark.parametrize(
    "params", FILTERS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items())
)
def test_prepared_pages_equal_the_general_paths(
    shared_url: str,
    client_for: Callable[..., TestClient],
    params: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = prepared.page_rows
    monkeypatch.setattr(prepared, "page_rows", lambda *a: calls.append(1) or real(*a))
    fast = _pages(client_for(shared_url), params)  # each run its own memo of pages, totals
    assert len(calls) == len(fast)  # every page went the prepared way
    monkeypatch.setattr(prepared, "supports", lambda *_: False)
    assert fast == _pages(client_for(shared_url), params)
    assert len(calls) == len(fast)


def test_rows_through_the_driver_are_sqlalchemys_rows(shared_url: str) -> None:
    engine = make_engine(shared_url)
    one = Prepared(select(m.Statement.id).where(m.Statement.id == bindparam("id")), engine.dialect)
    wanted = "lavrov-2020-11-12-wait-until-the-dust-settles"
    seen: list[str] = []
    try:
        with engine.connect() as connection:
            direct = one.rows(connection, {"id": wanted})
        event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        with engine.connect() as connection:
            observed = one.rows(connection, {"id": wanted})
    finally:
        engine.dispose()
    assert [tuple(r) for r in direct] == [tuple(r) for r in observed] == [(wanted,)]
    assert seen == [one.sql]  # a listener still sees every statement


def test_a_driver_error_is_sqlalchemys_error(shared_url: str) -> None:
    engine = make_engine(shared_url)
    missing = table("no_such_table", column("id"))
    one = Prepared(select(missing.c.id).where(missing.c.id == bindparam("id")), engine.dialect)
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError, match="no_such_table"):
            one.rows(connection, {"id": "x"})
    finally:
        engine.dispose()


def test_bulk_inserts_write_rows_and_fail_as_sqlalchemy_does(empty_url: str) -> None:
    """insert_many (the loader's COPY on PostgreSQL, executemany on SQLite): rows land as
    given, and a constraint violation rolls back and surfaces as SQLAlchemy's error."""
    engine = make_engine(empty_url)
    upgrade(engine)
    table_ = m.Country.__table__  # type: ignore[attr-defined]
    rows = [("XA", "Atlantis", False), ("XB", "Lemuria", True)]
    try:
        with Session(engine) as session, session.begin():
            insert_many(session, table_, ("code", "name", "historical"), rows)
        with Session(engine) as session:
            stored = session.execute(select(m.Country.code, m.Country.name, m.Country.historical))
            assert sorted(map(tuple, stored)) == rows
        again = [("XC", "Mu", False), ("XA", "Again", False)]
        with Session(engine) as session, session.begin():
            with pytest.raises(IntegrityError, match="XA"):
                insert_many(session, table_, ("code", "name", "historical"), again)
            session.rollback()
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(table_)) == 2
    finally:
        engine.dispose()


COUNTS = [
    StatementFilters(),
    StatementFilters(treaties=["inf", "open-skies"]),
    StatementFilters(speakers=["sergei-lavrov", "mike-pompeo"], since=dt.date(2019, 1, 1)),
    StatementFilters(countries=["RU"], until=dt.date(2020, 11, 15)),
    StatementFilters(since=dt.date(2020, 11, 15), until=dt.date(2020, 12, 31)),
    StatementFilters(articles=["act-2020-12-new-start-deal-to-wait-for-biden"]),
    StatementFilters(treaties=["nothing-here"]),
]


def test_prepared_counts_equal_the_general_counts(shared_url: str) -> None:
    """The count compiled once (statements alone) counts what the list query counts."""
    engine = make_engine(shared_url)
    try:
        with Session(engine) as session:
            for filters in COUNTS:
                general = count_capped(session, service.statement_rows(session, filters))
                assert prepared.count_rows(session, filters) == general, filters
            assert prepared.count_rows(session, COUNTS[0])[0] > 10  # counts something
    finally:
        engine.dispose()


PARAMETERS = {"treaty": "treaties", "speaker": "speakers", "country": "countries",
              "article": "articles", "since": "since", "until": "until"}  # fmt: skip


def test_every_declared_filter_is_compared_on_both_paths() -> None:
    """A filter is declared once (service.CONDITIONS) for both paths; the comparison above
    must exercise each, so a filter added there is held to both paths at once."""
    compared = {PARAMETERS[name] for params in FILTERS for name in params if name != "sort"}
    assert compared == set(service.CONDITIONS)
