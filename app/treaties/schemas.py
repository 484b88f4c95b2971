"""API shapes for treaties, their limits, events, parties and status."""

import datetime as dt

from pydantic import BaseModel, Field, computed_field

from app import models as m
from app.dates import Precision, precision_of
from app.schemas import CountryRef, SourcePublic, Stamped, TreatyRef, sources_of
from app.treaties.status import Role, Status, TreatyDates
from app.urls import Urls


class TreatyPublic(Stamped):
    slug: str = Field(examples=["new-start"])
    name: str = Field(examples=["New Strategic Arms Reduction Treaty"])
    short_name: str = Field(examples=["New START"])
    official_name: str
    kind: str = Field(description="bilateral or multilateral", examples=["bilateral"])
    status: Status = Field(description="Derived from the treaty's events, as of today (UTC).")
    signed_on: str | None = Field(examples=["2010-04-08"])
    signed_at: str | None = Field(examples=["Prague, Czech Republic"])
    entered_into_force_on: str | None = Field(examples=["2011-02-05"])
    original_expires_on: str | None = Field(examples=["2021-02-05"])
    expires_on: str | None = Field(
        description="Expiry as extended (first day no longer in force); null if unlimited.",
        examples=["2026-02-05"],
    )
    ended_on: str | None = Field(description="When it expired or terminated, if it has.")
    url: str


class CompetingPublic(BaseModel):
    """Another source's value for a field, shown beside ours rather than merged into it."""

    field: str = Field(examples=["max_value"])
    value: str = Field(examples=["5000"])
    source: SourcePublic
    note: str | None


def competing_public(rows: list[m.CompetingValue], urls: Urls) -> list[CompetingPublic]:
    return [
        CompetingPublic(field=c.field, value=c.value, source=SourcePublic.of(c.source, urls),
                        note=c.note)
        for c in rows
    ]  # fmt: skip


class LimitPublic(Stamped):
    slug: str = Field(examples=["new-start-deployed-warheads"])
    treaty: TreatyRef
    category: str = Field(examples=["Deployed strategic warheads"])
    counts: str = Field(description="What counts against the limit.")
    value: int | None = Field(
        description="The ceiling, for a single-valued limit.", examples=[1550]
    )
    min_value: int | None = Field(description="Lower bound of a band (INF: 500 km).")
    max_value: int | None = Field(description="Upper bound of a band (INF: 5,500 km).")
    unit: str = Field(examples=["warheads"])
    applies_from: str | None = Field(description="Date by which the limit had to be met.")
    note: str | None
    competing_values: list[CompetingPublic] = Field(
        default=[], description="Other sources' values for fields of this record."
    )
    sources: list[SourcePublic]


class PartyPublic(Stamped):
    """A state's dated relation to a treaty; every date is ISO 8601 at the precision known."""

    country: CountryRef
    treaty: TreatyRef
    role: Role | None = Field(description="Derived from the dates, as of the day asked about.")
    signed_on: str | None
    consented_on: str | None = Field(description="Ratified, acceded or succeeded on.")
    consent_type: str | None = Field(examples=["ratification"])
    in_force_on: str | None = Field(description="Treaty in force for this state from.")
    party_by_on: str | None = Field(description="Known to be a party by (exact date unknown).")
    withdrawal_announced_on: str | None
    withdrawal_notified_on: str | None
    withdrawal_effective_on: str | None
    ended_on: str | None = Field(description="When a predecessor state ceased to exist.")
    note: str | None
    competing_values: list[CompetingPublic] = Field(
        default=[], description="Other sources' values for fields of this record."
    )
    sources: list[SourcePublic]


class EventPublic(Stamped):
    id: str = Field(examples=["new-start-extension"])
    treaty: TreatyRef
    type: str = Field(examples=["extension"])
    date: str = Field(description="ISO 8601: YYYY-MM-DD, YYYY-MM or YYYY.", examples=["2021-02-03"])
    country: CountryRef | None
    description: str
    new_expires_on: str | None = Field(description="For extensions: the new expiry.")
    competing_values: list[CompetingPublic] = Field(
        default=[], description="Other sources' values for fields of this record."
    )
    sources: list[SourcePublic]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def date_precision(self) -> Precision | None:
        return precision_of(self.date)


class TreatyDetail(TreatyPublic):
    aliases: list[str] = Field(description="Former or alternative slugs; they redirect here.")
    duration: str | None
    extension_terms: str | None
    depositary: str | None
    summary: str
    limits: list[LimitPublic]
    parties: list[PartyPublic] = Field(description="Every state with a part in it, ever.")
    competing_values: list[CompetingPublic] = Field(
        default=[], description="Other sources' values for fields of this record."
    )
    sources: list[SourcePublic]


class SuspensionPublic(BaseModel):
    country: CountryRef | None
    date: str
    event: str = Field(description="The event id.")


class StatusPublic(BaseModel):
    """Where a treaty stood on one day."""

    treaty: TreatyRef
    on: dt.date
    status: Status
    signed_on: str | None
    entered_into_force_on: str | None
    expires_on: str | None = Field(description="Expiry as it stood on that day.")
    days_until_expiry: int | None = Field(description="From `on` to `expires_on`, while in force.")
    ended_on: str | None
    suspensions: list[SuspensionPublic] = Field(
        description="Suspensions announced by then while the treaty was in force."
    )
    party_count: int
    parties: list[PartyPublic] = Field(description="States that were parties on that day.")


# Builders: ORM rows (with their relations loaded) -> API shapes.


def treaty_public(treaty: m.Treaty, dates: TreatyDates, urls: Urls) -> TreatyPublic:
    return TreatyPublic(
        slug=treaty.slug,
        name=treaty.name,
        short_name=treaty.short_name,
        official_name=treaty.official_name,
        kind=treaty.kind,
        status=dates.status,
        signed_on=dates.signed_on,
        signed_at=treaty.signed_at,
        entered_into_force_on=dates.entered_into_force_on,
        original_expires_on=dates.original_expires_on,
        expires_on=dates.expires_on,
        ended_on=dates.ended_on,
        url=urls.treaty(treaty.slug),
        created_at=treaty.created_at,
        updated_at=treaty.updated_at,
    )


def limit_public(
    limit: m.Limit, urls: Urls, competing: list[m.CompetingValue] | None = None
) -> LimitPublic:
    return LimitPublic(
        **limit.model_dump(exclude={"treaty_slug"}),
        competing_values=competing_public(competing or [], urls),
        treaty=TreatyRef.of(limit.treaty, urls),
        sources=sources_of(limit.sources, urls),
    )


def party_public(
    p: m.Participation,
    role: Role | None,
    urls: Urls,
    competing: list[m.CompetingValue] | None = None,
) -> PartyPublic:
    return PartyPublic(
        **p.model_dump(exclude={"treaty_slug", "country_code"}),
        competing_values=competing_public(competing or [], urls),
        country=CountryRef.of(p.country, urls),
        treaty=TreatyRef.of(p.treaty, urls),
        role=role,
        sources=sources_of(p.sources, urls),
    )


def event_public(
    event: m.Event, urls: Urls, competing: list[m.CompetingValue] | None = None
) -> EventPublic:
    return EventPublic(
        **event.model_dump(exclude={"treaty_slug", "country_code"}),
        competing_values=competing_public(competing or [], urls),
        treaty=TreatyRef.of(event.treaty, urls),
        country=CountryRef.of(event.country, urls) if event.country else None,
        sources=sources_of(event.sources, urls),
    )
