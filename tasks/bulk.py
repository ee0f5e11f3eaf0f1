"""Payable work for a payout batch, set-based: the same transitions as ``tasks.services.payables`` (READY →
RESERVED → PAID, RESERVED → READY) for thousands of items in one UPDATE, with one audit record per call.

All or nothing over the listed items, locked in id order (the order ``tasks.services.payables`` uses). Written by the
payouts side for batches of up to 100,000 lines; the per-item services stay the reference.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from core import audit
from tasks.exceptions import PayableNotFound, PayableStateInvalid
from tasks.models import PayableWork

CHUNK = 5000


class _NotAllReady(Exception):
    pass


def _ids(payable_ids) -> list[int]:
    ids = sorted({int(i) for i in payable_ids})
    if not ids:
        raise PayableNotFound("请至少选择一项待付款工作")
    return ids


def _lock(merchant, ids: list[int]) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = (PayableWork.objects.for_tenant(merchant).select_for_update(no_key=True)
                .filter(pk__any=ids[start:start + CHUNK]).order_by("id").values_list("id", "status", "reserved_ref"))
        for pk, status, ref in rows:
            found[pk] = (status, ref)
    missing = [i for i in ids if i not in found]
    if missing:
        raise PayableNotFound(f"未找到待付款工作：{'、'.join(f'#{i}' for i in missing[:20])}", extra={"missing": missing})
    return found


def _update(merchant, ids: list[int], condition: Q, **changes) -> int:
    count = 0
    for start in range(0, len(ids), CHUNK):
        count += (PayableWork.objects.for_tenant(merchant).filter(pk__any=ids[start:start + CHUNK]).filter(condition)
                  .update(**changes))
    return count


@transaction.atomic
def payable_work_reserve_many(*, merchant, payable_ids, ref: str, now) -> int:
    """READY → RESERVED under ``ref``; items already reserved under ``ref`` are left as they are. Returns how many
    changed. Raises PayableNotFound, PayableStateInvalid (reserved elsewhere or paid: nothing changes)."""
    ids = _ids(payable_ids)
    try:  # the usual case, every item READY: one UPDATE locks and changes them (no locking read before it)
        with transaction.atomic():
            count = _update(merchant, ids, Q(status=PayableWork.Status.READY), status=PayableWork.Status.RESERVED,
                            reserved_ref=ref, reserved_at=now, updated_at=now)
            if count != len(ids):
                raise _NotAllReady
    except _NotAllReady:  # rolled back: lock them, say which are missing or held, keep those already held by ref
        pass
    else:
        audit.record(event="tasks.payable.reserved_many", now=now, merchant=merchant,
                     subject_type="tasks.payablework", subject_id=str(ids[0]), after={"ref": ref, "count": count})
        return count
    rows = _lock(merchant, ids)
    busy = [pk for pk, (status, held) in rows.items()
            if not (status == PayableWork.Status.READY or (status == PayableWork.Status.RESERVED and held == ref))]
    if busy:
        raise PayableStateInvalid("以下工作已在其他付款中或已付款：" + "、".join(f"#{pk}" for pk in busy[:20]),
                                  extra={"ids": busy})
    count = _update(merchant, ids, Q(status=PayableWork.Status.READY), status=PayableWork.Status.RESERVED,
                    reserved_ref=ref, reserved_at=now, updated_at=now)
    audit.record(event="tasks.payable.reserved_many", now=now, merchant=merchant, subject_type="tasks.payablework",
                 subject_id=str(ids[0]), after={"ref": ref, "count": count})
    return count


@transaction.atomic
def payable_work_mark_paid_many(*, merchant, payable_ids, ref: str, now) -> int:
    """RESERVED under ``ref`` → PAID (already PAID: no-op). Raises PayableNotFound, PayableStateInvalid."""
    ids = _ids(payable_ids)
    rows = _lock(merchant, ids)
    wrong = [pk for pk, (status, held) in rows.items() if held != ref or status == PayableWork.Status.READY]
    if wrong:
        raise PayableStateInvalid("以下工作未被该付款锁定，不能标记为已付款：" + "、".join(f"#{pk}" for pk in wrong[:20]),
                                  extra={"ids": wrong})
    count = _update(merchant, ids, Q(status=PayableWork.Status.RESERVED), status=PayableWork.Status.PAID,
                    paid_at=now, updated_at=now)
    audit.record(event="tasks.payable.paid_many", now=now, merchant=merchant, subject_type="tasks.payablework",
                 subject_id=str(ids[0]), after={"ref": ref, "count": count})
    return count


@transaction.atomic
def payable_work_release_many(*, merchant, payable_ids, ref: str, now) -> int:
    """RESERVED under ``ref`` → READY (READY: no-op). Raises PayableNotFound, PayableStateInvalid (paid or held by
    another ref)."""
    ids = _ids(payable_ids)
    rows = _lock(merchant, ids)
    wrong = [pk for pk, (status, held) in rows.items()
             if status == PayableWork.Status.PAID or (status == PayableWork.Status.RESERVED and held != ref)]
    if wrong:
        raise PayableStateInvalid("以下工作已付款或被其他付款锁定，不能释放：" + "、".join(f"#{pk}" for pk in wrong[:20]),
                                  extra={"ids": wrong})
    count = _update(merchant, ids, Q(status=PayableWork.Status.RESERVED), status=PayableWork.Status.READY,
                    reserved_ref="", reserved_at=None, updated_at=now)
    audit.record(event="tasks.payable.released_many", now=now, merchant=merchant, subject_type="tasks.payablework",
                 subject_id=str(ids[0]), after={"ref": ref, "count": count})
    return count


@transaction.atomic
def payable_work_unpay_many(*, merchant, payable_ids, ref: str, now) -> int:
    """PAID → READY: the payment of the work came back (退票, ``ref`` = the returned order), so it can be paid again.
    READY already: no-op. Raises PayableNotFound, PayableStateInvalid (held by a payment in progress)."""
    ids = _ids(payable_ids)
    rows = _lock(merchant, ids)
    wrong = [pk for pk, (status, _held) in rows.items() if status == PayableWork.Status.RESERVED]
    if wrong:
        raise PayableStateInvalid("以下工作正被其他付款锁定：" + "、".join(f"#{pk}" for pk in wrong[:20]),
                                  extra={"ids": wrong})
    count = _update(merchant, ids, Q(status=PayableWork.Status.PAID), status=PayableWork.Status.READY,
                    reserved_ref="", reserved_at=None, paid_at=None, updated_at=now)
    audit.record(event="tasks.payable.returned_many", now=now, merchant=merchant, subject_type="tasks.payablework",
                 subject_id=str(ids[0]), after={"ref": ref, "count": count})
    return count
