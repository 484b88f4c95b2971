"""The events list (and the timeline), declared once: its filters and sorts."""

from app import models as m
from app.reads.facets import Facet, date_facets, labelled
from app.reads.filters import dated, one_of, search
from app.reads.spec import ReadSpec

E = m.Event

EVENTS = ReadSpec(
    name="events",
    model=E,
    columns={"date": E.date, "id": E.id},
    key="id",
    default_sort="date",
    filters=(
        one_of("treaty", "Treaty slug(s).", "open-skies", E.treaty_slug),
        one_of("type", "Event type(s).", "withdrawal_effective", E.type),
        one_of("country", "Code(s) of the state acting.", "US", E.country_code, upper=True),
        *dated("date", "Dated", ("2019-01-01", "2021-12-31")),
        search("event", "id"),
    ),
    facets=(
        Facet(
            "treaty",
            "treaty_slug",
            "Events per treaty.",
            labelled(m.Treaty.slug, m.Treaty.short_name),
        ),
        Facet("type", "type", "Events per type."),
        Facet(
            "country",
            "country_code",
            "Events per state acting.",
            labelled(m.Country.code, m.Country.name),
        ),
        *date_facets("date", "Events"),
    ),  # fmt: skip
)
