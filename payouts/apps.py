from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "付款与发放"

    def ready(self):
        from ledger.services import merchant_accounts_opened
        from payouts.services.funding import on_merchant_accounts_opened

        merchant_accounts_opened.connect(on_merchant_accounts_opened, dispatch_uid="payouts.topup_account_open")
