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
import hashlib
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
BATCH_TRANSFER = "alipay.fund.batch.uni.transfer"
BATCH_DETAIL_QUERY = "alipay.fund.batch.detail.query"
BATCH_NOTIFY_METHOD = "alipay.fund.batch.order.changed"
BATCH_PRODUCT_CODE, BATCH_BIZ_SCENE = "BATCH_API_TO_ACC", "MESSAGE_BATCH_PAY"
UNKNOWN_SUB_CODES = {"SYSTEM_ERROR", "isp.unknow-error", "ACQ.SYSTEM_ERROR"}
REJECT_SUB_CODES = {"PAYMENT_INFO_INCONSISTENCY", "RESOURCE_LIMIT_EXCEED"}
STATUS = {"SUCCESS": QueryStatus.SUCCEEDED, "FAIL": QueryStatus.FAILED, "DEALING": QueryStatus.PROCESSING,
          "REFUND": QueryStatus.RETURNED}
# a batch detail's status (acc_detail_list[].status); FAIL is read with its error_code (``detail_status``)
DETAIL_STATUS = {"INIT": QueryStatus.PROCESSING, "APPLIED": QueryStatus.PROCESSING, "DEALED": QueryStatus.PROCESSING,
                 "SUCCESS": QueryStatus.SUCCEEDED, "FAIL": QueryStatus.FAILED, "DISUSE": QueryStatus.FAILED,
                 "UNKNOWN": QueryStatus.UNKNOWN, "REFUND": QueryStatus.RETURNED}


def detail_status(detail: dict) -> str:
    """A batch detail's status as a QueryStatus. A FAIL whose code says the system erred or the request was refused
    (``SYSTEM_ERROR``, ``PAYMENT_INFO_INCONSISTENCY``: the same out_biz_no with other parameters, the original
    order untouched) is UNKNOWN, never FAILED: query the order with the single-order query."""
    status = DETAIL_STATUS.get(detail.get("status", ""), QueryStatus.UNKNOWN)
    if status == QueryStatus.FAILED and detail.get("error_code", "") in UNKNOWN_SUB_CODES | REJECT_SUB_CODES:
        return QueryStatus.UNKNOWN
    return status


def out_batch_no(keys) -> str:
    """The batch's own idempotency key, derived from its lines' keys: a dispatch that died and sends the same
    orders again sends the same out_batch_no (Alipay answers with the original batch)."""
    return "LGB" + hashlib.sha256("|".join(keys).encode()).hexdigest()[:29]


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
    rate_limited_codes = frozenset({"RESOURCE_LIMIT_EXCEED"})

    def _gateway(self, method: str, biz: dict) -> tuple[int, dict]:
        """(HTTP status, verified response object); ``{}`` when the answer is unreadable or its signature fails."""
        params = {"app_id": APP_ID, "method": method, "format": "JSON", "charset": "utf-8",
                  "sign_type": "HMAC-SHA256", "timestamp": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
                  "version": "1.0", "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
        if method in (TRANSFER, BATCH_TRANSFER):
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

    BATCH_SIZE = 1000  # details per alipay.fund.batch.uni.transfer request
    batch_api = True  # dispatch sends several orders through submit_batch

    def submit_batch(self, orders) -> list[SubmitResult]:
        """批量转账 ``alipay.fund.batch.uni.transfer`` (product BATCH_API_TO_ACC, scene MESSAGE_BATCH_PAY): up to
        1,000 details a request. Alipay takes the batch (``status=INIT``, 批次落单成功) and pays it asynchronously, so
        every line is ACCEPTED; the results come in ``alipay.fund.batch.order.changed`` notices (and
        ``alipay.fund.batch.detail.query``). A timeout, ``20000``/``SYSTEM_ERROR`` or an unverifiable answer leaves
        every line of that request UNKNOWN (query each with the single-order query, same out_biz_no)."""
        results: list[SubmitResult] = []
        orders = list(orders)
        for start in range(0, len(orders), self.BATCH_SIZE):
            chunk = orders[start:start + self.BATCH_SIZE]
            batch_no = out_batch_no(key for _order, key in chunk)
            biz = {"out_batch_no": batch_no, "product_code": BATCH_PRODUCT_CODE, "biz_scene": BATCH_BIZ_SCENE,
                   "order_title": "劳务报酬", "total_count": str(len(chunk)),
                   "total_trans_amount": format_yuan(sum(order.amount_fen for order, _key in chunk)),
                   "trans_order_list": [
                       {"out_biz_no": key, "trans_amount": format_yuan(order.amount_fen),
                        "payee_info": {"identity": order.payee_account, "identity_type": "ALIPAY_LOGON_ID",
                                       "name": order.payee_name},
                        "remark": order.remark[:200]} for order, key in chunk]}
            try:
                status, answer = self._gateway(BATCH_TRANSFER, biz)
            except ChannelTimeout:
                results += [SubmitResult(Outcome.UNKNOWN, fail_message="支付宝网关超时")] * len(chunk)
                continue
            code, sub_code = answer.get("code", ""), answer.get("sub_code", "")
            if status >= 500 or not answer or code == "20000" or sub_code in UNKNOWN_SUB_CODES:
                results += [SubmitResult(Outcome.UNKNOWN, fail_code=sub_code or str(status),
                                         fail_message="支付宝批量转账结果未知")] * len(chunk)
            elif code == "40004" and sub_code not in REJECT_SUB_CODES:
                # the batch was refused as a whole (no detail was created): each line fails with the batch's reason
                results += [SubmitResult(Outcome.FAILED, fail_code=sub_code,
                                         fail_message=answer.get("sub_msg", ""))] * len(chunk)
            elif code != "10000" or answer.get("out_batch_no") != batch_no:
                results += [SubmitResult(Outcome.REJECTED, fail_code=sub_code or code,
                                         fail_message=answer.get("sub_msg", ""))] * len(chunk)
            else:
                results += [SubmitResult(Outcome.ACCEPTED, raw_status=answer.get("status", ""))] * len(chunk)
        return results

    def batch_details(self, batch_no: str) -> list[tuple[str, QueryResult]]:
        """``alipay.fund.batch.detail.query`` of a batch, every page (500 details a page): ``(out_biz_no, result)``
        per detail (reconciliation of a batch; one order is queried with ``query``). Raises ChannelTimeout."""
        found: list[tuple[str, QueryResult]] = []
        page = 1
        while True:
            status, answer = self._gateway(BATCH_DETAIL_QUERY, {
                "out_batch_no": batch_no, "product_code": BATCH_PRODUCT_CODE, "biz_scene": BATCH_BIZ_SCENE,
                "page_num": str(page), "page_size": "500"})
            if status >= 500 or answer.get("code") != "10000":
                raise ChannelTimeout(f"batch detail query failed ({status}, {answer.get('sub_code', '')})")
            for detail in answer.get("acc_detail_list", []):
                found.append((detail.get("out_biz_no", ""), self._detail_result(detail)))
            if page >= int(answer.get("total_page_count") or 1):
                return found
            page += 1

    @staticmethod
    def _detail_result(detail: dict) -> QueryResult:
        return QueryResult(detail_status(detail), channel_order_id=detail.get("alipay_order_no", ""),
                           amount_fen=parse_yuan(detail["trans_amount"]) if detail.get("trans_amount") else None,
                           fail_code=detail.get("error_code", ""), fail_message=detail.get("error_msg", ""),
                           finished_at=_time(detail.get("gmt_finish", "")))

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
        notices = self.parse_notifications(headers=headers, body=body)
        if len(notices) != 1:
            raise InvalidSignature("批量转账通知请用 parse_notifications 解析")
        return notices[0]

    def parse_notifications(self, *, headers, body: bytes) -> list[Notification]:
        """``alipay.fund.trans.order.changed`` (one transfer) or ``alipay.fund.batch.order.changed`` (a batch, with
        the details whose status changed in ``acc_detail_list``): verified, one Notification per result. A batch
        detail's notification id is its ``detail_id`` and status, so a notice delivered again (or a detail repeated
        in a later notice) is stored once."""
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
        method = params.get("msg_method")
        if method not in (NOTIFY_METHOD, BATCH_NOTIFY_METHOD) or not params.get("notify_id"):
            raise InvalidSignature("不是资金单据状态变更通知")
        try:
            biz = json.loads(params.get("biz_content", ""))
        except ValueError:
            raise InvalidSignature("通知内容无法解析") from None
        if method == BATCH_NOTIFY_METHOD:
            details = biz.get("acc_detail_list")
            if not isinstance(details, list) or not all(isinstance(d, dict) and d.get("detail_id") and
                                                        d.get("out_biz_no") for d in details):
                raise InvalidSignature("批量转账通知缺少明细")
            return [Notification(channel=self.channel, notify_id=f"{d['detail_id']}:{d.get('status', '')}"[:64],
                                 idempotency_key=d["out_biz_no"], status=detail_status(d),
                                 amount_fen=parse_yuan(d.get("trans_amount", "0")),
                                 channel_order_id=d.get("alipay_order_no", ""), fail_code=d.get("error_code", ""),
                                 fail_message=d.get("error_msg", ""), occurred_at=_time(d.get("gmt_finish", "")),
                                 extra={"out_batch_no": biz.get("out_batch_no", "")})
                    for d in details]
        return [Notification(channel=self.channel, notify_id=params["notify_id"],
                             idempotency_key=biz.get("out_biz_no", ""),
                             status=STATUS.get(biz.get("status", ""), QueryStatus.UNKNOWN),
                             amount_fen=parse_yuan(biz.get("trans_amount", "0")),
                             channel_order_id=biz.get("order_id", ""), fail_code=biz.get("error_code", ""),
                             fail_message=biz.get("fail_reason", ""), occurred_at=_time(biz.get("pay_date", "")))]

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
