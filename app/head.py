"""Answer HEAD like GET without a body, so crawlers and caches can probe any resource."""

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
