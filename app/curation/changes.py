"""The change feed: every write, in order, for mirrors and caches to follow."""

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import col

from app import models as m
from app.db import SessionDep
from app.errors import InvalidParameter
from app.listing import list_response
from app.pagination import Page, PageDep, sort_param

router = APIRouter(tags=["records"])
sort_changes = sort_param({"id": m.Change.id}, m.Change.id, "id")


class ChangePublic(BaseModel):
    id: int = Field(description="Increases with every change; use as ?since=.")
    changed_at: dt.datetime = Field(description="When the change was committed (UTC).")
    actor: str = Field(description="The token name, or `cli` for the command line.")
    resource: str = Field(
        description="The resource changed, e.g. statements.", examples=["statements"]
    )
    key: str = Field(description="The record's key (treaty/country for participation).")
    operation: str = Field(description="create, update or delete (a tombstone).")
    before: dict[str, Any] | None = Field(
        description="The record before the change, in the seed format; null for a create."
    )
    after: dict[str, Any] | None = Field(
        description="The record after the change, in the seed format; null for a delete."
    )


def _since(raw: str | None) -> Any:
    if raw is None:
        return None
    if raw.isdigit():
        return m.Change.id > int(raw)  # type: ignore[operator]
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidParameter("since must be a change id or an ISO 8601 timestamp.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return col(m.Change.changed_at) > moment


def _public(change: m.Change) -> ChangePublic:
    return ChangePublic(
        **change.model_dump(exclude={"before", "after"}),
        before=json.loads(change.before) if change.before else None,
        after=json.loads(change.after) if change.after else None,
    )


@router.get("/changes", operation_id="records-changes", response_model=Page[ChangePublic])
def list_changes(
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    sort: Annotated[Any, Depends(sort_changes.dependency)],
    since: Annotated[
        str | None, Query(description="A change id or ISO 8601 timestamp: changes after it.")
    ] = None,
    resource: Annotated[list[str] | None, Query(description="Resource name(s).")] = None,
) -> Page[ChangePublic] | Response:
    """Every create, update and delete, oldest first, with the record before and after."""
    query = select(m.Change)
    condition = _since(since)
    if condition is not None:
        query = query.where(condition)
    if resource:
        query = query.where(col(m.Change.resource).in_(resource))
    return list_response(request, response, session, query, sort, page, ChangePublic, _public)
