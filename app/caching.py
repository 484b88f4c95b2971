"""HTTP validators for every GET: ETag, Last-Modified, Cache-Control and X-Data-Version.

Every write bumps one data version, so (version, day, URL, format) fully determines a
response: a matching If-None-Match gets a 304 without running the query at all. The day
is part of it because statuses are computed as of today.
"""

import hashlib
from email.utils import format_datetime

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from app.dates import today
from app.meta.service import read_version

VERSION_HEADER = "X-Data-Version"


def _etag(request: Request, version: int) -> str:
    accept = request.headers.get("accept", "")
    key = f"{version}|{today()}|{request.url.path}?{request.url.query}|{accept}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


class CachingMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: object, max_age: int) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.max_age = max_age

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.method not in ("GET", "HEAD") or not request.url.path.startswith("/v1"):
            return await call_next(request)
        try:
            current = await run_in_threadpool(read_version, request.app.state.engine)
        except SQLAlchemyError:
            current = None  # unmigrated or unreachable: /readyz says which
        if current is None:
            return await call_next(request)
        version, changed = current
        etag = _etag(request, version)
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(changed, usegmt=True),
            "Cache-Control": f"public, max-age={self.max_age}",
            VERSION_HEADER: str(version),
            "Vary": "Accept",
        }
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        response = await call_next(request)
        if response.status_code != 200:
            headers = {VERSION_HEADER: str(version)}
        elif "etag" in response.headers:  # a record's own validator (the write API's)
            del headers["ETag"]
            if _matches(request.headers.get("if-none-match"), response.headers["etag"]):
                return Response(
                    status_code=304, headers={**headers, "ETag": response.headers["etag"]}
                )
        response.headers.update(headers)
        return response
