import datetime as dt
from typing import TYPE_CHECKING

from sqlmodel import Field, Relationship, SQLModel

from app.models.base import NO_LAZY, ref, slug_key

if TYPE_CHECKING:
    from app.models.treaty import Treaty


class ArticleAuthor(SQLModel, table=True):
    __tablename__ = "article_author"
    article_slug: str = ref("article.slug", primary_key=True, index=False)
    ordinal: int = Field(primary_key=True)
    name: str
    slug: str = Field(max_length=120, index=True)


class ArticleTreaty(SQLModel, table=True):
    __tablename__ = "article_treaty"
    article_slug: str = ref("article.slug", primary_key=True, index=False)
    treaty_slug: str = ref("treaty.slug", primary_key=True)


class Article(SQLModel, table=True):
    """A news piece we draw facts from, summarised in our own words."""

    __tablename__ = "article"

    slug: str = slug_key()
    title: str
    publication: str
    published_on: str = Field(max_length=10, index=True)
    url: str | None = None
    summary: str

    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")
    authors: list[ArticleAuthor] = Relationship(
        sa_relationship_kwargs={**NO_LAZY, "order_by": "ArticleAuthor.ordinal"}
    )
    treaties: list["Treaty"] = Relationship(
        link_model=ArticleTreaty, sa_relationship_kwargs=NO_LAZY
    )
