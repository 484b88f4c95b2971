"""Bulk curation: an import that validates everything and writes all or nothing, and an
export in exactly the seed-file format, so the two round-trip."""

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel

from app.curation.auth import EditorDep
from app.curation.service import problems_error
from app.db import SessionDep
from app.errors import InvalidParameter
from app.importing.export import export_all
from app.importing.loader import Batch, LoadError, Problem, validate_records
from app.importing.resources import BY_NAME, RESOURCES
from app.importing.writer import write_batch

router = APIRouter(tags=["records"])


class ImportCounts(BaseModel):
    created: int
    updated: int
    unchanged: int


class ImportResult(BaseModel):
    dry_run: bool
    counts: dict[str, ImportCounts]


def _batch(bundle: dict[str, Any]) -> Batch:
    problems: list[Problem] = []
    batch = Batch()
    for name, raw in bundle.items():
        resource = BY_NAME.get(name)
        if resource is None or not isinstance(raw, list):
            known = ", ".join(r.name for r in RESOURCES)
            problems.append(
                Problem(name, None, None, None, f"expected a list under one of {known}")
            )
            continue
        batch.items[name] = validate_records(resource, name, raw, problems)
    if problems:
        raise LoadError(problems)
    return batch


@router.post("/imports", operation_id="records-import")
def import_bundle(
    session: SessionDep,
    token: EditorDep,
    bundle: Annotated[
        dict[str, Any],
        Body(description='Records by resource, as in seed_data/: {"statements": [...], ...}.'),
    ],
    dry_run: Annotated[
        bool, Query(description="Validate and count what would change; write nothing.")
    ] = False,
) -> ImportResult:
    """Import a bundle (editor): every record checked first, then all written, or nothing."""
    try:
        counts = write_batch(session, _batch(bundle), actor=token.name)
    except LoadError as exc:
        raise problems_error(exc) from exc
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return ImportResult(
        dry_run=dry_run,
        counts={name: ImportCounts(**vars(c)) for name, c in counts.items()},
    )


@router.get(
    "/export",
    operation_id="records-export",
    responses={200: {"content": {"application/zip": {}}, "description": "seed_data/ as a zip"}},
)
def export_zip(request: Request) -> Response:
    """Every record, as a zip of the seed_data/ YAML files (loadable with `treatykb load`)."""
    if request.query_params:
        raise InvalidParameter("export takes no parameters.")
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        export_all(request.app.state.engine, Path(tmp))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(tmp).iterdir()):
                archive.write(path, f"seed_data/{path.name}")
    headers = {"Content-Disposition": 'attachment; filename="treatykb-seed_data.zip"'}
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)
