"""Jobs of payout batches and orders: thin, ids in, one service call each (imported by ``payouts.jobs``)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="payouts.batch_check", queue="payouts")
def payout_batch_check_job(*, batch_id: int, **kwargs) -> str:
    from payouts.services.batches import payout_batch_check

    return payout_batch_check(batch_id=batch_id, now=timezone.now()).status


@shared_task(name="payouts.orders_dispatch", queue="channels")
def payout_orders_dispatch_job(*, order_ids: list[int], **kwargs) -> dict:
    """Send up to 1,000 confirmed orders to their channel (one job per 1,000 lines of a batch)."""
    from payouts.services.dispatch import payout_orders_dispatch

    return payout_orders_dispatch(order_ids=order_ids)


@shared_task(name="payouts.orders_settle", queue="payouts")
def payout_orders_settle_job(**kwargs) -> int:
    """Post the results notifications recorded on in-flight orders, 1,000 per transaction."""
    from payouts.services.dispatch import payout_orders_settle_recorded

    return payout_orders_settle_recorded()


@shared_task(name="payouts.orders_query", queue="channels")
def payout_orders_query_job(**kwargs) -> dict:
    """Periodic: query the channel about orders whose outcome is still open (UNKNOWN, PROCESSING, stuck SUBMITTING)."""
    from payouts.services.dispatch import payout_orders_query_due

    return payout_orders_query_due(now=timezone.now())


@shared_task(name="payouts.receipts_issue", queue="documents")
def payout_receipts_issue_job(*, order_ids: list[int], **kwargs) -> int:
    from payouts.documents import payout_receipts_issue

    return len(payout_receipts_issue(order_ids=order_ids, now=timezone.now()))


@shared_task(name="payouts.fee_statements", queue="payouts")
def payout_fee_statements_job(**kwargs) -> int:
    """Monthly (交易后计费): bill last month's AFTER fees of every enterprise."""
    from payouts.services.fees import fee_statements_issue_last_month

    return len(fee_statements_issue_last_month(now=timezone.now()))
