"""The platform's callback endpoints: signed notices in, recorded once, acknowledged only after commit."""

import json
import time
import urllib.parse

import pytest
from django.db import connection

from core.testing.concurrency import race, race_each
from core.testing.ledger import assert_ledger_ok
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger.models import JournalEntry
from payouts.channels import signing
from payouts.channels.alipay import NOTIFY_METHOD
from payouts.channels.bank import signed_headers
from payouts.models import ChannelNotification, IncomingTransfer, TopUpAccount
from payouts.services import channels as channel_services

pytestmark = pytest.mark.django_db


def _client_headers(headers):
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}


def incoming_notice(serial, virtual_account, amount="1500.00"):
    return json.dumps({"notifyId": f"N{serial}", "msgTyp": "NCCRTTRS", "seqNbr": serial, "trsAmt": amount,
                       "amtCdr": "C", "dmaNbr": virtual_account, "rpyAcc": "6222020200112233445",
                       "rpyNam": "天津快送同城配送有限公司", "rpyBnk": "工商银行", "narTxt": "充值", "trsDat": "20260316",
                       "trsTim": "103000"}, ensure_ascii=False).encode()


def post_signed(client, url, body):
    return client.post(url, data=body, content_type="application/json", **_client_headers(signed_headers("BANK", body)))


@pytest.fixture
def topup(merchant, now):
    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    return TopUpAccount.objects.get(merchant=merchant)


def test_bank_incoming_notice_delivered_twice_credits_once(client, merchant, topup):
    body = incoming_notice("B9001", topup.account_number)
    for _ in range(2):
        response = post_signed(client, "/callbacks/bank/incoming", body)
        assert response.status_code == 200 and response.json() == {"code": "SUCCESS"}
    assert IncomingTransfer.objects.count() == 1
    assert JournalEntry.objects.filter(kind="funding.incoming").count() == 1
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 1500_00


def test_bank_incoming_notice_with_a_bad_signature_changes_nothing(client, merchant, topup):
    body = incoming_notice("B9002", topup.account_number)
    headers = _client_headers(signed_headers("BANK", body))
    response = client.post("/callbacks/bank/incoming", data=body.replace(b"1500.00", b"9500.00"),
                           content_type="application/json", **headers)
    assert response.status_code == 401
    assert IncomingTransfer.objects.count() == 0
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 0


def alipay_notice(notify_id, key, status="SUCCESS"):
    biz = {"out_biz_no": key, "order_id": "20260316001", "status": status, "trans_amount": "12.00",
           "pay_date": "2026-03-16 10:30:00", "action_type": "FINISH"}
    params = {"notify_id": notify_id, "msg_method": NOTIFY_METHOD, "utc_timestamp": str(int(time.time() * 1000)),
              "app_id": "2021000000000001", "version": "1.1", "charset": "utf-8", "sign_type": "HMAC-SHA256",
              "biz_content": json.dumps(biz, separators=(",", ":"))}
    params["sign"] = signing.sign("ALIPAY", signing.form_message(params))
    return urllib.parse.urlencode(params)


def test_payout_notification_delivered_twice_is_handled_once(client, now):
    calls = []
    handler = channel_services.notification_handler(
        lambda *, record, notification, now: calls.append((record.pk, notification.status)))
    try:
        body = alipay_notice("n-1", "PO-1")
        for _ in range(2):
            response = client.post("/callbacks/alipay/payouts", data=body,
                                   content_type="application/x-www-form-urlencoded")
            assert response.status_code == 200 and response.content == b"success"
    finally:
        channel_services._handlers.remove(handler)
    record = ChannelNotification.objects.get()
    assert (record.status, record.amount_fen, record.deliveries) == ("SUCCEEDED", 12_00, 2)
    assert record.processed_at is not None
    assert calls == [(record.pk, "SUCCEEDED")]


def test_forged_payout_notification_is_refused(client):
    body = alipay_notice("n-2", "PO-2").replace("12.00", "1200.00")
    response = client.post("/callbacks/alipay/payouts", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    assert ChannelNotification.objects.count() == 0
    assert client.post("/callbacks/paypal/payouts", data=b"", content_type="application/json").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_incoming_transfer_reported_concurrently_is_credited_once(now):
    from core.testing.factories import MerchantFactory
    from payouts.services import IncomingTransferData, incoming_transfer_receive

    merchant = MerchantFactory()
    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    account = TopUpAccount.objects.get(merchant=merchant).account_number
    data = IncomingTransferData(bank_serial="B-RACE", amount_fen=77_00, value_date=now.date(), virtual_account=account)
    results = race_each(8, lambda i: incoming_transfer_receive(data=data, source="NOTIFICATION", now=now))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(results) == 8
    assert sum(created for _, created in results) == 1
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 77_00
    assert_ledger_ok()


@pytest.mark.django_db(transaction=True)
def test_sandbox_topup_reaches_the_platform_and_is_credited(live_server, tmp_path, settings, now):
    """End to end: the sandbox process's top-up notice → /callbacks/bank/incoming → the merchant's balance."""
    import urllib.request

    from core.testing.factories import MerchantFactory
    from payouts.channels.sandbox.server import ChannelSandbox, SandboxConfig

    merchant = MerchantFactory()
    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    account = TopUpAccount.objects.get(merchant=merchant).account_number
    box = ChannelSandbox(db_path=tmp_path / "sb.sqlite3", port=0, config=SandboxConfig(
        callback_base=live_server.url, secret=settings.CHANNEL_SANDBOX_SECRET, tick_seconds=0.02,
        # On SQLite the live server shares one in-memory connection between threads, so row locks cannot
        # separate concurrent requests there; deliver one at a time (PostgreSQL runs the concurrent tests).
        notify_workers=1 if connection.vendor == "sqlite" else 8)).start()
    try:
        for _ in range(2):  # the enterprise transfers twice; each transfer is credited once
            request = urllib.request.Request(f"{box.url}/sandbox/topups", method="POST", data=json.dumps(
                {"virtual_account": account, "amount": "250.00", "payer_name": "某公司",
                 "payer_account": "6222020200112233445"}).encode())
            urllib.request.urlopen(request).read()
        deadline = time.time() + 10
        while time.time() < deadline and IncomingTransfer.objects.count() < 2:
            time.sleep(0.05)
    finally:
        box.stop()
    assert IncomingTransfer.objects.filter(status=IncomingTransfer.Status.MATCHED, merchant=merchant).count() == 2
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 500_00
    assert_ledger_ok()


def test_bank_batch_notice_is_recorded_whole_and_once(client):
    items = [{"notifyId": f"n{i}", "msgTyp": "FINPAY", "yurRef": f"PO-{i}", "reqSts": "FIN", "rtnFlg": "S",
              "errCod": "", "errTxt": "", "trsAmt": "10.00", "sqrNbr": f"S{i}", "finTim": "20260316103000"}
             for i in range(3)]
    body = json.dumps({"notifyId": "batch-1", "msgTyp": "FINPAY_BATCH", "items": items}).encode()
    for _ in range(2):
        assert post_signed(client, "/callbacks/bank/payouts", body).status_code == 200
    assert ChannelNotification.objects.count() == 3
    assert set(ChannelNotification.objects.values_list("deliveries", flat=True)) == {2}
    assert set(ChannelNotification.objects.values_list("status", flat=True)) == {"SUCCEEDED"}


def test_batch_handlers_get_each_delivery_once_and_repeats_only_count(now):
    from payouts.channels.base import Notification

    batches = []
    handler = channel_services.notification_batch_handler(
        lambda *, items, now: batches.append([n.idempotency_key for _, n in items]))
    try:
        def n(i):
            return Notification(channel="BANK", notify_id=f"b{i}", idempotency_key=f"PO-{i}", status="SUCCEEDED",
                                amount_fen=100)

        first = channel_services.channel_notifications_receive(notifications=[n(1), n(2), n(2)], now=now)
        second = channel_services.channel_notifications_receive(notifications=[n(2), n(3)], now=now)
    finally:
        channel_services._batch_handlers.remove(handler)
    assert [created for _, created in first] == [True, True, False]
    assert [created for _, created in second] == [False, True]
    assert batches == [["PO-1", "PO-2"], ["PO-3"]]
    assert ChannelNotification.objects.get(notify_id="b2").deliveries == 3
    assert ChannelNotification.objects.filter(processed_at__isnull=True).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_matching_and_returning_the_same_transfer_at_once_one_wins(now):
    from core.testing.factories import MerchantFactory, UserFactory
    from payouts.exceptions import TransferNotUnmatched
    from payouts.services import (
        IncomingTransferData,
        incoming_transfer_match,
        incoming_transfer_receive,
        incoming_transfer_return,
    )

    merchant, ops = MerchantFactory(), UserFactory()
    transfer, _ = incoming_transfer_receive(data=IncomingTransferData(bank_serial="RACE-2", amount_fen=50_00,
                                                                      value_date=now.date()),
                                            source="STATEMENT", now=now)
    def act(which):
        if which == "match":
            incoming_transfer_match(transfer_id=transfer.pk, merchant=merchant, actor=ops, now=now)
        else:
            incoming_transfer_return(transfer_id=transfer.pk, reason="重复", actor=ops, now=now)
        return which

    results = race(lambda: act("match"), lambda: act("return"))
    outcomes = ["refused" if isinstance(r, TransferNotUnmatched) else r for r in results]
    assert sorted(outcomes) in (["match", "refused"], ["refused", "return"])
    transfer.refresh_from_db()
    expected = 50_00 if transfer.status == IncomingTransfer.Status.MATCHED else 0
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == expected
    assert_ledger_ok()
