"""JSON for the hot read paths: orjson, with datetimes as UTC ISO 8601 ending in Z."""

import datetime as dt
from typing import Any

import orjson
from fastapi.responses import Response

OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def stamp(value: dt.datetime | None) -> str | None:
    """A stored timestamp (naive on SQLite, aware on PostgreSQL; UTC either way)."""
    if value is None:
        return None
    return orjson.dumps(value, option=OPTIONS)[1:-1].decode()


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=OPTIONS)


class JSONBytes(Response):
    """A JSON body built by the caller; FastAPI passes a Response through untouched."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else dumps(content)
