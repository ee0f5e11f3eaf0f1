"""Who did it: a person (a User row, kept on the task's own columns) or a partner's API key (audited by its label)."""

from __future__ import annotations

from accounts.models import User


def user_of(actor) -> User | None:
    """The ``User`` behind ``actor`` for foreign-key columns; None for an API key (the audit log still names it)."""
    return actor if isinstance(actor, User) else None
