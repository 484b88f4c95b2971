"""All the SQL for treaties: lists, details, limits, events, parties and status."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.errors import NotFound
from app.treaties.status import Role, TreatyDates, role_on, treaty_dates


def get_treaty(session: Session, slug: str) -> m.Treaty:
    treaty = session.exec(
        select(m.Treaty)
        .where(m.Treaty.slug == slug)
        .options(
            selectinload(m.Treaty.sources),  # type: ignore[arg-type]
            selectinload(m.Treaty.aliases),  # type: ignore[arg-type]
        )
    ).first()
    if treaty is None:
        raise NotFound("treaty", slug)
    return treaty


def canonical_slug(session: Session, slug: str) -> str:
    """The treaty's slug, also when asked by a former or alternative slug."""
    if session.get(m.Treaty, slug) is not None:
        return slug
    alias = session.get(m.TreatyAlias, slug)
    if alias is None:
        raise NotFound("treaty", slug)
    return alias.treaty_slug


def list_treaties(session: Session, *, kinds: Sequence[str] = ()) -> list[m.Treaty]:
    query = select(m.Treaty).order_by(m.Treaty.slug)
    if kinds:
        query = query.where(col(m.Treaty.kind).in_(kinds))
    return list(session.exec(query))


def events_by_treaty(session: Session, slugs: Sequence[str]) -> dict[str, list[m.Event]]:
    query = (
        select(m.Event)
        .where(col(m.Event.treaty_slug).in_(slugs))
        .options(selectinload(m.Event.country))  # type: ignore[arg-type]
    )
    grouped: dict[str, list[m.Event]] = defaultdict(list)
    for event in session.exec(query):
        grouped[event.treaty_slug].append(event)
    return grouped


def dates_of(session: Session, treaties: list[m.Treaty], day: dt.date) -> dict[str, TreatyDates]:
    events = events_by_treaty(session, [t.slug for t in treaties])
    return {t.slug: treaty_dates(t, events.get(t.slug, []), day) for t in treaties}


def all_dates(session: Session, day: dt.date) -> dict[str, TreatyDates]:
    return dates_of(session, list_treaties(session), day)


def list_limits(session: Session, *, treaty: str) -> list[m.Limit]:
    query = (
        select(m.Limit)
        .where(m.Limit.treaty_slug == treaty)
        .options(
            selectinload(m.Limit.sources),  # type: ignore[arg-type]
            selectinload(m.Limit.treaty),  # type: ignore[arg-type]
        )
        .order_by(m.Limit.slug)
    )
    return list(session.exec(query))


def list_parties(session: Session, *, treaty: str) -> list[m.Participation]:
    query = (
        select(m.Participation)
        .where(m.Participation.treaty_slug == treaty)
        .options(
            selectinload(m.Participation.sources),  # type: ignore[arg-type]
            selectinload(m.Participation.country),  # type: ignore[arg-type]
            selectinload(m.Participation.treaty),  # type: ignore[arg-type]
        )
        .order_by(m.Participation.country_code)
    )
    return list(session.exec(query))


def parties_on(session: Session, slugs: Sequence[str], day: dt.date) -> dict[str, set[str]]:
    """Country codes that were parties to each treaty on `day`."""
    treaties = list(session.exec(select(m.Treaty).where(col(m.Treaty.slug).in_(slugs))))
    dates = dates_of(session, treaties, day)
    query = select(m.Participation).where(col(m.Participation.treaty_slug).in_(slugs))
    members: dict[str, set[str]] = defaultdict(set)
    for p in session.exec(query):
        if role_on(p, day, dates[p.treaty_slug].status) == Role.party:
            members[p.treaty_slug].add(p.country_code)
    return members


def competing_index(session: Session, resource: str) -> dict[str, list[m.CompetingValue]]:
    """Every competing value of one resource, by record key: few by nature, one query."""
    query = (
        select(m.CompetingValue)
        .where(m.CompetingValue.resource == resource)
        .options(selectinload(m.CompetingValue.source))  # type: ignore[arg-type]
        .order_by(col(m.CompetingValue.field), col(m.CompetingValue.source_slug))
    )
    grouped: dict[str, list[m.CompetingValue]] = defaultdict(list)
    for row in session.exec(query):
        grouped[row.key].append(row)
    return grouped
