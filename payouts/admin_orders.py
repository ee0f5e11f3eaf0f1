"""Payout batches, orders, receipts and fee statements in the operations back office. Read-only; state changes are
admin actions that call services (query an order's channel now; run the due channel queries; bill fee statements)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.exceptions import DomainError
from core.money import format_yuan
from payouts.models import FeeStatement, PayoutBatch, PayoutOrder, PayoutReceipt


def _yuan(field: str, label: str):
    def show(obj):
        return format_yuan(getattr(obj, field))

    show.short_description = label
    return show


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("batch_no", "merchant", "title", "channel", "status", "order_count", "error_count",
                    _yuan("gross_fen", _("税前合计")), _yuan("freeze_fen", _("冻结")), "created_at")
    list_filter = ("status", "channel")
    search_fields = ("batch_no", "title", "merchant__name")
    exclude = ("errors",)


@admin.register(PayoutOrder)
class PayoutOrderAdmin(ReadOnlyAdmin):
    list_display = ("order_no", "merchant", "merchant_order_no", "batch", "channel", "status", "payee_name_masked",
                    "account_masked", _yuan("payee_fen", _("实发")), _yuan("tax_fen", _("税费")), _yuan("fee_fen", _("服务费")),
                    "settled_by", "created_at")
    list_filter = ("status", "channel", "source", "fee_timing")
    search_fields = ("order_no", "merchant_order_no", "idempotency_key", "channel_order_id")
    actions = ["query_channel_now"]

    @admin.action(description=_("立即向通道查询结果（同一幂等键，不重发）"))
    def query_channel_now(self, request, queryset):
        from payouts.services.dispatch import payout_order_query

        done = 0
        for order in queryset.filter(status__in=PayoutOrder.IN_FLIGHT).order_by("id")[:200]:
            try:
                payout_order_query(order_id=order.pk, now=timezone.now())
                done += 1
            except DomainError as error:
                messages.error(request, f"{order.order_no}：{error.message}")
        messages.info(request, gettext("已查询 {done} 笔在途订单").format(done=done))


@admin.register(PayoutReceipt)
class PayoutReceiptAdmin(ReadOnlyAdmin):
    list_display = ("code", "order", "merchant", "sha256", "issued_at")
    search_fields = ("code", "order__order_no")


@admin.register(FeeStatement)
class FeeStatementAdmin(ReadOnlyAdmin):
    list_display = ("merchant", "year", "month", "order_count", _yuan("fee_fen", _("服务费")), "status", "issued_at",
                    "paid_at")
    list_filter = ("status", "year", "month")
