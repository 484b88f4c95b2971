"""Liveness and readiness."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def test_live_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


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
