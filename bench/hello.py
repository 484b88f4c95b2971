"""The ceiling: a bare ASGI app on the same server stack, answering a tiny JSON body."""

BODY = b'{"hello":"world"}'


async def app(scope, _receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
