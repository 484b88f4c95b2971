"""The record formats of seed_data/ and of imports; documented in seed_data/README.md."""

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.dates import PartialDate, period


@dataclass(frozen=True)
class Ref:
    """Marks a field whose values are keys of another resource."""

    resource: str


def _sorted_unique(values: list[str]) -> list[str]:
    return sorted(set(values))


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
SourceRefs = Annotated[
    list[Slug], Ref("sources"), Field(min_length=1), AfterValidator(_sorted_unique)
]
TreatyRefs = Annotated[list[Slug], Ref("treaties"), AfterValidator(_sorted_unique)]


class EventType(StrEnum):
    signature = "signature"
    ratification = "ratification"
    legislative_approval = "legislative_approval"  # a parliament's vote, not the act itself
    entry_into_force = "entry_into_force"
    implementation = "implementation"
    extension = "extension"
    proposal = "proposal"
    withdrawal_announced = "withdrawal_announced"
    withdrawal_notified = "withdrawal_notified"
    withdrawal_effective = "withdrawal_effective"
    suspension = "suspension"
    suspension_rejected = "suspension_rejected"
    review_conference = "review_conference"
    meeting = "meeting"
    expiry = "expiry"
    other = "other"


MAX_TEXT = 100_000  # characters in any one text field
MAX_ITEMS = 1_000  # entries in any one list field


@functools.cache
def _list_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields that may hold a list (looked up once per model: a million-record load
    validates a million of them)."""

    def lists(annotation: Any) -> bool:
        return get_origin(annotation) is list or any(map(lists, get_args(annotation)))

    return tuple(name for name, info in model.model_fields.items() if lists(info.annotation))


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _bounded_lists(self) -> "Record":
        for name in _list_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, list) and len(value) > MAX_ITEMS:
                raise ValueError(f"{name} has {len(value)} entries; at most {MAX_ITEMS}")
        return self


class CompetingRecord(Record):
    """Another source's value for one field, kept beside ours (see seed_data/README.md)."""

    field: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
    value: Text
    source: Annotated[Slug, Ref("sources")]
    note: str | None = None


def _by_field(values: list[CompetingRecord]) -> list[CompetingRecord]:
    return sorted(values, key=lambda c: (c.field, c.source, c.value))


Competing = Annotated[list[CompetingRecord], AfterValidator(_by_field)]


class CountryRecord(Record):
    code: CountryCode
    name: Text
    official_name: str | None = None
    alpha3: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    numeric: Annotated[str, StringConstraints(pattern=r"^\d{3}$")] | None = None
    historical: bool = False
    iso_3166_3: Annotated[str, StringConstraints(pattern=r"^[A-Z]{4}$")] | None = None
    note: str | None = None
    sources: SourceRefs


class SourceRecord(Record):
    slug: Slug
    title: Text
    publisher: str | None = None
    url: str | None = None
    published_on: PartialDate | None = None
    grade: Literal[
        "primary",
        "primary-mirror",
        "primary-quoted",
        "expert",
        "expert-quoted",
        "wire",
        "secondary",
    ]
    note: str | None = None


class TreatyRecord(Record):
    slug: Slug
    name: Text
    official_name: Text
    short_name: Text
    kind: Literal["bilateral", "multilateral"]
    signed_at: str | None = None
    original_expires_on: PartialDate | None = None
    duration: str | None = None
    extension_terms: str | None = None
    depositary: str | None = None
    summary: Text
    aliases: Annotated[list[Slug], AfterValidator(_sorted_unique)] = []
    competing: Competing = []
    sources: SourceRefs


class LimitRecord(Record):
    slug: Slug
    treaty: Annotated[Slug, Ref("treaties")]
    category: Text
    counts: Text
    value: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    unit: Text
    applies_from: PartialDate | None = None
    note: str | None = None
    competing: Competing = []
    sources: SourceRefs

    @model_validator(mode="after")
    def _value_or_band(self) -> "LimitRecord":
        band = self.min_value is not None and self.max_value is not None
        if (self.value is None) == (not band):
            raise ValueError("give either value, or both min_value and max_value")
        if band and self.min_value > self.max_value:  # type: ignore[operator]
            raise ValueError("min_value is larger than max_value")
        return self


class EventRecord(Record):
    id: Slug
    treaty: Annotated[Slug, Ref("treaties")]
    type: EventType
    date: PartialDate
    country: Annotated[CountryCode | None, Ref("countries")] = None
    description: Text
    new_expires_on: PartialDate | None = None
    part_of: Annotated[Slug | None, Ref("events")] = None  # the act this event is a step of
    competing: Competing = []
    sources: SourceRefs

    @model_validator(mode="after")
    def _extension_has_expiry(self) -> "EventRecord":
        if (self.type == EventType.extension) != (self.new_expires_on is not None):
            raise ValueError("new_expires_on is required on extensions and only there")
        if self.part_of == self.id:
            raise ValueError("an event cannot be part of itself")
        return self


class ParticipationRecord(Record):
    treaty: Annotated[Slug, Ref("treaties")]
    country: Annotated[CountryCode, Ref("countries")]
    signed_on: PartialDate | None = None
    consented_on: PartialDate | None = None
    consent_type: Literal["ratification", "accession", "succession", "approval"] | None = None
    in_force_on: PartialDate | None = None
    party_by_on: PartialDate | None = None
    party_date_unknown: bool = False
    withdrawal_announced_on: PartialDate | None = None
    withdrawal_notified_on: PartialDate | None = None
    withdrawal_effective_on: PartialDate | None = None
    ended_on: PartialDate | None = None
    note: str | None = None
    competing: Competing = []
    sources: SourceRefs

    @model_validator(mode="after")
    def _one_party_date(self) -> "ParticipationRecord":
        if self.party_date_unknown and (self.in_force_on or self.party_by_on):
            raise ValueError("party_date_unknown goes with neither in_force_on nor party_by_on")
        return self


def _before(first: str | None, then: str | None) -> bool:
    """Whether partial date `then` certainly comes before `first`."""
    return bool(first and then and period(first)[0] > period(then)[1])


class PositionRecord(Record):
    title: Text
    organization: Text
    country: Annotated[CountryCode | None, Ref("countries")] = None
    start_on: PartialDate | None = None
    end_on: PartialDate | None = None  # the last day held
    end_by_on: PartialDate | None = None  # held no longer on this day; the end is unknown
    still_held_on: PartialDate | None = None  # the latest day a source shows it held
    note: str | None = None
    sources: SourceRefs

    @model_validator(mode="after")
    def _ordered(self) -> "PositionRecord":
        if self.end_on and self.end_by_on:
            raise ValueError("give end_on (known) or end_by_on (a bound), not both")
        for name in ("end_on", "end_by_on", "still_held_on"):
            if _before(self.start_on, getattr(self, name)):
                raise ValueError(f"{name} is before start_on")
        for name in ("end_on", "end_by_on"):
            if _before(self.still_held_on, getattr(self, name)):
                raise ValueError(f"still_held_on is after {name}")
        return self


def _by_start(positions: list[PositionRecord]) -> list[PositionRecord]:
    return sorted(positions, key=lambda p: (p.start_on or "", p.title))


class PersonRecord(Record):
    slug: Slug
    name: Text
    country: Annotated[CountryCode | None, Ref("countries")] = None
    description: str | None = None
    sources: SourceRefs
    aliases: Annotated[list[Text], AfterValidator(_sorted_unique)] = []
    positions: Annotated[list[PositionRecord], AfterValidator(_by_start)] = []


class ArticleRecord(Record):
    slug: Slug
    title: Text
    publication: Text
    published_on: PartialDate
    url: str | None = None
    authors: Annotated[list[Text], Field(min_length=1)]
    summary: Text
    treaties: TreatyRefs = []


class StatementRecord(Record):
    id: Slug
    text: Text
    speaker: Annotated[Slug | None, Ref("people")] = None
    speaker_role: str | None = None
    country: Annotated[CountryCode | None, Ref("countries")] = None
    said_on: PartialDate
    venue: str | None = None
    article: Annotated[Slug | None, Ref("articles")] = None
    treaties: TreatyRefs = []
    sources: SourceRefs
    note: str | None = None

    @model_validator(mode="after")
    def _attributed(self) -> "StatementRecord":
        if self.speaker is None and self.country is None:
            raise ValueError("a statement needs a speaker, a country, or both")
        return self


@functools.cache
def _ref_fields(
    model: type[BaseModel],
) -> tuple[tuple[str, Ref | None, type[BaseModel] | None], ...]:
    """Each field's reference marker, and the record type of a list of nested records."""

    def nested(annotation: Any) -> type[BaseModel] | None:
        args = get_args(annotation) if get_origin(annotation) is list else ()
        item = args[0] if args else None
        return item if isinstance(item, type) and issubclass(item, BaseModel) else None

    return tuple(
        (
            name,
            next((m for m in info.metadata if isinstance(m, Ref)), None),
            nested(info.annotation),
        )
        for name, info in model.model_fields.items()
    )


@functools.cache
def targets_of(model: type[BaseModel]) -> frozenset[str]:
    """The resources a record type may point at, through nested records too."""
    found: set[str] = set()
    for _, marker, item_model in _ref_fields(model):
        if marker is not None:
            found.add(marker.resource)
        elif item_model is not None:
            found |= targets_of(item_model)
    return frozenset(found)


def refs_held(model: type[BaseModel], data: dict[str, Any], known: dict[str, set[Any]]) -> bool:
    """Whether every key a record (JSON form) points at is in `known`, for a record with
    no nested records: `refs_of`'s answer without a field path per key, for the common
    case of a record that is fine (a million-record load checks every one)."""
    for name, marker, item_model in _ref_fields(model):
        value = data.get(name)
        if value is None:
            continue
        if marker is None:
            if item_model is not None and value:
                return False  # nested records: refs_of walks them
            continue
        held = known[marker.resource]
        if not (held.issuperset(value) if isinstance(value, list) else value in held):
            return False
    return True


def refs_of(
    model: type[BaseModel], data: dict[str, Any], path: tuple[str | int, ...] = ()
) -> list[tuple[Any, str, str]]:
    """Every (field path, resource, key) a record points at, nested records included.

    Reads the record's JSON form (`model_dump(mode="json")`), which is what a spooled bundle
    holds: a million-record load checks references without rebuilding a model per record.
    """
    found: list[tuple[Any, str, str]] = []
    for name, marker, item_model in _ref_fields(model):
        value = data.get(name)
        if value is None:
            continue
        if marker is not None:
            keys = value if isinstance(value, list) else [value]
            found.extend(((*path, name), marker.resource, key) for key in keys)
        elif item_model is not None:
            for index, item in enumerate(value):
                found.extend(refs_of(item_model, item, (*path, name, index)))
    return found
