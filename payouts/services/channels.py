"""Payout-result notifications from the channels: verified by the adapter, stored once, then handed over.

The orders side registers a handler with ``@notification_handler``; it is called once per *new* notification,
inside the same transaction that stores it, with ``(record=ChannelNotification, notification=Notification,
now=...)``. A redelivery (same channel + notify_id) only counts ``deliveries`` and calls nothing. Notifications
can arrive out of order: a handler compares with ``payouts.channels.is_stale`` before changing an order.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F

from payouts.channels.base import Notification
from payouts.models import ChannelNotification

_handlers: list[Callable] = []


def notification_handler(handler: Callable) -> Callable:
    """Register ``handler(*, record, notification, now)``; returns it unchanged (usable as a decorator)."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


@transaction.atomic
def channel_notification_receive(*, notification: Notification, now) -> tuple[ChannelNotification, bool]:
    """Store a verified notification once by (channel, notify_id) and run the handlers for a new one.

    Returns (record, created). The caller answers the channel only after this commits.
    """
    record = ChannelNotification(
        channel=notification.channel, notify_id=notification.notify_id[:64],
        idempotency_key=notification.idempotency_key[:64], channel_order_id=notification.channel_order_id[:64],
        status=notification.status, amount_fen=notification.amount_fen, fail_code=notification.fail_code[:64],
        fail_message=notification.fail_message[:200], occurred_at=notification.occurred_at, received_at=now,
    )
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        ChannelNotification.objects.filter(channel=record.channel, notify_id=record.notify_id).update(
            deliveries=F("deliveries") + 1)
        return ChannelNotification.objects.get(channel=record.channel, notify_id=record.notify_id), False
    for handler in list(_handlers):
        handler(record=record, notification=notification, now=now)
    if _handlers:
        record.processed_at = now
        record.save(update_fields=["processed_at"])
    return record, True
