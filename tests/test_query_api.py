"""Sorting, paging edges, formats, expansion, field selection and redirects."""

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient


def all_items(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, Any] | None = params
    while url:
        body = client.get(url, params=query).json()
        items.extend(body["items"])
        url, query = body["next"], None
    return items


@pytest.mark.parametrize(
    ("path", "sort", "key"),
    [
        ("/v1/statements", "said_on", ("said_on", "id")),
        ("/v1/statements", "-said_on", ("said_on", "id")),
        ("/v1/statements", "id", ("id",)),
        ("/v1/statements", "-id", ("id",)),
        ("/v1/articles", "title", ("title", "slug")),
        ("/v1/articles", "-published_on", ("published_on", "slug")),
        ("/v1/people", "name", ("name", "slug")),
        ("/v1/people", "-name", ("name", "slug")),
        ("/v1/countries", "-code", ("code",)),
        ("/v1/countries", "name", ("name", "code")),
        ("/v1/events", "-date", ("date", "id")),
        ("/v1/timeline", "date", ("date", "id")),
    ],
)
@pytest.mark.parametrize("limit", [3, 500])
def test_every_sort_pages_in_order_without_repeats(
    client: TestClient, path: str, sort: str, key: tuple[str, ...], limit: int
) -> None:
    items = all_items(client, path, sort=sort, limit=limit)
    keys = [tuple(item[k] for k in key) for item in items]
    assert keys == sorted(keys, reverse=sort.startswith("-"))
    assert len(set(keys)) == len(keys) == client.get(path).json()["total"]


def test_empty_result_and_last_page(client: TestClient) -> None:
    empty = client.get("/v1/statements", params={"speaker": "nobody"})
    assert empty.json() == {"items": [], "total": 0, "total_relation": "eq", "next": None}
    assert 'rel="next"' not in empty.headers["link"]  # only its permalink (rel="memento")
    last = client.get("/v1/statements", params={"limit": 27}).json()
    assert (len(last["items"]), last["next"]) == (27, None)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"sort": "text"}, "sort must be one of"),
        ({"sort": "said_on", "cursor": "FROM_OTHER_SORT"}, "cursor belongs to sort=-said_on"),
        ({"cursor": "eyJzIjoiLXNhaWRfb24iLCJ2IjpbMSwyXX0"}, "cursor is not one this API issued"),
        ({"cursor": "eyJzIjoiLXNhaWRfb24ifQ"}, "cursor is not one this API issued"),
        ({"fields": "id,colour"}, "Unknown field(s) in fields=: colour"),
        ({"expand": "sources"}, "Cannot expand sources"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_sort_cursor_fields_expand_format(
    client: TestClient, params: dict[str, str], fragment: str
) -> None:
    if params.get("cursor") == "FROM_OTHER_SORT":
        params["cursor"] = (
            client.get("/v1/statements", params={"limit": 1}).json()["next"].split("cursor=")[1]
        )
    response = client.get("/v1/statements", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert fragment in response.json()["detail"]


def test_fields_narrow_the_items(client: TestClient) -> None:
    body = client.get("/v1/statements", params={"fields": "id,said_on", "limit": 2}).json()
    assert [set(item) for item in body["items"]] == [{"id", "said_on"}] * 2
    assert body["total"] == 27
    assert body["next"]


def test_expand_inlines_full_objects(client: TestClient) -> None:
    params = {"speaker": "sergei-lavrov", "expand": "speaker,article,treaties", "limit": 1}
    [item] = client.get("/v1/statements", params=params).json()["items"]
    assert item["speaker"]["aliases"] == ["Sergey Lavrov"]
    assert item["article"]["authors"][0]["name"] == "Kingston Reif"
    assert item["treaties"][0]["status"] == "expired"
    plain = client.get("/v1/statements", params={"speaker": "sergei-lavrov", "limit": 1})
    assert set(plain.json()["items"][0]["speaker"]) == {"slug", "name", "url"}


@pytest.mark.parametrize("expand", ["speaker", "article", "treaties", "speaker,article"])
def test_expand_one_relation_leaves_the_others_references(client: TestClient, expand: str) -> None:
    params = {"speaker": "sergei-lavrov", "expand": expand, "limit": 1}
    response = client.get("/v1/statements", params=params)
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert ("aliases" in item["speaker"]) == ("speaker" in expand)
    assert ("authors" in item["article"]) == ("article" in expand)
    assert ("status" in item["treaties"][0]) == ("treaties" in expand)


def test_csv_has_every_row_with_flat_columns(client: TestClient) -> None:
    response = client.get("/v1/statements", params={"format": "csv", "treaty": "inf"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4
    putin = next(r for r in rows if r["id"] == "putin-2020-10-26-mutual-verification-measures")
    assert (putin["speaker"], putin["treaties"], putin["said_on_precision"]) == (
        "vladimir-putin",
        "inf",
        "day",
    )
    assert putin["sources"] == "act-2020-11-russia-expands-inf-moratorium-proposal"


def test_accept_header_picks_ndjson(client: TestClient) -> None:
    response = client.get("/v1/countries", headers={"Accept": "application/x-ndjson"})
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) == 39
    assert lines[0]["code"] == "BA"


def test_streams_respect_limit_cursor_and_fields(client: TestClient) -> None:
    first = client.get("/v1/statements", params={"limit": 5}).json()
    cursor = first["next"].split("cursor=")[1]
    response = client.get(
        "/v1/statements", params={"format": "ndjson", "cursor": cursor, "fields": "id"}
    )
    rest = [json.loads(line) for line in response.text.splitlines()]
    assert len(rest) == 22
    assert set(rest[0]) == {"id"}
    assert not {item["id"] for item in first["items"]} & {item["id"] for item in rest}
    three = client.get("/v1/events", params={"format": "csv", "limit": 3}).text.splitlines()
    assert len(three) == 4  # header + 3 rows


@pytest.mark.parametrize(
    "path", ["/v1/treaties", "/v1/treaties/open-skies/parties", "/v1/treaties/inf/limits"]
)
def test_short_lists_stream_too(client: TestClient, path: str) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get(path, params={"format": "csv"}).text)))
    assert len(rows) == client.get(path).json()["total"]


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/v1/people/sergey-lavrov", "/v1/people/sergei-lavrov"),
        (
            "/v1/people/steve-biegun/statements?limit=1",
            "/v1/people/stephen-biegun/statements?limit=1",
        ),
        ("/v1/treaties/inf-treaty/status?on=2019-01-01", "/v1/treaties/inf/status?on=2019-01-01"),
        ("/v1/treaties/treaty-on-open-skies", "/v1/treaties/open-skies"),
    ],
)
def test_alternative_identifiers_redirect(client: TestClient, path: str, location: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "http://testserver" + location
    assert client.get(path).status_code == 200


def test_timeline_across_treaties(client: TestClient) -> None:
    params = {"type": "withdrawal_effective", "since": "2019-01-01"}
    items = client.get("/v1/timeline", params=params).json()["items"]
    assert [(e["treaty"]["slug"], e["country"]["code"], e["date"]) for e in items] == [
        ("inf", "US", "2019-08-02"),
        ("open-skies", "US", "2020-11-22"),
        ("open-skies", "RU", "2021-12-18"),
    ]
    us = client.get("/v1/events", params={"country": "us", "treaty": "new-start"}).json()
    assert {e["country"]["code"] for e in us["items"]} == {"US"}
    one = client.get("/v1/events/new-start-extension").json()
    assert (one["new_expires_on"], one["date_precision"]) == ("2026-02-05", "day")
