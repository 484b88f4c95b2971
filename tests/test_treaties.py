"""Treaty endpoints: lists, detail, limits, parties, events, statements, articles."""

import pytest
from fastapi.testclient import TestClient


def test_list_has_the_three_treaties_with_derived_dates(client: TestClient) -> None:
    body = client.get("/v1/treaties").json()
    by_slug = {t["slug"]: t for t in body["items"]}
    assert body["total"] == 3
    assert body["next"] is None
    assert set(by_slug) == {"new-start", "open-skies", "inf"}
    assert by_slug["new-start"]["signed_on"] == "2010-04-08"
    assert by_slug["new-start"]["entered_into_force_on"] == "2011-02-05"
    assert by_slug["new-start"]["expires_on"] == "2026-02-05"
    assert by_slug["inf"]["ended_on"] == "2019-08-02"
    assert by_slug["open-skies"]["expires_on"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "bilateral"}, {"new-start", "inf"}),
        ({"kind": "multilateral"}, {"open-skies"}),
        ({"status": "in_force"}, {"open-skies"}),
        ({"status": "in_force", "on": "2018-01-01"}, {"new-start", "inf", "open-skies"}),
        ({"status": ["expired", "terminated"]}, {"new-start", "inf"}),
        ({"party": "US", "on": "2020-01-01"}, {"new-start", "open-skies"}),
        ({"party": "US", "on": "2021-01-01"}, {"new-start"}),
        ({"party": "SE"}, {"open-skies"}),
        ({"party": "SU", "on": "1990-01-01"}, {"inf"}),
        ({"kind": "bilateral", "party": "FR"}, set()),
    ],
)
def test_list_filters(client: TestClient, params: dict[str, str], expected: set[str]) -> None:
    body = client.get("/v1/treaties", params=params).json()
    assert {t["slug"] for t in body["items"]} == expected


def test_detail_inlines_limits_parties_and_sources(client: TestClient) -> None:
    body = client.get("/v1/treaties/new-start").json()
    assert body["short_name"] == "New START"
    assert body["signed_at"] == "Prague, Czech Republic"
    assert {limit["value"] for limit in body["limits"]} == {1550, 700, 800, 18}
    assert {p["country"]["code"]: p["role"] for p in body["parties"]} == {
        "US": "former_party",
        "RU": "former_party",
    }
    assert body["sources"]
    assert all(s["title"] for s in body["sources"])
    assert "five years" in body["extension_terms"]


def test_every_limit_event_and_party_cites_a_source(client: TestClient) -> None:
    for slug in ("new-start", "open-skies", "inf"):
        for sub in ("limits", "parties", "events?limit=500"):
            items = client.get(f"/v1/treaties/{slug}/{sub}").json()["items"]
            assert items, (slug, sub)
            assert all(item["sources"] for item in items), (slug, sub)


def test_open_skies_parties_and_roles_today(client: TestClient) -> None:
    body = client.get("/v1/treaties/open-skies/parties").json()
    roles = {p["country"]["code"]: p["role"] for p in body["items"]}
    assert sum(role == "party" for role in roles.values()) == 32
    assert roles["US"] == roles["RU"] == "withdrawn"
    assert roles["KG"] == "signatory"
    assert roles["CS"] == "predecessor"
    us = next(p for p in body["items"] if p["country"]["code"] == "US")
    assert (us["withdrawal_notified_on"], us["withdrawal_effective_on"]) == (
        "2020-05-22",
        "2020-11-22",
    )


def test_parties_on_a_past_day(client: TestClient) -> None:
    body = client.get("/v1/treaties/open-skies/parties", params={"on": "2020-06-01"}).json()
    roles = {p["country"]["code"]: p["role"] for p in body["items"]}
    assert roles["US"] == "party"  # notice given, withdrawal not yet effective
    assert roles["CZ"] == "party"


def test_events_are_a_dated_timeline(client: TestClient) -> None:
    body = client.get("/v1/treaties/open-skies/events", params={"limit": 500}).json()
    dates = [e["date"] for e in body["items"]]
    assert dates == sorted(dates)
    us = [e["type"] for e in body["items"] if (e["country"] or {}).get("code") == "US"]
    assert us[:3] == ["withdrawal_announced", "withdrawal_notified", "withdrawal_effective"]
    kaliningrad = next(e for e in body["items"] if e["id"] == "open-skies-kaliningrad-flight-2020")
    assert (kaliningrad["date"], kaliningrad["date_precision"]) == ("2020-02", "month")


def test_events_filter_by_type(client: TestClient) -> None:
    body = client.get("/v1/treaties/new-start/events", params={"type": "extension"}).json()
    assert [(e["date"], e["new_expires_on"]) for e in body["items"]] == [
        ("2021-02-03", "2026-02-05")
    ]


def test_statements_and_articles_of_a_treaty(client: TestClient) -> None:
    statements = client.get("/v1/treaties/inf/statements").json()["items"]
    assert all("inf" in {t["slug"] for t in s["treaties"]} for s in statements)
    assert {s["speaker"]["slug"] for s in statements} >= {"vladimir-putin", "mike-pompeo"}
    articles = client.get("/v1/treaties/open-skies/articles").json()["items"]
    assert [a["slug"] for a in articles] == ["act-2020-11-russia-highlights-open-skies-issues"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/treaties/start-ii",
        "/v1/treaties/start-ii/limits",
        "/v1/treaties/start-ii/parties",
        "/v1/treaties/start-ii/events",
        "/v1/treaties/start-ii/statements",
        "/v1/treaties/start-ii/articles",
        "/v1/treaties/start-ii/status",
    ],
)
def test_unknown_treaty_is_a_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["detail"] == "No treaty with identifier 'start-ii' exists."
