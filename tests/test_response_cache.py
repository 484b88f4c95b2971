"""Kept responses (app/cache.py): an answer served again is the answer built anew, byte for
byte; it is not built twice for one data version, URL and representation; a write, another
Host or another representation is never answered with what was kept for the old one."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.curation.tokens import Role, create_token
from app.db import make_engine
from app.reads import compiled
from app.search import router as search_router
from app.statements import read

# Headers that differ between any two requests, whoever answers.
PER_REQUEST = {"x-request-id", "ratelimit-reset", "ratelimit-remaining"}


def _same(kept: Any, built: Any) -> None:
    assert kept.status_code == built.status_code
    assert kept.content == built.content
    ours = {k: v for k, v in kept.headers.items() if k not in PER_REQUEST}
    assert ours == {k: v for k, v in built.headers.items() if k not in PER_REQUEST}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the routes built: a statement by id, a page of a statement list."""
    calls: list[str] = []
    one, page = read.statement_json, compiled.page_rows

    def statement(engine, statement_id, urls, memo):  # type: ignore[no-untyped-def]
        calls.append(statement_id)
        return one(engine, statement_id, urls, memo)

    def rows(session, plan, *args):  # type: ignore[no-untyped-def]
        calls.append("page")
        return page(session, plan, *args)

    monkeypatch.setattr(read, "statement_json", statement)
    monkeypatch.setattr(compiled, "page_rows", rows)
    return calls


URLS = [
    "/v1/treaties/new-start",
    "/v1/treaties",
    "/v1/statements",
    "/v1/statements?treaty=new-start&limit=5",
    "/v1/statements?treaty=inf&treaty=open-skies&sort=said_on",
    "/v1/statements?speaker=sergei-lavrov,mike-pompeo&since=2019-01-01&until=2020-12-31",
    "/v1/statements?q=extension&sort=id",
    "/v1/statements?format=csv&limit=3",
    "/v1/statements?expand=speaker&limit=2",
    "/v1/search?q=extension&limit=2",
    "/v1/people/sergei-lavrov",
    "/v1/statements?limit=501",  # errors are built each time, the same
    "/v1/statements/no-such-statement",
]


@pytest.mark.parametrize("url", URLS)
def test_a_kept_answer_is_the_answer_built_anew(
    shared_url: str, client_for: Callable[..., TestClient], url: str
) -> None:
    cached, uncached = client_for(shared_url), client_for(shared_url, response_cache=False)
    first = cached.get(url)
    _same(cached.get(url), first)
    _same(first, uncached.get(url))
    if first.headers["content-type"] == "application/json" and first.json().get("next"):
        following = first.json()["next"]
        _same(cached.get(following), uncached.get(following))


def test_an_answer_asked_again_is_not_built_again(
    shared_url: str, client_for: Callable[..., TestClient], reads: list[str]
) -> None:
    client = client_for(shared_url)
    url = "/v1/statements?treaty=new-start&limit=2"
    first = client.get(url)
    client.get(url)
    statement_id = first.json()["items"][0]["id"]
    client.get(f"/v1/statements/{statement_id}")
    client.head(f"/v1/statements/{statement_id}")
    client.get(f"/v1/statements/{statement_id}")
    assert reads == ["page", statement_id]
    client.get(first.json()["next"])  # another URL, another page
    csv = client.get(url, headers={"Accept": "text/csv"})  # another representation
    assert csv.text.startswith("created_at")
    assert reads == ["page", statement_id, "page"]  # CSV streams from its own query


def test_without_the_cache_every_answer_is_built(
    shared_url: str, client_for: Callable[..., TestClient], reads: list[str]
) -> None:
    client = client_for(shared_url, response_cache=False)
    for _ in range(2):
        client.get("/v1/statements?limit=2")
        client.get("/v1/statements/lavrov-2020-11-12-wait-until-the-dust-settles")
    assert reads.count("page") == 2
    assert reads.count("lavrov-2020-11-12-wait-until-the-dust-settles") == 2


def test_a_write_shows_at_once(fresh_url: str, client_for: Callable[..., TestClient]) -> None:
    client = client_for(fresh_url, version_ttl=3600)
    statement_id = client.get("/v1/statements", params={"limit": 1}).json()["items"][0]["id"]
    before = client.get(f"/v1/statements/{statement_id}")
    engine = make_engine(fresh_url)
    with Session(engine) as session, session.begin():
        token = create_token(session, name="editor", role=Role.editor)
    engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    record = client.get(f"/v1/records/statements/{statement_id}", headers=headers)
    patched = client.patch(
        record.request.url.path,
        json={"note": "Checked against the transcript."},
        headers={"If-Match": record.headers["etag"], **headers},
    )
    assert patched.status_code == 200, patched.text
    after = client.get(f"/v1/statements/{statement_id}")
    assert after.json()["note"] == "Checked against the transcript."
    assert after.headers["etag"] != before.headers["etag"]
    listed = client.get("/v1/statements", params={"limit": 1}).json()["items"][0]
    assert listed["note"] == "Checked against the transcript."
    again = client.get(f"/v1/records/statements/{statement_id}", headers=headers)
    assert again.json()["note"] == "Checked against the transcript."


def test_links_follow_the_host_each_request_names(
    shared_url: str, client_for: Callable[..., TestClient]
) -> None:
    """Without a public URL, links are built per Host: an answer kept for one host must
    not leak to another."""
    client = client_for(shared_url, public_url=None)
    for host in ("api.example.org", "mirror.example.net:8080", "api.example.org"):
        item = client.get("/v1/statements?limit=1", headers={"Host": host}).json()["items"][0]
        assert item["url"] == f"http://{host}/v1/statements/{item['id']}"
        one = client.get(item["url"].removeprefix(f"http://{host}"), headers={"Host": host})
        assert one.json()["speaker"]["url"].startswith(f"http://{host}/v1/people/")


def test_a_kept_answer_reports_its_route_template(client: TestClient) -> None:
    some_id = client.get("/v1/statements", params={"limit": 1}).json()["items"][0]["id"]
    for _ in range(3):
        client.get(f"/v1/statements/{some_id}")
    metrics = client.get("/metrics").text
    assert 'route="/v1/statements/{statement_id}"' in metrics
    assert some_id not in metrics  # a template, never the URL


def test_identical_searches_arriving_together_are_ranked_once(
    shared_url: str, client_for: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    ranked: list[str] = []
    real = search_router._page

    def slow(request, *args):  # type: ignore[no-untyped-def]
        ranked.append(str(request.url))
        time.sleep(0.3)  # long enough for the others to arrive while it runs
        return real(request, *args)

    monkeypatch.setattr(search_router, "_page", slow)
    client = client_for(shared_url)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.get("/v1/search?q=treaty"), range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len(ranked) == 1
