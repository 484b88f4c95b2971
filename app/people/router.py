"""HTTP endpoints for people."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.dates import today
from app.db import SessionDep
from app.filters import OnQuery
from app.listing import list_response
from app.pagination import Page, PageDep, Sort
from app.people import service
from app.people.schemas import PersonDetail, PersonPublic, person_detail, person_public
from app.people.spec import PEOPLE
from app.reads import facets
from app.reads.facets import Facet, FacetedPage
from app.reads.spec import Given
from app.statements.lists import statement_list
from app.statements.schemas import StatementPublic
from app.statements.spec import STATEMENTS
from app.urls import UrlsDep, canonical_only

router = APIRouter(prefix="/people", tags=["people"])


Slug = Annotated[str, Depends(canonical_only(service.canonical_slug, "person", "sergei-lavrov"))]


@router.get("", operation_id="people-list", response_model=FacetedPage[PersonPublic])
def list_people(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    sort: Annotated[Sort, Depends(service.sort_people.dependency)],
    filters: Annotated[Given, Depends(PEOPLE.dependency())],
    faceted: Annotated[tuple[Facet, ...], Depends(facets.parameter(PEOPLE))],
) -> Page[PersonPublic] | Response:
    """List officials; filter by country, organisation, or (part of) a name or spelling."""
    plan = PEOPLE.plan(filters, sort)
    query = service.people_query(session, plan)
    build = lambda p: person_public(p, urls)  # noqa: E731
    return list_response(
        request,
        response,
        session,
        query,
        plan.sort,
        page,
        PersonPublic,
        build,
        facets=facets.counter(request, session, PEOPLE, filters, faceted),
    )


@router.get("/{slug}", operation_id="people-get")
def get_person(slug: Slug, session: SessionDep, urls: UrlsDep, on: OnQuery = None) -> PersonDetail:
    """One person, with alternative spellings and positions held (and whether on a day)."""
    return person_detail(service.get_person(session, slug), on or today(), urls)


@router.get(
    "/{slug}/statements", operation_id="people-statements", response_model=Page[StatementPublic]
)
def person_statements(
    slug: Slug,
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
) -> Page[StatementPublic] | Response:
    """The person's statements, newest first."""
    filters = STATEMENTS.given(speaker=[slug])
    return statement_list(request, response, session, urls, filters, page)
