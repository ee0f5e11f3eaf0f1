"""The audit log: who did what, when, from where, before and after; append-only and hash-chained.

``record(...)`` appends one row. The chain is serialised: on PostgreSQL by a transaction-level advisory lock,
on SQLite by the database's own write lock (the connection opens IMMEDIATE transactions).

Lock order: the audit lock is held until the transaction ends, so a service records its audit rows *after* it has
taken its row locks (merchant → batch → order → ledger accounts → audit). A transaction that audits first and then
locks ledger accounts can deadlock with one that does it the other way round (PostgreSQL then aborts one of them). ``verify_chain()``
recomputes every hash and reports the first break.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from core.models import AuditRecord

GENESIS = "0" * 64
_ADVISORY_KEY = 7_316_001  # an arbitrary constant naming "the audit chain" lock


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(fields)).encode("utf-8")).hexdigest()


def _fields_of(row: AuditRecord) -> dict[str, Any]:
    return {
        "at": row.at.isoformat(),
        "actor_id": row.actor_id,
        "actor_label": row.actor_label,
        "merchant_id": row.merchant_id,
        "event": row.event,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "before": row.before,
        "after": row.after,
        "ip": row.ip,
    }


def actor_label(actor) -> str:
    """A label that never contains PII: staff by username, everybody else by role and id."""
    if actor is None:
        return "system"
    label = getattr(actor, "audit_label", None)
    if callable(label):
        return label()
    return f"user:{getattr(actor, 'pk', actor)}"


def record(
    *,
    event: str,
    now,
    actor=None,
    subject=None,
    subject_type: str = "",
    subject_id: str | int = "",
    merchant=None,
    before: dict | None = None,
    after: dict | None = None,
    ip: str | None = None,
) -> AuditRecord:
    """Append an audit record. ``event`` is a dotted name (``payouts.order.confirmed``); ``now`` is injected.

    ``before``/``after`` must hold no plaintext PII (pass masked values). Runs inside the caller's transaction
    when there is one, so the record commits or rolls back with the change it describes.
    """
    if subject is not None:
        subject_type = subject_type or subject._meta.label_lower
        subject_id = subject_id or subject.pk
    if merchant is None and subject is not None:
        is_tenant = subject._meta.label == "merchants.Merchant"
        merchant = subject.pk if is_tenant else getattr(subject, "merchant_id", None)
    merchant_id = getattr(merchant, "pk", merchant)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_KEY])
        last = AuditRecord.objects.order_by("-seq").values_list("hash", flat=True).first()
        row = AuditRecord(
            at=now,
            actor_id=getattr(actor, "pk", None),
            actor_label=actor_label(actor),
            merchant_id=merchant_id,
            event=event,
            subject_type=subject_type,
            subject_id=str(subject_id),
            before=_jsonable(before),
            after=_jsonable(after),
            ip=ip or None,
            prev_hash=last or GENESIS,
        )
        row.hash = _digest(row.prev_hash, _fields_of(row))
        row.save(force_insert=True)
    return row


@dataclass
class ChainReport:
    checked: int
    ok: bool
    broken_at: int | None = None
    reason: str = ""


def verify_chain(*, batch_size: int = 5000) -> ChainReport:
    """Recompute every record's hash in order; the first mismatch or broken link is reported."""
    prev = GENESIS
    checked = 0
    for row in AuditRecord.objects.order_by("seq").iterator(chunk_size=batch_size):
        if row.prev_hash != prev:
            return ChainReport(checked, False, row.seq, "prev_hash does not match the previous record")
        if _digest(row.prev_hash, _fields_of(row)) != row.hash:
            return ChainReport(checked, False, row.seq, "hash does not match the record's content")
        prev = row.hash
        checked += 1
    return ChainReport(checked, True)
