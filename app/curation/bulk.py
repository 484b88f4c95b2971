"""Bulk curation: an import that validates everything and writes all or nothing, and an
export in exactly the seed-file format, so the two round-trip."""

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.curation.auth import EditorDep
from app.curation.service import problems_error
from app.errors import WRITE_RESPONSES, AppError, InvalidParameter
from app.importing.bundles import Spool, spool_ndjson, spool_zip
from app.importing.export import export_all, iter_records
from app.importing.lines import NotAList, json_bundle_records
from app.importing.loader import Counts, LoadError, Problem
from app.importing.resources import BY_NAME
from app.importing.writer import collection_paused, write_chunks

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


@router.post("/imports", operation_id="records-import", openapi_extra=IMPORT_BODY)
async def import_bundle(
    request: Request,
    token: EditorDep,
    dry_run: Annotated[
        bool, Query(description="Validate and count what would change; write nothing.")
    ] = False,
) -> ImportResult:
    """Import a bundle (editor): every record checked first, then all written, or nothing.

    JSON `{"statements": [...], ...}` as in seed_data/; NDJSON lines
    `{"resource": ..., "record": {...}}`; or a zip of `<resource>.yaml|json|ndjson|csv`
    files (an export, or a spreadsheet's CSV per resource). NDJSON and zip bodies are
    spooled to disk and validated record by record, so a bundle can exceed memory.
    """
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    spool = Spool()
    try:
        with tempfile.TemporaryFile() as body:
            async for chunk in request.stream():
                body.write(chunk)
            body.seek(0)
            await run_in_threadpool(_spool_body, spool, body, kind)
        spool.raise_problems()
        engine = request.app.state.engine
        counts = await run_in_threadpool(_write, engine, spool, token.name, dry_run)
    except LoadError as exc:
        raise problems_error(exc) from exc
    finally:
        spool.close()
    return ImportResult(
        dry_run=dry_run,
        counts={name: ImportCounts(**vars(c)) for name, c in counts.items()},
    )


def _spool_body(spool: Spool, body: IO[bytes], kind: str) -> None:
    if kind == "application/x-ndjson":
        spool_ndjson(spool, body, "bundle.ndjson")
    elif kind == "application/zip":
        try:
            with zipfile.ZipFile(body) as archive:
                spool_zip(spool, archive)
        except zipfile.BadZipFile as exc:
            raise InvalidParameter(f"The body is not a readable zip: {exc}.") from exc
    elif kind == "application/json":
        _spool_json(spool, body)
    else:
        raise UnsupportedMedia(
            f"Send application/json, application/x-ndjson or application/zip, not {kind}."
        )


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


def _write(engine: Any, spool: Spool, actor: str, dry_run: bool) -> dict[str, Counts]:
    with collection_paused(), Session(engine) as session:
        counts = write_chunks(
            session, list(spool.files), spool.chunks, actor=actor, keys=spool.keys
        )
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return counts


@router.get(
    "/export",
    operation_id="records-export",
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

    Either loads back with `treatykb load` or POST /v1/imports unchanged.
    """
    engine = request.app.state.engine
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
