"""Partner API: ``POST /api/v1/tax/quote`` — the tax on a payment, before it is made.

With ``member_id`` (a worker related to the caller's enterprise, or the signed-in worker themself) it quotes against
the worker's recorded state (``tax_quote``); without, it previews a new worker's consecutive months (``tax_preview``).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Kind
from core.api import YuanAmountField
from core.exceptions import NotFound, PermissionDenied
from core.money import format_yuan
from members.models import Member, MemberMerchant
from members.selectors import member_for_user
from tax import engine
from tax.preview import ROUTE_CHOICES, as_yuan, tax_preview
from tax.services import tax_quote


class QuoteRequest(serializers.Serializer):
    amount = YuanAmountField(help_text="约定金额（元）：WORKER 承担时为税前，MERCHANT 承担时为实得")
    bearer = serializers.ChoiceField(choices=["WORKER", "MERCHANT"], default="WORKER")
    date = serializers.DateField(required=False, help_text="纳税义务发生日，默认今天")
    member_id = serializers.IntegerField(required=False)
    months = serializers.IntegerField(required=False, min_value=1, max_value=24, default=1,
                                      help_text="无 member_id 时：按同一金额连续预览的月数")
    route = serializers.ChoiceField(choices=list(ROUTE_CHOICES), default="AUTO")
    location = serializers.ChoiceField(choices=list(engine.LOCATIONS), required=False)


def _merchant(request):
    """The caller's enterprise: a signed partner request (``request.merchant``) or enterprise staff."""
    merchant = getattr(request, "merchant", None)
    if merchant is None and getattr(request.user, "kind", None) == Kind.ENTERPRISE:
        merchant = request.user.merchant
    return merchant


def _member(request, member_id: int) -> Member:
    user = request.user
    if getattr(user, "kind", None) == Kind.WORKER:
        member = member_for_user(user=user)
        if member is None or member.pk != member_id:
            raise NotFound(_("未找到该灵工人员"))
        return member
    merchant = _merchant(request)
    if merchant is None:
        raise PermissionDenied(_("只有企业（含 API 密钥）或灵工人员本人可以按人员试算"))
    if not MemberMerchant.objects.for_tenant(merchant).filter(member_id=member_id).exists():
        raise NotFound(_("未找到该灵工人员"))
    return Member.objects.get(pk=member_id)


class TaxQuoteView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=QuoteRequest, responses={200: OpenApiTypes.OBJECT}, summary="税费试算",
                   description="有 member_id 时按该人员已有记录试算（不写入）；否则预览新人员连续月份的税费。金额为元字符串。")
    def post(self, request):
        data = QuoteRequest(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        on = values.get("date") or timezone.localdate()
        amount, bearer = values["amount"], values["bearer"]
        if values.get("member_id"):
            member = _member(request, values["member_id"])
            quote = tax_quote(member=member, merchant=_merchant(request), bearer=bearer,
                              liability_date=on, now=timezone.now(),
                              **({"gross_fen": amount} if bearer == "WORKER" else {"net_fen": amount}))
            body = {key: (format_yuan(value) if key.endswith("_fen") and isinstance(value, int) else value)
                    for key, value in quote.as_dict().items() if key != "lines"}
            body = {key.removesuffix("_fen"): value for key, value in body.items()}
            body["lines"] = [{"kind": line["kind"], "label": line["label"], "amount": format_yuan(line["amount_fen"]),
                              "rate": line["rate"], "formula": line["formula"]} for line in quote.lines]
            return Response({"kind": "quote", **body})
        rows = tax_preview(start=on, monthly_fen=[amount] * values["months"], route=values["route"], bearer=bearer,
                           location=values.get("location"))
        return Response({"kind": "preview", "months": [
            as_yuan(row) | {"lines": [{"kind": line["kind"], "label": line["label"],
                                       "amount": format_yuan(line["amount_fen"]), "formula": line["formula"]}
                                      for line in row["lines"]]} for row in rows]})
