"""Databases for the tests: every database test runs on SQLite and on PostgreSQL.

Each backend gets template databases built by the real migrations (and the real loader,
for the seeded one). Read-only tests share one seeded copy; tests that write get their
own fresh copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL).
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app import bundled_path
from app.config import Settings
from app.db import make_engine
from app.importing.writer import load_paths
from app.main import create_app
from app.migrate import upgrade
from app.search.engine import default_directory

SEED = bundled_path("seed_data")
ADMIN_URL = os.environ.get(
    "TREATYKB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("TREATYKB_REQUIRE_POSTGRES") == "1"


class Backend:
    """Creates, copies and drops the databases of one backend."""

    name: str

    def create(self, *, template: str | None = None) -> str:
        raise NotImplementedError

    def drop_all(self) -> None:
        raise NotImplementedError


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root

    def create(self, *, template: str | None = None) -> str:
        path = self.root / f"{uuid.uuid4().hex}.db"
        if template:
            shutil.copyfile(make_url(template).database or "", path)
        return f"sqlite:///{path}"

    def drop_all(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self) -> None:
        self.admin = make_url(ADMIN_URL).set(drivername="postgresql")
        self.created: list[str] = []

    def _run(self, sql: str) -> None:
        dsn = self.admin.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create(self, *, template: str | None = None) -> str:
        name = f"treatykb_test_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {make_url(template).database}" if template else ""
        self._run(f"CREATE DATABASE {name}{clause}")
        self.created.append(name)
        return self.admin.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.created:
            self._run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            url = self.admin.set(database=name).render_as_string(hide_password=False)
            shutil.rmtree(default_directory(url), ignore_errors=True)  # its search index


def postgres_or_skip() -> PostgresBackend:
    backend = PostgresBackend()
    try:
        backend._run("SELECT 1")
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (TREATYKB_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return backend


class Databases:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.empty_template = self._build(seed=False)
        self.seeded_template = self._build(seed=True)

    def _build(self, *, seed: bool) -> str:
        url = self.backend.create()
        engine = make_engine(url)
        upgrade(engine)
        if seed:
            load_paths(engine, [SEED])
        engine.dispose()  # a PostgreSQL template must have no open connections
        return url

    def fresh(self, *, seeded: bool = True) -> str:
        return self.backend.create(template=self.seeded_template if seeded else self.empty_template)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    backend: Backend
    if request.param == "sqlite":
        backend = SqliteBackend(tmp_path_factory.mktemp("sqlite"))
    else:
        backend = postgres_or_skip()
    try:
        yield Databases(backend)
    finally:
        backend.drop_all()


@pytest.fixture(scope="session")
def shared_url(databases: Databases) -> str:
    """A seeded database that tests only read."""
    return databases.fresh()


def make_client(url: str, **settings: Any) -> TestClient:
    # Hundreds of tests share one client address; the rate-limit tests turn limits on.
    settings = {"rate_limit_enabled": False, "public_url": "http://test", **settings}
    return TestClient(create_app(Settings(database_url=url, **settings)))


@pytest.fixture(scope="session")
def client(shared_url: str) -> Iterator[TestClient]:
    with make_client(shared_url) as test_client:
        yield test_client


@pytest.fixture
def fresh_url(databases: Databases) -> str:
    """A seeded database of this test's own, to write to."""
    return databases.fresh()


@pytest.fixture
def empty_url(databases: Databases) -> str:
    """A migrated database with no rows, of this test's own."""
    return databases.fresh(seeded=False)


@pytest.fixture
def blank_url(databases: Databases) -> str:
    """A database with no schema at all, of this test's own."""
    return databases.backend.create()


@pytest.fixture
def client_for() -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def open_client(url: str, **settings: Any) -> TestClient:
        opened.append(make_client(url, **settings).__enter__())
        return opened[-1]

    yield open_client
    for test_client in opened:
        test_client.__exit__(None, None, None)
