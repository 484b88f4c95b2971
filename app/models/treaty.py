import datetime as dt

from sqlalchemy import ForeignKeyConstraint
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import NO_LAZY, partial_date, ref, slug_key
from app.models.country import Country
from app.models.source import Source


class TreatySource(SQLModel, table=True):
    __tablename__ = "treaty_source"
    treaty_slug: str = ref("treaty.slug", primary_key=True, index=False)
    source_slug: str = ref("source.slug", primary_key=True)


class Treaty(SQLModel, table=True):
    """A treaty. Its dates and status are derived from its events, never typed in."""

    __tablename__ = "treaty"

    slug: str = slug_key()
    name: str
    official_name: str
    short_name: str
    kind: str = Field(max_length=20)
    signed_at: str | None = None
    original_expires_on: str | None = partial_date()
    duration: str | None = None
    extension_terms: str | None = None
    depositary: str | None = None
    summary: str

    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")
    sources: list[Source] = Relationship(link_model=TreatySource, sa_relationship_kwargs=NO_LAZY)
    aliases: list["TreatyAlias"] = Relationship(sa_relationship_kwargs=NO_LAZY)


class TreatyAlias(SQLModel, table=True):
    """A former or alternative slug of a treaty; requests for it are redirected (308)."""

    __tablename__ = "treaty_alias"
    slug: str = slug_key()
    treaty_slug: str = ref("treaty.slug")


class LimitSource(SQLModel, table=True):
    __tablename__ = "treaty_limit_source"
    limit_slug: str = ref("treaty_limit.slug", primary_key=True, index=False)
    source_slug: str = ref("source.slug", primary_key=True)


class Limit(SQLModel, table=True):
    """A numeric limit a treaty sets: a ceiling (value) or a band (min_value..max_value)."""

    __tablename__ = "treaty_limit"

    slug: str = slug_key()
    treaty_slug: str = ref("treaty.slug")
    category: str
    counts: str
    value: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    unit: str
    applies_from: str | None = partial_date()
    note: str | None = None

    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")
    sources: list[Source] = Relationship(link_model=LimitSource, sa_relationship_kwargs=NO_LAZY)
    treaty: Treaty = Relationship(sa_relationship_kwargs=NO_LAZY)


class EventSource(SQLModel, table=True):
    __tablename__ = "event_source"
    event_id: str = ref("event.id", primary_key=True, index=False)
    source_slug: str = ref("source.slug", primary_key=True)


class Event(SQLModel, table=True):
    """A dated step in a treaty's life: signature, entry into force, withdrawal, ..."""

    __tablename__ = "event"

    id: str = slug_key()
    treaty_slug: str = ref("treaty.slug")
    type: str = Field(max_length=40, index=True)
    date: str = Field(max_length=10, index=True)
    country_code: str | None = ref("country.code", nullable=True)
    description: str
    new_expires_on: str | None = partial_date()
    # The act this event is a step of (a law carrying out a suspension). Checked when
    # written, like every reference, but no foreign key: events load in one pass.
    part_of: str | None = Field(default=None, max_length=120)

    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")
    sources: list[Source] = Relationship(link_model=EventSource, sa_relationship_kwargs=NO_LAZY)
    country: Country | None = Relationship(sa_relationship_kwargs=NO_LAZY)
    treaty: Treaty = Relationship(sa_relationship_kwargs=NO_LAZY)


class ParticipationSource(SQLModel, table=True):
    __tablename__ = "participation_source"
    __table_args__ = (
        ForeignKeyConstraint(
            ["treaty_slug", "country_code"],
            ["participation.treaty_slug", "participation.country_code"],
            ondelete="CASCADE",
        ),
    )
    treaty_slug: str = Field(primary_key=True, max_length=120)
    country_code: str = Field(primary_key=True, max_length=2)
    source_slug: str = ref("source.slug", primary_key=True)


class Participation(SQLModel, table=True):
    """A state's dated relation to a treaty; its role on any day is derived from the dates."""

    __tablename__ = "participation"

    treaty_slug: str = ref("treaty.slug", primary_key=True, index=False)
    country_code: str = ref("country.code", primary_key=True)
    signed_on: str | None = partial_date()
    consented_on: str | None = partial_date()
    consent_type: str | None = Field(default=None, max_length=20)
    in_force_on: str | None = partial_date()
    party_by_on: str | None = partial_date()
    party_date_unknown: bool = False
    withdrawal_announced_on: str | None = partial_date()
    withdrawal_notified_on: str | None = partial_date()
    withdrawal_effective_on: str | None = partial_date()
    ended_on: str | None = partial_date()
    note: str | None = None

    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")
    country: Country = Relationship(sa_relationship_kwargs=NO_LAZY)
    treaty: Treaty = Relationship(sa_relationship_kwargs=NO_LAZY)
    sources: list[Source] = Relationship(
        link_model=ParticipationSource, sa_relationship_kwargs=NO_LAZY
    )
