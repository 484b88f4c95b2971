"""All the SQL for countries."""

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.errors import NotFound
from app.pagination import sort_param

SORTS = {"code": m.Country.code, "name": m.Country.name}
sort_countries = sort_param(SORTS, m.Country.code, "code")


def countries_query(*, historical: bool | None) -> Select[Any]:
    query = select(m.Country)
    if historical is not None:
        query = query.where(col(m.Country.historical).is_(historical))
    return query


def get_country(session: Session, code: str) -> m.Country:
    query = select(m.Country).where(m.Country.code == code.upper())
    country = session.exec(query.options(selectinload(m.Country.sources))).first()  # type: ignore[arg-type]
    if country is None:
        raise NotFound("country", code)
    return country


def participation_of(session: Session, code: str) -> list[m.Participation]:
    query = (
        select(m.Participation)
        .where(m.Participation.country_code == code)
        .options(
            selectinload(m.Participation.sources),  # type: ignore[arg-type]
            selectinload(m.Participation.country),  # type: ignore[arg-type]
            selectinload(m.Participation.treaty),  # type: ignore[arg-type]
        )
        .order_by(m.Participation.treaty_slug)
    )
    return list(session.exec(query))
