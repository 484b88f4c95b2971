"""HTTP endpoints for articles."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.articles import service
from app.articles.schemas import ArticleDetail, ArticlePublic, article_public
from app.dates import Day
from app.db import SessionDep
from app.errors import InvalidParameter
from app.filters import values
from app.listing import list_response
from app.pagination import Page, PageDep, PageParams, Sort
from app.search.query import HELP as SEARCH_HELP
from app.statements import service as statements
from app.statements.schemas import statement_public
from app.statements.spec import STATEMENTS
from app.urls import UrlsDep, key_path

router = APIRouter(prefix="/articles", tags=["articles"])


async def article_filters(
    treaty: Annotated[
        list[str] | None, Query(description="Treaty slug(s) covered.", examples=["inf"])
    ] = None,
    author: Annotated[
        list[str] | None, Query(description="Author slug(s).", examples=["kingston-reif"])
    ] = None,
    publication: Annotated[
        list[str] | None,
        Query(description="Publication name(s).", examples=["Arms Control Today"]),
    ] = None,
    since: Annotated[
        Day | None, Query(description="Issue date on or after.", examples=["2020-11-01"])
    ] = None,
    until: Annotated[
        Day | None, Query(description="Issue date on or before.", examples=["2020-12-31"])
    ] = None,
    q: Annotated[str | None, Query(description=SEARCH_HELP, examples=["verif*"])] = None,
) -> service.ArticleFilters:
    if since and until and since > until:
        raise InvalidParameter(f"since ({since}) is after until ({until}).")
    return service.ArticleFilters(
        treaties=values(treaty),
        authors=values(author),
        publications=values(publication),
        since=since,
        until=until,
        q=q,
    )


@router.get("", operation_id="articles-list", response_model=Page[ArticlePublic])
def list_articles(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    filters: Annotated[service.ArticleFilters, Depends(article_filters)],
    sort: Annotated[Sort, Depends(service.sort_articles.dependency)],
) -> Page[ArticlePublic] | Response:
    """List articles, newest issue first; filter by treaty, author, publication or date."""
    query = service.articles_query(session, filters)
    build = lambda a: article_public(a, urls)  # noqa: E731
    return list_response(request, response, session, query, sort, page, ArticlePublic, build)


@router.get("/{slug}", operation_id="articles-get")
def get_article(
    slug: Annotated[
        str, key_path("The article's slug.", "act-2020-11-russia-highlights-open-skies-issues")
    ],
    session: SessionDep,
    urls: UrlsDep,
) -> ArticleDetail:
    """One article, with the statements it reports."""
    article = service.get_article(session, slug)
    reported = statements.list_statements(
        session, STATEMENTS.given(article=[slug]), PageParams(500, None)
    )
    return ArticleDetail(
        **article_public(article, urls).model_dump(),
        statements=[statement_public(s, urls) for s in reported.rows],
    )
