"""All the SQL for people."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.db import dialect_of
from app.errors import NotFound
from app.pagination import sort_param
from app.search.service import matching_keys

SORTS = {"name": m.Person.name, "slug": m.Person.slug}
sort_people = sort_param(SORTS, m.Person.slug, "slug")


@dataclass(frozen=True)
class PeopleFilters:
    countries: Sequence[str] = ()
    organizations: Sequence[str] = ()
    q: str | None = None


def _base() -> Select[Any]:
    return select(m.Person).options(
        selectinload(m.Person.aliases),  # type: ignore[arg-type]
        selectinload(m.Person.country),  # type: ignore[arg-type]
    )


def people_query(session: Session, filters: PeopleFilters) -> Select[Any]:
    query = _base()
    if filters.countries:
        query = query.where(col(m.Person.country_code).in_(filters.countries))
    if filters.organizations:
        held = select(m.Position.person_slug).where(
            col(m.Position.organization).in_(filters.organizations)
        )
        query = query.where(col(m.Person.slug).in_(held))
    if filters.q:
        query = query.where(
            col(m.Person.slug).in_(matching_keys(dialect_of(session), "person", filters.q))
        )
    return query


def canonical_slug(session: Session, slug: str) -> str:
    """The person's slug, also when asked by an alternative spelling's slug."""
    if session.get(m.Person, slug) is not None:
        return slug
    alias = session.exec(select(m.PersonAlias).where(m.PersonAlias.slug == slug)).first()
    if alias is None:
        raise NotFound("person", slug)
    return alias.person_slug


def get_person(session: Session, slug: str) -> m.Person:
    query = _base().options(
        selectinload(m.Person.sources),  # type: ignore[arg-type]
        selectinload(m.Person.positions).selectinload(m.Position.sources),  # type: ignore[arg-type]
        selectinload(m.Person.positions).selectinload(m.Position.country),  # type: ignore[arg-type]
    )
    person: m.Person | None = (
        session.execute(query.where(col(m.Person.slug) == slug)).scalars().first()
    )
    if person is None:
        raise NotFound("person", slug)
    return person
