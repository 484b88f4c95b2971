"""API shapes for articles."""

from pydantic import BaseModel, Field, computed_field

from app import models as m
from app.dates import PRECISION, Precision, precision_of
from app.schemas import Stamped, TreatyRef
from app.statements.schemas import StatementPublic
from app.urls import Urls


class AuthorPublic(BaseModel):
    name: str = Field(description="The author's name as printed.", examples=["Kingston Reif"])
    slug: str = Field(description="Use with ?author=.", examples=["kingston-reif"])


class ArticlePublic(Stamped):
    slug: str = Field(
        description="The article's permanent slug.",
        examples=["act-2020-12-new-start-deal-to-wait-for-biden"],
    )
    title: str = Field(
        description="The headline as published.", examples=["New START Deal to Wait for Biden"]
    )
    publication: str = Field(description="Where it was published.", examples=["Arms Control Today"])
    published_on: str = Field(
        description="Issue date, ISO 8601 at the precision known.", examples=["2020-12"]
    )
    authors: list[AuthorPublic] = Field(description="Authors, in the order printed.")
    web_url: str | None = Field(description="The article on the web, where known.")
    summary: str = Field(description="What it reports, in our own words.")
    treaties: list[TreatyRef] = Field(description="Treaties the article covers.")
    url: str = Field(description="API URL of this article.")

    @computed_field(description=PRECISION)  # type: ignore[prop-decorator]
    @property
    def published_on_precision(self) -> Precision | None:
        return precision_of(self.published_on)


class ArticleDetail(ArticlePublic):
    statements: list[StatementPublic] = Field(description="The statements it reports.")


def article_public(a: m.Article, urls: Urls) -> ArticlePublic:
    return ArticlePublic(
        slug=a.slug,
        title=a.title,
        publication=a.publication,
        published_on=a.published_on,
        authors=[AuthorPublic(name=x.name, slug=x.slug) for x in a.authors],
        web_url=a.url,
        summary=a.summary,
        url=urls.article(a.slug),
        created_at=a.created_at,
        updated_at=a.updated_at,
        treaties=[TreatyRef.of(t, urls) for t in sorted(a.treaties, key=lambda t: t.slug)],
    )
