"""Statement counts per facet value, kept per context: all statements, or those with one
value of one key filter (a treaty's, a speaker's, a country's, an article's), or within
one year or month (`during`).

A list's facets with no filter, or one such filter of one value (a treaty's page, a
speaker's), are then a read of a few rows of `statement_tally` (app/reads/facets.py
chooses), not a count over up to all the statements. The one write path keeps it: each
statement written or deleted adds +1/-1 to every (context, facet value) it is in, in the
write's transaction; a bulk load rebuilds it from the tables in one GROUP BY per pair
(`treatykb db tallies` does too, and the migration that made it).
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, text, tuple_
from sqlmodel import Session, col

from app import models as m
from app.db import Prepared
from app.importing.records import StatementRecord
from app.reads.facets import Exact

T = m.StatementTally
# The facets kept, and the contexts they are kept in besides all statements: the key
# filters and the periods `during` names (a year or month), the same dimensions.
FACETS = GIVEN = ("treaty", "speaker", "country", "article", "said_on:year", "said_on:month")
PERIODS = {4: "said_on:year", 7: "said_on:month"}  # a `during` value's length -> context
Key = tuple[str, str, str, str]  # given, given value, facet, value


def _values(record: StatementRecord) -> dict[str, list[str]]:
    """The record's values of each dimension (a month '' when only the year is known)."""
    return {
        "treaty": list(record.treaties),
        "speaker": [record.speaker] if record.speaker else [],
        "country": [record.country] if record.country else [],
        "article": [record.article] if record.article else [],
        "said_on:year": [record.said_on[:4]],
        "said_on:month": [record.said_on[:7] if len(record.said_on) >= 7 else ""],
    }


def _counted(given: str, facet: str) -> bool:
    """Whether a facet is kept in a context: never under its own filter, nor a date facet
    under a period (both are `during`'s, which a date facet leaves out)."""
    return facet != given and not (given.startswith("said_on:") and facet.startswith("said_on:"))


def _keys(record: StatementRecord) -> Iterator[Key]:
    values = _values(record)
    contexts = [("", "")] + [(name, v) for name in GIVEN for v in values[name] if v]
    for given, given_value in contexts:
        for facet in FACETS:
            if _counted(given, facet):
                yield from ((given, given_value, facet, value) for value in values[facet])


def apply(
    session: Session, changes: Iterable[tuple[StatementRecord | None, StatementRecord | None]]
) -> None:
    """Count each (before, after) change: -1 for what was, +1 for what is."""
    delta: Counter[Key] = Counter()
    for before, after in changes:
        if before is not None:
            delta.subtract(_keys(before))
        if after is not None:
            delta.update(_keys(after))
    moved = {key: n for key, n in delta.items() if n}
    if not moved:
        return
    table = T.__table__  # type: ignore[attr-defined]
    upsert = _upsert(session.connection())
    session.connection().execute(
        upsert, [dict(zip(COLUMNS, (*key, n), strict=True)) for key, n in sorted(moved.items())]
    )
    gone = [key for key, n in moved.items() if n < 0]
    for start in range(0, len(gone), 500):
        keys = tuple_(table.c.given, table.c.given_value, table.c.facet, table.c.value)
        session.execute(delete(table).where(keys.in_(gone[start : start + 500]), table.c.n <= 0))


COLUMNS = ("given", "given_value", "facet", "value", "n")


def _upsert(connection: Connection) -> Any:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(T.__table__)  # type: ignore[attr-defined]
    return statement.on_conflict_do_update(
        index_elements=list(COLUMNS[:4]),
        set_={"n": T.__table__.c.n + statement.excluded.n},  # type: ignore[attr-defined]
    )


# Each dimension's value, of a row of `statement` or of `tally_linked` (below): `{t}` is
# the table's alias.
EXPRESSIONS = {
    "treaty": "{t}.treaty_slug",
    "speaker": "{t}.speaker_slug",
    "country": "{t}.country_code",
    "article": "{t}.article_slug",
    "said_on:year": "substr({t}.said_on, 1, 4)",
    "said_on:month": "CASE WHEN length({t}.said_on) >= 7 "
    "THEN substr({t}.said_on, 1, 7) ELSE '' END",
}
# Each statement once per treaty, joined once for every pair with a treaty in it: six
# joins of a million statements cost 27 of a rebuild's 41 s.
LINKED = (
    "CREATE TEMPORARY TABLE tally_linked AS SELECT t.treaty_slug, s.speaker_slug, "
    "s.country_code, s.article_slug, s.said_on FROM statement s "
    "JOIN statement_treaty t ON t.statement_id = s.id"
)


def rebuild_sql() -> Iterator[str]:
    """The statements that fill the table from the statements, one per (context, facet)."""
    yield "DELETE FROM statement_tally"
    yield LINKED
    for given in ("", *GIVEN):
        for facet in FACETS:
            if not _counted(given, facet):
                continue
            table = "tally_linked" if "treaty" in (given, facet) else "statement"
            of = EXPRESSIONS[facet].format(t="x")
            context = EXPRESSIONS[given].format(t="x") if given else "''"
            grouped = f"{context}, {of}" if given else of
            # A context has a value: no article, or no month, is none.
            known = f" AND {context} IS NOT NULL AND {context} <> ''" if given else ""
            yield (
                f"INSERT INTO statement_tally (given, given_value, facet, value, n) "
                f"SELECT '{given}', {context}, '{facet}', {of}, count(*) "
                f"FROM {table} x WHERE {of} IS NOT NULL{known} GROUP BY {grouped}"
            )
    yield "DROP TABLE tally_linked"


def rebuild(connection: Connection) -> None:
    for sql in rebuild_sql():
        connection.execute(text(sql))


def counts(session: Session, rest: Mapping[str, Sequence[Any]], facet: str, limit: int | None,
           exact: Exact) -> Sequence[Any] | None:  # fmt: skip
    """(value, count) rows of one facet under the other filters `rest`, when they are none
    or one tallied filter, or `since` or `until` alone (else None: counted over the
    statements): most first (ties by value) up to `limit`, or every value in value order
    when `limit` is None (a date facet; '' first, the statements dated less precisely).
    Several values of a filter add up where a statement has one value at most (not
    treaties: one about two would count twice)."""
    if facet not in FACETS or len(rest) > 1:
        return None
    given, values = next(iter(rest.items()), ("", ("",)))
    if given in ("since", "until"):
        return ranged(session, given == "since", values[0], facet, limit, exact)
    if given == "during":  # periods of one length: the context of their precision
        values = values[::2]  # the filter's values are (period, its upper bound) pairs
        lengths = {len(value) for value in values}
        given = PERIODS.get(lengths.pop(), "") if len(lengths) == 1 else ""
        if not given:
            return None
    if given and (given not in GIVEN or (given == "treaty" and len(values) > 1)):
        return None
    if len(values) == 1:  # one context: its rows as kept, the top ones read from the index
        bound = {"given": given, "given_value": values[0], "facet": facet, "limit": limit}
        return _one_context(session, limit is None).rows(session.connection(), bound)
    where = (col(T.given) == given, col(T.given_value).in_(values), col(T.facet) == facet)
    total = func.sum(T.n).label("n")
    summed = select(col(T.value), total).where(*where).group_by(col(T.value)).having(total > 0)
    if limit is None:
        return session.execute(summed.order_by(col(T.value))).all()
    summed = summed.where(col(T.value) != "").order_by(total.desc(), col(T.value))
    return session.execute(summed.limit(limit)).all()


_COMPILED: dict[tuple[str, bool], Prepared] = {}


def _one_context(session: Session, dated: bool) -> Prepared:
    """One context's rows of a facet, compiled once per database and kind: a treaty's
    page asks for four of them, on every request."""
    dialect = session.get_bind().dialect
    found = _COMPILED.get((dialect.name, dated))
    if found is None:
        query = select(col(T.value), col(T.n)).where(
            col(T.given) == bindparam("given"),
            col(T.given_value) == bindparam("given_value"),
            col(T.facet) == bindparam("facet"),
            col(T.n) > 0,
        )
        if dated:
            query = query.order_by(col(T.value))
        else:
            query = query.where(col(T.value) != "").order_by(col(T.n).desc(), col(T.value))
            query = query.limit(bindparam("limit"))
        found = _COMPILED[(dialect.name, dated)] = Prepared(query, dialect)
    return found


def ranged(session: Session, after: bool, day: str, facet: str, limit: int | None,
           exact: Exact) -> list[tuple[str, int]]:  # fmt: skip
    """A facet under `since` (`after`) or `until` a day: the kept counts of the years
    beyond the day's year and of the months beyond its month in that year, and, counted
    over the records, the rest of the day's year the range overlaps: the statements dated
    only to its year, only to its month, or to a day of its month on the range's side."""
    year, month = day[:4], day[:7]
    # As `during`'s bounds (app/filters.py), [year, year-) holding just "2020", one range
    # at a time: the planner seeks each in the date's index (together, it walked the index
    # of the facet's column instead).
    alone = (year, year + "-")
    ranges = (
        (alone, (month, month + "-"), (day, month + "~")) if after else (alone, (month, day + "~"))
    )
    residue = [row for bounds in ranges for row in exact({"during": bounds})]
    years, months = _all_dates(session)

    def beyond(value: str, edge: str) -> bool:
        return value > edge if after else value < edge

    later_years = {y: n for y, n in years.items() if beyond(y, year)}
    in_year = {m: n for m, n in months.items() if m[:4] == year and beyond(m, month)}
    if facet.startswith("said_on:"):
        return _dates_ranged(facet, year, later_years, in_year, residue, months)
    tally = T.__table__  # type: ignore[attr-defined]
    summed: Counter[str] = Counter()
    for given, periods in (("said_on:year", later_years), ("said_on:month", in_year)):
        if periods:  # one index seek per period: in the index, a period's facets follow it
            query = select(tally.c.value, func.sum(tally.c.n)).where(
                tally.c.given == given,
                tally.c.given_value.in_(sorted(periods)),
                tally.c.facet == facet,
            )
            summed.update(dict(session.execute(query.group_by(tally.c.value)).all()))
    for value, n in residue:
        summed[value] += n
    ranked = sorted(((v, n) for v, n in summed.items() if n > 0 and v), key=lambda r: (-r[1], r[0]))
    return ranked[:limit]


def _all_dates(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """All statements' counts per year, and per month (those dated to one)."""
    context = _one_context(session, True)
    bound = {"given": "", "given_value": ""}
    years, months = (
        {value: n for value, n in context.rows(session.connection(), {**bound, "facet": name})}  # noqa: C416 (rows are Rows)
        for name in ("said_on:year", "said_on:month")
    )  # fmt: skip
    months.pop("", None)
    return years, months


def _dates_ranged(
    facet: str,
    year: str,
    later_years: Mapping[str, int],
    in_year: Mapping[str, int],
    residue: Sequence[Any],
    months: Mapping[str, int],
) -> list[tuple[str, int]]:
    """A date facet under `since` or `until`: the years beyond the day's year as all
    statements' counts keep them, the day's year as its months beyond the day's month
    and the residue; a month facet's months beyond, and as unknown (''), the statements
    dated only to a year beyond (its count less its months'), or to the day's year."""
    found: Counter[str] = Counter()
    if facet == "said_on:year":
        found.update(later_years)
        found[year] += sum(in_year.values())
    else:
        found.update({m: n for m, n in months.items() if m[:4] in later_years or m in in_year})
        months_beyond = sum(n for m, n in months.items() if m[:4] in later_years)
        found[""] += sum(later_years.values()) - months_beyond
    for value, n in residue:
        found[value or ""] += n
    return sorted((v, n) for v, n in found.items() if n > 0)
