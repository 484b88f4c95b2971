"""Build the search documents from the records; the one write path every change goes through.

The loader calls `reindex` with the keys it changed. PostgreSQL's generated tsvector
follows the search_document rows by itself; on SQLite, `write` (the only writer of
search_document, behind `reindex` and the loader) feeds the FTS5 index one INSERT ... SELECT
per chunk, about 4x faster than the per-row triggers it replaces (migration 9b3e7d41a0c5).
Inside `adds_deferred` (a bulk load), those INSERTs wait and go in as one at the end.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col

from app import models as m
from app.db import insert_many, is_sqlite

Doc = dict[str, Any]


def _padded(slugs: Iterable[str]) -> str:
    return " " + " ".join(sorted(slugs)) + " " if slugs else ""


def _statements(session: Session, keys: Sequence[str]) -> list[Doc]:
    """Plain rows, not ORM objects: a bulk load reindexes a million of these."""
    s = m.Statement
    rows = session.execute(
        select(*map(col, (s.id, s.text, s.speaker_role, s.venue, s.speaker_slug, s.said_on))).where(
            col(s.id).in_(keys)
        )
    ).all()
    treaties: dict[str, list[str]] = {}
    links = select(col(m.StatementTreaty.statement_id), col(m.StatementTreaty.treaty_slug)).where(
        col(m.StatementTreaty.statement_id).in_(keys)
    )
    for statement_id, slug in session.execute(links):
        treaties.setdefault(statement_id, []).append(slug)
    records = [
        {"id": row.id, "text": row.text, "speaker_role": row.speaker_role, "venue": row.venue,
         "speaker": row.speaker_slug, "said_on": row.said_on, "treaties": treaties.get(row.id)}
        for row in rows
    ]  # fmt: skip
    return statement_documents(session, records)


def statement_documents(session: Session, statements: Sequence[Doc]) -> list[Doc]:
    """Documents of statements in their record's JSON form: as the loader holds them, so
    a bulk load indexes what it writes without reading it back."""
    names = _speaker_names(session, {s["speaker"] for s in statements if s.get("speaker")})
    return [
        {
            "key": s["id"],
            "label": "",  # the body is the label: a million statements' text kept once
            "title": names.get(s["speaker"], "") if s.get("speaker") else "",
            "body": s["text"],
            "extra": " ".join(filter(None, [s.get("speaker_role"), s.get("venue")])),
            "treaties": _padded(s.get("treaties") or []),
            "speaker": s.get("speaker"),
            "date": s["said_on"],
        }
        for s in statements
    ]


def _speaker_names(session: Session, slugs: set[str]) -> dict[str, str]:
    """Each speaker's name followed by their alternative spellings."""
    names = {
        slug: [name]
        for slug, name in session.execute(
            select(col(m.Person.slug), col(m.Person.name)).where(col(m.Person.slug).in_(slugs))
        )
    }
    aliases = (
        select(col(m.PersonAlias.person_slug), col(m.PersonAlias.name))
        .where(col(m.PersonAlias.person_slug).in_(slugs))
        .order_by(m.PersonAlias.name)
    )
    for slug, alias in session.execute(aliases):
        names[slug].append(alias)
    return {slug: " ".join(parts) for slug, parts in names.items()}


def _articles(session: Session, keys: Sequence[str]) -> list[Doc]:
    rows = session.execute(
        select(m.Article)
        .where(col(m.Article.slug).in_(keys))
        .options(selectinload(m.Article.authors), selectinload(m.Article.treaties))  # type: ignore[arg-type]
    ).scalars()
    return [
        {
            "key": a.slug,
            "label": a.title,
            "title": a.title,
            "body": a.summary,
            "extra": " ".join(x.name for x in a.authors),
            "treaties": _padded(t.slug for t in a.treaties),
            "date": a.published_on,
        }
        for a in rows
    ]


def _treaties(session: Session, keys: Sequence[str]) -> list[Doc]:
    rows = session.execute(select(m.Treaty).where(col(m.Treaty.slug).in_(keys))).scalars()
    return [
        {
            "key": t.slug,
            "label": t.name,
            "title": f"{t.name} {t.short_name}",
            "body": t.summary,
            "extra": t.official_name,
            "treaties": _padded([t.slug]),
        }
        for t in rows
    ]


def _people(session: Session, keys: Sequence[str]) -> list[Doc]:
    rows = session.execute(
        select(m.Person)
        .where(col(m.Person.slug).in_(keys))
        .options(selectinload(m.Person.aliases), selectinload(m.Person.positions))  # type: ignore[arg-type]
    ).scalars()
    return [
        {
            "key": p.slug,
            "label": p.name,
            "title": " ".join([p.name, *(a.name for a in p.aliases)]),
            "body": p.description or "",
            "extra": " ".join(f"{x.title} {x.organization}" for x in p.positions),
            "speaker": p.slug,
        }
        for p in rows
    ]


def _events(session: Session, keys: Sequence[str]) -> list[Doc]:
    rows = session.execute(
        select(m.Event).where(col(m.Event.id).in_(keys)).options(selectinload(m.Event.treaty))  # type: ignore[arg-type]
    ).scalars()
    return [
        {
            "key": e.id,
            "label": e.description,
            "title": e.treaty.short_name,
            "body": e.description,
            "extra": e.type.replace("_", " "),
            "treaties": _padded([e.treaty_slug]),
            "date": e.date,
        }
        for e in rows
    ]


BUILDERS: dict[str, Callable[[Session, Sequence[str]], list[Doc]]] = {
    "statement": _statements,
    "article": _articles,
    "treaty": _treaties,
    "person": _people,
    "event": _events,
}
# Kinds whose documents the loader builds from the records it writes, chunk by chunk.
FROM_RECORDS: dict[str, Callable[[Session, Sequence[Doc]], list[Doc]]] = {
    "statement": statement_documents,
}
KEY_COLUMNS = {
    "statement": m.Statement.id,
    "article": m.Article.slug,
    "treaty": m.Treaty.slug,
    "person": m.Person.slug,
    "event": m.Event.id,
}
CHUNK = 500

# A document's fields, with the value a builder may leave out.
DOC_FIELDS = (("key", None), ("label", ""), ("title", ""), ("body", ""), ("extra", ""),
              ("treaties", ""), ("speaker", None), ("date", None))  # fmt: skip
FIELD_NAMES = tuple(name for name, _ in DOC_FIELDS)

_DOCS = "FROM search_document WHERE type = :type AND key IN :keys"
# An external-content FTS5 table forgets a row only when told its old values.
FTS_FORGET = text(
    f"INSERT INTO search_fts(search_fts, rowid, title, body, extra) "
    f"SELECT 'delete', id, title, body, extra {_DOCS}"
).bindparams(bindparam("keys", expanding=True))


def reindex(session: Session, kind: str, keys: Sequence[str]) -> None:
    """Replace the documents of these records (a deleted record's document just goes)."""
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        write(session, kind, BUILDERS[kind](session, chunk), replacing=chunk)


def write(session: Session, kind: str, docs: list[Doc], *, replacing: Sequence[str]) -> None:
    """Drop the documents of the keys `replacing` of one kind, add `docs`, and keep FTS5 in
    step. A record created in this transaction has no document to replace: leaving its key
    out spares a lookup per chunk (on PostgreSQL, a scan of the growing table before its
    statistics catch up: 100k new statements spent 72 s there)."""
    fts = is_sqlite(session.get_bind())  # type: ignore[arg-type]
    pending: dict[str, set[str]] | None = session.info.get(_PENDING)
    if replacing:
        replaced = {"type": kind, "keys": list(replacing)}
        if fts:
            waiting_after = session.info.get(_AFTER) is not None  # not by key: all of them
            if pending and (waiting_after or not pending.get(kind, set()).isdisjoint(replacing)):
                _add_pending(session)  # FTS5 can only forget what it was given
            session.execute(FTS_FORGET, replaced)
            if _AFTER in session.info:
                session.info[_AFTER] = None  # a rowid may now be reused: wait by key
        session.execute(
            delete(m.SearchDocument).where(
                col(m.SearchDocument.type) == kind, col(m.SearchDocument.key).in_(replaced["keys"])
            )
        )
    if docs:
        rows = [(kind, *(doc.get(name, default) for name, default in DOC_FIELDS)) for doc in docs]
        insert_many(session, m.SearchDocument.__table__, ("type", *FIELD_NAMES), rows)  # type: ignore[attr-defined]
        keys = [doc["key"] for doc in docs]
        if fts and pending is not None:
            waiting = pending.setdefault(kind, set())
            if session.info[_AFTER] is None:  # by key (a million keys held: 100+ MiB)
                waiting.update(keys)
            elif session.info[_AFTER] == _UNREAD:  # read under the write lock the insert took
                session.info[_AFTER] = session.execute(LAST_ID).scalar_one() - len(rows)
        elif fts:
            _fts_add(session, kind, keys)


# session.info: kind -> keys whose FTS5 rows wait (kept only once they wait by key; until
# then, those past _AFTER wait, and a forget first adds them all)
_PENDING = "search_fts_pending"
# session.info: every document past this id waits for FTS5. Read after the block's first
# insert of documents, under the write lock it took: rows other writers committed before
# are below it, ours after it. None once a document was deleted in the block (a new row
# may reuse its id): documents then wait by key.
_AFTER = "search_fts_after"
_UNREAD = -1
# The documents of some keys of a kind into FTS5, in rowid order. Within adds_deferred,
# every waiting document of a kind goes in one statement: FTS5 writes its
# pending terms to disk at each statement of a transaction, so a load's per-chunk INSERTs
# left a segment per chunk to merge. At 200k statements the index took ~3 s that way and
# 1.0-1.4 s in one statement (with the 8 MiB hashsize of migration 3f6b2a9c1d07).
FTS_ADD = text(
    "INSERT INTO search_fts(rowid, title, body, extra) SELECT id, title, body, extra "
    "FROM search_document WHERE type = :type AND key IN (SELECT value FROM json_each(:keys)) "
    "ORDER BY id"
)
# The same for a block that deleted no document: every row past `_AFTER`, in rowid order.
# FTS_ADD looked each of a million keys up and sorted the rows it found by id (a temporary
# B-tree of every document's text); this reads them in order.
FTS_ADD_AFTER = text(
    "INSERT INTO search_fts(rowid, title, body, extra) SELECT id, title, body, extra "
    "FROM search_document WHERE id > :after ORDER BY id"
)
LAST_ID = select(func.coalesce(func.max(m.SearchDocument.id), 0))


@contextmanager
def adds_deferred(session: Session) -> Iterator[None]:
    """Within: on SQLite, documents written reach FTS5 together when the block ends, in
    one statement per kind (a document replaced within first goes in then). Nested
    blocks share the outer one; after an error nothing waits (the transaction rolls back)."""
    if _PENDING in session.info or not is_sqlite(session.get_bind()):  # type: ignore[arg-type]
        yield
        return
    session.info[_PENDING] = {}
    session.info[_AFTER] = _UNREAD
    try:
        yield
        _add_pending(session)
    finally:
        session.info.pop(_PENDING, None)
        session.info.pop(_AFTER, None)


def _add_pending(session: Session) -> None:
    pending: dict[str, set[str]] = session.info[_PENDING]
    after = session.info[_AFTER]
    if after is not None and pending:  # pending: documents were inserted, `after` read
        session.execute(FTS_ADD_AFTER, {"after": after})
        session.info[_AFTER] = _UNREAD  # the next insert reads it again
    else:
        for kind, keys in sorted(pending.items()):
            _fts_add(session, kind, keys)
    pending.clear()


def _fts_add(session: Session, kind: str, keys: Iterable[str]) -> None:
    session.execute(FTS_ADD, {"type": kind, "keys": orjson.dumps(list(keys)).decode()})


def reindex_all(session: Session) -> None:
    for kind, key in KEY_COLUMNS.items():
        reindex(session, kind, list(session.execute(select(col(key))).scalars()))


def with_dependents(
    session: Session, keys: dict[str, list[str]], people: Sequence[str]
) -> dict[str, list[str]]:
    """The documents to rebuild when these records (keys per kind) changed: their own, the
    statements of `people` (their documents hold their speaker's names), and the events of
    changed treaties (theirs hold the treaty's short name). The one rule: the writer
    (`writer._reindex`) and the search engine's replay of the change log
    (app/search/engine.py) both take it from here."""
    found = {kind: set(changed) for kind, changed in keys.items()}
    if people:
        query = select(col(m.Statement.id)).where(col(m.Statement.speaker_slug).in_(people))
        found.setdefault("statement", set()).update(session.execute(query).scalars())
    if keys.get("treaty"):
        query = select(col(m.Event.id)).where(col(m.Event.treaty_slug).in_(keys["treaty"]))
        found.setdefault("event", set()).update(session.execute(query).scalars())
    return {kind: sorted(changed) for kind, changed in found.items()}
