"""The channel sandbox: one small threaded HTTP server that plays the bank, Alipay and WeChat Pay.

Run it with ``python manage.py channel_sandbox --port 8765`` (``make run`` starts it). It keeps its own state in
a SQLite file under ``var/``, decides each payout's fate from its test data (``rules``), answers in each channel's
dialect (see the adapters' docstrings for the wire formats), calls the platform back with signed notifications —
some twice, some out of order, retried on the channel's schedule until acknowledged — answers status queries,
serves daily statement files (and keeps a copy under ``var/channel_sandbox/statements/``), and simulates
enterprises' bank transfers to their virtual top-up accounts.

Control endpoints (not part of any real channel):

- ``POST /sandbox/topups`` ``{"virtual_account", "amount": "1500.00", "payer_name", "payer_account", "payer_bank",
  "postscript", "notify": true}`` → ``{"serial"}``: "the enterprise transferred X to virtual account Y".
- ``POST /sandbox/topups/<serial>/reverse``: the bank takes that credit back (冲正, RVSTAG ``*``).
- ``POST /sandbox/orders/<channel>/<key>/return``: return (退票) a paid order now.
- ``POST /sandbox/probe`` ``{"channel": "WECHAT"}``: send a WeChat signature probe (``WECHATPAY/SIGNTEST/``).
- ``GET /sandbox/orders/<channel>/<key>``, ``GET /sandbox/stats``, ``GET /sandbox/healthz``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import logging
import secrets
import threading
import time
import urllib.parse
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from core.exceptions import DomainError
from core.money import format_yuan, parse_yuan
from payouts.channels import signing
from payouts.channels.alipay import APP_ID as ALIPAY_APP_ID
from payouts.channels.alipay import BATCH_DETAIL_QUERY as ALIPAY_BATCH_DETAIL_QUERY
from payouts.channels.alipay import BATCH_NOTIFY_METHOD as ALIPAY_BATCH_NOTIFY_METHOD
from payouts.channels.alipay import BATCH_TRANSFER as ALIPAY_BATCH_TRANSFER
from payouts.channels.alipay import BILL as ALIPAY_BILL
from payouts.channels.alipay import NOTIFY_METHOD as ALIPAY_NOTIFY_METHOD
from payouts.channels.alipay import QUERY as ALIPAY_QUERY
from payouts.channels.alipay import TRANSFER as ALIPAY_TRANSFER
from payouts.channels.alipay import response_key
from payouts.channels.bank import signed_headers, verify_signed
from payouts.channels.http import KeepAlivePool
from payouts.channels.sandbox import rules
from payouts.channels.sandbox.store import Store
from payouts.channels.statements import render_incoming_statement
from payouts.channels.wechat import SERIAL as WECHAT_SERIAL
from payouts.channels.wechat import TRANSFER_PATH as WECHAT_TRANSFER_PATH
from payouts.channels.wechat import encrypt_resource, parse_authorization

logger = logging.getLogger("payouts.sandbox")
TZ = ZoneInfo("Asia/Shanghai")
PROCESSING, SUCCESS, FAIL, RETURNED = "PROCESSING", "SUCCESS", "FAIL", "RETURNED"
_serial = itertools.count(1)


def _local(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, TZ)


@dataclass
class SandboxConfig:
    callback_base: str = "http://127.0.0.1:8000"
    secret: str = "linggong-sandbox-channel-secret"
    settle_seconds: float = 0.5
    late_seconds: float = 20.0
    slow_seconds: float = 8.0
    return_seconds: float = 30.0
    duplicate_gap_seconds: float = 0.3
    retry_schedule: tuple = (1, 2, 5, 15, 60, 300, 900, 3600)
    notify_workers: int = 8
    wechat_qps: int = 100  # WeChat Pay's documented limit per merchant; 0 turns the limit off
    notify_timeout: float = 10.0
    tick_seconds: float = 0.05
    statements_dir: Path | None = None
    custody_account: str = "122908660000000000"
    custody_name: str = "灵工共享经济服务（天津）有限公司"
    extra: dict = field(default_factory=dict)


class ChannelSandbox:
    """The sandbox's behaviour, independent of HTTP (the handler below is a thin adapter onto it)."""

    def __init__(self, *, db_path: str | Path, config: SandboxConfig, host: str = "127.0.0.1", port: int = 8765):
        self.config = config
        self.store = Store(db_path)
        self.host, self.port = host, port
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(max_workers=config.notify_workers, thread_name_prefix="sandbox-notify")
        self._http = KeepAlivePool()  # the channel's own connections to the platform, kept alive
        self.httpd: ThreadingHTTPServer | None = None
        self._statements_written_for: dt.date | None = None
        self._rate_lock = threading.Lock()
        self._rate_window: tuple[int, int] = (0, 0)  # (second, requests in it)

    # --- lifecycle ---------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ChannelSandbox:
        handler = type("BoundHandler", (SandboxHandler,), {"sandbox": self})
        self.httpd = _Server((self.host, self.port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        for target, name in ((self.httpd.serve_forever, "sandbox-http"), (self._run_scheduler, "sandbox-scheduler")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        logger.info("channel sandbox listening on %s, calling back %s", self.url, self.config.callback_base)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.store.close()

    def _run_scheduler(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the sandbox keeps running; the error is logged
                logger.exception("sandbox tick failed")
            self._stop.wait(self.config.tick_seconds)

    def wechat_rate_limited(self) -> bool:
        """True when this request is over WeChat Pay's per-second limit (answered 429 FREQUENCY_LIMITED)."""
        if not self.config.wechat_qps:
            return False
        with self._rate_lock:
            second = int(time.time())
            current, count = self._rate_window
            count = count + 1 if current == second else 1
            self._rate_window = (second, count)
            return count > self.config.wechat_qps

    # --- orders ------------------------------------------------------------------------------------------
    def submit(self, *, channel: str, key: str, amount_fen: int, payee_account: str, payee_name: str,
               notify_url: str, batch: bool = False, batch_no: str = "") -> tuple[dict | None, str]:
        """(order, what): what is CREATED, EXISTING, SLOW (answer late), INCONSISTENT or SYSTEM_ERROR.

        An Alipay order of a batch (``batch_no``: 批量转账) is paid asynchronously like the bank's, and its result
        is notified in the batch's notices."""
        request_hash = hashlib.sha256(f"{amount_fen}|{payee_account}|{payee_name}".encode()).hexdigest()
        with self.store.lock:
            existing = self.store.order(channel, key)
            if existing:
                return (None, "INCONSISTENT") if existing["request_hash"] != request_hash else (existing, "EXISTING")
            scenario = rules.scenario(channel=channel, amount_fen=amount_fen, payee_account=payee_account,
                                      payee_name=payee_name)
            if channel == "WECHAT" and scenario == rules.RETURNED_LATER:
                scenario = rules.OK  # transfers to WeChat balance are not returned
            if scenario == rules.ERROR_FIRST and self.store.attempt(channel, key) == 1:
                return None, "SYSTEM_ERROR"
            now = time.time()
            state, fail_code, fail_msg, finished_at = PROCESSING, "", "", None
            settle_at = now + (self.config.late_seconds if scenario == rules.LATE else self.config.settle_seconds)
            if channel == "ALIPAY" and scenario != rules.LATE and not batch_no:
                # Alipay answers transfers to an Alipay account synchronously (a batch's details: by notice).
                finished_at = now
                if scenario in rules.FAILURES:
                    state, (fail_code, fail_msg) = FAIL, rules.FAIL_CODES[channel][scenario]
                else:
                    state = SUCCESS
            order = self.store.order_create(
                channel=channel, key=key, request_hash=request_hash, amount_fen=amount_fen,
                payee_account=payee_account, payee_name=payee_name, notify_url=notify_url, scenario=scenario,
                state=state, fail_code=fail_code, fail_msg=fail_msg,
                channel_order_id=f"{channel[:2]}{_local(now):%Y%m%d}{next(_serial):010d}{secrets.token_hex(2)}",
                created_at=now, settle_at=settle_at, finished_at=finished_at,
                return_at=now + self.config.return_seconds if scenario == rules.RETURNED_LATER and state == SUCCESS
                else None, batch=int(batch or bool(batch_no)), batch_no=batch_no,
            )
            if state == SUCCESS:
                self._enqueue_result(order)
        return order, ("SLOW" if scenario == rules.TIMEOUT else "CREATED")

    def alipay_batch_submit(self, *, batch_no: str, lines: list[dict], notify_url: str) -> tuple[dict | None, str]:
        """批量转账 (``alipay.fund.batch.uni.transfer``): (batch, what) — what is CREATED, EXISTING (the same
        out_batch_no with the same details: the original batch), INCONSISTENT (the same out_batch_no, other details)
        or SLOW (a detail's scenario makes the answer late). Each detail is an order paid asynchronously; a detail
        whose out_biz_no exists with other parameters, or that meets a system error, fails in the batch's notice
        (PAYMENT_INFO_INCONSISTENCY / SYSTEM_ERROR with need_retry=T) without creating an order."""
        request_hash = hashlib.sha256(json.dumps(
            [[line["key"], line["amount_fen"], line["payee_account"], line["payee_name"]] for line in lines],
            ensure_ascii=False).encode()).hexdigest()
        slow = False
        with self.store.lock:
            existing = self.store.batch("ALIPAY", batch_no)
            if existing:
                return (None, "INCONSISTENT") if existing["request_hash"] != request_hash else (existing, "EXISTING")
            now = time.time()
            rows = []
            for line in lines:
                detail_id = "D" + hashlib.sha1(f"{batch_no}|{line['key']}".encode()).hexdigest()[:24]
                order, what = self.submit(channel="ALIPAY", key=line["key"], amount_fen=line["amount_fen"],
                                          payee_account=line["payee_account"], payee_name=line["payee_name"],
                                          notify_url=notify_url, batch_no=batch_no)
                slow = slow or what == "SLOW"
                error = {"SYSTEM_ERROR": ("SYSTEM_ERROR", "系统繁忙，请稍后使用原单号重试"),
                         "INCONSISTENT": ("PAYMENT_INFO_INCONSISTENCY", "两次请求商户单号一样，但是参数不一致")}.get(what)
                rows.append([line["key"], line["amount_fen"], detail_id, *(error or ("", ""))])
                if error:  # no order: the failed detail is reported in the batch's notice all the same
                    self.store.notify(channel="ALIPAY", kind="payout", notify_id=f"{detail_id}:FAIL", url=notify_url,
                                      payload=self._failed_detail(batch_no, line, detail_id, *error), due_at=now)
                elif what == "EXISTING" and order["state"] != PROCESSING:
                    # paid (or failed) under an earlier request: this batch's notice repeats the known result
                    self._enqueue_result({**order, "batch_no": batch_no, "notify_url": notify_url})
            batch = {"batch_no": batch_no, "created_at": now, "lines": rows,
                     "batch_trans_id": f"BT{_local(now):%Y%m%d}{next(_serial):010d}{secrets.token_hex(2)}"}
            self.store.batch_create(channel="ALIPAY", request_hash=request_hash, **batch)
        return self.store.batch("ALIPAY", batch_no), ("SLOW" if slow else "CREATED")

    @staticmethod
    def _failed_detail(batch_no: str, line: dict, detail_id: str, code: str, message: str) -> dict:
        return {"channel": "ALIPAY", "key": line["key"], "amount_fen": line["amount_fen"], "state": FAIL,
                "fail_code": code, "fail_msg": message, "channel_order_id": "", "created_at": time.time(),
                "finished_at": time.time(), "batch_no": batch_no, "detail_id": detail_id, "need_retry": "T",
                "scenario": rules.OK, "payee_account": line["payee_account"], "payee_name": line["payee_name"]}

    def alipay_batch_status(self, batch: dict) -> str:
        """INIT → DEALING → SUCCESS / PART_SUCCESS / FAIL, from its details."""
        states = []
        for key, _amount, _detail_id, error_code, _msg in batch["lines"]:
            order = None if error_code else self.store.order("ALIPAY", key)
            states.append(FAIL if order is None else (SUCCESS if order["state"] == RETURNED else order["state"]))
        if PROCESSING in states:
            return "DEALING" if time.time() - batch["created_at"] > self.config.settle_seconds / 2 else "INIT"
        if all(state == SUCCESS for state in states):
            return "SUCCESS"
        return "FAIL" if all(state == FAIL for state in states) else "PART_SUCCESS"

    def alipay_batch_details(self, batch: dict) -> list[dict]:
        details = []
        for key, amount_fen, detail_id, error_code, error_msg in batch["lines"]:
            order = None if error_code else self.store.order("ALIPAY", key)
            if order is None:
                details.append(self._alipay_detail({"key": key, "amount_fen": amount_fen, "state": FAIL,
                                                    "fail_code": error_code, "fail_msg": error_msg,
                                                    "channel_order_id": "", "created_at": batch["created_at"],
                                                    "finished_at": batch["created_at"], "detail_id": detail_id,
                                                    "need_retry": "T"}))
            else:
                details.append(self._alipay_detail({**order, "detail_id": detail_id}))
        return details

    def order_return(self, channel: str, key: str) -> dict | None:
        with self.store.lock:
            order = self.store.order(channel, key)
            if not order or order["state"] != SUCCESS:
                return None
            code, message = rules.RETURN_CODES[channel]
            self.store.order_update(channel, key, state=RETURNED, returned_at=time.time(), fail_code=code,
                                    fail_msg=message)
            order = self.store.order(channel, key)
            self._enqueue_result(order)
            return order

    def tick(self) -> None:
        now = time.time()
        today = _local(now).date()
        if self.config.statements_dir and self._statements_written_for != today:
            # Every day (and at start), yesterday's statement files of all channels land in the folder.
            self._statements_written_for = today
            self.write_daily_statements(today - dt.timedelta(days=1))
        with self.store.transaction():
            for order in self.store.orders_to_settle(now=now, limit=5000):
                fields = {"state": SUCCESS, "finished_at": now}
                if order["scenario"] in rules.FAILURES:
                    code, message = rules.FAIL_CODES[order["channel"]][order["scenario"]]
                    fields.update(state=FAIL, fail_code=code, fail_msg=message)
                elif order["scenario"] == rules.RETURNED_LATER:
                    fields["return_at"] = now + self.config.return_seconds
                self.store.order_update(order["channel"], order["key"], **fields)
                self._enqueue_result({**order, **fields})
            for order in self.store.orders_to_return(now=now, limit=1000):
                self.order_return(order["channel"], order["key"])
        rows = self.store.due_notifications(now=now, limit=5000)
        batched: dict[str, list[dict]] = {}
        alipay_batches: dict[tuple[str, str], list[dict]] = {}
        singles = []
        for row in rows:
            if row["kind"] == "payout" and row["channel"] == "BANK" and row["payload"].get("batch"):
                batched.setdefault(row["url"], []).append(row)
            elif (row["kind"] == "payout" and row["channel"] == "ALIPAY" and row["payload"].get("batch_no")
                  and row["payload"]["state"] != RETURNED):  # a 退票 is the transfer order's own notification
                alipay_batches.setdefault((row["url"], row["payload"]["batch_no"]), []).append(row)
            else:
                singles.append(row)
        # one task per few notifications (each its own request, in order, on the thread's kept-alive connection):
        # a pool task per notification costs the scheduler more than the delivery
        step = max(1, min(50, len(singles) // self.config.notify_workers + 1))
        for start in range(0, len(singles), step):
            self._pool.submit(self._logged, self._deliver_each, singles[start:start + step])
        for group in batched.values():
            for start in range(0, len(group), 500):
                self._pool.submit(self._logged, self._deliver_batch, group[start:start + 500])
        for group in alipay_batches.values():
            for start in range(0, len(group), 500):
                self._pool.submit(self._logged, self._deliver_each, [self._alipay_batch_notice(group[start:start + 500])])
        self.store.flush()

    @staticmethod
    def _logged(function, *args) -> None:
        try:
            function(*args)
        except Exception:  # noqa: BLE001 - a pool thread must not die silently; the lease makes it retry
            logger.exception("sandbox notification delivery failed")

    # --- notifications -----------------------------------------------------------------------------------
    def _enqueue_result(self, order: dict) -> None:
        if not order["notify_url"]:
            return
        if order.get("batch_no") and "detail_id" not in order:
            order = {**order, "detail_id": "D" + hashlib.sha1(f"{order['batch_no']}|{order['key']}".encode()
                                                               ).hexdigest()[:24]}
        now = time.time()
        notify_id = hashlib.sha1(f"{order['channel']}|{order['key']}|{order['state']}".encode()).hexdigest()[:32]
        self.store.notify(channel=order["channel"], kind="payout", notify_id=notify_id, url=order["notify_url"],
                          payload=order, due_at=now)
        if order["scenario"] == rules.DUPLICATE_NOTIFY:
            self.store.notify(channel=order["channel"], kind="payout", notify_id=notify_id, url=order["notify_url"],
                              payload=order, due_at=now + self.config.duplicate_gap_seconds)
        if order["scenario"] == rules.OUT_OF_ORDER and order["state"] != PROCESSING:
            stale = {**order, "state": PROCESSING, "fail_code": "", "fail_msg": "", "finished_at": None}
            stale_id = hashlib.sha1(f"{order['channel']}|{order['key']}|{PROCESSING}".encode()).hexdigest()[:32]
            self.store.notify(channel=order["channel"], kind="payout", notify_id=stale_id, url=order["notify_url"],
                              payload=stale, due_at=now + self.config.duplicate_gap_seconds)

    def _deliver_each(self, rows: list[dict]) -> None:
        for row in rows:
            self._logged(self._deliver, row)

    @staticmethod
    def _alipay_batch_notice(rows: list[dict]) -> dict:
        """One ``alipay.fund.batch.order.changed`` notice for up to 500 detail results of one batch (a pseudo row:
        delivered like a notification, acknowledged or retried for each of its rows)."""
        notify_id = hashlib.sha1("|".join(r["notify_id"] for r in rows).encode()).hexdigest()
        batch_no = rows[0]["payload"]["batch_no"]
        return {"id": None, "rows": rows, "channel": "ALIPAY", "kind": "alipay_batch", "notify_id": notify_id,
                "url": rows[0]["url"], "batch_no": batch_no, "payload": {"batch_no": batch_no}, "attempts": 0}

    def _deliver(self, row: dict) -> None:
        payload = row if row["kind"] == "alipay_batch" else row["payload"]
        try:
            body, headers, expect = self._render_notification(row["channel"], row["kind"], row["notify_id"], payload)
            status, _, answer = self._http.request("POST", row["url"], body=body, headers=headers,
                                                   timeout=self.config.notify_timeout)
        except Exception as error:  # noqa: BLE001 - any failure to deliver is retried on the schedule
            logger.info("notification %s to %s failed: %s", row["id"], row["url"], error)
            status, answer = 0, b""
        acknowledged = 200 <= status < 300 and (expect is None or answer.strip() == expect)
        self._delivered(row, status=status, acknowledged=acknowledged, now=time.time())

    def _delivered(self, row: dict, *, status: int, acknowledged: bool, now: float) -> None:
        if row["kind"] == "alipay_batch":
            with self.store.transaction():
                for each in row["rows"]:
                    self._delivered(each, status=status, acknowledged=acknowledged, now=now)
            return
        if acknowledged:
            self.store.notification_delivered(row["id"], at=now, status=status)
            return
        attempts = row["attempts"] + 1
        schedule = self.config.retry_schedule
        self.store.notification_failed(row["id"], attempts=attempts, status=status,
                                       retry_at=None if attempts > len(schedule) else now + schedule[attempts - 1])

    def _deliver_batch(self, rows: list[dict]) -> None:
        """The bank's batch notice (FINPAY_BATCH): the results of many 批量代发 lines in one signed message."""
        items = [{"notifyId": row["notify_id"], "msgTyp": "FINPAY", **self._bank_fields(row["payload"])}
                 for row in rows]
        body = json.dumps({"notifyId": hashlib.sha1("|".join(r["notify_id"] for r in rows).encode()).hexdigest(),
                           "msgTyp": "FINPAY_BATCH", "items": items}, ensure_ascii=False).encode()
        try:
            status, _, _ = self._http.request("POST", rows[0]["url"], body=body, timeout=self.config.notify_timeout,
                                              headers=signed_headers("BANK", body, secret=self.config.secret))
        except Exception as error:  # noqa: BLE001 - retried on the schedule
            logger.info("batch notification to %s failed: %s", rows[0]["url"], error)
            status = 0
        now = time.time()
        with self.store.transaction():
            for row in rows:
                self._delivered(row, status=status, acknowledged=200 <= status < 300, now=now)

    def _render_notification(self, channel: str, kind: str, notify_id: str, order: dict):
        """(body, headers, expected ack body or None) — signed now, so every retry carries a fresh timestamp."""
        secret = self.config.secret
        if kind == "incoming":
            body = json.dumps({**order, "notifyId": notify_id}, ensure_ascii=False).encode()
            return body, signed_headers("BANK", body, secret=secret), None
        if kind == "probe":
            body = json.dumps({"id": notify_id, "event_type": "MCHTRANSFER.BILL.FINISHED"}).encode()
            return body, {"Wechatpay-Timestamp": str(int(time.time())), "Wechatpay-Nonce": secrets.token_hex(8),
                          "Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + secrets.token_hex(16),
                          "Wechatpay-Serial": WECHAT_SERIAL, "Content-Type": "application/json"}, None
        if channel == "BANK":
            body = json.dumps({"notifyId": notify_id, "msgTyp": "FINPAY", **self._bank_fields(order)},
                              ensure_ascii=False).encode()
            return body, signed_headers("BANK", body, secret=secret), None
        if kind == "alipay_batch":
            batch = self.store.batch("ALIPAY", order["batch_no"])
            biz = {"out_batch_no": order["batch_no"], "batch_trans_id": batch["batch_trans_id"] if batch else "",
                   "batch_status": self.alipay_batch_status(batch) if batch else "DEALING",
                   "origin_interface": "alipay.fund.batch.uni.transfer", "product_code": "BATCH_API_TO_ACC",
                   "biz_scene": "MESSAGE_BATCH_PAY", "action_type": "DETAIL_CHANGED",
                   "acc_detail_list": [self._alipay_detail(row["payload"]) for row in order["rows"]]}
            params = {"notify_id": notify_id, "msg_method": ALIPAY_BATCH_NOTIFY_METHOD,
                      "utc_timestamp": str(int(time.time() * 1000)), "app_id": ALIPAY_APP_ID, "version": "1.1",
                      "charset": "utf-8", "sign_type": "HMAC-SHA256",
                      "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
            params["sign"] = signing.sign("ALIPAY", signing.form_message(params), secret=secret)
            return (urllib.parse.urlencode(params).encode(),
                    {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, b"success")
        if channel == "ALIPAY":
            biz = {"out_biz_no": order["key"], "order_id": order["channel_order_id"],
                   "pay_fund_order_id": order["channel_order_id"], "origin_interface": ALIPAY_TRANSFER,
                   "product_code": "TRANS_ACCOUNT_NO_PWD", "biz_scene": "DIRECT_TRANSFER", "action_type": "FINISH",
                   "status": self._alipay_status(order["state"]), "trans_amount": format_yuan(order["amount_fen"]),
                   "pay_date": _local(order["finished_at"] or time.time()).strftime("%Y-%m-%d %H:%M:%S")}
            if order["fail_code"]:
                biz.update(error_code=order["fail_code"], fail_reason=order["fail_msg"])
            params = {"notify_id": notify_id, "msg_method": ALIPAY_NOTIFY_METHOD,
                      "utc_timestamp": str(int(time.time() * 1000)), "app_id": ALIPAY_APP_ID, "version": "1.1",
                      "charset": "utf-8", "sign_type": "HMAC-SHA256",
                      "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
            params["sign"] = signing.sign("ALIPAY", signing.form_message(params), secret=secret)
            return (urllib.parse.urlencode(params).encode(),
                    {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, b"success")
        resource = {**self._wechat_fields(order), "mch_id": "1900000109"}
        body = json.dumps({"id": notify_id, "create_time": _local(time.time()).isoformat(timespec="seconds"),
                           "resource_type": "encrypt-resource", "event_type": "MCHTRANSFER.BILL.FINISHED",
                           "summary": "商家转账单据终态通知", "resource": encrypt_resource(resource, secret=secret)},
                          ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": WECHAT_SERIAL,
                   "Wechatpay-Signature": signing.sign("WECHAT", signing.header_message(timestamp, nonce, body),
                                                       secret=secret),
                   "Content-Type": "application/json"}
        return body, headers, None

    # --- dialects ----------------------------------------------------------------------------------------
    @staticmethod
    def _bank_fields(order: dict) -> dict:
        state = order["state"]
        return {"yurRef": order["key"], "reqSts": "BNK" if state == PROCESSING else "FIN",
                "rtnFlg": {SUCCESS: "S", FAIL: "F", RETURNED: "B"}.get(state, ""), "errCod": order["fail_code"],
                "errTxt": order["fail_msg"], "trsAmt": format_yuan(order["amount_fen"]),
                "sqrNbr": order["channel_order_id"],
                "finTim": _local(order["finished_at"]).strftime("%Y%m%d%H%M%S") if order["finished_at"] else ""}

    @staticmethod
    def _alipay_status(state: str) -> str:
        return {PROCESSING: "DEALING", SUCCESS: "SUCCESS", FAIL: "FAIL", RETURNED: "REFUND"}[state]

    @staticmethod
    def _alipay_detail(order: dict) -> dict:
        """A batch detail (AccDetailModel): status INIT/DEALED while paying, then SUCCESS or FAIL."""
        detail = {"detail_id": order.get("detail_id", ""), "out_biz_no": order["key"],
                  "alipay_order_no": order["channel_order_id"], "trans_amount": format_yuan(order["amount_fen"]),
                  "status": {PROCESSING: "DEALED", SUCCESS: "SUCCESS", FAIL: "FAIL", RETURNED: "SUCCESS"}[order["state"]],
                  "gmt_create": _local(order["created_at"]).strftime("%Y-%m-%d %H:%M:%S")}
        if order.get("finished_at") and order["state"] != PROCESSING:
            detail["gmt_finish"] = _local(order["finished_at"]).strftime("%Y-%m-%d %H:%M:%S")
        if order["state"] == FAIL:
            detail.update(error_code=order["fail_code"], error_msg=order["fail_msg"],
                          need_retry=order.get("need_retry", "F"))
        return detail

    @staticmethod
    def _wechat_fields(order: dict) -> dict:
        fields = {"out_bill_no": order["key"], "transfer_bill_no": order["channel_order_id"],
                  "state": {PROCESSING: "TRANSFERING", SUCCESS: "SUCCESS", FAIL: "FAIL", RETURNED: "SUCCESS"}[
                      order["state"]],
                  "transfer_amount": order["amount_fen"], "openid": order["payee_account"],
                  "create_time": _local(order["created_at"]).isoformat(timespec="seconds"),
                  "update_time": _local(order["finished_at"] or order["created_at"]).isoformat(timespec="seconds")}
        if order["fail_code"] and order["state"] == FAIL:
            fields["fail_reason"] = order["fail_code"]
        return fields

    # --- top-ups (来账) ------------------------------------------------------------------------------------
    def topup(self, *, virtual_account: str, amount_fen: int, payer_name: str, payer_account: str,
              payer_bank: str = "", postscript: str = "", notify: bool = True, at: float | None = None) -> dict:
        at = time.time() if at is None else at
        local = _local(at)
        serial = f"B{local:%Y%m%d}{next(_serial):08d}{secrets.token_hex(2).upper()}"
        row = {"serial": serial, "day": local.date().isoformat(), "at": at, "amount_fen": amount_fen,
               "virtual_account": virtual_account, "payer_account": payer_account, "payer_name": payer_name,
               "payer_bank": payer_bank, "postscript": postscript}
        self.store.topup_add(row)
        if notify:
            notice = {"msgTyp": "NCCRTTRS", "seqNbr": serial, "trsAmt": format_yuan(amount_fen), "amtCdr": "C",
                      "dmaNbr": virtual_account, "rpyAcc": payer_account, "rpyNam": payer_name, "rpyBnk": payer_bank,
                      "narTxt": postscript[:16], "trsDat": f"{local:%Y%m%d}", "trsTim": f"{local:%H%M%S}"}
            self.store.notify(channel="BANK", kind="incoming", notify_id=f"N{serial}",
                              url=f"{self.config.callback_base.rstrip('/')}/callbacks/bank/incoming", payload=notice,
                              due_at=time.time())
        self._write_copy("BANK", f"{local:%Y%m%d}-incoming.csv", self.statement_bank_incoming(local.date()))
        return row

    def topup_reverse(self, serial: str, *, notify: bool = True) -> dict | None:
        """冲正: the bank takes back an earlier credit — a debit line with RVSTAG ``*`` and a notice."""
        original = self.store.topup(serial)
        if original is None:
            return None
        at = time.time()
        local = _local(at)
        row = {**original, "serial": f"R{local:%Y%m%d}{next(_serial):08d}{secrets.token_hex(2).upper()}",
               "day": local.date().isoformat(), "at": at, "reverses": serial}
        self.store.topup_add(row)
        if notify:
            notice = {"msgTyp": "NCCRTTRS", "seqNbr": row["serial"], "trsAmt": format_yuan(row["amount_fen"]),
                      "amtCdr": "D", "rvsTag": "*", "orgSeq": serial, "dmaNbr": row["virtual_account"],
                      "rpyAcc": row["payer_account"], "rpyNam": row["payer_name"], "rpyBnk": row["payer_bank"],
                      "narTxt": "冲正", "trsDat": f"{local:%Y%m%d}", "trsTim": f"{local:%H%M%S}"}
            self.store.notify(channel="BANK", kind="incoming", notify_id=f"N{row['serial']}",
                              url=f"{self.config.callback_base.rstrip('/')}/callbacks/bank/incoming", payload=notice,
                              due_at=time.time())
        self._write_copy("BANK", f"{local:%Y%m%d}-incoming.csv", self.statement_bank_incoming(local.date()))
        return row

    # --- statement files ---------------------------------------------------------------------------------
    def _write_copy(self, channel: str, name: str, content: bytes) -> None:
        if self.config.statements_dir:
            folder = Path(self.config.statements_dir) / channel.lower()
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)

    def _finished_on(self, channel: str, day: dt.date) -> list[dict]:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=TZ).timestamp()
        end = start + 86400
        return self.store.orders_finished_between(channel, start, end)

    def write_daily_statements(self, day: dt.date) -> None:
        self._write_copy("BANK", f"{day:%Y%m%d}-incoming.csv", self.statement_bank_incoming(day))
        self.statement_bank_payouts(day)
        self.statement_alipay(day)
        self.statement_wechat(day)

    def statement_bank_incoming(self, day: dt.date) -> bytes:
        rows = self.store.topups_on(day.isoformat())
        content = render_incoming_statement(
            rows=[{"serial": r["serial"], "time": _local(r["at"]).strftime("%H:%M:%S"),
                   "flag": "借" if r["reverses"] else "贷", "amount_fen": r["amount_fen"],
                   "payer_account": r["payer_account"], "payer_name": r["payer_name"], "payer_bank": r["payer_bank"],
                   "virtual_account": r["virtual_account"], "summary": "冲正" if r["reverses"] else "汇款",
                   "postscript": r["postscript"], "reversal": "*" if r["reverses"] else "",
                   "reverses": r["reverses"]} for r in rows],
            account_number=self.config.custody_account, account_name=self.config.custody_name, date=day)
        return content

    def statement_bank_payouts(self, day: dt.date) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["代发明细对账单"])
        writer.writerow(["账号", self.config.custody_account, "日期", day.isoformat()])
        writer.writerow(["交易日期", "交易时间", "业务参考号", "银行流水号", "收款账号", "收款户名", "交易金额", "状态",
                         "失败原因"])
        for order in self._finished_on("BANK", day):
            for state, ts in ((order["state"] if order["state"] != RETURNED else SUCCESS, order["finished_at"]),
                              (RETURNED, order["returned_at"])):
                if ts is None or _local(ts).date() != day:
                    continue
                writer.writerow([day.isoformat(), _local(ts).strftime("%H:%M:%S"), order["key"],
                                 order["channel_order_id"], _mask(order["payee_account"]), order["payee_name"],
                                 format_yuan(order["amount_fen"]), {SUCCESS: "S", FAIL: "F", RETURNED: "B"}[state],
                                 order["fail_msg"] if state != SUCCESS else ""])
        content = out.getvalue().encode("gb18030")
        self._write_copy("BANK", f"{day:%Y%m%d}-payouts.csv", content)
        return content

    def statement_alipay(self, day: dt.date) -> bytes:
        """signcustomer 账务明细: GBK CSV with 4 preamble lines, zipped."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["#支付宝账务明细查询"])
        writer.writerow([f"#账号：[{ALIPAY_APP_ID}]"])
        writer.writerow([f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day:%Y年%m月%d日} 23:59:59]"])
        writer.writerow(["#-----------------------------------------账务明细列表----------------------------------------"])
        writer.writerow(["账务流水号", "业务流水号", "商户订单号", "商品名称", "发生时间", "对方账号", "收入金额（+元）",
                         "支出金额（-元）", "账户余额（元）", "交易渠道", "业务类型", "备注"])
        count = 0
        for order in self._finished_on("ALIPAY", day):
            if order["state"] == FAIL:
                continue
            for label, ts, income, spend in (("转账", order["finished_at"], "", format_yuan(order["amount_fen"])),
                                             ("退票", order["returned_at"], format_yuan(order["amount_fen"]), "")):
                if ts is None or _local(ts).date() != day:
                    continue
                count += 1
                writer.writerow([f"2026{count:016d}", order["channel_order_id"], order["key"], "劳务报酬",
                                 _local(ts).strftime("%Y-%m-%d %H:%M:%S"), _mask(order["payee_account"]), income,
                                 spend, "", "支付宝", label, ""])
        writer.writerow(["#-----------------------------------------账务明细列表结束------------------------------------"])
        writer.writerow([f"#导出时间：[{_local(time.time()):%Y年%m月%d日 %H:%M:%S}]"])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{ALIPAY_APP_ID}_{day:%Y%m%d}_账务明细.csv", out.getvalue().encode("gb18030"))
        self._write_copy("ALIPAY", f"{day:%Y%m%d}-signcustomer.zip", buffer.getvalue())
        return buffer.getvalue()

    def statement_wechat(self, day: dt.date) -> bytes:
        """Fund-flow bill: every field prefixed with a backtick, then a summary header and row."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["记账时间", "微信支付业务单号", "资金流水单号", "业务名称", "业务类型", "收支类型", "收支金额（元）",
                         "账户结余（元）", "资金变更提交申请人", "备注", "业务凭证号"])
        spent = 0
        rows = [o for o in self._finished_on("WECHAT", day) if o["state"] == SUCCESS]
        for order in rows:
            spent += order["amount_fen"]
            writer.writerow([f"`{_local(order['finished_at']):%Y-%m-%d %H:%M:%S}", f"`{order['channel_order_id']}",
                             f"`{order['channel_order_id']}F", "`商家转账", "`企业付款", "`支出",
                             f"`{format_yuan(order['amount_fen'])}", "`", "`api", "`劳务报酬", f"`{order['key']}"])
        writer.writerow(["资金流水总笔数", "收入笔数", "收入金额", "支出笔数", "支出金额"])
        writer.writerow([f"`{len(rows)}", "`0", "`0.00", f"`{len(rows)}", f"`{format_yuan(spent)}"])
        content = out.getvalue().encode("utf-8")
        self._write_copy("WECHAT", f"{day:%Y%m%d}-fundflow.csv", content)
        return content


def _mask(account: str) -> str:
    return account if len(account) <= 8 else f"{account[:4]}****{account[-4:]}"


class _Server(ThreadingHTTPServer):
    # A real gateway queues thousands of connections; the stdlib's default backlog of 5 resets them under load.
    request_queue_size = 1024
    daemon_threads = True


class SandboxHandler(BaseHTTPRequestHandler):
    sandbox: ChannelSandbox
    server_version = "LinggongChannelSandbox/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm on a kept-alive connection the body waits for
    # the client's delayed ACK (~40 ms a response).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        logger.debug("%s %s", self.address_string(), format % args)

    # --- plumbing ----------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8",
              headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict, headers: dict | None = None) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), headers=headers)

    def _route(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        path, query = parsed.path, dict(urllib.parse.parse_qsl(parsed.query))
        body = self._body() if method == "POST" else b""
        try:
            for prefix, handler in ROUTES[method]:
                if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
                    return handler(self, path, query, body)
            self._json(404, {"code": "NOT_FOUND", "message": f"no route {method} {path}"})
        except DomainError as error:
            self._json(401, {"code": "SIGN_ERROR", "message": error.message})
        except (ValueError, KeyError) as error:
            self._json(400, {"code": "PARAM_ERROR", "message": str(error)})

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    def _slow(self, what: str) -> None:
        if what == "SLOW":
            time.sleep(self.sandbox.config.slow_seconds)

    # --- bank --------------------------------------------------------------------------------------------
    def bank_submit(self, path, query, body):
        verify_signed("BANK", dict(self.headers), body, secret=self.sandbox.config.secret)
        data = json.loads(body)
        order, what = self.sandbox.submit(channel="BANK", key=data["yurRef"], amount_fen=parse_yuan(data["trsAmt"]),
                                          payee_account=data["crtAcc"], payee_name=data["crtNam"],
                                          notify_url=data.get("notifyUrl", ""))
        if what == "SYSTEM_ERROR":
            return self._json(503, {"code": "SYSTEM_BUSY", "message": "系统繁忙"})
        if what == "INCONSISTENT":
            return self._json(200, {"head": {"resultcode": "ERR_DUPLICATE_REF",
                                             "resultmsg": "业务参考号重复且交易要素不一致"}, "body": {}})
        self._slow(what)
        self._json(200, {"head": {"resultcode": "SUC0000", "resultmsg": ""},
                         "body": self.sandbox._bank_fields(self.sandbox.store.order("BANK", order["key"]))})

    def bank_submit_batch(self, path, query, body):
        verify_signed("BANK", dict(self.headers), body, secret=self.sandbox.config.secret)
        data = json.loads(body)
        items, slow = [], False
        with self.sandbox.store.transaction():
            for line in data["items"]:
                order, what = self.sandbox.submit(
                    channel="BANK", key=line["yurRef"], amount_fen=parse_yuan(line["trsAmt"]),
                    payee_account=line["crtAcc"], payee_name=line["crtNam"], notify_url=data.get("notifyUrl", ""),
                    batch=True)
                slow = slow or what == "SLOW"
                if what == "SYSTEM_ERROR":
                    items.append({"yurRef": line["yurRef"], "resultcode": "SYSTEM_BUSY"})
                elif what == "INCONSISTENT":
                    items.append({"yurRef": line["yurRef"], "resultcode": "ERR_DUPLICATE_REF",
                                  "errTxt": "业务参考号重复且交易要素不一致"})
                else:
                    items.append({"resultcode": "SUC0000", **self.sandbox._bank_fields(order)})
        if slow:
            time.sleep(self.sandbox.config.slow_seconds)
        self._json(200, {"head": {"resultcode": "SUC0000", "resultmsg": ""}, "body": {"items": items}})

    def bank_query(self, path, query, body):
        verify_signed("BANK", dict(self.headers), b"", secret=self.sandbox.config.secret)
        order = self.sandbox.store.order("BANK", path.rsplit("/", 1)[-1])
        if order is None:
            return self._json(200, {"head": {"resultcode": "ERR_NOT_FOUND", "resultmsg": "记录不存在"}, "body": {}})
        self._json(200, {"head": {"resultcode": "SUC0000", "resultmsg": ""}, "body": self.sandbox._bank_fields(order)})

    def bank_statement(self, path, query, body):
        verify_signed("BANK", dict(self.headers), b"", secret=self.sandbox.config.secret)
        _, _, _, day_text, name = path.split("/")
        day = dt.datetime.strptime(day_text, "%Y%m%d").replace(tzinfo=TZ).date()
        if name == "incoming.csv":
            content = self.sandbox.statement_bank_incoming(day)
        elif name == "payouts.csv":
            content = self.sandbox.statement_bank_payouts(day)
        else:
            return self._json(404, {"code": "NOT_FOUND"})
        self._send(200, content, "text/csv; charset=gbk")

    # --- alipay ------------------------------------------------------------------------------------------
    def alipay_gateway(self, path, query, body):
        params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        secret = self.sandbox.config.secret
        method = params.get("method", "")
        key = response_key(method or "error")

        def answer(response: dict, status: int = 200):
            text = json.dumps(response, ensure_ascii=False, separators=(",", ":"))
            sign = signing.sign("ALIPAY", text.encode(), secret=secret)
            self._send(status, f'{{"{key}":{text},"sign":"{sign}"}}'.encode())

        if not signing.verify("ALIPAY", signing.form_message(params), params.get("sign", ""), secret=secret):
            return answer({"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature",
                           "sub_msg": "验签出错"})
        biz = json.loads(params.get("biz_content") or "{}")
        if method == ALIPAY_TRANSFER:
            order, what = self.sandbox.submit(
                channel="ALIPAY", key=biz["out_biz_no"], amount_fen=parse_yuan(biz["trans_amount"]),
                payee_account=biz["payee_info"]["identity"], payee_name=biz["payee_info"].get("name", ""),
                notify_url=params.get("notify_url", ""))
            if what == "SYSTEM_ERROR":
                return answer({"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error",
                               "sub_msg": "系统繁忙"})
            if what == "INCONSISTENT":
                return answer({"code": "40004", "msg": "Business Failed", "sub_code": "PAYMENT_INFO_INCONSISTENCY",
                               "sub_msg": "两次请求商户单号一样，但是参数不一致"})
            self._slow(what)
            order = self.sandbox.store.order("ALIPAY", order["key"])
            if order["state"] == FAIL:
                return answer({"code": "40004", "msg": "Business Failed", "sub_code": order["fail_code"],
                               "sub_msg": order["fail_msg"]})
            return answer({"code": "10000", "msg": "Success", "out_biz_no": order["key"],
                           "order_id": order["channel_order_id"], "pay_fund_order_id": order["channel_order_id"],
                           "status": self.sandbox._alipay_status(order["state"]),
                           "trans_date": _local(order["created_at"]).strftime("%Y-%m-%d %H:%M:%S")})
        if method == ALIPAY_BATCH_TRANSFER:
            lines = [{"key": item["out_biz_no"], "amount_fen": parse_yuan(item["trans_amount"]),
                      "payee_account": item["payee_info"]["identity"], "payee_name": item["payee_info"].get("name", "")}
                     for item in biz["trans_order_list"]]
            if not lines or len(lines) > 1000 or biz.get("total_count") not in (None, str(len(lines))) or \
                    parse_yuan(biz.get("total_trans_amount", "0")) != sum(line["amount_fen"] for line in lines):
                return answer({"code": "40004", "msg": "Business Failed", "sub_code": "INVALID_PARAMETER",
                               "sub_msg": "批次总笔数、总金额与明细不符，或明细超过 1000 笔"})
            batch, what = self.sandbox.alipay_batch_submit(batch_no=biz["out_batch_no"], lines=lines,
                                                           notify_url=params.get("notify_url", ""))
            if what == "INCONSISTENT":
                return answer({"code": "40004", "msg": "Business Failed", "sub_code": "PAYMENT_INFO_INCONSISTENCY",
                               "sub_msg": "两次请求商户批次号一样，但是参数不一致"})
            self._slow(what)
            return answer({"code": "10000", "msg": "Success", "out_batch_no": batch["batch_no"],
                           "batch_trans_id": batch["batch_trans_id"],
                           "status": "INIT" if what == "CREATED" else self.sandbox.alipay_batch_status(batch)})
        if method == ALIPAY_BATCH_DETAIL_QUERY:
            batch = self.sandbox.store.batch("ALIPAY", biz.get("out_batch_no", ""))
            if batch is None:
                return answer({"code": "40004", "msg": "Business Failed", "sub_code": "BATCH_NOT_EXIST",
                               "sub_msg": "批次不存在"})
            size = max(1, min(int(biz.get("page_size") or 500), 500))
            page = max(1, int(biz.get("page_num") or 1))
            details = self.sandbox.alipay_batch_details(batch)
            return answer({"code": "10000", "msg": "Success", "out_batch_no": batch["batch_no"],
                           "batch_trans_id": batch["batch_trans_id"],
                           "batch_status": self.sandbox.alipay_batch_status(batch), "page_num": str(page),
                           "page_size": str(size), "total_page_count": str(max(1, -(-len(details) // size))),
                           "acc_detail_list": details[(page - 1) * size:page * size]})
        if method == ALIPAY_QUERY:
            order = self.sandbox.store.order("ALIPAY", biz.get("out_biz_no", ""))
            if order is None:
                return answer({"code": "40004", "msg": "Business Failed", "sub_code": "ORDER_NOT_EXIST",
                               "sub_msg": "转账订单不存在"})
            response = {"code": "10000", "msg": "Success", "out_biz_no": order["key"],
                        "order_id": order["channel_order_id"], "pay_fund_order_id": order["channel_order_id"],
                        "status": self.sandbox._alipay_status(order["state"]),
                        "trans_amount": format_yuan(order["amount_fen"])}
            if order["finished_at"]:
                response["pay_date"] = _local(order["finished_at"]).strftime("%Y-%m-%d %H:%M:%S")
            if order["fail_code"]:
                response.update(error_code=order["fail_code"], fail_reason=order["fail_msg"])
            return answer(response)
        if method == ALIPAY_BILL:
            day = dt.date.fromisoformat(biz["bill_date"])
            return answer({"code": "10000", "msg": "Success",
                           "bill_download_url": f"{self.sandbox.url}/alipay/bills/{day:%Y%m%d}.zip"})
        return answer({"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method",
                       "sub_msg": "不存在的方法名"})

    def alipay_bill(self, path, query, body):
        day = dt.datetime.strptime(path.rsplit("/", 1)[-1].removesuffix(".zip"), "%Y%m%d").replace(tzinfo=TZ).date()
        self._send(200, self.sandbox.statement_alipay(day), "application/zip")

    # --- wechat ------------------------------------------------------------------------------------------
    def _wechat_verify(self, method: str, body: bytes) -> None:
        auth = parse_authorization(self.headers.get("Authorization", ""))
        message = f"{method}\n{self.path}\n{auth.get('timestamp', '')}\n{auth.get('nonce_str', '')}\n".encode() + body + b"\n"
        if not signing.timestamp_fresh(auth.get("timestamp", "")) or not signing.verify(
                "WECHAT", message, auth.get("signature", ""), secret=self.sandbox.config.secret):
            raise DomainError("签名错误")

    def _wechat_answer(self, status: int, data: dict) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        self._send(status, body, headers={
            "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": WECHAT_SERIAL,
            "Wechatpay-Signature": signing.sign("WECHAT", signing.header_message(timestamp, nonce, body),
                                                secret=self.sandbox.config.secret),
            "Request-ID": secrets.token_hex(12)})

    def wechat_submit(self, path, query, body):
        try:
            self._wechat_verify("POST", body)
        except DomainError:
            return self._wechat_answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        if self.sandbox.wechat_rate_limited():
            return self._wechat_answer(429, {"code": "FREQUENCY_LIMITED", "message": "频率超限，请降低请求频率"})
        data = json.loads(body)
        amount = data["transfer_amount"]
        if not isinstance(amount, int) or amount <= 0:
            return self._wechat_answer(400, {"code": "PARAM_ERROR", "message": "transfer_amount 必须为正整数（分）"})
        order, what = self.sandbox.submit(channel="WECHAT", key=data["out_bill_no"], amount_fen=amount,
                                          payee_account=data["openid"], payee_name=data.get("user_name", ""),
                                          notify_url=data.get("notify_url", ""))
        if what == "SYSTEM_ERROR":
            return self._wechat_answer(500, {"code": "SYSTEM_ERROR", "message": "系统异常，请使用相同参数稍后重新调用"})
        if what == "INCONSISTENT":
            return self._wechat_answer(400, {"code": "INVALID_REQUEST", "message": "商户单号重复，且与原单据参数不一致"})
        self._slow(what)
        order = self.sandbox.store.order("WECHAT", order["key"])
        fields = self.sandbox._wechat_fields(order)
        fields["state"] = "ACCEPTED" if order["state"] == PROCESSING else fields["state"]
        self._wechat_answer(200, {k: fields[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state")})

    def wechat_query(self, path, query, body):
        try:
            self._wechat_verify("GET", b"")
        except DomainError:
            return self._wechat_answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        order = self.sandbox.store.order("WECHAT", path.rsplit("/", 1)[-1])
        if order is None:
            return self._wechat_answer(404, {"code": "NOT_FOUND", "message": "记录不存在"})
        self._wechat_answer(200, self.sandbox._wechat_fields(order))

    def wechat_bill(self, path, query, body):
        try:
            self._wechat_verify("GET", b"")
        except DomainError:
            return self._wechat_answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        day = dt.date.fromisoformat(query["bill_date"])
        content = self.sandbox.statement_wechat(day)
        self._wechat_answer(200, {"download_url": f"{self.sandbox.url}/v3/billdownload/file?date={day:%Y%m%d}",
                                  "hash_type": "SHA1", "hash_value": hashlib.sha1(content).hexdigest()})

    def wechat_download(self, path, query, body):
        day = dt.datetime.strptime(query["date"], "%Y%m%d").replace(tzinfo=TZ).date()
        self._send(200, self.sandbox.statement_wechat(day), "text/csv; charset=utf-8")

    # --- control -----------------------------------------------------------------------------------------
    def control_topup(self, path, query, body):
        data = json.loads(body or b"{}")
        amount_fen = data["amount_fen"] if "amount_fen" in data else parse_yuan(str(data["amount"]), allow_zero=False)
        row = self.sandbox.topup(virtual_account=data.get("virtual_account", ""), amount_fen=amount_fen,
                                 payer_name=data.get("payer_name", ""), payer_account=data.get("payer_account", ""),
                                 payer_bank=data.get("payer_bank", ""), postscript=data.get("postscript", ""),
                                 notify=data.get("notify", True))
        self._json(200, {"serial": row["serial"], "amount_fen": amount_fen, "day": row["day"]})

    def control_topup_reverse(self, path, query, body):
        serial = path.strip("/").split("/")[2]  # sandbox/topups/<serial>/reverse
        data = json.loads(body or b"{}")
        row = self.sandbox.topup_reverse(serial, notify=data.get("notify", True))
        self._json(200 if row else 404, {"serial": row["serial"], "reverses": serial} if row else {"code": "NOT_FOUND"})

    def control_order(self, path, query, body):
        parts = path.strip("/").split("/")  # sandbox/orders/<channel>/<key>[/return]
        channel, key = parts[2].upper(), parts[3]
        if len(parts) == 5 and parts[4] == "return":
            order = self.sandbox.order_return(channel, key)
            return self._json(200 if order else 409, order or {"code": "NOT_RETURNABLE"})
        order = self.sandbox.store.order(channel, key)
        return self._json(200 if order else 404, order or {"code": "NOT_FOUND"})

    def control_probe(self, path, query, body):
        url = f"{self.sandbox.config.callback_base.rstrip('/')}/callbacks/wechat/payouts"
        self.sandbox.store.notify(channel="WECHAT", kind="probe", notify_id=f"probe-{secrets.token_hex(6)}", url=url,
                                  payload={}, due_at=time.time())
        self._json(200, {"sent": True})

    def control_stats(self, path, query, body):
        self._json(200, self.sandbox.store.stats())

    def control_notifications(self, path, query, body):
        self._json(200, {"notifications": self.sandbox.store.notifications()})

    def control_health(self, path, query, body):
        self._json(200, {"ok": True})


ROUTES = {
    "POST": [
        ("/bank/payouts", SandboxHandler.bank_submit),
        ("/bank/payouts/batch", SandboxHandler.bank_submit_batch),
        ("/alipay/gateway.do", SandboxHandler.alipay_gateway),
        (WECHAT_TRANSFER_PATH, SandboxHandler.wechat_submit),
        ("/sandbox/topups", SandboxHandler.control_topup),
        ("/sandbox/topups/", SandboxHandler.control_topup_reverse),
        ("/sandbox/orders/", SandboxHandler.control_order),
        ("/sandbox/probe", SandboxHandler.control_probe),
    ],
    "GET": [
        ("/bank/payouts/", SandboxHandler.bank_query),
        ("/bank/statements/", SandboxHandler.bank_statement),
        ("/alipay/bills/", SandboxHandler.alipay_bill),
        (f"{WECHAT_TRANSFER_PATH}/out-bill-no/", SandboxHandler.wechat_query),
        ("/v3/bill/fundflowbill", SandboxHandler.wechat_bill),
        ("/v3/billdownload/file", SandboxHandler.wechat_download),
        ("/sandbox/orders/", SandboxHandler.control_order),
        ("/sandbox/stats", SandboxHandler.control_stats),
        ("/sandbox/notifications", SandboxHandler.control_notifications),
        ("/sandbox/healthz", SandboxHandler.control_health),
    ],
}
