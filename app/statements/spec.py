"""The statements list, declared once: every filter and sort, and the index serving each.

A new filter is one line here (and, if it needs one, an index in a migration): the query
parameter, its documentation, its 422s, the JSON page, the count, the CSV and NDJSON
streams and the plan test (tests/test_plans.py) all come from this declaration.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlmodel import col

from app import models as m
from app.reads.facets import Facet, date_facets, labelled
from app.reads.filters import dated, one_of, search
from app.reads.spec import Filter, ReadSpec, Via, Where
from app.statements import tallies

S, ST = m.Statement, m.StatementTreaty


def _linked(where: Where, treaties: Sequence[Any]) -> ColumnElement[bool]:
    """Through statement_treaty when it drives the read (its `said_on` copy orders the
    rows; a statement linked to several of the treaties is read once, under the first of
    them); else a link to one of them, tested for each statement read."""
    if not where.via:
        linked = select(col(ST.treaty_slug)).where(
            col(ST.statement_id) == S.id, col(ST.treaty_slug).in_(treaties)
        )
        return linked.exists()
    if len(treaties) == 1:
        return col(ST.treaty_slug) == treaties[0]  # type: ignore[no-any-return]
    other = m.StatementTreaty.__table__.alias("other")  # type: ignore[attr-defined]
    earlier = select(other.c.treaty_slug).where(
        other.c.statement_id == ST.statement_id,
        other.c.treaty_slug.in_(treaties),
        other.c.treaty_slug < ST.treaty_slug,
    )
    return and_(col(ST.treaty_slug).in_(treaties), ~earlier.exists())


TREATY = Filter("treaty", "keys", "Treaty slug(s); repeat or comma-separate.", "new-start",
                _linked, "ix_statement_treaty_treaty_said_on", "said_on",
                own_row=False)  # fmt: skip
SPEAKER = one_of("speaker", "Speaker person slug(s).", "sergei-lavrov", S.speaker_slug,
                 index="ix_statement_speaker_said_on_id", orders="said_on")  # fmt: skip
COUNTRY = one_of("country", "Code(s) of the speaker's country at the time.", "RU",
                 S.country_code, index="ix_statement_country_said_on_id", orders="said_on",
                 upper=True)  # fmt: skip
ARTICLE = one_of("article", "Reporting article slug(s).",
                 "act-2020-12-new-start-deal-to-wait-for-biden", S.article_slug,
                 index="ix_statement_article_said_on_id", orders="said_on")  # fmt: skip

# The treaty link, read in date order from its own index (the `said_on` copy).
BY_TREATY = Via(
    ST, lambda: col(ST.statement_id) == S.id, {"said_on": ST.said_on, "id": ST.statement_id}
)

STATEMENTS = ReadSpec(
    name="statements",
    model=S,
    columns={"said_on": S.said_on, "id": S.id},
    key="id",
    default_sort="-said_on",
    filters=(
        TREATY,
        SPEAKER,
        COUNTRY,
        ARTICLE,
        *dated("said_on", "Said", ("2020-11-01", "2020-12-31"), "ix_statement_said_on_id"),
        search("statement", "id"),
    ),
    via={"treaty": BY_TREATY},
    facets=(
        Facet(
            "treaty",
            "treaty_slug",
            "Statements per treaty (one about two treaties counts under each).",
            labelled(m.Treaty.slug, m.Treaty.short_name),
            link=BY_TREATY,
        ),
        Facet(
            "speaker",
            "speaker_slug",
            "Statements per speaker.",
            labelled(m.Person.slug, m.Person.name),
        ),
        Facet(
            "country",
            "country_code",
            "Statements per speaker's country at the time.",
            labelled(m.Country.code, m.Country.name),
        ),
        Facet(
            "article",
            "article_slug",
            "Statements per reporting article.",
            labelled(m.Article.slug, m.Article.title),
        ),
        *date_facets("said_on", "Statements"),
    ),  # fmt: skip
    tallies=tallies.counts,
)
