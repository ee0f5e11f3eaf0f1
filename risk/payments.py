"""风控 for payments (交易前): limits per payment, per worker per month and per enterprise per day, and the worker
blacklist. Reasons are lazy texts (a batch's check runs in a job and stores them in every language).
Asked by payouts for a single order or for every line of a batch at once (set-based: the caller passes
what is already paid, this module adds the lines up in order and says which one crosses a limit, and why).

The worker blacklist is a ``ListEntry`` with subject ``ID_NUMBER`` whose value is the worker's ID-number blind
index (``core.pii.blind_index(id_number, purpose="id_number")``), so the list never holds an ID number in clear.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from core.money import format_yuan
from risk.models import ListEntry
from risk.services import REJECT, RiskDecision

WORKER_SUBJECT = "ID_NUMBER"


@dataclass(frozen=True)
class PaymentToCheck:
    key: object  # the caller's handle (a line number)
    member_id: int
    id_number_index: str
    amount_fen: int  # what counts against the limits: the worker's gross income of this payment


def blacklisted_indexes(indexes) -> set[str]:
    """Which of these ID-number blind indexes are on the active worker blacklist."""
    wanted = sorted(set(indexes))
    found: set[str] = set()
    for start in range(0, len(wanted), 5000):
        found.update(ListEntry.objects.filter(list_type=ListEntry.ListType.BLACK, subject=WORKER_SUBJECT, active=True,
                                              value__any=wanted[start:start + 5000]).values_list("value", flat=True))
    return found


def daily_limit_reason(*, config, day_fen: int):
    """Why a payment is over the enterprise's daily limit (a lazy text: it is rendered in the reader's language)."""
    return format_lazy(gettext_lazy("企业今日付款已达 {day} 元，加上本笔超过每日限额 {limit} 元，"
                                    "请明日再付或联系平台调整限额"),
                       day=format_yuan(day_fen), limit=format_yuan(config.daily_limit_fen))


def check_payments(*, config, payments: list[PaymentToCheck], month_paid_by_member: dict[int, int],
                   day_paid_fen: int, daily_limit: bool = True) -> dict[object, RiskDecision]:
    """Decisions for ``payments`` taken in order. ``month_paid_by_member``: what each worker already received from
    this enterprise this month (fen); ``day_paid_fen``: what the enterprise already paid today. Payments that are
    rejected do not count towards the limits of the ones after them. Writes nothing.

    ``daily_limit=False`` leaves the enterprise's daily limit to the caller (a batch checked in several processes
    applies it once over the whole batch, in line order, with ``daily_limit_reason``)."""
    black = blacklisted_indexes(p.id_number_index for p in payments)
    month = dict(month_paid_by_member)
    day = day_paid_fen
    decisions: dict[object, RiskDecision] = {}
    for payment in payments:
        decision = RiskDecision()
        if payment.id_number_index in black:
            decision.add(REJECT, "blacklist_worker", gettext_lazy("该灵工人员在平台风险名单中，不能向其付款；如有疑问请联系平台运营"))
        if payment.amount_fen > config.single_payment_limit_fen:
            decision.add(REJECT, "single_limit",
                         format_lazy(gettext_lazy("单笔 {amount} 元超过单笔限额 {limit} 元，请拆分或联系平台调整限额"),
                                     amount=format_yuan(payment.amount_fen),
                                     limit=format_yuan(config.single_payment_limit_fen)))
        already = month.get(payment.member_id, 0)
        if already + payment.amount_fen > config.worker_monthly_limit_fen:
            decision.add(REJECT, "worker_monthly_limit",
                         format_lazy(gettext_lazy("该灵工人员本月已收 {already} 元，加上本笔超过每人每月限额 {limit} 元"),
                                     already=format_yuan(already), limit=format_yuan(config.worker_monthly_limit_fen)))
        if daily_limit and day + payment.amount_fen > config.daily_limit_fen:
            decision.add(REJECT, "daily_limit", daily_limit_reason(config=config, day_fen=day))
        if not decision.rejected:
            month[payment.member_id] = already + payment.amount_fen
            day += payment.amount_fen
        decisions[payment.key] = decision
    return decisions
