"""A treaty's status, expiry and parties on any day, derived from its dated events.

An event counts as having happened on a day only when its whole period lies on or
before that day (an event known only as "2019-08" has certainly happened by 2019-08-31).
"""

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from app import models as m
from app.dates import certainly_by, period


class Status(StrEnum):
    not_signed = "not_signed"
    signed = "signed"
    in_force = "in_force"
    expired = "expired"
    terminated = "terminated"


class Role(StrEnum):
    signatory = "signatory"
    ratified = "ratified"
    party = "party"
    successor = "successor"
    withdrawn = "withdrawn"
    predecessor = "predecessor"
    former_party = "former_party"


ENDED = {Status.expired, Status.terminated}


@dataclass
class TreatyDates:
    signed_on: str | None
    entered_into_force_on: str | None
    original_expires_on: str | None
    expires_on: str | None  # as it stood on the day
    status: Status
    ended_on: str | None = None
    suspensions: list[m.Event] = field(default_factory=list)


def _first(events: list[m.Event], kind: str) -> m.Event | None:
    matching = [e for e in events if e.type == kind]
    return min(matching, key=lambda e: e.date) if matching else None


def _happened(events: list[m.Event], kinds: set[str], day: dt.date) -> list[m.Event]:
    return sorted(
        (e for e in events if e.type in kinds and certainly_by(e.date, day)), key=lambda e: e.date
    )


def expires_on(treaty: m.Treaty, events: list[m.Event], day: dt.date) -> str | None:
    """The expiry in force on `day`: the latest extension made by then, else the original."""
    extensions = _happened(events, {"extension"}, day)
    return extensions[-1].new_expires_on if extensions else treaty.original_expires_on


def _ending(treaty: m.Treaty, events: list[m.Event], day: dt.date) -> tuple[Status, str] | None:
    expiry = expires_on(treaty, events, day)
    if expiry and period(expiry)[0] <= day:
        return Status.expired, expiry
    expired = _happened(events, {"expiry"}, day)
    if expired:
        return Status.expired, expired[0].date
    # A bilateral treaty ends when either party's withdrawal takes effect.
    withdrawals = _happened(events, {"withdrawal_effective"}, day)
    if treaty.kind == "bilateral" and withdrawals:
        return Status.terminated, withdrawals[0].date
    return None


def treaty_dates(treaty: m.Treaty, events: list[m.Event], day: dt.date) -> TreatyDates:
    signed = _first(events, "signature")
    in_force = _first(events, "entry_into_force")
    dates = TreatyDates(
        signed_on=signed.date if signed else None,
        entered_into_force_on=in_force.date if in_force else None,
        original_expires_on=treaty.original_expires_on,
        expires_on=expires_on(treaty, events, day),
        status=Status.not_signed,
    )
    ending = _ending(treaty, events, day)
    if ending:
        dates.status, dates.ended_on = ending
    elif certainly_by(dates.entered_into_force_on, day):
        dates.status = Status.in_force
        dates.suspensions = _happened(events, {"suspension"}, day)
    elif certainly_by(dates.signed_on, day):
        dates.status = Status.signed
    return dates


def role_on(p: m.Participation, day: dt.date, status: Status) -> Role | None:
    """A state's role in a treaty on `day`, or None if it had no part in it yet."""
    if certainly_by(p.withdrawal_effective_on, day):
        return Role.withdrawn
    if certainly_by(p.ended_on, day):
        return Role.predecessor
    # A party whose own date is unknown counts on every day the treaty is in force: the
    # record says so (party_date_unknown), rather than invent a boundary.
    unknown_but_party = p.party_date_unknown and status in {Status.in_force, *ENDED}
    if certainly_by(p.in_force_on, day) or certainly_by(p.party_by_on, day) or unknown_but_party:
        return Role.former_party if status in ENDED else Role.party
    if p.consent_type == "succession" and p.in_force_on is None and p.party_by_on is None:
        return Role.successor
    if certainly_by(p.consented_on, day):
        return Role.ratified
    if certainly_by(p.signed_on, day):
        return Role.signatory
    return None


def days_until(expiry: str | None, day: dt.date) -> int | None:
    return (period(expiry)[0] - day).days if expiry else None
