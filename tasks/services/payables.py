"""Payable work for the payouts app: reserve items for a payout, mark them paid, or release them after a failure.

Each call is all or nothing over the listed items, which are locked in id order (after any task lock, per
``tasks.locks``). ``ref`` is the payout's stable reference (e.g. "payout-order:123").
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from tasks.exceptions import PayableNotFound, PayableStateInvalid
from tasks.models import PayableWork


def _locked(*, merchant, payable_ids) -> list[PayableWork]:
    ids = sorted({int(i) for i in payable_ids})
    if not ids:
        raise PayableNotFound(_("请至少选择一项待付款工作"))
    rows = list(PayableWork.objects.for_tenant(merchant).select_for_update(no_key=True).filter(pk__in=ids)
                .order_by("id"))
    found = {row.pk for row in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise PayableNotFound(_("未找到待付款工作：{value}").format(value='、'.join(f'#{i}' for i in missing)), extra={"missing": missing})
    return rows


def _require_ref(ref: str) -> str:
    ref = (ref or "").strip()
    if not ref or len(ref) > 64:
        raise PayableStateInvalid(_("付款引用（ref）必须是 1–64 个字符"), extra={"field": "ref"})
    return ref


@transaction.atomic
def payable_work_reserve(*, merchant, payable_ids, ref: str, now) -> list[PayableWork]:
    """READY → RESERVED under ``ref``. Reserving again under the same ref is a no-op (idempotent).

    Raises PayableNotFound (missing or another tenant's), PayableStateInvalid (already reserved elsewhere or paid).
    """
    ref = _require_ref(ref)
    rows = _locked(merchant=merchant, payable_ids=payable_ids)
    busy = [r for r in rows if not (r.status == PayableWork.Status.READY
                                    or (r.status == PayableWork.Status.RESERVED and r.reserved_ref == ref))]
    if busy:
        raise PayableStateInvalid(
            _("以下工作已在其他付款中或已付款：") + "、".join(f"#{r.pk}（{r.get_status_display()}）" for r in busy),
            extra={"ids": [r.pk for r in busy]})
    for row in rows:
        if row.status == PayableWork.Status.READY:
            row.status, row.reserved_ref, row.reserved_at = PayableWork.Status.RESERVED, ref, now
            row.save(update_fields=["status", "reserved_ref", "reserved_at", "updated_at"])
            audit.record(event="tasks.payable.reserved", now=now, subject=row, after={"ref": ref,
                                                                                      "amount_fen": row.amount_fen})
    return rows


@transaction.atomic
def payable_work_mark_paid(*, merchant, payable_ids, ref: str, now) -> list[PayableWork]:
    """RESERVED (under ``ref``) → PAID. Already PAID under the same ref is a no-op.

    Raises PayableNotFound, PayableStateInvalid (not reserved by this ref).
    """
    ref = _require_ref(ref)
    rows = _locked(merchant=merchant, payable_ids=payable_ids)
    wrong = [r for r in rows if r.reserved_ref != ref or r.status == PayableWork.Status.READY]
    if wrong:
        raise PayableStateInvalid(_("以下工作未被该付款锁定，不能标记为已付款：")
                                  + "、".join(f"#{r.pk}" for r in wrong), extra={"ids": [r.pk for r in wrong]})
    for row in rows:
        if row.status == PayableWork.Status.RESERVED:
            row.status, row.paid_at = PayableWork.Status.PAID, now
            row.save(update_fields=["status", "paid_at", "updated_at"])
            audit.record(event="tasks.payable.paid", now=now, subject=row, after={"ref": ref})
    return rows


@transaction.atomic
def payable_work_release(*, merchant, payable_ids, ref: str, now) -> list[PayableWork]:
    """RESERVED (under ``ref``) → READY again, after the payout failed or was cancelled. READY items are a no-op.

    Raises PayableNotFound, PayableStateInvalid (paid, or reserved by another ref).
    """
    ref = _require_ref(ref)
    rows = _locked(merchant=merchant, payable_ids=payable_ids)
    wrong = [r for r in rows if r.status == PayableWork.Status.PAID
             or (r.status == PayableWork.Status.RESERVED and r.reserved_ref != ref)]
    if wrong:
        raise PayableStateInvalid(_("以下工作已付款或被其他付款锁定，不能释放：")
                                  + "、".join(f"#{r.pk}" for r in wrong), extra={"ids": [r.pk for r in wrong]})
    for row in rows:
        if row.status == PayableWork.Status.RESERVED:
            row.status, row.reserved_ref, row.reserved_at = PayableWork.Status.READY, "", None
            row.save(update_fields=["status", "reserved_ref", "reserved_at", "updated_at"])
            audit.record(event="tasks.payable.released", now=now, subject=row, after={"ref": ref})
    return rows
