"""Partner API for payouts (/api/v1/payouts/…): create and confirm a payment in one signed, idempotent call, query
orders, read a batch's progress. Errors render as ``{"code", "message", "extra"}``; amounts are decimal strings.

A partner's signed request is its authorisation, so ``POST /payouts/orders`` creates *and* confirms (funds frozen,
tax withheld, dispatched) — the portal's SMS confirmation is for people. Same Idempotency-Key and body → the same
answer; a different body → 409; concurrent → one executes.
"""

from __future__ import annotations

import hashlib

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEnterpriseStaff
from core.api import YuanAmountField, idempotent
from core.money import format_yuan
from payouts import selectors
from payouts.models import PayoutOrder
from payouts.services.orders import payout_order_confirm, payout_order_create

IDEMPOTENCY_HEADER = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
                                      description=_("每个新请求一个唯一值（如 UUID）；重试时用同一个值"))


def order_data(order: PayoutOrder) -> dict:
    return {"order_no": order.order_no, "merchant_order_no": order.merchant_order_no, "status": order.status,
            "status_label": order.get_status_display(), "channel": order.channel,
            "batch_no": order.batch.batch_no if order.batch_id else None, "line_no": order.line_no,
            "payee_name": order.payee_name_masked, "account": order.account_masked,
            "amount": format_yuan(order.amount_fen), "gross": format_yuan(order.gross_fen),
            "tax": format_yuan(order.tax_fen), "fee": format_yuan(order.fee_fen),
            "fee_explanation": order.fee_explanation, "paid": format_yuan(order.payee_fen),
            "frozen": format_yuan(order.freeze_fen), "tax_lines": order.tax_lines,
            "channel_order_id": order.channel_order_id, "fail_code": order.fail_code,
            "fail_message": order.fail_message_shown(),
            "created_at": order.created_at.isoformat() if order.created_at else None,
            "finished_at": order.finished_at.isoformat() if order.finished_at else None}


class OrderCreateInput(serializers.Serializer):
    payable_id = serializers.IntegerField(help_text=_("已验收待付款工作的编号"))
    amount = YuanAmountField(required=False, help_text=_("金额（元，字符串），默认验收金额"))
    merchant_order_no = serializers.CharField(max_length=64, help_text=_("企业订单号，企业内唯一"))
    channel = serializers.ChoiceField(choices=["BANK", "ALIPAY", "WECHAT"])
    account = serializers.CharField(required=False, allow_blank=True, help_text=_("收款账号（默认该人员的默认账户）"))
    remark = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PayoutOrdersApi(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="payouts_orders_list", tags=["payouts"], parameters=[
        OpenApiParameter(name, str) for name in ("merchant_order_no", "order_no", "worker", "status", "date_from",
                                                 "date_to")])
    def get(self, request):
        import datetime as dt

        q = request.query_params

        def day(name):
            try:
                return dt.date.fromisoformat(q[name]) if q.get(name) else None
            except ValueError:
                return None

        rows = selectors.payout_order_list(merchant=request.merchant, merchant_order_no=q.get("merchant_order_no", ""),
                                           order_no=q.get("order_no", ""), worker=q.get("worker", ""),
                                           status=q.get("status", ""), date_from=day("date_from"),
                                           date_to=day("date_to"))
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response([order_data(o) for o in page])

    @extend_schema(operation_id="payouts_orders_create", tags=["payouts"], request=OrderCreateInput,
                   parameters=[IDEMPOTENCY_HEADER])
    @idempotent("payouts.order.create")
    def post(self, request):
        data = OrderCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        now = timezone.now()
        actor = request.user if getattr(request.user, "is_authenticated", False) else None
        order = payout_order_create(merchant=request.merchant, actor=actor, payable_id=v["payable_id"],
                                    amount_fen=v.get("amount"), merchant_order_no=v["merchant_order_no"],
                                    channel=v["channel"], account_number=v.get("account") or None,
                                    remark=v.get("remark", ""), source=PayoutOrder.Source.API, now=now)
        order = payout_order_confirm(merchant=request.merchant, order_id=order.pk, actor=actor, now=now)
        return Response(order_data(order), status=201)


class PayoutOrderApi(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="payouts_orders_get", tags=["payouts"])
    def get(self, request, order_no: str):
        by_merchant_no = request.query_params.get("by") == "merchant_order_no"
        order = selectors.payout_order_get(merchant=request.merchant,
                                           order_no="" if by_merchant_no else order_no,
                                           merchant_order_no=order_no if by_merchant_no else "")
        return Response(order_data(order))


class PayoutBatchProgressApi(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="payouts_batches_progress", tags=["payouts"])
    def get(self, request, batch_id: int):
        return Response(selectors.payout_batch_progress(merchant=request.merchant, batch_id=batch_id))


class BatchUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text=_("批量付款文件（CSV 或 XLSX，模板见企业端“批量付款”）"))
    channel = serializers.ChoiceField(choices=["BANK", "ALIPAY", "WECHAT"])
    title = serializers.CharField(required=False, allow_blank=True, max_length=100)


def batch_data(batch) -> dict:
    return {"id": batch.pk, "batch_no": batch.batch_no, "status": batch.status,
            "status_label": batch.get_status_display(), "channel": batch.channel, "filename": batch.filename,
            "file_sha256": batch.file_sha256}


class PayoutBatchesApi(APIView):
    """Upload a batch file; it is checked and quoted in the background (poll ``progress``), then confirmed."""

    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="payouts_batches_upload", tags=["payouts"],
                   request={"multipart/form-data": BatchUploadInput}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        from core.idempotency import fingerprint, run_idempotent
        from payouts.services.batches import payout_batch_upload

        data = BatchUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        content = v["file"].read()
        now = timezone.now()
        actor = request.user if getattr(request.user, "is_authenticated", False) else None

        def execute():
            batch = payout_batch_upload(merchant=request.merchant, actor=actor, content=content,
                                        filename=v["file"].name, channel=v["channel"], title=v.get("title", ""),
                                        now=now)
            return 202, {**batch_data(batch), "progress_url": f"/api/v1/payouts/batches/{batch.pk}/progress"}

        # The fingerprint covers the file's bytes, not only its name: another file under the same key is a 409.
        result = run_idempotent(
            merchant=request.merchant, scope="payouts.batch.upload", key=request.headers.get("Idempotency-Key"),
            request_fingerprint=fingerprint(v["channel"], v.get("title", ""), v["file"].name,
                                            hashlib.sha256(content).hexdigest()),
            now=now, execute=execute)
        response = Response(result.body, status=result.status)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class PayoutBatchConfirmApi(APIView):
    """Confirm a quoted batch: the partner's signed request is its authorisation (funds frozen, tax withheld,
    dispatched). A batch above the second-approval threshold still needs a second approver on the portal."""

    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="payouts_batches_confirm", tags=["payouts"], request=None,
                   parameters=[IDEMPOTENCY_HEADER])
    @idempotent("payouts.batch.confirm")
    def post(self, request, batch_id: int):
        from payouts.services.batches import payout_batch_confirm_verified

        actor = request.user if getattr(request.user, "is_authenticated", False) else None
        batch = payout_batch_confirm_verified(merchant=request.merchant, batch_id=batch_id, actor=actor,
                                              now=timezone.now())
        return Response(batch_data(batch), status=200)
