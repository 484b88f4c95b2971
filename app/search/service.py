"""All the SQL for search: the match, its score and snippet on each backend, and paging."""

import base64
import binascii
import datetime as dt
import html
import json
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Subquery,
    and_,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlmodel import Session

from app import models as m
from app.errors import InvalidParameter
from app.filters import on_or_after, on_or_before, within
from app.pagination import VersionMemo
from app.reads.facets import FACET_VALUES, Facet, bucket, date_facets, labelled
from app.search.query import Query, parse, to_fts5, to_tsquery

TYPES = ("statement", "article", "treaty", "person", "event")
MARK_START, MARK_END = "\ue000", "\ue001"  # private-use markers, escaped-safe
FTS = table("search_fts", column("rowid"))
DOC = m.SearchDocument.__table__  # type: ignore[attr-defined]
# What a hit shows: the document's label, or its body when it has none (a statement's).
LABEL = func.coalesce(func.nullif(DOC.c.label, ""), DOC.c.body).label("label")
HEADLINE = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=12, MaxFragments=1"


@dataclass(frozen=True)
class SearchFilters:
    types: Sequence[str] = ()
    treaties: Sequence[str] = ()
    speakers: Sequence[str] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    during: Sequence[str] = ()  # bounds of periods (app/filters.py period_bounds)


@dataclass
class Hit:
    type: str
    key: str
    label: str
    date: str | None
    score: float
    snippet: str


def _matches(dialect: str, query: Query) -> tuple[Select[Any], Any, Any]:
    """(rows of search_document that match, their score, their snippet) for a backend."""
    if dialect == "sqlite":
        score: ColumnElement[Any] = -func.bm25(literal_column("search_fts"), 10.0, 5.0, 2.0)
        snippet = func.snippet(literal_column("search_fts"), -1, MARK_START, MARK_END, "…", 16)
        matched = select(DOC).join(FTS, FTS.c.rowid == DOC.c.id).where(_fts_match(query))
        return matched, score, snippet
    tsquery = to_tsquery(query)
    tsv: ColumnElement[Any] = literal_column("search_document.tsv")
    # Normalisation 1 divides by 1 + log(length): shorter documents rank higher, as in BM25.
    score = cast(func.ts_rank(tsv, tsquery, 1), Float(53))
    text = func.concat_ws(" · ", DOC.c.body, DOC.c.title, DOC.c.extra)
    snippet = func.ts_headline("english", text, tsquery, literal(HEADLINE))
    return select(DOC).where(tsv.op("@@")(tsquery)), score, snippet


def _narrowed(f: SearchFilters) -> bool:
    return bool(f.types or f.treaties or f.speakers or f.since or f.until or f.during)


def _fts_match(query: Query) -> Any:
    return literal_column("search_fts").op("MATCH")(to_fts5(query))


def _filtered(query: Select[Any], f: SearchFilters) -> Select[Any]:
    if f.types:
        query = query.where(DOC.c.type.in_(f.types))
    if f.treaties:
        query = query.where(or_(*(DOC.c.treaties.like(f"% {t} %") for t in f.treaties)))
    if f.speakers:
        query = query.where(DOC.c.speaker.in_(f.speakers))
    if f.since:
        query = query.where(on_or_after(DOC.c.date, f.since))
    if f.until:
        query = query.where(on_or_before(DOC.c.date, f.until))
    if f.during:
        query = query.where(within(DOC.c.date, f.during))
    return query


def _cursor(score: float, doc_id: int) -> str:
    raw = json.dumps([repr(score), doc_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> tuple[float, int]:
    try:
        score, doc_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return float(score), int(doc_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidParameter("cursor is not one this API issued; follow a `next` URL.") from exc


def _highlight(snippet: str) -> str:
    escaped = html.escape(snippet)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def search(
    session: Session,
    text: str,
    filters: SearchFilters,
    *,
    limit: int,
    cursor: str | None,
    counts: tuple[VersionMemo, Hashable] | None = None,
) -> tuple[list[Hit], int, str | None]:
    """One page of hits, best first, the number of matches, and the next cursor.

    Snippets are made for the page's hits only, in a second query: made inside the ranking
    query, they would be built for every match before the sort picks fifty.
    """
    dialect = session.get_bind().dialect.name
    parsed = parse(text)
    matched, score, snippet = _matches(dialect, parsed)
    found = _ranked(dialect, parsed, matched, score, filters).subquery()
    total = counts[0].get(counts[1]) if counts else None
    if total is None:
        total = session.execute(select(func.count()).select_from(found)).scalar_one()
        if counts:
            counts[0].put(counts[1], total)
    rows = session.execute(_page(found, cursor, limit)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    # A common word: fetch each hit's snippet by rowid, rather than walking every match
    # to find the page's (a word in 927,000 of 1M statements: 70 -> 2.5 ms).
    by_rowid = dialect == "sqlite" and total > ROWID_LOOKUPS_FROM * max(len(rows), 1)
    snippets = _snippets(session, matched, snippet, [r.id for r in rows], by_rowid)
    hits = [
        Hit(r.type, r.key, r.label, r.date, float(r.score), _highlight(snippets.get(r.id, "")))
        for r in rows
    ]
    next_cursor = _cursor(float(rows[-1].score), rows[-1].id) if more else None
    return hits, int(total), next_cursor


def _ranked(
    dialect: str, parsed: Query, matched: Any, score: Any, filters: SearchFilters
) -> Select[Any]:
    """Every match's id and score."""
    if dialect == "sqlite" and not _narrowed(filters):
        # Nothing to filter on: rank and count in the index alone, then read the page's
        # documents. Joining every match to its document first cost 236 against 158 ms
        # for a word with 92,000 matches (100,000 statements).
        return select(FTS.c.rowid.label("id"), score.label("score")).where(_fts_match(parsed))
    return _filtered(matched, filters).with_only_columns(DOC.c.id, score.label("score"))


def _page(found: Subquery, cursor: str | None, limit: int) -> Select[Any]:
    """The documents of the page after `cursor`, best first, one more than `limit`."""
    best_first = select(found).order_by(found.c.score.desc(), found.c.id)
    if cursor:
        best, last_id = _after(cursor)
        best_first = best_first.where(
            or_(found.c.score < best, and_(found.c.score == best, found.c.id > last_id))
        )
    top = best_first.limit(limit + 1).subquery()
    return (
        select(DOC.c.id, DOC.c.type, DOC.c.key, LABEL, DOC.c.date, top.c.score)
        .join(top, top.c.id == DOC.c.id)
        .order_by(top.c.score.desc(), DOC.c.id)
    )


ROWID_LOOKUPS_FROM = 400  # matches per hit; below it, walking the matches is cheaper


def _snippets(
    session: Session, matched: Select[Any], snippet: Any, ids: list[int], by_rowid: bool
) -> dict[int, str]:
    """The snippets of the page's hits. FTS5 finds them by rowid (one lookup each) when
    the rowid is constrained on its own table; constrained on the document's id, it walks
    the word's matches instead."""
    if not ids:
        return {}
    key = FTS.c.rowid if by_rowid else DOC.c.id
    query = matched.with_only_columns(DOC.c.id, snippet.label("snippet")).where(key.in_(ids))
    return {row.id: row.snippet or "" for row in session.execute(query)}


def matching_keys(dialect: str, kind: str, text: str) -> Select[Any]:
    """Keys of records of one type that match `text`: the `q=` filter of list endpoints."""
    matched, _score, _snippet = _matches(dialect, parse(text))
    return matched.where(DOC.c.type == kind).with_only_columns(DOC.c.key)


KINDS = {"statement": "Statements", "article": "Articles", "treaty": "Treaties",
         "person": "People", "event": "Events"}  # fmt: skip


@dataclass(frozen=True)
class Faceted:
    name: str
    facets: tuple[Facet, ...]


# Search's facets, counted over every match under the other filters. A document's
# `treaties` are its slugs, space-separated: counted per slug.
SEARCH = Faceted(
    "search",
    (
        Facet("type", "type", "Matches per record type.", lambda _s, _v: KINDS),
        Facet(
            "treaty",
            "treaties",
            "Matches per treaty (one about two counts under each).",
            labelled(m.Treaty.slug, m.Treaty.short_name),
        ),  # fmt: skip
        Facet(
            "speaker",
            "speaker",
            "Matches per speaker (their statements, and their own record).",
            labelled(m.Person.slug, m.Person.name),
        ),  # fmt: skip
        *date_facets("date", "Matches"),
    ),
)
FILTERS = {"type": "types", "treaty": "treaties", "speaker": "speakers", "during": "during"}


def facet_rows(session: Session, text: str, filters: SearchFilters, facet: Facet) -> list[Any]:
    """A facet's (value, count) rows over the matches under the filters but its own: most
    first (ties by value) and one more than shown, or a date facet's in date order."""
    matched, _score, _snippet = _matches(session.get_bind().dialect.name, parse(text))
    others: dict[str, Any] = {FILTERS[facet.filter]: ()}
    found = _filtered(matched, replace(filters, **others))
    column = DOC.c[facet.column]
    value = bucket(column, facet.precision or "day") if facet.dated else column
    grouped = found.with_only_columns(value.label("value"), func.count()).group_by(value)
    if facet.dated:
        return list(session.execute(grouped.order_by(value)).all())
    rows: Mapping[str, int] = dict(session.execute(grouped.where(column.is_not(None))).all())
    if facet.column == "treaties":
        rows = _per_slug(rows)
    ranked = sorted(rows.items(), key=lambda row: (-row[1], row[0]))
    return ranked[: FACET_VALUES + 1]


def _per_slug(rows: Mapping[str, int]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for padded, n in rows.items():
        for slug in padded.split():
            counts[slug] += n
    return counts
