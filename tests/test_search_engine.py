"""The search index (app/search/engine.py): kept from the change log, repaired after a
crash, one per instance, and filtered as the database filters."""

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app import cli
from app.curation.tokens import Role, create_token
from app.db import make_engine
from app.filters import period_bounds
from app.importing.loader import Batch, Item
from app.importing.records import StatementRecord
from app.importing.writer import write_batch
from app.search import engine as search_engine
from app.search import service as search_service
from app.search.engine import SearchEngine, default_directory
from app.search.query import parse
from app.search.service import DOC, SearchFilters, _filtered, matched, search

SAID = {
    "speaker": "sergei-ryabkov",
    "said_on": "2021-01",
    "treaties": ["new-start"],
    "sources": ["jpnd-2021-new-start-extension"],
}


def _editor(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        token = create_token(session, name="editor", role=Role.editor)
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def _found(client: TestClient, q: str) -> tuple[list[str], int, str]:
    response = client.get("/v1/search", params={"q": q, "limit": 500})
    assert response.status_code == 200, response.text
    body = response.json()
    return [h["key"] for h in body["items"]], body["total"], response.headers["x-data-version"]


def _write(url: str, key: str, text: str) -> None:
    """A statement written straight to the database, as another process would."""
    engine = make_engine(url)
    record = StatementRecord(id=key, text=text, **SAID)  # type: ignore[arg-type]
    with Session(engine) as session, session.begin():
        write_batch(session, Batch({"statements": [Item("test", 1, record)]}))
    engine.dispose()


def _hits(url: str, index: SearchEngine, q: str) -> tuple[list[str], int]:
    engine = make_engine(url)
    with Session(engine) as session:
        hits, total, _ = search(session, index, q, SearchFilters(), limit=50, cursor=None)
    engine.dispose()
    return [hit.key for hit in hits], total


def test_a_write_through_the_api_is_found_at_its_data_version(
    fresh_url: str, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(fresh_url)
    assert _found(client, "quokka")[:2] == ([], 0)
    record = {"id": "ryabkov-quokka", "text": "The quokka clause.", **SAID}
    written = client.post("/v1/records/statements", json=record, headers=_editor(fresh_url))
    assert written.status_code == 201, written.text
    keys, total, version = _found(client, "quokka")
    assert (keys, total) == (["ryabkov-quokka"], 1)
    assert version == str(client.get("/v1/meta").json()["data_version"])


def test_snippets_mark_what_matched_escape_the_rest_and_show_where_they_cut(
    fresh_url: str, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(fresh_url)
    words = " ".join(["filler"] * 60)
    text = f"{words} <b>Élysée</b> verifications & the quokkas' extension. {words}"
    record = {"id": "ryabkov-snippet", "text": text, **SAID}
    assert client.post("/v1/records/statements", json=record,
                       headers=_editor(fresh_url)).status_code == 201  # fmt: skip

    def snippet(q: str) -> str:
        found = client.get("/v1/search", params={"q": q, "limit": 1}).json()
        assert found["items"][0]["key"] == "ryabkov-snippet"
        return str(found["items"][0]["snippet"])

    assert "&lt;b&gt;<mark>Élysée</mark>&lt;/b&gt;" in snippet("elysee")  # folded; escaped
    both = snippet("verif* quokka")
    assert "<mark>verifications</mark> &amp; the <mark>quokkas</mark>" in both  # prefix, stem
    assert both.startswith("…")
    assert both.endswith("…")
    assert len(both) < len(text) / 2


def test_a_renamed_speaker_finds_their_statements_by_the_new_name(
    fresh_url: str, client_for: Callable[..., TestClient]
) -> None:
    """A person's change rewrites their statements' documents too: the replay takes
    them from the writer's own rule (search_index.with_dependents)."""
    client = client_for(fresh_url)
    before = _found(client, "Ryabkov")[1]
    assert before > 1
    headers = _editor(fresh_url)
    etag = client.get("/v1/records/people/sergei-ryabkov").headers["etag"]
    patched = client.patch("/v1/records/people/sergei-ryabkov", json={"name": "Sergei Zyxwabkov"},
                           headers={**headers, "If-Match": etag})  # fmt: skip
    assert patched.status_code == 200, patched.text
    keys, total, _ = _found(client, "Zyxwabkov")
    statements = client.get("/v1/statements", params={"speaker": "sergei-ryabkov", "limit": 500})
    said = {item["id"] for item in statements.json()["items"]}
    assert said
    assert set(keys) == said | {"sergei-ryabkov"}
    assert total == len(said) + 1


def test_a_renamed_treaty_finds_its_events_by_the_new_short_name(
    fresh_url: str, client_for: Callable[..., TestClient]
) -> None:
    """An event's document holds its treaty's short name: renaming the treaty rewrites
    them, in the database's documents and in the index."""
    client = client_for(fresh_url)
    headers = _editor(fresh_url)
    etag = client.get("/v1/records/treaties/open-skies").headers["etag"]
    patched = client.patch("/v1/records/treaties/open-skies", json={"short_name": "Xyloskies"},
                           headers={**headers, "If-Match": etag})  # fmt: skip
    assert patched.status_code == 200, patched.text
    events = client.get("/v1/treaties/open-skies/events", params={"limit": 500}).json()
    found = client.get("/v1/search", params={"q": "Xyloskies", "type": "event", "limit": 500})
    assert {hit["key"] for hit in found.json()["items"]} == {e["id"] for e in events["items"]}
    assert found.json()["total"] == len(events["items"]) > 0


def test_two_instances_each_keep_their_own_index(
    fresh_url: str, client_for: Callable[..., TestClient], tmp_path: Path
) -> None:
    """Two instances of one database, each with its own index directory: a write through
    one is found through the other at the next data version (no version_ttl wait)."""
    one = client_for(fresh_url, search_index=tmp_path / "one", version_ttl=0)
    two = client_for(fresh_url, search_index=tmp_path / "two", version_ttl=0)
    assert _found(two, "wombat")[1] == 0
    record = {"id": "ryabkov-wombat", "text": "The wombat protocol.", **SAID}
    assert one.post("/v1/records/statements", json=record,
                    headers=_editor(fresh_url)).status_code == 201  # fmt: skip
    keys, total, version = _found(two, "wombat")
    assert (keys, total) == (["ryabkov-wombat"], 1)
    assert version == _found(one, "wombat")[2]


def test_equal_scores_page_alike_on_every_instance(fresh_url: str, tmp_path: Path) -> None:
    """Documents that score the same come in id order, however an index came to hold them
    (built at once, or one write at a time), so an offset pages alike on every instance."""
    one = SearchEngine(tmp_path / "one")
    for n in (3, 1, 4, 0, 2):
        _write(fresh_url, f"ryabkov-wallaby-{n}", "The wallaby clause.")
        _hits(fresh_url, one, "wallaby")  # caught up write by write
    two = SearchEngine(tmp_path / "two")  # built from all of them at once
    engine = make_engine(fresh_url)
    with Session(engine) as session:
        pages = [
            [
                [
                    hit.key
                    for hit in search(
                        session, index, "wallaby", SearchFilters(), limit=2, cursor=cursor
                    )[0]
                ]  # fmt: skip
                for cursor in (None, search_service._cursor(2), search_service._cursor(4))
            ]
            for index in (one, two)
        ]
        by_id = session.execute(
            select(DOC.c.key).where(DOC.c.key.like("ryabkov-wallaby-%")).order_by(DOC.c.id)
        ).scalars()
        expected = list(by_id)
    engine.dispose()
    assert pages[0] == pages[1]
    assert [key for page in pages[0] for key in page] == expected


def test_a_crash_before_the_index_is_updated_loses_nothing(fresh_url: str, tmp_path: Path) -> None:
    """The database committed, the process died before its index heard of it: the next
    process replays the change log past the index's last change."""
    index = SearchEngine(tmp_path)
    assert _hits(fresh_url, index, "platypus") == ([], 0)
    _write(fresh_url, "ryabkov-platypus", "The platypus memorandum.")
    restarted = SearchEngine(tmp_path)
    assert _hits(fresh_url, restarted, "platypus") == (["ryabkov-platypus"], 1)


def test_a_crash_between_the_index_commit_and_its_sidecar_adds_nothing_twice(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index committed the documents but died before recording the change it reached:
    the replay runs again, and each document is in the index once."""
    index = SearchEngine(tmp_path)
    _hits(fresh_url, index, "treaty")  # built
    _write(fresh_url, "ryabkov-echidna", "The echidna annex.")

    def crash(*_: object) -> None:
        raise KeyboardInterrupt("killed")

    with monkeypatch.context() as patched:
        patched.setattr(SearchEngine, "_write_sidecar", crash)
        with pytest.raises(KeyboardInterrupt):
            _hits(fresh_url, index, "echidna")
    restarted = SearchEngine(tmp_path)
    assert restarted.applied.version < _version(fresh_url)  # the sidecar is behind
    assert _hits(fresh_url, restarted, "echidna") == (["ryabkov-echidna"], 1)
    assert restarted.searcher().num_docs == _documents(fresh_url)


def test_an_index_of_another_database_is_built_again(
    databases: object, fresh_url: str, tmp_path: Path
) -> None:
    """An index directory left by another database (dropped and made again under the same
    name, say) is never trusted: its last change is not this database's."""
    other = databases.fresh()  # type: ignore[attr-defined]
    _write(other, "ryabkov-numbat", "The numbat understanding.")
    _write(other, "ryabkov-numbat-2", "The numbat understanding again.")
    assert _hits(other, SearchEngine(tmp_path), "numbat")[1] == 2
    assert _hits(fresh_url, SearchEngine(tmp_path), "numbat") == ([], 0)
    assert SearchEngine(tmp_path).searcher().num_docs == _documents(fresh_url)


def test_search_rebuild_builds_a_deleted_index_again(
    fresh_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TREATYKB_DATABASE_URL", fresh_url)
    monkeypatch.setenv("TREATYKB_SEARCH_INDEX", str(tmp_path))
    cli.get_settings.cache_clear()
    try:
        assert cli.main(["search", "rebuild"]) == 0
    finally:
        cli.get_settings.cache_clear()
    documents = _documents(fresh_url)
    assert f": {documents} documents." in capsys.readouterr().out
    shutil.rmtree(tmp_path)
    again = SearchEngine(tmp_path)  # gone: the next search builds it from the database
    assert _hits(fresh_url, again, "dust")[1] > 0
    assert again.searcher().num_docs == documents


def test_readyz_says_whether_the_index_is_current(
    fresh_url: str, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(fresh_url, version_ttl=0)
    client.get("/v1/search", params={"q": "treaty"})
    assert client.get("/readyz").json() == {"status": "ready", "search": "current"}
    _write(fresh_url, "ryabkov-dugong", "The dugong exchange.")
    assert client.get("/readyz").json()["search"] == "current"  # caught up as it was asked
    assert _found(client, "dugong")[1] == 1


DAYS = [dt.date(2020, 1, 1), dt.date(2020, 11, 1), dt.date(2020, 11, 15), dt.date(2020, 12, 31),
        dt.date(2021, 1, 26), dt.date(2021, 2, 3), dt.date(2021, 12, 31)]  # fmt: skip
PERIODS = ["2020", "2020-11", "2020-11-21", "2021-01", "2021-02-03", "2019"]


@pytest.mark.parametrize(
    "filters",
    [SearchFilters(since=day) for day in DAYS]
    + [SearchFilters(until=day) for day in DAYS]
    + [SearchFilters(during=period_bounds((period,))) for period in PERIODS]
    + [
        SearchFilters(since=dt.date(2020, 11, 15), until=dt.date(2021, 1, 31)),
        SearchFilters(treaties=("new-start", "inf"), types=("statement", "article")),
        SearchFilters(speakers=("sergei-ryabkov",), during=period_bounds(("2020", "2021-02"))),
    ],
    ids=repr,
)
def test_the_index_filters_as_the_database_does(shared_url: str, filters: SearchFilters) -> None:
    """The index's date numbers and term filters keep exactly the documents the SQL
    filters (app/filters.py, which search's facets count with) keep."""
    index = SearchEngine(default_directory(shared_url))
    engine = make_engine(shared_url)
    with Session(engine) as session:
        hits, total, _ = search(session, index, "treaty OR new OR start OR russia", filters,
                                limit=500, cursor=None)  # fmt: skip
        matches = matched(engine.dialect.name, parse("treaty OR new OR start OR russia"))
        query = _filtered(matches, filters).with_only_columns(DOC.c.type, DOC.c.key)
        expected = {f"{t}:{k}" for t, k in session.execute(query)}
    engine.dispose()
    assert {f"{hit.type}:{hit.key}" for hit in hits} == expected
    assert total == len(expected)


def _version(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        version = search_engine._version(session)
    engine.dispose()
    return version


def _documents(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        count = len(session.execute(select(DOC.c.id)).all())
    engine.dispose()
    return count


MATCHING = [
    "dust", "Kaliningrad", "verif*", "portal monitoring", '"warhead freeze"', "withdraw",
    "extend", "Votkinsk OR Aegis", "treaty -Russia", "inspections", "moratorium", "9M729",
    "Open Skies", "notification", "treaties", "extended", "missiles", "Russia's",
    "sign*", "nuclear", "inspection OR verification", '"New START"', "withdrawal",
    "Biden", "Trump administration", "limits", "limit*", "warheads deployed",
]  # fmt: skip


@pytest.mark.parametrize("q", MATCHING)
def test_lists_facets_and_search_find_the_same_records(client: TestClient, q: str) -> None:
    """The index decides a search's page and total; the database's full-text index a
    list's `q=` and search's facet counts. They stem alike, so they match alike."""
    found = client.get("/v1/search", params={"q": q, "facet": "type", "limit": 1}).json()
    assert found["total"]
    per_type = {row["value"]: row["count"] for row in found["facets"]["type"]["values"]}
    assert sum(per_type.values()) == found["total"]
    for kind, path in (("statement", "statements"), ("article", "articles")):
        listed = client.get(f"/v1/{path}", params={"q": q, "limit": 1}).json()["total"]
        assert listed == per_type.get(kind, 0), kind
