"""One way to raise business errors, one way to render them.

A ``DomainError`` is an anticipated failure that is safe to show to the caller. Each app subclasses it
with a stable ``code`` (documented in ``docs/api.md``); the API renders ``{"code", "message", "extra"}``
with the class's ``http_status``; portals show ``message`` as a form error or a flash message.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "domain_error"
    http_status: int = 400

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        if code is not None:
            self.code = code
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "extra": self.extra}


class ValidationFailed(DomainError):
    """Input that breaks a rule: which field, which line, what to do."""

    code = "validation_failed"
    http_status = 400


class NotFound(DomainError):
    """Missing, or belonging to another tenant: the same answer either way."""

    code = "not_found"
    http_status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class Conflict(DomainError):
    """A concurrent change, an idempotency clash, a state that no longer allows the action."""

    code = "conflict"
    http_status = 409


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429


class InvalidState(Conflict):
    code = "invalid_state"
