"""GET /v1/search: one ranked list across statements, articles, treaties, people, events."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.dates import Day
from app.db import engine_of, off_loop
from app.errors import InvalidParameter
from app.filters import period_bounds, values
from app.history.past import refuse_at_past
from app.json import dumps
from app.listing import KeptPage, facet_table, kept_page
from app.pagination import PageDep, PageParams, next_link
from app.reads import facets
from app.reads.facets import Facet, FacetCounts
from app.reads.filters import WITHIN
from app.search import service
from app.search.query import HELP
from app.urls import Urls, UrlsDep

router = APIRouter(tags=["search"])
DURING = f"Dated within the year, month or day (repeat for any of several). {WITHIN}"
Kind = Literal["statement", "article", "treaty", "person", "event"]


class SearchHit(BaseModel):
    type: Kind = Field(description="What kind of record matched.")
    key: str = Field(
        description="The record's slug or id.",
        examples=["lavrov-2020-11-12-wait-until-the-dust-settles"],
    )
    label: str = Field(description="Its name, title, quote or description.")
    date: str | None = Field(description="Its date, ISO 8601 at the precision known.")
    url: str = Field(description="API URL of the record.")
    score: float = Field(description="Relevance; higher is better. Comparable within one search.")
    snippet: str = Field(
        description="The best-matching passage, HTML-escaped, matched terms in <mark>.",
        examples=["So, we will wait until the <mark>dust</mark> settles."],
    )


class SearchPage(BaseModel):
    items: list[SearchHit] = Field(description="Matches, best first.")
    total: int = Field(description="How many records match, counted exactly.")
    next: str | None = Field(
        description="URL of the next page; null on the last, and after the first 10,000 hits."
    )
    facets: dict[str, FacetCounts] | None = Field(
        None, description="The counts `facet` asked for, by facet name; absent without it."
    )


def _url(urls: Urls, kind: str, key: str) -> str:
    return {
        "statement": urls.statement,
        "article": urls.article,
        "treaty": urls.treaty,
        "person": urls.person,
        "event": urls.event,
    }[kind](key)


@router.get("/search", operation_id="search-run", response_model=SearchPage)
async def run_search(
    request: Request,
    urls: UrlsDep,
    page: PageDep,
    q: Annotated[str, Query(description=HELP, examples=['"warhead freeze"'])],
    type: Annotated[
        list[Kind] | None, Query(description="Record type(s).", examples=["statement"])
    ] = None,
    treaty: Annotated[list[str] | None, Query(description="Treaty slug(s).")] = None,
    speaker: Annotated[list[str] | None, Query(description="Speaker person slug(s).")] = None,
    since: Annotated[Day | None, Query(description="Dated on or after (overlap).")] = None,
    until: Annotated[Day | None, Query(description="Dated on or before (overlap).")] = None,
    during: Annotated[list[str] | None, Query(description=DURING, examples=["2020-11"])] = None,
    faceted: Annotated[tuple[Facet, ...], Depends(facets.parameter(service.SEARCH))] = (),
) -> Response:
    """Search every record type at once, best match first, with highlighted snippets;
    with `facet`, the matches counted by type, treaty, speaker or period beside them."""
    refuse_at_past("Search")
    filters = service.SearchFilters(
        types=type or (),
        treaties=values(treaty),
        speakers=values(speaker),
        since=since,
        until=until,
        during=period_bounds(tuple(values(during))),
    )
    if page.fields or (page.format != "json" and not faceted):
        raise InvalidParameter("Search results come as JSON pages, facet counts also as CSV "
                               "or NDJSON: drop fields=, or format= without facet=.")  # fmt: skip
    if page.format != "json":
        return facet_table(await off_loop(request, _counts, request, q, filters, faceted), page)
    # Ranking every match is the cost of a search, and a frontend sends the same few
    # searches over and over: the page is kept per data version with every answer
    # (app/cache.py), and identical searches arriving together are ranked once.
    return kept_page(await off_loop(request, _page, request, urls, q, filters, page, faceted))


def _counts(
    request: Request, q: str, filters: service.SearchFilters, faceted: tuple[Facet, ...]
) -> dict[str, dict[str, Any]]:
    with Session(engine_of(request)) as session:
        return _answers(request, session, q, filters, faceted)


def _answers(
    request: Request,
    session: Session,
    q: str,
    filters: service.SearchFilters,
    faceted: tuple[Facet, ...],
) -> dict[str, dict[str, Any]]:
    return {
        facet.name: facets.answer(
            request, session, facet, service.facet_rows(session, q, filters, facet)
        )
        for facet in faceted
    }


def _page(
    request: Request,
    urls: Urls,
    q: str,
    filters: service.SearchFilters,
    page: PageParams,
    faceted: tuple[Facet, ...] = (),
) -> KeptPage:
    """One ranked page, in a session of its own: requests that share the ranking may
    finish (and close theirs) before it does."""
    with Session(engine_of(request)) as session:
        hits, total, cursor = service.search(
            session, request.app.state.search, q, filters, limit=page.limit, cursor=page.cursor,
            version=getattr(request.state, "data_version", None),
        )  # fmt: skip
        counts = _answers(request, session, q, filters, faceted) if faceted else None
    next_url = str(request.url.include_query_params(cursor=cursor)) if cursor else None
    items = [{**vars(hit), "url": _url(urls, hit.type, hit.key)} for hit in hits]
    answer = {"items": items, "total": total, "next": next_url}
    body = dumps(answer if counts is None else {**answer, "facets": counts})
    return body, next_link(next_url) if next_url else None
