import datetime as dt

from sqlmodel import Field, Relationship, SQLModel

from app.models.base import NO_LAZY, ref
from app.models.source import Source


class CountrySource(SQLModel, table=True):
    __tablename__ = "country_source"
    country_code: str = ref("country.code", primary_key=True, index=False)
    source_slug: str = ref("source.slug", primary_key=True)


class Country(SQLModel, table=True):
    """A state, current (ISO 3166-1) or historical (ISO 3166-3), such as the USSR."""

    __tablename__ = "country"

    code: str = Field(primary_key=True, max_length=2)
    name: str
    official_name: str | None = None
    alpha3: str | None = Field(default=None, max_length=3)
    numeric: str | None = Field(default=None, max_length=3)
    historical: bool = False
    iso_3166_3: str | None = Field(default=None, max_length=4)
    note: str | None = None

    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")
    sources: list[Source] = Relationship(link_model=CountrySource, sa_relationship_kwargs=NO_LAZY)
