"""Full-text search on FTS5 and PostgreSQL: the language, filters, safety and agreement."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import SEED, SqliteBackend, postgres_or_skip
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.importing.loader import Batch, Item
from app.importing.records import StatementRecord
from app.importing.writer import load_paths, write_batch
from app.main import create_app
from app.migrate import upgrade
from app.pagination import VersionMemo
from app.search import index as search_index
from app.search import service as search_service
from app.search.engine import SearchEngine, default_directory
from app.search.service import SearchFilters, search


def keys(client: TestClient, q: str, **params: str) -> list[str]:
    body = client.get("/v1/search", params={"q": q, "limit": 500, **params}).json()
    return [hit["key"] for hit in body["items"]]


def test_dust_finds_lavrov_with_a_highlighted_snippet(client: TestClient) -> None:
    body = client.get("/v1/search", params={"q": "dust"}).json()
    top = body["items"][0]
    assert (top["type"], top["key"]) == (
        "statement",
        "lavrov-2020-11-12-wait-until-the-dust-settles",
    )
    assert "<mark>dust</mark>" in top["snippet"]
    assert top["url"].endswith("/v1/statements/lavrov-2020-11-12-wait-until-the-dust-settles")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (
            '"warhead freeze"',
            {
                "new-start-russia-agrees-one-year-extension",
                "act-2020-12-new-start-deal-to-wait-for-biden",
            },
        ),
        (
            "warhead freeze",
            {"new-start-us-proposal-2020-10", "new-start-russia-agrees-one-year-extension"},
        ),
        (
            "Kaliningrad",
            {
                "act-2020-11-russia-highlights-open-skies-issues",
                "act-2020-11-russia-expands-inf-moratorium-proposal",
                "inf-putin-verification-proposal",
            },
        ),
        (
            "verif*",
            {
                "putin-2020-10-26-mutual-verification-measures",
                "new-start-russia-agrees-one-year-extension",
            },
        ),
        ("extend", {"ryabkov-2020-11-30-five-years-without-conditions", "new-start"}),
        ("withdraw", {"open-skies-us-withdrawal-effective", "inf-us-withdrawal-notified"}),
        (
            "dust OR Kaliningrad",
            {"lavrov-2020-11-12-wait-until-the-dust-settles", "open-skies-kaliningrad-flight-2020"},
        ),
    ],
)
def test_done_means_queries(client: TestClient, q: str, expected: set[str]) -> None:
    assert expected <= set(keys(client, q))


def test_exclusion_and_phrase(client: TestClient) -> None:
    assert "inf-putin-verification-proposal" in keys(client, "Kaliningrad")
    assert "inf-putin-verification-proposal" not in keys(client, "Kaliningrad -Aegis")
    # Stemmed phrase: the article's "until the dust settled" matches too.
    assert set(keys(client, '"until the dust settles"')) == {
        "lavrov-2020-11-12-wait-until-the-dust-settles",
        "act-2020-12-new-start-deal-to-wait-for-biden",
    }
    assert keys(client, '"settles the dust"') == []


@pytest.mark.parametrize(
    ("params", "types"),
    [
        ({"type": "statement"}, {"statement"}),
        ({"type": ["article", "treaty"]}, {"article", "treaty"}),
    ],
)
def test_type_filter(client: TestClient, params: dict[str, object], types: set[str]) -> None:
    body = client.get("/v1/search", params={"q": "verif*", "limit": 500, **params}).json()
    assert {hit["type"] for hit in body["items"]} <= types
    assert body["items"]


def test_treaty_speaker_and_date_filters(client: TestClient) -> None:
    inf = keys(client, "Kaliningrad", treaty="inf")
    assert "act-2020-11-russia-expands-inf-moratorium-proposal" in inf
    assert "open-skies-kaliningrad-flight-2020" not in inf
    assert keys(client, "treaty", speaker="sergei-ryabkov", since="2020-11-01") == [
        "ryabkov-2020-11-30-five-years-without-conditions"
    ]


def test_paging_through_hits(client: TestClient) -> None:
    all_hits = keys(client, "treaty")
    seen: list[str] = []
    url: str | None = "/v1/search?q=treaty&limit=4"
    while url:
        body = client.get(url).json()
        seen.extend(hit["key"] for hit in body["items"])
        url = body["next"]
    assert seen == all_hits
    assert len(seen) > 8


@pytest.mark.parametrize("q", ["treaty", "verif*", "new OR start", '"open skies"', "treaty -inf"])
def test_an_unfiltered_search_pages_as_a_filter_that_keeps_everything_does(
    client: TestClient, q: str
) -> None:
    """SQLite ranks an unfiltered search in the index alone; a filter ranks the joined
    documents: the same hits, scores, totals and cursors, page after page."""

    def pages(extra: dict[str, object]) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        params: dict[str, object] | None = {"q": q, "limit": 3, **extra}
        url: str | None = "/v1/search"
        while url:
            response = client.get(url, params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            found.append({k: body[k] for k in ("items", "total")})
            url, params = body["next"], None  # the next URL carries every parameter
        return found

    every_type = {"type": ["statement", "article", "treaty", "person", "event"]}
    unfiltered = pages({})
    assert unfiltered[0]["total"]
    assert unfiltered == pages(every_type)


@pytest.mark.parametrize(
    ("path", "q", "expected"),
    [
        ("/v1/statements", "dust", ["lavrov-2020-11-12-wait-until-the-dust-settles"]),
        (
            "/v1/articles",
            "Kaliningrad",
            [
                "act-2020-11-russia-highlights-open-skies-issues",
                "act-2020-11-russia-expands-inf-moratorium-proposal",
            ],
        ),
        ("/v1/people", "Sergey", ["sergei-lavrov", "sergei-ryabkov"]),
        ("/v1/events", "Aegis", ["inf-putin-verification-proposal"]),
    ],
)
def test_q_narrows_lists(client: TestClient, path: str, q: str, expected: list[str]) -> None:
    items = client.get(path, params={"q": q}).json()["items"]
    assert sorted(item.get("id") or item["slug"] for item in items) == sorted(expected)


def test_q_combines_with_other_filters(client: TestClient) -> None:
    items = client.get("/v1/statements", params={"q": "treaty", "speaker": "sergei-ryabkov"})
    assert {s["speaker"]["slug"] for s in items.json()["items"]} == {"sergei-ryabkov"}


@pytest.mark.parametrize("q", ["-", "OR", "the", '""', "-dust", "   ", "*"])
def test_queries_without_words_are_a_helpful_422(client: TestClient, q: str) -> None:
    response = client.get("/v1/search", params={"q": q})
    assert response.status_code == 422
    assert "add at least one word" in response.json()["detail"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    q=st.text(max_size=60)
    | st.sampled_from(['"a', "NEAR(x y)", "a:b^c", "x* *", "(((", "' OR 1=1 --", '-"', "AND NOT"])
)
def test_any_input_is_safe(client: TestClient, q: str) -> None:
    for path in ("/v1/search", "/v1/statements"):
        response = client.get(path, params={"q": q})
        assert response.status_code in (200, 422), (q, response.text)
        if response.status_code == 422:
            assert response.json()["detail"]


def test_the_index_is_used(shared_url: str) -> None:
    engine = make_engine(shared_url)
    with Session(engine) as session:
        if engine.dialect.name == "sqlite":
            plan = session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT rowid FROM search_fts WHERE search_fts MATCH 'dust'"
                )
            ).all()
            assert any("VIRTUAL TABLE INDEX" in str(row) for row in plan)
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = (
                session.execute(
                    text(
                        "EXPLAIN SELECT id FROM search_document "
                        "WHERE tsv @@ plainto_tsquery('english', 'dust')"
                    )
                )
                .scalars()
                .all()
            )
            assert any("ix_search_document_tsv" in line for line in plan)
    engine.dispose()


# --- Agreement between the backends ------------------------------------------------------

EXTRA = [
    ("portal monitoring at Votkinsk", "stephen-biegun"),
    ("verification of warhead levels remains the sticking point", "stephen-biegun"),
    ("we verify every notification", "sergei-ryabkov"),
    ("the treaty was extended and extends to 2026", "sergei-lavrov"),
    ("Kaliningrad overflights resumed", "sergei-ryabkov"),
    ("no withdrawal is planned", "sergei-lavrov"),
]
AGREEMENT_QUERIES = [
    "dust", "Kaliningrad", "verif*", "portal monitoring", '"warhead freeze"', "withdraw",
    "extend", "Votkinsk OR Aegis", "treaty -Russia", "inspections", "moratorium",
    "9M729", "Open Skies", "notification",
]  # fmt: skip


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    backends = [SqliteBackend(tmp_path_factory.mktemp("agree")), postgres_or_skip()]
    urls = {}
    for backend in backends:
        url = backend.create()
        engine = make_engine(url)
        upgrade(engine)
        load_paths(engine, [SEED])
        records = [
            StatementRecord(id=f"extra-{i}", text=words, speaker=who, said_on="2021-03",
                            sources=["aca-blog-2020-12-fate-of-new-start"])
            for i, (words, who) in enumerate(EXTRA)
        ]  # fmt: skip
        with Session(engine) as session, session.begin():
            write_batch(session, Batch({"statements": [Item("extra", 1, r) for r in records]}))
        engine.dispose()
        urls[backend.name] = url
    yield urls
    for backend in backends:
        backend.drop_all()


def _engine(url: str) -> SearchEngine:
    """The search index a server of this database would keep (brought up to date by the
    first search)."""
    return SearchEngine(default_directory(url))


def _hits(url: str, q: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        hits, _, _ = search(session, _engine(url), q, SearchFilters(), limit=500, cursor=None)
    engine.dispose()
    return [f"{hit.type}:{hit.key}" for hit in hits]


@pytest.mark.parametrize("q", AGREEMENT_QUERIES)
def test_backends_agree(both: dict[str, str], q: str) -> None:
    lite, pg = _hits(both["sqlite"], q), _hits(both["postgresql"], q)
    assert lite, q
    assert set(lite) == set(pg)
    top = min(3, len(lite))
    assert set(lite[:top]) & set(pg[:top]), (q, lite[:top], pg[:top])


def test_identical_searches_sent_together_are_ranked_once(
    shared_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold search that many clients send at once is ranked once, and all get its page;
    a search that fails fails for each of them and is not kept."""
    ranked: list[str] = []
    real = search_service.search

    def slow_search(session: Session, index: SearchEngine, q: str, *args: Any, **kw: Any) -> Any:
        ranked.append(q)
        time.sleep(0.2)  # long enough for every request to arrive while it runs
        return real(session, index, q, *args, **kw)

    monkeypatch.setattr(search_service, "search", slow_search)

    async def together(path: str, times: int) -> list[httpx.Response]:
        # An app per event loop: its locks belong to the loop they were first used in.
        app = create_app(Settings(database_url=shared_url, rate_limit_enabled=False))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await asyncio.gather(*(client.get(path) for _ in range(times)))

    answers = asyncio.run(together("/v1/search?q=dust", 8))
    assert ranked == ["dust"]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["items"][0]["key"] == "lavrov-2020-11-12-wait-until-the-dust-settles"
    bad = asyncio.run(together("/v1/search?q=dust&cursor=nonsense", 4))
    assert {a.status_code for a in bad} == {422}
    assert ranked == ["dust", "dust"]  # one ranking for the four, and the error not kept


def test_the_memo_forgets_the_least_recently_used_past_its_byte_budget() -> None:
    memo = VersionMemo(kept=100, max_bytes=1000)
    for n in range(8):  # 960 bytes of bodies, pages being (body, next URL) pairs
        memo.put(n, b"x" * 120 if n % 2 else (b"y" * 120, "next"))
    memo.get(0)  # 0 is now the most recently used
    memo.put(8, b"z" * 120)  # 1,080 bytes: the least recently used, 1, goes
    assert memo.get(1) is None
    assert memo.get(0) == (b"y" * 120, "next")
    assert all(memo.get(n) is not None for n in range(2, 9))
    memo.put("huge", b"h" * 200)  # over an eighth of the budget: never kept
    assert memo.get("huge") is None
    assert memo.get(2) is not None


def _said(key: str, words: str) -> StatementRecord:
    return StatementRecord(id=key, text=words, speaker="sergei-lavrov", said_on="2021-03",
                           sources=["aca-blog-2020-12-fate-of-new-start"])  # fmt: skip


def _check_fts(session: Session) -> None:
    """FTS5's own integrity check (it raises on an index out of step with its documents)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
        )


def test_a_write_replacing_the_newest_document_still_indexes_every_document(
    empty_url: str,
) -> None:
    """New documents written after a replaced one was deleted, in one transaction, may
    take its id (SQLite reuses the highest rowid): each still reaches the index."""
    engine = make_engine(empty_url)
    load_paths(engine, [SEED])
    newest = _said("extra-newest", "zanzibar as first said")
    with Session(engine) as session, session.begin():
        write_batch(session, Batch({"statements": [Item("one", 1, newest)]}))
    revised = newest.model_copy(update={"text": "quokka as revised"})
    fresh = _said("extra-fresh", "wombat said later")
    items = [Item("two", 1, revised), Item("two", 2, fresh)]
    with Session(engine) as session, session.begin():
        write_batch(session, Batch({"statements": items}))
        _check_fts(session)
    engine.dispose()
    assert _hits(empty_url, "quokka") == ["statement:extra-newest"]
    assert _hits(empty_url, "wombat") == ["statement:extra-fresh"]
    assert _hits(empty_url, "zanzibar") == []


def test_documents_another_writer_commits_while_a_load_begins_are_indexed_once(
    empty_url: str,
) -> None:
    """A load reads where its own documents start only once it holds the write lock: a
    document another session commits before that is already in the index, and must not
    be added to it twice (FTS5 would be corrupt)."""
    engine = make_engine(empty_url)
    load_paths(engine, [SEED])
    ours = _said("extra-ours", "platypus from the load")
    theirs = _said("extra-theirs", "echidna from elsewhere")
    with Session(engine) as session, session.begin():
        with search_index.adds_deferred(session):
            with Session(engine) as other, other.begin():  # commits while the load runs
                write_batch(other, Batch({"statements": [Item("theirs", 1, theirs)]}))
            write_batch(session, Batch({"statements": [Item("ours", 1, ours)]}))
        _check_fts(session)
    engine.dispose()
    assert _hits(empty_url, "platypus") == ["statement:extra-ours"]
    assert _hits(empty_url, "echidna") == ["statement:extra-theirs"]


def test_a_load_replacing_a_document_it_added_indexes_each_document_once(
    empty_url: str,
) -> None:
    """Within one load, a document added (waiting for FTS5 by id, not by key) and then
    replaced: what waits goes in before FTS5 forgets it, and each reaches the index once."""
    engine = make_engine(empty_url)
    load_paths(engine, [SEED])
    first = _said("extra-first", "aardvark as first said")
    revised = first.model_copy(update={"text": "axolotl as revised"})
    other = _said("extra-other", "bandicoot said too")
    with Session(engine) as session, session.begin():
        with search_index.adds_deferred(session):
            write_batch(session, Batch({"statements": [Item("one", 1, first)]}))
            items = [Item("two", 1, revised), Item("two", 2, other)]
            write_batch(session, Batch({"statements": items}))
        _check_fts(session)
    engine.dispose()
    assert _hits(empty_url, "axolotl") == ["statement:extra-first"]
    assert _hits(empty_url, "bandicoot") == ["statement:extra-other"]
    assert _hits(empty_url, "aardvark") == []


def test_a_hit_is_labelled_with_its_quote_or_name(client: TestClient) -> None:
    """A statement's hit shows its quote (kept once, as the document's body), a treaty's
    its name."""
    found = client.get("/v1/search", params={"q": '"dust settles"', "type": "statement"})
    hit = found.json()["items"][0]
    assert hit["label"] == client.get(hit["url"]).json()["text"]
    treaty = client.get("/v1/search", params={"q": "open skies", "type": "treaty"}).json()
    assert treaty["items"][0]["label"] == client.get(treaty["items"][0]["url"]).json()["name"]
