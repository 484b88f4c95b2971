"""Reads at a past data version: the one read path, on connections that see the past.

A past read runs the same code and the same SQL as a current one. Only its connection
differs: it comes from the app's second engine (`past_engine`), on whose connections each
versioned table's name is a temporary view of the table as of the version the request
reads (`AS_OF`, applied at every checkout), a temporary object shadowing the table of the
same name on both SQLite and PostgreSQL:

    rows of the table written at or before N, and rows of its history table written at
    or before N and replaced after it (app/history/tables.py).

Derived tables (the facet tallies, the search documents) are not versioned: a past read
counts facets over the rows (app/reads/facets.py), and search is not answered at a past
version yet.
"""

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Table, event

from app.dates import READ_DAY
from app.errors import AppError
from app.history.tables import SUFFIX, VERSIONED, columns_of

AS_OF: contextvars.ContextVar[int | None] = contextvars.ContextVar("as_of", default=None)


@contextmanager
def reading_at(version: int | None, day: dt.date) -> Iterator[None]:
    """Run what follows (a request's answer) at a past `version` (None: the current one),
    its dates as of `day`."""
    tokens = AS_OF.set(version), READ_DAY.set(day)
    try:
        yield
    finally:
        AS_OF.reset(tokens[0])
        READ_DAY.reset(tokens[1])


def is_past() -> bool:
    """Whether the running read answers at a past version (its derived tables, such as
    the facet tallies, are the current version's: counted instead)."""
    return AS_OF.get() is not None


class NotAtPastVersion(AppError):
    status = 501
    title = "Not implemented at a past version"
    slug = "not-at-past-version"


def refuse_at_past(what: str) -> None:
    """Full-text search reads derived documents that keep no history: at a past version
    it says so instead of answering from today's documents."""
    if is_past():
        raise NotAtPastVersion(
            f"{what} is not yet answered at a past data version (as_of): its full-text "
            f"index keeps no history. Ask without as_of, or without q."
        )


def _view(table: Table, schema: str, version: str) -> str:
    names = ", ".join(f'"{name}"' for name in columns_of(table))
    written = f"coalesce(sys_from, 0) <= {version}"
    return (
        f'CREATE TEMPORARY VIEW "{table.name}" AS '
        f'SELECT {names} FROM {schema}."{table.name}" WHERE {written} UNION ALL '
        f'SELECT {names} FROM {schema}."{table.name}{SUFFIX}" '
        f"WHERE {written} AND sys_to > {version}"
    )


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    info = record.info

    def as_of() -> int:
        version = info.get("as_of")
        if version is None:
            raise LookupError("a past read without a version")
        return int(version)

    # Deterministic: one value per statement, computed once, not once a row.
    dbapi_connection.create_function("treatykb_as_of", 0, as_of, deterministic=True)
    for table in VERSIONED:
        dbapi_connection.execute(_view(table, "main", "treatykb_as_of()"))


def _postgres_connect(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = f'"{cursor.fetchone()[0]}"'
        cursor.execute("SELECT set_config('treatykb.as_of', '', false)")
        # '' (no read's version) fails the cast: never an empty answer by mistake.
        version = "current_setting('treatykb.as_of')::bigint"
        for table in VERSIONED:
            cursor.execute(_view(table, schema, version))
    dbapi_connection.commit()


def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Give the connection the version of the read that takes it."""
    version = AS_OF.get()
    if record.info.get("as_of") == version:
        return
    record.info["as_of"] = version
    if not hasattr(dbapi_connection, "create_function"):  # PostgreSQL
        with dbapi_connection.cursor() as cursor:
            given = "" if version is None else str(version)
            cursor.execute("SELECT set_config('treatykb.as_of', %s, false)", (given,))
        dbapi_connection.commit()


def past_engine(engine: Engine, make: Any) -> Engine:
    """A second engine on `engine`'s database (`make` makes it, as the app's own) whose
    connections read at the version `AS_OF` holds when they are checked out."""
    past: Engine = make()
    sqlite = engine.dialect.name == "sqlite"
    event.listen(past, "connect", _sqlite_connect if sqlite else _postgres_connect)
    event.listen(past.pool, "checkout", _checkout)
    return past
