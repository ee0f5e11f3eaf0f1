"""End to end against the channel sandbox (its own HTTP server, signed notifications back to the platform):
successes, refusals with real codes, a timeout left UNKNOWN and settled by query, an error-then-same-key resend,
a duplicate notification and an out-of-order one — every order ends paid or failed once, the ledger balances."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from core.testing.factories import EnterpriseUserFactory, MerchantFactory
from core.testing.ledger import assert_ledger_ok, fund
from ledger.models import JournalEntry
from ledger.selectors import merchant_frozen_fen
from merchants.models import MerchantConfiguration
from payouts.channels import get_adapter
from payouts.models import ChannelNotification, PayoutOrder
from payouts.services.dispatch import payout_order_query, payout_orders_dispatch
from payouts.services.orders import payout_order_confirm, payout_order_create
from payouts.testing_orders import make_payees

# amounts (fen) chosen for the sandbox's scenarios by their cents (see payouts.channels.sandbox.rules);
# below the monthly IIT threshold and with the fee borne by the enterprise, what the channel pays = the amount.
AMOUNTS = {"ok": 500_00, "name_mismatch": 500_21, "closed": 500_22, "timeout": 500_13, "error_first": 500_14,
           "duplicate": 500_16, "out_of_order": 500_17}


FAIL_CODES = {"BANK": ("RJ02", "RJ01"), "ALIPAY": ("PAYEE_USER_INFO_ERROR", "PAYEE_ACCOUNT_STATUS_ERROR"),
              "WECHAT": ("NAME_NOT_CORRECT", "ACCOUNT_NOT_EXIST")}


@pytest.mark.postgres  # the live server's threads need real row locks (SQLite shares one in-memory connection)
@pytest.mark.django_db(transaction=True)
# 批量代发 / 批量转账: a batch request, results by notice; WeChat's 商家转账: one request a transfer, one notice each
@pytest.mark.parametrize("channel", ["BANK", "ALIPAY", "WECHAT"])
def test_orders_settle_through_the_sandbox(live_server, tmp_path, settings, now, monkeypatch, channel):
    from payouts.channels.sandbox.server import ChannelSandbox, SandboxConfig
    from tests.payouts.orders.conftest import _rule_sets  # noqa: F401  (rule sets are loaded by the autouse fixture)

    monkeypatch.setattr("payouts.jobs_orders.payout_orders_dispatch_job.apply_async", lambda *a, **k: None)
    settings.CHANNEL_CALLBACK_BASE_URL = live_server.url  # where the adapter tells the channel to notify
    settings.MEDIA_ROOT = tmp_path / "media"
    merchant = MerchantFactory()
    MerchantConfiguration.objects.create(merchant=merchant, enabled_channels=[channel])
    actor = EnterpriseUserFactory(merchant=merchant)
    names = list(AMOUNTS)
    payees = make_payees(merchant=merchant, count=len(names), now=now, seed=41,
                         amount_fen=lambda i: AMOUNTS[names[i]], wechat=channel == "WECHAT")
    fund(merchant, 100_000_00, now=now)
    box = ChannelSandbox(db_path=tmp_path / "sb.sqlite3", port=0, config=SandboxConfig(
        callback_base=live_server.url, secret=settings.CHANNEL_SANDBOX_SECRET, tick_seconds=0.02,
        settle_seconds=0.1, slow_seconds=1.5, duplicate_gap_seconds=0.2,
        notify_workers=1 if connection.vendor == "sqlite" else 8)).start()
    monkeypatch.setattr("payouts.services.dispatch.adapter_for",
                        lambda channel: get_adapter(channel, base_url=box.url, timeout=0.5))
    try:
        orders = {}
        for name, payee in zip(names, payees, strict=True):
            order = payout_order_create(merchant=merchant, actor=actor, payable_id=payee.payable_id, amount_fen=None,
                                        channel=channel, now=now)
            assert order.payee_fen == AMOUNTS[name], (name, order.payee_fen)
            orders[name] = payout_order_confirm(merchant=merchant, order_id=order.pk, actor=actor, now=now)
        keys = {o.idempotency_key for o in orders.values()}
        payout_orders_dispatch(order_ids=[o.pk for o in orders.values()], workers=4)
        by = {name: PayoutOrder.objects.get(pk=o.pk) for name, o in orders.items()}
        # a timeout is never a failure: UNKNOWN (or already settled by the notification that raced the answer)
        assert by["timeout"].status in (PayoutOrder.Status.UNKNOWN, PayoutOrder.Status.SUCCEEDED)
        assert by["error_first"].status == PayoutOrder.Status.UNKNOWN

        deadline = time.time() + 20
        while time.time() < deadline:  # the query job's work: ask the channel, same key
            open_orders = PayoutOrder.objects.filter(merchant=merchant).exclude(status__in=PayoutOrder.TERMINAL)
            for order in open_orders:
                if order.status == PayoutOrder.Status.UNKNOWN:
                    import datetime as dt

                    from django.utils import timezone

                    # NOT_FOUND for "error first" is resent with the same key once it is old enough
                    payout_order_query(order_id=order.pk, now=timezone.now() + dt.timedelta(minutes=11))
            if not open_orders.exists():
                break
            time.sleep(0.2)
        time.sleep(0.8)  # let the duplicate and the stale notifications arrive too
        if channel == "ALIPAY":  # several orders go as one batch transfer; one order alone as a single transfer
            assert box.store.order("ALIPAY", orders["ok"].idempotency_key)["batch_no"]
            assert box.store.order("ALIPAY", orders["error_first"].idempotency_key)["batch_no"] == ""
    finally:
        box.stop()

    final = {name: PayoutOrder.objects.get(pk=o.pk) for name, o in orders.items()}
    assert {n: o.status for n, o in final.items()} == {
        "ok": "SUCCEEDED", "name_mismatch": "FAILED", "closed": "FAILED", "timeout": "SUCCEEDED",
        "error_first": "SUCCEEDED", "duplicate": "SUCCEEDED", "out_of_order": "SUCCEEDED"}
    assert final["timeout"].settled_by in ("notification", "query")
    assert final["error_first"].submit_attempts == 2  # resent once, with its own key
    assert (final["name_mismatch"].fail_code, final["closed"].fail_code) == FAIL_CODES[channel]
    assert {o.idempotency_key for o in final.values()} == keys  # never a new key
    for order in final.values():
        kind = "payout.settle" if order.status == "SUCCEEDED" else "payout.release"
        assert JournalEntry.objects.filter(kind=kind, ref=f"payouts.payoutorder:{order.pk}").count() == 1
    assert JournalEntry.objects.filter(kind__in=["payout.settle", "payout.release"]).count() == len(final)
    assert ChannelNotification.objects.filter(idempotency_key=final["duplicate"].idempotency_key).exists()
    assert merchant_frozen_fen(merchant=merchant) == 0
    assert_ledger_ok()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_wechat_over_its_rate_is_sent_again_and_every_order_settles(live_server, tmp_path, settings, now, monkeypatch):
    """The sandbox answers WeChat's 429 FREQUENCY_LIMITED to the first three transfer requests (as it does over its
    per-second limit, which tests/payouts/test_channel_sandbox.py covers); dispatch sends 8 at once: the refused ones
    go again with their key, none is left UNKNOWN, all are paid once."""
    from payouts.channels.sandbox.server import ChannelSandbox, SandboxConfig

    monkeypatch.setattr("payouts.jobs_orders.payout_orders_dispatch_job.apply_async", lambda *a, **k: None)
    settings.CHANNEL_CALLBACK_BASE_URL = live_server.url
    settings.CHANNEL_REQUESTS_PER_SECOND = {}
    merchant = MerchantFactory()
    MerchantConfiguration.objects.create(merchant=merchant, enabled_channels=["WECHAT"])
    actor = EnterpriseUserFactory(merchant=merchant)
    payees = make_payees(merchant=merchant, count=8, now=now, seed=43, amount_fen=200_00, wechat=True)
    fund(merchant, 100_000_00, now=now)
    box = ChannelSandbox(db_path=tmp_path / "sb.sqlite3", port=0, config=SandboxConfig(
        callback_base=live_server.url, secret=settings.CHANNEL_SANDBOX_SECRET, tick_seconds=0.02,
        settle_seconds=0.1, wechat_qps=0)).start()
    refusals = iter([True] * 3)  # the next three requests, whatever the second (a loaded CI machine spreads them)
    box.wechat_rate_limited = lambda: next(refusals, False)
    answers = []
    real_adapter = get_adapter("WECHAT", base_url=box.url, timeout=2)
    real_submit = real_adapter.submit

    def submit(request, key):
        result = real_submit(request, key)
        answers.append(result.fail_code)
        return result

    real_adapter.submit = submit
    monkeypatch.setattr("payouts.services.dispatch.adapter_for", lambda channel: real_adapter)
    try:
        orders = []
        for payee in payees:
            order = payout_order_create(merchant=merchant, actor=actor, payable_id=payee.payable_id, amount_fen=None,
                                        channel="WECHAT", now=now)
            orders.append(payout_order_confirm(merchant=merchant, order_id=order.pk, actor=actor, now=now))
        summary = payout_orders_dispatch(order_ids=[o.pk for o in orders], workers=8)
        assert summary["unknown"] == 0 and summary["sent"] == 8
        assert answers.count("FREQUENCY_LIMITED") == 3 and len(answers) == 8 + 3  # refused, then sent again
        deadline = time.time() + 15
        while PayoutOrder.objects.filter(merchant=merchant).exclude(status__in=PayoutOrder.TERMINAL).exists():
            assert time.time() < deadline, "orders did not settle"
            from payouts.services.dispatch import payout_orders_settle_recorded

            payout_orders_settle_recorded()
            time.sleep(0.1)
    finally:
        box.stop()
    assert set(PayoutOrder.objects.filter(merchant=merchant).values_list("status", flat=True)) == {"SUCCEEDED"}
    assert len({box.store.order("WECHAT", o.idempotency_key)["key"] for o in orders}) == 8  # one order each at WeChat
    assert merchant_frozen_fen(merchant=merchant) == 0
    assert_ledger_ok()
