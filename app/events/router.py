"""HTTP endpoints for events and the cross-treaty timeline."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.db import SessionDep
from app.events import service
from app.events.spec import EVENTS
from app.listing import list_response
from app.pagination import Page, PageDep, Sort
from app.reads import facets
from app.reads.facets import Facet, FacetedPage
from app.reads.spec import Given
from app.treaties import service as treaties
from app.treaties.schemas import EventPublic, event_public
from app.urls import UrlsDep, key_path

router = APIRouter(tags=["events"])


FiltersDep = Annotated[Given, Depends(EVENTS.dependency())]
SortDep = Annotated[Sort, Depends(service.sort_events.dependency)]


def _events(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    page: PageDep,
    filters: FiltersDep,
    sort: SortDep,
    faceted: Annotated[tuple[Facet, ...], Depends(facets.parameter(EVENTS))],
) -> Page[EventPublic] | Response:
    plan = EVENTS.plan(filters, sort)
    query = service.events_query(session, plan)
    competing = treaties.competing_index(session, "events")
    build = lambda e: event_public(e, urls, competing.get(e.id))  # noqa: E731
    return list_response(
        request,
        response,
        session,
        query,
        plan.sort,
        page,
        EventPublic,
        build,
        facets=facets.counter(request, session, EVENTS, filters, faceted),
    )


router.add_api_route(
    "/events",
    _events,
    methods=["GET"],
    operation_id="events-list",
    response_model=FacetedPage[EventPublic],
    description="Dated events across treaties, oldest first; filter by treaty, type, "
    "country or date.",
)
router.add_api_route(
    "/timeline",
    _events,
    methods=["GET"],
    operation_id="events-timeline",
    response_model=FacetedPage[EventPublic],
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
