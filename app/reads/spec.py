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
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Integer, Select

from app.dates import Day
from app.errors import InvalidParameter
from app.filters import values as split_values
from app.pagination import Sort, SortParam

Kind = Literal["keys", "day", "text", "flag"]
Given = Mapping[str, tuple[Any, ...]]
"""The filters a request gives: name -> the values its condition takes (non-empty)."""


@dataclass(frozen=True)
class Where:
    """What a condition is written against: the columns the rows are read in order of
    (the resource's own, or a link table's copies of them) and the SQL dialect."""

    columns: Mapping[str, Any]
    dialect: str


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

    @property
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

    @property
    def sorts(self) -> SortParam:
        return _sorts(self)

    def plan(self, given: Given, sort: Sort) -> "Plan":
        via_name = next((name for name in self.via if name in given), None)
        return Plan(self, given, sort, self.via[via_name] if via_name else None)


_SORTS: dict[str, SortParam] = {}


def _sorts(spec: ReadSpec) -> SortParam:
    if spec.name not in _SORTS:
        _SORTS[spec.name] = SortParam(dict(spec.columns), spec.columns[spec.key], spec.default_sort)
    return _SORTS[spec.name]


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, dt.date):
        return (value,)
    return tuple(value) if isinstance(value, list | tuple) else (value,)


@dataclass(frozen=True)
class Plan:
    """One request's read: the filters given, the sort, and the link that drives it (if
    a filter on one was given): from it, the SQL of the page, the count and the streams."""

    spec: ReadSpec
    given: Given
    requested: Sort
    via: Via | None

    @property
    def columns(self) -> Mapping[str, Any]:
        return self.via.columns if self.via else self.spec.columns

    @property
    def sort(self) -> Sort:
        """The requested sort over the columns rows are read in (a link's copies).

        Filtered, in an order a given filter's index does not give, the rows the filters'
        indexes find are sorted: ordered by an expression no index serves (`column || ''`,
        `number + 0`), so no planner walks the whole table in the sort's order testing
        each row instead (fast when matches are common and evenly spread, a scan of the
        table when they are not)."""
        columns = self.columns
        order = [(columns[column.key], desc) for column, desc in self.requested.order]
        first = self.requested.order[0][0].key
        if all(self.spec.by_name[name].orders == first for name in self.given):
            return Sort(self.requested.name, order)
        by = [(_unindexed(c).desc() if desc else _unindexed(c).asc()) for c, desc in order]
        return Sort(self.requested.name, order, by)

    @property
    def compiled(self) -> bool:
        return all(self.spec.by_name[name].compiled for name in self.given)

    def conditions(
        self, dialect: str, values: Mapping[str, Sequence[Any]] | None = None
    ) -> list[ColumnElement[bool]]:
        """Each given filter's condition, on `values` (bind parameters, when the statement
        is compiled once for many requests) or the request's own."""
        where = Where(self.columns, dialect)
        values = self.given if values is None else values
        by_name = self.spec.by_name
        return [by_name[name].condition(where, values[name]) for name in self.given]

    def filtered(self, query: Select[Any], dialect: str, values: Any = None) -> Select[Any]:
        """`query` (over the resource's table) narrowed by the filters, joined to the
        driving link when there is one."""
        if self.via is not None:
            query = query.join(self.via.model, self.via.on())
        return query.where(*self.conditions(dialect, values))

    @property
    def reads_rows(self) -> bool:
        """Whether counting must read the resource's rows, or the driving link will do."""
        return self.via is None or any(self.spec.by_name[n].own_row for n in self.given)

    def shape(self) -> tuple[Any, ...]:
        """What the compiled SQL depends on: which filters, how many values each."""
        return tuple((name, len(values)) for name, values in self.given.items())


def _unindexed(column: Any) -> Any:
    """The column's values in the column's own order, as an expression no index serves."""
    if isinstance(column.type, Integer):
        return column + 0
    return column.concat("")
