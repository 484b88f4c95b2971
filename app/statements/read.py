"""Statements served straight from rows: the hot read path.

One query reads a page of statements with their speaker, country and article names (outer
joins), two more read the page's treaties and sources; the result is plain JSON-ready
dicts in exactly the StatementPublic shape, serialised once with orjson. No ORM objects,
no pydantic validation per row: at a million statements that is most of a request's cost.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, case, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import Session, col

from app import models as m
from app.dates import precision_of
from app.json import stamp
from app.urls import Urls

S, P, C, A = m.Statement, m.Person, m.Country, m.Article
T, SRC = m.Treaty, m.Source


def base() -> Select[Any]:
    """Statement columns plus the names of what they point at, one row per statement."""
    return (
        select(
            S.id,
            S.text,
            S.said_on,
            S.speaker_role,
            S.venue,
            S.note,
            S.created_at,
            S.updated_at,
            S.speaker_slug,
            S.country_code,
            S.article_slug,
            col(P.name).label("speaker_name"),
            col(C.name).label("country_name"),
            col(A.title).label("article_title"),
        )  # fmt: skip
        .outerjoin(P, col(P.slug) == S.speaker_slug)
        .outerjoin(C, col(C.code) == S.country_code)
        .outerjoin(A, col(A.slug) == S.article_slug)
    )


def _treaties_of(owner: Any) -> Select[Any]:
    return (
        select(m.StatementTreaty.statement_id, T.slug, T.name, T.short_name)
        .join(T, col(T.slug) == m.StatementTreaty.treaty_slug)
        .where(owner)
        .order_by(T.slug)
    )


def _sources_of(owner: Any) -> Select[Any]:
    return (
        select(m.StatementSource.statement_id, *SRC.__table__.columns)  # type: ignore[attr-defined]
        .join(SRC, col(SRC.slug) == m.StatementSource.source_slug)
        .where(owner)
        .order_by(SRC.slug)
    )


# Built once: constructing a statement costs more than running it from SQLAlchemy's cache.
ONE = base().where(S.id == bindparam("id"))
TREATIES = {
    "one": _treaties_of(m.StatementTreaty.statement_id == bindparam("id")),
    "many": _treaties_of(col(m.StatementTreaty.statement_id).in_(bindparam("ids", expanding=True))),
}
SOURCES = {
    "one": _sources_of(m.StatementSource.statement_id == bindparam("id")),
    "many": _sources_of(col(m.StatementSource.statement_id).in_(bindparam("ids", expanding=True))),
}


def _related(connection: Connection, ids: Sequence[str], urls: Urls) -> tuple[Any, Any]:
    which, params = ("one", {"id": ids[0]}) if len(ids) == 1 else ("many", {"ids": list(ids)})
    treaties: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for owner, slug, name, short in connection.execute(TREATIES[which], params):
        treaties[owner].append(
            {"slug": slug, "name": name, "short_name": short, "url": urls.treaty(slug)}
        )
    sources: dict[str, list[dict[str, Any]]] = defaultdict(list)
    shaped: dict[str, dict[str, Any]] = {}  # one dict per source, however many cite it
    for row in connection.execute(SOURCES[which], params):
        if row.slug not in shaped:
            shaped[row.slug] = source_dict(row, urls)
        sources[row.statement_id].append(shaped[row.slug])
    return treaties, sources


def one_row(session: Session, statement_id: str) -> Row[Any] | None:
    return session.connection().execute(ONE, {"id": statement_id}).first()


def source_dict(row: Any, urls: Urls) -> dict[str, Any]:
    """A source row in the SourcePublic shape."""
    return {
        "created_at": stamp(row.created_at),
        "updated_at": stamp(row.updated_at),
        "slug": row.slug,
        "kind": row.kind,
        "title": row.title,
        "publisher": row.publisher,
        "web_url": row.url,
        "published_on": row.published_on,
        "grade": row.grade,
        "note": row.note,
        "article": urls.article(row.article_slug) if row.article_slug else None,
    }


def build(session: Session, rows: Sequence[Row[Any]], urls: Urls) -> list[dict[str, Any]]:
    """Rows of `base()` as StatementPublic-shaped dicts, in order."""
    if not rows:
        return []
    treaties, sources = _related(session.connection(), [row.id for row in rows], urls)
    return [
        {
            "created_at": stamp(r.created_at),
            "updated_at": stamp(r.updated_at),
            "id": r.id,
            "text": r.text,
            "said_on": r.said_on,
            "speaker": {
                "slug": r.speaker_slug,
                "name": r.speaker_name,
                "url": urls.person(r.speaker_slug),
            }
            if r.speaker_slug
            else None,
            "speaker_role": r.speaker_role,
            "country": {
                "code": r.country_code,
                "name": r.country_name,
                "url": urls.country(r.country_code),
            }
            if r.country_code
            else None,
            "venue": r.venue,
            "treaties": treaties.get(r.id, []),
            "article": {
                "slug": r.article_slug,
                "title": r.article_title,
                "url": urls.article(r.article_slug),
            }
            if r.article_slug
            else None,
            "note": r.note,
            "sources": sources.get(r.id, []),
            "url": urls.statement(r.id),
            "said_on_precision": precision_of(r.said_on),
        }  # fmt: skip
        for r in rows
    ]


def _joined(owner: Any, target: Any, dialect: str) -> Any:
    """A statement's linked slugs as one 'a;b' cell, sorted, computed by the database."""
    if dialect == "sqlite":
        # SQLite 3.40 has no ORDER BY inside group_concat: aggregate an ordered subquery,
        # correlated to the outer statement row.
        ordered = select(target).where(owner == S.id).order_by(target).correlate(S).subquery()
        return select(func.group_concat(ordered.c[target.key], ";")).scalar_subquery()
    return (
        select(func.string_agg(target, aggregate_order_by(literal(";"), target)))
        .where(owner == S.id)
        .scalar_subquery()
    )


def _stamp_sql(column: Any, dialect: str) -> Any:
    """The `stamp` format in SQL: 2020-11-12T10:00:00.123456Z, no fraction when it is 0."""
    if dialect == "sqlite":  # stored as '2020-11-12 10:00:00.123456'
        text = func.replace(func.replace(column, " ", "T"), ".000000", "")
    else:
        text = func.replace(func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.US'), ".000000", "")
    return case((column.is_(None), None), else_=text + "Z")


def csv_cells(query: Select[Any], base_url: str, dialect: str) -> Select[Any]:
    """The statements of `query` (a filtered `base()`) as finished CSV cells, one tuple per
    row in CSV column order, so the export writes rows without touching a value: the
    shape CSV streams of a million rows need (build_flat's output, cell for cell)."""
    precision = case(
        (func.length(S.said_on) == 10, "day"), (func.length(S.said_on) == 7, "month"),
        else_="year",
    )  # fmt: skip
    return query.with_only_columns(
        _stamp_sql(S.created_at, dialect).label("created_at"),
        _stamp_sql(S.updated_at, dialect).label("updated_at"),
        S.id, S.text, S.said_on, S.speaker_slug.label("speaker"), S.speaker_role,
        S.country_code.label("country"), S.venue,
        _joined(m.StatementTreaty.statement_id, m.StatementTreaty.treaty_slug,
                dialect).label("treaties"),
        S.article_slug.label("article"), S.note,
        _joined(m.StatementSource.statement_id, m.StatementSource.source_slug,
                dialect).label("sources"),
        (literal(f"{base_url}/statements/") + S.id).label("url"),
        precision.label("said_on_precision"),
    )  # fmt: skip
