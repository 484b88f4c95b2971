"""HTTP endpoints for people."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.db import SessionDep
from app.filters import values
from app.pagination import Page, PageDep, envelope
from app.people import service
from app.people.schemas import PersonDetail, PersonPublic, person_detail, person_public
from app.statements import service as statements
from app.statements.router import statement_page
from app.statements.schemas import StatementPublic
from app.urls import UrlsDep

router = APIRouter(prefix="/people", tags=["people"])


@router.get("", operation_id="people-list")
def list_people(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    country: Annotated[list[str] | None, Query(description="Country code(s).")] = None,
    name: Annotated[
        str | None, Query(description="Part of a name or any alternative spelling.")
    ] = None,
) -> Page[PersonPublic]:
    """List officials, by slug; filter by country or by (part of) a name or spelling."""
    countries = [c.upper() for c in values(country)]
    part = service.list_people(session, page, countries=countries, name=name)
    return envelope(request, response, part, [person_public(p, urls) for p in part.rows])


@router.get("/{slug}", operation_id="people-get")
def get_person(slug: str, session: SessionDep, urls: UrlsDep) -> PersonDetail:
    """One person, with alternative spellings and positions held."""
    return person_detail(service.get_person(session, slug), urls)


@router.get("/{slug}/statements", operation_id="people-statements")
def person_statements(
    slug: str,
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
) -> Page[StatementPublic]:
    """The person's statements, newest first."""
    service.get_person(session, slug)
    filters = statements.StatementFilters(speakers=[slug])
    part = statements.list_statements(session, filters, page)
    return statement_page(request, response, part, urls)
