"""Idempotent requests (Stripe-style Idempotency-Key), per tenant and operation.

- same key, same request → the stored response, the operation is not run again;
- same key, different request → 409 ``idempotency_key_reused``;
- same key while the first request is still running → 409 ``idempotency_in_progress`` (retry later);
- an unexpected exception (a bug, a lost database) frees the key so the client can retry.

The IN_PROGRESS row is committed before the operation runs, so of two concurrent requests exactly one executes.
Call it outside any transaction (partner API views run in autocommit).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.exceptions import Conflict, DomainError, ValidationFailed
from core.models import IdempotencyRecord


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"


@dataclass
class IdempotentResult:
    status: int
    body: Any
    replayed: bool


def fingerprint(*parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def validate_key(key: str | None) -> str:
    if not key:
        raise ValidationFailed(_("缺少 Idempotency-Key 请求头：请为每个新请求生成唯一值（如 UUID），重试时使用同一个值"),
                               code="idempotency_key_missing")
    if len(key) > 255 or not key.isprintable():
        raise ValidationFailed(_("Idempotency-Key 最长 255 个可打印字符"), code="idempotency_key_invalid")
    return key


def run_idempotent(
    *,
    merchant,
    scope: str,
    key: str,
    request_fingerprint: str,
    now,
    execute: Callable[[], tuple[int, Any]],
) -> IdempotentResult:
    """Run ``execute()`` at most once for (merchant, scope, key). ``execute`` returns ``(http_status, body)``.

    A ``DomainError`` raised by ``execute`` is stored as its error response (status and body) and replayed.
    """
    key = validate_key(key)
    merchant_id = getattr(merchant, "pk", merchant)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                merchant_id=merchant_id, scope=scope, key=key, fingerprint=request_fingerprint, created_at=now
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(merchant_id=merchant_id, scope=scope, key=key)
        if existing.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused(
                _("该 Idempotency-Key 已用于另一个不同内容的请求；新请求请使用新的 Idempotency-Key"),
                extra={"idempotency_key": key},
            ) from None
        if existing.status != IdempotencyRecord.Status.COMPLETED:
            raise IdempotencyInProgress(
                _("相同 Idempotency-Key 的请求正在处理中，请稍后用同一个 Key 重试以获取结果"),
                extra={"idempotency_key": key},
            ) from None
        return IdempotentResult(existing.response_status, existing.response_body, replayed=True)

    try:
        status, body = execute()
    except DomainError as error:
        status, body = error.http_status, error.as_dict()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status=IdempotencyRecord.Status.COMPLETED, response_status=status, response_body=body, completed_at=now
    )
    return IdempotentResult(status, body, replayed=False)
