"""Liveness and readiness probes."""

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.errors import AppError
from app.migrate import pending_migrations

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    search: str | None = Field(
        None,
        description="/readyz: the search index is `current` (at the database's data "
        "version) or `behind` (catching up in the background; a search waits for it).",
    )


class NotReady(AppError):
    status = 503
    title = "Service unavailable"
    slug = "not-ready"


@router.get("/healthz", operation_id="health-live")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", operation_id="health-ready", responses={503: {"description": "Not ready"}})
def readyz(request: Request) -> Health:
    """The database is reachable and migrated to the schema this code expects, and the
    search index has been built (`search` says whether it is behind)."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        pending = pending_migrations(engine)
    except SQLAlchemyError as exc:
        raise NotReady("The database is unreachable.") from exc
    if pending:
        raise NotReady("The database schema is not migrated; run `treatykb db upgrade`.")
    return Health(status="ready", search=_search(request))


def _search(request: Request) -> str:
    """Whether the search index is current; when behind, it catches up in the background.
    Never built (a new instance), the instance is not ready: every search would wait."""
    index, engine = request.app.state.search, request.app.state.engine
    with Session(engine) as session:
        behind = index.behind(session)
    if not behind:
        return "current"
    index.current_in_background(engine)
    if index.applied.version < 0:
        raise NotReady("The search index is being built from the database.")
    return "behind"
