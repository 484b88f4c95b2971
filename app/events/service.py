"""All the SQL for events: the dated timeline across treaties."""

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from app import models as m
from app.db import dialect_of
from app.errors import NotFound
from app.events.spec import EVENTS
from app.reads.spec import Plan

sort_events = EVENTS.sorts
OLDEST_FIRST = sort_events.default


def _with_relations(query: Select[Any]) -> Select[Any]:
    return query.options(
        selectinload(m.Event.sources),  # type: ignore[arg-type]
        selectinload(m.Event.country),  # type: ignore[arg-type]
        selectinload(m.Event.treaty),  # type: ignore[arg-type]
    )


def events_query(session: Session, plan: Plan) -> Select[Any]:
    """The events a plan of EVENTS reads, with their sources, country and treaty."""
    return _with_relations(plan.filtered(select(m.Event), dialect_of(session)))


def get_event(session: Session, event_id: str) -> m.Event:
    event = session.execute(_with_relations(select(m.Event).where(m.Event.id == event_id)))
    found: m.Event | None = event.scalars().first()
    if found is None:
        raise NotFound("event", event_id)
    return found
