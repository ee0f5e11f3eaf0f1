"""Reads of payout orders and batches, tenant-scoped: another enterprise's order or batch is "not found"."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.pii import blind_index
from payouts.exceptions_orders import BatchNotFound, OrderNotFound
from payouts.models import PayoutBatch, PayoutOrder


def payout_order_list(*, merchant, merchant_order_no: str = "", order_no: str = "", worker: str = "",
                      status: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
                      batch_id: int | None = None) -> QuerySet[PayoutOrder]:
    """订单查询: by the enterprise's order number, the platform's number, the worker (ID number, or masked name as
    shown), status and creation date (inclusive, platform time zone). Newest first."""
    qs = PayoutOrder.objects.for_tenant(merchant).select_related("batch")
    if merchant_order_no:
        qs = qs.filter(merchant_order_no=merchant_order_no.strip())
    if order_no:
        qs = qs.filter(order_no=order_no.strip().upper())
    if worker:
        worker = worker.strip()
        qs = qs.filter(Q(member__id_number_index=blind_index(worker, purpose="id_number"))
                       | Q(payee_name_masked=worker))
    if status:
        qs = qs.filter(status=status)
    if batch_id:
        qs = qs.filter(batch_id=batch_id)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(created_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs.order_by("-created_at", "-id")


def payout_order_get(*, merchant, order_id=None, order_no: str = "", merchant_order_no: str = "") -> PayoutOrder:
    qs = PayoutOrder.objects.for_tenant(merchant).select_related("batch")
    try:
        if order_id is not None:
            return qs.get(pk=order_id)
        if order_no:
            return qs.get(order_no=order_no)
        return qs.get(merchant_order_no=merchant_order_no)
    except (PayoutOrder.DoesNotExist, ValueError, TypeError):
        raise OrderNotFound(_("未找到该付款订单")) from None


def payout_batch_list(*, merchant) -> QuerySet[PayoutBatch]:
    return PayoutBatch.objects.for_tenant(merchant).defer("errors").order_by("-created_at", "-id")


def payout_batch_get(*, merchant, batch_id) -> PayoutBatch:
    try:
        return PayoutBatch.objects.for_tenant(merchant).get(pk=batch_id)
    except (PayoutBatch.DoesNotExist, ValueError, TypeError):
        raise BatchNotFound(_("未找到该付款批次")) from None


# translated when the progress is read (gettext), in the language of whoever polls it
STAGE_LABELS = {"uploaded": gettext_noop("已上传，等待校验"), "parsing": gettext_noop("读取文件"),
                "checking": gettext_noop("逐行校验并计算服务费与税费"), "quoting": gettext_noop("计算服务费与税费"),
                "invalid": gettext_noop("校验完成：有错误行"), "quoted": gettext_noop("已报价，待确认"),
                "confirmed": gettext_noop("已确认，资金已冻结"), "dispatching": gettext_noop("发放中"),
                "completed": gettext_noop("已完成"), "cancelled": gettext_noop("已取消")}


def payout_batch_progress(*, merchant, batch_id) -> dict:
    """What the batch page polls: stage, lines checked, orders by status, amounts settled. Amounts in fen."""
    batch = payout_batch_get(merchant=merchant, batch_id=batch_id)
    counts = dict(PayoutOrder.objects.filter(batch=batch).values_list("status").annotate(n=Count("id")).order_by())
    paid = (PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.SUCCEEDED)
            .aggregate(s=Sum("payee_fen"))["s"] or 0)
    stage = batch.stage.split(":")[0] if batch.stage else ""
    total = batch.order_count or sum(counts.values())
    done = counts.get("SUCCEEDED", 0) + counts.get("FAILED", 0)
    if batch.status in (PayoutBatch.Status.CHECKING,):
        percent = int(100 * batch.checked_lines / batch.line_count) if batch.line_count else 0
    elif batch.status in (PayoutBatch.Status.CONFIRMED, PayoutBatch.Status.DISPATCHING, PayoutBatch.Status.COMPLETED):
        percent = int(100 * done / total) if total else 100
    else:
        percent = 100
    return {"batch_no": batch.batch_no, "status": batch.status, "status_label": batch.get_status_display(),
            "stage": stage, "stage_label": _(STAGE_LABELS[stage]) if stage in STAGE_LABELS else stage, "line_count": batch.line_count,
            "checked_lines": batch.checked_lines, "order_count": total, "error_count": batch.error_count,
            "counts": counts, "done": done, "percent": percent, "paid_fen": paid,
            "finished": batch.status in (PayoutBatch.Status.COMPLETED, PayoutBatch.Status.CANCELLED,
                                         PayoutBatch.Status.INVALID, PayoutBatch.Status.QUOTED,
                                         PayoutBatch.Status.AWAITING_APPROVAL)}


def payout_month_summary(*, merchant, year: int, month: int) -> dict:
    """The month's payouts: per day (count, paid) for the chart, totals by status for the table. Amounts in fen."""
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    orders = PayoutOrder.objects.for_tenant(merchant).filter(created_at__gte=start, created_at__lt=end)
    days = {row["day"]: row for row in (
        orders.filter(status=PayoutOrder.Status.SUCCEEDED).annotate(day=TruncDate("finished_at", tzinfo=tz))
        .values("day").annotate(n=Count("id"), paid=Sum("payee_fen"), gross=Sum("gross_fen"), fee=Sum("fee_fen"),
                                tax=Sum("tax_fen")).order_by("day"))}
    by_status = list(orders.values("status").annotate(n=Count("id"), gross=Sum("gross_fen"), paid=Sum("payee_fen"),
                                                      fee=Sum("fee_fen"), tax=Sum("tax_fen")).order_by("status"))
    labels = dict(PayoutOrder.Status.choices)
    for row in by_status:
        row["label"] = str(labels.get(row["status"], row["status"]))
    daily = []
    day = start.date()
    while day < end.date():
        row = days.get(day) or {}
        daily.append({"date": day, "count": row.get("n", 0), "paid_fen": row.get("paid") or 0,
                      "gross_fen": row.get("gross") or 0, "fee_fen": row.get("fee") or 0, "tax_fen": row.get("tax") or 0})
        day += dt.timedelta(days=1)
    return {"year": year, "month": month, "daily": daily, "by_status": by_status,
            "labels": dict(PayoutOrder.Status.choices)}
