"""A list of statements as one response, for every route that lists them (the statements
list, a treaty's and a person's, an article's): one read spec, one row serializer
(`read.build_rows`), with `expand`ed relations put in place of their references."""

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.articles.schemas import article_public
from app.dates import today
from app.listing import RowsRead, rows_response
from app.pagination import Page, PageParams, Sort, version_memo
from app.people.schemas import person_public
from app.reads import compiled, facets
from app.reads.facets import Facet
from app.reads.spec import Given
from app.statements import read, service
from app.statements.schemas import StatementPublic
from app.statements.spec import STATEMENTS
from app.treaties import service as treaties
from app.treaties.schemas import treaty_public
from app.urls import Urls

Item = dict[str, Any]


def _by_slug(session: Session, model: Any, slugs: set[str], *relations: Any) -> dict[str, Any]:
    query = select(model).where(col(model.slug).in_(sorted(slugs)))
    query = query.options(*(selectinload(r) for r in relations))
    return {row.slug: row for row in session.exec(query)}


def _slugs(items: Sequence[Item], name: str) -> set[str]:
    found = (item[name] for item in items if item[name])
    return {
        ref["slug"] for value in found for ref in (value if isinstance(value, list) else [value])
    }


# An expandable reference: the record's model, the relations its full form shows, and
# that form. (Treaties are a list, with dates as of today: below.)
INLINED: dict[str, tuple[Any, tuple[Any, ...], Callable[[Any, Urls], Any]]] = {
    "speaker": (m.Person, (m.Person.aliases, m.Person.country), person_public),
    "article": (m.Article, (m.Article.authors, m.Article.treaties), article_public),
}


def expanded(session: Session, items: list[Item], expand: Sequence[str], urls: Urls) -> list[Item]:
    """The items with the relations `expand` names inlined in full (the others stay
    references), each related record read once for the page."""
    for name in (n for n in expand if n in INLINED):
        model, relations, public = INLINED[name]
        found = _by_slug(session, model, _slugs(items, name), *relations)
        for item in items:
            if item[name]:
                item[name] = public(found[item[name]["slug"]], urls).model_dump(mode="json")
    if "treaties" in expand:
        linked = _by_slug(session, m.Treaty, _slugs(items, "treaties"))
        dates = treaties.dates_of(session, list(linked.values()), today())
        for item in items:
            item["treaties"] = [
                treaty_public(linked[t["slug"]], dates[t["slug"]], urls).model_dump(mode="json")
                for t in item["treaties"]
            ]
    return items


def statement_list(
    request: Request,
    response: Response,
    session: Session,
    urls: Urls,
    filters: Given,
    page: PageParams,
    sort: Sort = service.NEWEST_FIRST,
    expand: tuple[str, ...] = (),
    faceted: tuple[Facet, ...] = (),
) -> Page[StatementPublic] | Response:
    chosen = service.plan(filters, sort)
    memo = version_memo(request)

    def build(s: Session, rows: list[Any]) -> list[Item]:
        return expanded(s, read.build(s, rows, urls, memo), expand, urls)

    def rows(exact: bool) -> tuple[Any, Sort]:
        counted = chosen.counted(exact)
        return service.statement_rows(session, counted), counted.sort

    dialect = session.get_bind().dialect.name
    read_rows = RowsRead(
        rows, build,
        cells=lambda query: read.csv_cells(query, urls, dialect),
        page_rows=lambda exact: compiled.page_rows(
            session, chosen.counted(exact), read.base, page, read.COLUMNS.index),
        count=lambda: compiled.count_rows(session, chosen),
        facets=facets.counter(request, session, STATEMENTS, filters, faceted),
    )  # fmt: skip
    return rows_response(request, response, session, read_rows, page, StatementPublic)


def reported_in(session: Session, article: str, urls: Urls) -> list[Item]:
    """The statements an article reports (at most 500), newest first."""
    chosen = service.plan(STATEMENTS.given(article=[article]))
    chosen = chosen.counted(compiled.count_rows(session, chosen)[1])
    page = PageParams(500, None)
    rows, _ = compiled.page_rows(session, chosen, read.base, page, read.COLUMNS.index)
    return read.build(session, list(rows), urls)
