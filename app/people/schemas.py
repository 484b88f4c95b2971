"""API shapes for people."""

from pydantic import BaseModel, Field

from app import models as m
from app.schemas import CountryRef, SourcePublic, Stamped, sources_of
from app.urls import Urls


class PositionPublic(BaseModel):
    title: str = Field(examples=["Minister of Foreign Affairs"])
    organization: str
    country: CountryRef | None
    start_on: str | None = Field(description="ISO 8601 at the precision known; null if unknown.")
    end_on: str | None = Field(description="Null if unknown or still held.")
    note: str | None
    sources: list[SourcePublic]


class PersonPublic(Stamped):
    slug: str = Field(examples=["sergei-lavrov"])
    name: str = Field(examples=["Sergei Lavrov"])
    aliases: list[str] = Field(description="Other spellings.", examples=[["Sergey Lavrov"]])
    country: CountryRef | None
    description: str | None
    url: str


class PersonDetail(PersonPublic):
    positions: list[PositionPublic]
    sources: list[SourcePublic]
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


def position_public(pos: m.Position, urls: Urls) -> PositionPublic:
    return PositionPublic(
        title=pos.title,
        organization=pos.organization,
        country=CountryRef.of(pos.country, urls) if pos.country else None,
        start_on=pos.start_on,
        end_on=pos.end_on,
        note=pos.note,
        sources=sources_of(pos.sources, urls),
    )


def person_detail(p: m.Person, urls: Urls) -> PersonDetail:
    return PersonDetail(
        **person_public(p, urls).model_dump(),
        positions=[position_public(pos, urls) for pos in p.positions],
        sources=sources_of(p.sources, urls),
        statements=urls.person(p.slug) + "/statements",
    )
