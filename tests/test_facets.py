"""Facets against a plain-Python count of every row, on both engines: for any filters,
each facet's counts are those of the matching rows (the facet's own filter excepted),
and the URL of each value lists exactly that many."""

import csv
import datetime as dt
import io
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reads import FILTERS, _matches, _query, rows_client

from app.articles.spec import ARTICLES
from app.events.spec import EVENTS
from app.people.spec import PEOPLE
from app.reads.facets import LENGTHS
from app.search.service import SEARCH
from app.statements.spec import STATEMENTS

__all__ = ["rows_client"]  # the fixture, shared with tests/test_reads.py

Rows = tuple[TestClient, list[dict[str, Any]]]
FACETS = [facet.name for facet in STATEMENTS.facets]


def _values(row: dict[str, Any], facet: str) -> list[str | None]:
    """The buckets a row counts in (None: a date less precise than the facet)."""
    if facet == "treaty":
        return [treaty["slug"] for treaty in row["treaties"]]
    if facet.startswith("said_on:"):
        length = LENGTHS[facet.partition(":")[2]]
        return [row["said_on"][:length] if len(row["said_on"]) >= length else None]
    field, key = {"speaker": ("speaker", "slug"), "country": ("country", "code"),
                  "article": ("article", "slug")}[facet]  # fmt: skip
    return [row[field][key]] if row[field] else []


def _expected(rows: list[dict[str, Any]], params: dict[str, Any], facet: str) -> Counter[Any]:
    own = STATEMENTS.facets[FACETS.index(facet)].filter
    rest = {name: value for name, value in params.items() if name != own}
    return Counter(v for row in rows if _matches(row, rest) for v in _values(row, facet))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=FILTERS, facets=st.lists(st.sampled_from(FACETS), min_size=1, unique=True))
def test_facet_counts_are_the_plain_count_of_the_matching_rows(
    rows_client: Rows, params: dict[str, Any], facets: list[str]
) -> None:
    client, rows = rows_client
    if "since" in params and "until" in params and params["since"] > params["until"]:
        return  # a 422: tests/test_reads.py
    answer = client.get("/v1/statements", params=_query(params, facet=",".join(facets)))
    assert answer.status_code == 200
    body = answer.json()
    assert list(body["facets"]) == facets
    for name in facets:
        expected = _expected(rows, params, name)
        got = body["facets"][name]
        counts = {item["value"]: item["count"] for item in got["values"]}
        unknown = expected.pop(None, 0)
        assert counts == dict(expected), name
        assert got["more"] is False
        if name.startswith("said_on:"):
            assert got[f"unknown_{name.partition(':')[2]}"] == unknown
            dates = [item["value"] for item in got["values"]]
            assert dates == sorted(dates)  # a chart's axis: oldest first
        else:
            ranked = [(-item["count"], item["value"]) for item in got["values"]]
            assert ranked == sorted(ranked)  # most first, ties by value


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bound=st.sampled_from(["since", "until"]),
       day=st.dates(dt.date(2018, 12, 31), dt.date(2022, 1, 1)))  # fmt: skip
def test_a_range_alone_counts_as_the_rows_it_overlaps(
    rows_client: Rows, bound: str, day: dt.date
) -> None:
    """`since` or `until` alone (kept counts of the periods beyond the day's month, and the
    rest of its year counted): every facet is the plain count of the rows overlapping."""
    client, rows = rows_client
    params = {bound: day.isoformat()}
    body = client.get("/v1/statements", params={**params, "facet": FACETS}).json()
    for name in FACETS:
        expected = _expected(rows, params, name)
        got = body["facets"][name]
        unknown = expected.pop(None, 0)
        assert {item["value"]: item["count"] for item in got["values"]} == dict(expected), name
        if name.startswith("said_on:"):
            assert got[f"unknown_{name.partition(':')[2]}"] == unknown, name


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=FILTERS, facet=st.sampled_from(FACETS))
def test_each_value_links_to_the_list_it_counts(
    rows_client: Rows, params: dict[str, Any], facet: str
) -> None:
    """Following a value's URL lists as many records as the value's count (for a key, on
    a list not already narrowed by its filter; a period replaces any held), and that
    value is then the selected one, whose URL takes it out again."""
    client, _ = rows_client
    declared = STATEMENTS.facets[FACETS.index(facet)]
    if not declared.dated:  # a key joins those held; a period replaces the one held
        params = {name: value for name, value in params.items() if name != declared.filter}
    if "since" in params and "until" in params and params["since"] > params["until"]:
        return
    body = client.get("/v1/statements", params=_query(params, facet=facet, limit=1)).json()
    without = {name: value for name, value in params.items() if name != declared.filter}
    everything = client.get("/v1/statements", params=_query(without, limit=1)).json()["total"]
    for item in body["facets"][facet]["values"]:
        if item["selected"]:
            continue  # its URL takes it out: below, from the narrowed list
        narrowed = client.get(item["url"]).json()
        assert narrowed["total"] == item["count"], item["url"]
        selected = [v for v in narrowed["facets"][facet]["values"] if v["selected"]]
        assert [v["value"] for v in selected] == [item["value"]]
        cleared = client.get(selected[0]["url"]).json()  # its URL takes it out again
        assert cleared["total"] == everything


def test_counts_as_a_table_in_csv(client: TestClient) -> None:
    table = client.get("/v1/statements?facet=treaty,said_on:day&format=csv&treaty=new-start")
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert set(rows[0]) == {"facet", "value", "label", "count"}
    listed = client.get("/v1/statements?facet=treaty,said_on:day&treaty=new-start").json()
    expected = [(name, str(v["value"]), v["label"], str(v["count"]))
                for name, answer in listed["facets"].items() for v in answer["values"]]  # fmt: skip
    assert [(r["facet"], r["value"], r["label"], r["count"]) for r in rows] == expected
    assert ("treaty", "new-start", "New START") in {
        (r["facet"], r["value"], r["label"]) for r in rows
    }


def test_an_unknown_facet_or_period_is_a_422_naming_it_on_lists_and_search(
    client: TestClient,
) -> None:
    for url, named in (("/v1/statements?facet=venue", "venue"),
                       ("/v1/statements?during=2020-13", "2020-13"),
                       ("/v1/statements?during=November", "November"),
                       ("/v1/search?q=treaty&facet=country", "country"),
                       ("/v1/search?q=treaty&during=2020-13", "2020-13"),
                       ("/v1/search?q=treaty&format=csv", "facet")):  # fmt: skip
        answer = client.get(url)
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        assert named in answer.json()["detail"]


LISTS = {"/v1/statements": STATEMENTS, "/v1/articles": ARTICLES, "/v1/events": EVENTS,
         "/v1/timeline": EVENTS, "/v1/people": PEOPLE}  # fmt: skip


@pytest.mark.parametrize("path", list(LISTS))
def test_every_facet_of_every_list_counts_what_its_links_list(
    client: TestClient, path: str
) -> None:
    """Each declared facet of each list, alone and under a filter: each value's count is
    the total of the list its URL gives, and a date facet's buckets and unknowns add up
    to the list's total."""
    spec = LISTS[path]
    documented = client.get("/openapi.json").json()["paths"][path]["get"]["parameters"]
    facet_parameter = next(p for p in documented if p["name"] == "facet")
    for facet in spec.facets:
        assert f"`{facet.name}`" in facet_parameter["description"]
        body = client.get(path, params={"facet": facet.name, "limit": 1}).json()
        answer = body["facets"][facet.name]
        assert answer["values"] or facet.dated, facet.name  # a day facet of months: none
        for item in answer["values"]:
            assert client.get(item["url"]).json()["total"] == item["count"], item["url"]
        if facet.dated:
            unknown = answer[f"unknown_{facet.precision}"]
            assert sum(v["count"] for v in answer["values"]) + unknown == body["total"]


SEARCHES = [{"q": "treaty"}, {"q": "treaty", "type": "statement"}, {"q": "new OR treaty"},
            {"q": "treaty", "treaty": "open-skies"}, {"q": "treaty", "during": "2020"},
            {"q": "treaty OR missile", "speaker": "sergei-ryabkov"}]  # fmt: skip


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: "&".join(map(str, p.values())))
def test_search_facets_count_what_their_links_find(
    client: TestClient, params: dict[str, str]
) -> None:
    """On /v1/search, under its filters: each value's count is the total its URL finds
    (a value held is counted as if it were not), every match has one type, and a date
    facet's periods and unknowns add up to the matches."""
    names = [facet.name for facet in SEARCH.facets]
    body = client.get("/v1/search", params={**params, "facet": names, "limit": 1}).json()
    assert body["total"] > 0
    assert list(body["facets"]) == names
    for name, answer in body["facets"].items():
        own = "during" if ":" in name else name
        alone = {k: v for k, v in params.items() if k != own}
        total = client.get("/v1/search", params={**alone, "limit": 1}).json()["total"]
        held = sum(item["count"] for item in answer["values"] if item["selected"])
        for item in answer["values"]:
            assert item["selected"] == (params.get(own) == item["value"])
            if item["selected"]:  # its URL widens the search to the value's alternatives
                assert client.get(item["url"]).json()["total"] == total
                continue
            joined = 0 if ":" in name else held  # a key joins the one held; a period replaces
            assert client.get(item["url"]).json()["total"] == item["count"] + joined, item
        counts = sum(item["count"] for item in answer["values"])
        if name == "type":
            assert counts == total
        elif ":" in name:
            assert counts + answer[f"unknown_{name.partition(':')[2]}"] == total


def test_search_facets_as_a_table(client: TestClient) -> None:
    listed = client.get("/v1/search?q=treaty&facet=type,treaty").json()["facets"]
    table = client.get("/v1/search?q=treaty&facet=type,treaty&format=csv")
    assert table.headers["content-type"].startswith("text/csv")
    rows = [(r["facet"], r["value"], int(r["count"]))
            for r in csv.DictReader(io.StringIO(table.text))]  # fmt: skip
    assert rows == [
        (name, v["value"], v["count"]) for name, a in listed.items() for v in a["values"]
    ]
