"""The OpenAPI document, with the bounds the service enforces written into it.

FastAPI documents what pydantic declares; the limits that live elsewhere are added here so
that clients (and OWASP API linters) can see them: every string, list and integer is
bounded (a URL is at most `max_url_length`, a record's text at most MAX_TEXT characters
and its lists MAX_ITEMS entries, a page at most `max_page_size` items), every /v1 response
documents the rate-limit headers, and the write endpoints their bearer token.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.config import Settings
from app.http.ratelimit import EXEMPT
from app.importing.records import MAX_ITEMS, MAX_TEXT

# Bounds of URL parameters, enforced in app.main.check_parameter_sizes. With the default
# max_url_length (16 KiB), no request within them is refused for its length.
MAX_PATH_PARAM = 250
MAX_QUERY_VALUE = 200
MAX_REPEATS = 10
STREAMS = {
    "text/csv": {"schema": {"type": "string", "maxLength": 2**62}},
    "application/x-ndjson": {"schema": {"type": "string", "maxLength": 2**62}},
}
INT64 = (-(2**63), 2**63 - 1)
RATE_HEADERS = {
    "RateLimit-Limit": "Requests allowed in the current window.",
    "RateLimit-Remaining": "Requests left in the current window.",
    "RateLimit-Reset": "Seconds until the window resets.",
}


def _bound(schema: Any, *, text: int, items: int) -> None:
    """Add maxLength/maxItems/format/minimum/maximum where a schema has none (in place)."""
    if isinstance(schema, list):
        for entry in schema:
            _bound(entry, text=text, items=items)
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind == "string" and not {"maxLength", "enum", "const"} & schema.keys():
        schema["maxLength"] = 10 if schema.get("format") == "date" else text
    if kind == "array" and "maxItems" not in schema:
        schema["maxItems"] = items
    if kind == "integer":
        schema.setdefault("format", "int64")
        schema.setdefault("minimum", INT64[0])
        schema.setdefault("maximum", INT64[1])
    for key, value in schema.items():
        if key not in ("example", "examples", "default", "enum", "const"):
            _bound(value, text=text, items=items)


def _parameter(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    """A query or path parameter: never JSON null when present, bounded by the URL's
    limits; a `format` parameter's operation documents the streams it may send."""
    schema = parameter.get("schema", {})
    options = schema.get("anyOf", [])
    if len(options) == 2 and {"type": "null"} in options:
        (kept,) = [o for o in options if o != {"type": "null"}]
        parameter["schema"] = {**{k: v for k, v in schema.items() if k != "anyOf"}, **kept}
    limit = MAX_PATH_PARAM if parameter["in"] == "path" else MAX_QUERY_VALUE
    _bound(parameter, text=limit, items=MAX_REPEATS)
    if parameter["name"] == "format" and "200" in operation["responses"]:
        operation["responses"]["200"].setdefault("content", {}).update(STREAMS)


INT32 = {"type": "integer", "format": "int32", "minimum": 0}


def _response_headers(path: str, status: str, response: dict[str, Any]) -> None:
    """CORS on every answer, Retry-After on a 429, the rate-limit fields on the rest."""
    headers = response.setdefault("headers", {})
    headers["Access-Control-Allow-Origin"] = {
        "description": "CORS: the allowed origin, for requests with Origin.",
        "schema": {"type": "string", "maxLength": 2048},
    }
    if status == "429":
        headers["Retry-After"] = {
            "description": "Seconds to wait before retrying.",
            "schema": {**INT32, "maximum": 86_400},
        }
    if status[0] in "24" and path not in EXEMPT:
        for name, description in RATE_HEADERS.items():
            headers[name] = {"description": description, "schema": {**INT32, "maximum": 2**31 - 1}}


def _operation(path: str, operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        _parameter(operation, parameter)
    for status, response in operation.get("responses", {}).items():
        _response_headers(path, status, response)


def install_openapi(app: FastAPI, settings: Settings) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        # Bearer security comes from the routes themselves: FastAPI marks every operation
        # that depends on app.curation.auth's `bearer`, and only those.
        components = document.setdefault("components", {})
        for path, operations in document["paths"].items():
            for operation in operations.values():
                _operation(path, operation)
        items = max(MAX_ITEMS, settings.max_page_size)
        _bound(document["paths"], text=MAX_TEXT, items=items)
        _bound(components.get("schemas", {}), text=MAX_TEXT, items=items)
        app.openapi_schema = document
        return document

    app.openapi = build  # type: ignore[method-assign]
