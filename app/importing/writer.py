"""Write validated records: upsert or delete, audit every change, keep search in step.

Every write path (the loader, the import API, the record API, the CLI) comes through here,
so the change log, the search documents and the data version can never be skipped.
"""

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select
from sqlmodel import Session

from app import models as m
from app.importing.loader import (
    Batch,
    Counts,
    LoadError,
    Problem,
    _check_duplicates,
    _check_references,
    read_batch,
)
from app.importing.records import Record, Ref
from app.importing.resources import RESOURCES, Key, Resource, ordered
from app.meta.service import bump_version
from app.search import index as search_index

CHUNK = 500


def _dump(record: Record | None) -> str | None:
    if record is None:
        return None
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)


def log_change(
    session: Session,
    actor: str,
    resource: Resource,
    key: Key,
    before: Record | None,
    after: Record | None,
) -> None:
    operation = "create" if before is None else "delete" if after is None else "update"
    session.execute(
        insert(m.Change).values(
            changed_at=dt.datetime.now(dt.UTC),
            actor=actor,
            resource=resource.name,
            key="/".join(map(str, key)),
            operation=operation,
            before=_dump(before),
            after=_dump(after),
        )
    )


def _existing(session: Session, resource: Resource, keys: list[Key]) -> dict[Key, Record]:
    found: dict[Key, Record] = {}
    for start in range(0, len(keys), CHUNK):
        found |= resource.read_many(session, keys[start : start + CHUNK])
    return found


def write_batch(session: Session, batch: Batch, *, actor: str = "cli") -> dict[str, Counts]:
    """Upsert a validated batch inside the caller's transaction; raise LoadError on bad refs."""
    problems: list[Problem] = []
    _check_duplicates(batch, problems)
    _check_references(session, batch, problems)
    if problems:
        raise LoadError(problems)
    counts: dict[str, Counts] = {}
    changed: list[tuple[Resource, Record]] = []
    resources = ordered(batch.items)
    for resource in resources:
        keys = [resource.key_of(item.record) for item in batch.items[resource.name]]
        existing = _existing(session, resource, keys)
        tally = counts.setdefault(resource.name, Counts())
        for item in batch.items[resource.name]:
            before = existing.get(resource.key_of(item.record))
            if before == item.record:
                tally.unchanged += 1
                continue
            resource.write_row(session, item.record, existed=before is not None)
            log_change(session, actor, resource, resource.key_of(item.record), before, item.record)
            changed.append((resource, item.record))
            if before is None:
                tally.created += 1
            else:
                tally.updated += 1
    # Links go last: they may point at rows of any resource written above.
    for resource, record in changed:
        resource.write_links(session, record)
    if changed:
        _reindex(session, [(res, res.key_of(record)) for res, record in changed])
        bump_version(session)
    return counts


SEARCH_TYPES = {
    "statements": "statement",
    "articles": "article",
    "treaties": "treaty",
    "people": "person",
    "events": "event",
}


def _reindex(session: Session, changed: list[tuple[Resource, Key]]) -> None:
    keys: dict[str, list[str]] = {kind: [] for kind in SEARCH_TYPES.values()}
    for resource, key in changed:
        if resource.name in SEARCH_TYPES:
            keys[SEARCH_TYPES[resource.name]].append(key[0])
    # A statement's document holds its speaker's names: renaming a person reindexes them.
    keys["statement"] += search_index.statements_of(session, keys["person"])
    for kind, changed_keys in keys.items():
        search_index.reindex(session, kind, sorted(set(changed_keys)))


def load_paths(engine: Engine, paths: list[Path], *, actor: str = "cli") -> dict[str, Counts]:
    batch = read_batch(paths)
    with Session(engine) as session, session.begin():
        return write_batch(session, batch, actor=actor)


def delete_record(session: Session, resource: Resource, key: Key, *, actor: str) -> None:
    """Delete one record, leaving a tombstone in the change log; refuse while it is cited."""
    before = resource.read_one(session, key)
    if before is None:
        raise LoadError([Problem(resource.name, None, "/".join(key), None, "no such record")])
    users = referrers(session, resource, key)
    if users:
        label = "/".join(key)
        message = f"{label} is still referenced by {', '.join(users[:5])}; change those first"
        raise LoadError([Problem(resource.name, None, label, None, message)])
    resource.delete_row(session, key)
    if resource.name == "articles":  # its companion source row goes with it
        session.execute(delete(m.Source).where(m.Source.slug == key[0]))  # type: ignore[arg-type]
    log_change(session, actor, resource, key, before, None)
    _reindex(session, [(resource, key)])
    bump_version(session)


def referrers(session: Session, resource: Resource, key: Key) -> list[str]:
    """'statements/lavrov-...'-style labels of records that point at this one."""
    targets = {resource.name} | ({"sources"} if resource.name == "articles" else set())
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
        select(m.Position.person_slug)
        .join(m.PositionSource)
        .where(
            m.PositionSource.source_slug == key[0]  # type: ignore[arg-type]
        )
    )
    if "sources" in targets:
        found += [f"people/{slug}" for slug in session.execute(positions).scalars()]
        citing = select(m.CompetingValue.resource, m.CompetingValue.key).where(
            m.CompetingValue.source_slug == key[0]  # type: ignore[arg-type]
        )
        found += [f"{name}/{label}" for name, label in session.execute(citing)]
    return sorted(set(found))
