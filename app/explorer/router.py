"""The explorer: a static single page that uses only the public /v1 API."""

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
# The page and its files are served by one StaticFiles, which answers If-None-Match and
# If-Modified-Since with a 304 (a FileResponse of its own sent the ETag and ignored both).
FILES = StaticFiles(directory=STATIC)
router = APIRouter(include_in_schema=False)


@router.get("/")
async def explorer(request: Request) -> Response:
    return await FILES.get_response("index.html", request.scope)
