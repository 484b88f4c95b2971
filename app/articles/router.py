"""HTTP endpoints for articles."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.articles import service
from app.articles.schemas import ArticleDetail, ArticlePublic, article_public
from app.db import SessionDep
from app.errors import InvalidParameter
from app.filters import values
from app.pagination import Page, PageDep, PageParams, envelope
from app.statements import service as statements
from app.statements.schemas import statement_public
from app.urls import UrlsDep

router = APIRouter(prefix="/articles", tags=["articles"])


def article_filters(
    treaty: Annotated[list[str] | None, Query(description="Treaty slug(s) covered.")] = None,
    author: Annotated[
        list[str] | None, Query(description="Author slug(s), e.g. kingston-reif.")
    ] = None,
    publication: Annotated[
        list[str] | None, Query(description="Publication name(s), e.g. Arms Control Today.")
    ] = None,
    since: Annotated[dt.date | None, Query(description="Issue date on or after.")] = None,
    until: Annotated[dt.date | None, Query(description="Issue date on or before.")] = None,
) -> service.ArticleFilters:
    if since and until and since > until:
        raise InvalidParameter(f"since ({since}) is after until ({until}).")
    return service.ArticleFilters(
        treaties=values(treaty),
        authors=values(author),
        publications=values(publication),
        since=since,
        until=until,
    )


@router.get("", operation_id="articles-list")
def list_articles(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    filters: Annotated[service.ArticleFilters, Depends(article_filters)],
) -> Page[ArticlePublic]:
    """List articles, newest issue first; filter by treaty, author, publication or date."""
    part = service.list_articles(session, filters, page)
    return envelope(request, response, part, [article_public(a, urls) for a in part.rows])


@router.get("/{slug}", operation_id="articles-get")
def get_article(slug: str, session: SessionDep, urls: UrlsDep) -> ArticleDetail:
    """One article, with the statements it reports."""
    article = service.get_article(session, slug)
    reported = statements.list_statements(
        session, statements.StatementFilters(articles=[slug]), PageParams(500, None)
    )
    return ArticleDetail(
        **article_public(article, urls).model_dump(),
        statements=[statement_public(s, urls) for s in reported.rows],
    )
