"""Alipay 批量转账 (alipay.fund.batch.uni.transfer) against the sandbox, through the platform's adapter: the batch
is taken (INIT), every detail's result comes in signed batch notices (late, duplicated, out of order, failures
with Alipay's codes), the batch can be read with alipay.fund.batch.detail.query, and one order is still answered
by the single-order query."""

import urllib.parse

import pytest

from payouts.channels import get_adapter, is_stale
from payouts.channels.alipay import BATCH_NOTIFY_METHOD, out_batch_no
from payouts.channels.base import Outcome, QueryStatus
from payouts.exceptions import InvalidSignature
from tests.payouts.test_channel_sandbox import adapter, order, receiver, sandbox  # noqa: F401 - fixtures

ALIPAY = "13912345678"


def _batch_notices(received):
    a = get_adapter("ALIPAY")
    out = []
    for path, headers, body in received:
        if "/callbacks/alipay/payouts" not in path:
            continue
        params = dict(urllib.parse.parse_qsl(body.decode()))
        if params.get("msg_method") == BATCH_NOTIFY_METHOD:
            out.append((params["notify_id"], a.parse_notifications(headers=headers, body=body), (headers, body)))
    return out


def test_a_batch_is_taken_and_every_detail_is_notified_in_batch_notices(sandbox, receiver):  # noqa: F811
    a = adapter("ALIPAY", sandbox, timeout=5)
    a.submit(order(5_00, channel="ALIPAY"), "KA-DUP")  # a single transfer whose key the batch reuses, other amount
    lines = [(order(100_00 + i * 100, channel="ALIPAY"), f"KA-{i}") for i in range(30)]
    lines += [(order(7_21, channel="ALIPAY"), "KA-NAME"), (order(7_22, channel="ALIPAY"), "KA-CLOSED"),
              (order(7_14, channel="ALIPAY"), "KA-ERR"), (order(6_00, channel="ALIPAY"), "KA-DUP"),
              (order(7_16, channel="ALIPAY"), "KA-TWICE"), (order(7_17, channel="ALIPAY"), "KA-LATE-STALE")]
    results = a.submit_batch(lines)
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * len(lines)  # status=INIT: taken, paid later

    def done(got):
        keys = {n.idempotency_key for _, notes, _ in _batch_notices(got) for n in notes}
        return {f"KA-{i}" for i in range(30)} | {"KA-NAME", "KA-CLOSED", "KA-ERR", "KA-DUP", "KA-TWICE"} <= keys \
            and sum(n.idempotency_key == "KA-TWICE" for _, notes, _ in _batch_notices(got) for n in notes) >= 2 \
            and sum(n.idempotency_key == "KA-LATE-STALE" for _, notes, _ in _batch_notices(got) for n in notes) >= 2
    notices = _batch_notices(receiver.wait_for(done))
    results_by_key: dict[str, list] = {}
    for _, notes, _ in notices:
        for n in notes:
            results_by_key.setdefault(n.idempotency_key, []).append(n)
    assert all(len(notes) <= 500 for _, notes, _ in notices)
    assert results_by_key["KA-0"][0].status == QueryStatus.SUCCEEDED
    assert results_by_key["KA-0"][0].channel_order_id
    assert (results_by_key["KA-NAME"][0].status, results_by_key["KA-NAME"][0].fail_code) == (
        QueryStatus.FAILED, "PAYEE_USER_INFO_ERROR")
    assert (results_by_key["KA-CLOSED"][0].status, results_by_key["KA-CLOSED"][0].fail_code) == (
        QueryStatus.FAILED, "PAYEE_ACCOUNT_STATUS_ERROR")
    # a system error or a reused key with other parameters is never a failure of our order: it stays unknown
    assert [n.status for n in results_by_key["KA-ERR"]] == [QueryStatus.UNKNOWN]
    assert [n.status for n in results_by_key["KA-DUP"]] == [QueryStatus.UNKNOWN]
    assert a.query("KA-ERR").status == QueryStatus.NOT_FOUND  # no order was created
    assert a.query("KA-DUP").amount_fen == 5_00  # the original single transfer is untouched
    twice = results_by_key["KA-TWICE"]
    assert len({n.notify_id for n in twice}) == 1 and len(twice) == 2  # delivered twice, stored once
    stale = results_by_key["KA-LATE-STALE"]
    assert stale[0].status == QueryStatus.SUCCEEDED and is_stale(QueryStatus.SUCCEEDED, stale[-1].status)
    # the single-order query answers for a batch detail
    query = a.query("KA-3")
    assert (query.status, query.amount_fen) == (QueryStatus.SUCCEEDED, 103_00)
    # the batch, read back page by page
    details = dict(a.batch_details(out_batch_no(key for _, key in lines)))
    assert len(details) == len(lines)
    assert details["KA-NAME"].status == QueryStatus.FAILED and details["KA-5"].status == QueryStatus.SUCCEEDED
    assert details["KA-ERR"].status == QueryStatus.UNKNOWN
    # a batch notice is one message: parse_notification refuses it
    headers, body = max((hb for _, notes, hb in notices if len(notes) > 1), key=lambda hb: len(hb[1]))
    with pytest.raises(InvalidSignature, match="批量"):
        a.parse_notification(headers=headers, body=body)
    tampered = body.replace(b"SUCCESS", b"FAIL", 1)
    with pytest.raises(InvalidSignature):
        a.parse_notifications(headers=headers, body=tampered)


def test_the_same_batch_sent_again_is_the_original_and_other_details_are_refused(sandbox, receiver):  # noqa: F811
    a = adapter("ALIPAY", sandbox, timeout=5)
    lines = [(order(200_00 + i * 100, channel="ALIPAY"), f"KR-{i}") for i in range(3)]
    first = a.submit_batch(lines)
    again = a.submit_batch(lines)  # a dispatch that died and sends the same orders: same out_batch_no
    assert [r.outcome for r in first] == [r.outcome for r in again] == [Outcome.ACCEPTED] * 3
    receiver.wait_for(lambda got: len({n.idempotency_key for _, notes, _ in _batch_notices(got) for n in notes}) >= 3)
    assert {a.query(f"KR-{i}").status for i in range(3)} == {QueryStatus.SUCCEEDED}
    # the same out_batch_no with other details (not something our adapter sends): refused, nothing created
    status, answer = a._gateway("alipay.fund.batch.uni.transfer", {
        "out_batch_no": out_batch_no(key for _, key in lines), "product_code": "BATCH_API_TO_ACC",
        "biz_scene": "MESSAGE_BATCH_PAY", "total_count": "1", "total_trans_amount": "1.00",
        "trans_order_list": [{"out_biz_no": "KR-X", "trans_amount": "1.00",
                              "payee_info": {"identity": ALIPAY, "identity_type": "ALIPAY_LOGON_ID", "name": "王小明"}}]})
    assert answer["sub_code"] == "PAYMENT_INFO_INCONSISTENCY"
    assert a.query("KR-X").status == QueryStatus.NOT_FOUND


def test_a_batch_answered_too_late_leaves_every_line_unknown(sandbox, receiver):  # noqa: F811
    a = adapter("ALIPAY", sandbox, timeout=0.6)
    results = a.submit_batch([(order(300_00, channel="ALIPAY"), "KT-1"), (order(3_13, channel="ALIPAY"), "KT-2")])
    assert [r.outcome for r in results] == [Outcome.UNKNOWN, Outcome.UNKNOWN]
    # the orders exist all the same: the query (same key) settles them
    receiver.wait_for(lambda got: {"KT-1", "KT-2"} <= {n.idempotency_key for _, notes, _ in _batch_notices(got)
                                                       for n in notes})
    assert a.query("KT-1").status == QueryStatus.SUCCEEDED
