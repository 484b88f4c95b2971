"""The fast lane answers exactly as the framework routes do, and leaves them the rest."""

from collections.abc import Callable
from typing import Any

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


@pytest.fixture
def lane_answers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(handler, whether it answered) for each request the lane tried."""
    seen: list[tuple[str, bool]] = []

    def spy(handler: Any) -> Any:
        async def handle(scope: Any, key: str) -> Any:
            answer = await handler(scope, key)
            seen.append((handler.__name__, answer is not None))
            return answer

        return handle

    routes = [(pattern, route, spy(h)) for pattern, route, h in fastlane.ROUTES]
    monkeypatch.setattr(fastlane, "ROUTES", routes)
    return seen


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
    shared_url: str, client_for: Callable[..., TestClient], lane_answers: list[tuple[str, bool]]
) -> None:
    fast, slow = client_for(shared_url), client_for(shared_url, fast_lane=False)
    for slug in ("new-start", "inf", "open-skies"):
        first = fast.get(f"/v1/treaties/{slug}")  # built by the route, kept for the version
        again = fast.get(f"/v1/treaties/{slug}")  # answered by the lane from what was kept
        _same(first, slow.get(f"/v1/treaties/{slug}"))
        _same(again, first)
    assert lane_answers == [("_treaty", False), ("_treaty", True)] * 3


def test_what_the_lane_cannot_answer_goes_to_the_framework(
    client: TestClient, lane_answers: list[tuple[str, bool]]
) -> None:
    missing = client.get("/v1/statements/no-such-statement")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "no-such-statement" in missing.json()["detail"]
    some_id = client.get("/v1/statements", params={"limit": 1}).json()["items"][0]["id"]
    assert client.get(f"/v1/statements/{some_id}", params={"typo": "1"}).status_code == 422
    assert client.get("/v1/statements/" + "x" * 300).status_code == 422
    alias = client.get("/v1/treaties/inf-treaty", follow_redirects=False)
    assert (alias.status_code, alias.headers["location"]) == (
        308,
        "http://testserver/v1/treaties/inf",
    )
    head = client.head(f"/v1/statements/{some_id}")
    assert (head.status_code, head.content) == (200, b"")
    # the lane tried the missing id and the typo, then stepped aside; it answered the HEAD
    tried = [answered for handler, answered in lane_answers if handler == "_statement"]
    assert tried == [False, False, True]


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
    # the page kept before the write is not served after it
    listed = client.get("/v1/statements", params={"limit": 1}).json()["items"][0]
    assert listed["id"] == statement_id
    assert listed["note"] == "Checked against the transcript."


def test_a_statement_or_page_asked_again_is_not_read_again(
    shared_url: str,
    client_for: Callable[..., TestClient],
    lane_calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages: list[str] = []
    real = fastlane._list_page

    def counted(request, *args):  # type: ignore[no-untyped-def]
        pages.append(str(request.url))
        return real(request, *args)

    monkeypatch.setattr(fastlane, "_list_page", counted)
    fast, slow = client_for(shared_url), client_for(shared_url, fast_lane=False)
    url = "/v1/statements?treaty=new-start&limit=2"
    first = fast.get(url)
    _same(fast.get(url), first)
    _same(first, slow.get(url))
    following = first.json()["next"]
    fast.get(following)  # another URL, another read
    assert pages == ["http://testserver" + url, following]
    statement_id = first.json()["items"][0]["id"]
    _same(fast.get(f"/v1/statements/{statement_id}"), fast.get(f"/v1/statements/{statement_id}"))
    assert lane_calls == [statement_id]
    # a kept URL asked for as CSV is still the route's CSV
    assert fast.get(url, headers={"Accept": "text/csv"}).text.startswith("created_at")


LISTS = [
    "/v1/statements",
    "/v1/statements?limit=3",
    "/v1/statements?treaty=new-start&limit=5",
    "/v1/statements?treaty=inf&treaty=open-skies&sort=said_on",
    "/v1/statements?speaker=sergei-lavrov,mike-pompeo&since=2019-01-01&until=2020-12-31",
    "/v1/statements?country=ru&sort=-id&limit=4",
    "/v1/statements?article=act-2020-12-new-start-deal-to-wait-for-biden",
    # ... and what the lane leaves to the route, which answers the same either way:
    "/v1/statements?q=extension",
    "/v1/statements?format=csv&limit=3",
    "/v1/statements?fields=id,said_on&limit=3",
    "/v1/statements?expand=speaker&limit=2",
    "/v1/statements?typo=1",
    "/v1/statements?limit=0",
    "/v1/statements?limit=501",
    "/v1/statements?limit=05",
    "/v1/statements?since=2020-13-01",
    "/v1/statements?since=2021-01-01&until=2020-01-01",
    "/v1/statements?sort=bogus",
    "/v1/statements?cursor=not-a-cursor",
    "/v1/statements?treaty=",
    "/v1/statements?speaker=" + "x" * 201,
    "/v1/statements?" + "&".join(["treaty=inf"] * 11),
]


@pytest.mark.parametrize("url", LISTS)
def test_a_statement_list_is_the_framework_routes_answer(
    shared_url: str, client_for: Callable[..., TestClient], url: str
) -> None:
    fast, slow = client_for(shared_url), client_for(shared_url, fast_lane=False)
    _same(fast.get(url), slow.get(url))
    answered = fast.get(url)
    if answered.headers["content-type"] == "application/json" and answered.json().get("next"):
        _same(fast.get(answered.json()["next"]), slow.get(answered.json()["next"]))


def test_the_lane_answers_plain_lists_and_only_those(
    shared_url: str, client_for: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(shared_url)  # its own memo: no page kept by another test
    calls: list[int] = []
    real = fastlane.page_params
    monkeypatch.setattr(fastlane, "page_params", lambda *a, **k: calls.append(1) or real(*a, **k))
    client.get("/v1/statements?treaty=new-start&limit=5")
    client.get("/v1/statements", headers={"Accept": "text/csv"})  # left: CSV is the route's
    client.get("/v1/statements?q=extension")  # not parsed at all
    assert len(calls) == 1
    assert client.get("/v1/statements", headers={"Accept": "text/csv"}).text.startswith(
        "created_at"
    )


def test_a_failure_in_the_lane_is_the_routes_to_answer(
    shared_url: str, client_for: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route's error handling (a lost database's 503, say) applies to what the lane
    takes on: the lane steps aside and the route runs, and answers, as it would have."""
    client = client_for(shared_url)  # its own memo: the lane must read, and fail

    def broken(*_: object) -> bytes:
        raise RuntimeError("the lane's own read failed")

    monkeypatch.setattr(fastlane, "statement_json", broken)
    monkeypatch.setattr(fastlane, "page_params", broken)
    some_id = client.get("/v1/statements?limit=1&fields=id").json()["items"][0]["id"]
    assert client.get(f"/v1/statements/{some_id}").json()["id"] == some_id
    assert client.get("/v1/statements?limit=2").json()["items"][0]["id"]


SEARCHES = [
    "/v1/search?q=extension",
    "/v1/search?q=extension&limit=2",
    "/v1/search?q=%22open+skies%22&type=statement",
    "/v1/search?q=dust",
]


@pytest.mark.parametrize("url", SEARCHES)
def test_a_kept_search_page_is_served_as_kept(
    shared_url: str,
    client_for: Callable[..., TestClient],
    url: str,
    lane_answers: list[tuple[str, bool]],
) -> None:
    fast, slow = client_for(shared_url), client_for(shared_url, fast_lane=False)
    first = fast.get(url)  # ranked by the route, kept for the version
    assert first.status_code == 200, first.text
    _same(fast.get(url), first)  # the lane's answer, from what was kept
    assert lane_answers == [("_search", False), ("_search", True)]
    _same(first, slow.get(url))
    if first.json().get("next"):
        _same(fast.get(first.json()["next"]), slow.get(first.json()["next"]))


def test_links_follow_the_host_each_request_names(
    shared_url: str, client_for: Callable[..., TestClient]
) -> None:
    """Without a public URL, links are built per Host: a base URL kept for one host must
    not leak to another."""
    client = client_for(shared_url, public_url=None)
    for host in ("api.example.org", "mirror.example.net:8080", "api.example.org"):
        item = client.get("/v1/statements?limit=1", headers={"Host": host}).json()["items"][0]
        assert item["url"] == f"http://{host}/v1/statements/{item['id']}"
        one = client.get(item["url"].removeprefix(f"http://{host}"), headers={"Host": host})
        assert one.json()["speaker"]["url"].startswith(f"http://{host}/v1/people/")
