"""Answer HEAD like GET without a body, so crawlers and caches can probe any resource."""

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b"", "more_body": False}
                if sent_final[0]:
                    return
                sent_final[0] = True
            await send(message)

        sent_final = [False]
        await self.app({**scope, "method": "GET"}, receive, without_body)


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


class AllowHeader:
    """OPTIONS and 405 name every method the path takes (Starlette names only the first
    route's); a CORS preflight is answered before this, by the CORS middleware."""

    def __init__(self, app: ASGIApp, api: Any) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            methods = allowed_methods(self.api, scope)
            if methods:
                allow = ", ".join(sorted(methods | {"OPTIONS"}))
                await send({"type": "http.response.start", "status": 204,
                            "headers": [(b"allow", allow.encode())]})  # fmt: skip
                await send({"type": "http.response.body", "body": b""})
                return

        async def fix_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = ", ".join(sorted(allowed_methods(self.api, scope) | {"OPTIONS"}))
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow.encode())]}
            await send(message)

        await self.app(scope, receive, fix_allow)
