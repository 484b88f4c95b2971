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


def _state_at(table: Table, schema: str, version: str) -> str:
    """The rows `table` held at `version`: its own written by then, and its history's
    written by then and replaced after."""
    names = ", ".join(f'"{name}"' for name in columns_of(table))
    written = f"coalesce(sys_from, 0) <= {version}"
    return (
        f'SELECT {names} FROM {schema}."{table.name}" WHERE {written} UNION ALL '
        f'SELECT {names} FROM {schema}."{table.name}{SUFFIX}" '
        f"WHERE {written} AND sys_to > {version}"
    )


def _view(table: Table, schema: str, version: str) -> str:
    return f'CREATE TEMPORARY VIEW "{table.name}" AS {_state_at(table, schema, version)}'


# SQLite cannot merge a UNION ALL view that is the right side of a LEFT JOIN into the
# query: it builds the whole view, and an index on it, for every statement (a statement
# by id, with its speaker's name: 1.3 -> 4.9 ms at 1M). A table this small (rows and
# history) is instead copied, as of the connection's version, into a temporary table of
# the same name and indexes, once per version the connection reads at: a version's rows
# never change. Larger tables stay views, read through their indexes.
SMALL = 50_000


def _small(dbapi_connection: Any, table: Table) -> bool:
    rows = sum(
        dbapi_connection.execute(f'SELECT coalesce(max(rowid), 0) FROM main."{name}"').fetchone()[0]
        for name in (table.name, f"{table.name}{SUFFIX}")
    )
    return bool(rows < SMALL)


def _copy(dbapi_connection: Any, table: Table) -> None:
    """The temporary table that holds `table` as of the connection's version."""
    names = ", ".join(f'"{name}"' for name in columns_of(table))
    dbapi_connection.execute(
        f'CREATE TEMPORARY TABLE "{table.name}" AS SELECT {names} FROM main."{table.name}" WHERE 0'
    )
    keys = [table.primary_key.columns, *(index.columns for index in table.indexes)]
    for n, columns in enumerate(keys):
        listed = ", ".join(f'"{c.name}"' for c in columns)
        dbapi_connection.execute(
            f'CREATE INDEX temp."past_{table.name}_{n}" ON "{table.name}" ({listed})'
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
    info["copies"] = []
    for table in VERSIONED:
        if _small(dbapi_connection, table):
            _copy(dbapi_connection, table)
            info["copies"].append(table)
        else:
            dbapi_connection.execute(_view(table, "main", "treatykb_as_of()"))


def _sqlite_copies_at(dbapi_connection: Any, copies: list[Table]) -> None:
    """The small tables' copies, as of the version the connection now reads at."""
    for table in copies:
        dbapi_connection.execute(f'DELETE FROM temp."{table.name}"')
        dbapi_connection.execute(
            f'INSERT INTO temp."{table.name}" {_state_at(table, "main", "treatykb_as_of()")}'
        )
    dbapi_connection.commit()


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
    if "copies" in record.info:  # SQLite
        if version is not None:
            _sqlite_copies_at(dbapi_connection, record.info["copies"])
        return
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
