"""Pricing of payout lines (报价): fee by the enterprise's plan, taxes by the tax engine, what is frozen, what is paid.

Pure apart from reads. One call prices many lines at once (a batch) so the tax engine reads every worker's state in
grouped queries; a single order is a batch of one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from payouts.billing import FeeLine, fee_for_payment, rate_for_volume
from payouts.models import PayoutOrder
from tax.bulk import PaymentItem, tax_quote_many

COUNTED = (PayoutOrder.Status.CONFIRMED, *PayoutOrder.IN_FLIGHT, PayoutOrder.Status.SUCCEEDED)


# Why a line cannot be priced: a lazy text, as a batch's check (a job) renders it in every language when it stores it
NOTHING_LEFT = gettext_lazy("扣除税费和服务费后实发金额不大于 0，请提高付款金额")


@dataclass
class Priced:
    amount_fen: int
    gross_fen: int
    iit_fen: int
    vat_fen: int
    surcharge_fen: int
    net_fen: int
    fee: FeeLine
    payee_fen: int
    freeze_fen: int
    tax_bearer: str
    tax_lines: list = field(default_factory=list)

    @property
    def tax_fen(self) -> int:
        return self.iit_fen + self.vat_fen + self.surcharge_fen

    def order_fields(self) -> dict:
        return {"amount_fen": self.amount_fen, "tax_bearer": self.tax_bearer, "gross_fen": self.gross_fen,
                "iit_fen": self.iit_fen, "vat_fen": self.vat_fen, "surcharge_fen": self.surcharge_fen,
                "tax_fen": self.tax_fen, "net_fen": self.net_fen, "fee_fen": self.fee.fee_fen,
                "fee_bearer": self.fee.bearer, "fee_timing": self.fee.timing,
                "fee_explanation": self.fee.explanation[:300], "payee_fen": self.payee_fen,
                "freeze_fen": self.freeze_fen, "tax_lines": self.tax_lines}


def month_start(now) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def day_start(now) -> dt.datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def month_volume_before_fen(*, merchant, now) -> int:
    """What the enterprise has paid (or has in flight) this month, gross, for the fee tiers."""
    return (PayoutOrder.objects.for_tenant(merchant).filter(status__in=COUNTED, confirmed_at__gte=month_start(now))
            .aggregate(s=Sum("gross_fen"))["s"] or 0)


def day_paid_fen(*, merchant, now) -> int:
    return (PayoutOrder.objects.for_tenant(merchant).filter(status__in=COUNTED, confirmed_at__gte=day_start(now))
            .aggregate(s=Sum("gross_fen"))["s"] or 0)


def worker_month_paid(*, merchant, member_ids, now) -> dict[int, int]:
    start = month_start(now)
    result: dict[int, int] = {}
    ids = sorted(set(member_ids))
    for i in range(0, len(ids), 5000):
        rows = (PayoutOrder.objects.for_tenant(merchant).filter(status__in=COUNTED, confirmed_at__gte=start,
                                                               member_id__any=ids[i:i + 5000])
                .values("member_id").annotate(s=Sum("gross_fen")).order_by("member_id"))
        result.update({row["member_id"]: row["s"] for row in rows})
    return result


def split_tax_lines(lines: list[dict]) -> list[dict]:
    """The tax lines kept on the order: kind, label, amount and formula (the inputs stay on the withholding)."""
    return [{"kind": line["kind"], "label": line["label"], "amount_fen": line["amount_fen"],
             "formula": line["formula"][:200]} for line in lines if line.get("amount_fen")]


def price_lines(*, config, lines: list[tuple[object, int]], liability_date: dt.date, now,
                month_volume_before: int, states: dict | None = None) -> list[Priced | Promise]:
    """Price ``lines`` = [(member, amount_fen)]: a ``Priced`` per line, or why it cannot be paid (a lazy text).

    Who bears the tax decides what ``amount_fen`` means: WORKER → it is the gross, the worker nets less; MERCHANT → it
    is what the worker nets, the engine grosses up. The fee base is the gross.
    """
    bearer = str(config.tax_bearer)
    items = [PaymentItem(member=member, gross_fen=amount if bearer == "WORKER" else None,
                         net_fen=amount if bearer == "MERCHANT" else None) for member, amount in lines]
    quotes = tax_quote_many(items=items, bearer=bearer, liability_date=liability_date, now=now, states=states,
                            brief=True)
    result: list[Priced | Promise] = []
    rate_tier = rate_for_volume(config, month_volume_before)  # one volume for the whole call
    for (_member, amount), quote in zip(lines, quotes, strict=True):
        fee = fee_for_payment(config, amount_fen=quote.gross_fen, month_volume_before_fen=month_volume_before,
                              rate_tier=rate_tier)
        surcharge = quote.surcharges_fen
        if fee.bearer == "WORKER":
            payee = quote.net_fen - fee.fee_fen
            freeze = quote.gross_fen
        else:
            payee = quote.net_fen
            freeze = quote.gross_fen + (fee.fee_fen if fee.timing == "BEFORE" else 0)
        if payee <= 0:
            result.append(NOTHING_LEFT)
            continue
        result.append(Priced(amount_fen=amount, gross_fen=quote.gross_fen, iit_fen=quote.iit_fen,
                             vat_fen=quote.vat_fen, surcharge_fen=surcharge, net_fen=quote.net_fen, fee=fee,
                             payee_fen=payee, freeze_fen=freeze, tax_bearer=bearer,
                             tax_lines=split_tax_lines(quote.lines)))
    return result
