"""The money side of a payout's result (发放结果入账), set-based over many orders at once.

- success: ``MERCHANT_FROZEN`` −(freeze + fee frozen at disbursement) → ``CHANNEL_CLEARING`` (what the worker is
  paid), ``TAX_PAYABLE_*`` (what was withheld) and ``PLATFORM_FEE_REVENUE`` (the fee, unless it is billed monthly);
  the accepted work becomes PAID; the receipt follows.
- failure: the frozen funds go back to available, the tax withholding is reversed, the work is free to pay again.

One journal entry per order (``payout.settle`` / ``payout.release``, ref = the order), so a result that arrives twice
(a notification and a query, a duplicate callback) posts once: the order is locked and already terminal, and the
ledger's (kind, ref) uniqueness backs that up. Callers hold the orders' row locks.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.utils.translation import gettext_noop

from core import audit
from ledger.models import AccountKind
from ledger.selectors import merchant_account
from ledger.services import EntrySpec, entries_post, platform_account
from payouts.models import PayoutBatch, PayoutOrder
from payouts.services.sql import update_rows
from tasks.bulk import payable_work_mark_paid_many, payable_work_release_many

logger = logging.getLogger(__name__)
# stored on orders in Chinese, translated when shown (PayoutOrder.fail_message_shown)
CHANNEL_FAILED_MESSAGE = gettext_noop("通道返回失败")

SETTLE_KIND = "payout.settle"
RELEASE_KIND = "payout.release"
FEE_FREEZE_KIND = "payout.fee_freeze"
UPDATE_FIELDS = ["status", "finished_at", "settled_by", "channel_order_id", "fail_code", "fail_message",
                 "channel_status", "next_query_at", "updated_at"]
# What sending, recording and settling an order read and write: loaded with ``only()`` by the set-based paths (an
# order has 46 columns, two of them JSON; building 1,000 full instances cost more than the statements around them).
# A field left out would be fetched one query per order when touched, so every field these paths use is here.
SETTLE_FIELDS = ("id", "updated_at", "merchant_id", "batch_id", "order_no", "idempotency_key", "payable_id", "channel",
                 "status", "amount_fen", "iit_fen", "vat_fen", "surcharge_fen", "fee_fen", "fee_bearer", "fee_timing",
                 "payee_fen", "freeze_fen", "fee_frozen_fen", "withheld_at", "submit_attempts", "submitted_at",
                 "channel_order_id", "channel_status", "fail_code", "fail_message", "next_query_at", "query_count",
                 "finished_at", "settled_by")


class _Accounts:
    """Ledger accounts looked up once per call."""

    def __init__(self, now):
        self.now = now
        self._merchant: dict[tuple[int, str], object] = {}
        self._platform: dict[tuple[str, str], object] = {}

    def merchant(self, merchant_id: int, kind: str):
        key = (merchant_id, kind)
        if key not in self._merchant:
            self._merchant[key] = merchant_account(merchant=merchant_id, kind=kind)
        return self._merchant[key]

    def platform(self, kind: str, channel: str = ""):
        key = (kind, channel)
        if key not in self._platform:
            self._platform[key] = platform_account(kind=kind, channel=channel, now=self.now)
        return self._platform[key]


def orders_write(orders: list[PayoutOrder], fields: list[str]) -> int:
    """Write ``fields`` of ``orders`` (instances these paths loaded, transitions already run) in one statement.

    ``payouts.services.sql.update_rows`` prepares every value of every row through its field; the fields written
    here are plain (text, integers, datetimes), so their values go as they are, and a field with the same value on
    every order (the status, the time, ``channel_status``) goes once instead of once per row."""
    from django.db import connection

    if not orders:
        return 0
    if connection.vendor != "postgresql":
        return update_rows(PayoutOrder, orders, fields)
    meta = PayoutOrder._meta
    quote = connection.ops.quote_name
    assign, arrays, names, params, array_params = [], ["%s::bigint[]"], ["id"], [], [[o.pk for o in orders]]
    for name in fields:
        field = meta.get_field(name)
        values = [getattr(o, field.attname) for o in orders]
        db_type = field.db_type(connection)
        if all(value == values[0] and type(value) is type(values[0]) for value in values):
            assign.append(f"{quote(field.column)} = %s::{db_type}")
            params.append(values[0])
        else:
            assign.append(f"{quote(field.column)} = v.{quote(field.column)}")
            arrays.append(f"%s::{db_type}[]")
            names.append(quote(field.column))
            array_params.append(values)
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {', '.join(assign)} FROM unnest({', '.join(arrays)}) "
           f"AS v({', '.join(names)}) WHERE t.id = v.id")
    # placeholders in text order: the SET constants, then the arrays of unnest
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *array_params])
        return cursor.rowcount


def fee_collected_at_settlement(order: PayoutOrder) -> int:
    """The fee that becomes revenue when the payment succeeds (an AFTER fee borne by the enterprise waits for the
    monthly statement)."""
    if order.fee_bearer == "MERCHANT" and order.fee_timing == "AFTER":
        return 0
    return order.fee_fen


def success_lines(order: PayoutOrder, accounts: _Accounts) -> list[tuple]:
    lines = [(accounts.merchant(order.merchant_id, AccountKind.MERCHANT_FROZEN), order.freeze_fen + order.fee_frozen_fen),
             (accounts.platform(AccountKind.CHANNEL_CLEARING, order.channel), -order.payee_fen)]
    for kind, amount in ((AccountKind.TAX_PAYABLE_IIT, order.iit_fen), (AccountKind.TAX_PAYABLE_VAT, order.vat_fen),
                         (AccountKind.TAX_PAYABLE_SURCHARGE, order.surcharge_fen),
                         (AccountKind.PLATFORM_FEE_REVENUE, fee_collected_at_settlement(order))):
        if amount:
            lines.append((accounts.platform(kind), -amount))
    return lines


def _payable_refs(orders: list[PayoutOrder], batch_nos: dict[int, str]) -> dict[str, list[int]]:
    refs: dict[str, list[int]] = defaultdict(list)
    for order in orders:
        if order.payable_id:
            refs[batch_nos[order.batch_id] if order.batch_id else order.order_no].append(order.payable_id)
    return refs


def _batch_nos(orders: list[PayoutOrder]) -> dict[int, str]:
    ids = {o.batch_id for o in orders if o.batch_id}
    return dict(PayoutBatch.objects.filter(pk__in=ids).values_list("pk", "batch_no")) if ids else {}


def _success_specs(orders: list[PayoutOrder], accounts: _Accounts) -> list[EntrySpec]:
    return [EntrySpec(kind=SETTLE_KIND, ref=order, merchant=order.merchant_id, memo=f"发放成功 {order.order_no}",
                      lines=success_lines(order, accounts)) for order in orders]


def _release_specs(orders: list[PayoutOrder], accounts: _Accounts) -> list[EntrySpec]:
    return [EntrySpec(
        kind=RELEASE_KIND, ref=order, merchant=order.merchant_id, memo=f"发放失败解冻 {order.order_no}",
        lines=[(accounts.merchant(order.merchant_id, AccountKind.MERCHANT_FROZEN), order.freeze_fen + order.fee_frozen_fen),
               (accounts.merchant(order.merchant_id, AccountKind.MERCHANT_AVAILABLE),
                -(order.freeze_fen + order.fee_frozen_fen))]) for order in orders]


def settle_results(succeeded: list[PayoutOrder], failed: list[PayoutOrder], *, now, by: str,
                   channel_order_ids: dict[int, str] | None = None, code: str = "", message: str = "",
                   codes: dict[int, tuple[str, str]] | None = None) -> None:
    """Record the successes and the failures of one transaction (orders locked by the caller, not terminal) with
    **one** posting (one lock statement over every account either touches, in ascending pk order). Posting the
    successes and then the failures separately would lock the merchant's frozen account before its available
    account, against the lock order the withholding at disbursement keeps (available, frozen together) — a deadlock
    when both run at once. A failure's code and message: ``codes[order.pk]``, else ``code`` / ``message``."""
    if not succeeded and not failed:
        return
    accounts = _Accounts(now)
    specs = _success_specs(succeeded, accounts) + _release_specs(failed, accounts)
    # The orders' own rows first (locked by the caller already), the shared ledger accounts as late as possible:
    # the merchant's frozen account is also what every withholding at disbursement locks, so the time between
    # taking it and committing is what the two wait on each other for.
    _mark_succeeded(succeeded, now=now, by=by, channel_order_ids=channel_order_ids or {})
    _mark_failed(failed, now=now, by=by, code=code, message=message, codes=codes or {})
    orders_write(succeeded, UPDATE_FIELDS)
    orders_write(failed, UPDATE_FIELDS)
    entries_post(entries=specs, now=now, return_entries=False)
    if succeeded:
        _after_success(succeeded, now=now, by=by)
    if failed:
        _after_failure(failed, now=now, by=by)
    _complete_batches({o.batch_id for o in [*succeeded, *failed] if o.batch_id}, now=now)


def settle_success(orders: list[PayoutOrder], *, now, by: str, channel_order_ids: dict[int, str] | None = None) -> None:
    """Record success for ``orders`` (locked by the caller, not terminal). Posts, marks work paid, saves."""
    settle_results(orders, [], now=now, by=by, channel_order_ids=channel_order_ids)


def _mark_succeeded(orders: list[PayoutOrder], *, now, by: str, channel_order_ids: dict[int, str]) -> None:
    for order in orders:
        order.succeed(at=now, by=by, channel_order_id=channel_order_ids.get(order.pk, ""))
        order.channel_status = "SUCCEEDED"
        order.next_query_at = None
        order.updated_at = now


def _after_success(orders: list[PayoutOrder], *, now, by: str) -> None:
    """After the posting: the work paid (lock order: accounts before the audit log), the audit, receipts."""
    by_merchant: dict[int, list[PayoutOrder]] = defaultdict(list)
    for order in orders:
        by_merchant[order.merchant_id].append(order)
    batch_nos = _batch_nos(orders)
    for merchant_id, group in by_merchant.items():
        for ref, ids in _payable_refs(group, batch_nos).items():
            payable_work_mark_paid_many(merchant=merchant_id, payable_ids=ids, ref=ref, now=now)
        audit.record(event="payouts.order.succeeded", now=now, merchant=merchant_id, subject=group[0],
                     after={"count": len(group), "payee_fen": sum(o.payee_fen for o in group), "by": by,
                            "order_nos": [o.order_no for o in group[:50]]})
    singles = [o.pk for o in orders if not o.batch_id]
    if singles:
        from core.jobs import enqueue_on_commit
        from payouts.jobs_orders import payout_receipts_issue_job

        enqueue_on_commit(payout_receipts_issue_job, order_ids=singles)


def settle_failure(orders: list[PayoutOrder], *, now, by: str, code: str = "", message: str = "",
                   codes: dict[int, tuple[str, str]] | None = None) -> None:
    """Record failure for ``orders`` (locked by the caller, not terminal): release the funds, reverse the tax
    withholding, free the work."""
    settle_results([], orders, now=now, by=by, code=code, message=message, codes=codes)


def _mark_failed(orders: list[PayoutOrder], *, now, by: str, code: str, message: str,
                 codes: dict[int, tuple[str, str]]) -> None:
    for order in orders:
        fail_code, fail_message = codes.get(order.pk, (code, message))
        order.fail(at=now, by=by, code=fail_code or "FAILED", message=fail_message or CHANNEL_FAILED_MESSAGE)
        order.channel_status = "FAILED"
        order.next_query_at = None
        order.updated_at = now


def _after_failure(orders: list[PayoutOrder], *, now, by: str) -> None:
    """After the posting: the tax withholding reversed (lock order: ledger accounts, then tax accounts), the work
    freed, the audit."""
    from tax.services import tax_reverse

    # a batch order failing before it was sent was withheld only if a run that died got that far
    unsent = [o for o in orders if o.withheld_at is None and o.batch_id]
    withheld_unsent = withheld_refs(unsent) if unsent else set()
    for order in orders:
        if order.withheld_at is not None or (order.merchant_id, order.order_no) in withheld_unsent:
            tax_reverse(payment_ref=order.order_no, merchant=order.merchant_id, now=now,
                        reason=f"发放失败：{order.fail_message}")
    by_merchant: dict[int, list[PayoutOrder]] = defaultdict(list)
    for order in orders:
        by_merchant[order.merchant_id].append(order)
    batch_nos = _batch_nos(orders)
    for merchant_id, group in by_merchant.items():
        for ref, ids in _payable_refs(group, batch_nos).items():
            payable_work_release_many(merchant=merchant_id, payable_ids=ids, ref=ref, now=now)
        audit.record(event="payouts.order.failed", now=now, merchant=merchant_id, subject=group[0],
                     after={"count": len(group), "released_fen": sum(o.freeze_fen + o.fee_frozen_fen for o in group),
                            "by": by, "codes": sorted({o.fail_code for o in group})})


def withheld_refs(orders) -> set[tuple[int, str]]:
    """(merchant id, order no) of those of ``orders`` whose tax has been withheld (the dispatch sends only those).
    Objects with ``merchant_id`` and ``order_no``; one query per enterprise on the withholding's unique index."""
    from tax.models import Withholding

    by_merchant: dict[int, list[str]] = defaultdict(list)
    for order in orders:
        by_merchant[order.merchant_id].append(order.order_no)
    found: set[tuple[int, str]] = set()
    for merchant_id, refs in by_merchant.items():
        found.update(Withholding.objects.filter(merchant_id=merchant_id, kind=Withholding.Kind.PAYMENT,
                                                payment_ref__any=refs).values_list("merchant_id", "payment_ref"))
    return found


def _complete_batches(batch_ids, *, now) -> None:
    for batch_id in sorted(batch_ids):
        if PayoutOrder.objects.filter(batch_id=batch_id).exclude(status__in=PayoutOrder.TERMINAL).exists():
            continue
        batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status in (PayoutBatch.Status.CONFIRMED, PayoutBatch.Status.DISPATCHING):
            batch.complete(at=now)
            batch.save(update_fields=["status", "completed_at", "stage", "updated_at"])
            audit.record(event="payouts.batch.completed", now=now, subject=batch,
                         after={"batch_no": batch.batch_no})
