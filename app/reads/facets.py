"""Facets: how many of a list's records have each value of a dimension, under the list's
filters (the facet's own excepted, so a menu shows its alternatives).

Declared once per list in its read spec (`ReadSpec.facets`): a key facet mirrors a
filter (`treaty`, `speaker`, ...) and counts by its values, top FACET_VALUES by count; a
date facet counts by a date column at a precision (`said_on:month`), in date order, a
record counting only where its date is known that precisely: one of "2020-11" is in
November 2020 and in 2020, in no day, and counted under `unknown_day` instead. Each value
comes with the URL of the list narrowed to it (the key filter, or `during`), so a count
and the total of the list it links to are the same number.
"""

import calendar
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol
from urllib.parse import quote_plus, urlencode

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, case, func, select
from sqlmodel import Session
from starlette.requests import Request

from app.errors import InvalidParameter
from app.filters import values as split_values
from app.history.past import is_past
from app.pagination import Page, T, VersionMemo, version_memo
from app.reads.spec import Given, ReadSpec, Via, Where

FACET_VALUES = 50  # key values given per facet, most frequent first (`more` says if cut)


class FacetValue(BaseModel):
    value: str = Field(
        description="A treaty slug, person slug, country code, article slug, "
        "or a period (2020, 2020-11, 2020-11-21)."
    )
    label: str = Field(description="What a menu shows: a name, or a period in words.")
    count: int = Field(description="Records matching the list's other filters with this value.")
    selected: bool = Field(description="Whether the list is narrowed to this value now.")
    url: str = Field(
        description="The list with this value added to its filter (a period replaces the "
        "one held; taken out, when selected), from the first page."
    )


class FacetCounts(BaseModel):
    values: list[FacetValue] = Field(
        description=f"Key facets: the {FACET_VALUES} most frequent values, most first "
        "(ties by value). Date facets: every period, oldest first."
    )
    more: bool = Field(description="Whether values were left out.")
    unknown_year: int | None = Field(None, description="Records with no year (date facets).")
    unknown_month: int | None = Field(
        None, description="Records dated only to a year (`said_on:month`)."
    )
    unknown_day: int | None = Field(
        None, description="Records dated only to a month or year (`said_on:day`)."
    )


class FacetedPage(Page[T]):
    facets: dict[str, FacetCounts] | None = Field(
        None, description="The counts `facet` asked for, by facet name; absent without it."
    )


DATE_BUCKETS = 1000  # date buckets given per facet, oldest first
LENGTHS = {"year": 4, "month": 7, "day": 10}
Labels = Callable[[Session, Sequence[str]], Mapping[str, str]]


@dataclass(frozen=True)
class Facet:
    """A count by the values of `column` (a name in the read's columns, or a link's
    target). A key facet is named for the filter that selects its values; `precision`
    makes it a date facet, whose periods `during` selects. `link` is the link table that
    holds the column."""

    name: str
    column: Any
    description: str
    labels: Labels | None = None
    link: Via | None = None
    precision: str | None = None

    @property
    def dated(self) -> bool:
        return self.precision is not None

    @property
    def filter(self) -> str:
        """The filter a value's URL sets, and that the counts leave out."""
        return "during" if self.dated else self.name


def date_facets(column: str, noun: str) -> tuple[Facet, ...]:
    return tuple(
        Facet(
            f"{column}:{precision}",
            column,
            f"{noun} per {precision}: records dated less precisely count as unknown.",
            precision=precision,
        )  # fmt: skip
        for precision in LENGTHS
    )


def labelled(key: Any, label: Any) -> Labels:
    """Labels read from a table: the `label` column of the rows whose `key` is a value."""

    def read(session: Session, values: Sequence[str]) -> Mapping[str, str]:
        rows = session.execute(select(key, label).where(key.in_(values))).all()
        return {value: text for value, text in rows}  # noqa: C416 (rows are Rows)

    return read


class Declares(Protocol):
    """What declares facets: a list's read spec, or search's."""

    @property
    def name(self) -> str: ...

    @property
    def facets(self) -> tuple[Facet, ...]: ...


def parameter(spec: Declares) -> Callable[..., Awaitable[tuple[Facet, ...]]]:
    """A FastAPI dependency: the `facet` query parameter of a list, documented with the
    facets its spec declares."""
    listed = "; ".join(f"`{facet.name}`: {facet.description}" for facet in spec.facets)

    async def facets(
        facet: Annotated[
            list[str] | None,
            Query(
                description=f"Count the matching records by each of these (repeat or "
                f"comma-separate), beside the page; with format=csv or ndjson, the counts "
                f"are the answer. {listed}",
                examples=[spec.facets[0].name],
            ),
        ] = None,
    ) -> tuple[Facet, ...]:
        return chosen(spec, split_values(facet))

    return facets


def counter(
    request: Request, session: Session, spec: ReadSpec, given: Given, facets: Sequence[Facet]
) -> Callable[[], dict[str, dict[str, Any]]] | None:
    """What a list calls for the counts the request asked for, if it asked."""
    if not facets:
        return None
    return lambda: answers(request, session, spec, given, facets)


def chosen(spec: Declares, names: Iterable[str]) -> tuple[Facet, ...]:
    """The facets a request names, in its order, once each; a 422 for an unknown one."""
    by_name = {facet.name: facet for facet in spec.facets}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none"
        raise InvalidParameter(f"No facet {', '.join(unknown)} on {spec.name}; known: {known}.")
    return tuple(by_name[name] for name in dict.fromkeys(names))


def bucket(date: Any, precision: str) -> Any:
    """The period of `precision` a date (as text) is within, NULL when it is less precise."""
    length = LENGTHS[precision]
    return case((func.length(date) >= length, func.substr(date, 1, length)), else_=None)


def count_query(spec: ReadSpec, rest: Given, facet: Facet, dialect: str) -> Select[Any]:
    """Counts by the facet's values under the other filters `rest`: from the link that a given
    filter names (its index holds the order columns) or the facet's own link, joined to
    the resource's rows only when a filter or the facet reads them (or the link holds
    no copies of the columns the filters test). PostgreSQL 15 cannot skip-scan a link's
    (key, date) index for a date range alone: there, the resource's rows are read first."""
    by_name = spec.by_name
    via = next((v for name, v in spec.via.items() if name in rest), None)
    table = via or facet.link
    copies = table.columns if table is not None else {}
    skip_scan = dialect == "sqlite" or via is not None
    reads_rows = any(by_name[name].own_row for name in rest) or set(copies) != set(spec.columns)
    own_rows = (
        (facet.link is None and facet.column not in copies)
        or bool(rest)
        and (reads_rows or not skip_scan)
    )
    columns = copies if table is not None and (via or not own_rows) else spec.columns
    where = Where(columns, dialect, via is not None)
    if facet.link is not None:
        value = getattr(facet.link.model, facet.column)
    elif facet.dated:
        value = bucket(columns[facet.column], facet.precision or "day")
    else:
        value = getattr(spec.model, facet.column)
    query = select(value.label("value"), func.count().label("count"))
    if table is None:
        query = query.select_from(spec.model)
    else:
        query = query.select_from(table.model)
        if own_rows:
            query = query.join(spec.model, table.on())
    if via is not None and facet.link is not None and facet.link is not via:
        query = query.join(facet.link.model, facet.link.on())
    conditions = [by_name[name].condition(where, values) for name, values in rest.items()]
    if not facet.dated:
        conditions.append(value.is_not(None))  # a record with no value is in no bucket
    return query.where(*conditions).group_by(value)


Exact = Callable[[Given], Sequence[Any]]


class Tallies(Protocol):
    def __call__(self, session: Session, rest: Given, facet: str, limit: int | None,
                 exact: Exact) -> Sequence[Any] | None:  # fmt: skip
        """A facet's (value, count) rows under the other filters `rest` from counts kept
        by the write path (with what `exact` counts over the records under other filters,
        in no order), or None where none are kept for them: most first up to `limit`, or
        all in value order (None: a date facet, its '' the less precise)."""


def _rows(session: Session, spec: ReadSpec, given: Given, facet: Facet) -> Sequence[Any]:
    """The facet's (value, count) rows: kept counts where the spec keeps them for these
    filters, else counted over the records (the same rows, property-tested)."""
    rest = {name: values for name, values in given.items() if name != facet.filter}
    limit = None if facet.dated else FACET_VALUES + 1
    dialect = session.get_bind().dialect.name
    if spec.tallies is not None and not is_past():  # tallies are the current version's

        def exact(other: Given) -> Sequence[Any]:
            return session.execute(count_query(spec, other, facet, dialect)).all()

        kept = spec.tallies(session, rest, facet.name, limit, exact)
        if kept is not None:
            return [(value or None, count) for value, count in kept]  # '': no date bucket
    query = count_query(spec, rest, facet, dialect)
    if facet.dated:
        return session.execute(query.order_by(query.selected_columns.value)).all()
    ranked = query.order_by(func.count().desc(), query.selected_columns.value)
    return session.execute(ranked.limit(limit)).all()


Memo = tuple[VersionMemo, int]  # the app's memo and the request's data version


def counted(
    session: Session, facet: Facet, rows: Sequence[Any], memo: Memo | None = None
) -> dict[str, Any]:
    """One facet's answer from its (value, count) rows (most first, or a date facet's in
    date order, None for the less precise): its values (value, label, count) and whether
    more were left out, and for a date facet how many records are dated less precisely."""
    if facet.dated:
        unknown = sum(count for value, count in rows if value is None)
        known = [(value, count) for value, count in rows if value is not None]
        shown = known[:DATE_BUCKETS]
        values = [{"value": v, "label": date_label(v), "count": c} for v, c in shown]
        return {"values": values, "more": len(known) > len(shown),
                f"unknown_{facet.precision}": unknown}  # fmt: skip
    top = rows[:FACET_VALUES]
    labels = _labels(session, facet, [v for v, _ in top], memo) if facet.labels else {}
    values = [{"value": v, "label": labels.get(v, v), "count": c} for v, c in top]
    return {"values": values, "more": len(rows) > FACET_VALUES}


def _labels(
    session: Session, facet: Facet, values: list[str], memo: Memo | None
) -> Mapping[str, str]:
    """The values' labels, kept per data version: the speakers of one treaty's page are
    mostly those of the last one's."""
    assert facet.labels is not None
    if memo is None:
        return facet.labels(session, values)
    kept, version = memo
    found = {
        v: label for v in values if (label := kept.get((version, facet.labels, v))) is not None
    }
    missing = [v for v in values if v not in found]
    if missing:
        read = facet.labels(session, missing)
        for value in missing:
            found[value] = read.get(value, value)
            kept.put((version, facet.labels, value), found[value])
    return found


def date_label(value: str) -> str:
    """ "2020-11" is "November 2020"; a year or a day is itself."""
    if len(value) == LENGTHS["month"]:
        return f"{calendar.month_name[int(value[5:7])]} {value[:4]}"
    return value


def _with_urls(
    answer: dict[str, Any], facet: Facet, normalize: Callable[[str], str], request: Request
) -> dict[str, Any]:
    """Each value with `selected` (the filter holds it) and `url`: the list with the value
    added to the facet's filter (a period instead of the one held), or taken out when
    selected, from its first page. The rest of the query is encoded once per facet (per
    value, Starlette's URL editing was 70 % of a four-facet answer's time)."""
    name = quote_plus(facet.filter)
    held = [normalize(v) for v in split_values(request.query_params.getlist(facet.filter))]
    others = [(k, v) for k, v in request.query_params.multi_items()
              if k not in ("cursor", facet.filter)]  # fmt: skip
    path = str(request.url.replace(query=""))
    rest = urlencode(others)
    first = f"{path}?{rest}" if rest else path
    joined = f"{first}&" if rest else f"{path}?"
    # A key joins those held (any of them); a period replaces the one held (a day within
    # 2020 narrows it).
    adding = joined + "".join(f"{name}={_quoted(v)}&" for v in held if not facet.dated)
    for item in answer["values"]:
        value = item["value"]
        item["selected"] = selected = value in held
        if not selected:
            item["url"] = f"{adding}{name}={_quoted(value)}"
            continue
        kept = [] if facet.dated else [v for v in held if v != value]
        item["url"] = joined + "&".join(f"{name}={_quoted(v)}" for v in kept) if kept else first
    return answer


URL_SAFE = re.compile(r"[A-Za-z0-9_.\-~]*")  # slugs, codes, periods: as they are in a URL


def _quoted(value: str) -> str:
    return value if URL_SAFE.fullmatch(value) else quote_plus(value)


def answer(
    request: Request,
    session: Session,
    facet: Facet,
    rows: Sequence[Any],
    normalize: Callable[[str], str] = str.strip,
) -> dict[str, Any]:
    """A facet's answer from its rows, each value with its URL (`normalize` reads the
    values the request holds as the filter does)."""
    answered = counted(session, facet, rows, version_memo(request))
    return _with_urls(answered, facet, normalize, request)


def answers(
    request: Request, session: Session, spec: ReadSpec, given: Given, facets: Sequence[Facet]
) -> dict[str, dict[str, Any]]:
    """A list's counts of every facet asked for, by name."""
    return {
        facet.name: answer(
            request,
            session,
            facet,
            _rows(session, spec, given, facet),
            spec.by_name[facet.filter].normalize,
        )  # fmt: skip
        for facet in facets
    }
