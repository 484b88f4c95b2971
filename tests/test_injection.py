"""SQL injection payloads in every filter and path parameter are data, never SQL.

Every GET operation in the OpenAPI document is called (with an editor's token where it
takes one) with each payload in each of its parameters in turn. The answers may be 200
(nothing matched), 308, 404 or 422, never a 500; a payload never returns more rows than an
impossible filter should; and afterwards the data is exactly as it was.
"""

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.curation.tokens import Role, create_token
from app.db import make_engine

PAYLOADS = [
    "' OR '1'='1",
    "x' OR 1=1 --",
    "1; DROP TABLE statement; --",
    "' UNION SELECT token_hash, name, role FROM api_token --",
    '" OR ""="',
    "%' OR 1=1 OR '%'='",
    "x'); DELETE FROM statement; --",
    "1 AND (SELECT COUNT(*) FROM sqlite_master) > 0",
    "x' AND pg_sleep(5) IS NULL --",
    "\\'; SELECT 1; --",
]
LEAKS = ("sqlite", "psycopg", "syntax error", "sqlalchemy", "operationalerror", "traceback")
FIXED = {"slug": "new-start", "code": "RU", "resource": "statements"}


def _operations(client: TestClient) -> list[tuple[str, list[dict[str, Any]], bool]]:
    """Each GET under /v1: its path, parameters, and whether it takes a token."""
    document = client.get("/openapi.json").json()
    return [
        (path, op.get("parameters", []), bool(op.get("security")))
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if method == "get" and path.startswith("/v1") and path != "/v1/export"
    ]


def _fill(path: str, params: list[dict[str, Any]], target: str | None, payload: str) -> str:
    for param in params:
        if param["in"] == "path":
            name = param["name"]
            value = payload if name == target else FIXED.get(name, "nothing")
            path = path.replace("{" + name + "}", value.replace("/", "%2F"))
            path = path.replace("{" + name + ":path}", value.replace("/", "%2F"))
    return path


def test_every_parameter_treats_payloads_as_data(
    fresh_url: str, client_for: Callable[[str], TestClient]
) -> None:
    client = client_for(fresh_url)
    engine = make_engine(fresh_url)
    with Session(engine) as session, session.begin():
        editor = {
            "Authorization": f"Bearer {create_token(session, name='probe', role=Role.editor)}"
        }
    engine.dispose()
    before = client.get("/v1/meta").json()
    exported = client.get("/v1/statements?format=ndjson").text
    tried = 0
    for path, params, secured in _operations(client):
        for param in params:
            if param["in"] not in ("path", "query") or param["name"] in ("format", "limit"):
                continue
            for payload in PAYLOADS:
                if param["in"] == "path":
                    url, query = _fill(path, params, param["name"], payload), {}
                else:
                    url, query = _fill(path, params, None, ""), {param["name"]: payload}
                headers = editor if secured else {}
                response = client.get(url, params=query, headers=headers, follow_redirects=False)
                tried += 1
                assert response.status_code in (200, 308, 404, 422), (url, query, response.text)
                if response.status_code >= 400:
                    assert response.headers["content-type"] == "application/problem+json"
                    assert "Traceback" not in response.text
                    detail = response.json()["detail"].lower()
                    for echoed in re.split(r"[\s,]+", payload.lower()):  # our words only
                        detail = detail.replace(echoed, "") if echoed else detail
                    assert not any(leak in detail for leak in LEAKS), (url, query, detail)
                elif param["in"] == "query" and param["name"] in ("speaker", "treaty", "article"):
                    # An impossible filter value matches nothing; it does not match everything.
                    body = response.json()
                    assert body.get("total", 0) == 0, (url, query)
    assert tried > 500
    assert client.get("/v1/meta").json() == before
    assert client.get("/v1/statements?format=ndjson").text == exported


@pytest.mark.parametrize("payload", PAYLOADS)
def test_search_words_are_words(client: TestClient, payload: str) -> None:
    response = client.get("/v1/search", params={"q": payload})
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        # Matching is on the payload's words ("drop", "table"...), never on its syntax:
        # every hit contains one of them.
        words = [w[:4] for w in re.findall(r"[a-z0-9]+", payload.lower())]
        for hit in response.json()["items"]:
            text = (hit["label"] + " " + hit["snippet"]).lower()
            assert any(word in text for word in words), (payload, hit)
