"""Liveness and readiness."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError

from app import db
from app.config import Settings
from app.main import create_app


def test_live_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "search": "current"}


def test_not_ready_before_migrations(
    blank_url: str, client_for: Callable[[str], TestClient]
) -> None:
    response = client_for(blank_url).get("/readyz")
    assert response.status_code == 503
    assert "treatykb db upgrade" in response.json()["detail"]


def test_not_ready_when_the_database_is_unreachable() -> None:
    url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        response = test_client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["detail"] == "The database is unreachable."
        assert test_client.get("/healthz").status_code == 200


def test_ready_on_each_backend(empty_url: str, client_for: Callable[[str], TestClient]) -> None:
    assert client_for(empty_url).get("/readyz").status_code == 200


@pytest.mark.parametrize("idle", [False, True])
def test_a_dead_pooled_connection_is_replaced_once_it_sat_idle(
    shared_url: str, monkeypatch: pytest.MonkeyPatch, idle: bool
) -> None:
    """PostgreSQL: a pooled connection the server killed (as a restart does) is tested
    before use when it has sat idle, and replaced; a busy one is used untested."""
    if shared_url.startswith("sqlite"):
        pytest.skip("a server-side connection to kill is PostgreSQL's")
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0 if idle else 3600.0)
    engine, killer = db.make_engine(shared_url), db.make_engine(shared_url)
    try:
        with engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with killer.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        with engine.connect() as connection:
            if not idle:
                with pytest.raises(DBAPIError):
                    connection.exec_driver_sql("SELECT 1")
                return
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        engine.dispose()
        killer.dispose()


@pytest.mark.parametrize("mmap_bytes", [0, 64 * 1024 * 1024])
def test_sqlite_reads_through_the_memory_map_it_is_given(
    shared_url: str, client_for: Callable[..., TestClient], mmap_bytes: int
) -> None:
    """TREATYKB_SQLITE_MMAP_BYTES reaches every SQLite connection (and a 0 turns the map
    off); PostgreSQL ignores it and serves as ever."""
    client = client_for(shared_url, sqlite_mmap_bytes=mmap_bytes)
    assert client.get("/v1/statements?limit=1").status_code == 200
    if not shared_url.startswith("sqlite"):
        return
    with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        assert connection.exec_driver_sql("PRAGMA mmap_size").scalar() == mmap_bytes
