from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tax import api, views

member_urlpatterns = [
    path("tax/", views.member_tax, name="tax-home"),
    path("tax/statement/", views.member_statement_issue, name="tax-statement-issue"),
    path("tax/statement/<str:code>/", views.member_statement_download, name="tax-statement"),
    path("tax/calculator/", views.member_calculator, name="tax-calculator"),
]

enterprise_urlpatterns = [
    path("tax/", views.enterprise_tax, name="tax-home"),
    path("tax/<int:year>/<int:month>/file.xlsx", views.enterprise_month_file, name="tax-month-file"),
    path("tax/receipts/<int:receipt_id>/", views.enterprise_receipt_download, name="tax-receipt"),
    path("tax/calculator/", views.enterprise_calculator, name="tax-calculator"),
]

api_urlpatterns = [
    path("tax/quote", api.TaxQuoteView.as_view(), name="tax-quote"),
]

public_urlpatterns = [
    path("verify/tax/<str:code>/", views.verify_statement, name="tax-verify"),
    path("tax/calculator/", views.calculator, name="tax-calculator"),
]

member_nav = [(60, gettext_lazy("收入与纳税"), "m:tax-home")]
enterprise_nav = [(60, gettext_lazy("代扣税费"), "enterprise:tax-home"), (61, gettext_lazy("税费试算"), "enterprise:tax-calculator")]


def member_home_cards(request) -> list[dict]:
    return [{"label": _("收入与纳税"), "note": _("按月查看收入、代扣税费，下载收入纳税明细"), "url": "/m/tax/"},
            {"label": _("税费试算"), "note": _("输入金额，看看到手多少"), "url": "/m/tax/calculator/"}]


def enterprise_home_cards(request) -> list[dict]:
    from django.utils import timezone

    from core.money import format_cny
    from tax import selectors

    today = timezone.localdate()
    months = selectors.merchant_months(merchant=request.merchant, year=today.year)
    this = next((m for m in months if m["month"] == today.month), None)
    return [{"label": _("本月代扣税费"), "value": format_cny(this["tax_fen"] if this else 0),
             "note": _("个人所得税、增值税及附加税费")}]
