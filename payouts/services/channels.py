"""Payout-result notifications from the channels: verified by the adapter, stored once, then handed over.

The orders side registers a handler, either per notification with ``@notification_handler`` —
``handler(*, record, notification, now)`` — or per delivery with ``@notification_batch_handler`` —
``handler(*, items=[(record, notification), ...], now)``, for set-based posting of a bank batch notice. Handlers
are called once per *new* notification, inside the transaction that stores it. A redelivery (same channel +
notify_id) only counts ``deliveries`` and calls nothing. Notifications can arrive out of order: a handler
compares with ``payouts.channels.is_stale`` before changing an order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from payouts.channels.base import Notification
from payouts.models import ChannelNotification

_handlers: list[Callable] = []
_batch_handlers: list[Callable] = []


def notification_handler(handler: Callable) -> Callable:
    """Register ``handler(*, record, notification, now)``; returns it unchanged (usable as a decorator)."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def notification_batch_handler(handler: Callable) -> Callable:
    """Register ``handler(*, items, now)`` called once per delivery with every new (record, notification)."""
    if handler not in _batch_handlers:
        _batch_handlers.append(handler)
    return handler


def _record(notification: Notification, now) -> ChannelNotification:
    return ChannelNotification(
        channel=notification.channel, notify_id=notification.notify_id[:64],
        idempotency_key=notification.idempotency_key[:64], channel_order_id=notification.channel_order_id[:64],
        status=notification.status, amount_fen=notification.amount_fen, fail_code=notification.fail_code[:64],
        fail_message=notification.fail_message[:200], occurred_at=notification.occurred_at, received_at=now,
    )


def _existing(keys: set[tuple[str, str]]) -> dict[tuple[str, str], ChannelNotification]:
    found = {}
    by_channel: dict[str, list[str]] = {}
    for channel, notify_id in keys:
        by_channel.setdefault(channel, []).append(notify_id)
    for channel, ids in by_channel.items():
        for start in range(0, len(ids), 900):
            for record in ChannelNotification.objects.filter(channel=channel, notify_id__in=ids[start:start + 900]):
                found[(record.channel, record.notify_id)] = record
    return found


@transaction.atomic
def channel_notifications_receive(*, notifications: Sequence[Notification], now
                                  ) -> list[tuple[ChannelNotification, bool]]:
    """Store verified notifications once each by (channel, notify_id) and run the handlers for the new ones.

    Returns ``(record, created)`` per notification, in order. The caller answers the channel only after this
    commits. A notification repeated within the same delivery counts as a redelivery.
    """
    keys = [(n.channel, n.notify_id[:64]) for n in notifications]
    existing = _existing(set(keys))
    fresh: dict[tuple[str, str], tuple[ChannelNotification, Notification]] = {}
    for key, notification in zip(keys, notifications, strict=True):
        if key not in existing and key not in fresh:
            fresh[key] = (_record(notification, now), notification)
    if _handlers or _batch_handlers:  # the handlers run in this transaction: stored as processed, or not stored at all
        for record, _ in fresh.values():
            record.processed_at = now
    try:
        with transaction.atomic():
            ChannelNotification.objects.bulk_create([record for record, _ in fresh.values()], batch_size=1000)
    except IntegrityError:
        # A concurrent delivery stored some of them first: fall back to one at a time.
        return [channel_notification_receive(notification=n, now=now) for n in notifications]
    repeats = [key for key in keys if key in existing]
    seen: set = set()
    for key in keys:
        if key in fresh and key in seen:
            repeats.append(key)
        seen.add(key)
    if repeats:
        condition = Q()
        for channel, notify_id in set(repeats):
            condition |= Q(channel=channel, notify_id=notify_id)
        ChannelNotification.objects.filter(condition).update(deliveries=F("deliveries") + 1)
    items = list(fresh.values())
    if items:
        for handler in list(_batch_handlers):
            handler(items=items, now=now)
        for handler in list(_handlers):
            for record, notification in items:
                handler(record=record, notification=notification, now=now)
    result, handed = [], set()
    for key in keys:
        if key in fresh and key not in handed:
            result.append((fresh[key][0], True))
            handed.add(key)
        else:
            record = existing.get(key) or fresh[key][0]
            result.append((record, False))
    return result


@transaction.atomic
def channel_notification_receive(*, notification: Notification, now) -> tuple[ChannelNotification, bool]:
    """Store one verified notification once by (channel, notify_id) and run the handlers if it is new."""
    record = _record(notification, now)
    if _handlers or _batch_handlers:  # the handlers run in this transaction: stored as processed, or not at all
        record.processed_at = now
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        ChannelNotification.objects.filter(channel=record.channel, notify_id=record.notify_id).update(
            deliveries=F("deliveries") + 1)
        return ChannelNotification.objects.get(channel=record.channel, notify_id=record.notify_id), False
    for handler in list(_batch_handlers):
        handler(items=[(record, notification)], now=now)
    for handler in list(_handlers):
        handler(record=record, notification=notification, now=now)
    return record, True
