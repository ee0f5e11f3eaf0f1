"""Reliability on PostgreSQL with real threads, real commits and a real process killed mid-batch.

- fifty concurrent payments against a balance that covers ten: exactly ten are confirmed, the balance is exact;
- a payout-result notification delivered twice (also at the same moment) posts once;
- a dispatch worker SIGKILLed in the middle of a batch and started again: every order ends paid or failed exactly
  once, nothing is sent under a new key;
and the ledger's invariants hold after each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db.models import Count

from core.testing.concurrency import race_each
from core.testing.factories import EnterpriseUserFactory, MerchantFactory
from core.testing.ledger import assert_ledger_ok, fund
from ledger.exceptions import InsufficientBalance
from ledger.models import JournalEntry
from ledger.selectors import merchant_available_fen, merchant_frozen_fen
from merchants.models import MerchantConfiguration
from payouts.channels import Notification, Outcome, QueryStatus
from payouts.models import ChannelNotification, PayoutBatch, PayoutOrder
from payouts.services.batches import payout_batch_check, payout_batch_confirm_verified, payout_batch_upload
from payouts.services.channels import channel_notification_receive
from payouts.services.dispatch import payout_orders_dispatch
from payouts.services.orders import payout_order_confirm, payout_order_create
from payouts.testing_orders import batch_csv, make_payees
from tax.models import Withholding

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def enterprise(now):
    merchant = MerchantFactory()
    MerchantConfiguration.objects.create(merchant=merchant, enabled_channels=["BANK"])
    return merchant, EnterpriseUserFactory(merchant=merchant)


def test_fifty_concurrent_payments_against_a_balance_for_ten(now, monkeypatch):
    from tests.payouts.orders.conftest import ScriptedChannel

    channel = ScriptedChannel(default=Outcome.SUCCEEDED)  # the dispatch job runs on commit (eager Celery)
    monkeypatch.setattr("payouts.services.dispatch.adapter_for", lambda name: channel)
    merchant, actor = enterprise(now)
    payees = make_payees(merchant=merchant, count=50, now=now, amount_fen=100_000, seed=31)
    orders = [payout_order_create(merchant=merchant, actor=actor, payable_id=p.payable_id, amount_fen=None,
                                  channel="BANK", now=now) for p in payees]
    each = orders[0].freeze_fen
    assert all(o.freeze_fen == each for o in orders)
    fund(merchant, 10 * each + each // 2, now=now)  # ten and a half payments

    results = race_each(50, lambda i: payout_order_confirm(merchant=merchant, order_id=orders[i].pk, actor=actor,
                                                             now=now))
    confirmed = [r for r in results if isinstance(r, PayoutOrder)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert len(confirmed) == 10, [repr(r)[:200] for r in results if not isinstance(r, (PayoutOrder, InsufficientBalance))][:3]
    assert len(refused) == 40, [repr(r)[:300] for r in results if not isinstance(r, (PayoutOrder, InsufficientBalance))]
    assert merchant_available_fen(merchant=merchant) == each // 2
    # each confirmed order was dispatched on commit and paid: frozen funds all moved on, exactly once
    assert merchant_frozen_fen(merchant=merchant) == 0
    assert PayoutOrder.objects.filter(merchant=merchant, status=PayoutOrder.Status.SUCCEEDED).count() == 10
    assert PayoutOrder.objects.filter(merchant=merchant, status=PayoutOrder.Status.DRAFT).count() == 40
    assert len(channel.submits) == 10
    # the refused ones left no tax withholding behind
    assert Withholding.objects.filter(merchant=merchant).count() == 10
    assert_ledger_ok()


def test_a_notification_delivered_twice_posts_once(now, monkeypatch):
    from tests.payouts.orders.conftest import ScriptedChannel

    merchant, actor = enterprise(now)
    channel = ScriptedChannel(default=Outcome.ACCEPTED)
    monkeypatch.setattr("payouts.services.dispatch.adapter_for", lambda name: channel)
    payees = make_payees(merchant=merchant, count=2, now=now, amount_fen=100_000, seed=32)
    fund(merchant, 1_000_000, now=now)
    orders = []
    for payee in payees:
        order = payout_order_create(merchant=merchant, actor=actor, payable_id=payee.payable_id, amount_fen=None,
                                    channel="BANK", now=now)
        payout_order_confirm(merchant=merchant, order_id=order.pk, actor=actor, now=now)
        orders.append(order)
    payout_orders_dispatch(order_ids=[o.pk for o in orders], now=now)
    assert set(PayoutOrder.objects.filter(merchant=merchant).values_list("status", flat=True)) == {"PROCESSING"}

    def note(order, notify_id):
        order.refresh_from_db()
        return Notification(channel="BANK", notify_id=notify_id, idempotency_key=order.idempotency_key,
                            status=QueryStatus.SUCCEEDED, amount_fen=order.payee_fen, channel_order_id="CH1")

    # the same notification twice, one after the other
    first, created = channel_notification_receive(notification=note(orders[0], "N-1"), now=now)
    again, created_again = channel_notification_receive(notification=note(orders[0], "N-1"), now=now)
    assert created and not created_again and again.deliveries == 2
    # the same notification twice at the same moment, plus a *different* notify_id for the same order
    n2 = note(orders[1], "N-2")
    n3 = note(orders[1], "N-3")
    results = race_each(3, lambda i: channel_notification_receive(notification=[n2, n2, n3][i], now=now))
    assert not [r for r in results if isinstance(r, Exception)], results
    for order in orders:
        order.refresh_from_db()
        assert order.status == PayoutOrder.Status.SUCCEEDED
        assert JournalEntry.objects.filter(kind="payout.settle", ref=f"payouts.payoutorder:{order.pk}").count() == 1
    assert merchant_frozen_fen(merchant=merchant) == 0
    assert ChannelNotification.objects.filter(notify_id="N-2").get().deliveries == 2
    assert_ledger_ok()


def test_worker_killed_mid_batch_then_restarted(now, tmp_path, settings, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    from payouts import jobs_orders

    # The dispatch jobs go to the broker; here the worker process below plays the Celery worker.
    monkeypatch.setattr(jobs_orders.payout_orders_dispatch_job, "apply_async", lambda *a, **k: None)
    merchant, actor = enterprise(now)
    payees = make_payees(merchant=merchant, count=240, now=now, amount_fen=20_000, seed=33)
    fund(merchant, 100_000_000, now=now)
    batch = payout_batch_upload(merchant=merchant, actor=actor, content=batch_csv(payees), filename="b.csv",
                                channel="BANK", now=now)
    batch = payout_batch_check(batch_id=batch.pk, now=now)
    assert batch.status == PayoutBatch.Status.QUOTED, batch.errors[:3]
    batch = payout_batch_confirm_verified(merchant=merchant, batch_id=batch.pk, actor=actor, now=now)
    keys = set(PayoutOrder.objects.filter(batch=batch).values_list("idempotency_key", flat=True))

    log = tmp_path / "submits.log"
    db = settings.DATABASES["default"]
    env = dict(os.environ, DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
               LINGGONG_MEDIA_ROOT=str(tmp_path / "media"))
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    script = [sys.executable, str(Path(__file__).with_name("dispatch_worker.py")), str(batch.pk), str(log)]
    cwd = str(settings.BASE_DIR)
    first = subprocess.Popen(script, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the worker is well into the batch
        sent = log.read_text().count("\n") if log.exists() else 0
        if sent >= 100:
            break
        if first.poll() is not None:
            pytest.fail("the worker ended before it was killed: " + first.stderr.read().decode()[-2000:])
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    statuses = dict(PayoutOrder.objects.filter(batch=batch).values_list("status").annotate(n=Count("id")).order_by())
    assert statuses.get("CONFIRMED", 0) > 0, statuses  # it really died half-way
    assert statuses.get("SUCCEEDED", 0) + statuses.get("FAILED", 0) > 0, statuses

    second = subprocess.run(script, env=env, cwd=cwd, capture_output=True, timeout=120)
    assert second.returncode == 0, second.stderr.decode()[-3000:]

    orders = list(PayoutOrder.objects.filter(batch=batch))
    assert {o.status for o in orders} <= {PayoutOrder.Status.SUCCEEDED, PayoutOrder.Status.FAILED}
    succeeded = [o for o in orders if o.status == PayoutOrder.Status.SUCCEEDED]
    failed = [o for o in orders if o.status == PayoutOrder.Status.FAILED]
    assert succeeded and failed
    settle = JournalEntry.objects.filter(kind="payout.settle")
    release = JournalEntry.objects.filter(kind="payout.release")
    assert settle.count() == len(succeeded) and release.count() == len(failed)
    assert set(settle.values_list("ref", flat=True)) == {f"payouts.payoutorder:{o.pk}" for o in succeeded}
    sent = log.read_text().split()
    assert set(sent) <= keys  # nothing was ever sent under a key that is not the order's own
    assert set(sent) == keys
    assert merchant_frozen_fen(merchant=merchant) == 0
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.COMPLETED
    assert Withholding.objects.filter(kind="REVERSAL").count() == len(failed)
    assert_ledger_ok()


def test_a_notification_never_waits_for_the_order_lock_of_a_dispatch_worker(now, monkeypatch):
    """The callback stores a final result without touching the order: while a dispatch worker's recording
    transaction holds the order's row lock, the notification is stored and answered at once; the settlement job
    skips the locked order (SKIP LOCKED) and applies the stored result once the lock is gone."""
    import threading

    from django.db import connection, transaction

    from payouts.services.dispatch import payout_orders_settle_recorded
    from tests.payouts.orders.conftest import ScriptedChannel

    merchant, actor = enterprise(now)
    monkeypatch.setattr("payouts.services.dispatch.adapter_for", lambda name: ScriptedChannel(default=Outcome.ACCEPTED))
    [payee] = make_payees(merchant=merchant, count=1, now=now, amount_fen=100_000, seed=33)
    fund(merchant, 1_000_000, now=now)
    order = payout_order_create(merchant=merchant, actor=actor, payable_id=payee.payable_id, amount_fen=None,
                                channel="BANK", now=now)
    payout_order_confirm(merchant=merchant, order_id=order.pk, actor=actor, now=now)
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    order.refresh_from_db()
    locked, release = threading.Event(), threading.Event()

    def dispatch_worker_recording():  # holds the order's row lock, as a recording transaction does
        try:
            with transaction.atomic():
                PayoutOrder.objects.select_for_update().get(pk=order.pk)
                locked.set()
                release.wait(20)
        finally:
            connection.close()

    holder = threading.Thread(target=dispatch_worker_recording)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        record, created = channel_notification_receive(notification=Notification(
            channel="BANK", notify_id="N-LOCKED", idempotency_key=order.idempotency_key,
            status=QueryStatus.SUCCEEDED, amount_fen=order.payee_fen, channel_order_id="CH7"), now=now)
        assert created and time.monotonic() - started < 2, "the callback waited for the order's lock"
        assert payout_orders_settle_recorded(now=now) == 0  # the order is locked: skipped, not waited for
        assert ChannelNotification.objects.get(notify_id="N-LOCKED").processed_at is None
    finally:
        release.set()
        holder.join(20)
    assert payout_orders_settle_recorded(now=now) == 1
    order.refresh_from_db()
    assert (order.status, order.channel_order_id) == (PayoutOrder.Status.SUCCEEDED, "CH7")
    assert ChannelNotification.objects.get(notify_id="N-LOCKED").processed_at is not None
    assert JournalEntry.objects.filter(kind="payout.settle", ref=f"payouts.payoutorder:{order.pk}").count() == 1
    assert payout_orders_settle_recorded(now=now) == 0  # nothing twice
    assert merchant_frozen_fen(merchant=merchant) == 0
    assert_ledger_ok()
