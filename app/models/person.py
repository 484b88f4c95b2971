import datetime as dt

from sqlmodel import Field, Relationship, SQLModel

from app.models.base import NO_LAZY, partial_date, ref, slug_key
from app.models.country import Country
from app.models.source import Source


class PersonAlias(SQLModel, table=True):
    """Another spelling of a person's name ("Sergey Lavrov" for "Sergei Lavrov")."""

    __tablename__ = "person_alias"
    person_slug: str = ref("person.slug", primary_key=True, index=False)
    name: str = Field(primary_key=True, max_length=200)
    slug: str | None = Field(default=None, max_length=120, index=True)  # answers with a 308


class PersonSource(SQLModel, table=True):
    __tablename__ = "person_source"
    person_slug: str = ref("person.slug", primary_key=True, index=False)
    source_slug: str = ref("source.slug", primary_key=True)


class PositionSource(SQLModel, table=True):
    __tablename__ = "person_position_source"
    position_id: int = Field(foreign_key="person_position.id", primary_key=True, ondelete="CASCADE")
    source_slug: str = ref("source.slug", primary_key=True)


class Position(SQLModel, table=True):
    """An office a person held, from start_on to end_on (either may be unknown)."""

    __tablename__ = "person_position"

    id: int | None = Field(default=None, primary_key=True)
    person_slug: str = ref("person.slug")
    title: str
    organization: str
    country_code: str | None = ref("country.code", nullable=True)
    start_on: str | None = partial_date()
    end_on: str | None = partial_date()  # the last day held
    end_by_on: str | None = partial_date()  # no longer held on this day; the end is unknown
    still_held_on: str | None = partial_date()  # the latest day a source shows it held
    note: str | None = None

    sources: list[Source] = Relationship(link_model=PositionSource, sa_relationship_kwargs=NO_LAZY)
    country: Country | None = Relationship(sa_relationship_kwargs=NO_LAZY)


class Person(SQLModel, table=True):
    __tablename__ = "person"

    slug: str = slug_key()
    name: str
    country_code: str | None = ref("country.code", nullable=True)
    description: str | None = None

    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")
    aliases: list[PersonAlias] = Relationship(
        sa_relationship_kwargs={**NO_LAZY, "order_by": "PersonAlias.name"}
    )
    positions: list[Position] = Relationship(
        sa_relationship_kwargs={**NO_LAZY, "order_by": "Position.start_on"}
    )
    sources: list[Source] = Relationship(link_model=PersonSource, sa_relationship_kwargs=NO_LAZY)
    country: Country | None = Relationship(sa_relationship_kwargs=NO_LAZY)
