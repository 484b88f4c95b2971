"""All the SQL for people."""

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.db import dialect_of
from app.errors import NotFound
from app.people.spec import PEOPLE
from app.reads.spec import Plan

sort_people = PEOPLE.sorts


def _base() -> Select[Any]:
    return select(m.Person).options(
        selectinload(m.Person.aliases),  # type: ignore[arg-type]
        selectinload(m.Person.country),  # type: ignore[arg-type]
    )


def people_query(session: Session, plan: Plan) -> Select[Any]:
    """The people a plan of PEOPLE reads, with their spellings and country."""
    return plan.filtered(_base(), dialect_of(session))


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
