"""HTTP endpoints for statements."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.db import SessionDep
from app.errors import InvalidParameter
from app.filters import values
from app.pagination import Page, PageDep, Slice, envelope
from app.statements import service
from app.statements.schemas import StatementPublic, statement_public
from app.urls import Urls, UrlsDep

router = APIRouter(prefix="/statements", tags=["statements"])

DATE_RULE = "A statement dated only to a month or year matches when its period overlaps the range."


def statement_filters(
    treaty: Annotated[
        list[str] | None, Query(description="Treaty slug(s); repeat or comma-separate.")
    ] = None,
    speaker: Annotated[list[str] | None, Query(description="Speaker person slug(s).")] = None,
    country: Annotated[
        list[str] | None, Query(description="Code(s) of the speaker's country at the time.")
    ] = None,
    article: Annotated[list[str] | None, Query(description="Reporting article slug(s).")] = None,
    since: Annotated[dt.date | None, Query(description=f"On or after. {DATE_RULE}")] = None,
    until: Annotated[dt.date | None, Query(description=f"On or before. {DATE_RULE}")] = None,
) -> service.StatementFilters:
    if since and until and since > until:
        raise InvalidParameter(f"since ({since}) is after until ({until}).")
    return service.StatementFilters(
        treaties=values(treaty),
        speakers=values(speaker),
        countries=[code.upper() for code in values(country)],
        articles=values(article),
        since=since,
        until=until,
    )


FiltersDep = Annotated[service.StatementFilters, Depends(statement_filters)]


def statement_page(
    request: Request,
    response: Response,
    part: Slice,
    urls: Urls,
) -> Page[StatementPublic]:
    return envelope(request, response, part, [statement_public(s, urls) for s in part.rows])


@router.get("", operation_id="statements-list")
def list_statements(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    filters: FiltersDep,
    page: PageDep,
) -> Page[StatementPublic]:
    """List statements, newest first, filtered by treaty, speaker, country, article or date."""
    part = service.list_statements(session, filters, page)
    return statement_page(request, response, part, urls)


@router.get("/{statement_id}", operation_id="statements-get")
def get_statement(statement_id: str, session: SessionDep, urls: UrlsDep) -> StatementPublic:
    """One statement, with its speaker, article, treaties and sources."""
    return statement_public(service.get_statement(session, statement_id), urls)
