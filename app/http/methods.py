"""The methods a path takes, for OPTIONS and for the Allow header of a 405 (app/http/edge.py
answers both, and HEAD like GET without a body)."""

import re
from typing import Any

from starlette.types import Scope


def _templates(app: Any) -> list[tuple[re.Pattern[str], set[str]]]:
    """(path pattern, methods) of every documented operation, from the OpenAPI document."""
    compiled = []
    for path, operations in app.openapi()["paths"].items():
        pattern = re.sub(r"\{[^}:]+:path\}", ".+", path)
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", pattern)
        compiled.append((re.compile(f"^{pattern}$"), {m.upper() for m in operations}))
    return compiled


def allowed_methods(app: Any, scope: Scope) -> set[str]:
    """Every method some documented operation answers at this path."""
    if not hasattr(app.state, "allow_templates"):
        app.state.allow_templates = _templates(app)
    methods: set[str] = set()
    for pattern, operations in app.state.allow_templates:
        if pattern.match(scope["path"]):
            methods |= operations
    if "GET" in methods:
        methods.add("HEAD")
    return methods


def allow_header(app: Any, scope: Scope) -> bytes:
    """The Allow value of an OPTIONS answer or a 405: every method the path takes."""
    return ", ".join(sorted(allowed_methods(app, scope) | {"OPTIONS"})).encode()
