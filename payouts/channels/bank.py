"""Bank card payouts through the bank's direct-connect API (银企直联 代发), CMB-style.

Wire format (JSON with CMB's field names; the real bank speaks XML/JSON over its front-end processor):

- submit ``POST /bank/payouts`` ``{"yurRef", "trsAmt": "123.45", "crtAcc", "crtNam", "crtBnk", "nusAge",
  "notifyUrl"}`` → ``{"head": {"resultcode": "SUC0000"|..., "resultmsg"}, "body": {"reqSts": "BNK"|"FIN",
  "rtnFlg": "S"|"F"|"B"|"", "errCod", "errTxt", "sqrNbr"}}``. ``BNK`` = at the bank, processing.
- query ``GET /bank/payouts/<yurRef>`` → the same body; ``resultcode`` ``ERR_NOT_FOUND`` when the bank has no record.
- payout notice ``POST <platform>/callbacks/bank/payouts`` ``{"notifyId", "msgTyp": "FINPAY", "yurRef", "reqSts",
  "rtnFlg", "errCod", "errTxt", "trsAmt", "sqrNbr", "finTim"}``; incoming-transfer notice
  ``POST <platform>/callbacks/bank/incoming`` ``{"notifyId", "msgTyp": "NCCRTTRS", "seqNbr", "trsAmt", "amtCdr": "C",
  "dmaNbr" (virtual account), "rpyAcc", "rpyNam", "rpyBnk", "narTxt", "trsDat", "trsTim"}``.
- statements ``GET /bank/statements/<YYYYMMDD>/incoming.csv`` and ``.../payouts.csv`` (GBK CSV, see
  ``payouts.channels.statements``).

Every request and notice carries ``X-Bank-Timestamp``, ``X-Bank-Nonce``, ``X-Bank-Signature`` over
``timestamp\\nnonce\\nbody\\n`` (see ``signing``). Rejection codes: ``RJ01`` 账号不存在或已销户, ``RJ02`` 账号、户名不符,
``RJ05`` 超过单笔限额.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time

from django.utils import timezone

from core.money import format_yuan, parse_yuan
from payouts.channels import signing
from payouts.channels.base import (
    Ack,
    ChannelAdapter,
    ChannelTimeout,
    Notification,
    Outcome,
    PayoutRequest,
    QueryResult,
    QueryStatus,
    SubmitResult,
)
from payouts.exceptions import InvalidSignature


def _parse_bank_time(text: str):
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=timezone.get_current_timezone())
    except ValueError:
        return None


def _status(body: dict) -> str:
    if body.get("reqSts") != "FIN":
        return QueryStatus.PROCESSING
    return {"S": QueryStatus.SUCCEEDED, "F": QueryStatus.FAILED, "B": QueryStatus.RETURNED}.get(
        body.get("rtnFlg", ""), QueryStatus.UNKNOWN)


def signed_headers(channel: str, body: bytes, *, secret: str | None = None, prefix: str = "X-Bank") -> dict:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    return {
        f"{prefix}-Timestamp": timestamp,
        f"{prefix}-Nonce": nonce,
        f"{prefix}-Signature": signing.sign(channel, signing.header_message(timestamp, nonce, body), secret=secret),
        "Content-Type": "application/json; charset=utf-8",
    }


def verify_signed(channel: str, headers: dict[str, str], body: bytes, *, secret: str | None = None,
                  prefix: str = "X-Bank") -> None:
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get(f"{prefix}-timestamp".lower(), "")
    nonce = lower.get(f"{prefix}-nonce".lower(), "")
    signature = lower.get(f"{prefix}-signature".lower(), "")
    if not signing.timestamp_fresh(timestamp):
        raise InvalidSignature("通知时间戳缺失或超出 300 秒，已拒绝")
    if not signing.verify(channel, signing.header_message(timestamp, nonce, body), signature, secret=secret):
        raise InvalidSignature("通知签名验证失败，已拒绝")


class BankAdapter(ChannelAdapter):
    channel = "BANK"
    ack = Ack(200, b'{"code":"SUCCESS"}', "application/json")

    def _call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        status, _, raw = self._http(method, path, body=body if payload is not None else None,
                                    headers=signed_headers(self.channel, body, secret=self.secret))
        return status, self._json(raw)

    def submit(self, order: PayoutRequest, idempotency_key: str) -> SubmitResult:
        payload = {"yurRef": idempotency_key, "trsAmt": format_yuan(order.amount_fen), "crtAcc": order.payee_account,
                   "crtNam": order.payee_name, "crtBnk": order.payee_bank, "nusAge": order.remark[:30],
                   "notifyUrl": self.notify_url}
        try:
            status, answer = self._call("POST", "/bank/payouts", payload)
        except ChannelTimeout:
            return SubmitResult(Outcome.UNKNOWN, fail_message="银行前置机超时")
        head, body = answer.get("head", {}), answer.get("body", {})
        if status in (401, 403):
            # Refused at the door (signature, certificate): no order was taken.
            return SubmitResult(Outcome.REJECTED, fail_code=answer.get("code", str(status)),
                                fail_message=answer.get("message", "银行拒绝了请求（签名校验失败）"))
        if status >= 500 or not head:
            return SubmitResult(Outcome.UNKNOWN, fail_code=str(status), fail_message="银行系统繁忙，结果未知")
        code = head.get("resultcode", "")
        if code == "ERR_DUPLICATE_REF":
            return SubmitResult(Outcome.REJECTED, fail_code=code, fail_message=head.get("resultmsg", ""))
        if code != "SUC0000":
            # The request itself was refused (format, limits checked at the front end): no payment exists.
            return SubmitResult(Outcome.FAILED, fail_code=code, fail_message=head.get("resultmsg", ""))
        state = _status(body)
        outcome = {QueryStatus.SUCCEEDED: Outcome.SUCCEEDED, QueryStatus.FAILED: Outcome.FAILED}.get(
            state, Outcome.ACCEPTED)
        return SubmitResult(outcome, channel_order_id=body.get("sqrNbr", ""), fail_code=body.get("errCod", ""),
                            fail_message=body.get("errTxt", ""), raw_status=body.get("reqSts", ""))

    BATCH_SIZE = 1000  # lines per 批量代发 request
    batch_api = True  # dispatch sends several orders through submit_batch

    def submit_batch(self, orders) -> list[SubmitResult]:
        """批量代发 ``POST /bank/payouts/batch``: up to 1,000 lines a request, one result per line. A timeout or a
        5xx leaves every line of that request UNKNOWN (query them); results come by batch notices."""
        results: list[SubmitResult] = []
        orders = list(orders)
        for start in range(0, len(orders), self.BATCH_SIZE):
            chunk = orders[start:start + self.BATCH_SIZE]
            payload = {"notifyUrl": self.notify_url, "items": [
                {"yurRef": key, "trsAmt": format_yuan(order.amount_fen), "crtAcc": order.payee_account,
                 "crtNam": order.payee_name, "crtBnk": order.payee_bank, "nusAge": order.remark[:30]}
                for order, key in chunk]}
            try:
                status, answer = self._call("POST", "/bank/payouts/batch", payload)
            except ChannelTimeout:
                results += [SubmitResult(Outcome.UNKNOWN, fail_message="银行前置机超时")] * len(chunk)
                continue
            head, items = answer.get("head", {}), answer.get("body", {}).get("items", [])
            if status in (401, 403):
                results += [SubmitResult(Outcome.REJECTED, fail_code=answer.get("code", str(status)))] * len(chunk)
                continue
            if status >= 500 or head.get("resultcode") != "SUC0000" or len(items) != len(chunk):
                results += [SubmitResult(Outcome.UNKNOWN, fail_code=head.get("resultcode", str(status)),
                                         fail_message="银行批量代发结果未知")] * len(chunk)
                continue
            for item in items:
                code = item.get("resultcode", "SUC0000")
                if code == "ERR_DUPLICATE_REF":
                    results.append(SubmitResult(Outcome.REJECTED, fail_code=code, fail_message=item.get("errTxt", "")))
                elif code == "SYSTEM_BUSY":
                    results.append(SubmitResult(Outcome.UNKNOWN, fail_code=code, fail_message="该笔结果未知"))
                else:
                    state = _status(item)
                    outcome = {QueryStatus.SUCCEEDED: Outcome.SUCCEEDED, QueryStatus.FAILED: Outcome.FAILED}.get(
                        state, Outcome.ACCEPTED)
                    results.append(SubmitResult(outcome, channel_order_id=item.get("sqrNbr", ""),
                                                fail_code=item.get("errCod", ""), fail_message=item.get("errTxt", ""),
                                                raw_status=item.get("reqSts", "")))
        return results

    def query(self, idempotency_key: str) -> QueryResult:
        try:
            status, answer = self._call("GET", f"/bank/payouts/{idempotency_key}")
        except ChannelTimeout:
            return QueryResult(QueryStatus.UNKNOWN)
        head, body = answer.get("head", {}), answer.get("body", {})
        if status >= 500 or not head:
            return QueryResult(QueryStatus.UNKNOWN)
        if head.get("resultcode") == "ERR_NOT_FOUND":
            return QueryResult(QueryStatus.NOT_FOUND)
        return QueryResult(_status(body), channel_order_id=body.get("sqrNbr", ""),
                           amount_fen=parse_yuan(body["trsAmt"]) if body.get("trsAmt") else None,
                           fail_code=body.get("errCod", ""), fail_message=body.get("errTxt", ""),
                           finished_at=_parse_bank_time(body.get("finTim", "")))

    def parse_notification(self, *, headers, body: bytes) -> Notification:
        notices = self.parse_notifications(headers=headers, body=body)
        if len(notices) != 1:
            raise InvalidSignature("批量通知请用 parse_notifications 解析")
        return notices[0]

    def parse_notifications(self, *, headers, body: bytes) -> list[Notification]:
        """A single result (``FINPAY``) or a batch notice (``FINPAY_BATCH`` with ``items``)."""
        verify_signed(self.channel, headers, body, secret=self.secret)
        data = self._json(body)
        if data.get("msgTyp") == "FINPAY_BATCH" and isinstance(data.get("items"), list):
            return [self._notification(item) for item in data["items"]]
        return [self._notification(data)]

    def _notification(self, data: dict) -> Notification:
        if data.get("msgTyp") != "FINPAY" or not data.get("notifyId") or not data.get("yurRef"):
            raise InvalidSignature("不是代发结果通知")
        return Notification(channel=self.channel, notify_id=data["notifyId"], idempotency_key=data["yurRef"],
                            status=_status(data), amount_fen=parse_yuan(data.get("trsAmt", "0")),
                            channel_order_id=data.get("sqrNbr", ""), fail_code=data.get("errCod", ""),
                            fail_message=data.get("errTxt", ""), occurred_at=_parse_bank_time(data.get("finTim", "")))

    def parse_incoming_notice(self, *, headers, body: bytes):
        """Verify an incoming-transfer notice (到账通知 NCCRTTRS) → ``IncomingTransferData`` (None for a debit)."""
        from payouts.services.funding import IncomingTransferData

        verify_signed(self.channel, headers, body, secret=self.secret)
        data = self._json(body)
        if data.get("msgTyp") != "NCCRTTRS" or not data.get("seqNbr"):
            raise InvalidSignature("不是到账通知")
        reversal = data.get("rvsTag") == "*" and data.get("orgSeq")
        if data.get("amtCdr") != "C" and not reversal:
            return None
        moment = _parse_bank_time(f"{data.get('trsDat', '')}{data.get('trsTim', '')}")
        return IncomingTransferData(
            bank_serial=data["seqNbr"], amount_fen=parse_yuan(data.get("trsAmt", ""), allow_zero=False),
            value_date=moment.date() if moment else timezone.localdate(), transacted_at=moment,
            payer_account_name=data.get("rpyNam", ""), payer_account_number=data.get("rpyAcc", ""),
            payer_bank=data.get("rpyBnk", ""), virtual_account=data.get("dmaNbr", ""), postscript=data.get("narTxt", ""),
            reverses_serial=data.get("orgSeq", "") if reversal else "",
        )

    def fetch_statement(self, *, date: dt.date, kind: str = "payouts") -> bytes:
        if kind not in ("payouts", "incoming"):
            raise ValueError("kind is payouts or incoming")
        status, _, raw = self._http("GET", f"/bank/statements/{date:%Y%m%d}/{kind}.csv",
                                    headers=signed_headers(self.channel, b"", secret=self.secret))
        if status != 200:
            raise ChannelTimeout(f"statement download failed with HTTP {status}")
        return raw
