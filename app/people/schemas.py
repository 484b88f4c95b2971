"""API shapes for people."""

import datetime as dt

from pydantic import BaseModel, Field

from app import models as m
from app.people.tenure import Held, held_on
from app.schemas import CountryRef, SourcePublic, Stamped, sources_of
from app.urls import Urls


class PositionPublic(BaseModel):
    """An office held. Its end is known (`end_on`), bounded (`end_by_on`) or unknown; a
    position with no known end is never reported as held past what its sources show."""

    title: str = Field(
        description="The office, as sources name it.", examples=["Minister of Foreign Affairs"]
    )
    organization: str = Field(
        description="Where the office sits.",
        examples=["Ministry of Foreign Affairs of the Russian Federation"],
    )
    country: CountryRef | None = Field(description="The state the office belongs to.")
    start_on: str | None = Field(description="ISO 8601 at the precision known; null if unknown.")
    end_on: str | None = Field(
        description="The last day held, at the precision known; null if not known."
    )
    end_by_on: str | None = Field(
        description="Held no longer on this day, where only such a bound is known.",
        examples=["2021-04-14"],
    )
    end_known: bool = Field(
        description="Whether `end_on` gives the end; false for a bound or no end at all."
    )
    still_held_on: str | None = Field(
        description="The latest day a cited source shows the position held (with no known end, it "
        "is unknown whether it was held after this day).",
        examples=["2020-11-12"],
    )
    held: Held = Field(
        description="Whether the position was held on the day asked about (`on`, default today): "
        "yes, no, or unknown where the sources do not say.",
    )
    note: str | None = Field(description="How the dates are known, in our words.")
    sources: list[SourcePublic] = Field(description="Where the position and its dates come from.")


class PersonPublic(Stamped):
    slug: str = Field(
        description="The person's permanent slug (alternative spellings redirect).",
        examples=["sergei-lavrov"],
    )
    name: str = Field(
        description="The name as our first source spells it.", examples=["Sergei Lavrov"]
    )
    aliases: list[str] = Field(description="Other spellings.", examples=[["Sergey Lavrov"]])
    country: CountryRef | None = Field(description="The state the person served.")
    description: str | None = Field(description="Who the person is, in our words.")
    url: str = Field(description="API URL of this person.")


class PersonDetail(PersonPublic):
    positions: list[PositionPublic] = Field(
        description="Offices held, oldest first, each saying whether it was held on the day."
    )
    sources: list[SourcePublic] = Field(description="Where the person's record comes from.")
    statements: str = Field(description="URL of the person's statements.")


def person_public(p: m.Person, urls: Urls) -> PersonPublic:
    return PersonPublic(
        slug=p.slug,
        name=p.name,
        aliases=[a.name for a in p.aliases],
        country=CountryRef.of(p.country, urls) if p.country else None,
        description=p.description,
        url=urls.person(p.slug),
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def position_public(pos: m.Position, day: dt.date, urls: Urls) -> PositionPublic:
    return PositionPublic(
        title=pos.title,
        organization=pos.organization,
        country=CountryRef.of(pos.country, urls) if pos.country else None,
        start_on=pos.start_on,
        end_on=pos.end_on,
        end_by_on=pos.end_by_on,
        end_known=pos.end_on is not None,
        still_held_on=pos.still_held_on,
        held=held_on(pos, day),
        note=pos.note,
        sources=sources_of(pos.sources, urls),
    )


def person_detail(p: m.Person, day: dt.date, urls: Urls) -> PersonDetail:
    return PersonDetail(
        **person_public(p, urls).model_dump(),
        positions=[position_public(pos, day, urls) for pos in p.positions],
        sources=sources_of(p.sources, urls),
        statements=urls.person_statements(p.slug),
    )
