"""All the SQL for search: the match, its score and snippet on each backend, and paging."""

import base64
import binascii
import datetime as dt
import html
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import tantivy
from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
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
from app.reads.facets import FACET_VALUES, Facet, bucket, date_facets, labelled
from app.search.engine import SCHEMA, SearchEngine, day_number
from app.search.query import Query, parse, to_fts5, to_tantivy, to_tsquery

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


MAX_RESULTS = 10_000  # the deepest a search pages (as Elasticsearch's max_result_window)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset]).encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        (offset,) = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(offset, int) and 0 < offset < MAX_RESULTS:
            return offset
    except (ValueError, TypeError, binascii.Error):
        pass
    raise InvalidParameter("cursor is not one this API issued; follow a `next` URL.")


def _highlight(snippet: str) -> str:
    escaped = html.escape(snippet)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def search(
    session: Session,
    engine: SearchEngine,
    text: str,
    filters: SearchFilters,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Hit], int, str | None]:
    """One page of hits, best first, the number of matches, and the next cursor.

    The index (app/search/engine.py, brought up to the database's data version first)
    finds the page and counts every match without ranking them all: block-max WAND scores
    only documents that can still enter the top. The database gives what the hits show
    and, for the page only, their snippets.
    """
    parsed = parse(text)
    offset = _offset(cursor)
    engine.current(session.get_bind())  # type: ignore[arg-type]
    searcher = engine.searcher()
    query = tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, to_tantivy(parsed, searcher)), *_clauses(filters)]
    )
    found = searcher.search(query, limit + 1, count=True, offset=offset)
    ids = searcher.fast_field_values("id", [address for _, address in found.hits])
    ranked = [(int(i or 0), float(score)) for i, (score, _) in zip(ids, found.hits, strict=True)]
    more = len(ranked) > limit and offset + limit < MAX_RESULTS
    ranked = ranked[:limit]
    page = SHOWN.where(DOC.c.id.in_([doc_id for doc_id, _ in ranked]))
    shown = {row.id: row for row in session.execute(page)}
    total = int(getattr(found, "count", 0) or 0)  # exact: searched with count=True
    # A common word: fetch each hit's snippet by rowid, rather than walking every match
    # to find the page's (a word in 927,000 of 1M statements: 70 -> 2.5 ms).
    dialect = session.get_bind().dialect.name
    by_rowid = dialect == "sqlite" and total > ROWID_LOOKUPS_FROM * max(len(ranked), 1)
    matched, _score, snippet = _matches(dialect, parsed)
    snippets = _snippets(session, matched, snippet, list(shown), by_rowid)
    hits = [
        Hit(row.type, row.key, row.label, row.date, score, _highlight(snippets.get(doc_id, "")))
        for doc_id, score in ranked
        if (row := shown.get(doc_id)) is not None  # gone since the index's snapshot
    ]
    return hits, total, _cursor(offset + limit) if more else None


SHOWN = select(DOC.c.id, DOC.c.type, DOC.c.key, LABEL, DOC.c.date)


def _clauses(f: SearchFilters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
    """The filters as Tantivy clauses; dates as numbers that sort as their text does
    (engine.day_number), with the same overlap rules as app/filters.py's."""
    must: list[tantivy.Query] = [
        tantivy.Query.term_set_query(SCHEMA, field, list(values))
        for field, values in (("type", f.types), ("treaties", f.treaties), ("speaker", f.speakers))
        if values
    ]
    if f.since:
        must.append(_since(f.since))
    if f.until:
        must.append(_days(None, day_number(f.until.isoformat())))
    if f.during:
        periods = [_days(*_period(low)) for low in f.during[::2]]
        must.append(tantivy.Query.boolean_query([(tantivy.Occur.Should, p) for p in periods]))
    # Scoring nothing: a filter that keeps every match leaves every score as it was.
    return [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in must]


def _days(low: int | None, high: int | None) -> tantivy.Query:
    return tantivy.Query.range_query(SCHEMA, "day", tantivy.FieldType.Integer, low, high)


def _since(day: dt.date) -> tantivy.Query:
    """On or after `day` at the date's own precision: from the day on, or its month or
    year ("2020-11" is on or after 2020-11-15; "2020-10" is not)."""
    number = day.year * 10_000 + day.month * 100 + day.day
    month, year = number - day.day, number - day.month * 100 - day.day
    either = [_days(number, None), _days(month, month), _days(year, year)]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in either])


def _period(low: str) -> tuple[int, int]:
    """A `during` period's first and last numbers: a year's, a month's or a day's dates."""
    first = day_number(low) or 0
    return first, first + {1: 9999, 2: 99, 3: 0}[len(low.split("-"))]


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
