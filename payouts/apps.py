from django.apps import AppConfig


def payouts_in_flight_block_closing(merchant) -> list[str]:
    """An enterprise cannot close its account while payouts are unsettled or a fee statement is unpaid."""
    from django.utils.translation import gettext

    from payouts.models import FeeStatement, PayoutOrder

    reasons = []
    open_orders = (PayoutOrder.objects.for_tenant(merchant)
                   .filter(status__in=[PayoutOrder.Status.CONFIRMED, *PayoutOrder.IN_FLIGHT]).count())
    if open_orders:
        reasons.append(gettext("有 {count} 笔付款尚未结束（已确认、发放中或结果待查询），须全部结束后才能注销")
                       .format(count=open_orders))
    unpaid = FeeStatement.objects.for_tenant(merchant).filter(status=FeeStatement.Status.ISSUED).count()
    if unpaid:
        reasons.append(gettext("有 {count} 张服务费账单尚未扣款").format(count=unpaid))
    return reasons


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "付款与发放"

    def ready(self):
        from ledger.services import merchant_accounts_opened
        from payouts.services.funding import on_merchant_accounts_opened

        merchant_accounts_opened.connect(on_merchant_accounts_opened, dispatch_uid="payouts.topup_account_open")

        from merchants.services.account import register_close_check

        register_close_check(payouts_in_flight_block_closing)
