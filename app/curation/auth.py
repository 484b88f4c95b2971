"""Who may write: a bearer token with a role. Reads stay anonymous."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app import models as m
from app.curation.tokens import RANK, Role, find_token
from app.db import SessionDep
from app.errors import AppError

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A curator token from `treatykb token create`.",
)


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


def require(role: Role) -> Callable[..., m.ApiToken]:
    def check(
        request: Request,
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> m.ApiToken:
        # Neither message says whether a token exists: nothing that helps guessing.
        stored = find_token(session, credentials.credentials) if credentials else None
        if stored is None:
            raise Unauthorized("Send a valid token: Authorization: Bearer <token>.")
        if stored.revoked_at is not None or RANK[Role(stored.role)] < RANK[role]:
            raise Forbidden(f"This token may not {request.method} here.")
        return stored

    return check


EditorDep = Annotated[m.ApiToken, Depends(require(Role.editor))]
AdminDep = Annotated[m.ApiToken, Depends(require(Role.admin))]
