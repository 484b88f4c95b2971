"""The statements list against a plain-Python filter and sort of every row, on both engines:
any combination of filters, any sort, any page size; JSON pages walked by cursor, the CSV
stream and the NDJSON stream give the same ids in the same order, and `total` counts them."""

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Databases, make_client
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.dates import period
from app.db import make_engine
from app.importing.loader import Batch, Item
from app.importing.records import StatementRecord
from app.importing.writer import write_batch
from app.statements.spec import STATEMENTS

TREATIES = [["new-start"], ["inf", "open-skies"], [], ["open-skies"], ["inf"], ["new-start", "inf"]]
SPEAKERS = ["sergei-lavrov", "stephen-biegun", "fu-cong", None]
COUNTRIES = ["RU", "US", "CN", None]
ARTICLES = ["act-2020-12-new-start-deal-to-wait-for-biden", None]
DATES = ["2020-11", "2020-11-12", "2021", "2019-08-02", "2020-10", "2020-11-30", "2019"]
GENERATED = 240


@pytest.fixture(scope="module")
def rows_client(databases: Databases) -> Iterator[tuple[TestClient, list[dict[str, Any]]]]:
    """The seed data and GENERATED statements with skewed treaties, speakers and dates
    (many ties), and every statement as the unfiltered NDJSON export gives it."""
    url = databases.fresh()
    records = [
        StatementRecord(
            id=f"gen-{i:04d}",
            text=f"Generated statement {i}.",
            speaker=SPEAKERS[i % 7 % 4],
            country=COUNTRIES[i % 5 % 4] if SPEAKERS[i % 7 % 4] else "RU",
            article=ARTICLES[i % 9 % 2],
            said_on=DATES[i * i % len(DATES)],
            treaties=TREATIES[i % 11 % len(TREATIES)],
            sources=["act-2020-12-new-start-deal-to-wait-for-biden"],
        )
        for i in range(GENERATED)
    ]
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        write_batch(session, Batch({"statements": [Item("generated", 1, r) for r in records]}))
    engine.dispose()
    with make_client(url) as client:
        lines = client.get("/v1/statements?format=ndjson").text.splitlines()
        yield client, [json.loads(line) for line in lines]


def _matches(row: dict[str, Any], params: dict[str, Any]) -> bool:
    def key(value: dict[str, Any] | None, name: str) -> Any:
        return value[name] if value else None

    start, end = period(row["said_on"])
    tests = {
        "treaty": lambda vs: bool({t["slug"] for t in row["treaties"]} & set(vs)),
        "speaker": lambda vs: key(row["speaker"], "slug") in vs,
        "country": lambda vs: key(row["country"], "code") in vs,
        "article": lambda vs: key(row["article"], "slug") in vs,
        "since": lambda day: end >= dt.date.fromisoformat(day),
        "until": lambda day: start <= dt.date.fromisoformat(day),
        "during": lambda periods: any(within(row["said_on"], p) for p in periods),
    }
    return all(tests[name](value) for name, value in params.items())


def within(said_on: str, period: str) -> bool:
    """Known to lie in the period: as precise as it, or more, and inside it."""
    return len(said_on) >= len(period) and said_on.startswith(period)


def _expected(rows: list[dict[str, Any]], params: dict[str, Any], sort: str) -> list[str]:
    chosen = [row for row in rows if _matches(row, params)]
    field = sort.removeprefix("-")
    order = (lambda r: (r["said_on"], r["id"])) if field == "said_on" else (lambda r: r["id"])
    return [row["id"] for row in sorted(chosen, key=order, reverse=sort.startswith("-"))]


def _query(params: dict[str, Any], **extra: Any) -> list[tuple[str, Any]]:
    pairs = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    return pairs + list(extra.items())


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "treaty": st.lists(st.sampled_from(["new-start", "inf", "open-skies"]), min_size=1,
                           max_size=3, unique=True),
        "speaker": st.lists(st.sampled_from(SPEAKERS[:3]), min_size=1, max_size=2, unique=True),
        "country": st.lists(st.sampled_from(COUNTRIES[:3]), min_size=1, max_size=2, unique=True),
        "article": st.just([ARTICLES[0]]),
        "since": st.sampled_from(["2019-08-01", "2020-11-15", "2020-12-01", "2021-06-30"]),
        "until": st.sampled_from(["2019-08-02", "2020-11-12", "2020-11-30", "2021-01-01"]),
        "during": st.lists(st.sampled_from(["2020", "2020-11", "2020-11-12", "2019-08", "2021"]),
                           min_size=1, max_size=2, unique=True),
    },
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=FILTERS,
    sort=st.sampled_from(["-said_on", "said_on", "id", "-id"]),
    limit=st.integers(1, 60),
)
def test_every_representation_is_the_plain_filter_and_sort(
    rows_client: tuple[TestClient, list[dict[str, Any]]],
    params: dict[str, Any],
    sort: str,
    limit: int,
) -> None:
    client, rows = rows_client
    if "since" in params and "until" in params and params["since"] > params["until"]:
        assert client.get("/v1/statements", params=_query(params)).status_code == 422
        return
    expected = _expected(rows, params, sort)
    seen, url, query = [], "/v1/statements", _query(params, sort=sort, limit=limit)
    while url:
        body = client.get(url, params=query).json()
        assert body["total"] == len(expected)
        assert body["total_relation"] == "eq"
        seen += [item["id"] for item in body["items"]]
        url, query = body["next"], None
    assert seen == expected
    streamed = _query(params, sort=sort)
    csv_text = client.get("/v1/statements", params=[*streamed, ("format", "csv")]).text
    assert [row["id"] for row in csv.DictReader(io.StringIO(csv_text))] == expected
    ndjson = client.get("/v1/statements", params=[*streamed, ("format", "ndjson")]).text
    assert [json.loads(line)["id"] for line in ndjson.splitlines()] == expected


def test_the_fixture_holds_every_kind_of_row(
    rows_client: tuple[TestClient, list[dict[str, Any]]],
) -> None:
    """The property above is only as good as the rows: several treaties to a statement,
    statements of none, and all three precisions are there."""
    _, rows = rows_client
    assert len(rows) >= GENERATED
    assert any(len(row["treaties"]) > 1 for row in rows)
    assert any(not row["treaties"] for row in rows)
    assert {len(row["said_on"]) for row in rows} == {4, 7, 10}


def test_every_declared_filter_is_a_documented_parameter_of_every_statement_list(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    declared = {f.name for f in STATEMENTS.filters}
    listed = spec["paths"]["/v1/statements"]["get"]["parameters"]
    documented = {p["name"]: p for p in listed}
    assert declared <= set(documented)
    for f in STATEMENTS.filters:
        assert documented[f.name]["description"] == f.description
    exercised = set(FILTERS.wrapped_strategy.optional)  # type: ignore[attr-defined]
    assert exercised == declared - {"q"}  # q: tests/test_search.py, against the index
