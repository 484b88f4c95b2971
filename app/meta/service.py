"""The data version every write bumps, and what the dataset holds."""

import datetime as dt

from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, col

from app import models as m
from app.importing.resources import RESOURCES

# What /v1/meta counts: every resource's table.
COUNTED = {resource.name: resource.model for resource in RESOURCES}


def begin_write(session: Session) -> None:
    """Called first in every write transaction: on PostgreSQL, the data version's row lock,
    held to the commit, so write transactions commit one at a time and their change ids
    in order (a change with a lower id can never commit after one with a higher id, which
    the search index's replay of the change log relies on: app/search/engine.py). Taken
    first, before any other row lock, so no two writers can wait on each other. SQLite has
    one writer at a time already."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(
            select(col(m.DataVersion.version)).where(col(m.DataVersion.id) == 1).with_for_update()
        )


def bump_version(session: Session) -> None:
    session.execute(
        update(m.DataVersion)
        .where(m.DataVersion.id == 1)  # type: ignore[arg-type]
        .values(version=m.DataVersion.version + 1, changed_at=dt.datetime.now(dt.UTC))
    )


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
