"""The record tables, system-versioned: what each row was at every data version.

Each record table (VERSIONED: every table but the logs, the tokens and what is derived
from the records) has a `sys_from` column, the data version that wrote the row, filled in
by the database itself (a column default: `treatykb_write_version()`, the version the
write transaction will make, app/meta/service.py `begin_write`). Its twin `<table>__hist`
(HISTORY) holds the rows it no longer has: the same columns, `sys_from` and `sys_to`, the
version that replaced or deleted the row. Triggers copy a row there when it is updated
or deleted, so no write path (the loader, the record API, a cascade) can skip it; a row
written and rewritten by one version leaves no history (no read ever saw it). Rows older
than the history (`sys_from` null) count as written at version 0.

The state at version N is then, for every table: its rows with sys_from <= N, and its
history rows with sys_from <= N < sys_to (app/history/past.py reads that).
"""

from collections.abc import Iterator

from sqlalchemy import BigInteger, Column, Connection, Index, MetaData, Table, inspect

from app.models import SQLModel

# Not versioned: logs (they are history already), credentials, jobs, and what the write
# path derives from the records (facet counts, search documents), which a past read
# computes from the versioned rows instead.
UNVERSIONED = frozenset({
    "api_token", "change", "data_version", "data_version_log", "import_event",
    "import_job", "search_document", "statement_tally",
})  # fmt: skip

VERSIONED: tuple[Table, ...] = tuple(
    table for table in SQLModel.metadata.sorted_tables if table.name not in UNVERSIONED
)
SUFFIX = "__hist"
WRITE_VERSION = "treatykb_write_version()"


def _history_table(table: Table, metadata: MetaData) -> Table:
    """`table`'s twin: its columns, nullable and unconstrained, then sys_from and sys_to;
    indexed like it (the primary key too, not unique) so a past read walks the same
    orders in both."""
    columns = [Column(c.name, c.type, nullable=True) for c in table.columns]
    name = f"{table.name}{SUFFIX}"
    hist = Table(
        name,
        metadata,
        *columns,
        Column("sys_from", BigInteger, nullable=True),
        Column("sys_to", BigInteger, nullable=False),
    )
    keys = [table.primary_key.columns, *(index.columns for index in table.indexes)]
    for n, indexed in enumerate(keys):
        Index(f"ix_{name}_{n}", *(hist.c[c.name] for c in indexed))
    return hist


HISTORY = MetaData()
HISTORY_OF = {table.name: _history_table(table, HISTORY) for table in VERSIONED}


def columns_of(table: Table) -> list[str]:
    """The names a table's rows have in both twins, in order (sys_from last)."""
    return [*(c.name for c in table.columns), "sys_from"]


def _quoted(names: list[str], prefix: str = "") -> str:
    return ", ".join(f'{prefix}"{name}"' for name in names)


def _sqlite_triggers(table: Table) -> Iterator[str]:
    names, hist = columns_of(table), f"{table.name}{SUFFIX}"
    copy = (
        f'INSERT INTO "{hist}" ({_quoted(names)}, sys_to) '
        f"VALUES ({_quoted(names, 'OLD.')}, {WRITE_VERSION});"
    )
    when = f"WHEN OLD.sys_from IS NOT {WRITE_VERSION}"
    for kind in ("update", "delete"):
        yield f'DROP TRIGGER IF EXISTS "{hist}_{kind}"'
    yield (
        f'CREATE TRIGGER "{hist}_update" AFTER UPDATE ON "{table.name}" {when} BEGIN {copy} '
        f'UPDATE "{table.name}" SET sys_from = {WRITE_VERSION} WHERE rowid = NEW.rowid; END'
    )
    yield f'CREATE TRIGGER "{hist}_delete" AFTER DELETE ON "{table.name}" {when} BEGIN {copy} END'


def _postgres_triggers(table: Table) -> Iterator[str]:
    names, hist = columns_of(table), f"{table.name}{SUFFIX}"
    function = f'"{hist}_keep"'
    yield f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint := {WRITE_VERSION};
BEGIN
  IF OLD.sys_from IS DISTINCT FROM v THEN
    INSERT INTO "{hist}" ({_quoted(names)}, sys_to) VALUES ({_quoted(names, "OLD.")}, v);
  END IF;
  IF TG_OP = 'UPDATE' THEN NEW.sys_from := v; RETURN NEW; END IF;
  RETURN OLD;
END $$"""
    yield f'DROP TRIGGER IF EXISTS "{hist}_keep" ON "{table.name}"'
    yield (
        f'CREATE TRIGGER "{hist}_keep" BEFORE UPDATE OR DELETE ON "{table.name}" '
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


# PostgreSQL's version of the write: set by begin_write for its transaction only. A write
# without it (outside the one write path) fails instead of writing rows no version owns.
POSTGRES_WRITE_VERSION = f"""CREATE OR REPLACE FUNCTION {WRITE_VERSION} RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE v text := current_setting('treatykb.version', true);
BEGIN
  IF v IS NULL OR v = '' THEN
    RAISE EXCEPTION 'treatykb: a write outside the write path (no data version is set)';
  END IF;
  RETURN v::bigint;
END $$"""


def install(connection: Connection) -> None:
    """Make the record tables system-versioned (idempotent): the history tables, the
    `sys_from` columns with their default, and the triggers; again after a migration that
    changes a versioned table, so the triggers copy its new columns."""
    sqlite = connection.dialect.name == "sqlite"
    if not sqlite:
        connection.exec_driver_sql(POSTGRES_WRITE_VERSION)
    HISTORY.create_all(connection)
    present = inspect(connection)
    for table in VERSIONED:
        if "sys_from" not in {c["name"] for c in present.get_columns(table.name)}:
            _add_sys_from(connection, table.name, sqlite)
        for sql in (_sqlite_triggers if sqlite else _postgres_triggers)(table):
            connection.exec_driver_sql(sql)


def _add_sys_from(connection: Connection, table: str, sqlite: bool) -> None:
    """The column, null in the rows already there (no rewrite), then its default. SQLite's
    ALTER TABLE takes no default that is not a constant, so the column's declaration gets
    it in the schema itself: a change of default only, which SQLite documents as safe
    (https://sqlite.org/lang_altertable.html#otheralter)."""
    if not sqlite:
        connection.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN sys_from bigint')
        connection.exec_driver_sql(
            f'ALTER TABLE "{table}" ALTER COLUMN sys_from SET DEFAULT {WRITE_VERSION}'
        )
        return
    connection.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN sys_from BIGINT')
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    declared = "sys_from BIGINT"
    assert sql.count(declared) == 1, sql
    new = sql.replace(declared, f"{declared} DEFAULT ({WRITE_VERSION})")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema=ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (new, table)
    )
    connection.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema=OFF")


def uninstall(connection: Connection) -> None:
    """Undo `install`: the triggers, the history tables and the `sys_from` columns."""
    sqlite = connection.dialect.name == "sqlite"
    for table in VERSIONED:
        hist = f"{table.name}{SUFFIX}"
        if sqlite:
            for kind in ("update", "delete"):
                connection.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{hist}_{kind}"')
        else:
            connection.exec_driver_sql(f'DROP FUNCTION IF EXISTS "{hist}_keep"() CASCADE')
        connection.exec_driver_sql(f'ALTER TABLE "{table.name}" DROP COLUMN sys_from')
    HISTORY.drop_all(connection)
    if not sqlite:
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {WRITE_VERSION}")
