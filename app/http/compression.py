"""Compression for a client that takes it: brotli where asked, else gzip, streams included.

Both are Starlette's GZipMiddleware responders (what to compress, `Vary`, streaming, the
`Content-Length`), brotli as one more `apply_compression`. A request that asks for neither
goes straight to the app: Starlette's identity path would read every response's headers
only to add the `Vary: Accept-Encoding` that the cache validators
(app/http/conditional.py) already send, on every request wrk or a script makes.
"""

import brotli  # type: ignore[import-untyped]  # no stubs; three calls below
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

MINIMUM_BYTES = 1024  # smaller bodies gain little and cost a compressor
# Quality 5: about gzip -9's size on our JSON at a fraction of brotli 11's time.
BROTLI_QUALITY = 5


class BrotliResponder(IdentityResponder):
    content_encoding = "br"

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        super().__init__(app, minimum_size)
        self.compressor = brotli.Compressor(mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        packed: bytes = self.compressor.process(body)
        tail: bytes = self.compressor.flush() if more_body else self.compressor.finish()
        return packed + tail


class Compression:
    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_BYTES) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        coding = encoding(scope["headers"]) if scope["type"] == "http" else ""
        if coding == "br":
            await BrotliResponder(self.app, self.minimum_size)(scope, receive, send)
        elif coding == "gzip":
            await GZipResponder(self.app, self.minimum_size)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def encoding(headers: list[tuple[bytes, bytes]]) -> str:
    """The coding of the answer: "br" or "gzip" when Accept-Encoding takes it (brotli
    first: smaller at the same cost), else "" (none). A coding weighted `q=0` is refused.
    Read on every request (the kept answers' key): each header value is parsed once."""
    value = None
    for name, given in headers:
        if name == b"accept-encoding":
            value = given
            break
    if value is None:
        return ""
    found = _CHOSEN.get(value)
    if found is None:
        if len(_CHOSEN) > 256:
            _CHOSEN.clear()  # any header a client sends is a key: keep it small
        found = _CHOSEN[value] = _choose(value)
    return found


_CHOSEN: dict[bytes, str] = {}


def _choose(value: bytes) -> str:
    taken = set()
    for item in value.decode("latin-1").lower().split(","):
        coding, _, params = item.partition(";")
        if _weight(params) > 0:
            taken.add(coding.strip())
    return "br" if "br" in taken else "gzip" if taken & {"gzip", "*"} else ""


def _weight(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0  # not a weight: not a coding the client asked for
    return 1.0
