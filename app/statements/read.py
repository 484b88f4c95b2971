"""Statements served straight from rows: the hot read path.

One query reads a page of statements with their speaker, country and article names (outer
joins), their treaty and source slugs (copied onto the statement's row) and their
timestamps already formatted; treaty and source summaries come from a memo kept per data
version. The result is plain JSON-ready dicts in exactly the StatementPublic shape, serialised
once with orjson. No ORM objects, no pydantic validation per row: at a million
statements that is most of a request's cost.
"""

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Row,
    Select,
    String,
    bindparam,
    case,
    func,
    literal,
    select,
)
from sqlmodel import Session, col

from app import models as m
from app.dates import precision_of
from app.db import Prepared, autocommit
from app.json import dumps, stamp
from app.listing import CSV_SPECIAL, CsvCells
from app.pagination import VersionMemo
from app.urls import Urls

S, P, C, A = m.Statement, m.Person, m.Country, m.Article
T, SRC = m.Treaty, m.Source


@cache
def base(dialect: str) -> Select[Any]:
    """Statement columns, the names of what they point at and the sorted slugs of their
    treaties and sources, one finished row per statement: a page is one query."""
    return (
        select(
            col(S.id),
            col(S.text),
            col(S.said_on),
            col(S.speaker_role),
            col(S.venue),
            col(S.note),
            _stamp_sql(S.created_at, dialect).label("created_at"),
            _stamp_sql(S.updated_at, dialect).label("updated_at"),
            col(S.speaker_slug),
            col(S.country_code),
            col(S.article_slug),
            col(P.name).label("speaker_name"),
            col(C.name).label("country_name"),
            col(A.title).label("article_title"),
            col(S.treaty_slugs),
            col(S.source_slugs),
        )  # fmt: skip
        .outerjoin(P, col(P.slug) == S.speaker_slug)
        .outerjoin(C, col(C.code) == S.country_code)
        .outerjoin(A, col(A.slug) == S.article_slug)
    )


COLUMNS = (
    "id",
    "text",
    "said_on",
    "speaker_role",
    "venue",
    "note",
    "created_at",
    "updated_at",
    "speaker_slug",
    "country_code",
    "article_slug",
    "speaker_name",
    "country_name",
    "article_title",
    "treaty_slugs",
    "source_slugs",
)  # base()'s columns in order: rows are unpacked by position (a Row's attribute
# lookup costs more than building the whole dict)


TREATIES = select(col(T.slug), col(T.name), col(T.short_name)).where(
    col(T.slug).in_(bindparam("slugs", expanding=True))
)
SOURCES = select(*SRC.__table__.columns).where(  # type: ignore[attr-defined]
    col(SRC.slug).in_(bindparam("slugs", expanding=True))
)
Memo = tuple[VersionMemo, int]  # the app's memo and the request's data version


Connect = Callable[[], AbstractContextManager[Connection]]


def _summaries(
    connect: Connect, rows: Sequence[Sequence[Any]], urls: Urls, memo: Memo | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The page's treaties and sources as JSON-ready dicts by slug. A treaty or source
    changes only with a write, so within one data version each is shaped once."""
    found: dict[str, dict[str, Any]] = {"t": {}, "s": {}}
    missing: dict[str, set[str]] = {"t": set(), "s": set()}
    for kind, column in (("t", COLUMNS.index("treaty_slugs")), ("s", -1)):
        for row in rows:
            for slug in (row[column] or "").split(";"):
                if slug and slug not in found[kind]:
                    known = memo[0].get((memo[1], urls, kind, slug)) if memo else None
                    if known is None:
                        missing[kind].add(slug)
                    else:
                        found[kind][slug] = known
    if missing["t"] or missing["s"]:
        with connect() as connection:
            if missing["t"]:
                for slug, name, short in connection.execute(
                    TREATIES, {"slugs": sorted(missing["t"])}
                ):
                    found["t"][slug] = {
                        "slug": slug, "name": name, "short_name": short,
                        "url": urls.treaty(slug),
                    }  # fmt: skip
            if missing["s"]:
                for source in connection.execute(SOURCES, {"slugs": sorted(missing["s"])}):
                    found["s"][source.slug] = source_dict(source, urls)
    if memo:
        for kind in ("t", "s"):
            for slug in missing[kind]:
                if slug in found[kind]:
                    memo[0].put((memo[1], urls, kind, slug), found[kind][slug])
    return found["t"], found["s"]


@lru_cache(maxsize=64)  # per engine's dialect
def _one(dialect: Dialect) -> Prepared:
    return Prepared(base(dialect.name).where(col(S.id) == bindparam("id")), dialect)


def statement_json(
    engine: Engine, statement_id: str, urls: Urls, memo: Memo | None
) -> bytes | None:
    """One statement's JSON (None if there is none), through SQL compiled once: what the
    by-id route returns (kept whole with every answer, app/cache.py)."""
    with autocommit(engine) as connection:
        rows = _one(engine.dialect).rows(connection, {"id": statement_id})
        if not rows:
            return None
        statement = build_rows(rows, urls, memo, lambda: nullcontext(connection))[0]
    return dumps(statement)


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


def build(
    session: Session, rows: Sequence[Row[Any]], urls: Urls, memo: Memo | None = None
) -> list[dict[str, Any]]:
    """Rows of `base()` as StatementPublic-shaped dicts, in order."""
    return build_rows(rows, urls, memo, lambda: nullcontext(session.connection()))


def build_rows(
    rows: Sequence[Sequence[Any]], urls: Urls, memo: Memo | None, connect: Connect
) -> list[dict[str, Any]]:
    if not rows:
        return []
    treaties, sources = _summaries(connect, rows, urls, memo)
    return [
        {
            "created_at": created,
            "updated_at": updated,
            "id": id_,
            "text": text,
            "said_on": said_on,
            "speaker": {"slug": speaker, "name": speaker_name, "url": urls.person(speaker)}
            if speaker
            else None,
            "speaker_role": role,
            "country": {"code": country, "name": country_name, "url": urls.country(country)}
            if country
            else None,
            "venue": venue,
            "treaties": [treaties[t] for t in treaty_slugs.split(";")] if treaty_slugs else [],
            "article": {"slug": article, "title": title, "url": urls.article(article)}
            if article
            else None,
            "note": note,
            "sources": [sources[s] for s in source_slugs.split(";")] if source_slugs else [],
            "url": urls.statement(id_),
            "said_on_precision": precision_of(said_on),
        }
        for (
            id_, text, said_on, role, venue, note, created, updated, speaker, country,
            article, speaker_name, country_name, title, treaty_slugs, source_slugs,
        ) in rows
    ]  # fmt: skip


def _stamp_sql(column: Any, dialect: str) -> Any:
    """The `stamp` format in SQL: 2020-11-12T10:00:00.123456Z, no fraction when it is 0."""
    if dialect == "sqlite":  # stored as '2020-11-12 10:00:00.123456'
        text = func.replace(func.replace(column, " ", "T"), ".000000", "")
    else:
        text = func.replace(func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.US'), ".000000", "")
    return case((column.is_(None), None), else_=text + "Z")


def sqlite_stamp(stored: str) -> str:
    """What `_stamp_sql` makes of a stamp SQLite stores ('' stays '')."""
    return stored.replace(" ", "T").replace(".000000", "") + "Z" if stored else ""


STAMPS = ("created_at", "updated_at")
# Free text may need quotes: the export adds them (listing.csv_quoted).
FREE_TEXT = frozenset({"text", "speaker_role", "venue", "note"})


def _csv_url(prefix: str, tail: str) -> Any:
    """The URL column's cells are `prefix` + a slug + `tail` (Urls.tail): quoted whole
    when the prefix (from the request's Host) needs it, which no slug does."""
    if any(char in prefix for char in CSV_SPECIAL):
        quoted = literal('"' + prefix.replace('"', '""'), String).concat(S.id)
        return quoted.concat(literal(tail + '"', String))
    cell = literal(prefix, String).concat(S.id)
    return cell.concat(literal(tail, String)) if tail else cell


def csv_cells(query: Select[Any], urls: Urls, dialect: str) -> CsvCells:
    """The statements of `query` (a filtered `base()`) as CSV cells in CSV column order,
    one tuple per row: finished as csv.writer writes them (build_flat's output, cell for
    cell), except the FREE_TEXT columns, which the export quotes. Slugs, codes, dates and
    stamps are validated never to need quotes."""
    precision = case(
        (func.length(S.said_on) == 10, "day"), (func.length(S.said_on) == 7, "month"),
        else_="year",
    )  # fmt: skip

    def blank(column: Any) -> Any:
        return func.coalesce(column, "")

    # SQLite's stored stamps are finished here once per distinct value (a column of
    # import stamps holds few), not by two replace() calls a row (100,000 rows at 1M:
    # 8.09 -> 7.39 billion instructions, the whole process).
    finish = dict.fromkeys(STAMPS, sqlite_stamp) if dialect == "sqlite" else {}
    created, updated = (
        S.created_at if finish else _stamp_sql(S.created_at, dialect),
        S.updated_at if finish else _stamp_sql(S.updated_at, dialect),
    )
    cells = query.with_only_columns(
        blank(created).label("created_at"), blank(updated).label("updated_at"),
        col(S.id), blank(S.text).label("text"), col(S.said_on),
        blank(S.speaker_slug).label("speaker"), blank(S.speaker_role).label("speaker_role"),
        blank(S.country_code).label("country"), blank(S.venue).label("venue"),
        blank(S.treaty_slugs).label("treaties"), blank(S.article_slug).label("article"),
        blank(S.note).label("note"), blank(S.source_slugs).label("sources"),
        _csv_url(f"{urls.base}/statements/", urls.tail).label("url"),
        precision.label("said_on_precision"),
    )  # fmt: skip
    return CsvCells(cells, FREE_TEXT, finish)
