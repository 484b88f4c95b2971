"""All the SQL for countries."""

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from app import models as m
from app.countries.spec import COUNTRIES
from app.db import dialect_of
from app.errors import NotFound
from app.reads.spec import Plan

sort_countries = COUNTRIES.sorts


def countries_query(session: Session, plan: Plan) -> Select[Any]:
    """The countries a plan of COUNTRIES reads."""
    return plan.filtered(select(m.Country), dialect_of(session))


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
