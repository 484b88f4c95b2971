"""A list resource's read spec: each filter and each sort declared once.

From a `ReadSpec` come the query parameters (with their OpenAPI descriptions), their
validation and its 422s, and the SQL of a page, of the capped count and of the CSV and
NDJSON streams (`Plan`; `app/reads/compiled.py` keeps the compiled statements). A filter
declared here exists in every representation, and in none when it is not.
"""

import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Query
from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Integer, Select

from app.dates import Day
from app.errors import InvalidParameter
from app.filters import values as split_values
from app.pagination import Sort, SortParam

if TYPE_CHECKING:
    from app.reads.facets import Facet, Tallies

Kind = Literal["keys", "day", "text", "flag"]
Given = Mapping[str, tuple[Any, ...]]
"""The filters a request gives: name -> the values its condition takes (non-empty)."""


@dataclass(frozen=True)
class Where:
    """What a condition is written against: the columns the rows are read in order of
    (the resource's own, or a link table's copies of them) and the SQL dialect."""

    columns: Mapping[str, Any]
    dialect: str
    via: bool = False  # whether the link a filter names drives the read (is joined)
    # Many matches read in the sort's own index order: a filter's own index must not be
    # taken instead (it would find them all, to be sorted).
    walk: bool = False


Condition = Callable[[Where, Sequence[Any]], ColumnElement[bool]]


@dataclass(frozen=True)
class Filter:
    """One query parameter and the condition it adds.

    `index` names the index that serves the filter on its own (the plan test holds every
    filter to it), and `orders` the order column that index reads rows in, if any (after
    the filter's own columns). `own_row` is False for a filter that tests only the order columns or
    its link, so a count need not read the resource's rows. `compiled` is False when the
    condition's SQL depends on the value itself (a search), so it is built per request.
    """

    name: str
    kind: Kind
    description: str
    example: str
    condition: Condition
    index: str | None = None
    orders: str | None = None
    own_row: bool = True
    compiled: bool = True
    normalize: Callable[[str], str] = str.strip
    prepare: Callable[[Any], tuple[Any, ...]] | None = None  # the value -> condition values
    arity: int = 1  # condition values one value given makes (a period: its two bounds)


@dataclass(frozen=True)
class Via:
    """A link table that carries copies of the order columns, under an index that starts
    with its target: a filter on the link reads a page, in order, from that index alone."""

    model: Any
    on: Callable[[], ColumnElement[bool]]
    columns: Mapping[str, Any]  # order column name -> the link's copy


DAY: TypeAdapter[dt.date] = TypeAdapter(Day)
PARAMETER_TYPES: dict[Kind, Any] = {
    "keys": list[str] | None, "day": Day | None, "text": str | None, "flag": bool | None,
}  # fmt: skip


@dataclass(frozen=True)
class ReadSpec:
    name: str
    model: Any
    columns: Mapping[str, Any]  # the sortable columns by name; `key` breaks ties
    key: str
    default_sort: str
    filters: tuple[Filter, ...]
    via: Mapping[str, Via] = field(default_factory=dict)
    facets: tuple["Facet", ...] = ()  # app/reads/facets.py
    tallies: "Tallies | None" = None  # facet counts kept by the write path, where kept

    @cached_property  # made once per spec, at the first request: read on every one
    def by_name(self) -> dict[str, Filter]:
        return {f.name: f for f in self.filters}

    def given(self, **raw: Any) -> Given:
        """Filters as a request would give them: `spec.given(treaty=["inf"])`."""
        found: dict[str, tuple[Any, ...]] = {}
        days: dict[str, dt.date] = {}
        for name, value in raw.items():
            if value is None or value == [] or value == "":
                continue
            spec = self.by_name[name]
            if spec.kind == "keys":
                value = tuple(spec.normalize(v) for v in split_values(value))
                if not value:
                    continue
            elif spec.kind == "day":
                value = days[name] = DAY.validate_python(value)  # a date, or its ISO text
            found[name] = spec.prepare(value) if spec.prepare else _as_tuple(value)
        if "since" in days and "until" in days and days["since"] > days["until"]:
            raise InvalidParameter(f"since ({days['since']}) is after until ({days['until']}).")
        return found

    def dependency(self) -> Callable[..., Awaitable[Given]]:
        """A FastAPI dependency taking one query parameter per filter, documented as
        declared, and giving the request's filters."""

        async def parse(**raw: Any) -> Given:
            return self.given(**raw)

        parameters = [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    PARAMETER_TYPES[f.kind],
                    Query(description=f.description, examples=[f.example]),
                ],
            )
            for f in self.filters
        ]
        parse.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        return parse

    @cached_property
    def sorts(self) -> SortParam:
        """The `sort` parameter over the spec's columns, the key breaking ties."""
        return SortParam(dict(self.columns), self.columns[self.key], self.default_sort)

    def plan(self, given: Given, sort: Sort) -> "Plan":
        return Plan(self, given, sort)


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, dt.date):
        return (value,)
    return tuple(value) if isinstance(value, list | tuple) else (value,)


@dataclass(frozen=True)
class Plan:
    """One request's read: the filters given, the sort, and how the rows are found.

    - Filters whose indexes read rows in the order asked for (one value each; a link
      filter through its link, whose index carries the order column): the page is the
      first rows of that index, and the count reads at most COUNT_CAP + 1 entries of it.
    - Otherwise the count decides (`few`: it was exact, so at most COUNT_CAP rows match):
      few matches are found by the filters' indexes and sorted (at most COUNT_CAP rows);
      many are read in the sort's own index order, each tested: with more than COUNT_CAP
      matches, a page of 50 among them is about 50 x table / COUNT_CAP rows in (0.5 % of
      the table at most, matches spread as they come).
    """

    spec: ReadSpec
    given: Given
    requested: Sort
    few: bool | None = None  # the count, when taken: exact (few) or capped (many)

    @cached_property
    def index_ordered(self) -> bool:
        first = self.requested.order[0][0].key
        by_name = self.spec.by_name
        return all(
            len(v) == by_name[n].arity and by_name[n].orders == first for n, v in self.given.items()
        )

    @cached_property
    def via(self) -> Via | None:
        """The link that drives the read, when a filter on one is given and the rows are
        found by filters (not walked in the sort's order)."""
        if self.given and not self.index_ordered and not self.few:
            return None
        return next((v for name, v in self.spec.via.items() if name in self.given), None)

    def counted(self, exact: bool) -> "Plan":
        return Plan(self.spec, self.given, self.requested, few=exact)

    @cached_property
    def columns(self) -> Mapping[str, Any]:
        via = self.via
        return via.columns if via else self.spec.columns

    @cached_property
    def sort(self) -> Sort:
        """The requested sort over the columns rows are read in (a link's copies). Few
        matches, in an order their indexes do not give, are ordered by an expression no
        index serves (`column || ''`, `number + 0`), so that no planner walks the whole
        table in the sort's order instead."""
        columns = self.columns
        order = [(columns[column.key], desc) for column, desc in self.requested.order]
        if not self.given or self.index_ordered or not self.few:
            return Sort(self.requested.name, order)
        by = [(unindexed(c).desc() if desc else unindexed(c).asc()) for c, desc in order]
        return Sort(self.requested.name, order, by)

    @cached_property
    def compiled(self) -> bool:
        return all(self.spec.by_name[name].compiled for name in self.given)

    def conditions(
        self, dialect: str, values: Mapping[str, Sequence[Any]] | None = None, *,
        counting: bool = False,
    ) -> list[ColumnElement[bool]]:  # fmt: skip
        """Each given filter's condition, on `values` (bind parameters, when the statement
        is compiled once for many requests) or the request's own."""
        via = self.counting_via if counting else self.via
        # SQLite takes an index for an equality whatever it finds (no statistics), so its
        # filters' own indexes are hidden from it; PostgreSQL weighs the walk with its
        # statistics, which a hidden column would blind.
        walk = (not counting and dialect == "sqlite" and self.few is False and bool(self.given)
                and not self.index_ordered)  # fmt: skip
        where = Where(via.columns if via else self.spec.columns, dialect, via is not None, walk)
        values = self.given if values is None else values
        by_name = self.spec.by_name
        return [by_name[name].condition(where, values[name]) for name in self.given]

    def filtered(self, query: Select[Any], dialect: str, values: Any = None) -> Select[Any]:
        """`query` (over the resource's table) narrowed by the filters, joined to the
        driving link when there is one."""
        if (via := self.via) is not None:
            query = query.join(via.model, via.on())
        return query.where(*self.conditions(dialect, values))

    @cached_property
    def counting_via(self) -> Via | None:
        """A count always reads through the link a filter names: its index holds them."""
        return next((v for name, v in self.spec.via.items() if name in self.given), None)

    @cached_property
    def reads_rows(self) -> bool:
        """Whether counting must read the resource's rows, or the driving link will do."""
        by_name = self.spec.by_name
        return self.counting_via is None or any(by_name[n].own_row for n in self.given)

    def shape(self) -> tuple[Any, ...]:
        """What the compiled SQL depends on: which filters, how many values each, and
        how the rows are found."""
        found = (self.index_ordered, self.few)
        return (*((name, len(values)) for name, values in self.given.items()), found)


def unindexed(column: Any) -> Any:
    """The column's values in the column's own order, as an expression no index serves."""
    if isinstance(column.type, Integer):
        return column + 0
    return column.concat("")
