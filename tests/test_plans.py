"""Every filter of the statements list, alone and in pairs, in every sort, reads a page and
its count from an index on that filter, on both engines: no plan walks the statements (or
their treaty links) from one end, so a cold page costs what its rows cost, not what the
table holds. The plans are the databases' own (EXPLAIN), of the SQL the service runs."""

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Databases
from sqlalchemy import Engine, text

from app.db import make_engine
from app.reads.compiled import count_query, page_query
from app.reads.spec import Plan
from app.statements import read
from app.statements.spec import STATEMENTS

VALUES = {
    "treaty": ["inf"], "speaker": ["fu-cong"], "country": ["CN"],
    "article": ["act-2020-12-new-start-deal-to-wait-for-biden"],
    "since": "2019-09-10", "until": "1990-01-10", "during": ["2019-09"], "q": "verification",
}  # fmt: skip
MULTI = {"treaty": ["inf", "open-skies"], "speaker": ["fu-cong", "stephen-biegun"],
         "during": ["2019-09", "1990-01"]}  # fmt: skip
# Values of nearly every row: what a list has when its count is capped (many matches).
COMMON = {
    "treaty": ["new-start"], "speaker": ["sergei-lavrov"], "country": ["RU"],
    "article": ["act-2020-11-russia-highlights-open-skies-issues"],
    "since": "1990-01-01", "until": "2025-12-31", "during": ["1990", "1991", "1992", "1993"],
    "q": "treaty",
}  # fmt: skip
COMMON_MULTI = {"treaty": ["new-start", "inf"], "speaker": ["sergei-lavrov", "fu-cong"],
                "during": ["1990", "1991", "1992", "1993", "1994"]}  # fmt: skip
TABLES = ("statement", "statement_treaty", "other")  # `other`: statement_treaty again
SORTS = ["-said_on", "id"]
COMBINATIONS = [(name,) for name in VALUES] + list(itertools.combinations(VALUES, 2))


ROWS = 200_000
# Skewed groups: one speaker, country and treaty of nearly every row, and rare ones (the
# ones asked for in VALUES); dates over 30 years. Written by SQL, not the loader (which
# is not under test here): enough rows that PostgreSQL's planner weighs its choices as at
# scale (statistics taken, as the loader takes them after a bulk load).
GENERATE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
INSERT INTO {table} SELECT {columns} FROM n
"""
DAY = (
    "cast(1990 + i % 30 AS TEXT) || '-0' || cast(1 + i % 9 AS TEXT) || '-1' || cast(i % 9 AS TEXT)"
)
STATEMENT = (
    "'plan-' || cast(i AS TEXT), 'Generated.', "
    "CASE i % 1000 WHEN 0 THEN 'fu-cong' WHEN 5 THEN 'stephen-biegun' "
    "ELSE 'sergei-lavrov' END, NULL, "
    "CASE WHEN i % 1000 = 1 THEN 'CN' ELSE 'RU' END, " + DAY + ", NULL, "
    "CASE WHEN i % 1000 = 2 THEN 'act-2020-12-new-start-deal-to-wait-for-biden' "
    "ELSE 'act-2020-11-russia-highlights-open-skies-issues' END, "
    "NULL, NULL, NULL, NULL, NULL, NULL"  # the last: sys_from, rows from before history
)
LINK = (
    "'plan-' || cast(i AS TEXT), CASE WHEN i % 100 = 3 THEN 'inf' WHEN i % 100 = 4 "
    "THEN 'open-skies' ELSE 'new-start' END, " + DAY + ", NULL"
)


@pytest.fixture(scope="module")
def engine(databases: Databases) -> Iterator[Engine]:
    engine = make_engine(databases.fresh())
    with engine.begin() as connection:
        for table, columns in (("statement", STATEMENT), ("statement_treaty", LINK)):
            sql = GENERATE.format(rows=ROWS, table=table, columns=columns)
            connection.execute(text(sql))
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
    yield engine
    engine.dispose()


def _plan(names: tuple[str, ...], sort: str, multi: bool = False, few: bool = True) -> Plan:
    values, several = (VALUES, MULTI) if few else (COMMON, COMMON_MULTI)
    chosen = {n: (several.get(n) if multi else None) or values[n] for n in names}
    if few and "since" in chosen and "until" in chosen:
        chosen["until"] = "2019-09-20"  # a narrow range, not an empty one
    given = STATEMENTS.given(**chosen)
    return STATEMENTS.plan(given, STATEMENTS.sorts.parse(sort))


def _explain(engine: Engine, explain: str, statement: Any) -> list[Any]:
    """The database's plan of `statement`, its values bound as the service binds them."""
    compiled = statement.compile(engine, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(params[name] for name in compiled.positiontup)
    with engine.connect() as connection:
        return list(connection.exec_driver_sql(f"{explain} {compiled}", params))


def _sqlite_lines(engine: Engine, statement: Any) -> list[str]:
    return [row[3] for row in _explain(engine, "EXPLAIN QUERY PLAN", statement)]


def _postgres_nodes(engine: Engine, statement: Any) -> list[dict[str, Any]]:
    plan = _explain(engine, "EXPLAIN (FORMAT JSON)", statement)[0][0]
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return found


def full_scans(engine: Engine, statement: Any) -> list[str]:
    """The steps of the plan that read the statements (or their links) from one end."""
    if engine.dialect.name == "sqlite":
        pattern = re.compile(rf"^SCAN ({'|'.join(TABLES)})\b")
        return [line for line in _sqlite_lines(engine, statement) if pattern.match(line)]
    return [
        f"{node['Node Type']} on {node.get('Relation Name')} ({node.get('Index Name')})"
        for node in _postgres_nodes(engine, statement)
        if node.get("Relation Name") in TABLES[:2]
        and (node["Node Type"] == "Seq Scan" or "Scan" in node["Node Type"]
             and "Index Cond" not in node and node["Node Type"] != "Bitmap Heap Scan")
    ]  # fmt: skip


def indexes_used(engine: Engine, statement: Any) -> set[str]:
    if engine.dialect.name == "sqlite":
        lines = _sqlite_lines(engine, statement)
        return {m.group(1) for line in lines if (m := re.search(r"INDEX (\w+)", line))}
    return {
        node["Index Name"] for node in _postgres_nodes(engine, statement) if "Index Name" in node
    }


def sorts_everything(engine: Engine, statement: Any) -> bool:
    """Whether the plan sorts what it reads before the limit can stop it."""
    if engine.dialect.name == "sqlite":
        return any("TEMP B-TREE FOR ORDER BY" in line for line in _sqlite_lines(engine, statement))
    return any(node["Node Type"] == "Sort" for node in _postgres_nodes(engine, statement))


@pytest.mark.parametrize("few", [True, False], ids=["few", "many"])
@pytest.mark.parametrize("multi", [False, True], ids=["one", "several"])
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("names", COMBINATIONS, ids="+".join)
def test_no_filter_reads_the_table_from_one_end(
    engine: Engine, names: tuple[str, ...], sort: str, multi: bool, few: bool
) -> None:
    """At most COUNT_CAP matches (the count says so) are read from the filters' indexes,
    and counted from them: no scan. More matches are read in the sort's order (a filter
    index that gives it, or the sort's own index), so the page's limit stops the read:
    a page among more than COUNT_CAP matches is near the start (their count stops at
    COUNT_CAP + 1 the same way)."""
    dialect = engine.dialect.name
    plan = _plan(names, sort, multi, few).counted(few)
    page = page_query(plan, read.base, dialect, None, None).limit(51)
    if few:
        assert full_scans(engine, page) == []
        assert full_scans(engine, count_query(plan, dialect, None)) == []
    elif "q" not in names:  # the fixture indexes only the seed for search: few match
        assert not sorts_everything(engine, page)


@pytest.mark.parametrize("name", [f.name for f in STATEMENTS.filters if f.name != "q"])
def test_a_filter_alone_is_served_by_its_declared_index(engine: Engine, name: str) -> None:
    declared = STATEMENTS.by_name[name].index
    plan = _plan((name,), "-said_on")
    dialect = engine.dialect.name
    assert declared in indexes_used(engine, page_query(plan, read.base, dialect, None, None))
    assert declared in indexes_used(engine, count_query(plan, dialect, None))


def test_every_declared_filter_is_held_to_its_plan() -> None:
    assert set(VALUES) == {f.name for f in STATEMENTS.filters}
