"""HTTP endpoints for treaties and what hangs off them."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from app import models as m
from app.articles import service as articles
from app.articles.schemas import ArticlePublic, article_public
from app.articles.spec import ARTICLES
from app.dates import today
from app.db import SessionDep, off_loop
from app.errors import PermanentRedirect
from app.events import service as events
from app.events.spec import EVENTS
from app.filters import OnQuery, values
from app.listing import list_response, whole_response
from app.pagination import Page, PageDep, Sort
from app.schemas import CountryRef, TreatyRef, sources_of
from app.statements.lists import statement_list
from app.statements.schemas import StatementPublic
from app.statements.spec import STATEMENTS
from app.treaties import service
from app.treaties.schemas import (
    EventPublic,
    LimitPublic,
    PartyPublic,
    StatusPublic,
    SuspensionPublic,
    TreatyDetail,
    TreatyPublic,
    competing_public,
    event_public,
    limit_public,
    party_public,
    treaty_public,
)
from app.treaties.status import Role, Status, days_until, role_on, treaty_dates
from app.urls import Urls, UrlsDep, canonical_only, moved, slug_path

router = APIRouter(prefix="/treaties", tags=["treaties"])


Slug = Annotated[str, Depends(canonical_only(service.canonical_slug, "treaty", "new-start"))]


@router.get("", operation_id="treaties-list", response_model=Page[TreatyPublic])
def list_treaties(
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    kind: Annotated[
        list[str] | None, Query(description="bilateral or multilateral", examples=["bilateral"])
    ] = None,
    status: Annotated[
        list[Status] | None, Query(description="Status on `on`.", examples=["in_force"])
    ] = None,
    party: Annotated[
        list[str] | None,
        Query(description="Code(s) of states that were parties on `on`.", examples=["US"]),
    ] = None,
    on: OnQuery = None,
) -> Page[TreatyPublic] | Response:
    """List treaties with their dates and status, derived from their events."""
    day = on or today()
    treaties = service.list_treaties(session, kinds=values(kind))
    dates = service.dates_of(session, treaties, day)
    if status:
        treaties = [t for t in treaties if dates[t.slug].status in status]
    if party:
        members = service.parties_on(session, [t.slug for t in treaties], day)
        wanted = {c.upper() for c in values(party)}
        treaties = [t for t in treaties if wanted & members.get(t.slug, set())]
    items = [treaty_public(t, dates[t.slug], urls) for t in treaties]
    return whole_response(page, TreatyPublic, items)


@router.get("/{slug}", operation_id="treaties-get", response_model=TreatyDetail)
async def get_treaty(
    request: Request,
    slug: Annotated[str, slug_path("treaty", "new-start")],
    session: SessionDep,
    urls: UrlsDep,
) -> Response:
    """One treaty with its limits, parties (roles as of today) and sources."""
    body = await off_loop(request, _treaty_body, request, session, slug, urls)
    return Response(body, media_type="application/json")


def _treaty_body(request: Request, session: Session, slug: str, urls: Urls) -> bytes:
    canonical = service.canonical_slug(session, slug)
    if canonical != slug:
        raise PermanentRedirect(moved(request, slug, canonical))
    return _treaty_detail(session, slug, urls).model_dump_json().encode()


def _treaty_detail(session: Session, slug: str, urls: Urls) -> TreatyDetail:
    treaty = service.get_treaty(session, slug)
    day = today()
    dates = service.dates_of(session, [treaty], day)[slug]
    return TreatyDetail(
        **treaty_public(treaty, dates, urls).model_dump(),
        duration=treaty.duration,
        extension_terms=treaty.extension_terms,
        depositary=treaty.depositary,
        summary=treaty.summary,
        aliases=[a.slug for a in treaty.aliases],
        limits=_limits(session, slug, urls),
        parties=_parties(session, slug, day, dates.status, urls),
        competing_values=competing_public(
            service.competing_index(session, "treaties").get(slug, []), urls
        ),
        sources=sources_of(treaty.sources, urls),
    )


def _limits(session: SessionDep, slug: str, urls: Urls) -> list[LimitPublic]:
    competing = service.competing_index(session, "limits")
    rows = service.list_limits(session, treaty=slug)
    return [limit_public(x, urls, competing.get(x.slug)) for x in rows]


def _parties(
    session: SessionDep, slug: str, day: dt.date, status: Status, urls: Urls
) -> list[PartyPublic]:
    competing = service.competing_index(session, "participation")
    return [
        party_public(p, role_on(p, day, status), urls, competing.get(f"{slug}/{p.country_code}"))
        for p in service.list_parties(session, treaty=slug)
    ]


@router.get("/{slug}/limits", operation_id="treaties-limits", response_model=Page[LimitPublic])
def treaty_limits(
    slug: Slug, session: SessionDep, urls: UrlsDep, page: PageDep
) -> Page[LimitPublic] | Response:
    """The treaty's numeric limits, each with what counts and its sources (all of them)."""
    return whole_response(page, LimitPublic, _limits(session, slug, urls))


@router.get("/{slug}/parties", operation_id="treaties-parties", response_model=Page[PartyPublic])
def treaty_parties(
    slug: Slug, session: SessionDep, urls: UrlsDep, page: PageDep, on: OnQuery = None
) -> Page[PartyPublic] | Response:
    """Every state with a part in the treaty, its dates, and its role on `on` (all of them)."""
    treaty = service.get_treaty(session, slug)
    day = on or today()
    status = service.dates_of(session, [treaty], day)[slug].status
    return whole_response(page, PartyPublic, _parties(session, slug, day, status, urls))


@router.get("/{slug}/events", operation_id="treaties-events", response_model=Page[EventPublic])
def treaty_events(
    slug: Slug,
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    sort: Annotated[Sort, Depends(events.sort_events.dependency)],
    type: Annotated[list[str] | None, Query(description="Event type(s).")] = None,
) -> Page[EventPublic] | Response:
    """The treaty's dated timeline, oldest first."""
    plan = EVENTS.plan(EVENTS.given(treaty=[slug], type=type), sort)
    query = events.events_query(session, plan)
    competing = service.competing_index(session, "events")
    build = lambda e: event_public(e, urls, competing.get(e.id))  # noqa: E731
    return list_response(request, response, session, query, plan.sort, page, EventPublic, build)


@router.get(
    "/{slug}/statements", operation_id="treaties-statements", response_model=Page[StatementPublic]
)
def treaty_statements(
    slug: Slug,
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
) -> Page[StatementPublic] | Response:
    """Statements about the treaty, newest first."""
    filters = STATEMENTS.given(treaty=[slug])
    return statement_list(request, response, session, urls, filters, page)


@router.get(
    "/{slug}/articles", operation_id="treaties-articles", response_model=Page[ArticlePublic]
)
def treaty_articles(
    slug: Slug,
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
) -> Page[ArticlePublic] | Response:
    """Articles covering the treaty, newest first."""
    plan = ARTICLES.plan(ARTICLES.given(treaty=[slug]), articles.NEWEST_FIRST)
    query = articles.articles_query(session, plan)
    build = lambda a: article_public(a, urls)  # noqa: E731
    return list_response(request, response, session, query, plan.sort, page, ArticlePublic, build)


@router.get("/{slug}/status", operation_id="treaties-status")
def treaty_status(
    slug: Slug, session: SessionDep, urls: UrlsDep, on: OnQuery = None
) -> StatusPublic:
    """Where the treaty stood on a day: status, expiry then, days left, parties then."""
    treaty = service.get_treaty(session, slug)
    day = on or today()
    dates = treaty_dates(treaty, service.events_by_treaty(session, [slug]).get(slug, []), day)
    rows = service.list_parties(session, treaty=slug)
    parties = [
        party_public(p, role, urls)
        for p in rows
        if (role := role_on(p, day, dates.status)) == Role.party
    ]
    in_force = dates.status == Status.in_force
    return StatusPublic(
        treaty=TreatyRef.of(treaty, urls),
        on=day,
        status=dates.status,
        signed_on=dates.signed_on,
        entered_into_force_on=dates.entered_into_force_on,
        expires_on=dates.expires_on,
        ended_on=dates.ended_on,
        days_until_expiry=days_until(dates.expires_on, day) if in_force else None,
        suspensions=[_suspension(e, urls) for e in dates.suspensions],
        party_count=len(parties),
        parties=parties,
        parties_date_unknown=[p.country.code for p in parties if p.party_date_unknown],
    )


def _suspension(event: m.Event, urls: Urls) -> SuspensionPublic:
    country = CountryRef.of(event.country, urls) if event.country else None
    return SuspensionPublic(country=country, date=event.date, event=event.id)
