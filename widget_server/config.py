"""Every setting of the installation, read from the environment in one place."""

from __future__ import annotations

import secrets
import sys
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from widget_server.domain.file_types import DEFAULT_ALLOWED, guess_declared
from widget_server.domain.presence import HEARTBEAT_EVERY
from widget_server.gc_policy import DEFAULT_THRESHOLDS, parse_thresholds


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the SQLite file, the secret key and uploads live.")
    database_url: str = Field("", description="SQLAlchemy async URL; empty means a SQLite file in DATA_DIR.")
    sqlite_synchronous: Literal["normal", "full"] = Field(
        "full", description="full: flush SQLite's log at every commit, so a power cut loses nothing acknowledged."
    )
    redis_url: str | None = Field(None, description="redis://... to share events between processes.")
    redis_prefix: str = Field(
        "openline",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Names this installation's Redis channels; installations sharing one Redis need different ones.",
    )
    public_url: str = Field("", description="The URL visitors and operators use; default http://HOST:PORT.")
    secret_key: SecretStr | None = Field(None, description="Signs tokens; generated into DATA_DIR when unset.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)

    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(10.0, gt=0)
    mail_from: str = "Openline <no-reply@localhost>"

    max_frame_bytes: int = Field(16 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_message_chars: int = Field(4000, ge=1, le=100_000)
    rate_limit_per_sec: float = Field(10.0, gt=0)
    rate_limit_burst: int = Field(30, ge=1)
    send_queue_max: int = Field(512, ge=8)
    hello_timeout: float = Field(10.0, gt=0)
    # How often this process writes the heartbeat of all its open consoles (operators count as offline 60 s after
    # the last one); a setting so that tests need not wait 20 s.
    console_heartbeat_seconds: float = Field(HEARTBEAT_EVERY.total_seconds(), gt=0, le=50)
    ws_per_message_deflate: bool = False
    # The server's WebSocket pings: a connection that does not answer one within the timeout is closed (1011),
    # so a client gone without a word (a sleeping laptop, a lost network) does not stay counted for hours.
    ws_ping_seconds: float = Field(20.0, gt=0)
    ws_ping_timeout_seconds: float = Field(20.0, gt=0)
    session_ttl_hours: int = Field(24 * 14, ge=1)
    # Python's collector thresholds for `openline serve` (widget_server/gc_policy.py); empty keeps Python's own.
    gc_thresholds: str = ",".join(str(n) for n in DEFAULT_THRESHOLDS)

    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    upload_types: str = Field(
        ",".join(DEFAULT_ALLOWED), description="Comma-separated MIME types that visitors and operators may attach."
    )
    file_link_ttl_hours: int = Field(24 * 30, ge=1, le=24 * 366)
    visitor_uploads_per_minute: int = Field(5, ge=1, le=10_000, description="Files one visitor may attach a minute.")
    ip_uploads_per_minute: int = Field(
        20, ge=1, le=100_000, description="Files visitors from one address may attach a minute (several per NAT)."
    )

    demo: bool = Field(True, description="Create the demo line and operator on first start.")
    demo_operator_email: str = "operator@demo.openline"
    demo_operator_password: SecretStr | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # For the multi-process tests only: time is read from this file (see clock.FileClock), so a test moves the
    # clock of every server process at once. Never set it in production.
    test_clock_file: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_public_url(self) -> Settings:
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.port}"
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("gc_thresholds")
    @classmethod
    def _gc_thresholds(cls, value: str) -> str:
        parse_thresholds(value)
        return value

    @field_validator("upload_types")
    @classmethod
    def _mime_types(cls, value: str) -> str:
        for kind in value.split(","):
            kind = kind.strip()
            if kind and (kind.count("/") != 1 or " " in kind):
                raise ValueError(f"{kind!r} is not a MIME type like image/png")
            if kind == "image/svg+xml":
                raise ValueError("image/svg+xml can carry script and is never accepted")
        return value

    @cached_property
    def allowed_upload_types(self) -> frozenset[str]:
        return frozenset(guess_declared(k, "") for k in self.upload_types.split(",") if k.strip())

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @cached_property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'openline.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @cached_property
    def public_origin(self) -> str:
        scheme, rest = self.public_url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @cached_property
    def secret(self) -> bytes:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        # A generated key must outlive restarts, or every session and signed link would die with the process.
        path = self.data_dir / "secret_key"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; on a bad value print which variable is wrong and exit."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()]
        sys.stderr.write("Invalid settings:\n" + "\n".join(lines) + "\n")
        raise SystemExit(2) from None
