"""Import events: each bulk import (`treatykb load`, POST /v1/imports) is one row saying
who loaded which bundle when, and what it did; each change row it writes names it."""

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app import models as m
from app.importing.loader import Counts

# session.info: the id of the import_event whose change rows the session is writing
IMPORT_ID = "import_id"


class Loaded(dict[str, Counts]):
    """A load's counts per resource, and the id of the import_event that records it
    (None when nothing was kept: a dry run)."""

    import_id: int | None = None


@contextmanager
def recorded_import(session: Session, actor: str, sha256: str) -> Iterator[Loaded]:
    """Within: the session's change rows name a new import_event. When the block ends
    without an error, the event gets the counts the block put in what this yields, and
    the range of the change ids it wrote. In the caller's transaction: a failed import
    leaves no event. (An import that changed nothing leaves the data version as it was:
    GET /v1/imports is not cached by it; app/http/edge.py.)"""
    now = dt.datetime.now(dt.UTC)
    event = m.ImportEvent(imported_at=now, actor=actor, sha256=sha256)
    session.add(event)
    session.flush()
    assert event.id is not None
    last_before = session.execute(select(func.max(m.Change.id))).scalar_one() or 0
    loaded = Loaded()
    loaded.import_id = session.info[IMPORT_ID] = event.id
    try:
        yield loaded
    finally:
        session.info.pop(IMPORT_ID, None)
    session.execute(
        update(m.ImportEvent)
        .where(col(m.ImportEvent.id) == event.id)
        .values(counts=counts_json(loaded), **_range(session, event.id, last_before))
    )


def counts_json(counts: dict[str, Counts]) -> str:
    """Counts per resource as an event or a job keeps them."""
    return orjson.dumps({name: vars(c) for name, c in counts.items()}).decode()


def _range(session: Session, event_id: int, last_before: int) -> dict[str, int | None]:
    """The first and last change ids of the import: a walk of the id index from the last
    id before it (other writers' rows may lie between on PostgreSQL; none on SQLite)."""
    ids = col(m.Change.id)
    mine = select(ids).where(ids > last_before, col(m.Change.import_id) == event_id).limit(1)
    first = session.execute(mine.order_by(ids)).scalar()
    last = session.execute(mine.order_by(ids.desc())).scalar()
    return {"first_change": first, "last_change": last}


def sha256_of(files: Iterable[Path]) -> str:
    """The SHA-256 of the files' bytes, one after the other (a bundle's identity)."""
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as file:
            while block := file.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()
