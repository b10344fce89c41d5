"""Real server processes (`python -m widget_server serve`) and a real `redis-server` of a test's own.

A server process cannot share the test's FakeClock, so it reads time from a file (`TEST_CLOCK_FILE`, see
`widget_server.clock.FileClock`): `ServerProcess.clock.advance(...)` moves the clock of every process that shares
the file, exactly as `server.clock.advance(...)` does for the in-thread server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import ADMIN_PASSWORD, settle
from widget_server.clock import FileClock

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, until: float, alive: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < until:
        if alive.poll() is not None:
            raise RuntimeError(f"the process on port {port} exited with {alive.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@dataclass
class ServerProcess:
    """One Openline server in a process of its own, on a fixed port (kept across restarts)."""

    name: str
    data_dir: Path
    database_url: str
    clock: FileClock | None  # None: the process keeps the real clock (benchmarks)
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    def launch(self) -> ServerProcess:
        """Start the process; `wait_ready` waits for it (so several can start at once)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATA_DIR": str(self.data_dir),
            "DATABASE_URL": self.database_url,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "PUBLIC_URL": self.url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DEMO_OPERATOR_PASSWORD": ADMIN_PASSWORD,
            "LOG_LEVEL": "warning",
            **self.env,
        }
        if self.clock is not None:
            env["TEST_CLOCK_FILE"] = str(self.clock.path)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "widget_server", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        return self

    def wait_ready(self) -> ServerProcess:
        assert self.process is not None
        until = time.monotonic() + START_TIMEOUT
        _wait_for_port(self.port, until, self.process)
        while time.monotonic() < until:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not become healthy; see {self.log_path}")

    def start(self) -> ServerProcess:
        return self.launch().wait_ready()

    async def settle(self) -> None:
        """This process's due work done (see `live_server.settle`); other processes settle on their own."""
        await settle(self.url)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def need_redis_server() -> str:
    path = shutil.which("redis-server")
    if path:
        return path
    reason = "redis-server is not installed (apt-get install redis-server)"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(reason)


@dataclass
class RedisProcess:
    """A throwaway redis-server on a spare port, with nothing persisted: a restart starts it empty."""

    binary: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisProcess:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, time.monotonic() + 10, self.process)
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"
