"""HTTP endpoints for articles."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.articles import service
from app.articles.schemas import ArticleDetail, ArticlePublic, article_public
from app.articles.spec import ARTICLES
from app.db import SessionDep
from app.json import JSONBytes, dumps
from app.listing import list_response
from app.pagination import Page, PageDep, Sort
from app.reads import facets
from app.reads.facets import Facet, FacetedPage
from app.reads.spec import Given
from app.statements.lists import reported_in
from app.urls import UrlsDep, key_path

router = APIRouter(prefix="/articles", tags=["articles"])


FiltersDep = Annotated[Given, Depends(ARTICLES.dependency())]
SortDep = Annotated[Sort, Depends(service.sort_articles.dependency)]


@router.get("", operation_id="articles-list", response_model=FacetedPage[ArticlePublic])
def list_articles(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    filters: FiltersDep,
    sort: SortDep,
    faceted: Annotated[tuple[Facet, ...], Depends(facets.parameter(ARTICLES))],
) -> Page[ArticlePublic] | Response:
    """List articles, newest issue first; filter by treaty, author, publication or date."""
    plan = ARTICLES.plan(filters, sort)
    query = service.articles_query(session, plan)
    build = lambda a: article_public(a, urls)  # noqa: E731
    return list_response(
        request,
        response,
        session,
        query,
        plan.sort,
        page,
        ArticlePublic,
        build,
        facets=facets.counter(request, session, ARTICLES, filters, faceted),
    )


@router.get("/{slug}", operation_id="articles-get", response_model=ArticleDetail)
def get_article(
    slug: Annotated[
        str, key_path("The article's slug.", "act-2020-11-russia-highlights-open-skies-issues")
    ],
    session: SessionDep,
    urls: UrlsDep,
) -> Response:
    """One article, with the statements it reports."""
    article = article_public(service.get_article(session, slug), urls).model_dump(mode="json")
    return JSONBytes(dumps({**article, "statements": reported_in(session, slug, urls)}))
