"""Curation: tokens and roles, record writes with optimistic concurrency, the audit feed."""

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.curation.tokens import Role, create_token, revoke_token
from app.db import make_engine
from app.listing import _flat
from app.statements import tallies

NEW = {
    "id": "ryabkov-2021-01-26-new",
    "text": "A new statement.",
    "speaker": "sergei-ryabkov",
    "said_on": "2021-01",
    "treaties": ["new-start"],
    "sources": ["jpnd-2021-new-start-extension"],
}


class Curator:
    """A client against a fresh database, holding editor and admin tokens."""

    def __init__(self, url: str, client: TestClient) -> None:
        self.client, self.url = client, url
        engine = make_engine(url)
        with Session(engine) as session, session.begin():
            self.editor = create_token(session, name="editor", role=Role.editor)
            self.admin = create_token(session, name="admin", role=Role.admin)
            self.retired = create_token(session, name="retired", role=Role.admin)
            revoke_token(session, name="retired")
        engine.dispose()

    def send(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.request(method, "/v1" + path, headers=headers, **kw)

    def etag(self, path: str) -> str:
        return str(self.client.get("/v1/records" + path).headers["etag"])


@pytest.fixture
def curator(fresh_url: str, client_for: Callable[[str], TestClient]) -> Curator:
    return Curator(fresh_url, client_for(fresh_url))


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("tkb_nothing_here", 401), ("Bearer", 401), ("retired", 403), ("editor", 201)],
)
def test_who_may_create(curator: Curator, token: str | None, status: int) -> None:
    secret = getattr(curator, token) if token in ("retired", "editor") else token
    response = curator.send("POST", "/records/statements", secret, json=NEW)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"


def test_create_returns_location_and_the_record_reads_back(curator: Curator) -> None:
    response = curator.send("POST", "/records/statements", curator.editor, json=NEW)
    assert response.status_code == 201
    assert response.headers["location"].endswith("/v1/records/statements/ryabkov-2021-01-26-new")
    public = curator.client.get("/v1/statements/ryabkov-2021-01-26-new").json()
    assert (public["said_on"], public["said_on_precision"]) == ("2021-01", "month")
    assert public["created_at"] == public["updated_at"]
    again = curator.send("POST", "/records/statements", curator.editor, json=NEW)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"speaker": "nobody"}, "field 'speaker': no people record with key 'nobody'"),
        ({"sources": []}, "sources: List should have at least 1 item"),
        ({"mood": "calm"}, "mood: Extra inputs are not permitted"),
        (
            {"said_on": "2021-02-30"},
            "said_on: 2021-02-30 is not a date (YYYY, YYYY-MM or YYYY-MM-DD)",
        ),
    ],
)
def test_bad_records_are_422_and_write_nothing(
    curator: Curator, change: dict[str, Any], fragment: str
) -> None:
    response = curator.send("POST", "/records/statements", curator.editor, json=NEW | change)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]
    assert curator.client.get(f"/v1/statements/{NEW['id']}").status_code == 404


def test_patch_needs_a_fresh_etag(curator: Curator) -> None:
    path = "/records/statements/lavrov-2020-11-no-coming-back"
    patch = {"note": "Checked against the article."}
    assert curator.send("PATCH", path, curator.editor, json=patch).status_code == 428
    etag = curator.etag("/statements/lavrov-2020-11-no-coming-back")
    first = curator.send("PATCH", path, curator.editor, json=patch, headers={"If-Match": etag})
    second = curator.send(
        "PATCH", path, curator.editor, json={"note": "Other edit."}, headers={"If-Match": etag}
    )
    assert (first.status_code, second.status_code) == (200, 412)
    assert curator.client.get("/v1" + path).json()["note"] == "Checked against the article."
    assert first.headers["etag"] != etag


def test_merge_patch_null_removes_and_lists_replace(curator: Curator) -> None:
    path = "/records/statements/lavrov-2020-11-no-coming-back"
    etag = curator.etag("/statements/lavrov-2020-11-no-coming-back")
    body = {"note": None, "treaties": ["new-start", "inf"]}
    response = curator.send("PATCH", path, curator.editor, json=body, headers={"If-Match": etag})
    record = response.json()
    assert record["note"] is None
    assert record["treaties"] == ["inf", "new-start"]
    assert record["text"] == "There is no coming back to this system."


def test_link_edits_reach_the_public_rows_and_csv(curator: Curator) -> None:
    """A statement's treaties and sources, copied onto its row, follow every edit."""
    id_ = "lavrov-2020-11-no-coming-back"
    path = f"/records/statements/{id_}"

    def public() -> tuple[list[str], list[str], dict[str, str]]:
        one = curator.client.get(f"/v1/statements/{id_}").json()
        listed = curator.client.get("/v1/statements", params={"speaker": "sergei-lavrov"})
        assert one in listed.json()["items"]
        rows = curator.client.get(
            "/v1/statements", params={"speaker": "sergei-lavrov", "format": "csv"}
        ).text
        row = next(r for r in csv.DictReader(io.StringIO(rows)) if r["id"] == id_)
        treaties = [t["slug"] for t in one["treaties"]]
        return treaties, [s["slug"] for s in one["sources"]], row

    sources = public()[1]
    for treaties, want in ((["new-start", "inf"], ["inf", "new-start"]), ([], [])):
        etag = {"If-Match": curator.etag(f"/statements/{id_}")}
        body = {"treaties": treaties}
        assert curator.send("PATCH", path, curator.editor, json=body, headers=etag).is_success
        listed, kept_sources, row = public()
        assert listed == want
        assert row["treaties"] == ";".join(want)
        assert (kept_sources, row["sources"]) == (sources, ";".join(sources))


def test_csv_export_writes_cells_as_csv_writer_does(curator: Curator) -> None:
    """The export's cells come quoted from the database; csv.writer on the JSON items,
    flattened, must give the same bytes, awkward text included."""
    awkward = [
        {"text": 'He said "no", then\nleft.\r\nThe end.', "speaker_role": "Minister, MFA"},
        {"text": "Plain words", "venue": 'The "Hall"', "note": "Line one\rline two"},
        {"text": 'Ends with a quote"', "venue": "Geneva", "note": "Checked, twice."},
    ]
    for n, extra in enumerate(awkward):
        record = NEW | {"id": f"awkward-{n}"} | extra
        assert curator.send("POST", "/records/statements", curator.editor, json=record).is_success
    items = curator.client.get("/v1/statements", params={"limit": 500}).json()["items"]
    assert {"awkward-0", "awkward-1", "awkward-2"} <= {item["id"] for item in items}
    for fields in (None, "id,note,text", "note", "updated_at,text,created_at", "created_at"):
        columns = fields.split(",") if fields else list(items[0])
        expected = io.StringIO()
        writer = csv.writer(expected)
        writer.writerow(columns)
        writer.writerows([_flat(item[c]) for c in columns] for item in items)
        params = {"format": "csv"} | ({"fields": fields} if fields else {})
        exported = curator.client.get("/v1/statements", params=params).text
        assert exported == expected.getvalue(), fields


def test_put_cannot_change_the_key(curator: Curator) -> None:
    path = "/records/statements/lavrov-2020-11-no-coming-back"
    etag = curator.etag("/statements/lavrov-2020-11-no-coming-back")
    record = curator.client.get("/v1" + path).json()
    response = curator.send(
        "PUT", path, curator.editor, json=record | {"id": "other"}, headers={"If-Match": etag}
    )
    assert response.status_code == 422


def test_delete_is_admin_only_refuses_cited_records_and_leaves_a_tombstone(
    curator: Curator,
) -> None:
    curator.send("POST", "/records/statements", curator.editor, json=NEW)
    etag = curator.etag(f"/statements/{NEW['id']}")
    path = f"/records/statements/{NEW['id']}"
    headers = {"If-Match": etag}
    assert curator.send("DELETE", path, curator.editor, headers=headers).status_code == 403
    assert curator.send("DELETE", path, curator.admin, headers=headers).status_code == 204
    assert curator.client.get(f"/v1/statements/{NEW['id']}").status_code == 404
    cited = "/records/people/sergei-lavrov"
    response = curator.send(
        "DELETE", cited, curator.admin, headers={"If-Match": curator.etag("/people/sergei-lavrov")}
    )
    assert response.status_code == 409
    assert "statements/lavrov-2020-11-12-wait-until-the-dust-settles" in response.json()["detail"]
    feed = curator.client.get("/v1/changes", params={"resource": "statements", "sort": "-id"})
    latest = feed.json()["items"][0]
    assert (latest["operation"], latest["key"], latest["actor"]) == ("delete", NEW["id"], "admin")
    assert latest["before"]["text"] == NEW["text"]
    assert latest["after"] is None


def test_writes_change_the_public_view_and_search(curator: Curator) -> None:
    record = NEW | {"text": "Portal monitoring at Votkinsk is a non-starter."}
    curator.send("POST", "/records/statements", curator.editor, json=record)
    hits = curator.client.get("/v1/search", params={"q": "Votkinsk"}).json()["items"]
    assert [hit["key"] for hit in hits] == [NEW["id"]]
    feed = curator.client.get("/v1/changes", params={"resource": "statements", "sort": "-id"})
    assert feed.json()["items"][0]["actor"] == "editor"


def test_search_follows_edits_and_deletes(curator: Curator) -> None:
    def hits(word: str) -> list[str]:
        found = curator.client.get("/v1/search", params={"q": word, "type": "statement"})
        return [hit["key"] for hit in found.json()["items"]]

    path = f"/records/statements/{NEW['id']}"
    curator.send("POST", "/records/statements", curator.editor, json=NEW | {"text": "Votkinsk."})
    patch = {"text": "Kapustin Yar."}
    etag = {"If-Match": curator.etag(f"/statements/{NEW['id']}")}
    assert curator.send("PATCH", path, curator.editor, json=patch, headers=etag).status_code == 200
    assert (hits("Votkinsk"), hits("Kapustin")) == ([], [NEW["id"]])
    etag = {"If-Match": curator.etag(f"/statements/{NEW['id']}")}
    assert curator.send("DELETE", path, curator.admin, headers=etag).status_code == 204
    assert hits("Kapustin") == []


def test_change_feed_since_an_id(curator: Curator) -> None:
    last = curator.client.get("/v1/changes", params={"sort": "-id", "limit": 1}).json()
    since = last["items"][0]["id"]
    curator.send("POST", "/records/statements", curator.editor, json=NEW)
    newer = curator.client.get("/v1/changes", params={"since": since}).json()["items"]
    assert [(c["operation"], c["key"]) for c in newer] == [("create", NEW["id"])]
    bad = curator.client.get("/v1/changes", params={"since": "yesterday"})
    assert bad.status_code == 422


def test_deleting_an_article_removes_the_source_it_also_was(curator: Curator) -> None:
    article = {
        "slug": "act-2021-01-example",
        "title": "Example",
        "publication": "Arms Control Today",
        "published_on": "2021-01",
        "authors": ["Kingston Reif"],
        "summary": "An example.",
    }
    assert (
        curator.send("POST", "/records/articles", curator.editor, json=article).status_code == 201
    )
    cited = NEW | {"sources": ["act-2021-01-example"]}
    assert (
        curator.send("POST", "/records/statements", curator.editor, json=cited).status_code == 201
    )
    path = "/records/articles/act-2021-01-example"
    etag = {"If-Match": curator.etag("/articles/act-2021-01-example")}
    assert curator.send("DELETE", path, curator.admin, headers=etag).status_code == 409
    statement = {"If-Match": curator.etag(f"/statements/{NEW['id']}")}
    curator.send("DELETE", f"/records/statements/{NEW['id']}", curator.admin, headers=statement)
    assert curator.send("DELETE", path, curator.admin, headers=etag).status_code == 204
    again = curator.send("POST", "/records/statements", curator.editor, json=cited)
    assert "no sources record with key 'act-2021-01-example'" in again.json()["detail"]


def test_a_write_is_counted_by_every_facet_at_the_next_version(curator: Curator) -> None:
    url = "/v1/statements?facet=treaty,speaker,country,said_on:month"

    def counts() -> tuple[str, dict[str, dict[str, int]]]:
        answer = curator.client.get(url)
        facets = answer.json()["facets"]
        found = {name: {v["value"]: v["count"] for v in f["values"]} for name, f in facets.items()}
        return answer.headers["x-data-version"], found

    version, before = counts()
    record = NEW | {"country": "RU"}
    assert (
        curator.send("POST", "/records/statements", curator.editor, json=record).status_code == 201
    )
    after_version, after = counts()
    assert int(after_version) == int(version) + 1
    for name, value in (("treaty", "new-start"), ("speaker", "sergei-ryabkov"),
                        ("country", "RU"), ("said_on:month", "2021-01")):  # fmt: skip
        assert after[name][value] == before[name].get(value, 0) + 1, name


def _tallies(url: str, rebuilt: bool = False) -> list[tuple[Any, ...]]:
    """statement_tally's rows as kept, or as a rebuild from the tables makes them."""
    engine = make_engine(url)
    with engine.connect() as connection:
        transaction = connection.begin()
        if rebuilt:
            tallies.rebuild(connection)
        rows = connection.exec_driver_sql(
            "SELECT given, given_value, facet, value, n FROM statement_tally WHERE n > 0 "
            "ORDER BY given, given_value, facet, value"
        ).all()
        transaction.rollback()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_kept_tallies_are_what_a_rebuild_makes_after_any_write(
    curator: Curator, fresh_url: str
) -> None:
    """Creates, patches that move a statement to other treaties, speaker and month, and
    deletes: the counts the write path keeps are those of the tables."""
    undated = ("treaty", "inf", "said_on:month", "")  # INF's statements with no month
    start = {row[:4]: row[4] for row in _tallies(fresh_url)}
    created = curator.send("POST", "/records/statements", curator.editor, json=NEW)
    assert created.status_code == 201
    path = "/statements/lavrov-2020-11-no-coming-back"
    moved = {"treaties": ["inf", "open-skies"], "speaker": "sergei-ryabkov", "said_on": "2019"}
    headers = {"If-Match": curator.etag(path)}
    patched = curator.send("PATCH", "/records" + path, curator.editor, json=moved, headers=headers)
    assert patched.is_success, patched.text
    gone = "/statements/" + NEW["id"]
    headers = {"If-Match": curator.etag(gone)}
    assert (
        curator.send("DELETE", "/records" + gone, curator.admin, headers=headers).status_code == 204
    )
    kept = _tallies(fresh_url)
    assert kept == _tallies(fresh_url, rebuilt=True)
    assert {row[:4]: row[4] for row in kept}[undated] == start.get(undated, 0) + 1
