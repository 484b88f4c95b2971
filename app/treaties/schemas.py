"""API shapes for treaties, their limits, events, parties and status."""

import datetime as dt

from pydantic import BaseModel, Field, computed_field

from app import models as m
from app.dates import PRECISION, Precision, precision_of
from app.importing.records import EventType
from app.schemas import CountryRef, SourcePublic, Stamped, TreatyRef, sources_of
from app.treaties.status import Role, Status, TreatyDates
from app.urls import Urls


class TreatyPublic(Stamped):
    slug: str = Field(
        description="The treaty's permanent slug (alternative slugs redirect).",
        examples=["new-start"],
    )
    name: str = Field(
        description="The treaty's common name.", examples=["New Strategic Arms Reduction Treaty"]
    )
    short_name: str = Field(description="Abbreviated name.", examples=["New START"])
    official_name: str = Field(description="The full name in the treaty text.")
    kind: str = Field(description="bilateral or multilateral", examples=["bilateral"])
    status: Status = Field(description="Derived from the treaty's events, as of today (UTC).")
    signed_on: str | None = Field(
        description="Signed on, from its signature event.", examples=["2010-04-08"]
    )
    signed_at: str | None = Field(
        description="Where it was signed.", examples=["Prague, Czech Republic"]
    )
    entered_into_force_on: str | None = Field(
        description="Entered into force on, from its event.", examples=["2011-02-05"]
    )
    original_expires_on: str | None = Field(
        description="Expiry as first set (first day no longer in force).", examples=["2021-02-05"]
    )
    expires_on: str | None = Field(
        description="Expiry as extended (first day no longer in force); null if unlimited.",
        examples=["2026-02-05"],
    )
    ended_on: str | None = Field(description="When it expired or terminated, if it has.")
    url: str = Field(description="API URL of this treaty.")


class CompetingPublic(BaseModel):
    """Another source's value for a field, shown beside ours rather than merged into it."""

    field: str = Field(
        description="The field of the record this value is for.", examples=["max_value"]
    )
    value: str = Field(description="The other source's value, as it gives it.", examples=["5000"])
    source: SourcePublic = Field(description="The source giving this value.")
    note: str | None = Field(description="Why it differs from ours.")


def competing_public(rows: list[m.CompetingValue], urls: Urls) -> list[CompetingPublic]:
    return [
        CompetingPublic(field=c.field, value=c.value, source=SourcePublic.of(c.source, urls),
                        note=c.note)
        for c in rows
    ]  # fmt: skip


class LimitPublic(Stamped):
    slug: str = Field(
        description="The limit's permanent slug.", examples=["new-start-deployed-warheads"]
    )
    treaty: TreatyRef = Field(description="The treaty setting the limit.")
    category: str = Field(description="What is limited.", examples=["Deployed strategic warheads"])
    counts: str = Field(description="What counts against the limit.")
    value: int | None = Field(
        description="The ceiling, for a single-valued limit.", examples=[1550]
    )
    min_value: int | None = Field(description="Lower bound of a band (INF: 500 km).")
    max_value: int | None = Field(description="Upper bound of a band (INF: 5,500 km).")
    unit: str = Field(description="What the numbers count.", examples=["warheads"])
    applies_from: str | None = Field(description="Date by which the limit had to be met.")
    note: str | None = Field(description="How the limit is counted, in our words.")
    competing_values: list[CompetingPublic] = Field(
        default=[], description="Other sources' values for fields of this record."
    )
    sources: list[SourcePublic] = Field(description="Where the number comes from.")


class PartyPublic(Stamped):
    """A state's dated relation to a treaty; every date is ISO 8601 at the precision known."""

    country: CountryRef = Field(description="The state.")
    treaty: TreatyRef = Field(description="The treaty.")
    role: Role | None = Field(description="Derived from the dates, as of the day asked about.")
    signed_on: str | None = Field(description="Signed on, at the precision known.")
    consented_on: str | None = Field(description="Ratified, acceded or succeeded on.")
    consent_type: str | None = Field(
        description="ratification, accession, succession or approval.", examples=["ratification"]
    )
    in_force_on: str | None = Field(description="Treaty in force for this state from.")
    party_by_on: str | None = Field(description="Known to be a party by (exact date unknown).")
    party_date_unknown: bool = Field(
        description=(
            "A party whose date of becoming one is unknown: counted as a party on every day "
            "the treaty is in force, and named in a status's `parties_date_unknown`."
        )
    )
    withdrawal_announced_on: str | None = Field(description="Withdrawal announced on.")
    withdrawal_notified_on: str | None = Field(description="Withdrawal notified on.")
    withdrawal_effective_on: str | None = Field(
        description="Withdrawal took effect on (no longer a party from this day)."
    )
    ended_on: str | None = Field(description="When a predecessor state ceased to exist.")
    note: str | None = Field(
        description="What a reader should know about this state's part, in our words."
    )
    competing_values: list[CompetingPublic] = Field(
        default=[], description="Other sources' values for fields of this record."
    )
    sources: list[SourcePublic] = Field(description="Where these dates come from.")


class EventPublic(Stamped):
    id: str = Field(description="The event's permanent id.", examples=["new-start-extension"])
    treaty: TreatyRef = Field(description="The treaty the event belongs to.")
    type: str = Field(
        description="The kind of event: " + ", ".join(EventType),
        examples=["extension"],
    )
    date: str = Field(description="ISO 8601: YYYY-MM-DD, YYYY-MM or YYYY.", examples=["2021-02-03"])
    country: CountryRef | None = Field(description="The state that acted, if one did.")
    description: str = Field(description="What happened, in our words.")
    new_expires_on: str | None = Field(
        description="For extensions: the new expiry, the first day no longer in force."
    )
    part_of: str | None = Field(
        description="Id of the act this event is a step of (a law carrying out a suspension).",
        examples=["new-start-russia-suspends-participation"],
    )
    competing_values: list[CompetingPublic] = Field(
        default=[], description="Other sources' values for fields of this record."
    )
    sources: list[SourcePublic] = Field(description="Where the event and its date come from.")

    @computed_field(description=PRECISION)  # type: ignore[prop-decorator]
    @property
    def date_precision(self) -> Precision | None:
        return precision_of(self.date)


class TreatyDetail(TreatyPublic):
    aliases: list[str] = Field(description="Former or alternative slugs; they redirect here.")
    duration: str | None = Field(description="Duration as the treaty sets it.")
    extension_terms: str | None = Field(description="How it may be extended.")
    depositary: str | None = Field(description="Who holds the treaty's instruments.")
    summary: str = Field(description="What the treaty does, in our words.")
    limits: list[LimitPublic] = Field(description="Its numeric limits.")
    parties: list[PartyPublic] = Field(description="Every state with a part in it, ever.")
    competing_values: list[CompetingPublic] = Field(
        default=[], description="Other sources' values for fields of this record."
    )
    sources: list[SourcePublic] = Field(description="Where the treaty's record comes from.")


class SuspensionPublic(BaseModel):
    country: CountryRef | None = Field(description="The state suspending.")
    date: str = Field(description="When the suspension was announced.")
    event: str = Field(description="The event id.")


class StatusPublic(BaseModel):
    """Where a treaty stood on one day."""

    treaty: TreatyRef = Field(description="The treaty.")
    on: dt.date = Field(description="The day asked about.")
    status: Status = Field(description="Where the treaty stood that day.")
    signed_on: str | None = Field(description="Signed on.")
    entered_into_force_on: str | None = Field(description="Entered into force on.")
    expires_on: str | None = Field(description="Expiry as it stood on that day.")
    days_until_expiry: int | None = Field(description="From `on` to `expires_on`, while in force.")
    ended_on: str | None = Field(
        description="When it expired or terminated, if it had by that day."
    )
    suspensions: list[SuspensionPublic] = Field(
        description="Suspensions announced by then while the treaty was in force."
    )
    party_count: int = Field(description="How many states were parties that day.")
    parties: list[PartyPublic] = Field(description="States that were parties on that day.")
    parties_date_unknown: list[str] = Field(
        description=(
            "Country codes of parties counted although the date they became parties is "
            "unknown; they count on every day the treaty is in force."
        ),
        examples=[["SE"]],
    )


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
