"""The channel sandbox, started in-process on a free port, driven through the platform's own adapters.

A small receiver stands in for the platform's callback endpoints, so these tests need no database; the
end-to-end path through the real endpoints is in ``test_channel_callbacks.py``.
"""

import datetime as dt
import http.client
import io
import json
import socket
import threading
import time
import urllib.request
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest

from payouts.channels import PayoutRequest, get_adapter, is_stale
from payouts.channels.base import Outcome, QueryStatus
from payouts.channels.sandbox.server import ChannelSandbox, SandboxConfig
from payouts.channels.statements import parse_incoming_statement
from payouts.exceptions import InvalidSignature


class Receiver:
    """Collects notifications; answers like the platform (``success`` for Alipay) unless told to fail."""

    def __init__(self):
        self.received: list[tuple[str, dict, bytes]] = []
        self.fail_first = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append((self.path, dict(self.headers), body))
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= 1
                answer = b"success" if "alipay" in self.path else b'{"code":"SUCCESS"}'
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                items = list(self.received)
            if predicate(items):
                return items
            time.sleep(0.02)
        raise AssertionError(f"timed out; received {[(p, b[:80]) for p, _, b in self.received]}")

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def sandbox(tmp_path, receiver, settings):
    settings.CHANNEL_CALLBACK_BASE_URL = receiver.url
    config = SandboxConfig(callback_base=receiver.url, secret=settings.CHANNEL_SANDBOX_SECRET, settle_seconds=0.1,
                           late_seconds=1.0, slow_seconds=1.5, return_seconds=0.4, duplicate_gap_seconds=0.1,
                           retry_schedule=(0.2, 0.2, 0.3), tick_seconds=0.02, statements_dir=tmp_path / "statements")
    box = ChannelSandbox(db_path=tmp_path / "sandbox.sqlite3", config=config, port=0).start()
    yield box
    box.stop()


def adapter(channel, sandbox, timeout=0.6):
    return get_adapter(channel, base_url=sandbox.url, timeout=timeout)


def order(amount_fen, name="王小明", account=None, channel="BANK"):
    default = {"BANK": "6222020200112233445", "ALIPAY": "13912345678", "WECHAT": "o4GgauInH_RCEdvrrNGrntXDuXXX"}
    return PayoutRequest(amount_fen=amount_fen, payee_name=name, payee_account=account or default[channel],
                         remark="3月配送劳务")


def notifications_for(receiver, channel, key, count=1, timeout=10.0):
    a = get_adapter(channel)
    items = receiver.wait_for(lambda got: sum(1 for _, h, b in got if key.encode() in _maybe_plain(channel, h, b))
                              >= count, timeout=timeout)
    parsed = []
    for path, headers, body in items:
        if f"/callbacks/{channel.lower()}/payouts" not in path:
            continue
        n = a.parse_notification(headers=headers, body=body)
        if n.idempotency_key == key:
            parsed.append(n)
    return parsed


def _maybe_plain(channel, headers, body):
    if channel != "WECHAT":
        return body
    try:
        return get_adapter("WECHAT").parse_notification(headers=headers, body=body).idempotency_key.encode()
    except InvalidSignature:
        return b""


@pytest.mark.parametrize(("channel", "first"), [("BANK", Outcome.ACCEPTED), ("ALIPAY", Outcome.SUCCEEDED),
                                                 ("WECHAT", Outcome.ACCEPTED)])
def test_a_normal_payout_succeeds_is_notified_and_answers_queries(sandbox, receiver, channel, first):
    a = adapter(channel, sandbox)
    result = a.submit(order(1000_00, channel=channel), f"K{channel}1")
    assert result.outcome == first
    assert result.channel_order_id
    [notice] = notifications_for(receiver, channel, f"K{channel}1")
    assert (notice.status, notice.amount_fen) == (QueryStatus.SUCCEEDED, 1000_00)
    query = a.query(f"K{channel}1")
    assert (query.status, query.amount_fen) == (QueryStatus.SUCCEEDED, 1000_00)


@pytest.mark.parametrize(
    ("channel", "request_", "code"),
    [
        ("ALIPAY", order(500_00, name="姓名不符", channel="ALIPAY"), "PAYEE_USER_INFO_ERROR"),
        ("ALIPAY", order(60_000_00, channel="ALIPAY"), "EXCEED_LIMIT_PERSONAL_SM_AMOUNT"),
        ("BANK", order(500_21), "RJ02"),
        ("BANK", order(500_00, account="6222020200112230000"), "RJ01"),
        ("BANK", order(500_23), "RJ05"),
        ("WECHAT", order(300_22, channel="WECHAT"), "ACCOUNT_NOT_EXIST"),
        ("WECHAT", order(300_21, channel="WECHAT"), "NAME_NOT_CORRECT"),
    ],
)
def test_failures_carry_real_looking_codes(sandbox, receiver, channel, request_, code):
    a = adapter(channel, sandbox)
    result = a.submit(request_, "KFAIL")
    if channel == "ALIPAY":
        assert (result.outcome, result.fail_code) == (Outcome.FAILED, code)
    else:
        assert result.outcome == Outcome.ACCEPTED
        [notice] = notifications_for(receiver, channel, "KFAIL")
        assert (notice.status, notice.fail_code) == (QueryStatus.FAILED, code)
    query = a.query("KFAIL")
    assert (query.status, query.fail_code) == (QueryStatus.FAILED, code)


@pytest.mark.parametrize("channel", ["BANK", "ALIPAY", "WECHAT"])
def test_a_timeout_is_unknown_and_the_query_settles_it(sandbox, channel):
    a = adapter(channel, sandbox, timeout=0.5)
    # The sandbox answers success after 1.5 s; the client gave up at 0.5 s, so it cannot know.
    assert a.submit(order(88_13, channel=channel), "KSLOW").outcome == Outcome.UNKNOWN
    time.sleep(0.3)
    assert a.query("KSLOW").status == QueryStatus.SUCCEEDED
    # Resending under the same key returns the original order at once, never a second payment.
    again = a.submit(order(88_13, channel=channel), "KSLOW")
    assert again.outcome in (Outcome.SUCCEEDED, Outcome.ACCEPTED)
    stats = json.loads(urllib.request.urlopen(f"{sandbox.url}/sandbox/stats").read())
    assert sum(stats["orders"].values()) == 1


@pytest.mark.parametrize("channel", ["BANK", "ALIPAY", "WECHAT"])
def test_a_system_error_creates_nothing_and_the_same_key_can_be_resent(sandbox, channel):
    a = adapter(channel, sandbox)
    assert a.submit(order(10_14, channel=channel), "KERR").outcome == Outcome.UNKNOWN
    assert a.query("KERR").status == QueryStatus.NOT_FOUND
    assert a.submit(order(10_14, channel=channel), "KERR").outcome in (Outcome.ACCEPTED, Outcome.SUCCEEDED)


@pytest.mark.parametrize("channel", ["BANK", "ALIPAY", "WECHAT"])
def test_the_same_key_with_other_parameters_is_rejected(sandbox, channel):
    a = adapter(channel, sandbox)
    a.submit(order(100_00, channel=channel), "KSAME")
    result = a.submit(order(100_01, channel=channel), "KSAME")
    assert result.outcome == Outcome.REJECTED
    assert a.query("KSAME").amount_fen == 100_00


def test_late_answer_stays_processing_then_succeeds(sandbox, receiver):
    a = adapter("BANK", sandbox)
    a.submit(order(20_15), "KLATE")
    time.sleep(0.3)
    assert a.query("KLATE").status == QueryStatus.PROCESSING
    [notice] = notifications_for(receiver, "BANK", "KLATE", timeout=4)
    assert notice.status == QueryStatus.SUCCEEDED


def test_some_notifications_come_twice(sandbox, receiver):
    adapter("WECHAT", sandbox).submit(order(30_16, channel="WECHAT"), "KTWICE")
    first, second = notifications_for(receiver, "WECHAT", "KTWICE", count=2)
    assert first.notify_id == second.notify_id
    assert first.status == second.status == QueryStatus.SUCCEEDED


def test_some_notifications_come_out_of_order(sandbox, receiver):
    adapter("BANK", sandbox).submit(order(40_17), "KORDER")
    final, stale = notifications_for(receiver, "BANK", "KORDER", count=2)
    assert final.status == QueryStatus.SUCCEEDED and stale.status == QueryStatus.PROCESSING
    assert final.notify_id != stale.notify_id
    assert is_stale(final.status, stale.status)


def test_a_paid_bank_order_is_returned_later(sandbox, receiver):
    adapter("BANK", sandbox).submit(order(50_18), "KBACK")
    notices = notifications_for(receiver, "BANK", "KBACK", count=2)
    assert [n.status for n in notices] == [QueryStatus.SUCCEEDED, QueryStatus.RETURNED]
    assert adapter("BANK", sandbox).query("KBACK").status == QueryStatus.RETURNED


def test_unacknowledged_notifications_are_retried(sandbox, receiver):
    receiver.fail_first = 2
    adapter("ALIPAY", sandbox).submit(order(60_00, channel="ALIPAY"), "KRETRY")
    receiver.wait_for(lambda got: len(got) >= 3)

    def delivered():  # the sandbox records the delivery after the receiver has answered: wait for it, briefly
        rows = json.loads(urllib.request.urlopen(f"{sandbox.url}/sandbox/notifications").read())["notifications"]
        return rows[0] if rows and rows[0]["delivered_at"] else None

    deadline = time.time() + 10
    while (row := delivered()) is None and time.time() < deadline:
        time.sleep(0.05)
    assert row is not None and row["attempts"] == 3


def test_forged_and_probe_notifications_are_refused(sandbox, receiver):
    adapter("BANK", sandbox).submit(order(70_00), "KSIGN")
    path, headers, body = receiver.wait_for(lambda got: len(got) >= 1)[0]
    bank = get_adapter("BANK")
    with pytest.raises(InvalidSignature):
        bank.parse_notification(headers=headers, body=body.replace(b"70.00", b"7000.00"))
    with pytest.raises(InvalidSignature):
        bank.parse_notification(headers={**headers, "X-Bank-Timestamp": str(int(time.time()) - 301)}, body=body)
    urllib.request.urlopen(urllib.request.Request(f"{sandbox.url}/sandbox/probe", data=b"{}", method="POST"))
    _, probe_headers, probe_body = receiver.wait_for(lambda got: any("wechat" in p for p, _, _ in got))[-1]
    with pytest.raises(InvalidSignature, match="探测"):
        get_adapter("WECHAT").parse_notification(headers=probe_headers, body=probe_body)


# With the wrong key the Alipay answer cannot be verified either, so the adapter can only call it unknown.
@pytest.mark.parametrize(("channel", "outcome"), [("BANK", Outcome.REJECTED), ("ALIPAY", Outcome.UNKNOWN),
                                                   ("WECHAT", Outcome.REJECTED)])
def test_requests_with_a_bad_signature_are_refused(sandbox, channel, outcome):
    bad = get_adapter(channel, base_url=sandbox.url, timeout=1, secret="not-the-secret")
    assert bad.submit(order(1_00, channel=channel), "KBAD").outcome == outcome
    assert adapter(channel, sandbox).query("KBAD").status == QueryStatus.NOT_FOUND


def test_daily_statement_files(sandbox, receiver, tmp_path):
    today = dt.datetime.fromtimestamp(time.time(), dt.timezone(dt.timedelta(hours=8))).date()
    adapter("BANK", sandbox).submit(order(1_00), "KST1")
    adapter("ALIPAY", sandbox).submit(order(2_00, channel="ALIPAY"), "KST2")
    adapter("WECHAT", sandbox).submit(order(3_00, channel="WECHAT"), "KST3")
    receiver.wait_for(lambda got: len(got) >= 3)
    bank = adapter("BANK", sandbox).fetch_statement(date=today).decode("gb18030")
    assert "KST1" in bank and "1.00" in bank and ",S," in bank
    alipay = adapter("ALIPAY", sandbox).fetch_statement(date=today).decode("gb18030")
    assert alipay.startswith("#支付宝账务明细查询") and "KST2" in alipay
    wechat = adapter("WECHAT", sandbox).fetch_statement(date=today).decode()
    assert "`KST3" in wechat and "资金流水总笔数" in wechat
    assert (tmp_path / "statements" / "bank" / f"{today:%Y%m%d}-payouts.csv").exists()
    with zipfile.ZipFile(io.BytesIO((tmp_path / "statements" / "alipay" / f"{today:%Y%m%d}-signcustomer.zip")
                                    .read_bytes())) as archive:
        assert len(archive.namelist()) == 1


def test_a_topup_sends_a_signed_notice_and_appears_in_the_statement(sandbox, receiver):
    request = urllib.request.Request(
        f"{sandbox.url}/sandbox/topups", method="POST",
        data=json.dumps({"virtual_account": "12290866000000017", "amount": "1500.00", "payer_name": "天津快送",
                         "payer_account": "6222020200112233445", "postscript": "充值"}).encode())
    serial = json.loads(urllib.request.urlopen(request).read())["serial"]
    _, headers, body = receiver.wait_for(lambda got: any("incoming" in p for p, _, _ in got))[0]
    data = get_adapter("BANK").parse_incoming_notice(headers=headers, body=body)
    assert (data.bank_serial, data.amount_fen, data.virtual_account) == (serial, 1500_00, "12290866000000017")
    parsed = parse_incoming_statement(adapter("BANK", sandbox).fetch_statement(date=data.value_date, kind="incoming"))
    assert not parsed.errors
    assert [(r.bank_serial, r.amount_fen) for r in parsed.rows] == [(serial, 1500_00)]


def test_bank_batch_payout_answers_per_line_and_notifies_in_batches(sandbox, receiver):
    a = adapter("BANK", sandbox)
    a.submit(order(5_00), "KB-DUP")  # an earlier single order whose key the batch reuses with other parameters
    lines = [(order(100_00 + i * 100), f"KB-{i}") for i in range(30)]
    lines += [(order(7_21), "KB-FAIL"), (order(7_14), "KB-ERR"), (order(6_00), "KB-DUP")]
    results = a.submit_batch(lines)
    assert [r.outcome for r in results[:30]] == [Outcome.ACCEPTED] * 30
    assert [r.outcome for r in results[30:]] == [Outcome.ACCEPTED, Outcome.UNKNOWN, Outcome.REJECTED]
    bank = get_adapter("BANK")
    received = receiver.wait_for(lambda got: sum(
        len(bank.parse_notifications(headers=h, body=b)) for p, h, b in got if "payouts" in p) >= 32)
    notices = [n for p, h, b in received if "payouts" in p for n in bank.parse_notifications(headers=h, body=b)]
    batches = [(h, b) for p, h, b in received if b"FINPAY_BATCH" in b]
    assert batches, "results of a batch come in batch notices"
    biggest_headers, biggest = max(batches, key=lambda hb: len(hb[1]))
    by_key = {n.idempotency_key: n for n in notices}
    assert by_key["KB-0"].status == QueryStatus.SUCCEEDED
    assert (by_key["KB-FAIL"].status, by_key["KB-FAIL"].fail_code) == (QueryStatus.FAILED, "RJ02")
    assert "KB-ERR" not in by_key
    assert len(bank.parse_notifications(headers=biggest_headers, body=biggest)) > 1
    with pytest.raises(InvalidSignature, match="批量"):
        bank.parse_notification(headers=biggest_headers, body=biggest)


def test_a_topup_can_be_reversed_by_the_bank(sandbox, receiver):
    row = sandbox.topup(virtual_account="12290866000000017", amount_fen=99_00, payer_name="某公司",
                        payer_account="6222020200112233445")
    answer = urllib.request.urlopen(urllib.request.Request(f"{sandbox.url}/sandbox/topups/{row['serial']}/reverse",
                                                           data=b"{}", method="POST")).read()
    reversal_serial = json.loads(answer)["serial"]
    items = receiver.wait_for(lambda got: sum("incoming" in p for p, _, _ in got) >= 2)
    bank = get_adapter("BANK")
    notices = [bank.parse_incoming_notice(headers=h, body=b) for p, h, b in items if "incoming" in p]
    reversal = next(n for n in notices if n.bank_serial == reversal_serial)
    assert (reversal.reverses_serial, reversal.amount_fen) == (row["serial"], 99_00)
    parsed = parse_incoming_statement(adapter("BANK", sandbox).fetch_statement(date=reversal.value_date,
                                                                                kind="incoming"))
    assert [(r.bank_serial, r.reverses_serial) for r in parsed.rows] == [(row["serial"], ""),
                                                                          (reversal_serial, row["serial"])]


def test_yesterdays_statement_files_are_written_on_start(sandbox, tmp_path):
    yesterday = dt.datetime.fromtimestamp(time.time(), dt.timezone(dt.timedelta(hours=8))).date() - dt.timedelta(days=1)
    deadline = time.time() + 5
    folder = tmp_path / "statements"
    expected = [folder / "bank" / f"{yesterday:%Y%m%d}-incoming.csv", folder / "bank" / f"{yesterday:%Y%m%d}-payouts.csv",
                folder / "alipay" / f"{yesterday:%Y%m%d}-signcustomer.zip",
                folder / "wechat" / f"{yesterday:%Y%m%d}-fundflow.csv"]
    while time.time() < deadline and not all(path.exists() for path in expected):
        time.sleep(0.05)
    assert all(path.exists() for path in expected)


def test_wechat_rate_limit_rejects_without_creating_an_order(sandbox):
    sandbox.config.wechat_qps = 2
    a = adapter("WECHAT", sandbox)
    results = [a.submit(order(1_00 + i, channel="WECHAT"), f"KQ{i}") for i in range(6)]
    limited = [i for i, r in enumerate(results) if r.outcome == Outcome.REJECTED]
    assert limited and all(results[i].fail_code == "FREQUENCY_LIMITED" for i in limited)
    time.sleep(1.1)
    assert a.query(f"KQ{limited[0]}").status == QueryStatus.NOT_FOUND
    assert a.submit(order(1_00 + limited[0], channel="WECHAT"), f"KQ{limited[0]}").outcome == Outcome.ACCEPTED


def test_a_restarted_sandbox_carries_on_from_its_file(tmp_path, receiver, settings):
    """State lives in memory and is written behind to the file; a new process loads it: the same key still answers
    the original order, and a notification nobody acknowledged is still sent."""
    settings.CHANNEL_CALLBACK_BASE_URL = receiver.url
    receiver.fail_first = 100  # the platform is down: nothing is acknowledged
    config = SandboxConfig(callback_base=receiver.url, secret=settings.CHANNEL_SANDBOX_SECRET, settle_seconds=0.05,
                           retry_schedule=(0.1,) * 3, tick_seconds=0.02)
    first = ChannelSandbox(db_path=tmp_path / "sb.sqlite3", config=config, port=0).start()
    assert adapter("ALIPAY", first).submit(order(300_00, channel="ALIPAY"), "K-RESTART").outcome == Outcome.SUCCEEDED
    receiver.wait_for(lambda got: len(got) >= 1)
    first.stop()  # flushes
    receiver.fail_first = 0
    again = ChannelSandbox(db_path=tmp_path / "sb.sqlite3", config=config, port=0).start()
    try:
        query = adapter("ALIPAY", again).query("K-RESTART")
        assert (query.status, query.amount_fen) == (QueryStatus.SUCCEEDED, 300_00)
        # the same key with other parameters is still refused: the order was not forgotten
        assert adapter("ALIPAY", again).submit(order(301_00, channel="ALIPAY"), "K-RESTART").outcome == \
            Outcome.REJECTED
        notifications_for(receiver, "ALIPAY", "K-RESTART", count=2)
        deadline = time.time() + 10  # the delivery is recorded after the receiver has answered
        while (pending := json.loads(urllib.request.urlopen(f"{again.url}/sandbox/stats").read())
               ["notifications_pending"]) and time.time() < deadline:
            time.sleep(0.05)
        assert pending == 0
    finally:
        again.stop()


def test_channel_calls_keep_their_connection_and_resend_once_when_it_went_stale(sandbox):
    """One TCP connection for many calls; a connection the server closed while idle is replaced without an error
    (same request, same key); a timeout is not resent."""
    from payouts.channels.http import POOL

    a = adapter("BANK", sandbox)
    POOL.close()
    opened = []
    original = http.client.HTTPConnection.connect

    def counting_connect(self):
        opened.append(self.port)
        return original(self)

    with mock.patch.object(http.client.HTTPConnection, "connect", counting_connect):
        for i in range(5):
            assert a.query(f"K-KEEP-{i}").status == QueryStatus.NOT_FOUND
        assert opened == [sandbox.port]
        for connections in POOL._idle.values():  # the server closes them (as after its keep-alive timeout)
            for connection in connections:
                connection.sock.shutdown(socket.SHUT_RDWR)
        assert a.submit(order(200_00), "K-KEEP-STALE").outcome == Outcome.ACCEPTED
        assert len(opened) == 2
    assert adapter("BANK", sandbox).submit(order(200_00), "K-KEEP-STALE").outcome == Outcome.ACCEPTED  # same answer
    assert adapter("BANK", sandbox, timeout=0.3).submit(order(200_13), "K-KEEP-SLOW").outcome == Outcome.UNKNOWN
