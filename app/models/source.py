import datetime as dt

from sqlmodel import Field, SQLModel

from app.models.base import partial_date, ref, slug_key


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
