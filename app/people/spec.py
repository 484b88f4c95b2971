"""The people list, declared once: its filters and sorts."""

from app import models as m
from app.reads.facets import Facet, labelled
from app.reads.filters import linked, one_of, search
from app.reads.spec import ReadSpec

P = m.Person

PEOPLE = ReadSpec(
    name="people",
    model=P,
    columns={"name": P.name, "slug": P.slug},
    key="slug",
    default_sort="slug",
    filters=(
        one_of("country", "Country code(s).", "RU", P.country_code, upper=True),
        linked(
            "organization",
            "Organisation of any position held.",
            "U.S. Department of State",
            "slug",
            m.Position.person_slug,
            m.Position.organization,
        ),
        search("person", "slug", "Part of a name or of any alternative spelling.", "Sergey"),
    ),  # fmt: skip
    facets=(
        Facet(
            "country",
            "country_code",
            "People per country.",
            labelled(m.Country.code, m.Country.name),
        ),
    ),  # fmt: skip
)
