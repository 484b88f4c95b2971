"""Article endpoints: filters by treaty, author, publication and issue date."""

import pytest
from fastapi.testclient import TestClient

DEC = "act-2020-12-new-start-deal-to-wait-for-biden"
SKIES = "act-2020-11-russia-highlights-open-skies-issues"
INF = "act-2020-11-russia-expands-inf-moratorium-proposal"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [DEC, SKIES, INF]),
        ({"treaty": "new-start"}, [DEC]),
        ({"treaty": "inf,open-skies"}, [SKIES, INF]),
        ({"author": "shannon-bugos"}, [DEC, SKIES, INF]),
        ({"author": "someone-else"}, []),
        ({"publication": "Arms Control Today", "since": "2020-12-01"}, [DEC]),
        ({"until": "2020-11-30"}, [SKIES, INF]),
        ({"since": "2020-11-15", "until": "2020-11-15"}, [SKIES, INF]),
    ],
)
def test_filters_newest_first(
    client: TestClient, params: dict[str, str], expected: list[str]
) -> None:
    body = client.get("/v1/articles", params=params).json()
    assert [a["slug"] for a in body["items"]] == expected


def test_article_detail_with_authors_and_statements(client: TestClient) -> None:
    body = client.get(f"/v1/articles/{INF}").json()
    assert body["title"] == "Russia Expands Proposal for Moratorium on INF-Range Missiles"
    assert (body["published_on"], body["published_on_precision"]) == ("2020-11", "month")
    assert [a["name"] for a in body["authors"]] == ["Kingston Reif", "Shannon Bugos"]
    assert body["publication"] == "Arms Control Today"
    assert [t["slug"] for t in body["treaties"]] == ["inf"]
    assert {s["id"] for s in body["statements"]} == {
        "putin-2020-10-26-mutual-verification-measures",
        "putin-2020-10-not-to-deploy-9m729",
        "billingslea-2020-a-non-starter",
    }


def test_unknown_article_is_a_404(client: TestClient) -> None:
    assert client.get("/v1/articles/act-1999-01-nothing").status_code == 404
