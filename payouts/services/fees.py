"""交易后计费: the monthly fee statement. Fees of enterprise-borne AFTER plans are accrued on each successful order
(recorded on the order, no money moves); on the 1st the month's total is billed in one entry
``MERCHANT_AVAILABLE → PLATFORM_FEE_REVENUE``. A statement the balance cannot cover stays ISSUED (待扣款) and is
charged by the next run once the enterprise has topped up.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from core import audit
from ledger.exceptions import InsufficientBalance
from ledger.models import AccountKind
from ledger.selectors import merchant_account
from ledger.services import entry_post, platform_account
from payouts.models import FeeStatement, PayoutOrder

FEE_STATEMENT_KIND = "payout.fee_statement"


def _month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def accrued_fees(*, merchant, year: int, month: int) -> dict:
    start, end = _month_bounds(year, month)
    return (PayoutOrder.objects.for_tenant(merchant)
            .filter(status=PayoutOrder.Status.SUCCEEDED, fee_bearer="MERCHANT", fee_timing="AFTER",
                    finished_at__gte=start, finished_at__lt=end, fee_fen__gt=0)
            .aggregate(n=Count("id"), fee=Sum("fee_fen")))


@transaction.atomic
def fee_statement_issue(*, merchant, year: int, month: int, now) -> FeeStatement | None:
    """Issue (once) and try to charge the month's statement. None when nothing was accrued."""
    statement = FeeStatement.objects.select_for_update().filter(merchant=merchant, year=year, month=month).first()
    if statement is None:
        totals = accrued_fees(merchant=merchant, year=year, month=month)
        if not totals["n"]:
            return None
        statement = FeeStatement.objects.create(merchant=merchant, year=year, month=month, order_count=totals["n"],
                                                fee_fen=totals["fee"], issued_at=now)
        audit.record(event="payouts.fee_statement.issued", now=now, subject=statement,
                     after={"year": year, "month": month, "fee_fen": statement.fee_fen})
    if statement.status == FeeStatement.Status.ISSUED:
        try:
            with transaction.atomic():
                entry_post(kind=FEE_STATEMENT_KIND, ref=statement, merchant=merchant,
                           memo=f"{year}年{month:02d}月服务费账单",
                           lines=[(merchant_account(merchant=merchant, kind=AccountKind.MERCHANT_AVAILABLE),
                                   statement.fee_fen),
                                  (platform_account(kind=AccountKind.PLATFORM_FEE_REVENUE, now=now),
                                   -statement.fee_fen)], now=now)
        except InsufficientBalance:
            return statement
        statement.status, statement.paid_at = FeeStatement.Status.PAID, now
        statement.save(update_fields=["status", "paid_at", "updated_at"])
        audit.record(event="payouts.fee_statement.paid", now=now, subject=statement, after={"fee_fen": statement.fee_fen})
    return statement


def fee_statements_issue_last_month(*, now) -> list[FeeStatement]:
    from merchants.models import Merchant

    local = timezone.localtime(now)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    start, end = _month_bounds(year, month)
    merchant_ids = (PayoutOrder.objects.filter(status=PayoutOrder.Status.SUCCEEDED, fee_timing="AFTER",
                                               fee_bearer="MERCHANT", finished_at__gte=start, finished_at__lt=end)
                    .values_list("merchant_id", flat=True).distinct().order_by("merchant_id"))
    done = []
    for merchant in Merchant.objects.filter(pk__in=list(merchant_ids)).order_by("id"):
        statement = fee_statement_issue(merchant=merchant, year=year, month=month, now=now)
        if statement is not None:
            done.append(statement)
    unpaid = FeeStatement.objects.filter(status=FeeStatement.Status.ISSUED).select_related("merchant").order_by("id")
    for statement in unpaid:
        fee_statement_issue(merchant=statement.merchant, year=statement.year, month=statement.month, now=now)
    return done
