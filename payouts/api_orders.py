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
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEnterpriseStaff
from core.api import YuanAmountField, idempotent
from core.money import format_yuan
from merchants.api import ErrorSerializer
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


STATUSES = [choice for choice, _label in PayoutOrder.Status.choices]


class TaxLineSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("IIT 个人所得税 / VAT 增值税 / URBAN_MAINTENANCE、EDUCATION、LOCAL_EDUCATION 附加税费"))
    label = serializers.CharField()
    amount_fen = serializers.IntegerField(help_text=_("本笔代扣（分）"))
    formula = serializers.CharField(help_text=_("计算过程"))


class OrderSerializer(serializers.Serializer):
    """``order_data``: one payout order as the partner sees it. Amounts are yuan as decimal strings."""

    order_no = serializers.CharField(help_text=_("平台订单号"))
    merchant_order_no = serializers.CharField(help_text=_("企业订单号"))
    status = serializers.ChoiceField(choices=STATUSES)
    status_label = serializers.CharField()
    channel = serializers.ChoiceField(choices=["BANK", "ALIPAY", "WECHAT"])
    batch_no = serializers.CharField(allow_null=True)
    line_no = serializers.IntegerField(allow_null=True, help_text=_("批量文件中的行号"))
    payee_name = serializers.CharField(help_text=_("收款人姓名（脱敏）"))
    account = serializers.CharField(help_text=_("收款账号（脱敏）"))
    amount = serializers.CharField(help_text=_("付款金额（元）"))
    gross = serializers.CharField(help_text=_("税前收入（元）"))
    tax = serializers.CharField(help_text=_("代扣税费合计（元）"))
    fee = serializers.CharField(help_text=_("服务费（元）"))
    fee_explanation = serializers.CharField(help_text=_("服务费计算过程"))
    paid = serializers.CharField(help_text=_("实发金额（元）"))
    frozen = serializers.CharField(help_text=_("冻结金额（元）"))
    tax_lines = TaxLineSerializer(many=True)
    channel_order_id = serializers.CharField(allow_blank=True, help_text=_("通道流水号"))
    fail_code = serializers.CharField(allow_blank=True)
    fail_message = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class OrderPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = OrderSerializer(many=True)


class BatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    batch_no = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    channel = serializers.CharField()
    filename = serializers.CharField()
    file_sha256 = serializers.CharField()


class BatchUploadedSerializer(BatchSerializer):
    progress_url = serializers.CharField(help_text=_("轮询此地址查看校验、报价与发放进度"))


class BatchProgressSerializer(serializers.Serializer):
    batch_no = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    stage = serializers.CharField(allow_blank=True)
    stage_label = serializers.CharField(allow_blank=True)
    line_count = serializers.IntegerField()
    checked_lines = serializers.IntegerField()
    order_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text=_("各状态的订单数"))
    done = serializers.IntegerField(help_text=_("已结束（成功或失败）的订单数"))
    percent = serializers.IntegerField()
    paid_fen = serializers.IntegerField(help_text=_("已付款金额（分）"))
    finished = serializers.BooleanField(help_text=_("为 true 时无需再轮询"))


ERRORS = {400: OpenApiResponse(ErrorSerializer, description=_("请求内容有误：code、message 说明哪个字段、如何修改")),
          401: OpenApiResponse(ErrorSerializer, description=_("签名无效或未认证")),
          404: OpenApiResponse(ErrorSerializer, description=_("不存在或属于其他企业"))}
IDEMPOTENCY_ERRORS = {409: OpenApiResponse(ErrorSerializer, description=_(
    "同一 Idempotency-Key 已用于不同的请求内容，或同一请求正在处理中"))}


class OrderCreateInput(serializers.Serializer):
    payable_id = serializers.IntegerField(help_text=_("已验收待付款工作的编号"))
    amount = YuanAmountField(required=False, help_text=_("金额（元，字符串），默认验收金额"))
    merchant_order_no = serializers.CharField(max_length=64, help_text=_("企业订单号，企业内唯一"))
    channel = serializers.ChoiceField(choices=["BANK", "ALIPAY", "WECHAT"])
    account = serializers.CharField(required=False, allow_blank=True, help_text=_("收款账号（默认该人员的默认账户）"))
    remark = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PayoutOrdersApi(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="payouts_orders_list", tags=["payouts"], summary=_("查询付款订单"),
                   parameters=[
                       OpenApiParameter("merchant_order_no", str, description=_("企业订单号")),
                       OpenApiParameter("order_no", str, description=_("平台订单号")),
                       OpenApiParameter("worker", str, description=_("收款人身份证号，或脱敏后的姓名（如“王*明”）")),
                       OpenApiParameter("status", str, enum=STATUSES),
                       OpenApiParameter("date_from", str, description=_("创建日期起（YYYY-MM-DD）")),
                       OpenApiParameter("date_to", str, description=_("创建日期止（YYYY-MM-DD，含当日）")),
                       OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
                   responses={200: OrderPageSerializer, 401: ERRORS[401]})
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
                   summary=_("创建并确认一笔付款（冻结资金、代扣税费、发送通道）"), parameters=[IDEMPOTENCY_HEADER],
                   responses={201: OrderSerializer, **ERRORS, **IDEMPOTENCY_ERRORS})
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

    @extend_schema(operation_id="payouts_orders_get", tags=["payouts"], summary=_("查询一笔付款订单"),
                   parameters=[OpenApiParameter("by", str, enum=["order_no", "merchant_order_no"], description=_(
                       "路径中的编号是平台订单号（默认）还是企业订单号"))],
                   responses={200: OrderSerializer, 401: ERRORS[401], 404: ERRORS[404]})
    def get(self, request, order_no: str):
        by_merchant_no = request.query_params.get("by") == "merchant_order_no"
        order = selectors.payout_order_get(merchant=request.merchant,
                                           order_no="" if by_merchant_no else order_no,
                                           merchant_order_no=order_no if by_merchant_no else "")
        return Response(order_data(order))


class PayoutBatchProgressApi(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="payouts_batches_progress", tags=["payouts"], summary=_("批次进度（校验、报价、发放）"),
                   responses={200: BatchProgressSerializer, 401: ERRORS[401], 404: ERRORS[404]})
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

    @extend_schema(operation_id="payouts_batches_upload", tags=["payouts"], summary=_("上传批量付款文件"),
                   request={"multipart/form-data": BatchUploadInput}, parameters=[IDEMPOTENCY_HEADER],
                   responses={202: BatchUploadedSerializer, 400: ERRORS[400], 401: ERRORS[401], **IDEMPOTENCY_ERRORS})
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
                   summary=_("确认已报价的批次（冻结资金、代扣税费、发放）"), parameters=[IDEMPOTENCY_HEADER],
                   responses={200: BatchSerializer, **ERRORS, **IDEMPOTENCY_ERRORS})
    @idempotent("payouts.batch.confirm")
    def post(self, request, batch_id: int):
        from payouts.services.batches import payout_batch_confirm_verified

        actor = request.user if getattr(request.user, "is_authenticated", False) else None
        batch = payout_batch_confirm_verified(merchant=request.merchant, batch_id=batch_id, actor=actor,
                                              now=timezone.now())
        return Response(batch_data(batch), status=200)
