"""Write validated records: upsert or delete, audit every change, keep search in step.

Every write path (the loader, the import API, the record API, the CLI) comes through here,
so the change log, the search documents and the data version can never be skipped.
"""

import datetime as dt
import functools
import gc
import threading
from collections.abc import Callable, Iterable, Iterator, MutableSet
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select, text
from sqlmodel import Session, SQLModel, col

from app import models as m
from app.db import autocommit, bound, insert_many, is_sqlite
from app.importing.bundles import Spool, files_of, spool_paths
from app.importing.events import IMPORT_ID, Loaded, recorded_import, sha256_of
from app.importing.loader import (
    Batch,
    Counts,
    Item,
    LoadError,
    Problem,
    check_references,
)
from app.importing.progress import Progress
from app.importing.records import Record, Ref, targets_of
from app.importing.resources import (
    BY_NAME,
    RESOURCES,
    SEARCH_TYPES,
    Key,
    Resource,
    existing_keys,
    ordered,
)
from app.meta.service import begin_write, bump_version
from app.search import index as search_index

CHUNK = 500


def _dump(data: dict[str, Any] | None) -> str | None:
    """A record's JSON form as the change log keeps it: keys sorted, UTF-8 as is."""
    if data is None:
        return None
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


CHANGE_COLUMNS = (
    "changed_at", "actor", "resource", "key", "operation", "before", "after", "import_id"
)  # fmt: skip


def _change(
    stamp: Any,
    actor: str,
    resource: Resource,
    key: Key,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    compact: bool = False,
    import_id: int | None = None,
) -> tuple[Any, ...]:
    """One change-log row (CHANGE_COLUMNS); `stamp` as `bound` gives it for changed_at.
    A `compact` row of a create or update keeps no `after`: the record's next change
    keeps it as its `before`, or, with none, the record holds it (app/curation/changes.py
    reads it back). A load's rows are compact: a million statements' values, kept twice,
    were a fifth of the database."""
    if compact:
        operation = "create" if before is None else "update"
    else:
        operation = "create" if before is None else "delete" if after is None else "update"
    label = "/".join(map(str, key))
    dumped = _dump(before), _dump(after)
    return (stamp, actor, resource.name, label, operation, *dumped, import_id)


def _log(session: Session, rows: list[tuple[Any, ...]]) -> None:
    insert_many(session, m.Change.__table__, CHANGE_COLUMNS, rows)  # type: ignore[attr-defined]


def _stamp(session: Session) -> Any:
    return bound(session, m.Change.__table__.c.changed_at, dt.datetime.now(dt.UTC))  # type: ignore[attr-defined]


def log_change(
    session: Session,
    actor: str,
    resource: Resource,
    key: Key,
    before: Record | None,
    after: Record | None,
) -> None:
    dumped = [r.model_dump(mode="json") if r is not None else None for r in (before, after)]
    _log(session, [_change(_stamp(session), actor, resource, key, *dumped)])


def _existing(session: Session, resource: Resource, keys: list[Key]) -> dict[Key, Record]:
    found: dict[Key, Record] = {}
    for start in range(0, len(keys), CHUNK):
        found |= resource.read_many(session, keys[start : start + CHUNK])
    return found


Chunks = Callable[[str], Iterable[list[Item]]]


def write_batch(session: Session, batch: Batch, *, actor: str = "cli") -> dict[str, Counts]:
    """Upsert a validated batch inside the caller's transaction; raise LoadError on bad refs."""
    return write_chunks(session, list(batch.items), lambda name: [batch.items[name]], actor=actor)


def write_chunks(
    session: Session,
    names: list[str],
    chunks: Chunks,
    *,
    actor: str = "cli",
    progress: Progress | None = None,
    keys: dict[str, set[Key]] | None = None,
) -> dict[str, Counts]:
    """Upsert records that arrive in chunks (a spooled bundle can be far larger than memory).

    Passes over the chunks: keys and duplicates (skipped when the spool already collected
    `keys`); references against the database and the whole bundle, writing rows chunk by
    chunk until the first bad reference; then links, which may point at rows of any
    resource. Any problem raises LoadError, and the caller's transaction holds it all, so
    a bundle with one bad record writes nothing. FTS5 gets the documents in one go at the end.
    """
    begin_write(session)
    if progress:
        progress.phase("write", sum(map(len, keys.values())) if keys is not None else None)
    with search_index.adds_deferred(session), _indexes_built_after(session, names, keys):
        return _write_chunks(session, names, chunks, actor, progress, keys)


BULK_INDEX_ROWS = 50_000


@contextmanager
def _indexes_built_after(
    session: Session, names: list[str], keys: dict[str, set[Key]] | None
) -> Iterator[None]:
    """On SQLite, a load bringing at least BULK_INDEX_ROWS records of a resource, and more
    than its table holds (so not a re-run of what is stored), drops the plain (non-unique)
    indexes of that table, its link tables, and the search and change tables it also
    fills, and builds them again from their own SQL when the load is done: one sort per
    index instead of a b-tree insert per row at a random place. All in the load's
    transaction (SQLite's DDL is transactional; readers keep their snapshot): a load that
    fails rolls back to the indexes as they were. Unique indexes stay: they check the rows
    going in. 200,000 statements: 16.1-19.6 s with the indexes kept, 15.1-17.0 s this way."""
    if keys is None or not is_sqlite(session.get_bind()):  # type: ignore[arg-type]
        yield
        return
    connection = session.connection()
    tables = _bulk_tables(connection, names, keys)
    if tables and not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        # pysqlite (legacy transaction control) opens a transaction at the first INSERT,
        # UPDATE or DELETE: a DROP INDEX before any would commit on its own.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    rebuild: list[str] = []
    for table in tables:
        found = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
            (table,),
        )
        for index, sql in found.all():
            connection.exec_driver_sql(f'DROP INDEX "{index}"')
            rebuild.append(sql)
    yield
    for sql in rebuild:
        connection.exec_driver_sql(sql)


def _bulk_tables(connection: Connection, names: list[str], keys: dict[str, set[Key]]) -> list[str]:
    """The tables a load fills in bulk: those of a resource bringing at least
    BULK_INDEX_ROWS records and more than its table holds, and then the shared search
    and change tables when the load brings more than they hold."""

    def held(table: str) -> int:
        return int(connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar_one())

    tables: list[str] = []
    for name in names:
        resource, rows = BY_NAME[name], len(keys.get(name, ()))
        if rows >= BULK_INDEX_ROWS and rows > held(table_name(resource.model)):
            models = (resource.model, *(link.model for link in resource.links))
            tables += [table_name(model) for model in models]
    if tables:
        every = sum(len(keys.get(name, ())) for name in names)
        shared = (table_name(m.SearchDocument), table_name(m.Change))
        tables += [table for table in shared if every > held(table)]
    return tables


def _write_chunks(
    session: Session,
    names: list[str],
    chunks: Chunks,
    actor: str,
    progress: Progress | None,
    keys: dict[str, set[Key]] | None,
) -> dict[str, Counts]:
    resources = ordered(names)
    stored = {res.name: existing_keys(session, res) for res in RESOURCES}
    known = _known_keys(stored, resources, chunks, keys)
    problems: list[Problem] = []
    counts: dict[str, Counts] = {}
    written_so_far = 0
    changed = _changed_keys(resources, keys)
    updated: dict[str, set[Key]] = {res.name: set() for res in resources}
    rebuilt = _rebuilt(resources, keys)
    for resource in resources:
        tally = counts.setdefault(resource.name, Counts())
        for chunk in chunks(resource.name):
            check_references(chunk, resource, known, problems)
            if problems:
                continue  # keep reporting, stop writing: the transaction will roll back
            written = _write_rows(session, resource, chunk, tally, changed[resource.name],
                                  updated[resource.name], actor, stored[resource.name])  # fmt: skip
            if resource.on_change and resource not in rebuilt:
                resource.on_change(session, written)
            if _links_inline(resource.name):
                _write_links(session, resource, chunk, changed[resource.name],
                             updated[resource.name])  # fmt: skip
            _keep_plans_current(session, resource, tally.created + tally.updated, len(chunk))
            written_so_far += len(chunk)
            if progress:
                progress.advance(written_so_far)
    if problems:
        raise LoadError(problems)
    _finish(session, resources, chunks, changed, updated, rebuilt, progress)
    return counts


def _rebuilt(resources: list[Resource], keys: dict[str, set[Key]] | None) -> list[Resource]:
    """The resources whose derived counts a load rebuilds from the tables when it is done
    (one GROUP BY each), rather than keeps record by record: those it brings in bulk."""
    return [
        resource for resource in resources
        if resource.rebuild and keys and len(keys.get(resource.name, ())) >= BULK_INDEX_ROWS
    ]  # fmt: skip


def _finish(
    session: Session,
    resources: list[Resource],
    chunks: Chunks,
    changed: dict[str, MutableSet[Key]],
    updated: dict[str, set[Key]],
    rebuilt: list[Resource],
    progress: Progress | None = None,
) -> None:
    """After every record is in: the links written once their targets are, then (the
    index phase) the counts rebuilt from the tables, the planner's statistics, the search
    index and the data version."""
    for resource in resources:
        deferred = (resource.links or resource.write_children) and not _links_inline(resource.name)
        if changed[resource.name] and deferred:
            for chunk in chunks(resource.name):
                _write_links(session, resource, chunk, changed[resource.name],
                             updated[resource.name])  # fmt: skip
    progress = progress or Progress()
    progress.phase("index", unit="steps")
    for resource in rebuilt:
        if changed[resource.name] and resource.rebuild:
            resource.rebuild(session.connection())
            progress.advance(progress.done + 1)
    touched = sum(map(len, changed.values()))
    if touched >= ANALYZE_EVERY:
        for resource in resources:
            _analyze(session, resource)
        progress.advance(progress.done + 1)
    if touched:
        renamed = [(BY_NAME["people"], key) for key in updated.get("people", ())]
        written = ((BY_NAME[name], key) for name, keys in changed.items() for key in keys)
        _reindex(session, written, from_records_done=True, renamed=renamed)
        bump_version(session)
        progress.advance(progress.done + 1)


ANALYZE_EVERY = 50_000


def table_name(model: type[SQLModel]) -> str:
    return str(model.__tablename__)  # always a string here, never a declared_attr


@functools.cache
def _links_inline(name: str) -> bool:
    """Whether a resource's links and owned rows can be written with its rows, in the same
    pass: when every resource they may point at is written before it (statements point
    at treaties, people and sources). Otherwise (countries cite sources, written after
    them) they wait for a second pass over the bundle."""
    resource = BY_NAME[name]
    targets = set(targets_of(resource.record))
    targets |= {res.name for res in RESOURCES if res.cited_as in targets}
    position = [res.name for res in RESOURCES].index
    return all(position(target) < position(name) for target in targets)


class Written(MutableSet[Key]):
    """The keys a load writes of one resource: the bundle's own key set (collected as it
    was validated) less those found unchanged, so no second set of a million keys grows
    as they are written (it was 130 MiB of a million statements' peak memory). Only a
    re-run, whose records are unchanged, grows the set of those. Asked of a key before
    its chunk is written, it answers as if the key will be written."""

    def __init__(self, bundle: set[Key]) -> None:
        self.bundle, self.unchanged = bundle, set[Key]()

    def __contains__(self, key: object) -> bool:
        return key in self.bundle and key not in self.unchanged

    def __iter__(self) -> Iterator[Key]:
        return (key for key in self.bundle if key not in self.unchanged)

    def __len__(self) -> int:
        return len(self.bundle) - len(self.unchanged)

    def add(self, key: Key) -> None:
        self.unchanged.discard(key)

    def discard(self, key: Key) -> None:
        if key in self.bundle:
            self.unchanged.add(key)


def _changed_keys(
    resources: list[Resource], keys: dict[str, set[Key]] | None
) -> dict[str, MutableSet[Key]]:
    """The keys a load writes, per resource, as it writes them: from the bundle's key sets
    when the spool collected them, or else gathered chunk by chunk."""
    return {
        res.name: Written(keys.get(res.name, set())) if keys is not None else set()
        for res in resources
    }


def _keep_plans_current(session: Session, resource: Resource, written: int, chunk: int) -> None:
    """Refresh PostgreSQL's statistics as a bulk load grows a table inside its transaction.

    Planned from the empty table's statistics, the per-chunk lookups (`id IN (...)`) turn
    into sequential scans of every row written so far: a million-row load went quadratic
    (8 s per chunk of 500). ANALYZE in the transaction sees the transaction's own rows.
    """
    if written // ANALYZE_EVERY != (written - chunk) // ANALYZE_EVERY:
        _analyze(session, resource)


def _analyze(session: Session, resource: Resource) -> None:
    if is_sqlite(session.get_bind()):  # type: ignore[arg-type]
        return  # SQLite's planner takes the index without statistics
    models: list[type[SQLModel]] = [resource.model, *(link.model for link in resource.links)]
    models.append(m.SearchDocument)
    tables = {table_name(model) for model in models}
    for table in sorted(tables):
        session.execute(text(f"ANALYZE {table}"))


@functools.cache
def _referenced() -> frozenset[str]:
    """The resources some record may point at (statements are not among them)."""
    return frozenset(t for res in RESOURCES for t in targets_of(res.record))


def _known_keys(
    stored: dict[str, set[Any]],
    resources: list[Resource],
    chunks: Chunks,
    collected: dict[str, set[Key]] | None,
) -> dict[str, set[Any]]:
    """Every key a reference may point at: stored rows plus this bundle's records."""
    problems: list[Problem] = []
    known = dict(stored)
    for resource in resources:
        if collected is not None:
            bundle = collected.get(resource.name, set())
        else:
            bundle = set()
            for chunk in chunks(resource.name):
                for item in chunk:
                    key = resource.key_in(item.data)
                    if key in bundle:
                        label = "/".join(map(str, key))
                        problems.append(
                            Problem(item.file, item.index, label, None, "duplicate key")
                        )
                    bundle.add(key)
        if resource.name in _referenced():  # a million statements' keys: 40 MiB, unread
            known[resource.name] = known[resource.name] | {_flat(key) for key in bundle}
        if resource.cited_as:  # an article is also a source
            known[resource.cited_as] = known[resource.cited_as] | {key[0] for key in bundle}
    if problems:
        raise LoadError(problems)
    return known


def _flat(key: Key) -> Any:
    """A key as `existing_keys` holds it: the value itself when the key has one part."""
    return key[0] if len(key) == 1 else key


def _write_rows(
    session: Session,
    resource: Resource,
    chunk: list[Item],
    tally: Counts,
    changed: MutableSet[Key],
    updated: set[Key],
    actor: str,
    stored: set[Any],
) -> list[tuple[Record | None, Record]]:
    """One chunk: new rows in one executemany, changed rows one by one, one change-log batch,
    search documents; each record written, with what it replaced (None: created). Only
    keys already `stored` are read back to compare (none, when filling an empty table)."""
    keys = [resource.key_in(item.data) for item in chunk]
    existing = _existing(session, resource, [key for key in keys if _flat(key) in stored])
    created, written, log = list[Item](), list[tuple[Item, Record | None]](), list[Any]()
    stamp, import_id = _stamp(session), session.info.get(IMPORT_ID)
    for item, key in zip(chunk, keys, strict=True):
        before = existing.get(key)
        if before is not None and before == item.record:
            tally.unchanged += 1
            changed.discard(key)
            continue
        if before is None:
            created.append(item)
            tally.created += 1
        else:
            resource.update_row(session, item.record)
            updated.add(key)
            tally.updated += 1
        old = before.model_dump(mode="json") if before is not None else None
        log.append(_change(stamp, actor, resource, key, old, None, compact=True,
                           import_id=import_id))  # fmt: skip
        written.append((item, before))
        changed.add(key)
    resource.insert_rows(session, created, dt.datetime.now(dt.UTC))
    _log(session, log)
    _index_written(session, resource, written)
    return [(before, item.record) for item, before in written]


def _index_written(
    session: Session, resource: Resource, written: list[tuple[Item, Record | None]]
) -> None:
    """The search documents of a resource's records written (each with what it replaced,
    None: created), indexed straight from the records."""
    kind = SEARCH_TYPES.get(resource.name)
    if written and kind in search_index.FROM_RECORDS:
        replaced = [resource.key_in(item.data)[0] for item, old in written if old is not None]
        documents = search_index.FROM_RECORDS[kind](session, [item.data for item, _ in written])
        search_index.write(session, kind, documents, replacing=replaced)


def _write_links(
    session: Session,
    resource: Resource,
    chunk: list[Item],
    changed: MutableSet[Key],
    updated: set[Key],
) -> None:
    fresh, replaced = [], []
    for item in chunk:
        key = resource.key_in(item.data)
        if key in updated:
            replaced.append(item)
        elif key in changed:
            fresh.append(item)
    resource.write_links_many(session, fresh, replace=False)
    resource.write_links_many(session, replaced, replace=True)


def _reindex(
    session: Session,
    changed: Iterable[tuple[Resource, Key]],
    *,
    from_records_done: bool = False,
    renamed: list[tuple[Resource, Key]] | None = None,
) -> None:
    """Rebuild the search documents of changed records; with `from_records_done`, the kinds that
    `_write_rows` already indexed from their records are left out. A statement's document
    holds its speaker's names: the statements of `renamed` people (default: every person
    changed) are rebuilt too. (A load names those it updated: the statements of the people
    it created were indexed with their names, and rebuilding them all again was most of
    a million statements' index phase.)"""
    keys: dict[str, list[str]] = {kind: [] for kind in SEARCH_TYPES.values()}
    for resource, key in changed:
        kind = SEARCH_TYPES.get(resource.name)
        if kind is not None and not (from_records_done and kind in search_index.FROM_RECORDS):
            keys[kind].append(key[0])
    people = keys["person"] if renamed is None else [key[0] for _, key in renamed]
    for kind, changed_keys in search_index.with_dependents(session, keys, people).items():
        search_index.reindex(session, kind, changed_keys)


class _Pause:
    lock = threading.Lock()
    holders = 0
    was_enabled = True


@contextmanager
def collection_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a bulk load runs.

    A load keeps millions of objects alive (every key it has seen), and each full
    collection walks them all: 110 -> 97 s for a million statements, peak memory the same
    (the loader makes no reference cycles to speak of). Loads in several threads share
    one pause; the collector comes back with the last of them, as it was."""
    with _Pause.lock:
        if _Pause.holders == 0:
            _Pause.was_enabled = gc.isenabled()
            gc.disable()
        _Pause.holders += 1
    try:
        yield
    finally:
        with _Pause.lock:
            _Pause.holders -= 1
            if _Pause.holders == 0 and _Pause.was_enabled:
                gc.enable()


BULK_CACHE_KIB = 64 * 1024


@contextmanager
def _bulk_cache(session: Session) -> Iterator[None]:
    """A 64 MiB SQLite page cache for the load's connection, then back to what it was.

    A load writes each chunk into several tables and their indexes; at the default 2 MiB
    their pages left the cache (spilled to the WAL) between chunks and were read back. A
    million statements: 110.5 s at 2 MiB (31 s of it in the kernel), 97.6 s at 64 MiB,
    99.6 s at 256 MiB; peak memory 544, 614 and 842 MiB."""
    if not is_sqlite(session.get_bind()):  # type: ignore[arg-type]
        yield
        return
    connection = session.connection()
    was = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(was)}")


def load_paths(
    engine: Engine,
    paths: list[Path],
    *,
    actor: str = "cli",
    progress: Progress | None = None,
    workers: int = 1,
) -> Loaded:
    """Validate every record of the files (spooled, so any size; a large NDJSON file in
    parts, `workers` processes at once), then write all or nothing, recorded as one
    import event; each phase reported to `progress`."""
    progress = progress or Progress()
    spool = Spool()
    try:
        with collection_paused():
            spool_paths(spool, paths, workers=workers, progress=progress)
            spool.raise_problems()
            sha256 = sha256_of(files_of(paths))
            with Session(engine) as session, session.begin(), _bulk_cache(session):
                loaded = write_import(session, spool, actor, sha256, progress)
    finally:
        spool.close()
    if sum(c.created + c.updated for c in loaded.values()) >= REFRESH_AFTER:
        progress.phase("statistics", unit="steps")
        _refresh_statistics(engine)  # the planner's row estimates, after a bulk load
        progress.advance(1)
    progress.finish()
    return loaded


def write_import(
    session: Session, spool: Spool, actor: str, sha256: str, progress: Progress
) -> Loaded:
    """A validated bundle's records written in the caller's transaction, under one
    import event (the bundle's `sha256`)."""
    with recorded_import(session, actor, sha256) as loaded:
        loaded.update(write_chunks(session, list(spool.files), spool.chunks, actor=actor,
                                   progress=progress, keys=spool.keys))  # fmt: skip
    return loaded


REFRESH_AFTER = 10_000  # rows a load writes before it refreshes the planner's view


def _refresh_statistics(engine: Engine) -> None:
    """After a bulk load: SQLite's planner statistics; on PostgreSQL, VACUUM (ANALYZE).
    PostgreSQL marks no page of new rows all-visible until a vacuum does, so until then an
    index-only scan (a list's capped count) visits every row it counts, and the first
    reads of each page write it again (hint bits). Autovacuum would get to it in time if
    it is on; a load does not leave it to chance. A million statements: 6 s, and the
    varied list workload 264 -> 426 r/s."""
    with autocommit(engine) as connection:  # VACUUM runs outside a transaction
        connection.exec_driver_sql("PRAGMA optimize" if is_sqlite(engine) else "VACUUM (ANALYZE)")
        connection.commit()


def delete_record(session: Session, resource: Resource, key: Key, *, actor: str) -> None:
    """Delete one record, leaving a tombstone in the change log; refuse while it is cited."""
    begin_write(session)
    before = resource.read_one(session, key)
    if before is None:
        raise LoadError([Problem(resource.name, None, "/".join(key), None, "no such record")])
    users = referrers(session, resource, key)
    if users:
        label = "/".join(key)
        message = f"{label} is still referenced by {', '.join(users[:5])}; change those first"
        raise LoadError([Problem(resource.name, None, label, None, message)])
    resource.delete_row(session, key)
    if resource.cited_as:  # its companion row (an article's source row) goes with it
        BY_NAME[resource.cited_as].delete_row(session, key)
    if resource.on_change:
        resource.on_change(session, [(before, None)])
    log_change(session, actor, resource, key, before, None)
    _reindex(session, [(resource, key)])
    bump_version(session)


def referrers(session: Session, resource: Resource, key: Key) -> list[str]:
    """'statements/lavrov-...'-style labels of records that point at this one."""
    targets = {resource.name} | ({resource.cited_as} if resource.cited_as else set())
    found: list[str] = []
    for other in RESOURCES:
        for name, info in other.record.model_fields.items():
            marker = next((x for x in info.metadata if isinstance(x, Ref)), None)
            if marker is None or marker.resource not in targets:
                continue
            link = next((lk for lk in other.links if lk.field == name), None)
            if link is not None:
                owners = [getattr(link.model, c) for c in link.owner]
                query = select(*owners).where(getattr(link.model, link.target) == key[0])
            else:
                owners = [other.column(k) for k in other.key]
                query = select(*owners).where(other.column(name) == key[0])
            found += [f"{other.name}/{'/'.join(map(str, row))}" for row in session.execute(query)]
    positions = (
        select(col(m.Position.person_slug))
        .join(m.PositionSource)
        .where(col(m.PositionSource.source_slug) == key[0])
    )
    if "sources" in targets:
        found += [f"people/{slug}" for slug in session.execute(positions).scalars()]
        citing = select(col(m.CompetingValue.resource), col(m.CompetingValue.key)).where(
            col(m.CompetingValue.source_slug) == key[0]
        )
        found += [f"{name}/{label}" for name, label in session.execute(citing)]
    return sorted(set(found))
