from django.urls import path
from django.utils.translation import gettext, gettext_lazy

from payouts import callbacks
from payouts.api import funds as funds_api
from payouts.portal import funds

enterprise_urlpatterns = [
    path("funds/", funds.funds, name="payouts-funds"),
    path("funds/payer-accounts/", funds.payer_account_add, name="payouts-payer-account-add"),
]

api_urlpatterns = [
    path("funds/", funds_api.FundsApi.as_view(), name="payouts-funds"),
    path("funds/movements/", funds_api.FundsMovementsApi.as_view(), name="payouts-funds-movements"),
]

public_urlpatterns = [
    path("callbacks/bank/incoming", callbacks.bank_incoming, name="payouts-callback-bank-incoming"),
    path("callbacks/<str:channel>/payouts", callbacks.payout_notification, name="payouts-callback-payouts"),
]

enterprise_nav = [(60, gettext_lazy("资金账户"), "enterprise:payouts-funds")]


def enterprise_home_cards(request) -> list[dict]:
    from core.money import format_cny
    from ledger.selectors import merchant_available_fen, merchant_frozen_fen

    merchant = getattr(request, "merchant", None)
    if merchant is None:
        return []
    return [{"label": gettext("可用余额"), "value": format_cny(merchant_available_fen(merchant=merchant)),
             "note": gettext("冻结 {amount}").format(amount=format_cny(merchant_frozen_fen(merchant=merchant)))}]

from payouts import urls_orders  # noqa: E402  (payout orders and batches)

enterprise_urlpatterns += urls_orders.enterprise_urlpatterns
api_urlpatterns = [*globals().get("api_urlpatterns", []), *urls_orders.api_urlpatterns]
enterprise_nav += urls_orders.enterprise_nav
