"""People endpoints: alternative spellings, positions, statements."""

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "Sergey"}, {"sergei-lavrov", "sergei-ryabkov"}),
        ({"q": "sergei"}, {"sergei-lavrov", "sergei-ryabkov"}),
        ({"q": "Steve"}, {"stephen-biegun"}),
        ({"q": "傅聪"}, {"fu-cong"}),
        ({"country": "CN"}, {"fu-cong"}),
        ({"country": "ru", "q": "lavrov"}, {"sergei-lavrov"}),
        ({"q": "kissinger"}, set()),
    ],
)
def test_filters(client: TestClient, params: dict[str, str], expected: set[str]) -> None:
    body = client.get("/v1/people", params=params).json()
    assert {p["slug"] for p in body["items"]} == expected


def test_list_is_ordered_by_slug(client: TestClient) -> None:
    slugs = [p["slug"] for p in client.get("/v1/people").json()["items"]]
    assert slugs == sorted(slugs)
    assert len(slugs) == 9


def test_detail_has_aliases_and_dated_positions(client: TestClient) -> None:
    body = client.get("/v1/people/stephen-biegun").json()
    assert body["aliases"] == ["Steve Biegun"]
    titles = [(p["title"], p["start_on"]) for p in body["positions"]]
    assert titles == [
        ("Special Representative for North Korea", "2018-08"),
        ("Deputy Secretary of State", "2019-12"),
    ]
    assert all(p["sources"] for p in body["positions"])
    assert body["statements"].endswith("/v1/people/stephen-biegun/statements")


def test_sherman_held_no_office_in_2020(client: TestClient) -> None:
    positions = client.get("/v1/people/wendy-sherman").json()["positions"]
    deputy = next(p for p in positions if p["title"] == "Deputy Secretary of State")
    assert (deputy["start_on"], deputy["end_on"], deputy["end_known"]) == (
        "2021-04-14",
        "2023-07-28",
        True,
    )


def held(client: TestClient, title: str, day: str) -> dict[str, str]:
    """Who held an office on a day, as each person's page answers: yes, no or unknown."""
    found = {}
    for person in client.get("/v1/people").json()["items"]:
        body = client.get(person["url"], params={"on": day}).json()
        for p in body["positions"]:
            if p["title"] == title:
                found[person["slug"]] = p["held"]
    return found


DEPUTY = "Deputy Secretary of State"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2020-11-09", {"stephen-biegun": "yes", "wendy-sherman": "no"}),
        # Biegun left between his last sourced day and Sherman's start: not invented.
        ("2021-01-01", {"stephen-biegun": "unknown", "wendy-sherman": "no"}),
        ("2021-04-14", {"stephen-biegun": "no", "wendy-sherman": "yes"}),
        ("2023-07-28", {"stephen-biegun": "no", "wendy-sherman": "yes"}),
        ("2023-07-29", {"stephen-biegun": "no", "wendy-sherman": "no"}),
    ],
)
def test_one_deputy_secretary_at_a_time(
    client: TestClient, day: str, expected: dict[str, str]
) -> None:
    assert held(client, DEPUTY, day) == expected


def test_no_position_without_a_known_end_reads_as_held_today(client: TestClient) -> None:
    """Nobody is shown in office today unless a source gives a start and an end to come."""
    for person in client.get("/v1/people").json()["items"]:
        for p in client.get(person["url"]).json()["positions"]:
            assert p["held"] in ("no", "unknown"), (person["slug"], p["title"])
            assert p["end_known"] == (p["end_on"] is not None)


def test_ford_held_two_offices_at_once_until_he_resigned(client: TestClient) -> None:
    for day, state in (("2020-11-12", "yes"), ("2021-01-08", "yes"), ("2021-01-09", "no")):
        positions = client.get("/v1/people/christopher-ford", params={"on": day}).json()
        assert [p["held"] for p in positions["positions"]] == [state, state], day


def test_role_on_a_bad_day_is_a_422(client: TestClient) -> None:
    response = client.get("/v1/people/sergei-lavrov", params={"on": "2020-11"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_person_statements(client: TestClient) -> None:
    body = client.get("/v1/people/fu-cong/statements").json()
    assert body["total"] == 3
    assert {s["speaker"]["slug"] for s in body["items"]} == {"fu-cong"}


@pytest.mark.parametrize("path", ["/v1/people/sergei-lavroff", "/v1/people/nobody/statements"])
def test_unknown_person_is_a_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
