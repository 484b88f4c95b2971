"""API shapes for countries."""

from pydantic import Field

from app import models as m
from app.schemas import SourcePublic, Stamped, sources_of
from app.treaties.schemas import PartyPublic
from app.urls import Urls


class CountryPublic(Stamped):
    code: str = Field(
        description="ISO 3166-1 alpha-2; for a historical state, its former code.", examples=["SU"]
    )
    name: str = Field(description="Short name for display.", examples=["USSR"])
    official_name: str | None = Field(
        description="Full official name (ISO 3166).",
        examples=["Union of Soviet Socialist Republics"],
    )
    alpha3: str | None = Field(description="ISO 3166-1 alpha-3 code.", examples=["SUN"])
    numeric: str | None = Field(
        description="ISO 3166-1 numeric code, as a string.", examples=["810"]
    )
    historical: bool = Field(description="True for a state that no longer exists.")
    iso_3166_3: str | None = Field(
        description="ISO 3166-3 code of a historical state.", examples=["SUHH"]
    )
    note: str | None = Field(
        description="What a reader should know about this state's record, in our words."
    )
    url: str = Field(description="API URL of this country.")


class CountryDetail(CountryPublic):
    participation: list[PartyPublic] = Field(description="Its part in each treaty, as of today.")
    sources: list[SourcePublic] = Field(description="Where the country's record comes from.")


def country_public(c: m.Country, urls: Urls) -> CountryPublic:
    return CountryPublic(**c.model_dump(), url=urls.country(c.code))


def country_detail(c: m.Country, parties: list[PartyPublic], urls: Urls) -> CountryDetail:
    return CountryDetail(
        **c.model_dump(),
        url=urls.country(c.code),
        participation=parties,
        sources=sources_of(c.sources, urls),
    )
