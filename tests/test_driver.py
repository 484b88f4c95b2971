"""Statements compiled once (app.db.Prepared) run through the driver as SQLAlchemy runs
them, and bulk inserts (insert_many) land rows and fail as SQLAlchemy does."""

import pytest
from sqlalchemy import bindparam, column, event, func, select, table
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from app import models as m
from app.db import Prepared, insert_many, make_engine
from app.meta.service import begin_write
from app.migrate import upgrade


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
            begin_write(session)
            insert_many(session, table_, ("code", "name", "historical"), rows)
        with Session(engine) as session:
            stored = session.execute(select(m.Country.code, m.Country.name, m.Country.historical))
            assert sorted(map(tuple, stored)) == rows
        again = [("XC", "Mu", False), ("XA", "Again", False)]
        with Session(engine) as session, session.begin():
            begin_write(session)
            with pytest.raises(IntegrityError, match="XA"):
                insert_many(session, table_, ("code", "name", "historical"), again)
            session.rollback()
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(table_)) == 2
    finally:
        engine.dispose()
