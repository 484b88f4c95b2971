"""Liveness and readiness probes."""

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import AppError
from app.migrate import pending_migrations

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


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
    """The database is reachable and migrated to the schema this code expects."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        pending = pending_migrations(engine)
    except SQLAlchemyError as exc:
        raise NotReady("The database is unreachable.") from exc
    if pending:
        raise NotReady("The database schema is not migrated; run `treatykb db upgrade`.")
    return Health(status="ready")
