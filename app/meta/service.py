"""The data version every write bumps, and what the dataset holds."""

import datetime as dt

from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, col

from app import models as m
from app.db import WRITE_VERSION
from app.importing.resources import RESOURCES

# What /v1/meta counts: every resource's table.
COUNTED = {resource.name: resource.model for resource in RESOURCES}


def begin_write(session: Session) -> None:
    """Called first in every write transaction. It names the version the transaction will
    make (the current one plus one), which the database writes into every record row it
    touches (`sys_from`, app/history/tables.py), and which a write without it refuses.
    On PostgreSQL it also takes the data version's row lock, held to the commit, so write
    transactions commit one at a time and their change ids in order (a change with a
    lower id can never commit after one with a higher id, which the search index's replay
    of the change log relies on: app/search/engine.py), and the version named is the one
    made. Taken first, before any other row lock, so no two writers can wait on each
    other. SQLite has one writer at a time already."""
    current = select(col(m.DataVersion.version)).where(col(m.DataVersion.id) == 1)
    if session.get_bind().dialect.name == "sqlite":
        version = session.execute(current).scalar_one()
        session.connection().connection.info[WRITE_VERSION] = version + 1
        return
    version = session.execute(current.with_for_update()).scalar_one()
    session.execute(select(func.set_config("treatykb.version", str(version + 1), True)))


def bump_version(session: Session) -> None:
    """Make the version begin_write named, and log it: when, by whom (the last change's
    actor), and how many changes it holds."""
    now = dt.datetime.now(dt.UTC)
    version = session.execute(
        update(m.DataVersion)
        .where(col(m.DataVersion.id) == 1)
        .values(version=m.DataVersion.version + 1, changed_at=now)
        .returning(col(m.DataVersion.version))
    ).scalar_one()
    log = m.DataVersionLog
    before = session.execute(
        select(col(log.last_change))
        .where(col(log.version) < version)
        .order_by(col(log.version).desc())
        .limit(1)
    ).scalar()
    since = col(m.Change.id) > (before or 0)
    counted = select(func.count(), func.max(col(m.Change.id))).where(since)
    changes, last = session.execute(counted).one()
    actor = session.execute(select(col(m.Change.actor)).where(col(m.Change.id) == last)).scalar()
    session.add(log(version=version, made_at=now, actor=actor or "cli", changes=changes,
                    last_change=last or before))  # fmt: skip


def read_version(engine: Engine) -> tuple[int, dt.datetime] | None:
    """The current (version, changed_at), or None where the table does not exist yet."""
    with engine.connect() as connection:
        row = connection.execute(
            select(col(m.DataVersion.version), col(m.DataVersion.changed_at)).where(
                col(m.DataVersion.id) == 1
            )
        ).first()
    if row is None:
        return None
    changed = row[1] if row[1].tzinfo else row[1].replace(tzinfo=dt.UTC)
    return int(row[0]), changed


def record_counts(session: Session) -> dict[str, int]:
    return {
        name: session.execute(select(func.count()).select_from(model)).scalar_one()
        for name, model in COUNTED.items()
    }
