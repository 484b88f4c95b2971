"""Reading the data as it was at a past version (`as_of`): a citation can be re-read.

The property test makes a random sequence of writes of every kind (records created,
patched and deleted through the record API, bulk imports), records the answers of a fixed
set of URLs after each, and at the end asks every one again at the version it was given
at: each must be the same answer, apart from `as_of` in its URLs.
"""

import datetime as dt
import json
import random
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session
from test_curation import Curator

from app.db import make_engine
from app.history.tables import HISTORY_OF
from app.history.versions import prune

SPEAKERS = ["sergei-lavrov", "sergei-ryabkov", "stephen-biegun", "fu-cong", "vladimir-putin"]
TREATIES = ["new-start", "inf", "open-skies"]
SOURCES = ["jpnd-2021-new-start-extension", "act-2020-12-new-start-deal-to-wait-for-biden"]
PATCHABLE = [  # (resource, key, field): a text field every record of it has or may have
    ("treaties", "new-start", "summary"),
    ("treaties", "open-skies", "summary"),
    ("people", "sergei-lavrov", "description"),
    ("people", "fu-cong", "description"),
    ("events", "new-start-extension", "description"),
    ("events", "open-skies-us-withdrawal-announced", "description"),
    ("limits", "new-start-deployed-warheads", "note"),
    ("participation", "new-start/RU", "note"),
    ("participation", "open-skies/US", "note"),
    ("articles", "act-2020-11-russia-highlights-open-skies-issues", "summary"),
    ("sources", "jpnd-2021-new-start-extension", "title"),
    ("countries", "RU", "name"),
    ("statements", "lavrov-2020-11-12-fidgety-comments", "text"),
]
CREATED = "as-of-{n}"  # the ids of the statements the test creates

URLS = [
    "/v1/statements?limit=5",
    "/v1/statements?limit=5&sort=id",
    "/v1/statements?treaty=new-start&limit=10",
    "/v1/statements?speaker=sergei-lavrov",
    "/v1/statements?speaker=fu-cong&speaker=sergei-ryabkov&sort=id",
    "/v1/statements?since=2020-11-01&until=2021-12-31",
    "/v1/statements?during=2020-11&facet=speaker&facet=treaty",
    "/v1/statements?facet=speaker,country,treaty,said_on:year&limit=1",
    "/v1/statements?treaty=new-start&facet=speaker,said_on:month&limit=2",
    "/v1/statements?fields=id,said_on,speaker&limit=50",
    "/v1/statements?format=csv",
    "/v1/statements?format=ndjson&treaty=inf",
    "/v1/statements/lavrov-2020-11-12-fidgety-comments",
    "/v1/statements/as-of-3",
    "/v1/treaties",
    "/v1/treaties/new-start",
    "/v1/treaties/new-start/limits",
    "/v1/treaties/new-start/parties?on=2020-11-21",
    "/v1/treaties/open-skies/parties?format=csv",
    "/v1/treaties/new-start/events",
    "/v1/treaties/new-start/statements?limit=20",
    "/v1/treaties/new-start/status?on=2021-02-05",
    "/v1/treaties/inf/status",
    "/v1/people",
    "/v1/people/sergei-lavrov",
    "/v1/people/fu-cong/statements",
    "/v1/articles",
    "/v1/articles/act-2020-11-russia-highlights-open-skies-issues",
    "/v1/events?limit=20&sort=-date",
    "/v1/timeline",
    "/v1/meta",
    "/v1/versions",
]
WRITES = 200


class Writer:
    """Random writes of every kind through the API, each one data version."""

    def __init__(self, curator: Curator, seed: int) -> None:
        self.curator, self.random = curator, random.Random(seed)
        self.made: list[str] = []  # statements created and not deleted
        self.n = 0

    def statement(self) -> dict[str, Any]:
        pick = self.random
        self.n += 1
        return {
            "id": CREATED.format(n=self.n),
            "text": f"Statement {self.n}: {pick.choice(['treaty', 'missile', 'inspection'])}.",
            "speaker": pick.choice(SPEAKERS),
            "said_on": pick.choice(["2020-11", "2020-11-12", "2021-01-26", "2021", "2019-08-02"]),
            "treaties": sorted(pick.sample(TREATIES, pick.randint(1, 2))),
            "sources": [pick.choice(SOURCES)],
        }

    def write(self) -> None:
        kinds = [self.create, self.patch, self.patch, self.patch, self.bulk]
        if self.made:
            kinds += [self.delete, self.edit_made, self.edit_made]
        self.random.choice(kinds)()

    def send(self, method: str, path: str, **kw: Any) -> None:
        curator = self.curator
        if method in ("PATCH", "DELETE"):
            kw["headers"] = {"If-Match": curator.etag(path.removeprefix("/records"))}
        token = curator.admin if method == "DELETE" else curator.editor
        response = curator.send(method, path, token, **kw)
        assert response.status_code < 300, response.text

    def create(self) -> None:
        record = self.statement()
        self.send("POST", "/records/statements", json=record)
        self.made.append(record["id"])

    def patch(self) -> None:
        resource, key, field = self.random.choice(PATCHABLE)
        value = f"Corrected {self.random.randint(0, 10**6)}"
        self.send("PATCH", f"/records/{resource}/{key}", json={field: value})

    def edit_made(self) -> None:
        key = self.random.choice(self.made)
        change = self.statement()
        del change["id"]
        self.send("PATCH", f"/records/statements/{key}", json=change)

    def delete(self) -> None:
        key = self.made.pop(self.random.randrange(len(self.made)))
        self.send("DELETE", f"/records/statements/{key}")

    def bulk(self) -> None:
        records = [self.statement() for _ in range(self.random.randint(1, 3))]
        if self.made:  # an import that also changes a statement already there
            records.append({**self.statement(), "id": self.random.choice(self.made)})
        self.send("POST", "/imports", json={"statements": records})
        self.made += [r["id"] for r in records if r["id"] not in self.made]


Answer = tuple[int, str, bytes]  # status, media type, body


def _answer(response: Any) -> tuple[int, Answer]:
    media = response.headers["content-type"].split(";")[0]
    return int(response.headers["x-data-version"]), (response.status_code, media, response.content)


def answer(client: TestClient, url: str) -> tuple[int, Answer]:
    return _answer(client.get(url))


def answers(client: TestClient, urls: list[str]) -> list[tuple[int, Answer]]:
    """Each URL's answer, asked one after the other in the app's own event loop: one trip
    into it for all of them, not one each (thousands of requests make this test)."""

    async def ask() -> list[tuple[int, Answer]]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return [_answer(await http.get(url)) for url in urls]

    return client.portal.call(ask)  # type: ignore[union-attr]


def without_as_of(body: bytes, version: int) -> bytes:
    """The body with `as_of=<version>` taken out of its URLs, which is all that differs."""
    end = r"(?=[&\"\s,>]|$)"  # so as_of=1 is not taken out of as_of=12
    first = re.sub(rf"\?as_of={version}&".encode(), b"?", body)
    return re.sub(rf"[?&]as_of={version}{end}".encode(), b"", first, flags=re.MULTILINE)


def same(given: Answer, again: Answer, version: int) -> bool:
    """The same status, media type and body, apart from `as_of` in URLs (a permalink, as
    /v1/meta gives, has it in both)."""
    if given[:2] != again[:2]:
        return False
    first, second = without_as_of(given[2], version), without_as_of(again[2], version)
    if given[1] in ("application/json", "application/problem+json"):
        return bool(json.loads(first) == json.loads(second))
    return first == second


@pytest.fixture
def curator(fresh_url: str, client_for: Callable[[str], TestClient]) -> Curator:
    return Curator(fresh_url, client_for(fresh_url))


def test_every_answer_given_is_given_again_at_its_version(curator: Curator) -> None:
    client, writer = curator.client, Writer(curator, seed=27)
    recorded: dict[tuple[int, str], Answer] = {}
    for _ in range(WRITES + 1):
        for url, (version, given) in zip(URLS, answers(client, URLS), strict=True):
            recorded[version, url] = given
        writer.write()
    versions = {version for version, _ in recorded}
    assert len(versions) == WRITES + 1  # each write made a version, each answered at it
    for url in URLS:  # each URL answered with data at some version, not only with errors
        assert any(recorded[version, url][0] == 200 for version in versions), url
    asked = [f"{url}{'&' if '?' in url else '?'}as_of={version}" for version, url in recorded]
    wrong = []
    for (version, url), (at, again) in zip(recorded, answers(client, asked), strict=True):
        assert at == version
        if not same(recorded[version, url], again, version):
            wrong.append((version, url))
    assert not wrong, f"{len(wrong)} answers differ at their version, first: {wrong[:5]}"


def _version(response: Any) -> int:
    return int(response.headers["x-data-version"])


def test_a_citation_is_read_again_unchanged_after_a_correction(curator: Curator) -> None:
    """Cite an answer, correct a record in it, follow the citation: the answer as cited."""
    client = curator.client
    url = "/v1/treaties/new-start/parties?on=2020-11-21"
    cited = client.get(url)
    version = _version(cited)
    memento = f"/v1/treaties/new-start/parties?on=2020-11-21&as_of={version}"
    assert f'<{memento}>; rel="memento"' in cited.headers["link"]
    key = "/participation/new-start/RU"
    response = curator.send(
        "PATCH", "/records" + key, curator.editor, json={"note": "Corrected."},
        headers={"If-Match": curator.etag(key)},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert "Corrected." in client.get(url).text  # the current answer has the correction
    again = client.get(memento)
    assert again.status_code == 200
    assert json.loads(without_as_of(again.content, version)) == cited.json()
    assert "Corrected." not in again.text
    assert _version(again) == version
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = client.get(memento, headers={"Accept-Encoding": "identity"})
    assert not plain.headers["etag"].startswith("W/")  # strong: the bytes never change
    assert again.headers["link"].endswith(f'<{url.replace("?", "?", 1)}>; rel="original"')
    # Links in the answer stay in the version.
    assert all("as_of=" in party["country"]["url"] for party in again.json()["items"])
    # The answer is the same in every form: a 304 for the tag it had.
    etag = again.headers["etag"]
    assert client.get(memento, headers={"If-None-Match": etag}).status_code == 304


def test_an_answer_at_a_version_is_the_same_on_a_later_day(
    curator: Curator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dated as on the version's own day, not today: the same bytes and validators."""
    client = curator.client
    url = "/v1/treaties/new-start/status"
    version = _version(client.get(url))
    curator.send("POST", "/records/statements", curator.editor, json=NEW_STATEMENT)
    first = client.get(f"{url}?as_of={version}")
    later = dt.date.today() + dt.timedelta(days=400)
    monkeypatch.setattr("app.http.conditional.today", lambda: later)
    monkeypatch.setattr("app.dates._day", lambda _: later)
    assert client.get(url).json()["on"] == later.isoformat()  # today's answer moved on
    again = client.get(f"{url}?as_of={version}")
    assert again.content == first.content
    for header in ("etag", "last-modified", "cache-control"):
        assert again.headers[header] == first.headers[header], header


def test_as_of_a_time_reads_the_version_in_force_then(curator: Curator) -> None:
    client = curator.client
    before = client.get("/v1/meta").json()
    made = before["changed_at"]
    response = curator.send("POST", "/records/statements", curator.editor, json=NEW_STATEMENT)
    assert response.status_code == 201
    at = client.get("/v1/statements/" + NEW_STATEMENT["id"], params={"as_of": made})
    assert at.status_code == 404  # not there yet at the time the earlier version was made
    assert _version(at) == before["data_version"]
    now = client.get("/v1/statements/" + NEW_STATEMENT["id"])
    assert now.status_code == 200
    later = client.get("/v1/meta", params={"as_of": "2999-01-01T00:00:00Z"})
    assert later.status_code == 404
    assert "cannot be read" in later.json()["detail"]
    early = client.get("/v1/meta", params={"as_of": "1999-01-01T00:00:00+02:00"})
    assert early.status_code == 404


NEW_STATEMENT = {
    "id": "as-of-new",
    "text": "A statement written after the citation.",
    "speaker": "sergei-ryabkov",
    "said_on": "2021-01",
    "treaties": ["new-start"],
    "sources": ["jpnd-2021-new-start-extension"],
}


@pytest.mark.parametrize(
    "given",
    ["abc", "12.5", "2026-12-01", "-1", "2026-12-01T10:00:00", "²", "0001-01-01T00:00:00+05:00"],
)
def test_a_malformed_as_of_is_a_problem(client: TestClient, given: str) -> None:
    response = client.get("/v1/treaties", params={"as_of": given})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "RFC 3339" in response.json()["detail"]


def test_a_version_that_does_not_exist_names_those_that_do(client: TestClient) -> None:
    current = _version(client.get("/v1/meta"))
    response = client.get("/v1/treaties/new-start", params={"as_of": current + 1000})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert f"to {current} can be read" in response.json()["detail"]


def test_search_is_refused_at_a_past_version_but_not_at_the_current_one(
    curator: Curator,
) -> None:
    client = curator.client
    version = _version(client.get("/v1/meta"))
    curator.send("POST", "/records/statements", curator.editor, json=NEW_STATEMENT)
    for url in ("/v1/search?q=treaty", "/v1/statements?q=treaty"):
        past = client.get(f"{url}&as_of={version}")
        assert past.status_code == 501, past.text
        assert "past data version" in past.json()["detail"]
        assert client.get(f"{url}&as_of={version + 1}").status_code == 200


def test_the_export_at_a_version_holds_the_records_then(curator: Curator) -> None:
    client = curator.client
    version = _version(client.get("/v1/meta"))
    before = client.get("/v1/export", params={"format": "ndjson"}).text
    curator.send("POST", "/records/statements", curator.editor, json=NEW_STATEMENT)
    assert NEW_STATEMENT["id"] in client.get("/v1/export", params={"format": "ndjson"}).text
    past = client.get("/v1/export", params={"format": "ndjson", "as_of": version})
    assert past.text == before


def test_pruning_forgets_older_versions_and_keeps_the_rest(curator: Curator) -> None:
    client, writer = curator.client, Writer(curator, seed=3)
    answers = {}
    for _ in range(6):
        version, answers[version] = answer(client, "/v1/statements?limit=50&sort=id")
        writer.write()
    versions = sorted(answers)
    engine = make_engine(curator.url)
    with Session(engine) as session:
        kept_before = sum(
            session.execute(select(func.count()).select_from(hist)).scalar_one()
            for hist in HISTORY_OF.values()
        )
    removed = prune(engine, versions[3])
    engine.dispose()
    assert 0 < removed <= kept_before
    gone = client.get("/v1/statements", params={"as_of": versions[2]})
    assert gone.status_code == 404
    assert f"versions {versions[3]} to" in gone.json()["detail"]
    for version in versions[3:]:
        _, again = answer(client, f"/v1/statements?limit=50&sort=id&as_of={version}")
        assert same(answers[version], again, version)
