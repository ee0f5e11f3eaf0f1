"""企业资金 /enterprise/funds/: balance, top-up instructions with the virtual account, movements and a daily chart."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, enterprise_required
from core.exceptions import DomainError
from core.money import format_cny
from core.pii import mask_bank_card, mask_name
from ledger import selectors as ledger_selectors
from ledger.models import AccountKind
from payouts.selectors import funds_overview, incoming_transfer_list, payer_account_list
from payouts.services import payer_account_register

KIND_LABELS = {
    "funding.incoming": _("充值入账"), "funding.claim": _("充值入账（人工认领）"), "payout.freeze": _("付款冻结"),
    "payout.release": _("付款解冻"), "test.fund": _("充值"), "funding.return": _("来账退回"),
    "funding.reversal": _("来账冲正（银行退回）"),
}


def _chart(daily, width: int = 640, height: int = 160) -> dict:
    """An SVG polyline of end-of-day balances (no JavaScript; integer fen scaled to pixels)."""
    values = [d.balance_fen for d in daily]
    top = max(values + [1])
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{round(i * step, 1)},{round(height - 8 - (v * (height - 16) / top), 1)}"
                      for i, v in enumerate(values))
    return {"points": points, "width": width, "height": height, "max": format_cny(top),
            "first": daily[0].date if daily else None, "last": daily[-1].date if daily else None}


ACCOUNTS = {"available": AccountKind.MERCHANT_AVAILABLE, "frozen": AccountKind.MERCHANT_FROZEN}


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@enterprise_required("view")
def funds(request):
    merchant = request.merchant
    today = timezone.localdate()
    overview = funds_overview(merchant=merchant, today=today)
    account = request.GET.get("account") if request.GET.get("account") in ACCOUNTS else "available"
    date_from, date_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
    statement = ledger_selectors.account_statement(merchant=merchant, kind=ACCOUNTS[account], date_from=date_from,
                                                   date_to=date_to)
    page = Paginator(statement, 20).get_page(request.GET.get("page"))
    rows = [{"posted_at": p.posted_at, "label": KIND_LABELS.get(p.entry.kind, p.entry.memo or p.entry.kind),
             "memo": p.entry.memo, "change_fen": p.change_fen, "balance_after_fen": p.balance_after_fen}
            for p in page.object_list]
    payers = [{"name": mask_name(payer.account_name), "number": mask_bank_card(payer.account_number),
               "bank": payer.bank_name}
              for payer in payer_account_list(merchant=merchant)]
    return render(request, "payouts/funds.html", {
        "payers": payers, "payer_form": PayerAccountForm(), "can_register_payer": can(request.user, "finance"),
        "transfers": incoming_transfer_list(merchant=merchant)[:10],
        "overview": overview, "page": page, "rows": rows, "chart": _chart(overview.daily), "account": account,
        "date_from": date_from, "date_to": date_to,
        "query": "&".join(f"{k}={v}" for k, v in (("account", account), ("from", date_from or ""),
                                                  ("to", date_to or "")) if v),
        "custody_bank_name": settings.CUSTODY_BANK_NAME, "custody_account_name": settings.PLATFORM_LEGAL_NAME,
    })


class PayerAccountForm(forms.Form):
    account_name = forms.CharField(label=_("户名"), max_length=100)
    account_number = forms.CharField(label=_("账号"), max_length=40)
    bank_name = forms.CharField(label=_("开户行"), max_length=100, required=False)


@require_POST
@enterprise_required("finance")
def payer_account_add(request):
    """付款账户备案 by the enterprise itself: transfers from it are then recognised by account and name."""
    form = PayerAccountForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写付款账户的户名和账号"))
        return redirect("enterprise:payouts-funds")
    try:
        payer_account_register(merchant=request.merchant, actor=request.user, now=timezone.now(), **form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("付款账户已备案：从该账户转入的款项将自动识别入账"))
    return redirect("enterprise:payouts-funds")
