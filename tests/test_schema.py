"""Migrations are the schema: the migrated database must match the models exactly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.db import make_engine
from app.history.tables import HISTORY, SUFFIX, VERSIONED
from app.meta.service import begin_write
from app.migrate import include_object, pending_migrations, upgrade
from app.models import SQLModel


def test_migrated_schema_matches_the_models(empty_url: str) -> None:
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        options = {"compare_type": True, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_is_idempotent_and_nothing_is_pending(empty_url: str) -> None:
    engine = make_engine(empty_url)
    upgrade(engine)
    assert not pending_migrations(engine)
    engine.dispose()


def _history_only(
    _obj: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    return type_ != "table" or (name or "").endswith(SUFFIX)


def test_every_record_table_keeps_its_history(empty_url: str) -> None:
    """The migrated history tables match their declaration (each record table's columns,
    then sys_from and sys_to), each record table has sys_from, and triggers copy rows."""
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        options = {"compare_type": True, "include_object": _history_only}
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, HISTORY) == []
        present = inspect(connection)
        for table in VERSIONED:
            assert "sys_from" in {c["name"] for c in present.get_columns(table.name)}
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        triggers = {row[0] for row in connection.exec_driver_sql(query)}
    engine.dispose()
    for table in VERSIONED:
        assert any(name.startswith(table.name + SUFFIX) for name in triggers), table.name


def test_a_write_outside_the_write_path_is_refused(empty_url: str) -> None:
    """A row no data version owns would be invisible to history: it cannot be written."""
    engine = make_engine(empty_url)
    with pytest.raises(DBAPIError, match="outside the write path|user-defined function"):
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO country (code, name, historical) VALUES ('XA', 'A', false)"
            )
    with Session(engine) as session, session.begin():
        begin_write(session)
        session.execute(
            text("INSERT INTO country (code, name, historical) VALUES ('XA', 'A', false)")
        )
    engine.dispose()
