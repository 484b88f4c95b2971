"""Write endpoints: one generic record API for every resource, imports and exports."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from app.curation import service
from app.curation.auth import AdminDep, EditorDep
from app.db import SessionDep
from app.errors import WRITE_RESPONSES, InvalidParameter
from app.importing.resources import RESOURCES

router = APIRouter(prefix="/records", tags=["records"], responses=WRITE_RESPONSES)

RESOURCE_NAMES = ", ".join(r.name for r in RESOURCES)
ResourcePath = Annotated[str, Path(description=f"One of: {RESOURCE_NAMES}.")]
KeyPath = Annotated[
    str, Path(description="The record's key; participation: treaty/country, e.g. inf/US.")
]
IfMatch = Annotated[
    str | None, Header(description="The ETag of the record as read. Required (428 without).")
]
RecordBody = Annotated[
    dict[str, Any],
    Body(description="A record in the seed-file format (seed_data/README.md)."),
]


def _record_response(record: Any, *, status: int = 200, location: str | None = None) -> Response:
    headers = {"ETag": service.etag_of(record)}
    if location:
        headers["Location"] = location
    return JSONResponse(record.model_dump(mode="json"), status_code=status, headers=headers)


def _location(request: Request, name: str, key: tuple[str, ...]) -> str:
    return str(request.url_for("read_record", resource=name, key="/".join(key)))


def _save(session: Any, res: Any, path_key: tuple[str, ...], record: Any, actor: str) -> Response:
    if res.key_of(record) != path_key:
        raise InvalidParameter("A record's key cannot change; create a new record.")
    service.save(session, res, record, actor=actor)
    session.commit()
    return _record_response(record)


@router.get("/{resource}/{key:path}", operation_id="records-get")
def read_record(resource: ResourcePath, key: KeyPath, session: SessionDep) -> Response:
    """One record in the editable seed-file format, with the ETag that writes must send."""
    res = service.resource_named(resource)
    return _record_response(service.current(session, res, service.key_from_path(res, key)))


@router.post("/{resource}", operation_id="records-create", status_code=201)
def create_record(
    resource: ResourcePath,
    body: RecordBody,
    request: Request,
    session: SessionDep,
    token: EditorDep,
) -> Response:
    """Create a record (editor). 409 if its key exists; 422 names any missing reference."""
    res = service.resource_named(resource)
    record = service.validate(res, body)
    key = res.key_of(record)
    with service.record_lock(session, res, key):
        if res.read_one(session, key) is not None:
            raise service.Conflict(f"{resource}/{'/'.join(key)} exists; PATCH or PUT it instead.")
        service.save(session, res, record, actor=token.name)
        session.commit()
    return _record_response(record, status=201, location=_location(request, resource, key))


@router.put("/{resource}/{key:path}", operation_id="records-replace")
def replace_record(
    resource: ResourcePath,
    key: KeyPath,
    body: RecordBody,
    session: SessionDep,
    token: EditorDep,
    if_match: IfMatch = None,
) -> Response:
    """Replace a record whole (editor); If-Match required."""
    res = service.resource_named(resource)
    path_key = service.key_from_path(res, key)
    record = service.validate(res, body)
    with service.record_lock(session, res, path_key):
        service.check_if_match(if_match, service.current(session, res, path_key))
        return _save(session, res, path_key, record, token.name)


@router.patch("/{resource}/{key:path}", operation_id="records-patch")
def patch_record(
    resource: ResourcePath,
    key: KeyPath,
    body: RecordBody,
    session: SessionDep,
    token: EditorDep,
    if_match: IfMatch = None,
) -> Response:
    """Change some fields (editor), JSON merge-patch (RFC 7386); If-Match required."""
    res = service.resource_named(resource)
    path_key = service.key_from_path(res, key)
    with service.record_lock(session, res, path_key):
        before = service.current(session, res, path_key)
        service.check_if_match(if_match, before)
        merged = service.merge_patch(before.model_dump(mode="json"), body)
        return _save(session, res, path_key, service.validate(res, merged), token.name)


@router.delete("/{resource}/{key:path}", operation_id="records-delete", status_code=204)
def delete_record(
    resource: ResourcePath,
    key: KeyPath,
    session: SessionDep,
    token: AdminDep,
    if_match: IfMatch = None,
) -> Response:
    """Delete a record (admin); If-Match required; 409 while other records cite it."""
    res = service.resource_named(resource)
    path_key = service.key_from_path(res, key)
    with service.record_lock(session, res, path_key):
        service.check_if_match(if_match, service.current(session, res, path_key))
        service.remove(session, res, path_key, actor=token.name)
        session.commit()
    return Response(status_code=204)
