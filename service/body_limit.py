"""A limit on the size of every request body, answered 413 with an ErrorResponse.

Without it a client could make the API read (and FastAPI parse) a body of any size into memory. A body
that declares its length is refused before any of it is read; one sent in chunks is refused as soon as
it passes the limit.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_response


def too_large_message(max_bytes: int) -> str:
    return f"Request body too large: at most {max_bytes} bytes are accepted"


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(413, too_large_message(self.max_bytes))(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException, because FastAPI passes those on from reading the body (any other
                    # error there becomes "There was an error parsing the body"); the error handlers
                    # then answer it as an ErrorResponse.
                    raise HTTPException(413, too_large_message(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)
