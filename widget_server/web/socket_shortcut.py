"""The WebSocket endpoints reached straight from the server, past Starlette's middleware and router.

A WebSocket lives as long as its client: every layer the ASGI call passes through stays on its stack for hours
(a coroutine frame each, and `send` wrappers that every outgoing frame goes through again). For the two chat
sockets those layers do nothing: the security headers are for HTTP, the router's match is a fixed path, and an
exception in the endpoint ends in uvicorn's handler either way. Everything else goes to the app as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

Endpoint = Callable[[WebSocket], Awaitable[None]]


class SocketShortcut:
    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.endpoints: dict[str, Endpoint] = {
            route.path: route.endpoint for route in app.routes if isinstance(route, WebSocketRoute)
        }

    @property
    def state(self) -> State:
        """The app's state (its context), for whoever holds this wrapper in its place."""
        return self.app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoints.get(scope["path"]) if scope["type"] == "websocket" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.app  # what `websocket.app` reads: the endpoints find the context in its state
        try:
            await endpoint(WebSocket(scope, receive, send))
        except WebSocketDisconnect:
            # The client hung up while the server was still answering it (a welcome under load, a closed tab): the
            # endpoint has cleaned up; uvicorn would log it as an error of the application.
            return
