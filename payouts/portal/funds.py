"""企业资金 /enterprise/funds/: balance, top-up instructions with the virtual account, movements and a daily chart."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import enterprise_required
from core.money import format_cny
from ledger import selectors as ledger_selectors
from ledger.models import AccountKind
from payouts.selectors import funds_overview

KIND_LABELS = {
    "funding.incoming": "充值入账", "funding.claim": "充值入账（人工认领）", "payout.freeze": "付款冻结",
    "payout.release": "付款解冻", "test.fund": "充值", "funding.return": "来账退回", "funding.reversal": "来账冲正（银行退回）",
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
    return render(request, "payouts/funds.html", {
        "overview": overview, "page": page, "rows": rows, "chart": _chart(overview.daily), "account": account,
        "date_from": date_from, "date_to": date_to,
        "query": "&".join(f"{k}={v}" for k, v in (("account", account), ("from", date_from or ""),
                                                  ("to", date_to or "")) if v),
        "custody_bank_name": settings.CUSTODY_BANK_NAME, "custody_account_name": settings.PLATFORM_LEGAL_NAME,
    })
