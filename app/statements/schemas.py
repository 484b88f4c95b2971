"""API shapes for statements."""

from pydantic import Field, computed_field

from app import models as m
from app.dates import PRECISION, Precision, precision_of
from app.schemas import (
    ArticleRef,
    CountryRef,
    PersonRef,
    SourcePublic,
    Stamped,
    TreatyRef,
    sources_of,
)
from app.urls import Urls


class StatementPublic(Stamped):
    id: str = Field(
        description="Stable readable identifier.",
        examples=["lavrov-2020-11-12-wait-until-the-dust-settles"],
    )
    text: str = Field(
        description="The words, exactly as the source quotes them.",
        examples=["So, we will wait until the dust settles."],
    )
    said_on: str = Field(
        description="ISO 8601 at the precision the source gives.", examples=["2020-11-12"]
    )
    speaker: PersonRef | None = Field(
        description="Who said it; null for a state speaking through an office."
    )
    speaker_role: str | None = Field(
        description="The speaker's role at the time.", examples=["Russian Foreign Minister"]
    )
    country: CountryRef | None = Field(description="The speaker's country at the time.")
    venue: str | None = Field(description="Where it was said, where the source says.")
    treaties: list[TreatyRef] = Field(description="Treaties the statement is about.")
    article: ArticleRef | None = Field(description="The article that reported it.")
    note: str | None = Field(description="Context and how the date is known, in our words.")
    sources: list[SourcePublic] = Field(description="Where the quotation was read.")
    url: str = Field(description="API URL of this statement.")

    @computed_field(description=PRECISION)  # type: ignore[prop-decorator]
    @property
    def said_on_precision(self) -> Precision | None:
        return precision_of(self.said_on)


def statement_public(s: m.Statement, urls: Urls) -> StatementPublic:
    return StatementPublic(
        id=s.id,
        text=s.text,
        said_on=s.said_on,
        speaker_role=s.speaker_role,
        venue=s.venue,
        note=s.note,
        url=urls.statement(s.id),
        speaker=PersonRef.of(s.speaker, urls) if s.speaker else None,
        country=CountryRef.of(s.country, urls) if s.country else None,
        treaties=[TreatyRef.of(t, urls) for t in sorted(s.treaties, key=lambda t: t.slug)],
        article=ArticleRef.of(s.article, urls) if s.article else None,
        sources=sources_of(s.sources, urls),
        created_at=s.created_at,
        updated_at=s.updated_at,
    )
