"""Record-level curation: read, create, replace, merge-patch and delete one record."""

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from app.db import is_sqlite
from app.errors import AppError, InvalidParameter, NotFound
from app.importing.loader import Batch, Counts, Item, LoadError
from app.importing.records import Record
from app.importing.resources import BY_NAME, Key, Resource
from app.importing.writer import delete_record, write_batch
from app.meta.service import begin_write


class Conflict(AppError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PreconditionFailed(AppError):
    status = 412
    title = "Precondition failed"
    slug = "precondition-failed"


class PreconditionRequired(AppError):
    status = 428
    title = "Precondition required"
    slug = "precondition-required"


def etag_of(record: Record) -> str:
    canonical = json.dumps(record.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def resource_named(name: str) -> Resource:
    if name not in BY_NAME:
        raise NotFound("resource", name)
    return BY_NAME[name]


def key_from_path(resource: Resource, raw: str) -> Key:
    parts = tuple(raw.split("/"))
    if len(parts) != len(resource.key):
        raise NotFound(resource.name.rstrip("s"), raw)
    return parts


def validate(resource: Resource, data: Any) -> Record:
    try:
        return resource.record.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"location": ["body", *map(str, e["loc"])], "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['location'][1:])}: {e['message']}" for e in errors)
        raise InvalidParameter(detail or "Invalid record.", errors=errors) from exc


def problems_error(exc: LoadError) -> InvalidParameter:
    errors = [
        {
            "file": p.file,
            "record": p.record,
            "line": p.line,
            "key": p.key,
            "field": p.field,
            "message": p.message,
        }
        for p in exc.problems
    ]
    return InvalidParameter("; ".join(str(p) for p in exc.problems), errors=errors)


_SQLITE_WRITER = threading.Lock()


@contextmanager
def record_lock(session: Session, resource: Resource, key: Key) -> Iterator[None]:
    """Hold the record from the If-Match check through the commit, so two writers that read
    the same version cannot both pass the check (a lost update).

    PostgreSQL: SELECT ... FOR UPDATE on the row, which works across instances. SQLite: one
    writer per process at a time (SQLite serialises writers anyway; this also covers the
    read that precedes the write).
    """
    if is_sqlite(session.get_bind()):  # type: ignore[arg-type]
        with _SQLITE_WRITER:
            yield
        return
    begin_write(session)  # first: every writer takes its locks in the same order
    where = [resource.column(k) == v for k, v in zip(resource.key, key, strict=True)]
    session.execute(select(resource.column(resource.key[0])).where(*where).with_for_update())
    yield


def current(session: Session, resource: Resource, key: Key) -> Record:
    record = resource.read_one(session, key)
    if record is None:
        raise NotFound(resource.name.rstrip("s"), "/".join(key))
    return record


def check_if_match(if_match: str | None, record: Record) -> None:
    if not if_match:
        raise PreconditionRequired(
            "Send If-Match with the ETag of the record as you last read it, so no one else's "
            "change is overwritten."
        )
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in tags and etag_of(record) not in tags:
        raise PreconditionFailed(
            "The record changed since you read it; read it again, reapply your edit, retry."
        )


def save(session: Session, resource: Resource, record: Record, *, actor: str) -> Counts:
    try:
        counts = write_batch(
            session, Batch({resource.name: [Item("body", 1, record)]}), actor=actor
        )
    except LoadError as exc:
        raise problems_error(exc) from exc
    return counts[resource.name]


def remove(session: Session, resource: Resource, key: Key, *, actor: str) -> None:
    try:
        delete_record(session, resource, key, actor=actor)
    except LoadError as exc:
        raise Conflict(str(exc.problems[0].message)) from exc


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: null removes a member, objects merge, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result
