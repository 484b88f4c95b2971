"""A list request runs a bounded number of SQL statements, whatever the page size."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event


@contextmanager
def counting(client: TestClient) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = client.app.state.engine  # type: ignore[attr-defined]
    starting = client.app.state.search.catching_up  # type: ignore[attr-defined]
    if starting is not None:  # the search index's catch-up at start: not a request's work
        starting.join()

    def record(*args: Any) -> None:
        if "FROM data_version" not in args[2]:  # read once a second, whatever the requests
            statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/statements",
        "/v1/treaties/new-start/statements",
        "/v1/people",
        "/v1/articles",
        "/v1/countries",
        "/v1/treaties/open-skies/events",
    ],
)
def test_no_n_plus_one(shared_url: str, client_for: Callable[..., TestClient], path: str) -> None:
    client = client_for(shared_url)  # its own memo: both pages are read, not recalled
    with counting(client) as small:
        assert client.get(path, params={"limit": 1}).status_code == 200
    with counting(client) as large:
        assert len(client.get(path, params={"limit": 500}).json()["items"]) > 1
    # A parent check, one count, one page, one query per relation: never one per row.
    # (The second request reuses the first one's total, so it may run one query fewer.)
    assert 1 <= len(large) <= len(small) <= 9


def test_paging_on_does_not_recount(shared_url: str, client_for: Callable[..., TestClient]) -> None:
    client = client_for(shared_url)  # its own memo: nothing counted yet
    with counting(client) as first:
        page = client.get("/v1/statements", params={"limit": 2, "treaty": "new-start"}).json()
    with counting(client) as second:
        client.get(page["next"])
    assert any("count(" in sql.lower() for sql in first)
    assert not any("count(" in sql.lower() for sql in second)


def test_treaty_detail_is_bounded(shared_url: str, client_for: Callable[..., TestClient]) -> None:
    client = client_for(shared_url)  # its own memo: nothing built yet
    client.get("/v1/meta")  # and the data version read, so both requests below compare
    with counting(client) as few_parties:
        client.get("/v1/treaties/new-start")
    with counting(client) as many_parties:
        client.get("/v1/treaties/open-skies")
    # Constant: the same statements for 2 parties or 36 (the bound is the relations).
    assert len(few_parties) == len(many_parties) <= 20
    # Built once per data version and day: asked again, only the slug is checked.
    with counting(client) as again:
        assert client.get("/v1/treaties/open-skies").json()["slug"] == "open-skies"
    assert len(again) <= 2


def test_expansion_is_bounded_too(client: TestClient) -> None:
    params = {"expand": "speaker,article,treaties"}
    with counting(client) as small:
        client.get("/v1/statements", params={**params, "limit": 2})
    with counting(client) as large:
        client.get("/v1/statements", params={**params, "limit": 500})
    # Each expansion adds a fixed few queries (the expanded rows' own relations), whatever
    # the page size; a relation no row of a page has (a small page may have no article)
    # costs none.
    assert len(small) <= 16
    assert len(large) <= 16
