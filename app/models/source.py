import datetime as dt

from sqlmodel import Field, Relationship, SQLModel

from app.models.base import NO_LAZY, partial_date, ref, slug_key


class Source(SQLModel, table=True):
    """Where a fact comes from: one of our articles, or an external document."""

    __tablename__ = "source"

    slug: str = slug_key()
    kind: str = Field(max_length=20)
    title: str
    publisher: str | None = None
    url: str | None = None
    published_on: str | None = partial_date()
    grade: str = Field(max_length=20)
    article_slug: str | None = ref("article.slug", nullable=True)
    note: str | None = None
    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")


class CompetingValue(SQLModel, table=True):
    """A value another source gives for a field of a record, kept beside ours, never merged.

    Respected sources disagree or err (the INF range, New START's expiry wording, Open Skies
    party counts); the record holds our value, and these hold theirs, each with its source.
    """

    __tablename__ = "competing_value"

    id: int | None = Field(default=None, primary_key=True)
    resource: str = Field(max_length=40)
    key: str = Field(max_length=250, index=True)
    field: str = Field(max_length=60)
    value: str
    source_slug: str = ref("source.slug")
    note: str | None = None

    source: Source = Relationship(sa_relationship_kwargs=NO_LAZY)
