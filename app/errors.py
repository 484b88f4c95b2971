"""Domain errors and the one RFC 9457 problem+json renderer."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE_BASE = "https://treatykb.org/problems/"


class AppError(Exception):
    """An error a client can act on; subclasses carry the HTTP status and title."""

    status = 400
    title = "Bad request"
    slug = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class NotFound(AppError):
    status = 404
    title = "Not found"
    slug = "not-found"

    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f"No {resource} with identifier {key!r} exists.")


class InvalidParameter(AppError):
    status = 422
    title = "Invalid parameter"
    slug = "invalid-parameter"


class BodyTooLarge(AppError):
    """A body past its limit: declared (app/http/edge.py refuses it before the app runs) or
    counted as it arrives (raised while the app reads it)."""

    status = 413
    title = "Content too large"
    slug = "content-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The body exceeds {limit:,} bytes. Split a large import into several.")


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str,
    slug: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(
        jsonable_encoder(body),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    location = [str(part) for part in error.get("loc", ())]
    return {"location": location, "message": error.get("msg", ""), "type": error.get("type")}


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(request, exc)


def app_error_response(request: Request, exc: AppError) -> JSONResponse:
    return problem_response(
        request,
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        slug=exc.slug,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_describe(e) for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors)
    return problem_response(
        request,
        status=422,
        title="Invalid request",
        detail=detail,
        slug="invalid-request",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    if exc.status_code == 404 and detail is None:
        detail = f"There is no resource at {request.url.path}; see /docs for the API."
    return problem_response(
        request,
        status=exc.status_code,
        title=phrase,
        detail=detail or phrase,
        slug=phrase.lower().replace(" ", "-"),
        headers=getattr(exc, "headers", None),
    )


async def _unexpected_error(request: Request, _exc: Exception) -> JSONResponse:
    # Never leak a stack trace or SQL to the client; the server log has them.
    return problem_response(
        request,
        status=500,
        title="Internal server error",
        slug="internal-error",
        detail="The server failed to handle this request. It has been logged.",
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The database is down, restarting, unreachable or cancelled a runaway query: a retry
    # may well succeed, and the pool reconnects by itself (pre-ping), so no restart needed.
    logging.getLogger("treatykb.errors").warning("database unavailable: %s", exc.__class__)
    return problem_response(
        request,
        status=503,
        title="Service unavailable",
        slug="database-unavailable",
        detail="The database is unavailable or too slow at the moment; retry shortly.",
        headers={"Retry-After": "5"},
    )


class PermanentRedirect(Exception):
    """An alternative identifier: answer 308 with the canonical URL."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


async def _redirect(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PermanentRedirect)
    return JSONResponse(
        {"location": exc.location}, status_code=308, headers={"Location": exc.location}
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(PermanentRedirect, _redirect)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unavailable in (OperationalError, InterfaceError, PoolTimeout, DisconnectionError):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error."""

    type: str = Field(
        description="A URI naming the kind of problem.",
        examples=["https://treatykb.org/problems/not-found"],
    )
    title: str = Field(
        description="A short summary of the kind of problem.", examples=["Not found"]
    )
    status: int = Field(description="The HTTP status code.", examples=[404])
    detail: str = Field(
        description="What went wrong with this request, and how to fix it.",
        examples=["No treaty with identifier 'start-ii' exists."],
    )
    instance: str = Field(
        description="The request path the problem is about.", examples=["/v1/treaties/start-ii"]
    )
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="For invalid input: each field and what is wrong with it."
    )


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {"application/problem+json": {}},
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("The request cannot be understood (e.g. a malformed key or body)."),
    404: _problem("No such resource."),
    413: _problem("The body is larger than the service accepts."),
    414: _problem("The URL is longer than the service accepts."),
    422: _problem("A parameter is invalid or unknown."),
    429: _problem("Too many requests from this client; see Retry-After."),
    500: _problem("The server failed; nothing about it is disclosed."),
    503: _problem("The database is unavailable or the request took too long; retry."),
}


# Writes: who may, and the optimistic-concurrency answers.
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid bearer token."),
    403: _problem("The token may not do this (revoked, or the role is too low)."),
    409: _problem("The record exists already, or others still cite it."),
    412: _problem("If-Match does not match: the record changed since it was read."),
    428: _problem("If-Match is required."),
}
