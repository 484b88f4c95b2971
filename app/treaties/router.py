"""HTTP endpoints for treaties and what hangs off them."""

import datetime as dt
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request, Response

from app import models as m
from app.articles import service as articles
from app.articles.schemas import ArticlePublic, article_public
from app.dates import today
from app.db import SessionDep
from app.filters import values
from app.pagination import Page, PageDep, envelope
from app.schemas import CountryRef, TreatyRef, sources_of
from app.statements import service as statements
from app.statements.router import statement_page
from app.statements.schemas import StatementPublic
from app.treaties import service
from app.treaties.schemas import (
    EventPublic,
    LimitPublic,
    PartyPublic,
    StatusPublic,
    SuspensionPublic,
    TreatyDetail,
    TreatyPublic,
    event_public,
    limit_public,
    party_public,
    treaty_public,
)
from app.treaties.status import Role, Status, days_until, role_on, treaty_dates
from app.urls import UrlsDep

router = APIRouter(prefix="/treaties", tags=["treaties"])

T = TypeVar("T")
OnQuery = Annotated[
    dt.date | None, Query(description="The day to evaluate (YYYY-MM-DD); default today (UTC).")
]


def whole(items: list[T]) -> Page[T]:
    return Page[T](items=items, total=len(items), next=None)


@router.get("", operation_id="treaties-list")
def list_treaties(
    session: SessionDep,
    urls: UrlsDep,
    kind: Annotated[list[str] | None, Query(description="bilateral and/or multilateral")] = None,
    status: Annotated[list[Status] | None, Query(description="Status on `on`.")] = None,
    party: Annotated[
        list[str] | None, Query(description="Country code(s) that were parties on `on`.")
    ] = None,
    on: OnQuery = None,
) -> Page[TreatyPublic]:
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
    return whole([treaty_public(t, dates[t.slug], urls) for t in treaties])


@router.get("/{slug}", operation_id="treaties-get")
def get_treaty(slug: str, session: SessionDep, urls: UrlsDep) -> TreatyDetail:
    """One treaty with its limits, parties (roles as of today) and sources."""
    treaty = service.get_treaty(session, slug)
    day = today()
    dates = service.dates_of(session, [treaty], day)[slug]
    parties = [
        party_public(p, role_on(p, day, dates.status), urls)
        for p in service.list_parties(session, treaty=slug)
    ]
    return TreatyDetail(
        **treaty_public(treaty, dates, urls).model_dump(),
        duration=treaty.duration,
        extension_terms=treaty.extension_terms,
        depositary=treaty.depositary,
        summary=treaty.summary,
        limits=[limit_public(x, urls) for x in service.list_limits(session, treaty=slug)],
        parties=parties,
        sources=sources_of(treaty.sources, urls),
    )


@router.get("/{slug}/limits", operation_id="treaties-limits")
def treaty_limits(slug: str, session: SessionDep, urls: UrlsDep) -> Page[LimitPublic]:
    """The treaty's numeric limits, each with what counts and its sources (all of them)."""
    service.get_treaty(session, slug)
    return whole([limit_public(x, urls) for x in service.list_limits(session, treaty=slug)])


@router.get("/{slug}/parties", operation_id="treaties-parties")
def treaty_parties(
    slug: str, session: SessionDep, urls: UrlsDep, on: OnQuery = None
) -> Page[PartyPublic]:
    """Every state with a part in the treaty, its dates, and its role on `on` (all of them)."""
    treaty = service.get_treaty(session, slug)
    day = on or today()
    status = service.dates_of(session, [treaty], day)[slug].status
    rows = service.list_parties(session, treaty=slug)
    return whole([party_public(p, role_on(p, day, status), urls) for p in rows])


@router.get("/{slug}/events", operation_id="treaties-events")
def treaty_events(
    slug: str,
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    type: Annotated[list[str] | None, Query(description="Event type(s).")] = None,
) -> Page[EventPublic]:
    """The treaty's dated timeline, oldest first."""
    service.get_treaty(session, slug)
    query = service.events_query(treaties=[slug], types=values(type))
    part = service.page_events(session, query, page)
    return envelope(request, response, part, [event_public(e, urls) for e in part.rows])


@router.get("/{slug}/statements", operation_id="treaties-statements")
def treaty_statements(
    slug: str,
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
) -> Page[StatementPublic]:
    """Statements about the treaty, newest first."""
    service.get_treaty(session, slug)
    filters = statements.StatementFilters(treaties=[slug])
    return statement_page(
        request, response, statements.list_statements(session, filters, page), urls
    )


@router.get("/{slug}/articles", operation_id="treaties-articles")
def treaty_articles(
    slug: str,
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
) -> Page[ArticlePublic]:
    """Articles covering the treaty, newest first."""
    service.get_treaty(session, slug)
    part = articles.list_articles(session, articles.ArticleFilters(treaties=[slug]), page)
    return envelope(request, response, part, [article_public(a, urls) for a in part.rows])


@router.get("/{slug}/status", operation_id="treaties-status")
def treaty_status(
    slug: str, session: SessionDep, urls: UrlsDep, on: OnQuery = None
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
    return StatusPublic(
        treaty=TreatyRef.of(treaty, urls),
        on=day,
        status=dates.status,
        signed_on=dates.signed_on,
        entered_into_force_on=dates.entered_into_force_on,
        expires_on=dates.expires_on,
        ended_on=dates.ended_on,
        days_until_expiry=days_until(dates.expires_on, day)
        if dates.status == Status.in_force
        else None,
        suspensions=[_suspension(e, urls) for e in dates.suspensions],
        party_count=len(parties),
        parties=parties,
    )


def _suspension(event: m.Event, urls: UrlsDep) -> SuspensionPublic:
    country = CountryRef.of(event.country, urls) if event.country else None
    return SuspensionPublic(country=country, date=event.date, event=event.id)
