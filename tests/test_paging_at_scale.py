"""A few thousand generated statements: every row exactly once, in every sort, in every format."""

import csv
import io
from collections.abc import Iterator

import pytest
from conftest import Databases, make_client
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import make_engine
from app.importing.loader import Batch, Item
from app.importing.records import StatementRecord
from app.importing.writer import write_batch

GENERATED = 3000
MONTHS = ["2020-11", "2020-11-12", "2021", "2019-08-02", "2020-10"]  # many ties, mixed precision


@pytest.fixture(scope="module")
def big_client(databases: Databases) -> Iterator[TestClient]:
    fresh_url = databases.fresh()
    records = [
        StatementRecord(
            id=f"generated-{i:05d}",
            text=f"Generated statement number {i}.",
            speaker=["sergei-lavrov", "stephen-biegun", None][i % 3],
            country="RU" if i % 3 == 0 else "US",
            said_on=MONTHS[i % len(MONTHS)],
            treaties=[["new-start"], ["inf", "open-skies"], []][i % 3],
            sources=["act-2020-12-new-start-deal-to-wait-for-biden"],
        )
        for i in range(GENERATED)
    ]
    engine = make_engine(fresh_url)
    with Session(engine) as session, session.begin():
        write_batch(session, Batch({"statements": [Item("generated", 1, r) for r in records]}))
    engine.dispose()
    with make_client(fresh_url) as client:
        yield client


@pytest.mark.parametrize("sort", ["-said_on", "said_on", "id", "-id"])
def test_every_row_once(big_client: TestClient, sort: str) -> None:
    seen: list[str] = []
    url: str | None = f"/v1/statements?limit=500&sort={sort}"
    while url:
        body = big_client.get(url).json()
        assert body["total"] == GENERATED + 27
        seen.extend(item["id"] for item in body["items"])
        url = body["next"]
    assert len(seen) == len(set(seen)) == GENERATED + 27


def test_filtered_paging_and_csv_export_agree(big_client: TestClient) -> None:
    ids: list[str] = []
    url: str | None = "/v1/statements?limit=137&treaty=inf&country=US"
    while url:
        body = big_client.get(url).json()
        ids.extend(item["id"] for item in body["items"])
        url = body["next"]
    exported = big_client.get("/v1/statements?treaty=inf&country=US&format=csv").text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [row["id"] for row in rows] == ids
    assert len(ids) == GENERATED // 3 + 2  # generated with inf, plus Pompeo and Billingslea


def test_full_csv_export(big_client: TestClient) -> None:
    response = big_client.get("/v1/statements", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len({row["id"] for row in rows}) == GENERATED + 27
