"""All the SQL for people."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.errors import NotFound
from app.pagination import PageParams, Slice, fetch_page


def _base() -> Select[Any]:
    return select(m.Person).options(
        selectinload(m.Person.aliases),  # type: ignore[arg-type]
        selectinload(m.Person.country),  # type: ignore[arg-type]
    )


def list_people(
    session: Session, page: PageParams, *, countries: Sequence[str] = (), name: str | None = None
) -> Slice:
    query = _base()
    if countries:
        query = query.where(col(m.Person.country_code).in_(countries))
    if name:
        pattern = f"%{name.lower()}%"
        aliases = select(m.PersonAlias.person_slug).where(
            func.lower(m.PersonAlias.name).like(pattern)
        )
        query = query.where(
            or_(func.lower(m.Person.name).like(pattern), col(m.Person.slug).in_(aliases))
        )
    return fetch_page(session, query, ((m.Person.slug, False),), page)


def get_person(session: Session, slug: str) -> m.Person:
    query = _base().options(
        selectinload(m.Person.sources),  # type: ignore[arg-type]
        selectinload(m.Person.positions).selectinload(m.Position.sources),  # type: ignore[arg-type]
        selectinload(m.Person.positions).selectinload(m.Position.country),  # type: ignore[arg-type]
    )
    person = session.exec(query.where(m.Person.slug == slug)).first()  # type: ignore[call-overload]
    if person is None:
        raise NotFound("person", slug)
    return person  # type: ignore[no-any-return]
