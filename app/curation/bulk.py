"""Bulk curation: an import that validates everything and writes all or nothing, and an
export in exactly the seed-file format, so the two round-trip."""

import datetime as dt
import functools
import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as InPath
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.curation import jobs
from app.curation.auth import EditorDep
from app.curation.service import problems_error
from app.db import engine_of
from app.errors import WRITE_RESPONSES, AppError, InvalidParameter, NotFound
from app.history.router import as_of
from app.importing.bundles import Spool, spool_ndjson, spool_zip
from app.importing.events import Loaded
from app.importing.export import export_all, iter_records
from app.importing.lines import NotAList, json_bundle_records
from app.importing.loader import LoadError, Problem
from app.importing.progress import Progress
from app.importing.resources import BY_NAME
from app.importing.writer import collection_paused, write_import

router = APIRouter(tags=["records"], responses=WRITE_RESPONSES)


class UnsupportedMedia(AppError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class ImportCounts(BaseModel):
    created: int = Field(description="Records that did not exist before.")
    updated: int = Field(description="Records that existed and changed.")
    unchanged: int = Field(description="Records that existed exactly as sent.")


class ImportResult(BaseModel):
    dry_run: bool = Field(
        description="True when nothing was written (dry_run=true): the counts say what would be."
    )
    counts: dict[str, ImportCounts] = Field(description="Counts per resource.")
    import_id: int | None = Field(
        description="The import event that records it (GET /v1/imports); null on a dry run."
    )


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "Lists of records under their resource's name.",
                    "properties": {
                        name: {
                            "type": "array",
                            "description": f"{name} records in the seed_data/ format.",
                            "items": {"type": "object", "additionalProperties": True},
                        }
                        for name in BY_NAME
                    },
                    "additionalProperties": False,
                },
                "example": {"statements": [{"id": "...", "text": "...", "said_on": "2021-01"}]},
            },
            "application/x-ndjson": {
                "schema": {
                    "type": "string",
                    "description": 'One {"resource": ..., "record": {...}} object a line.',
                },
                "example": '{"resource": "statements", "record": {...}}',
            },
            "application/zip": {
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": "<resource>.yaml|json|ndjson|csv files, as the export has.",
                }
            },
        },
    }
}


class ImportJobPublic(BaseModel):
    id: str = Field(description="The job's identifier: GET /v1/imports/{id}.")
    state: Literal["running", "done", "failed"] = Field(
        description="done: everything written (or, dry_run, counted); failed: nothing written."
    )
    phase: str | None = Field(
        description="validate (unit bytes), write (records), index or statistics (steps): "
        "the phase it is in, or ended in."
    )
    done: int = Field(description="How much of the phase is done, in `unit`.")
    total: int | None = Field(description="The phase's total in `unit`, when known.")
    unit: str = Field(description="bytes, records or steps.")
    dry_run: bool = Field(description="True when nothing is to be written.")
    counts: dict[str, ImportCounts] | None = Field(description="Counts per resource, when done.")
    import_id: int | None = Field(
        description="The import event that records it, when done (null on a dry run)."
    )
    detail: str | None = Field(description="Why it failed.")
    errors: list[dict[str, Any]] | None = Field(
        description="The problems that failed it: file, record, line, key, field, message."
    )
    created_at: dt.datetime = Field(description="When the import was sent.")
    finished_at: dt.datetime | None = Field(description="When it was done, or failed.")


ASYNC: dict[int | str, dict[str, Any]] = {
    202: {"model": ImportJobPublic, "description": "Loading in the background: the job."}
}


@router.post("/imports", operation_id="records-import", openapi_extra=IMPORT_BODY,
             response_model=ImportResult, responses=ASYNC)  # fmt: skip
async def import_bundle(
    request: Request,
    token: EditorDep,
    dry_run: Annotated[
        bool, Query(description="Validate and count what would change; write nothing.")
    ] = False,
    prefer: Annotated[
        str | None,
        Header(description="`respond-async`: answer 202 with a job at once, whatever the size."),
    ] = None,
) -> ImportResult | Response:
    """Import a bundle (editor): every record checked first, then all written, or nothing.

    JSON `{"statements": [...], ...}` as in seed_data/; NDJSON lines
    `{"resource": ..., "record": {...}}`; or a zip of `<resource>.yaml|json|ndjson|csv`
    files (an export, or a spreadsheet's CSV per resource). NDJSON and zip bodies are
    spooled to disk and validated record by record, so a bundle can exceed memory. A body
    of 8 MiB or more (or any, with `Prefer: respond-async`) is answered 202 at once, with
    the job whose URL `Location` gives: GET it for the phase, the counts or the problems.
    """
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if kind not in KINDS:
        raise UnsupportedMedia(f"Send {' or '.join(KINDS)}, not {kind}.")
    body, size, sha256 = await _spooled(request)
    engine = request.app.state.engine
    load = functools.partial(_load, engine=engine, kind=kind, actor=token.name, dry_run=dry_run,
                             sha256=sha256)  # fmt: skip
    if size >= jobs.IMPORT_ASYNC_BYTES or "respond-async" in (prefer or ""):
        job = await run_in_threadpool(jobs.start, engine, body, token.name, dry_run, load)
        return _job_response(request, job.id, 202, {"Preference-Applied": "respond-async"})
    try:
        loaded = await run_in_threadpool(load, body, Progress())
    except LoadError as exc:
        raise problems_error(exc) from exc
    finally:
        body.close()
    counts = {name: ImportCounts(**vars(c)) for name, c in loaded.items()}
    return ImportResult(dry_run=dry_run, counts=counts, import_id=loaded.import_id)


async def _spooled(request: Request) -> tuple[IO[bytes], int, str]:
    """The request's body in a temporary file, its size and its SHA-256 (the import
    event's bundle hash), read as it streams in."""
    body, sha256 = tempfile.TemporaryFile(), hashlib.sha256()
    try:
        async for chunk in request.stream():
            body.write(chunk)
            sha256.update(chunk)
        size, _ = body.tell(), body.seek(0)
    except BaseException:
        body.close()
        raise
    return body, size, sha256.hexdigest()


@router.get("/imports/{job_id}", operation_id="records-import-job",
            response_model=ImportJobPublic)  # fmt: skip
def import_job(
    request: Request,
    job_id: Annotated[str, InPath(description="The id a 202 from POST /v1/imports gave.")],
    _token: EditorDep,
) -> JSONResponse:
    """Where a background import is (editor): its phase and progress, then its counts, or
    the problems that stopped it with nothing written."""
    return _job_response(request, job_id, 200)


def _job_response(
    request: Request, job_id: str, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    with Session(request.app.state.engine) as session:
        job = jobs.current(session, job_id)
    if job is None:
        raise NotFound("import job", job_id)
    url = str(request.url_for("import_job", job_id=job_id))
    body = ImportJobPublic.model_validate(job).model_dump(mode="json")
    return JSONResponse(body, status, {"Location": url, "Cache-Control": "no-store",
                                       **(headers or {})})  # fmt: skip


KINDS = ("application/json", "application/x-ndjson", "application/zip")


def _load(
    body: IO[bytes],
    progress: Progress,
    *,
    engine: Any,
    kind: str,
    actor: str,
    dry_run: bool,
    sha256: str,
) -> Loaded:
    """Validate a bundle's body (spooled to disk as it goes), then write it all or
    nothing; each phase reported to `progress`."""
    spool = Spool()
    try:
        progress.phase("validate", body.seek(0, io.SEEK_END), "bytes")
        body.seek(0)
        _spool_body(spool, body, kind)
        progress.advance(progress.total or 0)
        spool.raise_problems()
        return _write(engine, spool, actor, dry_run, sha256, progress)
    finally:
        spool.close()


def _spool_body(spool: Spool, body: IO[bytes], kind: str) -> None:
    if kind == "application/x-ndjson":
        spool_ndjson(spool, body, "bundle.ndjson")
    elif kind == "application/zip":
        try:
            with zipfile.ZipFile(body) as archive:
                spool_zip(spool, archive)
        except zipfile.BadZipFile as exc:
            raise InvalidParameter(f"The body is not a readable zip: {exc}.") from exc
    else:  # application/json: the route took no other KINDS
        _spool_json(spool, body)


def _spool_json(spool: Spool, body: IO[bytes]) -> None:
    """An object of lists, read a record at a time so that a problem names its line."""
    try:
        text = body.read().decode("utf-8")
        for name, records in json_bundle_records(text):
            if name not in BY_NAME or records is None:
                known = ", ".join(BY_NAME)
                message = f"expected a list under one of {known}"
                spool.problem(Problem(name, None, None, None, message))
                continue
            for index, (record, line_of) in enumerate(records, start=1):
                spool.add(name, record, name, index, line_of)
    except NotAList as exc:
        raise InvalidParameter('Send an object of lists: {"statements": [...], ...}.') from exc
    except ValueError as exc:  # not UTF-8, or not JSON
        raise InvalidParameter(f"The body is not JSON: {exc}.") from exc


def _write(
    engine: Any, spool: Spool, actor: str, dry_run: bool, sha256: str, progress: Progress
) -> Loaded:
    with collection_paused(), Session(engine) as session:
        loaded = write_import(session, spool, actor, sha256, progress)
        if dry_run:
            session.rollback()
            loaded.import_id = None
        else:
            session.commit()
    return loaded


@router.get(
    "/export",
    operation_id="records-export",
    dependencies=[Depends(as_of)],
    responses={
        200: {
            "content": {"application/zip": {}, "application/x-ndjson": {}},
            "description": "seed_data/ as a zip, or NDJSON lines the import accepts",
        }
    },
)
def export_records(
    request: Request,
    format: Annotated[
        str, Query(pattern="^(zip|ndjson)$", description="zip (default) or ndjson.")
    ] = "zip",
) -> Response:
    """Every record: a zip of the seed_data/ files, or NDJSON `{"resource", "record"}` lines.

    Either loads back with `treatykb load` or POST /v1/imports unchanged; with `as_of`,
    every record as it was at that data version.
    """
    engine = engine_of(request)
    if format == "ndjson":
        lines = (
            json.dumps({"resource": name, "record": r.model_dump(mode="json")}, ensure_ascii=False)
            + "\n"
            for name, r in iter_records(engine)
        )
        return StreamingResponse(lines, media_type="application/x-ndjson")
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        export_all(engine, Path(tmp))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(tmp).iterdir()):
                archive.write(path, f"seed_data/{path.name}")
    headers = {"Content-Disposition": 'attachment; filename="treatykb-seed_data.zip"'}
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)
