"""Data versions: which can be read, what `as_of` names, and pruning the oldest."""

import datetime as dt
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, CursorResult, Engine, select, update
from sqlmodel import Session, col

from app import models as m
from app.errors import AppError, InvalidParameter
from app.history.tables import HISTORY_OF
from app.meta.service import begin_write, bump_version


class Past(NamedTuple):
    """A version a read names (`as_of`), and when it was made."""

    version: int
    made_at: dt.datetime


class VersionGone(AppError):
    status = 404
    title = "No such data version"
    slug = "no-such-version"


def parse(raw: str) -> int | dt.datetime:
    """`as_of` as given: a data version, or an RFC 3339 timestamp (with its offset)."""
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    try:
        moment: dt.datetime | None = dt.datetime.fromisoformat(raw)
        if moment is not None and moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # not a time, or one UTC cannot hold
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in raw.upper():
        raise InvalidParameter(
            f"as_of must be a data version (a whole number, as X-Data-Version gives) or an "
            f"RFC 3339 timestamp with its offset (2026-12-01T12:00:00Z); got {raw!r}."
        )
    return moment


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def resolve(connection: Connection, raw: str, current: int) -> Past:
    """The version `raw` names, or VersionGone naming those that can be read."""
    wanted = parse(raw)
    oldest = connection.execute(
        select(col(m.DataVersion.history_from)).where(col(m.DataVersion.id) == 1)
    ).scalar()
    log = m.DataVersionLog
    query = select(col(log.version), col(log.made_at))
    if isinstance(wanted, int):
        query = query.where(col(log.version) == wanted)
    else:
        query = query.where(col(log.made_at) <= wanted).order_by(col(log.version).desc())
    found = connection.execute(query.limit(1)).first()
    if isinstance(wanted, dt.datetime) and wanted > dt.datetime.now(dt.UTC):
        found = None  # the version in force then is not known yet
    if oldest is None or found is None or not oldest <= found[0] <= current:
        readable = (
            "no version can be read yet" if oldest is None
            else f"versions {oldest} to {current} can be read"
        )  # fmt: skip
        what = f"Data version {wanted}" if isinstance(wanted, int) else f"No version at {raw}"
        raise VersionGone(
            f"{what} cannot be read: {readable} (older ones predate the history or were "
            f"pruned; GET /v1/versions lists them)."
        )
    return Past(int(found[0]), _utc(found[1]))


def read_past(engine: Engine, raw: str, current: int) -> Past:
    with engine.connect() as connection:
        return resolve(connection, raw, current)


def prune(engine: Engine, before: int) -> int:
    """Forget every version before `before`: their history rows go, and `as_of` older
    than it answers 404. Returns the history rows removed. It breaks every citation of
    those versions: for operators who must reclaim the space. It makes a new version, so
    every server drops what it resolved and kept at the old ones."""
    removed = 0
    with Session(engine) as session, session.begin():
        begin_write(session)
        oldest, current = session.execute(
            select(col(m.DataVersion.history_from), col(m.DataVersion.version))
        ).one()
        if oldest is None or not oldest < before <= current:
            raise InvalidParameter(
                f"--before must be a version after {oldest} (the oldest kept) and at most "
                f"{current} (the newest)."
            )
        for hist in HISTORY_OF.values():
            # A row replaced at or before `before` was never seen at `before` or after.
            gone = session.execute(hist.delete().where(hist.c.sys_to <= before))
            removed += cast(CursorResult[Any], gone).rowcount
        session.execute(update(m.DataVersion).values(history_from=before))
        bump_version(session)
    return removed
