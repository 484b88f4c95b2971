"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

import functools
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar, cast

from anyio import to_thread
from fastapi import Depends, Request
from sqlalchemy import Column, Connection, Dialect, Engine, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Let users write postgresql:// and still get the psycopg 3 driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def dialect_of(session: Session) -> str:
    """The session's database dialect's name: sqlite or postgresql."""
    return session.get_bind().dialect.name


WRITE_VERSION = "write_version"  # a SQLite connection's entry: the version it writes


def _sqlite_on_connect(mmap_bytes: int, dbapi_connection: Any, record: Any) -> None:
    info = record.info

    def write_version() -> int:
        """The record tables' `sys_from` default and triggers (app/history/tables.py):
        the version begin_write named for this connection's write transaction."""
        version = info.get(WRITE_VERSION)
        if version is None:
            raise LookupError("a write outside the write path (no data version is set)")
        return int(version)

    dbapi_connection.create_function("treatykb_write_version", 0, write_version)
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while the loader writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Reads through a memory map instead of a read() call and a copy per page: fetching
    # 100,000 statements newest first at 1M (pages all over the file) took 0.45 s
    # instead of 0.63 s. Writes still go through the journal as before.
    cursor.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
    cursor.close()


def make_engine(
    url: str, statement_timeout_ms: int = 0, sqlite_mmap_bytes: int = 0, pool_size: int = 20
) -> Engine:
    """An engine for `url`. The server maps SQLite files (`sqlite_mmap_bytes`, from the
    settings); the CLI's loads don't: a bulk load reads pages it has just written, from
    SQLite's own cache, and mapped pages only raised its resident memory (300,000
    statements: 300 -> 446 MiB, no faster)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        # A connection per threadpool worker: requests never queue for one. (SQLite
        # connections are cheap; readers run in parallel under WAL.)
        in_memory = make_url(url).database in (None, "", ":memory:")
        pool = {} if in_memory else {"pool_size": 40, "max_overflow": 10}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", functools.partial(_sqlite_on_connect, sqlite_mmap_bytes))
        # A pool event, not the engine's commit/rollback: engine events would take every
        # Prepared read off the driver's own cursor (their listeners must see it).
        event.listen(engine.pool, "checkin", _forget_write_version)
        return engine
    # A runaway query is cancelled by the server itself, whatever the client does.
    options = f"-c statement_timeout={statement_timeout_ms}" if statement_timeout_ms else ""
    # A pooled connection for each of the 16 read threads (limit_threads) and a few more:
    # at the default 5, busy threads opened and closed overflow connections, a new
    # PostgreSQL backend each time (by id, 100,000 ids at random: p99 175-246 ms).
    engine = create_engine(
        url, connect_args={"options": options}, pool_size=pool_size, max_overflow=10
    )
    _ping_when_idle(engine)
    return engine


def _forget_write_version(_dbapi_connection: Any, record: Any) -> None:
    """Back in the pool: the version of the write it made is no longer its to write."""
    record.info.pop(WRITE_VERSION, None)


IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled PostgreSQL connection before use only when it has sat idle: after a
    database restart, the connections left in the pool are dead, and a request would get
    one. `pool_pre_ping` tests every checkout, a round trip on every request (by id on
    PostgreSQL: about a third of its time); a busy pool's connections were used moments
    ago. A connection that fails the test makes the pool drop all connections it held
    before then (the pool retries with a new one). Under load through a restart, requests
    already holding a dead connection answer 503 once; the pool then starts afresh."""

    @event.listens_for(engine.pool, "checkin")
    def idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise InvalidatePoolError(str(error)) from error


def engine_of(request: Request) -> Engine:
    """The engine a read runs on: the app's, or, for a read at a past data version
    (`as_of`, resolved by the edge), the one whose connections see that version
    (app/history/past.py). The same queries run on either."""
    if request.scope["state"].get("past"):
        return cast(Engine, request.app.state.past_engine)
    return cast(Engine, request.app.state.engine)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request (async only to skip two threadpool trips: it does no I/O
    until the endpoint, running in the threadpool, makes the first query)."""
    with Session(engine_of(request)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def limit_threads(engine: Engine, threads: int | None) -> None:
    """How many threads run blocking work (sync endpoints, database reads) at once.
    SQLite reads are CPU work that takes the GIL back between steps: 40 threads fighting
    over it served a 50-row list at 109 r/s, 2 threads at 235 r/s (one core, 100,000
    statements). PostgreSQL reads wait on the network, so more threads help."""
    limiter = to_thread.current_default_thread_limiter()
    limiter.total_tokens = threads or (2 if is_sqlite(engine) else 16)


async def off_loop(_request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking database code for an async endpoint, in the threadpool."""
    return await run_in_threadpool(fn, *args)


async def one_row(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run a single-row read for a request (see `inline_on_sqlite`)."""
    return await inline_on_sqlite(engine_of(request), fn, *args)


async def inline_on_sqlite(engine: Engine, fn: Callable[..., T], *args: Any) -> T:
    """Run a single-row read: on SQLite right here on the event loop.

    SQLite answers a primary-key read in microseconds, less than the trip through the
    threadpool (by id: 1,270 -> 1,680 r/s), and a thread must win the GIL back from the
    busy loop between steps. Longer work stays in the threadpool: run inline, a 50-row
    page made other requests wait (p99 1.1 s against 0.3 s). PostgreSQL waits on the
    network, so it always gets a thread.
    """
    if is_sqlite(engine):
        return fn(*args)
    return await run_in_threadpool(fn, *args)


class Prepared:
    """A statement compiled once for a dialect: no per-request statement walk or
    compiling. Its constants (separators, formats) are bound parameters too; a run fills
    in the rest."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))  # a SELECT's
        self.sql = compiled.string
        required = {name: None for name, bind in compiled.binds.items() if bind.required}
        self.constants: dict[str, Any] = dict(compiled.construct_params(required) or {})
        # qmark drivers (sqlite3) take a sequence: the constants in place, and where each
        # value a run fills in goes.
        positions = list(compiled.positiontup or ())
        self.template = [self.constants[name] for name in positions]
        self.slots = [(i, name) for i, name in enumerate(positions) if name in required]

    def params(self, values: dict[str, Any]) -> Any:
        if not self.template:
            return {**self.constants, **values}
        params = self.template.copy()
        for i, name in self.slots:
            params[i] = values[name]
        return tuple(params)

    def rows(self, connection: Connection, values: dict[str, Any]) -> list[Sequence[Any]]:
        """Every row, as the driver returns it. With nobody listening to the engine's
        events, straight through the driver's cursor: SQLAlchemy's result for a textual
        statement adds nothing (no types to convert) but its setup (by id in-process,
        best of four: 395 -> 236 us). Its errors are SQLAlchemy's all the same."""
        params = self.params(values)
        if connection._has_events or connection.engine._has_events:  # e.g. query counting
            return list(connection.exec_driver_sql(self.sql, params).all())
        cursor = connection.connection.cursor()
        try:
            with _as_sqlalchemy_errors(connection, self.sql, params, cursor):
                cursor.execute(self.sql, params)
                return list(cursor.fetchall())
        finally:
            cursor.close()


@contextmanager
def _as_sqlalchemy_errors(
    connection: Connection, sql: str, params: Any, cursor: Any = None
) -> Iterator[None]:
    """Driver errors raised as SQLAlchemy's, as if SQLAlchemy had run the statement: a lost
    connection is invalidated (not handed back to the pool) and reads as a 503."""
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as error:
        lost = connection.dialect.is_disconnect(error, connection.connection, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql, params, error, dbapi_error, connection_invalidated=lost
        ) from error


@functools.lru_cache(maxsize=64)
def _into(dialect: Dialect, table: str, columns: tuple[str, ...]) -> str:
    """'table (col, ...)', quoted as the dialect quotes: INSERT's and COPY's target."""
    quote = dialect.identifier_preparer.quote
    return f"{quote(table)} ({', '.join(map(quote, columns))})"


def insert_many(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Rows as tuples: one executemany of the driver's SQL, or on PostgreSQL one COPY.

    SQLAlchemy's insert builds a parameter dict and runs every type's processor per row:
    about a third of a million-row load's time. Here the values go to the driver as
    given, so they must be what it takes: str, int, bool or None (JSON values), and
    constants such as a timestamp passed once through `bound`. With a listener on the
    engine's events (query counting), PostgreSQL too gets the executemany they can see.
    """
    if not rows:
        return
    connection = session.connection()
    dialect, names = connection.dialect, tuple(columns)
    if dialect.name == "postgresql" and not (
        connection._has_events or connection.engine._has_events
    ):
        sql = f"COPY {_into(dialect, table.name, names)} FROM STDIN"
        cursor = connection.connection.cursor()
        try:
            with _as_sqlalchemy_errors(connection, sql, None, cursor), cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    marks = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(names))
    sql = f"INSERT INTO {_into(dialect, table.name, names)} VALUES ({marks})"
    connection.exec_driver_sql(sql, list(rows))


def bound(session: Session, column: Column[Any], value: Any) -> Any:
    """A value as the column's type hands it to the driver (a datetime as SQLite text)."""
    dialect = session.get_bind().dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


@contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A connection outside any transaction: for a read of a row or two (on PostgreSQL
    nothing is left to roll back when it goes back to the pool, one round trip fewer per
    request; by id: 4.2 -> 2.1 ms), or for what PostgreSQL refuses inside one (VACUUM).
    Each statement sees its own snapshot. (sqlite3 opens
    no transaction for a SELECT anyway, and switching its mode costs more than it saves.)"""
    with engine.connect() as connection:
        if is_sqlite(engine):
            yield connection
        else:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")


PREPARE_LOCK = 0x7472_6561_7479  # "treaty": one advisory lock id for schema preparation


@contextmanager
def exclusive(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock for the block (SQLite: one process owns its file)."""
    if is_sqlite(engine):
        yield
        return
    with engine.connect() as connection:
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({PREPARE_LOCK})")
        try:
            yield
        finally:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({PREPARE_LOCK})")
            connection.commit()
