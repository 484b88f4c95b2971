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
    assert deputy["start_on"] == "2021-04"


def test_person_statements(client: TestClient) -> None:
    body = client.get("/v1/people/fu-cong/statements").json()
    assert body["total"] == 3
    assert {s["speaker"]["slug"] for s in body["items"]} == {"fu-cong"}


@pytest.mark.parametrize("path", ["/v1/people/sergei-lavroff", "/v1/people/nobody/statements"])
def test_unknown_person_is_a_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
