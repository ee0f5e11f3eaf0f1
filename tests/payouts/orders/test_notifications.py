"""Notifications record the final result on the order; the settlement job posts recorded results set-based."""

from __future__ import annotations

import pytest

from ledger.models import JournalEntry
from ledger.selectors import merchant_frozen_fen
from payouts.channels import Notification, Outcome, QueryStatus, SubmitResult
from payouts.models import ChannelNotification, PayoutOrder
from payouts.services.channels import channel_notification_receive
from payouts.services.dispatch import _record_submit_results, _start_submit, payout_orders_dispatch
from payouts.services.orders import payout_order_confirm, payout_order_create

pytestmark = pytest.mark.django_db


def confirmed(funded, actor, payee, now):
    order = payout_order_create(merchant=funded, actor=actor, payable_id=payee.payable_id, amount_fen=None,
                                channel="BANK", now=now)
    return payout_order_confirm(merchant=funded, order_id=order.pk, actor=actor, now=now)


def note(order, status, notify_id, amount=None):
    return Notification(channel="BANK", notify_id=notify_id, idempotency_key=order.idempotency_key, status=status,
                        amount_fen=order.payee_fen if amount is None else amount, channel_order_id="CH9",
                        fail_code="RJ02" if status == QueryStatus.FAILED else "", fail_message="账号、户名不符")


def test_success_and_failure_by_notification(funded, payees, enterprise_admin, channel, now,
                                             django_capture_on_commit_callbacks):
    channel.default = Outcome.ACCEPTED
    ok, bad = confirmed(funded, enterprise_admin, payees[0], now), confirmed(funded, enterprise_admin, payees[1], now)
    payout_orders_dispatch(order_ids=[ok.pk, bad.pk], now=now)
    with django_capture_on_commit_callbacks(execute=True):
        channel_notification_receive(notification=note(ok, QueryStatus.SUCCEEDED, "N1"), now=now)
        channel_notification_receive(notification=note(bad, QueryStatus.FAILED, "N2"), now=now)
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.status, bad.status) == (PayoutOrder.Status.SUCCEEDED, PayoutOrder.Status.FAILED)
    assert bad.fail_code == "RJ02"
    assert merchant_frozen_fen(merchant=funded) == 0


def test_wrong_amount_and_stale_notifications_change_nothing(funded, payees, enterprise_admin, channel, now,
                                                            django_capture_on_commit_callbacks):
    channel.default = Outcome.ACCEPTED
    order = confirmed(funded, enterprise_admin, payees[0], now)
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    with django_capture_on_commit_callbacks(execute=True):
        channel_notification_receive(notification=note(order, QueryStatus.SUCCEEDED, "N1", amount=1), now=now)
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.PROCESSING
    with django_capture_on_commit_callbacks(execute=True):
        channel_notification_receive(notification=note(order, QueryStatus.SUCCEEDED, "N2"), now=now)
        channel_notification_receive(notification=note(order, QueryStatus.PROCESSING, "N3"), now=now)  # stale
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.SUCCEEDED
    assert JournalEntry.objects.filter(kind="payout.settle").count() == 1


def test_notification_before_the_submit_answer_is_recorded_is_not_lost(funded, payees, enterprise_admin, now,
                                                                        django_capture_on_commit_callbacks):
    order = confirmed(funded, enterprise_admin, payees[0], now)
    _start_submit(order_ids=[order.pk], now=now)  # SUBMITTING; the channel is being called…
    with django_capture_on_commit_callbacks(execute=False):  # …it notifies; the settlement job waits in the queue
        channel_notification_receive(notification=note(order, QueryStatus.SUCCEEDED, "N1"), now=now)
    # the submit answer ("accepted") is recorded after the notification: it must not overwrite the final result
    _record_submit_results(results={order.pk: SubmitResult(Outcome.ACCEPTED, channel_order_id="CH9")}, now=now)
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.PROCESSING  # the answer is recorded; the result waits, stored
    assert ChannelNotification.objects.get(notify_id="N1").processed_at is None
    from payouts.services.dispatch import payout_orders_settle_recorded

    assert payout_orders_settle_recorded(now=now) == 1  # the job, when it runs
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.SUCCEEDED
