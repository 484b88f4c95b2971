"""All the SQL for statements."""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.dates import truncate
from app.errors import NotFound
from app.filters import PRECISIONS, on_or_before, overlapping_from
from app.pagination import PageParams, Slice, Sort, fetch_page, sort_param
from app.search.service import matching_keys
from app.statements import read

SORTS = {"said_on": m.Statement.said_on, "id": m.Statement.id}
sort_statements = sort_param(SORTS, m.Statement.id, "-said_on")
NEWEST_FIRST = sort_statements.default


@dataclass(frozen=True)
class StatementFilters:
    treaties: Sequence[str] = ()
    speakers: Sequence[str] = ()
    countries: Sequence[str] = ()
    articles: Sequence[str] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    q: str | None = None


def _with_relations(query: Select[Any]) -> Select[Any]:
    return query.options(
        selectinload(m.Statement.speaker),  # type: ignore[arg-type]
        selectinload(m.Statement.country),  # type: ignore[arg-type]
        selectinload(m.Statement.article),  # type: ignore[arg-type]
        selectinload(m.Statement.treaties),  # type: ignore[arg-type]
        selectinload(m.Statement.sources),  # type: ignore[arg-type]
    )


S = m.Statement


def _linked_to(treaties: Sequence[Any]) -> ColumnElement[bool]:
    # EXISTS, not IN (subquery): the planner then walks the (said_on, id) index in page
    # order and stops at the page's end, instead of sorting every linked statement.
    linked = select(m.StatementTreaty.treaty_slug).where(
        col(m.StatementTreaty.statement_id) == S.id,
        col(m.StatementTreaty.treaty_slug).in_(treaties),
    )
    return linked.exists()


# Every filter of a statement list but `q`, declared once: the condition each adds, given
# its values as a list (the request's own, or bind parameters standing for them, as the
# statements compiled once per shape in `prepared` take them).
CONDITIONS: dict[str, Callable[[Sequence[Any]], ColumnElement[bool]]] = {
    "treaties": _linked_to,
    "speakers": lambda values: col(S.speaker_slug).in_(values),
    "countries": lambda values: col(S.country_code).in_(values),
    "articles": lambda values: col(S.article_slug).in_(values),
    # The partial-date overlap rule (app/filters.py): the day truncated to each precision.
    "since": lambda bounds: overlapping_from(S.said_on, dict(zip(PRECISIONS, bounds, strict=True))),
    "until": lambda day: on_or_before(S.said_on, day[0]),
}


LIST_FILTERS = ("treaties", "speakers", "countries", "articles")


def given(f: StatementFilters) -> dict[str, list[Any]]:
    """The filters a request gives, each as the list of values its condition takes."""
    found = {name: list(getattr(f, name)) for name in LIST_FILTERS if getattr(f, name)}
    if f.since:
        found["since"] = [truncate(f.since, p) for p in PRECISIONS]
    if f.until:
        found["until"] = [f.until.isoformat()]
    return found


def conditions(values: Mapping[str, Sequence[Any]]) -> list[ColumnElement[bool]]:
    return [CONDITIONS[name](given_values) for name, given_values in values.items()]


def _filtered(session: Session, f: StatementFilters, query: Select[Any]) -> Select[Any]:
    if f.q:
        query = query.where(col(S.id).in_(matching_keys(session, "statement", f.q)))
    return query.where(*conditions(given(f)))


def list_statements(
    session: Session, filters: StatementFilters, page: PageParams, sort: Sort = NEWEST_FIRST
) -> Slice:
    return fetch_page(session, statements_query(session, filters), sort, page)


def statement_rows(session: Session, filters: StatementFilters) -> Select[Any]:
    """The filtered statements as plain rows for `read.build` (the path without expand)."""
    return _filtered(session, filters, read.base(session.get_bind().dialect.name))


def get_statement(session: Session, statement_id: str) -> m.Statement:
    query = _with_relations(select(m.Statement).where(m.Statement.id == statement_id))
    statement = session.exec(query).first()  # type: ignore[call-overload]
    if statement is None:
        raise NotFound("statement", statement_id)
    return statement  # type: ignore[no-any-return]


EXPANSIONS = ("speaker", "article", "treaties")


def statements_query(
    session: Session, filters: StatementFilters, expand: Sequence[str] = ()
) -> Select[Any]:
    query = _with_relations(_filtered(session, filters, select(m.Statement)))
    if "speaker" in expand:
        speaker = selectinload(m.Statement.speaker)  # type: ignore[arg-type]
        query = query.options(
            speaker.selectinload(m.Person.aliases),  # type: ignore[arg-type]
            speaker.selectinload(m.Person.country),  # type: ignore[arg-type]
        )
    if "article" in expand:
        article = selectinload(m.Statement.article)  # type: ignore[arg-type]
        query = query.options(
            article.selectinload(m.Article.authors),  # type: ignore[arg-type]
            article.selectinload(m.Article.treaties),  # type: ignore[arg-type]
        )
    return query
