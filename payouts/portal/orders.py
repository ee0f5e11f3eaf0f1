"""企业付款 pages under /enterprise/payouts/: single orders, batches with live progress, order query, the month's
chart and table, receipts, the batch template and the month's vouchers. Thin: read input, one service call, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, enterprise_required
from core import audit
from core.exceptions import DomainError, NotFound
from core.money import parse_yuan
from ledger.selectors import merchant_available_fen
from payouts import selectors
from payouts.batch_file import line_errors_shown, template_csv, template_xlsx
from payouts.models import PayoutOrder
from payouts.services import batches as batch_services
from payouts.services import orders as order_services


def _order(request, order_id):
    try:
        return selectors.payout_order_get(merchant=request.merchant, order_id=order_id)
    except NotFound as error:  # another enterprise's order is simply not there
        raise Http404(error.message) from None


def _batch(request, batch_id):
    try:
        return selectors.payout_batch_get(merchant=request.merchant, batch_id=batch_id)
    except NotFound as error:
        raise Http404(error.message) from None


def _date(text):
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _chart(daily, width: int = 640, height: int = 140) -> dict:
    top = max([d["paid_fen"] for d in daily] + [1])
    bar = width / max(1, len(daily))
    bars = [{"x": round(i * bar + 1, 1), "w": round(max(bar - 2, 1), 1),
             "h": round(d["paid_fen"] * (height - 10) / top, 1), "date": d["date"], "paid_fen": d["paid_fen"]}
            for i, d in enumerate(daily)]
    for b in bars:
        b["y"] = round(height - b["h"], 1)
    return {"bars": bars, "width": width, "height": height, "top_fen": top}


@enterprise_required("view")
def orders(request):
    """订单查询 + the month's chart and table."""
    merchant = request.merchant
    q = request.GET
    rows = selectors.payout_order_list(merchant=merchant, merchant_order_no=q.get("merchant_order_no", ""),
                                       order_no=q.get("order_no", ""), worker=q.get("worker", ""),
                                       status=q.get("status", ""), date_from=_date(q.get("date_from")),
                                       date_to=_date(q.get("date_to")))
    page = Paginator(rows, 20).get_page(q.get("page"))
    today = timezone.localdate()
    month = selectors.payout_month_summary(merchant=merchant, year=today.year, month=today.month)
    return render(request, "payouts/orders/list.html", {
        "page": page, "q": q, "statuses": PayoutOrder.Status.choices, "month": month, "chart": _chart(month["daily"]),
        "available_fen": merchant_available_fen(merchant=merchant)})


@enterprise_required("view")
def order_detail(request, order_id: int):
    order = _order(request, order_id)
    # the page shows order.fail_message: this copy (never saved) carries it in the reader's language
    order.fail_message = order.fail_message_shown()
    return render(request, "payouts/orders/detail.html", {"order": order,
                                                          "can_confirm": can(request.user, "confirm_payments")})


@enterprise_required("confirm_payments")
def order_new(request):
    from tasks.selectors import payable_work_list

    merchant = request.merchant
    if request.method == "POST":
        try:
            amount = request.POST.get("amount", "").strip()
            order = order_services.payout_order_create(
                merchant=merchant, actor=request.user, payable_id=int(request.POST.get("payable_id") or 0),
                amount_fen=parse_yuan(amount, allow_zero=False, field=_("金额")) if amount else None,
                merchant_order_no=request.POST.get("merchant_order_no", ""),
                channel=request.POST.get("channel", "BANK"), remark=request.POST.get("remark", ""), now=timezone.now())
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("已生成付款订单，请核对报价后输入短信验证码确认"))
            return redirect("enterprise:payouts-order", order_id=order.pk)
    payables = payable_work_list(merchant=merchant)[:200]
    return render(request, "payouts/orders/new.html", {"payables": payables,
                                                       "selected": request.GET.get("payable", "")})


@enterprise_required("confirm_payments")
@require_POST
def order_action(request, order_id: int):
    action = request.POST.get("action")
    try:
        if action == "confirm":
            order_services.payout_order_confirm_with_sms(merchant=request.merchant, order_id=order_id,
                                                         actor=request.user, sms_code=request.POST.get("sms_code", ""),
                                                         now=timezone.now())
            messages.success(request, _("已确认付款：资金已冻结，正在发放"))
        elif action == "cancel":
            order_services.payout_order_cancel(merchant=request.merchant, order_id=order_id, actor=request.user,
                                               now=timezone.now())
            messages.success(request, _("订单已取消"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("enterprise:payouts-order", order_id=order_id)


@enterprise_required("view")
def order_receipt(request, order_id: int):
    from payouts.documents import payout_receipt_issue

    order = _order(request, order_id)
    try:
        receipt = payout_receipt_issue(order=order, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("enterprise:payouts-order", order_id=order_id)
    # the receipt is a Chinese document (as its file name), whatever the reader's language
    return FileResponse(receipt.file.open("rb"), as_attachment=True, filename=f"电子回单-{order.order_no}.pdf",
                        content_type="application/pdf")


@enterprise_required("confirm_payments")
@require_POST
def sms_send(request):
    try:
        order_services.payment_sms_send(actor=request.user, now=timezone.now(), ip=request.META.get("REMOTE_ADDR", ""))
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.http_status)
    return JsonResponse({"ok": True, "message": _("验证码已发送到您绑定的手机")})


@enterprise_required("view")
def batches(request):
    merchant = request.merchant
    if request.method == "POST":
        if not can(request.user, "confirm_payments"):
            messages.error(request, _("您的角色无权发起付款"))
            return redirect("enterprise:payouts-batches")
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择 CSV 或 XLSX 文件"))
        else:
            try:
                batch = batch_services.payout_batch_upload(
                    merchant=merchant, actor=request.user, content=upload.read(), filename=upload.name,
                    channel=request.POST.get("channel", "BANK"), title=request.POST.get("title", ""),
                    now=timezone.now())
            except DomainError as error:
                messages.error(request, error.message)
            else:
                return redirect("enterprise:payouts-batch", batch_id=batch.pk)
    page = Paginator(selectors.payout_batch_list(merchant=merchant), 20).get_page(request.GET.get("page"))
    return render(request, "payouts/orders/batches.html", {"page": page})


@enterprise_required("view")
def batch_detail(request, batch_id: int):
    batch = _batch(request, batch_id)
    orders_page = Paginator(selectors.payout_order_list(merchant=request.merchant, batch_id=batch.pk), 50).get_page(
        request.GET.get("page"))
    return render(request, "payouts/orders/batch.html", {
        "batch": batch, "orders_page": orders_page, "errors": line_errors_shown(batch.errors[:500]),
        "progress": selectors.payout_batch_progress(merchant=request.merchant, batch_id=batch.pk),
        "available_fen": merchant_available_fen(merchant=request.merchant),
        "can_confirm": can(request.user, "confirm_payments")})


@enterprise_required("view")
def batch_progress(request, batch_id: int):
    return JsonResponse(selectors.payout_batch_progress(merchant=request.merchant, batch_id=_batch(request, batch_id).pk))


@enterprise_required("confirm_payments")
@require_POST
def batch_action(request, batch_id: int):
    action, now = request.POST.get("action"), timezone.now()
    try:
        if action == "confirm":
            batch = batch_services.payout_batch_confirm(merchant=request.merchant, batch_id=batch_id,
                                                        actor=request.user, sms_code=request.POST.get("sms_code", ""),
                                                        now=now)
            messages.success(request, _("已提交，等待第二位有付款权限的人员复核") if batch.status == "AWAITING_APPROVAL"
                             else _("已确认：资金已冻结，正在发放"))
        elif action == "remove_invalid":
            batch_services.payout_batch_remove_invalid(merchant=request.merchant, batch_id=batch_id,
                                                       actor=request.user, now=now)
            messages.success(request, _("已移除错误行，可以确认付款"))
        elif action == "cancel":
            batch_services.payout_batch_cancel(merchant=request.merchant, batch_id=batch_id, actor=request.user,
                                               now=now)
            messages.success(request, _("批次已取消"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("enterprise:payouts-batch", batch_id=batch_id)


@enterprise_required("view")
def batch_template(request, fmt: str):
    if fmt == "xlsx":
        return HttpResponse(template_xlsx(), headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": 'attachment; filename="batch-template.xlsx"'})
    return HttpResponse(template_csv(), headers={"Content-Type": "text/csv; charset=utf-8",
                                                 "Content-Disposition": 'attachment; filename="batch-template.csv"'})


@enterprise_required("finance")
def vouchers(request):
    from payouts.vouchers import vouchers_xlsx

    today = timezone.localdate()
    try:
        year, month = (int(x) for x in request.GET.get("month", f"{today:%Y-%m}").split("-"))
        dt.date(year, month, 1)
    except ValueError:
        year, month = today.year, today.month
    content = vouchers_xlsx(merchant=request.merchant, year=year, month=month)
    audit.record(event="payouts.vouchers.exported", now=timezone.now(), actor=request.user, merchant=request.merchant,
                 after={"year": year, "month": month})
    return HttpResponse(content, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f'attachment; filename="vouchers-{year}-{month:02d}.xlsx"'})
