"""gzip for a client that takes it: Starlette's GZipMiddleware, streams included.

A request that does not ask for gzip goes straight to the app: Starlette's identity path
would read every response's headers only to add the `Vary: Accept-Encoding` that the
cache validators (app/http/conditional.py) already send, on every request wrk or a script makes.
"""

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MINIMUM_BYTES = 1024  # smaller bodies gain little and cost a compressor


class Compression:
    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_BYTES) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and takes_gzip(scope["headers"]):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def takes_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"accept-encoding" and b"gzip" in value for name, value in headers)
