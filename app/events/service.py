"""All the SQL for events: the dated timeline across treaties."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.db import dialect_of
from app.errors import NotFound
from app.filters import on_or_after, on_or_before
from app.pagination import sort_param
from app.search.service import matching_keys

SORTS = {"date": m.Event.date, "id": m.Event.id}
sort_events = sort_param(SORTS, m.Event.id, "date")
OLDEST_FIRST = sort_events.default


@dataclass(frozen=True)
class EventFilters:
    treaties: Sequence[str] = ()
    types: Sequence[str] = ()
    countries: Sequence[str] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    q: str | None = None


def _with_relations(query: Select[Any]) -> Select[Any]:
    return query.options(
        selectinload(m.Event.sources),  # type: ignore[arg-type]
        selectinload(m.Event.country),  # type: ignore[arg-type]
        selectinload(m.Event.treaty),  # type: ignore[arg-type]
    )


def events_query(session: Session, f: EventFilters) -> Select[Any]:
    query = select(m.Event)
    if f.q:
        query = query.where(col(m.Event.id).in_(matching_keys(dialect_of(session), "event", f.q)))
    if f.treaties:
        query = query.where(col(m.Event.treaty_slug).in_(f.treaties))
    if f.types:
        query = query.where(col(m.Event.type).in_(f.types))
    if f.countries:
        query = query.where(col(m.Event.country_code).in_(f.countries))
    if f.since:
        query = query.where(on_or_after(m.Event.date, f.since))
    if f.until:
        query = query.where(on_or_before(m.Event.date, f.until))
    return _with_relations(query)


def get_event(session: Session, event_id: str) -> m.Event:
    event = session.execute(_with_relations(select(m.Event).where(m.Event.id == event_id)))
    found: m.Event | None = event.scalars().first()
    if found is None:
        raise NotFound("event", event_id)
    return found
