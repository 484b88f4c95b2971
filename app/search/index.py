"""Build the search documents from the records; the one write path every change goes through.

The loader calls `reindex` with the keys it changed; each backend's index (FTS5 triggers,
generated tsvector) follows the search_document rows by itself.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col

from app import models as m

Doc = dict[str, Any]


def _padded(slugs: Iterable[str]) -> str:
    return " " + " ".join(sorted(slugs)) + " " if slugs else ""


def _statements(session: Session, keys: Sequence[str]) -> list[Doc]:
    """Plain rows, not ORM objects: a bulk load reindexes a million of these."""
    s = m.Statement
    rows = session.execute(
        select(s.id, s.text, s.speaker_role, s.venue, s.speaker_slug, s.said_on).where(
            col(s.id).in_(keys)
        )
    ).all()
    treaties: dict[str, list[str]] = {}
    links = select(m.StatementTreaty.statement_id, m.StatementTreaty.treaty_slug).where(
        col(m.StatementTreaty.statement_id).in_(keys)
    )
    for statement_id, slug in session.execute(links):
        treaties.setdefault(statement_id, []).append(slug)
    names = _speaker_names(session, {row.speaker_slug for row in rows if row.speaker_slug})
    return [
        {
            "key": row.id,
            "label": row.text,
            "title": names.get(row.speaker_slug, "") if row.speaker_slug else "",
            "body": row.text,
            "extra": " ".join(filter(None, [row.speaker_role, row.venue])),
            "treaties": _padded(treaties.get(row.id, [])),
            "speaker": row.speaker_slug,
            "date": row.said_on,
        }
        for row in rows
    ]


def _speaker_names(session: Session, slugs: set[str]) -> dict[str, str]:
    """Each speaker's name followed by their alternative spellings."""
    names = {
        slug: [name]
        for slug, name in session.execute(
            select(m.Person.slug, m.Person.name).where(col(m.Person.slug).in_(slugs))
        )
    }
    aliases = (
        select(m.PersonAlias.person_slug, m.PersonAlias.name)
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
KEY_COLUMNS = {
    "statement": m.Statement.id,
    "article": m.Article.slug,
    "treaty": m.Treaty.slug,
    "person": m.Person.slug,
    "event": m.Event.id,
}
CHUNK = 500


def reindex(session: Session, kind: str, keys: Sequence[str]) -> None:
    """Replace the documents of these records (a deleted record's document just goes)."""
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        session.execute(
            delete(m.SearchDocument).where(
                m.SearchDocument.type == kind, col(m.SearchDocument.key).in_(chunk)
            )
        )
        docs = [{"type": kind, **doc} for doc in BUILDERS[kind](session, chunk)]
        if docs:
            session.execute(insert(m.SearchDocument.__table__), docs)  # type: ignore[attr-defined]


def reindex_all(session: Session) -> None:
    for kind, key in KEY_COLUMNS.items():
        reindex(session, kind, list(session.execute(select(key)).scalars()))


def statements_of(session: Session, people: Sequence[str]) -> list[str]:
    query = select(m.Statement.id).where(col(m.Statement.speaker_slug).in_(people))
    return list(session.execute(query).scalars())
