"""Rules the served data keeps, one per kind of mistake the 2026-12 audit found.

Each test reads the API over the whole seed data, so a record added later that breaks a
rule fails here as the audited ones would have.
"""

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.dates import period


def everything(client: TestClient, path: str) -> list[dict[str, Any]]:
    body = client.get(path, params={"limit": 500}).json()
    assert body["next"] is None
    return list(body["items"])


@pytest.fixture(scope="module")
def events(client: TestClient) -> list[dict[str, Any]]:
    return everything(client, "/v1/events")


def _act(event: dict[str, Any]) -> tuple[str, str, str | None]:
    country = event["country"]["code"] if event["country"] else None
    return event["treaty"]["slug"], event["type"], country


def test_one_act_is_one_event_not_two_at_different_precisions(
    events: list[dict[str, Any]],
) -> None:
    """An offer known "in October" and the same offer on 20 October are one event."""
    by_act = defaultdict(list)
    for event in events:
        by_act[_act(event)].append(event)
    for act, same in by_act.items():
        for a in same:
            for b in same:
                first, last = period(a["date"])
                inside = first <= period(b["date"])[0] <= period(b["date"])[1] <= last
                assert a is b or len(a["date"]) == len(b["date"]) or not inside, (act, a["id"])


SINGULAR = {"signature", "ratification", "suspension", "withdrawal_effective"}


def test_a_state_signs_ratifies_suspends_and_leaves_once(events: list[dict[str, Any]]) -> None:
    """Later steps of one act (a law passed, a law signed) are their own types, `part_of`
    the act; a parliament's vote is a legislative_approval, not a second ratification."""
    counts: dict[tuple[str, str, str | None], int] = defaultdict(int)
    for event in events:
        if event["type"] in SINGULAR and event["country"]:
            counts[_act(event)] += 1
    assert {act: n for act, n in counts.items() if n > 1} == {}


def test_steps_point_at_an_earlier_act_of_the_same_treaty(events: list[dict[str, Any]]) -> None:
    by_id = {e["id"]: e for e in events}
    steps = [e for e in events if e["part_of"]]
    assert {e["id"] for e in steps} >= {
        "new-start-suspension-law-passed",
        "new-start-suspension-law-in-force",
    }
    for step in steps:
        act = by_id[step["part_of"]]
        assert act["treaty"] == step["treaty"]
        assert period(act["date"])[0] <= period(step["date"])[0], step["id"]


def test_a_ratification_event_agrees_with_the_participation_record(
    client: TestClient, events: list[dict[str, Any]]
) -> None:
    consented = {
        (p["treaty"]["slug"], p["country"]["code"]): p["consented_on"]
        for slug in ("new-start", "open-skies", "inf")
        for p in everything(client, f"/v1/treaties/{slug}/parties")
    }
    for event in (e for e in events if e["type"] == "ratification" and e["country"]):
        treaty, _, country = _act(event)
        assert consented.get((treaty, country)) in (None, event["date"]), event["id"]


def test_one_suspension_of_new_start_is_reported_once(client: TestClient) -> None:
    body = client.get("/v1/treaties/new-start/status", params={"on": "2023-03-01"}).json()
    assert [(s["country"]["code"], s["date"]) for s in body["suspensions"]] == [
        ("RU", "2023-02-21")
    ]


def _cited(value: Any) -> Iterator[str]:
    """Every source slug a record (in the export's form) cites, nested records included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "sources":
                yield from inner
            elif key == "source":
                yield inner
            else:
                yield from _cited(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _cited(inner)


def test_every_source_is_cited_and_graded(client: TestClient) -> None:
    """A source nothing cites is a fact we dropped or a citation we forgot; a document read
    only as another page quotes it is graded as a quotation, not as a mirror."""
    lines = client.get("/v1/export", params={"format": "ndjson"}).text.splitlines()
    records = [json.loads(line) for line in lines]
    sources = {r["record"]["slug"]: r["record"] for r in records if r["resource"] == "sources"}
    cited = set(_cited([r["record"] for r in records]))
    assert set(sources) - cited == set()
    quoted = {slug for slug, s in sources.items() if "as quoted" in (s.get("note") or "")}
    assert len(quoted) >= 2
    assert {
        slug: sources[slug]["grade"] for slug in quoted if "quoted" not in sources[slug]["grade"]
    } == {}
