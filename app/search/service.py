"""Search: its page and total from the index, its rows from the database, and the SQL
match (the lists' `q=`, search's facets) with the filters on each backend."""

import base64
import binascii
import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import tantivy
from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlmodel import Session

from app import models as m
from app.errors import InvalidParameter
from app.filters import on_or_after, on_or_before, within
from app.history.past import refuse_at_past
from app.reads.facets import FACET_VALUES, Facet, bucket, date_facets, labelled
from app.search.engine import SCHEMA, SearchEngine, day_number
from app.search.query import Query, parse, to_fts5, to_tantivy, to_tsquery
from app.search.snippets import Snippets

TYPES = ("statement", "article", "treaty", "person", "event")
FTS = table("search_fts", column("rowid"))
DOC = m.SearchDocument.__table__  # type: ignore[attr-defined]
# What a hit shows: the document's label, or its body when it has none (a statement's).
LABEL = func.coalesce(func.nullif(DOC.c.label, ""), DOC.c.body).label("label")


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


def matched(dialect: str, query: Query) -> Select[Any]:
    """The rows of search_document that match, in the database's own full-text index (the
    lists' `q=` and search's facets; search itself asks the index, app/search/engine.py)."""
    if dialect == "sqlite":
        return select(DOC).join(FTS, FTS.c.rowid == DOC.c.id).where(_fts_match(query))
    tsv: ColumnElement[Any] = literal_column("search_document.tsv")
    return select(DOC).where(tsv.op("@@")(to_tsquery(query)))


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


def search(
    session: Session,
    engine: SearchEngine,
    text: str,
    filters: SearchFilters,
    *,
    limit: int,
    cursor: str | None,
    version: int | None = None,
) -> tuple[list[Hit], int, str | None]:
    """One page of hits, best first, the number of matches, and the next cursor, with the
    index at least at data `version` (the answer's; default: the database's).

    The index (app/search/engine.py, brought up to the database's data version first)
    finds the page and counts every match without ranking them all: block-max WAND scores
    only documents that can still enter the top. The database gives the page's rows, by
    primary key, and the index's highlighter their snippets.
    """
    offset = _offset(cursor)
    engine.current(session.get_bind(), version)  # type: ignore[arg-type]
    searcher = engine.searcher()
    matching = to_tantivy(parse(text), searcher)
    query = tantivy.Query.boolean_query([(tantivy.Occur.Must, matching), *_clauses(filters)])
    ranked, total = _ranked(searcher, query, offset, limit + 1)
    more = len(ranked) > limit and offset + limit < MAX_RESULTS
    page = SHOWN.where(DOC.c.id.in_([doc_id for doc_id, _ in ranked[:limit]]))
    shown = {row.id: row for row in session.execute(page)}
    snippets = Snippets(searcher, matching)
    hits = [
        Hit(row.type, row.key, row.label, row.date, score, snippets.of(*row[-3:]))
        for doc_id, score in ranked[:limit]
        if (row := shown.get(doc_id)) is not None  # gone since the index's snapshot
    ]
    return hits, total, _cursor(offset + limit) if more else None


TIES = 50  # hits read past the page, so that equal scores at its edge are ordered by id


def _ranked(
    searcher: tantivy.Searcher, query: tantivy.Query, offset: int, count: int
) -> tuple[list[tuple[int, float]], int]:
    """The (document id, score) of hits offset to offset + count, best first and equal
    scores by id, and the number of matches (exact: counted as they are scored).

    The index orders equal scores by where it holds the documents, which differs from one
    instance to another; by id, every instance pages alike. That takes every document tied
    with the page's last: when more of them than TIES lie past the page (generated text,
    not written text), the page keeps the index's order."""
    wanted = offset + count + TIES
    found = searcher.search(query, wanted, count=True)
    ids = searcher.fast_field_values("id", [address for _, address in found.hits])
    hits = [(int(i or 0), float(score)) for i, (score, _) in zip(ids, found.hits, strict=True)]
    edge = offset + count - 1
    if len(hits) < wanted or hits[-1][1] < hits[min(edge, len(hits) - 1)][1]:  # all ties here
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
    return hits[offset : offset + count], int(getattr(found, "count", 0) or 0)


# A hit's row: what it shows, then the texts its snippet is cut from (body, title, extra).
SHOWN = select(DOC.c.id, DOC.c.type, DOC.c.key, LABEL, DOC.c.date, DOC.c.body, DOC.c.title,
               DOC.c.extra)  # fmt: skip


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


def matching_keys(dialect: str, kind: str, text: str) -> Select[Any]:
    """Keys of records of one type that match `text`: the `q=` filter of list endpoints."""
    refuse_at_past("q=")
    return matched(dialect, parse(text)).where(DOC.c.type == kind).with_only_columns(DOC.c.key)


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
    others: dict[str, Any] = {FILTERS[facet.filter]: ()}
    matches = matched(session.get_bind().dialect.name, parse(text))
    found = _filtered(matches, replace(filters, **others))
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
