"""电子回单: one signed PDF per successful payment (payer, payee masked, amounts, channel serial, verification code).

Rendered outside any row lock (a job after the success commits, or on first download); sealed with the platform's
digital signature (``core.signing.sign_pdf``); stored once per order (``PayoutReceipt``), so a second request
returns the same file.
"""

from __future__ import annotations

import secrets

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from core import audit
from core.documents import render_pdf
from core.money import format_yuan
from core.signing import sign_pdf
from payouts.exceptions_orders import OrderStateInvalid
from payouts.models import PayoutOrder, PayoutReceipt

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CHANNEL_LABEL = {"BANK": "银行卡（银企直联代发）", "ALIPAY": "支付宝转账", "WECHAT": "微信商家转账"}


def _render(order: PayoutOrder, code: str, now) -> tuple[bytes, str]:
    document = render_pdf("payouts/orders/receipt.html", {
        "order": order, "code": code, "issued_at": now, "merchant_name": order.merchant.name,
        "channel_label": CHANNEL_LABEL.get(order.channel, order.channel),
        "amounts": {"payee": format_yuan(order.payee_fen), "gross": format_yuan(order.gross_fen),
                    "tax": format_yuan(order.tax_fen), "fee": format_yuan(order.fee_fen)},
    })
    signed = sign_pdf(document.content, reason=f"电子回单 {order.order_no}")
    return signed.content, signed.sha256


def payout_receipt_issue(*, order: PayoutOrder, now) -> PayoutReceipt:
    """The order's receipt, made on first use. Raises OrderStateInvalid when the payment has not succeeded, or was
    returned (退票) after it succeeded: a receipt issued before then is void and no longer handed out."""
    if order.status == PayoutOrder.Status.RETURNED:
        raise OrderStateInvalid(gettext("该笔付款已退票，电子回单已作废；退回的款项见资金流水"))
    existing = PayoutReceipt.objects.filter(order=order).first()
    if existing is not None:
        return existing
    if order.status != PayoutOrder.Status.SUCCEEDED:
        raise OrderStateInvalid(gettext("付款成功后才能开具电子回单"))
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    content, sha256 = _render(order, code, now)
    receipt = PayoutReceipt(merchant_id=order.merchant_id, order=order, code=code, sha256=sha256, issued_at=now)
    receipt.file.save(f"{order.order_no}.pdf", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            receipt.save(force_insert=True)
            audit.record(event="payouts.receipt.issued", now=now, subject=receipt,
                         after={"order_no": order.order_no, "code": code, "sha256": sha256})
    except IntegrityError:  # issued concurrently by another request: keep theirs
        return PayoutReceipt.objects.get(order=order)
    return receipt


def payout_receipts_issue(*, order_ids, now) -> list[PayoutReceipt]:
    orders = PayoutOrder.objects.filter(pk__in=list(order_ids), status=PayoutOrder.Status.SUCCEEDED).select_related(
        "merchant").order_by("id")
    return [payout_receipt_issue(order=order, now=now) for order in orders]
