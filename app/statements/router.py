"""HTTP endpoints for statements."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from app.db import SessionDep, off_loop, one_row
from app.errors import InvalidParameter, NotFound
from app.json import JSONBytes
from app.pagination import Page, PageDep, Sort, version_memo
from app.reads import facets
from app.reads.facets import Facet, FacetedPage
from app.reads.spec import Given
from app.statements import read, service
from app.statements.lists import statement_list
from app.statements.schemas import StatementPublic
from app.statements.spec import STATEMENTS
from app.urls import Urls, UrlsDep, key_path

router = APIRouter(prefix="/statements", tags=["statements"])

statement_filters = STATEMENTS.dependency()
statement_facets = facets.parameter(STATEMENTS)


async def expansions(
    expand: Annotated[
        str | None,
        Query(description="Inline full related objects: speaker, article, treaties."),
    ] = None,
) -> tuple[str, ...]:
    names = tuple(name.strip() for name in (expand or "").split(",") if name.strip())
    unknown = sorted(set(names) - set(service.EXPANSIONS))
    if unknown:
        raise InvalidParameter(
            f"Cannot expand {', '.join(unknown)}; use {', '.join(service.EXPANSIONS)}."
        )
    return names


FiltersDep = Annotated[Given, Depends(statement_filters)]
SortDep = Annotated[Sort, Depends(service.sort_statements.dependency)]
ExpandDep = Annotated[tuple[str, ...], Depends(expansions)]
FacetsDep = Annotated[tuple[Facet, ...], Depends(statement_facets)]


@router.get("", operation_id="statements-list", response_model=FacetedPage[StatementPublic])
async def list_statements(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    filters: FiltersDep,
    page: PageDep,
    sort: SortDep,
    expand: ExpandDep,
    faceted: FacetsDep,
) -> Page[StatementPublic] | Response:
    """List statements, newest first, filtered by treaty, speaker, country, article or date,
    with counts by treaty, speaker, country, article or period when `facet` asks."""
    # Read from the filters' indexes (the count bounds a page's work), a JSON page is a
    # short read: on SQLite it runs on the loop, as a single row does (one_row). A search
    # ranks its matches, and a stream writes them all: the threadpool's.
    bounded = "q" not in filters and page.format == "json" and not faceted
    run = one_row if bounded else off_loop
    return await run(
        request, statement_list, request, response, session, urls, filters, page, sort, expand,
        faceted,
    )  # fmt: skip


def _one(session: Session, statement_id: str, urls: Urls, memo: read.Memo | None) -> Response:
    body = read.statement_json(session.get_bind().engine, statement_id, urls, memo)
    if body is None:
        raise NotFound("statement", statement_id)
    return JSONBytes(body)


@router.get("/{statement_id}", operation_id="statements-get", response_model=StatementPublic)
async def get_statement(
    request: Request,
    statement_id: Annotated[
        str, key_path("The statement's id.", "lavrov-2020-11-12-wait-until-the-dust-settles")
    ],
    session: SessionDep,
    urls: UrlsDep,
) -> Response:
    """One statement, with its speaker, article, treaties and sources."""
    return await one_row(request, _one, session, statement_id, urls, version_memo(request))
