"""Tell a worker by SMS when something of theirs changes (sent after the transaction commits; never under a lock)."""

from __future__ import annotations

from accounts.services import sms_send


def notify_worker(member, *, text: str, now) -> None:
    phone = getattr(getattr(member, "user", None), "phone", "")
    if phone:
        sms_send(phone=phone, template="notice", params={"text": text}, now=now)
