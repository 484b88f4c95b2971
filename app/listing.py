"""One way every list answers: a JSON page, or every matching row streamed as CSV/NDJSON.

CSV columns are the item schema's fields; a related record becomes its slug (or code or
id), a list of them a `;`-joined string. Streams read in batches on a connection of their
own (keyset batches, or one statement for the statements' CSV), so a million-row export
runs in constant memory.
"""

import csv
import io
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from fastapi import Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Engine, Select
from sqlmodel import Session

from app.db import engine_of, is_sqlite
from app.errors import InvalidParameter
from app.json import JSONBytes, dumps
from app.pagination import (
    Page,
    PageParams,
    Slice,
    Sort,
    counted_by,
    cursor_after,
    envelope,
    fetch_page,
    kept_count,
    next_link,
    ordered_after,
)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Many(Generic[M]):
    """A page's (or a stream batch's) items built together, from what one query for all
    of them reads, rather than a query or two per item."""

    build: Callable[[Session, Sequence[Any]], list[M]]


Build = Callable[[Any], M] | Many[M]


def _built(session: Session, rows: Sequence[Any], build: "Build[M]") -> list[M]:
    if isinstance(build, Many):
        return build.build(session, rows)
    return [build(row) for row in rows]


BATCH = 1000
KEYS = ("slug", "code", "id")


def columns_of(schema: type[BaseModel]) -> list[str]:
    return [*schema.model_fields, *schema.model_computed_fields]


def check_fields(schema: type[BaseModel], fields: tuple[str, ...]) -> list[str]:
    known = columns_of(schema)
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise InvalidParameter(
            f"Unknown field(s) in fields=: {', '.join(unknown)}. Known: {', '.join(known)}."
        )
    return list(fields) or known


def _flat(value: Any) -> Any:
    if isinstance(value, dict):
        key = next((k for k in KEYS if k in value), None)
        return value[key] if key else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return ";".join(str(_flat(item)) for item in value)
    return value


def _csv_rows(items: Iterable[BaseModel], columns: list[str]) -> Iterator[str]:
    return _csv_dicts((item.model_dump(mode="json") for item in items), columns)


def _ndjson_rows(items: Iterable[BaseModel], columns: list[str]) -> Iterator[str]:
    for item in items:
        yield json.dumps(item.model_dump(mode="json", include=set(columns)), ensure_ascii=False)
        yield "\n"


def stream(page: PageParams, schema: type[BaseModel], items: Iterable[BaseModel]) -> Response:
    columns = check_fields(schema, page.fields)
    if page.format == "csv":
        return StreamingResponse(_csv_rows(items, columns), media_type="text/csv; charset=utf-8")
    return StreamingResponse(_ndjson_rows(items, columns), media_type="application/x-ndjson")


RowShape = Literal["entities", "rows"]


def _keyset_batches(
    engine: Engine, query: Select[Any], sort: Sort, page: PageParams, *, shape: RowShape
) -> Iterator[tuple[Session, list[Any]]]:
    """Every row after the page's cursor (up to an explicit limit), BATCH rows at a time,
    each batch seeking past the last: the loop behind the NDJSON streams and the CSV of
    built items. Rows come as ORM `entities` or Core `rows`."""
    remaining = page.limit if page.explicit_limit else None
    cursor = page.cursor
    with Session(engine) as session:
        while remaining is None or remaining > 0:
            size = BATCH if remaining is None else min(BATCH, remaining)
            paged = ordered_after(query, sort, cursor).limit(size)
            if shape == "entities":
                rows = list(session.execute(paged).scalars())
            else:  # Core rows: skip the ORM's execution path
                rows = list(session.connection().execute(paged).all())
            yield session, rows
            if len(rows) < size:
                return
            cursor = cursor_after(rows[-1], sort)
            remaining = None if remaining is None else remaining - len(rows)


def _streamed(
    engine: Engine, query: Select[Any], sort: Sort, page: PageParams
) -> Iterator[Sequence[Any]]:
    """Every row after the page's cursor (up to an explicit limit) from one statement,
    BATCH rows at a time, so memory stays constant and the export reads one snapshot.
    SQLite's driver steps the statement as rows are fetched: its own tuples are read
    (no Row built per row). psycopg reads a whole result at once unless given a
    server-side cursor (`stream_results`). 100,000 statements at 1M: 1.45 s in keyset
    batches of 1,000 (a statement each, compiled and seeked), 1.1 s this way."""
    paged = ordered_after(query, sort, page.cursor)
    if page.explicit_limit:
        paged = paged.limit(page.limit)
    with engine.connect() as connection:
        if is_sqlite(engine):
            result = connection.execute(paged)
            fetch = result.cursor.fetchmany
        else:
            options = {"stream_results": True, "max_row_buffer": BATCH}
            result = connection.execution_options(**options).execute(paged)
            fetch = result.fetchmany
        with result:
            while rows := fetch(BATCH):
                yield rows


def _batches(
    engine: Engine, query: Select[Any], sort: Sort, page: PageParams, build: Build[M]
) -> Iterator[M]:
    for session, rows in _keyset_batches(engine, query, sort, page, shape="entities"):
        yield from _built(session, rows, build)
        session.expunge_all()  # constant memory however long the export


def narrowed(body: Page[Any], fields: tuple[str, ...], schema: type[BaseModel]) -> dict[str, Any]:
    columns = set(check_fields(schema, fields))
    data = body.model_dump(mode="json")
    data["items"] = [{k: v for k, v in item.items() if k in columns} for item in data["items"]]
    return data


def list_response(
    request: Request,
    response: Response,
    session: Session,
    query: Select[Any],
    sort: Sort,
    page: PageParams,
    schema: type[M],
    build: Build[M],
    facets: Callable[[], dict[str, dict[str, Any]]] | None = None,
) -> Page[M] | Response:
    """A page of `query` as JSON, or every row after the cursor as CSV or NDJSON; with
    `facets`, their counts beside the page (or as the CSV or NDJSON answer)."""
    if facets is not None and page.format != "json":
        return facet_table(facets(), page)
    if page.format != "json":
        if page.cursor:
            ordered_after(query, sort, page.cursor)  # a bad cursor is a 422 before streaming
        items = _batches(engine_of(request), query, sort, page, build)
        return stream(page, schema, items)
    part: Slice = fetch_page(session, query, sort, page)
    body = envelope(request, response, part, _built(session, part.rows, build))
    if page.fields or facets is not None:
        data = narrowed(body, page.fields, schema) if page.fields else body.model_dump(mode="json")
        if facets is not None:
            data["facets"] = facets()
        return JSONResponse(data, headers=dict(response.headers))
    return body


RowsBuilder = Callable[[Session, list[Any]], list[dict[str, Any]]]


def _dict_batches(
    engine: Engine, query: Select[Any], sort: Sort, page: PageParams, build: RowsBuilder
) -> Iterator[dict[str, Any]]:
    for session, rows in _keyset_batches(engine, query, sort, page, shape="rows"):
        yield from build(session, rows)


@dataclass(frozen=True)
class CsvCells:
    """A query selecting a CSV row's cells in schema order, as text: finished cells, except
    the `free_text` columns, which come as stored ('' for NULL) and are quoted here, and
    the `finish` columns, whose stored text `finish[column]` makes a cell here (once per
    distinct value in an export: a column of import stamps holds few)."""

    query: Select[Any]
    free_text: frozenset[str]
    finish: Mapping[str, Callable[[str], str]] = field(default_factory=dict)


CSV_SPECIAL = ',"\n\r'  # a cell holding any of these is quoted (csv.QUOTE_MINIMAL)


def csv_quoted(cell: str) -> str:
    """A cell as csv.writer writes it (QUOTE_MINIMAL): in quotes, its quotes doubled, when
    it holds one of CSV_SPECIAL (tested one by one: `in` is a fast scan)."""
    if '"' in cell:
        return '"' + cell.replace('"', '""') + '"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell + '"'
    return cell


Finishing = list[tuple[int, Callable[[str], str], dict[str, str]]]  # column, how, made


def _finished(row: Sequence[str], quoted: list[int], finishing: Finishing) -> list[str]:
    cells = list(row)
    for i in quoted:
        cells[i] = csv_quoted(cells[i])
    for i, finish, made in finishing:
        if (cell := made.get(stored := cells[i])) is None:
            if len(made) > MADE_MOST:
                made.clear()  # memory stays bounded however many distinct values
            cell = made[stored] = finish(stored)
        cells[i] = cell
    return cells


MADE_MOST = 10_000


def _csv_cells(
    engine: Engine,
    cells: CsvCells,
    sort: Sort,
    page: PageParams,
    every: list[str],
    wanted: list[str],
) -> Iterator[str]:
    """Rows of CSV cells (`every` column, from the database) streamed from one statement:
    the `wanted` columns, free text quoted, joined with commas. Column names are
    identifiers, which need no quotes. Quoting here, not in SQL (four instr() calls and a
    CASE per free-text cell): 100,000 statements, 1.1 -> 0.8 s."""
    indexes = [every.index(name) for name in wanted]
    quoted = [i for i, name in enumerate(wanted) if name in cells.free_text]
    finishing: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
        (i, cells.finish[name], {}) for i, name in enumerate(wanted) if name in cells.finish
    ]
    yield ",".join(wanted) + "\r\n"
    for rows in _streamed(engine, cells.query, sort, page):
        if wanted == every:
            picked: Iterable[Sequence[str]] = rows
        elif len(indexes) == 1:
            picked = [(row[indexes[0]],) for row in rows]
        else:
            picked = map(operator.itemgetter(*indexes), rows)
        if quoted or finishing:
            picked = (_finished(row, quoted, finishing) for row in picked)
        if len(wanted) == 1:  # csv.writer quotes a row's only cell when it is empty
            lines = [row[0] or '""' for row in picked]
        else:
            lines = [",".join(row) for row in picked]
        yield "\r\n".join(lines) + "\r\n"


def _csv_dicts(items: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for data in items:
        writer.writerow([_flat(data[name]) for name in columns])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _ndjson_dicts(items: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[bytes]:
    wanted = set(columns)
    for data in items:
        yield dumps({k: v for k, v in data.items() if k in wanted}) + b"\n"


@dataclass(frozen=True)
class RowsRead:
    """A list read as plain rows (statements): the filtered query and its sort, given
    whether the count was exact (for the streams), the builder of JSON-ready dicts, the
    CSV cells of a query (finished cells in schema order, so an export writes rows as
    they come), and the page and capped count (SQL compiled once per shape)."""

    rows: Callable[[bool], tuple[Select[Any], Sort]]
    build: RowsBuilder
    cells: Callable[[Select[Any]], CsvCells]
    page_rows: Callable[[bool], tuple[Sequence[Any], str | None]]
    count: Callable[[], tuple[int, bool]]
    facets: Callable[[], dict[str, dict[str, Any]]] | None = None  # the counts asked for


def _rows_stream(
    request: Request, read: RowsRead, page: PageParams, every: list[str], wanted: list[str]
) -> Response:
    query, sort = read.rows(read.count()[1])
    if page.cursor:
        ordered_after(query, sort, page.cursor)  # a bad cursor is a 422 before streaming
    engine = engine_of(request)
    if page.format == "csv":
        lines = _csv_cells(engine, read.cells(query), sort, page, every, wanted)
        return StreamingResponse(lines, media_type="text/csv; charset=utf-8")
    batches = _dict_batches(engine, query, sort, page, read.build)
    return StreamingResponse(_ndjson_dicts(batches, wanted), media_type="application/x-ndjson")


def rows_response(
    request: Request,
    response: Response,
    session: Session,
    read: RowsRead,
    page: PageParams,
    schema: type[BaseModel],
) -> Response:
    """`list_response` for a list read as plain rows: a JSON page, or a stream."""
    if read.facets is not None and page.format != "json":
        return facet_table(read.facets(), page)
    columns = check_fields(schema, page.fields)
    if page.format != "json":
        return _rows_stream(request, read, page, columns_of(schema), columns)
    total, exact = kept_count(counted_by(request), read.count)
    rows, next_cursor = read.page_rows(exact)
    items = read.build(session, list(rows))
    if page.fields:
        wanted = set(columns)
        items = [{k: v for k, v in item.items() if k in wanted} for item in items]
    next_url = None
    if next_cursor:
        next_url = str(request.url.include_query_params(cursor=next_cursor))
        response.headers["Link"] = next_link(next_url)
    body = {"items": items, "total": total, "total_relation": "eq" if exact else "gte",
            "next": next_url}  # fmt: skip
    if read.facets is not None:
        body["facets"] = read.facets()
    return JSONBytes(dumps(body), headers=dict(response.headers))


FACET_COLUMNS = ["facet", "value", "label", "count"]


def facet_table(answers: Mapping[str, dict[str, Any]], page: PageParams) -> Response:
    """The counts as a table, one row per facet value: CSV or NDJSON."""
    if page.fields or page.cursor:
        raise InvalidParameter("With facet, a CSV or NDJSON answer is the counts: "
                               "drop fields and cursor.")  # fmt: skip
    rows = [
        {"facet": name, "value": item["value"], "label": item["label"], "count": item["count"]}
        for name, answer in answers.items()
        for item in answer["values"]
    ]
    if page.format == "csv":
        return StreamingResponse(
            _csv_dicts(rows, FACET_COLUMNS), media_type="text/csv; charset=utf-8"
        )
    return StreamingResponse(_ndjson_dicts(rows, FACET_COLUMNS), media_type="application/x-ndjson")


KeptPage = tuple[bytes, str | None]
"""A JSON page as kept per data version: its body and its Link header, if any."""


def kept_page(kept: KeptPage) -> Response:
    body, link = kept
    return JSONBytes(body, headers={"Link": link} if link else None)


def whole_response(page: PageParams, schema: type[M], items: list[M]) -> Page[M] | Response:
    """A short list that always comes complete (a treaty's limits or parties). It never
    gives a `next`, so any cursor is not one of its own: a 422 in every format."""
    if page.cursor is not None:
        raise InvalidParameter("This list comes whole, with no next page: drop the cursor.")
    if page.format != "json":
        return stream(page, schema, items)
    body = Page[M](items=items, total=len(items), next=None)
    if page.fields:
        return JSONResponse(narrowed(body, page.fields, schema))
    return body
