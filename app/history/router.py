"""Data versions: the `as_of` every public read takes, and the list of versions."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import col

from app import models as m
from app.db import SessionDep, dialect_of
from app.listing import list_response
from app.pagination import Page, PageDep
from app.reads.spec import Given, ReadSpec
from app.urls import urls_for

AS_OF_HELP = (
    "Read the data as it was at a data version (a number, as X-Data-Version and /v1/versions "
    "give) or at an RFC 3339 timestamp (the version in force then). The answer is the one "
    "this URL gave at that version, dated as on the day the version was made; it never "
    "changes (Cache-Control: immutable), and every URL in it carries the same as_of. A "
    "version that does not exist, or was pruned, is a 404."
)


def as_of(
    as_of: Annotated[
        str | None,
        Query(description=AS_OF_HELP, examples=["412", "2026-12-01T12:00:00Z"], max_length=40),
    ] = None,
) -> None:
    """Declared once for every public read (app/main.py); the edge resolves it before the
    route runs (app/http/edge.py), so the route reads at that version."""


router = APIRouter(tags=["versions"])


class VersionPublic(BaseModel):
    version: int = Field(description="The data version: X-Data-Version, and `as_of`.")
    made_at: dt.datetime = Field(description="When it was made (UTC).")
    actor: str = Field(description="Who made it: a curator's token name, or `cli`.")
    changes: int = Field(description="How many record changes it holds (/v1/changes).")
    url: str = Field(description="The dataset's description at this version: cite it.")


VERSIONS = ReadSpec(
    name="versions",
    model=m.DataVersionLog,
    columns={"version": m.DataVersionLog.version},
    key="version",
    default_sort="-version",
    filters=(),
)


@router.get("/versions", operation_id="versions-list", response_model=Page[VersionPublic])
def list_versions(
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    sort: Annotated[Any, Depends(VERSIONS.sorts.dependency)],
    filters: Annotated[Given, Depends(VERSIONS.dependency())],
) -> Page[VersionPublic] | Response:
    """Every data version that can be read (`as_of`), newest first: when it was made, by
    whom, and how many changes it holds."""
    plan = VERSIONS.plan(filters, sort)
    query = plan.filtered(select(m.DataVersionLog), dialect_of(session))
    base = urls_for(request).base
    oldest = session.execute(select(col(m.DataVersion.history_from))).scalar()
    newest = request.state.data_version  # at `as_of`, the versions there were then
    version = col(m.DataVersionLog.version)
    query = query.where(version >= (oldest or 0), version <= newest)

    def public(row: m.DataVersionLog) -> VersionPublic:
        made = row.made_at if row.made_at.tzinfo else row.made_at.replace(tzinfo=dt.UTC)
        url = f"{base}/meta?as_of={row.version}"
        return VersionPublic(**row.model_dump(exclude={"made_at"}), made_at=made, url=url)

    return list_response(request, response, session, query, plan.sort, page, VersionPublic, public)
