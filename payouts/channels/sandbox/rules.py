"""The sandbox's deterministic scenarios: what happens to a payout is decided by its test data.

Checked in this order (first match wins); ``cents`` = the amount's last two digits in fen (``12.21`` yuan → 21):

| trigger | scenario | what the channel does |
|---|---|---|
| payee name contains ``姓名不符``, or cents 21 | NAME_MISMATCH | fails: name does not match the account |
| payee account ends in ``0000``, or cents 22 | ACCOUNT_CLOSED | fails: account closed / does not exist |
| amount above the channel's single limit, or cents 23 | OVER_LIMIT | fails: over the single-payment limit |
| cents 13 | TIMEOUT | the order is taken and succeeds, but the answer comes after ``slow_seconds`` (client times out) |
| cents 14 | ERROR_FIRST | first attempt: system error, no order created (query → not found); a resend with the same key works |
| cents 15 | LATE | succeeds only after ``late_seconds`` (query says processing until then) |
| cents 16 | DUPLICATE_NOTIFY | succeeds; the notification is delivered twice |
| cents 17 | OUT_OF_ORDER | succeeds; a stale "processing" notification arrives after the final one |
| cents 18 | RETURNED_LATER | succeeds, then is returned (退票/REFUND) after ``return_seconds`` |
| anything else | OK | succeeds after ``settle_seconds`` |

Alipay answers success and its business failures synchronously (as the real gateway does for transfers to an
Alipay account); the bank and WeChat accept the order and report the result asynchronously.
"""

from __future__ import annotations

OK = "OK"
NAME_MISMATCH = "NAME_MISMATCH"
ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
OVER_LIMIT = "OVER_LIMIT"
TIMEOUT = "TIMEOUT"
ERROR_FIRST = "ERROR_FIRST"
LATE = "LATE"
DUPLICATE_NOTIFY = "DUPLICATE_NOTIFY"
OUT_OF_ORDER = "OUT_OF_ORDER"
RETURNED_LATER = "RETURNED_LATER"
FAILURES = (NAME_MISMATCH, ACCOUNT_CLOSED, OVER_LIMIT)

# Single-payment limits in fen (channels.md: Alipay 个人单笔 ≤ 5 万; WeChat and the bank by contract).
SINGLE_LIMIT_FEN = {"BANK": 5_000_000_00, "ALIPAY": 50_000_00, "WECHAT": 20_000_00}

FAIL_CODES = {
    "BANK": {
        NAME_MISMATCH: ("RJ02", "账号、户名不符"),
        ACCOUNT_CLOSED: ("RJ01", "账号不存在或已销户"),
        OVER_LIMIT: ("RJ05", "超过单笔限额"),
    },
    "ALIPAY": {
        NAME_MISMATCH: ("PAYEE_USER_INFO_ERROR", "支付宝账号和姓名不匹配，请确认姓名是否正确"),
        ACCOUNT_CLOSED: ("PAYEE_ACCOUNT_STATUS_ERROR", "收款方账号状态异常（已注销或冻结）"),
        OVER_LIMIT: ("EXCEED_LIMIT_PERSONAL_SM_AMOUNT", "转账给个人支付宝账户单笔最多 5 万元"),
    },
    "WECHAT": {
        NAME_MISMATCH: ("NAME_NOT_CORRECT", "收款用户姓名校验不通过"),
        ACCOUNT_CLOSED: ("ACCOUNT_NOT_EXIST", "收款用户账户不存在或已注销"),
        OVER_LIMIT: ("TRANSFER_QUOTA_EXCEED", "超过用户单笔收款额度"),
    },
}
RETURN_CODES = {"BANK": ("RT01", "收款行退票：账户状态异常"), "ALIPAY": ("REFUND", "收款方银行退票"),
                "WECHAT": ("REFUND", "转账退回")}


def scenario(*, channel: str, amount_fen: int, payee_account: str, payee_name: str) -> str:
    cents = amount_fen % 100
    if "姓名不符" in (payee_name or "") or cents == 21:
        return NAME_MISMATCH
    if (payee_account or "").endswith("0000") or cents == 22:
        return ACCOUNT_CLOSED
    if amount_fen > SINGLE_LIMIT_FEN.get(channel, 10**15) or cents == 23:
        return OVER_LIMIT
    return {13: TIMEOUT, 14: ERROR_FIRST, 15: LATE, 16: DUPLICATE_NOTIFY, 17: OUT_OF_ORDER,
            18: RETURNED_LATER}.get(cents, OK)
