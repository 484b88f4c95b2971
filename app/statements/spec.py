"""The statements list, declared once: every filter and sort, and the index serving each.

A new filter is one `Filter` here (and, if it needs one, an index in a migration): the
query parameter, its documentation, its 422s, the JSON page, the count, the CSV and
NDJSON streams and the plan test all come from this declaration.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlmodel import col

from app import models as m
from app.dates import truncate
from app.errors import InvalidParameter
from app.filters import PRECISIONS, on_or_before, overlapping_from
from app.reads.spec import Filter, Given, ReadSpec, Via, Where
from app.search.query import HELP as SEARCH_HELP
from app.search.service import matching_keys

S, ST = m.Statement, m.StatementTreaty
DATE_RULE = "A statement dated only to a month or year matches when its period overlaps."


def _linked(_where: Where, treaties: Sequence[Any]) -> ColumnElement[bool]:
    """Read through statement_treaty (its `said_on` copy orders the rows); a statement
    linked to several of the treaties is read once, under the first of them."""
    if len(treaties) == 1:
        return col(ST.treaty_slug) == treaties[0]  # type: ignore[no-any-return]
    other = m.StatementTreaty.__table__.alias("other")  # type: ignore[attr-defined]
    earlier = select(other.c.treaty_slug).where(
        other.c.statement_id == ST.statement_id,
        other.c.treaty_slug.in_(treaties),
        other.c.treaty_slug < ST.treaty_slug,
    )
    return and_(col(ST.treaty_slug).in_(treaties), ~earlier.exists())


def _one_of(column: Any) -> Any:
    return lambda _where, values: col(column).in_(values)


def _since(day: dt.date) -> tuple[str, ...]:
    return tuple(truncate(day, precision) for precision in PRECISIONS)


def _check(given: Given) -> None:
    if "since" in given and "until" in given and given["since"][0] > given["until"][0]:
        since, until = given["since"][0], given["until"][0]
        raise InvalidParameter(f"since ({since}) is after until ({until}).")


STATEMENTS = ReadSpec(
    name="statements",
    model=S,
    columns={"said_on": S.said_on, "id": S.id},
    key="id",
    default_sort="-said_on",
    filters=(
        Filter(
            "treaty",
            "keys",
            "Treaty slug(s); repeat or comma-separate.",
            "new-start",
            _linked,
            "ix_statement_treaty_treaty_said_on",
            own_row=False,
        ),
        Filter(
            "speaker",
            "keys",
            "Speaker person slug(s).",
            "sergei-lavrov",
            _one_of(S.speaker_slug),
            "ix_statement_speaker_said_on_id",
        ),
        Filter(
            "country",
            "keys",
            "Code(s) of the speaker's country at the time.",
            "RU",
            _one_of(S.country_code),
            "ix_statement_country_said_on_id",
            normalize=lambda code: code.strip().upper(),
        ),
        Filter(
            "article",
            "keys",
            "Reporting article slug(s).",
            "act-2020-12-new-start-deal-to-wait-for-biden",
            _one_of(S.article_slug),
            "ix_statement_article_said_on_id",
        ),
        Filter(
            "since",
            "day",
            f"On or after. {DATE_RULE}",
            "2020-11-01",
            lambda where, bounds: overlapping_from(
                where.columns["said_on"], dict(zip(PRECISIONS, bounds, strict=True))
            ),
            "ix_statement_said_on_id",
            own_row=False,
            prepare=_since,
        ),
        Filter(
            "until",
            "day",
            f"On or before. {DATE_RULE}",
            "2020-12-31",
            lambda where, day: on_or_before(where.columns["said_on"], day[0]),
            "ix_statement_said_on_id",
            own_row=False,
            prepare=lambda d: (d.isoformat(),),
        ),
        Filter(
            "q",
            "text",
            SEARCH_HELP,
            "verif*",
            lambda where, text: col(where.columns["id"]).in_(
                matching_keys(where.dialect, "statement", text[0])
            ),
            "search_fts",
            own_row=False,
            compiled=False,
        ),
    ),  # fmt: skip
    via={
        "treaty": Via(
            ST,
            lambda: col(ST.statement_id) == S.id,
            {"said_on": ST.said_on, "id": ST.statement_id},
        )
    },
    check=_check,
    indexed_order="said_on",
)
