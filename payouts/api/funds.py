"""GET /api/v1/funds/ (balance and top-up account) and GET /api/v1/funds/movements/ (资金流水).

Amounts travel as yuan strings ("1234.56"), never numbers. Another tenant's data cannot be reached: the merchant is
the caller's (its API key or its staff session).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEnterpriseStaff
from core.exceptions import ValidationFailed
from core.money import format_yuan
from ledger import selectors as ledger_selectors
from ledger.models import AccountKind
from payouts.selectors import funds_overview

ACCOUNTS = {"available": AccountKind.MERCHANT_AVAILABLE, "frozen": AccountKind.MERCHANT_FROZEN}

FundsSerializer = inline_serializer("Funds", {
    "available": serializers.CharField(help_text=gettext_lazy("可用余额（元）")),
    "frozen": serializers.CharField(help_text=gettext_lazy("冻结资金（元）")),
    "topup_account": inline_serializer("TopUpAccount", {
        "account_name": serializers.CharField(), "account_number": serializers.CharField(),
        "bank_name": serializers.CharField(), "reference_code": serializers.CharField()}, allow_null=True),
})
MovementSerializer = inline_serializer("FundsMovement", {
    "posted_at": serializers.DateTimeField(), "kind": serializers.CharField(), "memo": serializers.CharField(),
    "amount": serializers.CharField(help_text=gettext_lazy("变动金额（元），正数为增加")),
    "balance_after": serializers.CharField(help_text=gettext_lazy("变动后余额（元）")),
}, many=True)


class FundsApi(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="funds_get", responses=FundsSerializer, tags=["funds"])
    def get(self, request):
        overview = funds_overview(merchant=request.merchant, today=timezone.localdate(), days=1)
        topup = overview.topup_account
        return Response({
            "available": format_yuan(overview.available_fen),
            "frozen": format_yuan(overview.frozen_fen),
            "topup_account": {"account_name": settings.PLATFORM_LEGAL_NAME, "account_number": topup.account_number,
                              "bank_name": settings.CUSTODY_BANK_NAME, "reference_code": topup.reference_code}
            if topup else None,
        })


def _date(request, name: str) -> dt.date | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("参数 {name} 应为日期 YYYY-MM-DD，收到“{text}”").format(name=name, text=text),
                               extra={"field": name}) from None


class FundsMovementsApi(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="funds_movements", responses=MovementSerializer, tags=["funds"],
                   parameters=[OpenApiParameter("account", str, enum=list(ACCOUNTS), description=gettext_lazy("默认 available")),
                               OpenApiParameter("from", str, description=gettext_lazy("起始日期 YYYY-MM-DD")),
                               OpenApiParameter("to", str, description=gettext_lazy("截止日期 YYYY-MM-DD"))])
    def get(self, request):
        account = request.query_params.get("account", "available")
        if account not in ACCOUNTS:
            raise ValidationFailed(_("参数 account 只能是 available 或 frozen"), extra={"field": "account"})
        postings = ledger_selectors.account_statement(merchant=request.merchant, kind=ACCOUNTS[account],
                                                      date_from=_date(request, "from"), date_to=_date(request, "to"))
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(postings, request, view=self)
        return paginator.get_paginated_response([
            {"posted_at": p.posted_at, "kind": p.entry.kind, "memo": p.entry.memo,
             "amount": format_yuan(p.change_fen), "balance_after": format_yuan(p.balance_after_fen)}
            for p in page])
