"""Alipay 单笔转账到支付宝账户 (``alipay.fund.trans.uni.transfer``), its query, its notification and its bill.

As the real gateway (channels.md §1): form POST to ``/alipay/gateway.do`` with ``app_id, method, charset,
sign_type, timestamp, version, biz_content, sign``; the answer is ``{"<method>_response": {...}, "sign": ...}``
signed over the raw text of the response object. ``code`` ``10000`` success, ``40004`` business failure
(``sub_code`` decides, never ``sub_msg``), ``20000`` / ``SYSTEM_ERROR`` unknown. The notification
``alipay.fund.trans.order.changed`` is a form POST answered with the bare word ``success``. The daily bill
(``signcustomer``) is fetched through ``alipay.data.dataservice.bill.downloadurl.query`` as a zipped GBK CSV.
Sandbox signing is HMAC-SHA256 in place of RSA2 (see ``signing``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import urllib.parse
import zipfile

from django.utils import timezone

from core.money import format_yuan, parse_yuan
from payouts.channels import signing
from payouts.channels.base import (
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

APP_ID = "2021000000000001"
TRANSFER = "alipay.fund.trans.uni.transfer"
QUERY = "alipay.fund.trans.common.query"
BILL = "alipay.data.dataservice.bill.downloadurl.query"
NOTIFY_METHOD = "alipay.fund.trans.order.changed"
UNKNOWN_SUB_CODES = {"SYSTEM_ERROR", "isp.unknow-error", "ACQ.SYSTEM_ERROR"}
REJECT_SUB_CODES = {"PAYMENT_INFO_INCONSISTENCY", "RESOURCE_LIMIT_EXCEED"}
STATUS = {"SUCCESS": QueryStatus.SUCCEEDED, "FAIL": QueryStatus.FAILED, "DEALING": QueryStatus.PROCESSING,
          "REFUND": QueryStatus.RETURNED}


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def extract_response_text(raw: str, key: str) -> str | None:
    """The raw JSON text of ``"<key>": {...}`` exactly as received (what Alipay signs)."""
    start = raw.find(f'"{key}"')
    if start < 0:
        return None
    brace = raw.find("{", start)
    depth, in_string, escaped = 0, False, False
    for position in range(brace, len(raw)):
        char = raw[position]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return raw[brace:position + 1]
    return None


def _time(text: str):
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.get_current_timezone())
    except ValueError:
        return None


class AlipayAdapter(ChannelAdapter):
    channel = "ALIPAY"

    def _gateway(self, method: str, biz: dict) -> tuple[int, dict]:
        """(HTTP status, verified response object); ``{}`` when the answer is unreadable or its signature fails."""
        params = {"app_id": APP_ID, "method": method, "format": "JSON", "charset": "utf-8",
                  "sign_type": "HMAC-SHA256", "timestamp": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
                  "version": "1.0", "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
        if method == TRANSFER:
            params["notify_url"] = self.notify_url
        params["sign"] = signing.sign(self.channel, signing.form_message(params), secret=self.secret)
        status, _, raw = self._http("POST", "/alipay/gateway.do", body=urllib.parse.urlencode(params).encode(),
                                    headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        text = raw.decode("utf-8", errors="replace")
        response_text = extract_response_text(text, response_key(method))
        signature = self._json(raw).get("sign", "")
        if response_text is None or not signing.verify(self.channel, response_text.encode(), signature,
                                                       secret=self.secret):
            return status, {}
        return status, json.loads(response_text)

    def submit(self, order: PayoutRequest, idempotency_key: str) -> SubmitResult:
        biz = {"out_biz_no": idempotency_key, "trans_amount": format_yuan(order.amount_fen),
               "product_code": "TRANS_ACCOUNT_NO_PWD", "biz_scene": "DIRECT_TRANSFER", "order_title": "劳务报酬",
               "payee_info": {"identity": order.payee_account, "identity_type": "ALIPAY_LOGON_ID",
                              "name": order.payee_name},
               "remark": order.remark[:200]}
        try:
            status, answer = self._gateway(TRANSFER, biz)
        except ChannelTimeout:
            return SubmitResult(Outcome.UNKNOWN, fail_message="支付宝网关超时")
        code, sub_code = answer.get("code", ""), answer.get("sub_code", "")
        if status >= 500 or not answer or code == "20000" or sub_code in UNKNOWN_SUB_CODES:
            return SubmitResult(Outcome.UNKNOWN, fail_code=sub_code or str(status), fail_message="支付宝系统繁忙，结果未知")
        if code == "40004":
            outcome = Outcome.REJECTED if sub_code in REJECT_SUB_CODES else Outcome.FAILED
            return SubmitResult(outcome, fail_code=sub_code, fail_message=answer.get("sub_msg", ""))
        if code != "10000":
            # 40001/40002/40006 (missing/invalid parameters, signature, permission): the gateway took no order.
            return SubmitResult(Outcome.REJECTED, fail_code=sub_code or code, fail_message=answer.get("sub_msg", ""))
        state = STATUS.get(answer.get("status", ""), QueryStatus.PROCESSING)
        outcome = {QueryStatus.SUCCEEDED: Outcome.SUCCEEDED, QueryStatus.FAILED: Outcome.FAILED}.get(
            state, Outcome.ACCEPTED)
        return SubmitResult(outcome, channel_order_id=answer.get("order_id", ""), raw_status=answer.get("status", ""))

    def query(self, idempotency_key: str) -> QueryResult:
        try:
            status, answer = self._gateway(QUERY, {"out_biz_no": idempotency_key, "product_code": "TRANS_ACCOUNT_NO_PWD",
                                                   "biz_scene": "DIRECT_TRANSFER"})
        except ChannelTimeout:
            return QueryResult(QueryStatus.UNKNOWN)
        if status >= 500 or not answer or answer.get("code") == "20000":
            return QueryResult(QueryStatus.UNKNOWN)
        if answer.get("sub_code") == "ORDER_NOT_EXIST":
            return QueryResult(QueryStatus.NOT_FOUND)
        if answer.get("code") != "10000":
            return QueryResult(QueryStatus.UNKNOWN, fail_code=answer.get("sub_code", ""))
        return QueryResult(STATUS.get(answer.get("status", ""), QueryStatus.UNKNOWN),
                           channel_order_id=answer.get("order_id", ""),
                           amount_fen=parse_yuan(answer["trans_amount"]) if answer.get("trans_amount") else None,
                           fail_code=answer.get("error_code", ""), fail_message=answer.get("fail_reason", ""),
                           finished_at=_time(answer.get("pay_date", "")))

    def parse_notification(self, *, headers, body: bytes) -> Notification:
        params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", errors="replace"),
                                                             keep_blank_values=True).items()}
        if not signing.verify(self.channel, signing.form_message(params), params.get("sign", ""), secret=self.secret):
            raise InvalidSignature("支付宝通知验签失败，已拒绝")
        try:
            stamp_seconds = str(int(params.get("utc_timestamp", "0")) // 1000)
        except ValueError:
            stamp_seconds = ""
        if not signing.timestamp_fresh(stamp_seconds):
            raise InvalidSignature("支付宝通知时间戳超出 300 秒，已拒绝")
        if params.get("msg_method") != NOTIFY_METHOD or not params.get("notify_id"):
            raise InvalidSignature("不是资金单据状态变更通知")
        try:
            biz = json.loads(params.get("biz_content", ""))
        except ValueError:
            raise InvalidSignature("通知内容无法解析") from None
        return Notification(channel=self.channel, notify_id=params["notify_id"], idempotency_key=biz.get("out_biz_no", ""),
                            status=STATUS.get(biz.get("status", ""), QueryStatus.UNKNOWN),
                            amount_fen=parse_yuan(biz.get("trans_amount", "0")),
                            channel_order_id=biz.get("order_id", ""), fail_code=biz.get("error_code", ""),
                            fail_message=biz.get("fail_reason", ""), occurred_at=_time(biz.get("pay_date", "")))

    def fetch_statement(self, *, date: dt.date, kind: str = "payouts") -> bytes:
        """The signcustomer bill of ``date``: the CSV inside the downloaded zip (GBK, 4 preamble lines)."""
        status, answer = self._gateway(BILL, {"bill_type": "signcustomer", "bill_date": date.isoformat()})
        url = answer.get("bill_download_url", "")
        if not url:
            raise ChannelTimeout(f"bill url not returned (HTTP {status}, {answer.get('sub_code', '')})")
        path = re.sub(r"^https?://[^/]+", "", url)
        code, _, raw = self._http("GET", path)
        if code != 200:
            raise ChannelTimeout(f"bill download failed with HTTP {code}")
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return archive.read(archive.namelist()[0])
