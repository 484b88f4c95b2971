"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
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


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while the loader writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        # A connection per threadpool worker: requests never queue for one. (SQLite
        # connections are cheap; readers run in parallel under WAL.)
        in_memory = make_url(url).database in (None, "", ":memory:")
        pool = {} if in_memory else {"pool_size": 40, "max_overflow": 10}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return create_engine(url, pool_pre_ping=True)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request (async only to skip two threadpool trips: it does no I/O
    until the endpoint, running in the threadpool, makes the first query)."""
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def off_loop(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking database code for an async endpoint.

    SQLite answers an indexed read in microseconds, far less than a trip through the
    threadpool, so it runs right here; PostgreSQL waits on the network, so it gets a thread.
    """
    if is_sqlite(request.app.state.engine):
        return fn(*args)
    return await run_in_threadpool(fn, *args)
