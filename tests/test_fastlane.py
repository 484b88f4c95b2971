"""The fast lane answers exactly as the framework routes do, and leaves them the rest."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import fastlane
from app.curation.tokens import Role, create_token
from app.db import make_engine

# Headers that differ between any two requests, whoever answers.
PER_REQUEST = {"x-request-id", "ratelimit-reset", "ratelimit-remaining"}


@pytest.fixture
def lane_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids the lane read itself, so a test cannot pass by the lane stepping aside."""
    calls: list[str] = []
    real = fastlane.statement_json

    def counted(engine, statement_id, urls, memo):  # type: ignore[no-untyped-def]
        calls.append(statement_id)
        return real(engine, statement_id, urls, memo)

    monkeypatch.setattr(fastlane, "statement_json", counted)
    return calls


def _same(fast: object, slow: object) -> None:
    assert fast.status_code == slow.status_code  # type: ignore[attr-defined]
    assert fast.content == slow.content  # type: ignore[attr-defined]
    kept = {k: v for k, v in fast.headers.items() if k not in PER_REQUEST}  # type: ignore[attr-defined]
    assert kept == {k: v for k, v in slow.headers.items() if k not in PER_REQUEST}  # type: ignore[attr-defined]


def test_every_statement_is_the_framework_routes_answer(
    shared_url: str, client_for: Callable[..., TestClient], lane_calls: list[str]
) -> None:
    fast, slow = client_for(shared_url), client_for(shared_url, fast_lane=False)
    ids = [s["id"] for s in slow.get("/v1/statements", params={"limit": 500}).json()["items"]]
    assert len(ids) > 20
    for statement_id in ids:
        _same(
            fast.get(f"/v1/statements/{statement_id}"), slow.get(f"/v1/statements/{statement_id}")
        )
    assert lane_calls == ids


def test_a_built_treaty_detail_is_served_as_built(
    shared_url: str, client_for: Callable[..., TestClient]
) -> None:
    fast, slow = client_for(shared_url), client_for(shared_url, fast_lane=False)
    for slug in ("new-start", "inf", "open-skies"):
        first = fast.get(f"/v1/treaties/{slug}")  # built by the route, kept for the version
        again = fast.get(f"/v1/treaties/{slug}")  # answered by the lane from what was kept
        _same(first, slow.get(f"/v1/treaties/{slug}"))
        _same(again, first)


def test_what_the_lane_cannot_answer_goes_to_the_framework(
    client: TestClient, lane_calls: list[str]
) -> None:
    missing = client.get("/v1/statements/no-such-statement")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "no-such-statement" in missing.json()["detail"]
    some_id = client.get("/v1/statements", params={"limit": 1}).json()["items"][0]["id"]
    assert client.get(f"/v1/statements/{some_id}", params={"typo": "1"}).status_code == 422
    assert client.get("/v1/statements/" + "x" * 300).status_code == 422
    alias = client.get("/v1/treaties/inf-treaty", follow_redirects=False)
    assert (alias.status_code, alias.headers["location"]) == (308, "http://testserver/v1/treaties/inf")
    head = client.head(f"/v1/statements/{some_id}")
    assert (head.status_code, head.content) == (200, b"")
    assert lane_calls == ["no-such-statement", some_id]  # the lane tried, then stepped aside


def test_the_lane_reports_the_route_template(client: TestClient) -> None:
    some_id = client.get("/v1/statements", params={"limit": 1}).json()["items"][0]["id"]
    client.get(f"/v1/statements/{some_id}")
    metrics = client.get("/metrics").text
    assert 'route="/v1/statements/{statement_id}"' in metrics
    assert some_id not in metrics  # a template, never the URL


def test_a_write_shows_through_the_lane_at_once(
    fresh_url: str, client_for: Callable[..., TestClient], lane_calls: list[str]
) -> None:
    client = client_for(fresh_url, version_ttl=3600)
    statement_id = client.get("/v1/statements", params={"limit": 1}).json()["items"][0]["id"]
    before = client.get(f"/v1/statements/{statement_id}")
    engine = make_engine(fresh_url)
    with Session(engine) as session, session.begin():
        token = create_token(session, name="editor", role=Role.editor)
    engine.dispose()
    record = client.get(f"/v1/records/statements/{statement_id}")
    patched = client.patch(
        record.request.url.path,
        json={"note": "Checked against the transcript."},
        headers={"If-Match": record.headers["etag"], "Authorization": f"Bearer {token}"},
    )
    assert patched.status_code == 200, patched.text
    after = client.get(f"/v1/statements/{statement_id}")
    assert after.json()["note"] == "Checked against the transcript."
    assert after.headers["etag"] != before.headers["etag"]
    assert lane_calls == [statement_id, statement_id]
