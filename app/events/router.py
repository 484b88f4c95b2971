"""HTTP endpoints for events and the cross-treaty timeline."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.dates import Day
from app.db import SessionDep
from app.errors import InvalidParameter
from app.events import service
from app.filters import values
from app.listing import list_response
from app.pagination import Page, PageDep, Sort
from app.search.query import HELP as SEARCH_HELP
from app.treaties import service as treaties
from app.treaties.schemas import EventPublic, event_public
from app.urls import UrlsDep, key_path

router = APIRouter(tags=["events"])


async def event_filters(
    treaty: Annotated[
        list[str] | None, Query(description="Treaty slug(s).", examples=["open-skies"])
    ] = None,
    type: Annotated[
        list[str] | None, Query(description="Event type(s).", examples=["withdrawal_effective"])
    ] = None,
    country: Annotated[
        list[str] | None, Query(description="Code(s) of the state acting.", examples=["US"])
    ] = None,
    since: Annotated[
        Day | None, Query(description="On or after (periods overlap).", examples=["2019-01-01"])
    ] = None,
    until: Annotated[
        Day | None,
        Query(description="On or before (periods overlap).", examples=["2021-12-31"]),
    ] = None,
    q: Annotated[str | None, Query(description=SEARCH_HELP, examples=["verif*"])] = None,
) -> service.EventFilters:
    if since and until and since > until:
        raise InvalidParameter(f"since ({since}) is after until ({until}).")
    return service.EventFilters(
        treaties=values(treaty),
        types=values(type),
        countries=[code.upper() for code in values(country)],
        since=since,
        until=until,
        q=q,
    )


FiltersDep = Annotated[service.EventFilters, Depends(event_filters)]
SortDep = Annotated[Sort, Depends(service.sort_events.dependency)]


def _events(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    filters: FiltersDep,
    sort: SortDep,
) -> Page[EventPublic] | Response:
    query = service.events_query(session, filters)
    competing = treaties.competing_index(session, "events")
    build = lambda e: event_public(e, urls, competing.get(e.id))  # noqa: E731
    return list_response(request, response, session, query, sort, page, EventPublic, build)


router.add_api_route(
    "/events",
    _events,
    methods=["GET"],
    operation_id="events-list",
    response_model=Page[EventPublic],
    description="Dated events across treaties, oldest first; filter by treaty, type, "
    "country or date.",
)
router.add_api_route(
    "/timeline",
    _events,
    methods=["GET"],
    operation_id="events-timeline",
    response_model=Page[EventPublic],
    description="The timeline a chart is drawn from: every treaty's dated events in date "
    "order, each with its treaty, precision and sources (the same filters as /events).",
)


@router.get("/events/{event_id}", operation_id="events-get")
def get_event(
    event_id: Annotated[str, key_path("The event's id.", "new-start-extension")],
    session: SessionDep,
    urls: UrlsDep,
) -> EventPublic:
    """One event with its treaty, country and sources."""
    competing = treaties.competing_index(session, "events").get(event_id)
    return event_public(service.get_event(session, event_id), urls, competing)
