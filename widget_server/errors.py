"""Every error the server reports on purpose, in one tree.

OpenlineError                 code, message; HTTP status; WebSocket close code when it ends a connection
 ├── InvalidInput             400 / error frame `invalid` (or a more precise code such as `too_long`)
 │    └── FormRejected        frame `form.error` with a message per field (`invalid_form`)
 ├── Unauthenticated          401 / close 4401
 ├── Forbidden                403 / error frame `forbidden`
 ├── NotFound                 404
 ├── Conflict                 409 (e.g. `dialog_closed`, `no_dialog`)
 └── RateLimited              429 / error frame `rate_limited`
"""

from __future__ import annotations


class OpenlineError(Exception):
    status = 400
    close_code: int | None = None
    default_code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class InvalidInput(OpenlineError):
    default_code = "invalid"


class FormRejected(InvalidInput):
    """Some fields of a submitted form are wrong; `fields` maps each to a message in the line's language."""

    default_code = "invalid_form"

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


class Unauthenticated(OpenlineError):
    status = 401
    close_code = 4401
    default_code = "unauthenticated"


class Forbidden(OpenlineError):
    status = 403
    default_code = "forbidden"


class NotFound(OpenlineError):
    status = 404
    default_code = "not_found"


class Conflict(OpenlineError):
    status = 409
    default_code = "conflict"


class RateLimited(OpenlineError):
    status = 429
    default_code = "rate_limited"
