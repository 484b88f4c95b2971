"""The search engine: an embedded Tantivy index of search_document, kept from the change log.

The database stays the source of truth (docs/search.md). The index is a copy of the
search_document rows that each process keeps in a directory of its own (or, on SQLite,
beside the database file, shared by the server and the CLI), with a sidecar naming the last
change it applied. Before a search, `current` compares the index's data version with the
database's; when behind, it replays the change log past that change: each changed record's
documents (and their dependents, by the writer's own rule) are deleted from the index by
their `ref` and added again from search_document. Replaying is idempotent, so a process
killed between the database's commit and the index's (or the sidecar's) loses nothing: the
next start or search replays again. A long backlog (a bulk load) is a rebuild instead.

Replaying by change id needs change ids in commit order: SQLite has one writer at a time,
and on PostgreSQL every write transaction first takes the data version's row lock
(`app.meta.service.begin_write`), so none can commit a lower id after a higher one.
"""

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tantivy
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from app import models as m
from app.config import Settings
from app.importing.progress import Progress
from app.importing.resources import SEARCH_TYPES
from app.search import index as documents

LOG = logging.getLogger(__name__)
SCHEMA_VERSION = 2  # a new schema is a new directory, built from the database
# The text fields and their weights in the ranking, as FTS5's bm25() had them.
WEIGHTS = {"title": 10.0, "body": 5.0, "extra": 2.0}
REBUILD_FROM = 50_000  # changes behind: past this, build the index anew
BATCH = 5_000
# Shared by the writer's threads, one per core (200k documents: 3.1 s on 2, 4.3 s on 1).
HEAP = 128 << 20
LOCK_WAIT = 120.0  # seconds to wait for another process's writer (a 1M rebuild: ~15 s)


# How title, body and extra are cut into words, for the documents and for queries alike:
# as FTS5's `unicode61 remove_diacritics 2` (Élysée finds Elysee), then English stems.
TOKENIZER = "en_fold"
ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)

# A prefix as typed, folded as the words it should start are ("Ély" -> "ely"), not stemmed.
FOLD = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())
    .build()
)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", indexed=False, fast=True)
    for raw in ("ref", "type", "speaker", "treaties"):
        builder.add_text_field(raw, tokenizer_name="raw")
    builder.add_integer_field("day", indexed=True, fast=True)
    for name in WEIGHTS:
        builder.add_text_field(name, tokenizer_name=TOKENIZER)
    return builder.build()


SCHEMA = _schema()


def day_number(date: str | None) -> int | None:
    """An ISO date of any precision as a number that sorts as its text does:
    "2020" -> 20200000, "2020-11" -> 20201100, "2020-11-15" -> 20201115."""
    try:
        parts = [int(part) for part in (date or "").split("-")[:3]]
    except ValueError:  # not a date (none is, as the records are validated): no day
        return None
    parts += [0] * (3 - len(parts))
    return parts[0] * 10_000 + parts[1] * 100 + parts[2]


def _document(row: Any) -> tantivy.Document:
    doc = tantivy.Document(
        id=row.id, ref=f"{row.type}:{row.key}", type=row.type, title=row.title,
        body=row.body, extra=row.extra, treaties=row.treaties.split(),
    )  # fmt: skip
    if row.speaker:
        doc.add_text("speaker", row.speaker)
    day = day_number(row.date)
    if day is not None:
        doc.add_integer("day", day)
    return doc


DOC = m.SearchDocument.__table__  # type: ignore[attr-defined]
COLUMNS = [DOC.c[name] for name in ("id", "type", "key", "title", "body", "extra", "treaties",
                                    "speaker", "date")]  # fmt: skip


@dataclass(frozen=True)
class Applied:
    """What the index holds: every change up to `change`, which the database stamped
    `stamp` (so an index is never taken for another database's), at data `version`."""

    change: int = 0
    version: int = -1
    stamp: str = ""


def default_directory(database_url: str) -> Path:
    """Beside a SQLite file; for PostgreSQL, one directory per database in the temp dir."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(f"{url.database}.search")
    plain = url.set(drivername=url.get_backend_name())  # +psycopg or not: one database
    digest = hashlib.sha256(plain.render_as_string(hide_password=True).encode()).hexdigest()
    return Path(tempfile.gettempdir()) / "treatykb-search" / digest[:16]


def for_settings(settings: Settings) -> "SearchEngine":
    return SearchEngine(settings.search_index or default_directory(settings.database_url))


class SearchEngine:
    """One process's handle on an index directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / f"v{SCHEMA_VERSION}"
        self.directory.mkdir(parents=True, exist_ok=True)
        for older in directory.glob("v[0-9]*"):  # an earlier schema's index: never read again
            if older != self.directory and (older / "meta.json").exists():
                shutil.rmtree(older, ignore_errors=True)
        self.index = tantivy.Index(SCHEMA, path=str(self.directory))
        self.index.register_tokenizer(TOKENIZER, ANALYZER)
        self.lock = threading.Lock()
        self.applied = self._read_sidecar()
        self.catching_up: threading.Thread | None = None
        self.checked = False  # whether this process has seen the index is its database's

    @property
    def _sidecar(self) -> Path:
        return self.directory / "applied.json"

    def _read_sidecar(self) -> Applied:
        try:
            return Applied(**json.loads(self._sidecar.read_text()))
        except (OSError, ValueError, TypeError):
            return Applied()

    def _write_sidecar(self, applied: Applied) -> None:
        temporary = self._sidecar.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(applied)))
        os.replace(temporary, self._sidecar)
        self.applied = applied

    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    def behind(self, session: Session) -> bool:
        return not self.checked or self.applied.version != _version(session)

    def current(
        self, engine: Engine, version: int | None = None, progress: Progress | None = None
    ) -> None:
        """Bring the index up to the database's data version (no-op when it is), or to at
        least `version` when the caller knows the one it answers at. The first call also
        checks that the index is this database's."""
        if self.checked and version is not None and self.applied.version >= version:
            return
        with Session(engine) as session:
            if not self.behind(session):
                return
        with self.lock, self._writer() as writer:
            with Session(engine) as session:
                if self.behind(session):
                    self._catch_up(session, writer, progress or Progress())
                    self.checked = True

    def current_in_background(self, engine: Engine) -> None:
        """Catch up in a thread of its own (at start, or when /readyz finds it behind)."""
        if self.catching_up is None or not self.catching_up.is_alive():
            self.catching_up = threading.Thread(
                target=self._current_or_log, args=(engine,), name="search-catch-up", daemon=True
            )
            self.catching_up.start()

    def _current_or_log(self, engine: Engine) -> None:
        try:
            self.current(engine)
        except SQLAlchemyError as exc:  # not migrated yet, or unreachable: /readyz says which
            LOG.info("search index not brought up to date: %s", exc)

    def rebuild(self, engine: Engine, progress: Progress | None = None) -> None:
        """Every document again from search_document (`treatykb search rebuild`)."""
        with self.lock, self._writer() as writer, Session(engine) as session:
            self._rebuild(session, writer, progress or Progress())

    @contextlib.contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """The index's one writer, waiting while another process holds it; the sidecar
        read again once it is ours (that process may have brought the index up to date)."""
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                writer = self.index.writer(heap_size=HEAP, num_threads=0)  # one per core
                break
            except ValueError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.index.reload()
        self.applied = self._read_sidecar()
        try:
            yield writer
        finally:
            with contextlib.suppress(ValueError):  # already done by _commit
                # Waits for its merges and releases the lock, whatever holds a reference
                # to it (a traceback's frames); what it did not commit is dropped.
                writer.wait_merging_threads()

    def _catch_up(self, session: Session, writer: tantivy.IndexWriter, progress: Progress) -> None:
        version, newest = _version(session), _newest_change(session)
        known = _stamp(session, self.applied.change)
        foreign = self.applied.change > newest or known != self.applied.stamp
        if foreign or self.applied.version < 0 or newest - self.applied.change > REBUILD_FROM:
            self._rebuild(session, writer, progress)
            return
        if (newest, version) == (self.applied.change, self.applied.version):
            return  # current: only this process had not checked yet
        progress.phase("search", newest - self.applied.change, unit="changes")
        for start in range(self.applied.change, newest, BATCH):
            stop = min(start + BATCH, newest)
            _replay(session, writer, _changed(session, start, stop))
            progress.advance(stop - self.applied.change)
        self._commit(writer, Applied(newest, version, _stamp(session, newest)))

    def _rebuild(self, session: Session, writer: tantivy.IndexWriter, progress: Progress) -> None:
        version, newest = _version(session), _newest_change(session)
        total = session.execute(select(func.count()).select_from(DOC)).scalar_one()
        progress.phase("search", total, unit="documents")
        writer.delete_all_documents()
        done = 0
        rows = session.execute(
            select(*COLUMNS).order_by(DOC.c.id).execution_options(yield_per=BATCH)
        )
        for row in rows:
            writer.add_document(_document(row))
            done += 1
            if done % BATCH == 0:
                progress.advance(done)
        progress.advance(done)
        self._commit(writer, Applied(newest, version, _stamp(session, newest)))

    def _commit(self, writer: tantivy.IndexWriter, applied: Applied) -> None:
        writer.commit()
        self._write_sidecar(applied)
        self.index.reload()


def _version(session: Session) -> int:
    version = session.execute(select(col(m.DataVersion.version))).scalar()
    return int(version or 0)


def _newest_change(session: Session) -> int:
    return int(session.execute(select(func.max(m.Change.id))).scalar() or 0)


def _stamp(session: Session, change: int) -> str:
    """The change's timestamp as text: with its id, what tells one database from another."""
    if change == 0:
        return ""
    found = session.execute(select(col(m.Change.changed_at)).where(col(m.Change.id) == change))
    stamp = found.scalar()
    return "" if stamp is None else str(stamp)


def _changed(session: Session, after: int, upto: int) -> dict[str, list[str]]:
    """The keys of searchable records changed in (after, upto], per kind of document."""
    rows = session.execute(
        select(col(m.Change.resource), col(m.Change.key))
        .where(col(m.Change.id) > after, col(m.Change.id) <= upto)
        .order_by(col(m.Change.id))
    )
    keys: dict[str, list[str]] = {}
    for resource, key in rows:
        kind = SEARCH_TYPES.get(resource)
        if kind is not None:
            keys.setdefault(kind, []).append(key)
    return keys


def _replay(session: Session, writer: tantivy.IndexWriter, keys: dict[str, list[str]]) -> None:
    """These records' documents as the database holds them now (none: deleted), with
    their dependents' (a person's statements carry the person's names)."""
    refreshed = documents.with_dependents(session, keys, keys.get("person", []))
    for kind, changed in refreshed.items():
        for start in range(0, len(changed), documents.CHUNK):
            chunk = changed[start : start + documents.CHUNK]
            for key in chunk:
                writer.delete_documents_by_term("ref", f"{kind}:{key}")
            found = select(*COLUMNS).where(DOC.c.type == kind, DOC.c.key.in_(chunk))
            for row in session.execute(found):
                writer.add_document(_document(row))
