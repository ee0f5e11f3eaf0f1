"""Reads for funding (来账): the enterprise's top-up account, its incoming transfers and the overview of its funds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from ledger import selectors as ledger_selectors
from payouts.models import IncomingTransfer, PayerAccount, TopUpAccount


def topup_account_get(*, merchant) -> TopUpAccount | None:
    return TopUpAccount.objects.filter(merchant=merchant).first()


def payer_account_list(*, merchant) -> QuerySet[PayerAccount]:
    """The enterprise's registered payer accounts (付款账户备案), oldest first."""
    return PayerAccount.objects.for_tenant(merchant).order_by("created_at", "id")


def incoming_transfer_list(*, merchant) -> QuerySet[IncomingTransfer]:
    """The merchant's credited transfers, newest first (another tenant's never appear)."""
    return IncomingTransfer.objects.filter(merchant=merchant).order_by("-received_at", "-id")


def unmatched_transfer_queue() -> QuerySet[IncomingTransfer]:
    """Operations' queue: transfers nobody could recognise, oldest first. Platform staff only."""
    return IncomingTransfer.objects.filter(status=IncomingTransfer.Status.UNMATCHED).order_by("received_at", "id")


@dataclass(frozen=True)
class FundsOverview:
    available_fen: int
    frozen_fen: int
    topup_account: TopUpAccount | None
    daily: list  # ledger.selectors.DailyBalance


def funds_overview(*, merchant, today: dt.date, days: int = 30) -> FundsOverview:
    return FundsOverview(
        available_fen=ledger_selectors.merchant_available_fen(merchant=merchant),
        frozen_fen=ledger_selectors.merchant_frozen_fen(merchant=merchant),
        topup_account=topup_account_get(merchant=merchant),
        daily=ledger_selectors.merchant_daily_balances(merchant=merchant, date_from=today - dt.timedelta(days=days - 1),
                                                       date_to=today),
    )
