"""API shapes for statements."""

from pydantic import Field, computed_field

from app.dates import PRECISION, Precision, precision_of
from app.schemas import (
    ArticleRef,
    CountryRef,
    PersonRef,
    SourcePublic,
    Stamped,
    TreatyRef,
)


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
