"""A treaty's status, expiry and parties on either side of every boundary date."""

import pytest
from fastapi.testclient import TestClient

CASES = [
    # treaty, day, status, expires_on, days_until_expiry, party_count
    ("new-start", "2010-04-07", "not_signed", "2021-02-05", None, 0),
    ("new-start", "2010-04-08", "signed", "2021-02-05", None, 0),
    ("new-start", "2011-02-04", "signed", "2021-02-05", None, 0),
    ("new-start", "2011-02-05", "in_force", "2021-02-05", 3653, 2),
    ("new-start", "2021-02-02", "in_force", "2021-02-05", 3, 2),
    ("new-start", "2021-02-03", "in_force", "2026-02-05", 1828, 2),
    ("new-start", "2026-02-04", "in_force", "2026-02-05", 1, 2),
    ("new-start", "2026-02-05", "expired", "2026-02-05", None, 0),
    ("inf", "1987-12-07", "not_signed", None, None, 0),
    ("inf", "1987-12-08", "signed", None, None, 0),
    ("inf", "1988-05-31", "signed", None, None, 0),
    ("inf", "1988-06-01", "in_force", None, None, 2),
    ("inf", "2019-08-01", "in_force", None, None, 2),
    ("inf", "2019-08-02", "terminated", None, None, 0),
    ("open-skies", "1992-03-23", "not_signed", None, None, 0),
    ("open-skies", "2001-12-31", "signed", None, None, 0),
    ("open-skies", "2002-01-01", "in_force", None, None, 27),
    ("open-skies", "2020-11-21", "in_force", None, None, 34),
    ("open-skies", "2020-11-22", "in_force", None, None, 33),
    ("open-skies", "2021-12-17", "in_force", None, None, 33),
    ("open-skies", "2021-12-18", "in_force", None, None, 32),
]


@pytest.mark.parametrize(("slug", "day", "status", "expires", "days_left", "parties"), CASES)
def test_status_on_a_date(
    client: TestClient,
    slug: str,
    day: str,
    status: str,
    expires: str | None,
    days_left: int | None,
    parties: int,
) -> None:
    body = client.get(f"/v1/treaties/{slug}/status", params={"on": day}).json()
    assert (body["on"], body["status"], body["expires_on"]) == (day, status, expires)
    assert body["days_until_expiry"] == days_left
    assert body["party_count"] == parties == len(body["parties"])


@pytest.mark.parametrize(
    ("slug", "day", "members"),
    [
        ("inf", "1990-06-01", {"US", "SU"}),
        ("inf", "2000-06-01", {"US", "RU"}),
        ("open-skies", "2020-11-22", "all but US"),
        ("open-skies", "2021-12-18", "all but US, RU"),
    ],
)
def test_who_was_a_party(client: TestClient, slug: str, day: str, members: object) -> None:
    body = client.get(f"/v1/treaties/{slug}/status", params={"on": day}).json()
    codes = {p["country"]["code"] for p in body["parties"]}
    if isinstance(members, set):
        assert codes == members
    else:
        assert "US" not in codes
        assert ("RU" in codes) == (members == "all but US")
        assert {"SE", "BY", "UA", "GE"} <= codes  # Sweden counts, its date unknown
        assert "KG" not in codes
        assert "CS" not in codes


def test_suspensions_are_reported_while_in_force(client: TestClient) -> None:
    inf = client.get("/v1/treaties/inf/status", params={"on": "2019-03-01"}).json()
    assert {(s["country"]["code"], s["date"]) for s in inf["suspensions"]} == {
        ("US", "2019-02-02"),
        ("RU", "2019-02-02"),
    }
    new_start = client.get("/v1/treaties/new-start/status", params={"on": "2023-03-01"}).json()
    assert new_start["status"] == "in_force"
    assert {s["event"] for s in new_start["suspensions"]} >= {
        "new-start-russia-suspends-participation"
    }
    before = client.get("/v1/treaties/new-start/status", params={"on": "2023-02-20"}).json()
    assert before["suspensions"] == []


@pytest.mark.parametrize("day", ["2002-01-01", "2003-07-30", "2003-07-31", "2020-10-07"])
def test_a_party_whose_date_is_unknown_is_counted_and_flagged(client: TestClient, day: str) -> None:
    """Sweden's accession date is not in our sources: it counts on every day the treaty is
    in force (no invented boundary: 2003-07-30 and 2003-07-31 count alike) and the status
    says its date is unknown."""
    body = client.get("/v1/treaties/open-skies/status", params={"on": day}).json()
    assert body["parties_date_unknown"] == ["SE"]
    [sweden] = [p for p in body["parties"] if p["country"]["code"] == "SE"]
    assert sweden["party_date_unknown"] is True
    assert (sweden["in_force_on"], sweden["party_by_on"]) == (None, None)
    before = client.get("/v1/treaties/open-skies/status", params={"on": "2001-12-31"}).json()
    assert before["parties_date_unknown"] == []
    assert before["party_count"] == 0


def test_default_day_is_today(client: TestClient) -> None:
    statuses = {
        slug: client.get(f"/v1/treaties/{slug}/status").json()["status"]
        for slug in ("new-start", "inf", "open-skies")
    }
    # The suite runs after 2026-02-05, when New START expired.
    assert statuses == {"new-start": "expired", "inf": "terminated", "open-skies": "in_force"}


@pytest.mark.parametrize("bad", ["2020-13-01", "tomorrow", "2020-02-30"])
def test_bad_date_is_a_422(client: TestClient, bad: str) -> None:
    response = client.get("/v1/treaties/inf/status", params={"on": bad})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "on" in response.json()["detail"]
