"""HTTP endpoints for countries."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.countries import service
from app.countries.schemas import CountryDetail, CountryPublic, country_detail, country_public
from app.countries.spec import COUNTRIES
from app.dates import today
from app.db import SessionDep
from app.listing import list_response
from app.pagination import Page, PageDep, Sort
from app.reads.spec import Given
from app.treaties import service as treaties
from app.treaties.schemas import party_public
from app.treaties.status import role_on
from app.urls import UrlsDep, key_path

router = APIRouter(prefix="/countries", tags=["countries"])


@router.get("", operation_id="countries-list", response_model=Page[CountryPublic])
def list_countries(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    sort: Annotated[Sort, Depends(service.sort_countries.dependency)],
    filters: Annotated[Given, Depends(COUNTRIES.dependency())],
) -> Page[CountryPublic] | Response:
    """List states, by code."""
    plan = COUNTRIES.plan(filters, sort)
    query = service.countries_query(session, plan)
    build = lambda c: country_public(c, urls)  # noqa: E731
    return list_response(request, response, session, query, plan.sort, page, CountryPublic, build)


@router.get("/{code}", operation_id="countries-get")
def get_country(
    code: Annotated[str, key_path("ISO 3166-1 alpha-2 (ISO 3166-3 for a former state).", "RU")],
    session: SessionDep,
    urls: UrlsDep,
) -> CountryDetail:
    """One state, with its part in each treaty as of today."""
    country = service.get_country(session, code)
    rows = service.participation_of(session, country.code)
    day = today()
    dates = treaties.dates_of(session, [p.treaty for p in rows], day)
    parties = [party_public(p, role_on(p, day, dates[p.treaty_slug].status), urls) for p in rows]
    return country_detail(country, parties, urls)
