"""A real uvicorn server on a free loopback port, in a thread of the test process, with an injected clock."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from widget_server.assembly.app import create_app
from widget_server.clock import Clock, FakeClock
from widget_server.config import Settings
from widget_server.server import prepare, seed_demo, uvicorn_config

ADMIN_EMAIL = "operator@demo.openline"
ADMIN_PASSWORD = "demo-password-123"
SETTLE_TIMEOUT = 30.0  # a loaded 2-core CI machine; a settle takes milliseconds


async def settle(url: str) -> None:
    """Have the server at `url` run every job and e-mail that its test clock made due, and wait until it has.

    Then nothing more is coming from what time did: assert that something did not happen, or read a socket up to
    a pong (`Client.remaining`). Only a server with a test clock has the route (widget_server/assembly/testing.py).
    """
    async with httpx.AsyncClient(base_url=url, timeout=SETTLE_TIMEOUT) as client:
        (await client.post("/api/test/settle")).raise_for_status()


@dataclass
class LiveServer:
    data_dir: Path
    database_url: str
    clock: Clock = field(default_factory=FakeClock)
    overrides: dict[str, Any] = field(default_factory=dict)
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _sock: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def app(self) -> Any:
        assert self._server is not None
        return self._server.config.app

    def start(self) -> LiveServer:
        # The same port across restarts, so clients reconnect to the same address.
        if self._sock is None or self._sock.fileno() == -1:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind(("127.0.0.1", self.port))
            self.port = self._sock.getsockname()[1]
        options: dict[str, Any] = {
            "data_dir": self.data_dir,
            "database_url": self.database_url,
            "public_url": self.url,
            "secret_key": "test-secret-key-not-for-production",
            "demo_operator_password": ADMIN_PASSWORD,
            "log_level": "warning",
        }
        settings = Settings(**(options | self.overrides))
        app = create_app(settings, clock=self.clock)
        self._server = server = uvicorn.Server(uvicorn_config(app, settings, "127.0.0.1", self.port))
        sock = self._sock
        failures: list[BaseException] = []

        def run() -> None:
            # In a thread of its own: the test's event loop may be running in this one (a restart mid-test).
            try:
                prepare(settings)
                seed_demo(app)
                server.run(sockets=[sock])
            except BaseException as exc:
                failures.append(exc)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if failures:
                raise failures[0]
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = None
        # uvicorn closes the listening socket on shutdown; the next start binds the same port again.
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    async def settle(self) -> None:
        await settle(self.url)

    def restart(self) -> None:
        self.stop()
        self.start()
