"""API shapes shared by every domain: compact references and sources."""

import datetime as dt

from pydantic import BaseModel, Field

from app import models as m
from app.urls import Urls


class Stamped(BaseModel):
    created_at: dt.datetime | None = Field(default=None, description="When first written.")
    updated_at: dt.datetime | None = Field(default=None, description="When last changed.")


class TreatyRef(BaseModel):
    slug: str = Field(description="The treaty's slug.", examples=["new-start"])
    name: str = Field(
        description="The treaty's common name.", examples=["New Strategic Arms Reduction Treaty"]
    )
    short_name: str = Field(description="Abbreviated name.", examples=["New START"])
    url: str = Field(description="API URL of the treaty.")

    @classmethod
    def of(cls, treaty: m.Treaty, urls: Urls) -> "TreatyRef":
        return cls(
            slug=treaty.slug,
            name=treaty.name,
            short_name=treaty.short_name,
            url=urls.treaty(treaty.slug),
        )


class PersonRef(BaseModel):
    slug: str = Field(description="The person's slug.", examples=["sergei-lavrov"])
    name: str = Field(description="The person's name.", examples=["Sergei Lavrov"])
    url: str = Field(description="API URL of the person.")

    @classmethod
    def of(cls, person: m.Person, urls: Urls) -> "PersonRef":
        return cls(slug=person.slug, name=person.name, url=urls.person(person.slug))


class ArticleRef(BaseModel):
    slug: str = Field(
        description="The article's slug.", examples=["act-2020-12-new-start-deal-to-wait-for-biden"]
    )
    title: str = Field(
        description="The headline as published.", examples=["New START Deal to Wait for Biden"]
    )
    url: str = Field(description="API URL of the article.")

    @classmethod
    def of(cls, article: m.Article, urls: Urls) -> "ArticleRef":
        return cls(slug=article.slug, title=article.title, url=urls.article(article.slug))


class CountryRef(BaseModel):
    code: str = Field(
        description="ISO 3166-1 alpha-2 (ISO 3166-3 for historical states).", examples=["RU"]
    )
    name: str = Field(description="Short name for display.", examples=["Russian Federation"])
    url: str = Field(description="API URL of the country.")

    @classmethod
    def of(cls, country: m.Country, urls: Urls) -> "CountryRef":
        return cls(code=country.code, name=country.name, url=urls.country(country.code))


class SourcePublic(Stamped):
    """Where a fact comes from: one of our articles or an external document."""

    slug: str = Field(
        description="The source's slug, as facts cite it.", examples=["nuclearforces-new-start"]
    )
    kind: str = Field(description="`article` (ours, see /v1/articles) or `document`.")
    title: str = Field(
        description="A title in [brackets] describes a document whose own "
        "headline was not recorded."
    )
    publisher: str | None = Field(description="Who published it.")
    web_url: str | None = Field(description="The document on the web, where known.")
    published_on: str | None = Field(description="ISO 8601 at the precision known.")
    grade: str = Field(
        description=(
            "primary, primary-mirror (a verbatim copy), primary-quoted or expert-quoted (read "
            "only as a secondary page quotes it), expert, wire or secondary."
        ),
        examples=["expert"],
    )
    note: str | None = Field(description="Where the copy was read, and any known error in it.")
    article: str | None = Field(description="API URL of our article, for kind `article`.")

    @classmethod
    def of(cls, source: m.Source, urls: Urls) -> "SourcePublic":
        return cls(
            slug=source.slug,
            kind=source.kind,
            title=source.title,
            publisher=source.publisher,
            web_url=source.url,
            published_on=source.published_on,
            grade=source.grade,
            note=source.note,
            created_at=source.created_at,
            updated_at=source.updated_at,
            article=urls.article(source.article_slug) if source.article_slug else None,
        )


def sources_of(sources: list[m.Source], urls: Urls) -> list[SourcePublic]:
    return [SourcePublic.of(s, urls) for s in sorted(sources, key=lambda s: s.slug)]
