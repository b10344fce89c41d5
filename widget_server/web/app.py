"""The web app: routes, middleware and error answers around a context (assembly/app.py makes the context)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from widget_server.errors import OpenlineError
from widget_server.realtime.visitor_pages import VisitorPages
from widget_server.services.context import Context
from widget_server.web import admin_api, agenda_api, files_api, inbox_api, mail_api, pages, rest
from widget_server.web.operator_ws import operator_socket
from widget_server.web.visitor_ws import visitor_socket


class SecurityHeaders:
    """Headers every HTTP response gets; pages add their own Content-Security-Policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def web_app(ctx: Context, lifespan: Lifespan[Starlette], extra_routes: list[BaseRoute], **state: object) -> Starlette:
    """The routes, the middleware and the error answers around a context the assembly made (assembly/app.py)."""
    app = Starlette(
        routes=[
            *pages.routes,
            *rest.routes,
            *inbox_api.routes,
            *agenda_api.routes,
            *admin_api.routes,
            *files_api.routes,
            *mail_api.routes,
            WebSocketRoute("/ws/visitor", visitor_socket),
            WebSocketRoute("/ws/operator", operator_socket),
            *extra_routes,
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={OpenlineError: rest.openline_error},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    for name, value in state.items():
        setattr(app.state, name, value)
    app.state.visitor_pages = VisitorPages()
    app.state.upload_limits = files_api.UploadLimits(ctx.settings)
    return app
