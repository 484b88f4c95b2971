"""Every error path answers RFC 9457 problem+json with a detail a person can act on."""

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("GET", "/v1/treaties/start-iii", 404, "Not found"),
        ("GET", "/v1/no-such-collection", 404, "Not Found"),
        ("POST", "/v1/treaties", 405, "Method Not Allowed"),
        ("GET", "/v1/statements?limit=abc", 422, "Invalid request"),
        ("GET", "/v1/statements?treaty=inf&order=asc", 422, "Invalid parameter"),
        ("GET", "/v1/treaties/inf/status?on=2019-02-29", 422, "Invalid request"),
    ],
)
def test_problem_shape(client: TestClient, method: str, path: str, status: int, title: str) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert PROBLEM_KEYS <= set(body)
    assert (body["status"], body["title"]) == (status, title)
    assert body["instance"] == path.split("?")[0]
    assert body["type"].startswith("https://")
    assert body["detail"]


def test_validation_errors_list_each_field(client: TestClient) -> None:
    body = client.get("/v1/statements", params={"limit": "abc", "since": "soon"}).json()
    locations = {tuple(e["location"]) for e in body["errors"]}
    assert locations == {("query", "limit"), ("query", "since")}
    assert "query.limit" in body["detail"]
    assert "query.since" in body["detail"]


def test_an_unexpected_error_leaks_nothing() -> None:
    app = create_app(Settings(database_url="sqlite:///:memory:"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM password_table")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom", headers={"X-Request-ID": "report-7"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    # The id the caller can quote in a report, and the headers every answer carries.
    assert response.headers["x-request-id"] == "report-7"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "path", ["/v1/treaties", "/v1/treaties/inf/limits", "/v1/treaties/inf/parties"]
)
@pytest.mark.parametrize("fmt", ["json", "csv", "ndjson"])
def test_a_list_that_comes_whole_refuses_a_cursor_in_every_format(
    client: TestClient, path: str, fmt: str
) -> None:
    response = client.get(path, params={"cursor": "garbage", "format": fmt})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "cursor" in response.json()["detail"]
