"""Reads of the ledger: balances, statements (资金流水) and daily balances. Tenant-scoped where a merchant owns them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, F, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger.exceptions import AccountNotOpen
from ledger.invariants import LedgerReport, ledger_check  # noqa: F401  (the invariant check is a read, too)
from ledger.models import AccountKind, LedgerAccount, Posting, Side


def merchant_account(*, merchant, kind: str) -> LedgerAccount:
    """The merchant's account of ``kind``. Raises AccountNotOpen when the merchant has no ledger accounts yet."""
    account = LedgerAccount.objects.filter(merchant=merchant, kind=kind, channel="", currency="CNY").first()
    if account is None:
        raise AccountNotOpen(_("该企业尚未开立资金账户，请联系运营人员开户"))
    return account


def merchant_accounts(*, merchant) -> list[LedgerAccount]:
    return list(LedgerAccount.objects.filter(merchant=merchant).order_by("kind", "id"))


def _balance(merchant, kind: str) -> int:
    value = (LedgerAccount.objects.filter(merchant=merchant, kind=kind, channel="", currency="CNY")
             .values_list("balance_fen", flat=True).first())
    return int(value or 0)


def merchant_available_fen(*, merchant) -> int:
    """The merchant's available balance (可用余额) in fen; 0 when no account is open yet."""
    return _balance(merchant, AccountKind.MERCHANT_AVAILABLE)


def merchant_frozen_fen(*, merchant) -> int:
    """Funds frozen for confirmed payments not yet settled (冻结资金), in fen."""
    return _balance(merchant, AccountKind.MERCHANT_FROZEN)


def account_statement(*, merchant, kind: str = AccountKind.MERCHANT_AVAILABLE, date_from: dt.date | None = None,
                      date_to: dt.date | None = None, newest_first: bool = True) -> QuerySet[Posting]:
    """Movements (资金流水) of one of the merchant's accounts, each annotated with ``change_fen`` (positive = the
    balance went up) and carrying ``balance_after_fen``. Dates are inclusive, in the platform's time zone.

    Only the merchant's own accounts can be read: another tenant's merchant gives an empty result.
    """
    qs = (Posting.objects.filter(account__merchant=merchant, account__kind=kind)
          .select_related("entry", "account")
          .annotate(change_fen=Case(When(account__normal_side=Side.DEBIT, then=F("amount_fen")),
                                    default=Value(0) - F("amount_fen"))))
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(posted_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(posted_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs.order_by("-posted_at", "-id") if newest_first else qs.order_by("posted_at", "id")


@dataclass(frozen=True)
class DailyBalance:
    date: dt.date
    balance_fen: int


def merchant_daily_balances(*, merchant, date_from: dt.date, date_to: dt.date,
                            kind: str = AccountKind.MERCHANT_AVAILABLE) -> list[DailyBalance]:
    """End-of-day balances for each day from ``date_from`` to ``date_to`` (inclusive), for the portal's chart."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    before = (Posting.objects.filter(account__merchant=merchant, account__kind=kind, posted_at__lt=start)
              .order_by("-posted_at", "-id").values_list("balance_after_fen", flat=True).first())
    balance = int(before or 0)
    end_of_day: dict[dt.date, int] = {}
    for posted_at, after in (account_statement(merchant=merchant, kind=kind, date_from=date_from, date_to=date_to,
                                               newest_first=False).values_list("posted_at", "balance_after_fen")):
        end_of_day[timezone.localtime(posted_at, tz).date()] = after
    days = []
    day = date_from
    while day <= date_to:
        balance = end_of_day.get(day, balance)
        days.append(DailyBalance(day, balance))
        day += dt.timedelta(days=1)
    return days
