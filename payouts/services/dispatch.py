"""发放: sending confirmed orders to the channel, recording what it answered, notifications and status queries.

A call to a channel (STYLE.md): (1) in a first transaction the orders move to SUBMITTING with their stable
idempotency key — already on the order since it was created; (2) the channel is called outside any transaction,
many requests in flight at once; (3) a second transaction records each answer. A process that dies between (1)
and (3) leaves orders in SUBMITTING; running the dispatch again submits them again *with the same key*, and the
channel answers with the original result (same key, same parameters), so nothing is paid twice. A timeout or a
5xx leaves the order UNKNOWN; only a query, a notification or reconciliation settles it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from core import audit
from ledger.exceptions import InsufficientBalance
from ledger.models import AccountKind
from ledger.services import EntrySpec, entries_post
from payouts.channels import Outcome, PayoutRequest, QueryStatus, get_adapter, is_stale
from payouts.channels.ratelimit import requests_per_second, throttle
from payouts.models import PayoutBatch, PayoutOrder
from payouts.services.channels import notification_batch_handler
from payouts.services.settlement import (
    FEE_FREEZE_KIND,
    SETTLE_FIELDS,
    _Accounts,
    orders_write,
    settle_failure,
    settle_results,
    settle_success,
    withheld_refs,
)

logger = logging.getLogger(__name__)
# stored on orders in Chinese, translated when shown (PayoutOrder.fail_message_shown)
FEE_UNFUNDED_MESSAGE = gettext_noop("发放时可用余额不足以支付服务费，订单未发送，款项已解冻")
RETURNED_IN_FLIGHT_MESSAGE = gettext_noop("收款方账户退回（退票）")

IN_FLIGHT_WORKERS = 32
RATE_LIMITED_ATTEMPTS = 5  # a request the channel refused as over its rate is sent again up to 4 times,
RATE_LIMITED_PAUSE_S = 0.2  # after 0.2, 0.4, 0.6, 0.8 s
FIRST_QUERY_AFTER = dt.timedelta(seconds=30)
PROCESSING_QUERY_AFTER = dt.timedelta(minutes=2)
RESUBMIT_NOT_FOUND_AFTER = dt.timedelta(minutes=10)
SUBMITTING_STALE_AFTER = dt.timedelta(minutes=2)
ORDER_STATUS_OF_QUERY = {QueryStatus.PROCESSING: PayoutOrder.Status.PROCESSING,
                         QueryStatus.SUCCEEDED: PayoutOrder.Status.SUCCEEDED,
                         QueryStatus.FAILED: PayoutOrder.Status.FAILED}
QUERY_RANK_OF_ORDER = {PayoutOrder.Status.PROCESSING: QueryStatus.PROCESSING,
                       PayoutOrder.Status.SUCCEEDED: QueryStatus.SUCCEEDED,
                       PayoutOrder.Status.FAILED: QueryStatus.FAILED}


def adapter_for(channel: str):
    """The channel's adapter (tests replace this to point at a sandbox they started)."""
    return get_adapter(channel)


def _backoff(order: PayoutOrder, now, base: dt.timedelta) -> dt.datetime:
    return now + base * min(2 ** order.query_count, 64)


# --- (1) persist in-flight ------------------------------------------------------------------------------------


@transaction.atomic
def _start_submit(*, order_ids, now, withheld: set | None = None) -> list[int]:
    """CONFIRMED (or SUBMITTING from a run that died) → SUBMITTING. Freezes a DURING fee first; an order whose fee
    the balance no longer covers fails here and is never sent. Returns the ids to send. ``withheld``: ids the
    caller knows are withheld (committed just before): not looked up again."""
    # By primary key alone, filtered here (a plan on the status column, from statistics taken before the batch was
    # confirmed, would read the whole batch per chunk). Never send an order whose tax is not withheld: a batch's
    # orders are withheld just before, by this job.
    orders = [o for o in PayoutOrder.objects.select_for_update(skip_locked=True).filter(pk__any=list(order_ids))
              .only(*SETTLE_FIELDS).order_by("pk") if o.status in (PayoutOrder.Status.CONFIRMED, PayoutOrder.Status.SUBMITTING)]
    withheld = withheld or set()
    unmarked = [o for o in orders if o.withheld_at is None and o.pk not in withheld]
    done = withheld_refs(unmarked) if unmarked else set()
    orders = [o for o in orders if o.withheld_at is not None or o.pk in withheld
              or (o.merchant_id, o.order_no) in done]
    if not orders:
        return []
    for order in orders:
        if order.withheld_at is None:
            order.withheld_at = now
    during = [o for o in orders if o.status == PayoutOrder.Status.CONFIRMED and o.fee_bearer == "MERCHANT"
              and o.fee_timing == "DURING" and o.fee_fen and not o.fee_frozen_fen]
    unfunded = []
    if during:
        accounts = _Accounts(now)

        def spec(order):
            return EntrySpec(kind=FEE_FREEZE_KIND, ref=order, merchant=order.merchant_id,
                             memo=f"发放时收取服务费（冻结） {order.order_no}",
                             lines=[(accounts.merchant(order.merchant_id, AccountKind.MERCHANT_AVAILABLE), order.fee_fen),
                                    (accounts.merchant(order.merchant_id, AccountKind.MERCHANT_FROZEN), -order.fee_fen)])
        try:
            with transaction.atomic():
                entries_post(entries=[spec(o) for o in during], now=now)
            funded = during
        except InsufficientBalance:
            funded = []
            for order in during:
                try:
                    with transaction.atomic():
                        entries_post(entries=[spec(order)], now=now)
                    funded.append(order)
                except InsufficientBalance:
                    unfunded.append(order)
        for order in funded:
            order.fee_frozen_fen = order.fee_fen
    if unfunded:
        settle_failure(unfunded, now=now, by="platform", code="FEE_UNFUNDED",
                       message=FEE_UNFUNDED_MESSAGE)
    send = [o for o in orders if o not in unfunded]
    for order in send:
        order.start_submit(at=now)
        order.updated_at = now
    orders_write(send, ["status", "submit_attempts", "submitted_at", "fee_frozen_fen", "withheld_at",
                                    "updated_at"])
    batch_ids = {o.batch_id for o in send if o.batch_id}
    for batch in PayoutBatch.objects.filter(pk__in=batch_ids, status=PayoutBatch.Status.CONFIRMED).order_by("pk"):
        batch.start_dispatch()
        batch.save(update_fields=["status", "stage", "updated_at"])
    return [o.pk for o in send]


# --- (2) call the channel outside any transaction ----------------------------------------------------------


def _request_of(order: PayoutOrder) -> PayoutRequest:
    account = order.payout_account
    return PayoutRequest(amount_fen=order.payee_fen, payee_name=order.member.name, payee_account=account.account,
                         remark=(order.remark or "劳务报酬")[:30], payee_bank=account.bank_name,
                         payee_id_number=order.member.id_number or "")


REQUEST_FIELDS = ("id", "channel", "payee_fen", "remark", "idempotency_key", "member__name", "member__id_number",
                  "payout_account__account", "payout_account__bank_name")


def _submit_all(order_ids: list[int], *, workers: int) -> dict[int, object]:
    """Send the orders, ``workers`` requests in flight. A channel with a batch API (the bank's 批量代发,
    ``adapter.batch_api``) gets the orders in batch requests instead of one request each."""
    from payouts.channels.base import SubmitResult

    orders = list(PayoutOrder.objects.filter(pk__in=order_ids).select_related("member", "payout_account")
                  .only(*REQUEST_FIELDS).order_by("pk"))
    adapters: dict[str, object] = {}
    jobs = []
    batches: dict[str, list] = {}
    for order in orders:
        adapter = adapters.setdefault(order.channel, adapter_for(order.channel))
        jobs.append((order.pk, adapter, _request_of(order), order.idempotency_key))
    if len(jobs) > 1:
        for job in jobs:
            if getattr(job[1], "batch_api", False):
                batches.setdefault(job[1].channel, []).append(job)
        jobs = [job for job in jobs if not getattr(job[1], "batch_api", False)]

    def call(job):
        pk, adapter, request, key = job
        name = getattr(adapter, "channel", "")
        limit = requests_per_second(name) if name else None
        for attempt in range(RATE_LIMITED_ATTEMPTS):
            if limit:
                throttle(name, limit)
            try:
                result = adapter.submit(request, key)
            except Exception as error:  # an adapter bug must not lose the others' results: treat it as unknown
                logger.exception("submit of order %s raised", pk)
                return pk, SubmitResult(Outcome.UNKNOWN, fail_message=str(error)[:200])
            if result.outcome != Outcome.REJECTED or result.fail_code not in getattr(adapter, "rate_limited_codes", ()):
                return pk, result
            # "too many requests": refused before anything was created, so the same request (same key) goes again
            if attempt + 1 < RATE_LIMITED_ATTEMPTS:
                time.sleep(RATE_LIMITED_PAUSE_S * (attempt + 1))
        return pk, result  # still refused: UNKNOWN, settled by the query job (which submits again, same key)

    def call_batch(group):
        adapter = group[0][1]
        try:
            results = adapter.submit_batch([(request, key) for _pk, _adapter, request, key in group])
            if len(results) != len(group):
                raise ValueError(f"{len(results)} results for {len(group)} orders")
        except Exception as error:  # as above: every order of the batch is unknown, to be queried
            logger.exception("batch submit of %s orders raised", len(group))
            results = [SubmitResult(Outcome.UNKNOWN, fail_message=str(error)[:200])] * len(group)
        return [(job[0], result) for job, result in zip(group, results, strict=True)]

    answers: dict[int, object] = {}
    for group in batches.values():
        answers.update(call_batch(group))
    if len(jobs) <= 1 or workers <= 1:
        answers.update(call(job) for job in jobs)
        return answers
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        answers.update(pool.map(call, jobs))
    return answers


# --- (3) record the answers ---------------------------------------------------------------------------------


def _record_accepted(results: dict[int, object], *, now) -> tuple[int, int]:
    """PostgreSQL: the ACCEPTED answers (every line of a batch request, as a rule) written in one statement, without
    building the orders: SUBMITTING / UNKNOWN / PROCESSING → PROCESSING (``PayoutOrder.accepted``), channel status
    ACCEPTED, queried after ``PROCESSING_QUERY_AFTER``. Orders that ended meanwhile, or whose final result is
    already recorded, are left alone. Locks the rows in pk order first (the documented lock order). Returns
    (answers, orders written)."""
    ids = sorted(pk for pk, result in results.items() if result.outcome == Outcome.ACCEPTED)
    if not ids:
        return 0, 0
    in_flight = [PayoutOrder.Status.SUBMITTING, PayoutOrder.Status.UNKNOWN, PayoutOrder.Status.PROCESSING]
    table = PayoutOrder._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids])
        cursor.execute(
            f"UPDATE {table} AS t SET status = %s, channel_status = 'ACCEPTED', next_query_at = %s, "
            "updated_at = %s, channel_order_id = CASE WHEN v.channel_order_id <> '' THEN v.channel_order_id "
            "ELSE t.channel_order_id END "
            "FROM unnest(%s::bigint[], %s::varchar(64)[]) AS v(id, channel_order_id) "
            "WHERE t.id = v.id AND t.status = ANY(%s) AND COALESCE(t.channel_status, '') NOT IN ('SUCCEEDED', 'FAILED')",
            [PayoutOrder.Status.PROCESSING, now + PROCESSING_QUERY_AFTER, now, ids,
             [(results[pk].channel_order_id or "")[:64] for pk in ids], in_flight])
        return len(ids), cursor.rowcount


@transaction.atomic
def _record_submit_results(*, results: dict[int, object], now) -> dict[str, int]:
    accepted_written = 0
    if connection.vendor == "postgresql":
        answers, accepted_written = _record_accepted(results, now=now)
        if answers:
            if accepted_written < answers:
                request_settlement()  # some ended or carry a recorded result: the settlement job looks at them
            results = {pk: r for pk, r in results.items() if r.outcome != Outcome.ACCEPTED}
    orders = list(PayoutOrder.objects.select_for_update().filter(pk__any=list(results)).only(*SETTLE_FIELDS)
                  .order_by("pk")) if results else []
    succeeded, failed, accepted, unknown, recorded = [], [], [], [], []
    codes, channel_ids = {}, {}
    for order in orders:
        result = results[order.pk]
        if order.status not in PayoutOrder.IN_FLIGHT:
            continue  # a notification got here first
        if order.channel_status in (QueryStatus.SUCCEEDED, QueryStatus.FAILED):
            recorded.append(order)  # a notification already recorded the final result: the settlement job posts it
            continue
        channel_ids[order.pk] = result.channel_order_id
        if result.outcome == Outcome.SUCCEEDED:
            succeeded.append(order)
        elif result.outcome == Outcome.FAILED:
            failed.append(order)
            codes[order.pk] = (result.fail_code, result.fail_message)
        elif result.outcome == Outcome.ACCEPTED:
            accepted.append(order)
        else:  # UNKNOWN, or REJECTED (the request was refused; the original order, if any, is unaffected): query
            unknown.append(order)
            order.fail_message = (result.fail_message or "")[:200]
    settle_results(succeeded, failed, now=now, by="submit", channel_order_ids=channel_ids, codes=codes)
    for order in accepted:
        if order.status != PayoutOrder.Status.PROCESSING:
            order.accepted(channel_order_id=channel_ids.get(order.pk, ""), at=now)
        order.channel_status, order.next_query_at, order.updated_at = "ACCEPTED", now + PROCESSING_QUERY_AFTER, now
    for order in unknown:
        order.outcome_unknown(next_query_at=now + FIRST_QUERY_AFTER)
        order.channel_status, order.updated_at = "UNKNOWN", now
    orders_write(accepted + unknown, ["status", "channel_order_id", "channel_status", "next_query_at",
                                                  "fail_message", "updated_at"])
    if recorded:
        request_settlement()
    return {"succeeded": len(succeeded), "failed": len(failed), "accepted": accepted_written + len(accepted),
            "unknown": len(unknown)}


def payout_orders_dispatch(*, order_ids, now=None, workers: int = IN_FLIGHT_WORKERS) -> dict[str, int]:
    """Send confirmed orders (≤ 1,000 per call: one job per chunk) to their channel and record the answers.

    Idempotent: orders already sent and answered are skipped; orders left in SUBMITTING by a run that died are sent
    again with their own key. Not atomic on purpose (the channel call must not hold row locks).
    """
    from payouts.services.batches import batch_orders_withhold

    now = now or timezone.now()
    withheld: set[int] = set()
    batch_orders_withhold(order_ids=list(order_ids), now=now, known=withheld)  # a batch's orders: 代扣 at disbursement
    to_send = _start_submit(order_ids=list(order_ids), now=now, withheld=withheld)
    if not to_send:
        return {"sent": 0}
    results = _submit_all(to_send, workers=workers)
    summary = _record_submit_results(results=results, now=timezone.now() if now is None else now)
    return {"sent": len(to_send), **summary}


# --- notifications and queries --------------------------------------------------------------------------------


def apply_channel_status(order: PayoutOrder, *, status: str, now, by: str, channel_order_id: str = "",
                         fail_code: str = "", fail_message: str = "") -> bool:
    """Apply a channel's answer (notification or query) to a locked order. Returns True when the order changed.

    Out-of-order answers are ignored (a PROCESSING after SUCCEEDED); a terminal order is never changed again, except
    that a 退票 (RETURNED) undoes a success (``payouts.services.returns``). A RETURNED for an order still in flight
    means the money never stayed with the payee: it fails, code RETURNED.
    """
    current = QUERY_RANK_OF_ORDER.get(order.status)
    if current and is_stale(current, status):
        return False
    if order.is_terminal:
        if status == QueryStatus.RETURNED and order.status == PayoutOrder.Status.SUCCEEDED:
            from payouts.services.returns import RETURNED_MESSAGE, settle_return

            settle_return([order], now=now, by=by, code="RETURNED",
                          message=(fail_message or RETURNED_MESSAGE)[:200])
            return True
        return False
    if status == QueryStatus.RETURNED and order.status in PayoutOrder.IN_FLIGHT:
        settle_failure([order], now=now, by=by, code="RETURNED", message=fail_message or RETURNED_IN_FLIGHT_MESSAGE)
        return True
    if order.status in (PayoutOrder.Status.CONFIRMED, PayoutOrder.Status.DRAFT):
        return False  # not sent yet: a notification cannot be about it
    if status == QueryStatus.SUCCEEDED:
        settle_success([order], now=now, by=by, channel_order_ids={order.pk: channel_order_id})
        return True
    if status == QueryStatus.FAILED:
        settle_failure([order], now=now, by=by, code=fail_code, message=fail_message)
        return True
    if status == QueryStatus.PROCESSING and order.status != PayoutOrder.Status.PROCESSING:
        order.accepted(channel_order_id=channel_order_id, at=now)
        order.channel_status, order.next_query_at = "PROCESSING", now + PROCESSING_QUERY_AFTER
        order.save(update_fields=["status", "channel_order_id", "channel_status", "next_query_at", "updated_at"])
        return True
    return False


FINAL = (QueryStatus.SUCCEEDED, QueryStatus.FAILED)


@notification_batch_handler
def on_payout_notifications(*, items, now) -> None:
    """Verified, new payout-result notifications of one delivery (one, or a batch notice of hundreds).

    A final result (paid / failed) about an order still in flight is **stored, not applied**: its record stays
    pending (``processed_at`` empty) and the settlement job applies it under the order's lock (SKIP LOCKED) and
    posts it, 1,000 orders a transaction. So a notification never waits for the row lock a dispatch worker's
    recording transaction holds on 1,000 orders, the callback writes no order row, and the order is written once
    (recorded and settled in one UPDATE) instead of twice. The orders are read here without a lock: what is checked
    (the amount, whether the order was ever sent, whether it is still in flight) does not change under us in a way
    that matters — the settlement job checks the order again, locked, before it acts.

    The rare rest (a ``RETURNED`` 退票, a ``PROCESSING``) is applied here, under the order's lock, as before.
    """
    keys: dict[str, set[str]] = {}
    for _record, notification in items:
        keys.setdefault(notification.channel, set()).add(notification.idempotency_key)
    orders: dict[tuple[str, str], PayoutOrder] = {}
    for channel, channel_keys in keys.items():
        for order in (PayoutOrder.objects.only(*SETTLE_FIELDS)
                      .filter(channel=channel, idempotency_key__any=sorted(channel_keys)).order_by("pk")):
            orders[(channel, order.idempotency_key)] = order
    deferred: list[int] = []
    locked_path: list[tuple[object, object]] = []
    for record, notification in items:  # in the order the channel sent them
        order = orders.get((notification.channel, notification.idempotency_key))
        if order is None:
            logger.warning("notification %s names no order (%s)", notification.notify_id, notification.idempotency_key)
            continue
        if notification.amount_fen != order.payee_fen:
            # WeChat's rule: check the amount against our order, a notification that disagrees is not acted on.
            logger.error("notification %s amount %s differs from order %s (%s): ignored", notification.notify_id,
                         notification.amount_fen, order.order_no, order.payee_fen)
            audit.record(event="payouts.order.notification_amount_mismatch", now=now, subject=order,
                         after={"notify_id": notification.notify_id, "amount_fen": notification.amount_fen})
            continue
        if notification.status in FINAL:
            if order.status in PayoutOrder.IN_FLIGHT:
                deferred.append(record.pk)  # applied and posted by the settlement job
            continue  # about an order already ended (a late or repeated result): nothing to do
        if notification.status in (QueryStatus.RETURNED, QueryStatus.PROCESSING):
            locked_path.append((record, notification))
    if deferred:
        from payouts.models import ChannelNotification

        ChannelNotification.objects.filter(pk__any=deferred).update(processed_at=None)
        request_settlement()
    if locked_path:
        _apply_locked(locked_path, now=now)


def _apply_locked(items, *, now) -> None:
    """退票 and "processing" notifications: applied at once, under the order's lock."""
    keys: dict[str, set[str]] = {}
    for _record, notification in items:
        keys.setdefault(notification.channel, set()).add(notification.idempotency_key)
    orders: dict[tuple[str, str], PayoutOrder] = {}
    for channel, channel_keys in keys.items():  # one locking read, in pk order (the documented lock order)
        for order in (PayoutOrder.objects.select_for_update().only(*SETTLE_FIELDS)
                      .filter(channel=channel, idempotency_key__any=sorted(channel_keys)).order_by("pk")):
            orders[(channel, order.idempotency_key)] = order
    for _record, notification in items:
        order = orders.get((notification.channel, notification.idempotency_key))
        if order is None:
            continue
        known = order.channel_status if order.channel_status in FINAL else QUERY_RANK_OF_ORDER.get(order.status)
        if known and is_stale(known, notification.status):
            continue  # older than what is already known or recorded (arrived out of order)
        apply_channel_status(order, status=notification.status, now=now, by="notification",
                             channel_order_id=notification.channel_order_id, fail_code=notification.fail_code,
                             fail_message=notification.fail_message)


SETTLE_PENDING_KEY = "payouts:settle-pending"


def request_settlement() -> None:
    """Enqueue the settlement job once the current transaction commits, unless one is already waiting to start."""
    from django.core.cache import cache

    from core.jobs import enqueue_on_commit
    from payouts.jobs_orders import payout_orders_settle_job

    if cache.add(SETTLE_PENDING_KEY, 1, timeout=30):
        enqueue_on_commit(payout_orders_settle_job)


def payout_orders_settle_recorded(*, now=None, limit: int = 1000) -> int:
    """The settlement job: apply the final results notifications left pending and post them, with the results
    recorded on in-flight orders otherwise, 1,000 orders per transaction, until a round finds less than a full
    transaction's worth. Returns orders settled.

    Orders (and pending notifications) locked by another transaction are skipped (SKIP LOCKED) and picked up by a
    later round; a round that can move nothing ends the run (the next notification or the query job starts another).
    A notification is applied as the callback used to: ignored when older than what the order already knows, the
    first final result stands, an order already ended is left alone.
    """
    from django.core.cache import cache

    from payouts.models import ChannelNotification

    cache.delete(SETTLE_PENDING_KEY)  # notifications from now on enqueue a new run
    settled = 0
    while True:
        with transaction.atomic():
            stamp = now or timezone.now()
            pending = list(ChannelNotification.objects.select_for_update(skip_locked=True)
                           .filter(processed_at__isnull=True).order_by("id")[:limit])
            keys: dict[str, set[str]] = {}
            for record in pending:
                keys.setdefault(record.channel, set()).add(record.idempotency_key)
            orders: dict[tuple[str, str], PayoutOrder] = {}
            for channel, channel_keys in keys.items():
                for order in (PayoutOrder.objects.select_for_update(skip_locked=True).only(*SETTLE_FIELDS)
                              .filter(channel=channel, idempotency_key__any=sorted(channel_keys)).order_by("pk")):
                    orders[(channel, order.idempotency_key)] = order
            missing = set()
            unmatched = [(c, k) for c, ks in keys.items() for k in ks if (c, k) not in orders]
            if unmatched:  # locked by another transaction (wait for a later round), or no such order at all
                exists = set()
                for channel in {c for c, _k in unmatched}:
                    exists.update((channel, key) for key in PayoutOrder.objects.filter(
                        channel=channel, idempotency_key__any=[k for c, k in unmatched if c == channel])
                        .values_list("idempotency_key", flat=True))
                missing = set(unmatched) - exists
            applied = []
            for record in pending:  # in the order they were received
                key = (record.channel, record.idempotency_key)
                order = orders.get(key)
                if order is None:
                    if key in missing:
                        applied.append(record.pk)
                    continue
                applied.append(record.pk)
                _record_final(order, record)
            if applied:
                ChannelNotification.objects.filter(pk__any=applied).update(processed_at=stamp)
            recorded = {o.pk: o for o in orders.values()
                        if o.status in PayoutOrder.IN_FLIGHT and o.channel_status in FINAL}
            room = limit - len(recorded)
            if room > 0:  # results recorded on orders by other paths (a query, an older callback)
                for order in (PayoutOrder.objects.select_for_update(skip_locked=True).only(*SETTLE_FIELDS)
                              .filter(status__in=PayoutOrder.IN_FLIGHT, channel_status__in=list(FINAL))
                              .exclude(pk__in=list(recorded)).order_by("pk")[:room]):
                    recorded[order.pk] = order
            if not recorded and not applied:
                return settled
            succeeded = [o for o in recorded.values() if o.channel_status == QueryStatus.SUCCEEDED]
            failed = [o for o in recorded.values() if o.channel_status == QueryStatus.FAILED]
            settle_results(sorted(succeeded, key=lambda o: o.pk), sorted(failed, key=lambda o: o.pk), now=stamp,
                           by="notification", channel_order_ids={o.pk: o.channel_order_id for o in succeeded},
                           codes={o.pk: (o.fail_code, o.fail_message) for o in failed})
            settled += len(recorded)
            if len(pending) < limit and len(recorded) < limit:
                # drained: what arrives from now on has enqueued a new run (the pending key was cleared on start),
                # so small rounds do not chase every notice as it lands (each round pays a commit and the locks)
                return settled


def _record_final(order: PayoutOrder, record) -> None:
    """Put a stored final result on a locked order (in memory; the settlement writes it with the rest)."""
    if order.status not in PayoutOrder.IN_FLIGHT or record.status not in FINAL:
        return  # ended already, or not a final result
    if order.channel_status in FINAL:
        return  # recorded already: the first result stands
    known = QUERY_RANK_OF_ORDER.get(order.status)
    if known and is_stale(known, record.status):
        return
    order.channel_status = record.status
    order.channel_order_id = record.channel_order_id or order.channel_order_id
    if record.status == QueryStatus.FAILED:
        order.fail_code, order.fail_message = record.fail_code[:64], record.fail_message[:200]


def _due_for_query(now, limit: int) -> list[int]:
    due = (PayoutOrder.objects.filter(status__in=[PayoutOrder.Status.UNKNOWN, PayoutOrder.Status.PROCESSING],
                                      next_query_at__lte=now).order_by("next_query_at", "id")
           .values_list("id", flat=True)[:limit])
    stale = (PayoutOrder.objects.filter(status=PayoutOrder.Status.SUBMITTING, submitted_at__lte=now - SUBMITTING_STALE_AFTER)
             .order_by("submitted_at", "id").values_list("id", flat=True)[:limit])
    return sorted(set(due) | set(stale))


def payout_order_query(*, order_id: int, now=None) -> PayoutOrder:
    """Ask the channel about one in-flight order and apply the answer. NOT_FOUND is not failure: after
    ``RESUBMIT_NOT_FOUND_AFTER`` the order is submitted again with the *same* key (channels.md §0.3)."""
    now = now or timezone.now()
    order = PayoutOrder.objects.get(pk=order_id)
    if order.status not in PayoutOrder.IN_FLIGHT:
        return order
    result = adapter_for(order.channel).query(order.idempotency_key)
    resubmit = False
    with transaction.atomic():
        order = PayoutOrder.objects.select_for_update().get(pk=order_id)
        if order.status not in PayoutOrder.IN_FLIGHT:
            return order
        order.query_count += 1
        if order.channel_status in (QueryStatus.SUCCEEDED, QueryStatus.FAILED):  # a notification recorded it
            apply_channel_status(order, status=order.channel_status, now=now, by="notification",
                                 channel_order_id=order.channel_order_id, fail_code=order.fail_code,
                                 fail_message=order.fail_message)
            return order
        if result.status in (QueryStatus.SUCCEEDED, QueryStatus.FAILED, QueryStatus.PROCESSING):
            changed = apply_channel_status(order, status=result.status, now=now, by="query",
                                           channel_order_id=result.channel_order_id, fail_code=result.fail_code,
                                           fail_message=result.fail_message)
            if changed and order.is_terminal:
                PayoutOrder.objects.filter(pk=order.pk).update(query_count=order.query_count)
                return order
        if result.status == QueryStatus.NOT_FOUND and order.submitted_at and \
                now - order.submitted_at >= RESUBMIT_NOT_FOUND_AFTER:
            resubmit = True
            order.start_submit(at=now)
        elif order.status == PayoutOrder.Status.SUBMITTING:
            order.outcome_unknown(next_query_at=_backoff(order, now, FIRST_QUERY_AFTER))
        else:
            order.next_query_at = _backoff(order, now, FIRST_QUERY_AFTER if order.status == PayoutOrder.Status.UNKNOWN
                                           else PROCESSING_QUERY_AFTER)
        order.channel_status = result.status
        order.save(update_fields=["status", "query_count", "next_query_at", "channel_status", "submit_attempts",
                                  "submitted_at", "updated_at"])
    if resubmit:
        results = _submit_all([order.pk], workers=1)
        _record_submit_results(results=results, now=now)
        order.refresh_from_db()
    return order


def payout_orders_query_due(*, now=None, limit: int = 500) -> dict[str, int]:
    """The periodic job's body: query every order whose outcome is still open and due, then close finished batches."""
    now = now or timezone.now()
    payout_orders_settle_recorded(now=now)  # results a notification recorded but no settlement run posted yet
    ids = _due_for_query(now, limit)
    for order_id in ids:
        try:
            payout_order_query(order_id=order_id, now=now)
        except Exception:  # one bad order must not stop the others; it is retried next run
            logger.exception("query of order %s failed", order_id)
    completed = batches_complete_finished(now=now)
    return {"queried": len(ids), "batches_completed": completed}


def batches_complete_finished(*, now) -> int:
    """Close batches whose orders have all ended (a safety net for two chunks finishing at the same moment)."""
    from payouts.services.settlement import _complete_batches

    ids = list(PayoutBatch.objects.filter(status__in=[PayoutBatch.Status.CONFIRMED, PayoutBatch.Status.DISPATCHING])
               .order_by("id").values_list("id", flat=True))
    done = 0
    for batch_id in ids:
        with transaction.atomic():
            _complete_batches({batch_id}, now=now)
        done += PayoutBatch.objects.filter(pk=batch_id, status=PayoutBatch.Status.COMPLETED).exists()
    return done
