"""The seed data's key numbers and dates, asserted through the API.

Each row is a fact a reader would check against the sources; a wrong value here is a bug
as serious as a crash.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient

FLIGHTS = "observation flights per year"
LIMITS = [
    ("new-start", "new-start-deployed-warheads", 1550, None, None, "warheads"),
    ("new-start", "new-start-deployed-delivery-vehicles", 700, None, None,
     "missiles and heavy bombers"),
    ("new-start", "new-start-deployed-and-non-deployed-launchers", 800, None, None,
     "launchers and heavy bombers"),
    ("new-start", "new-start-on-site-inspections", 18, None, None, "inspections per year"),
    ("inf", "inf-banned-range-band", None, 500, 5500, "km"),
    ("open-skies", "open-skies-passive-quota-united-states", 42, None, None, FLIGHTS),
    ("open-skies", "open-skies-passive-quota-russia-belarus", 42, None, None, FLIGHTS),
]  # fmt: skip


@pytest.mark.parametrize(("treaty", "slug", "value", "low", "high", "unit"), LIMITS)
def test_limits(
    client: TestClient,
    treaty: str,
    slug: str,
    value: int | None,
    low: int | None,
    high: int | None,
    unit: str,
) -> None:
    items = client.get(f"/v1/treaties/{treaty}/limits").json()["items"]
    found = next(x for x in items if x["slug"] == slug)
    assert (found["value"], found["min_value"], found["max_value"]) == (value, low, high)
    assert found["unit"] == unit


EVENTS = [
    ("new-start-signature", "signature", "2010-04-08"),
    ("new-start-entry-into-force", "entry_into_force", "2011-02-05"),
    ("new-start-extension", "extension", "2021-02-03"),
    ("new-start-russia-suspends-participation", "suspension", "2023-02-21"),
    ("new-start-us-rejects-suspension", "suspension_rejected", "2023-03-15"),
    ("new-start-expiry", "expiry", "2026-02-05"),
    ("new-start-us-proposal-2020-10", "proposal", "2020-10"),
    ("open-skies-signature", "signature", "1992-03-24"),
    ("open-skies-entry-into-force", "entry_into_force", "2002-01-01"),
    ("open-skies-us-withdrawal-announced", "withdrawal_announced", "2020-05-21"),
    ("open-skies-us-withdrawal-notified", "withdrawal_notified", "2020-05-22"),
    ("open-skies-us-withdrawal-effective", "withdrawal_effective", "2020-11-22"),
    ("open-skies-fourth-review-conference", "review_conference", "2020-10-07"),
    ("open-skies-russia-withdrawal-announced", "withdrawal_announced", "2021-01-15"),
    ("open-skies-russia-withdrawal-notified", "withdrawal_notified", "2021-06-18"),
    ("open-skies-russia-withdrawal-effective", "withdrawal_effective", "2021-12-18"),
    ("open-skies-russia-kaliningrad-restriction", "other", "2014"),
    ("inf-signature", "signature", "1987-12-08"),
    ("inf-entry-into-force", "entry_into_force", "1988-06-01"),
    ("inf-us-withdrawal-announced", "withdrawal_announced", "2018-10-20"),
    ("inf-us-withdrawal-notified", "withdrawal_notified", "2019-02-02"),
    ("inf-us-withdrawal-effective", "withdrawal_effective", "2019-08-02"),
    ("inf-putin-moratorium-proposal", "proposal", "2019-08"),
    ("inf-putin-verification-proposal", "proposal", "2020-10-26"),
]


@pytest.fixture(scope="module")
def events(client: TestClient) -> dict[str, dict[str, Any]]:
    found = {}
    for slug in ("new-start", "open-skies", "inf"):
        items = client.get(f"/v1/treaties/{slug}/events", params={"limit": 500}).json()["items"]
        found |= {e["id"]: e for e in items}
    return found


@pytest.mark.parametrize(("event_id", "kind", "date"), EVENTS)
def test_events(events: dict[str, dict[str, Any]], event_id: str, kind: str, date: str) -> None:
    assert (events[event_id]["type"], events[event_id]["date"]) == (kind, date)


QUOTES = [
    ("stephen-biegun", "2020-11-09", "gamble"),
    ("sergei-ryabkov", "2020-11-10", "nothing new in [the] U.S. position"),
    ("sergei-lavrov", "2020-11-12", "wait until the dust settles"),
    ("christopher-ford", "2020-11-12", "nuclear arms race spiral"),
    ("vladimir-putin", "2020-10-26", "mutual verification measures"),
    ("marshall-billingslea", "2020", "a non-starter"),
    ("wendy-sherman", "2022-06-02", "next generation of arms control agreements"),
    ("fu-cong", "2020-11", "big ‘if’"),
]


@pytest.mark.parametrize(("speaker", "said_on", "words"), QUOTES)
def test_quotes_are_in_the_right_mouth(
    client: TestClient, speaker: str, said_on: str, words: str
) -> None:
    items = client.get("/v1/statements", params={"speaker": speaker, "limit": 500}).json()["items"]
    assert any(words in s["text"] and s["said_on"] == said_on for s in items)
    others = client.get("/v1/statements", params={"limit": 500}).json()["items"]
    assert all(s["speaker"]["slug"] == speaker for s in others if words in s["text"])


def test_open_skies_had_34_parties_in_2020(client: TestClient) -> None:
    body = client.get("/v1/treaties/open-skies/status", params={"on": "2020-10-07"}).json()
    assert body["party_count"] == 34


def test_new_start_expiry_wording_is_kept_with_both_sources(client: TestClient) -> None:
    extension = client.get("/v1/treaties/new-start/events", params={"type": "extension"}).json()
    [event] = extension["items"]
    assert "through February 4, 2026" in event["description"]
    assert "until February 5, 2026" in event["description"]
    assert {s["slug"] for s in event["sources"]} == {
        "jpnd-2021-new-start-extension",
        "state-dept-new-start-page",
    }
    # Two wordings of one date, not a competing date: "through February 4" read as an
    # expires_on (the first day not in force) would be a day early.
    assert event["new_expires_on"] == "2026-02-05"
    assert event["competing_values"] == []


@pytest.mark.parametrize(
    ("path", "key", "field", "theirs", "source"),
    [
        ("/v1/treaties/inf/limits", "inf-banned-range-band", "max_value", "5000",
         "aca-inf-treaty-at-a-glance"),
        ("/v1/treaties/new-start/limits", "new-start-deployed-and-non-deployed-launchers",
         "value", "700", "nuclearforces-new-start"),
        ("/v1/treaties/open-skies/events?limit=500", "open-skies-signature", "date",
         "1990-03-24", "cns-open-skies-fact-sheet"),
    ],
)  # fmt: skip
def test_competing_values_are_shown_beside_ours(
    client: TestClient, path: str, key: str, field: str, theirs: str, source: str
) -> None:
    items = client.get(path).json()["items"]
    record = next(x for x in items if x.get("slug", x.get("id")) == key)
    assert str(record[field]) != theirs  # ours stands
    assert any(
        (c["field"], c["value"], c["source"]["slug"]) == (field, theirs, source)
        for c in record["competing_values"]
    )
