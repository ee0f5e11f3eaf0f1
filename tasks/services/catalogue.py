"""Operations approve the business scenarios (类目) an enterprise may publish tasks in, per its service agreement."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from tasks.exceptions import TaskInvalid
from tasks.models import MerchantCategory, TaskCategory


@transaction.atomic
def merchant_category_grant(*, merchant, category: TaskCategory, actor, now, note: str = "") -> MerchantCategory:
    """Approve ``category`` for ``merchant`` (idempotent). Raises TaskInvalid for an inactive category."""
    if not category.is_active:
        raise TaskInvalid(_("类目“{kind}”已停用，不能开通").format(kind=category.name), extra={"field": "category"})
    row, created = MerchantCategory.objects.get_or_create(merchant=merchant, category=category,
                                                          defaults={"approved_at": now, "note": note[:200]})
    if created:
        audit.record(event="tasks.merchant_category.granted", now=now, actor=actor, subject=row,
                     after={"category": category.code, "note": note[:200]})
    return row


@transaction.atomic
def merchant_category_revoke(*, merchant, category: TaskCategory, actor, now) -> bool:
    """Withdraw the approval. Tasks already published stay; new submissions in this category are refused."""
    row = MerchantCategory.objects.for_tenant(merchant).filter(category=category).first()
    if row is None:
        return False
    audit.record(event="tasks.merchant_category.revoked", now=now, actor=actor, subject=row,
                 before={"category": category.code})
    row.delete()
    return True
