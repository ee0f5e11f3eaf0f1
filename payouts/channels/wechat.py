"""WeChat Pay 商家转账 (APIv3 ``/v3/fund-app/mch-transfer/transfer-bills``), its query, notification and fund-flow bill.

As the real API (channels.md §2): requests carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,
timestamp=…,serial_no=…,signature=…`` over ``METHOD\\nPATH\\ntimestamp\\nnonce\\nbody\\n``; amounts are integer fen;
states ``ACCEPTED, PROCESSING, WAIT_USER_CONFIRM, TRANSFERING, SUCCESS, FAIL, CANCELLED``; errors are
``{"code", "message"}`` with an HTTP status (5xx = unknown, 429 ``FREQUENCY_LIMITED``). The notification
``MCHTRANSFER.BILL.FINISHED`` carries ``Wechatpay-Timestamp/Nonce/Signature/Serial`` headers and an
``AEAD_AES_256_GCM`` encrypted ``resource``; probes whose signature starts ``WECHATPAY/SIGNTEST/`` must be refused.
Any 2xx acknowledges. Sandbox: HMAC-SHA256 in place of RSA; the user-confirmation step is confirmed automatically.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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

MCH_ID = "1900000109"
APP_ID = "wx8888888888888888"
SERIAL = "PUB_KEY_ID_0119000001092026000000000001"
SCENE_ID = "1005"  # 佣金报酬 (configurable in production; see channels.md §2.3)
TRANSFER_PATH = "/v3/fund-app/mch-transfer/transfer-bills"
STATUS = {"SUCCESS": QueryStatus.SUCCEEDED, "FAIL": QueryStatus.FAILED, "CANCELLED": QueryStatus.FAILED,
          "ACCEPTED": QueryStatus.PROCESSING, "PROCESSING": QueryStatus.PROCESSING,
          "WAIT_USER_CONFIRM": QueryStatus.PROCESSING, "TRANSFERING": QueryStatus.PROCESSING,
          "CANCELING": QueryStatus.PROCESSING}


def apiv3_key(secret: str | None = None) -> bytes:
    """The 32-byte APIv3 key that encrypts notification resources."""
    return signing.channel_key("WECHAT-APIV3", secret)


def encrypt_resource(plaintext: dict, *, secret: str | None = None) -> dict:
    nonce = secrets.token_hex(6)
    associated = "mch_payment"
    sealed = AESGCM(apiv3_key(secret)).encrypt(nonce.encode(), json.dumps(plaintext, ensure_ascii=False).encode(),
                                               associated.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(sealed).decode(),
            "associated_data": associated, "original_type": "mch_payment", "nonce": nonce}


def decrypt_resource(resource: dict, *, secret: str | None = None) -> dict:
    sealed = base64.b64decode(resource["ciphertext"])
    plain = AESGCM(apiv3_key(secret)).decrypt(resource["nonce"].encode(), sealed,
                                              resource.get("associated_data", "").encode())
    return json.loads(plain)


def authorization(method: str, path: str, body: bytes, *, secret: str | None = None) -> str:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    message = f"{method}\n{path}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"
    signature = signing.sign("WECHAT", message, secret=secret)
    return (f'WECHATPAY2-SHA256-RSA2048 mchid="{MCH_ID}",nonce_str="{nonce}",timestamp="{timestamp}",'
            f'serial_no="{SERIAL}",signature="{signature}"')


def parse_authorization(header: str) -> dict:
    return dict(re.findall(r'(\w+)="([^"]*)"', header or ""))


def _time(text: str):
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


class WechatAdapter(ChannelAdapter):
    channel = "WECHAT"
    ack = Ack(204, b"")
    rate_limited_codes = frozenset({"FREQUENCY_LIMITED"})

    def _call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        headers = {"Authorization": authorization(method, path, body, secret=self.secret),
                   "Accept": "application/json", "Wechatpay-Serial": SERIAL}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        status, _, raw = self._http(method, path, body=body if payload is not None else None, headers=headers)
        return status, self._json(raw)

    def submit(self, order: PayoutRequest, idempotency_key: str) -> SubmitResult:
        payload = {"appid": APP_ID, "out_bill_no": idempotency_key, "transfer_scene_id": SCENE_ID,
                   "openid": order.payee_account, "user_name": order.payee_name, "transfer_amount": order.amount_fen,
                   "transfer_remark": (order.remark or "劳务报酬")[:32], "notify_url": self.notify_url,
                   "transfer_scene_report_infos": [{"info_type": "岗位类型", "info_content": "灵活用工"},
                                                   {"info_type": "报酬说明", "info_content": "劳务报酬"}]}
        try:
            status, answer = self._call("POST", TRANSFER_PATH, payload)
        except ChannelTimeout:
            return SubmitResult(Outcome.UNKNOWN, fail_message="微信支付接口超时")
        if status >= 500 or status == 0:
            return SubmitResult(Outcome.UNKNOWN, fail_code=answer.get("code", str(status)), fail_message="微信支付系统繁忙，结果未知")
        if status in (401, 403, 429) or answer.get("code") in ("INVALID_REQUEST", "FREQUENCY_LIMITED", "SIGN_ERROR"):
            return SubmitResult(Outcome.REJECTED, fail_code=answer.get("code", ""), fail_message=answer.get("message", ""))
        if status >= 400:
            return SubmitResult(Outcome.FAILED, fail_code=answer.get("code", str(status)),
                                fail_message=answer.get("message", ""))
        state = STATUS.get(answer.get("state", ""), QueryStatus.PROCESSING)
        outcome = {QueryStatus.SUCCEEDED: Outcome.SUCCEEDED, QueryStatus.FAILED: Outcome.FAILED}.get(
            state, Outcome.ACCEPTED)
        return SubmitResult(outcome, channel_order_id=answer.get("transfer_bill_no", ""),
                            fail_code=answer.get("fail_reason", ""), raw_status=answer.get("state", ""))

    def query(self, idempotency_key: str) -> QueryResult:
        try:
            status, answer = self._call("GET", f"{TRANSFER_PATH}/out-bill-no/{idempotency_key}")
        except ChannelTimeout:
            return QueryResult(QueryStatus.UNKNOWN)
        if status == 404 or answer.get("code") == "NOT_FOUND":
            return QueryResult(QueryStatus.NOT_FOUND)
        if status != 200:
            return QueryResult(QueryStatus.UNKNOWN, fail_code=answer.get("code", ""))
        return QueryResult(STATUS.get(answer.get("state", ""), QueryStatus.UNKNOWN),
                           channel_order_id=answer.get("transfer_bill_no", ""),
                           amount_fen=answer.get("transfer_amount"), fail_code=answer.get("fail_reason", ""),
                           fail_message=answer.get("fail_reason", ""), finished_at=_time(answer.get("update_time", "")))

    def parse_notification(self, *, headers, body: bytes) -> Notification:
        lower = {k.lower(): v for k, v in headers.items()}
        signature = lower.get("wechatpay-signature", "")
        if signature.startswith("WECHATPAY/SIGNTEST/"):
            raise InvalidSignature("微信支付签名探测请求，已拒绝")
        timestamp, nonce = lower.get("wechatpay-timestamp", ""), lower.get("wechatpay-nonce", "")
        if not signing.timestamp_fresh(timestamp):
            raise InvalidSignature("微信支付通知时间戳超出 300 秒，已拒绝")
        if lower.get("wechatpay-serial") != SERIAL:
            raise InvalidSignature("未知的微信支付公钥 ID，已拒绝")
        if not signing.verify(self.channel, signing.header_message(timestamp, nonce, body), signature,
                              secret=self.secret):
            raise InvalidSignature("微信支付通知验签失败，已拒绝")
        data = self._json(body)
        try:
            resource = decrypt_resource(data["resource"], secret=self.secret)
        except Exception:  # noqa: BLE001 - any decryption failure is a forged or corrupted notice
            raise InvalidSignature("微信支付通知解密失败，已拒绝") from None
        return Notification(channel=self.channel, notify_id=data.get("id", ""),
                            idempotency_key=resource.get("out_bill_no", ""),
                            status=STATUS.get(resource.get("state", ""), QueryStatus.UNKNOWN),
                            amount_fen=int(resource.get("transfer_amount", 0)),
                            channel_order_id=resource.get("transfer_bill_no", ""),
                            fail_code=resource.get("fail_reason", ""), fail_message=resource.get("fail_reason", ""),
                            occurred_at=_time(resource.get("update_time", "")))

    def fetch_statement(self, *, date: dt.date, kind: str = "payouts") -> bytes:
        """The fund-flow bill (资金账单) of ``date``: backtick-prefixed CSV with a summary trailer, SHA1-checked."""
        import hashlib

        status, answer = self._call("GET", f"/v3/bill/fundflowbill?bill_date={date.isoformat()}")
        url = answer.get("download_url", "")
        if status != 200 or not url:
            raise ChannelTimeout(f"bill url not returned (HTTP {status}, {answer.get('code', '')})")
        path = re.sub(r"^https?://[^/]+", "", url)
        code, _, raw = self._http("GET", path, headers={"Authorization": authorization("GET", path, b"",
                                                                                       secret=self.secret)})
        if code != 200:
            raise ChannelTimeout(f"bill download failed with HTTP {code}")
        if answer.get("hash_value") and hashlib.sha1(raw).hexdigest() != answer["hash_value"]:
            raise ChannelTimeout("bill hash does not match; download again")
        return raw
