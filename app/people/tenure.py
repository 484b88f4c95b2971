"""Whether a position was held on a day: "yes", "no" or "unknown", never a guess.

A position is known to be held from the day its start is certain (or, with no start, the
day a source shows it held) to the latest day a source shows it held or its end is known
not to have come. It is known not to be held before its start, after its end, and from
the day it had certainly ended (end_by_on). Anything else is "unknown": a position with
no known end does not read as held today.
"""

import datetime as dt
from typing import Literal

from app import models as m
from app.dates import period

Held = Literal["yes", "no", "unknown"]


def held_on(pos: m.Position, day: dt.date) -> Held:
    if pos.start_on and day < period(pos.start_on)[0]:
        return "no"
    if pos.end_on and day > period(pos.end_on)[1]:
        return "no"
    if pos.end_by_on and day >= period(pos.end_by_on)[1]:
        return "no"
    seen = period(pos.still_held_on) if pos.still_held_on else None
    started = period(pos.start_on)[1] if pos.start_on else seen and seen[1]
    lasted = [p[0] for p in (period(pos.end_on) if pos.end_on else None, seen) if p]
    if started and lasted and started <= day <= max(lasted):
        return "yes"
    return "unknown"
