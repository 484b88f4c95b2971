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


class Ready(Health):
    search: str = Field(
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
def readyz(request: Request) -> Ready:
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
    return Ready(status="ready", search=_search(request))


def _search(request: Request) -> str:
    """Whether the search index is current. When behind, it catches up in the background
    (waited for up to READY_WAIT seconds). Never built (a new instance), the instance is
    not ready: every search would wait for the build."""
    index, engine = request.app.state.search, request.app.state.engine
    with Session(engine) as session:
        if not index.behind(session):
            return "current"
    index.current_in_background(engine)
    index.catching_up.join(timeout=READY_WAIT)
    with Session(engine) as session:
        if not index.behind(session):
            return "current"
    if index.applied.version < 0:
        raise NotReady("The search index is being built from the database.")
    return "behind"


READY_WAIT = 2.0
