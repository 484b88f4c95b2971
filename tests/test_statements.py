"""Statement endpoints: filters, date precision, paging and errors."""

from typing import Any

import pytest
from fastapi.testclient import TestClient


def ids(client: TestClient, **params: Any) -> set[str]:
    body = client.get("/v1/statements", params={"limit": 500, **params}).json()
    return {s["id"] for s in body["items"]}


LAVROV_NOV_12 = {
    "lavrov-2020-11-12-fidgety-comments",
    "lavrov-2020-11-12-current-commotion",
    "lavrov-2020-11-12-wait-until-the-dust-settles",
}
LAVROV_NOV = {
    "lavrov-2020-11-establish-control-over-facilities",
    "lavrov-2020-11-inspectors-outside-checkpoints",
    "lavrov-2020-11-no-coming-back",
}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"speaker": "sergei-lavrov"}, LAVROV_NOV_12 | LAVROV_NOV),
        # A month-precision statement may fall on any day of its month.
        ({"speaker": "sergei-lavrov", "since": "2020-11-13"}, LAVROV_NOV),
        ({"speaker": "sergei-lavrov", "until": "2020-11-12"}, LAVROV_NOV_12 | LAVROV_NOV),
        ({"speaker": "sergei-lavrov", "since": "2020-12-01"}, set()),
        ({"speaker": "sergei-lavrov", "until": "2020-10-31"}, set()),
        (
            {"speaker": "marshall-billingslea", "since": "2020-12-01"},
            {"billingslea-2020-a-non-starter"},
        ),
        ({"speaker": "marshall-billingslea", "since": "2021-01-01"}, set()),
        (
            {"since": "2020-11-10", "until": "2020-11-10"},
            {
                "ryabkov-2020-11-10-no-basis-for-agreement",
                "biegun-2020-11-prepared-to-go-forward",
                "biegun-2020-11-china-stubbornly-refused",
                "fu-cong-2020-11-phone-conversation",
                "fu-cong-2020-11-immediate-priority",
                "fu-cong-2020-11-a-big-if",
                "billingslea-2020-a-non-starter",
            }
            | LAVROV_NOV,
        ),
        (
            {"country": "CN"},
            {
                "fu-cong-2020-11-phone-conversation",
                "fu-cong-2020-11-immediate-priority",
                "fu-cong-2020-11-a-big-if",
            },
        ),
        ({"country": "be"}, {"belgium-2020-10-constructive-open-dialogue"}),
        (
            {"treaty": "inf", "speaker": "vladimir-putin"},
            {
                "putin-2020-10-26-mutual-verification-measures",
                "putin-2020-10-not-to-deploy-9m729",
            },
        ),
        (
            {"speaker": ["fu-cong", "christopher-ford"], "treaty": "new-start"},
            {
                "fu-cong-2020-11-immediate-priority",
            },
        ),
        (
            {"speaker": "fu-cong,christopher-ford"},
            {
                "fu-cong-2020-11-phone-conversation",
                "fu-cong-2020-11-immediate-priority",
                "fu-cong-2020-11-a-big-if",
                "ford-2020-11-12-beijing-not-serious",
            },
        ),
        (
            {"article": "act-2020-11-russia-expands-inf-moratorium-proposal"},
            {
                "putin-2020-10-26-mutual-verification-measures",
                "putin-2020-10-not-to-deploy-9m729",
                "billingslea-2020-a-non-starter",
            },
        ),
        ({"speaker": "nobody-at-all"}, set()),
    ],
)
def test_filters(client: TestClient, params: dict[str, Any], expected: set[str]) -> None:
    assert ids(client, **params) == expected


def test_treaty_filter_values_combine_as_or(client: TestClient) -> None:
    inf, skies = ids(client, treaty="inf"), ids(client, treaty="open-skies")
    assert inf
    assert skies
    assert not inf & skies
    assert ids(client, treaty="inf,open-skies") == inf | skies
    assert ids(client, treaty=["inf", "open-skies"]) == inf | skies


def test_lavrov_dust_settles_statement(client: TestClient) -> None:
    body = client.get("/v1/statements/lavrov-2020-11-12-wait-until-the-dust-settles").json()
    assert body["text"] == "So, we will wait until the dust settles."
    assert (body["said_on"], body["said_on_precision"]) == ("2020-11-12", "day")
    assert body["speaker"]["slug"] == "sergei-lavrov"
    assert body["speaker_role"] == "Russian Foreign Minister"
    assert body["country"]["code"] == "RU"
    assert body["article"]["title"] == "New START Deal to Wait for Biden"
    assert [t["slug"] for t in body["treaties"]] == ["new-start"]
    assert body["sources"][0]["kind"] == "article"
    assert body["url"].endswith("/v1/statements/lavrov-2020-11-12-wait-until-the-dust-settles")


def test_month_precision_is_served_without_a_day(client: TestClient) -> None:
    body = client.get("/v1/statements/lavrov-2020-11-no-coming-back").json()
    assert (body["said_on"], body["said_on_precision"]) == ("2020-11", "month")
    year = client.get("/v1/statements/billingslea-2020-a-non-starter").json()
    assert (year["said_on"], year["said_on_precision"]) == ("2020", "year")


def test_every_statement_has_a_source_and_speaker_or_country(client: TestClient) -> None:
    items = client.get("/v1/statements", params={"limit": 500}).json()["items"]
    assert len(items) == 27
    assert all(s["sources"] and (s["speaker"] or s["country"]) for s in items)


@pytest.mark.parametrize("limit", [1, 2, 5, 26, 27])
def test_paging_visits_every_statement_once_newest_first(client: TestClient, limit: int) -> None:
    seen: list[dict[str, Any]] = []
    url: str | None = f"/v1/statements?limit={limit}"
    pages = 0
    while url:
        response = client.get(url)
        body = response.json()
        assert len(body["items"]) <= limit
        assert body["total"] == 27
        seen.extend(body["items"])
        url = body["next"]
        if url:
            assert response.headers["link"].startswith(f'<{url}>; rel="next", ')
        else:
            assert 'rel="next"' not in response.headers["link"]  # the permalink only
        pages += 1
    assert pages == -(-27 // limit)
    keys = [(s["said_on"], s["id"]) for s in seen]
    assert len(set(keys)) == 27
    assert keys == sorted(keys, reverse=True)


def test_paging_keeps_the_filters(client: TestClient) -> None:
    first = client.get("/v1/statements", params={"speaker": "sergei-lavrov", "limit": 4}).json()
    second = client.get(first["next"]).json()
    assert first["total"] == second["total"] == 6
    assert {s["speaker"]["slug"] for s in first["items"] + second["items"]} == {"sergei-lavrov"}
    assert second["next"] is None


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"limit": 501}, "limit must be at most 500"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor is not one this API issued"),
        ({"since": "2020-11"}, "since"),
        ({"since": "2020-12-01", "until": "2020-11-01"}, "since (2020-12-01) is after until"),
        ({"speakr": "sergei-lavrov"}, "Unknown query parameter(s): speakr"),
    ],
)
def test_bad_parameters_are_422(client: TestClient, params: dict[str, Any], fragment: str) -> None:
    response = client.get("/v1/statements", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert fragment in response.json()["detail"]


def test_unknown_statement_is_a_404(client: TestClient) -> None:
    response = client.get("/v1/statements/lavrov-1999-01-01-nothing")
    assert response.status_code == 404
    assert "lavrov-1999-01-01-nothing" in response.json()["detail"]
