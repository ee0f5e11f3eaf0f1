"""企业付款: single payout orders (portal and API) — create, quote, confirm, cancel.

Lock order (STYLE.md): merchant → batch → order → payable work → ledger account → tax account → the audit log's
lock, each by pk. (The audit log holds one lock to the end of the transaction, so it comes last everywhere.)
Confirmation of a single order withholds the tax and freezes the funds in one transaction: if the balance does not
cover it, nothing at all is written (the tax withholding rolls back with it). A batch's orders are withheld at
disbursement instead (``payouts.services.batches.batch_orders_withhold``). Dispatch to the channel runs after commit
(``payouts.services.dispatch``).
"""

from __future__ import annotations

import secrets
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.jobs import enqueue_on_commit
from core.pii import mask_name
from ledger.locks import accounts_for_update
from ledger.models import AccountKind
from ledger.selectors import merchant_account
from ledger.services import EntrySpec, entries_post
from members.models import PayoutAccount
from members.selectors import worker_eligibility
from merchants.selectors import merchant_configuration
from payouts.exceptions_orders import (
    ChannelNotEnabled,
    MerchantOrderNoTaken,
    OrderInvalid,
    OrderNotFound,
    OrderStateInvalid,
    RiskRejected,
)
from payouts.models import PayoutOrder
from payouts.services import pricing
from risk.payments import PaymentToCheck, check_payments
from tasks.bulk import payable_work_release_many, payable_work_reserve_many
from tasks.models import PayableWork
from tasks.selectors import payable_work_get
from tax.bulk import PaymentItem, tax_withhold_many

CHANNELS = ("BANK", "ALIPAY", "WECHAT")
FREEZE_KIND = "payout.freeze"
CHANNEL_LABEL = {"BANK": gettext_lazy("银行卡"), "ALIPAY": gettext_lazy("支付宝"), "WECHAT": gettext_lazy("微信")}


def new_key() -> str:
    """The channel idempotency key (out_biz_no / out_bill_no / yurRef): 32 letters and digits, made once per order."""
    return uuid.uuid4().hex


def new_single_order_no(now) -> str:
    return f"S{timezone.localtime(now):%y%m%d%H%M%S}{secrets.token_hex(4).upper()}"


def enabled_channels(config) -> list[str]:
    return [c for c in (config.enabled_channels or CHANNELS) if c in CHANNELS]


def check_channel(config, channel: str) -> str:
    channel = (channel or "").upper()
    if channel not in enabled_channels(config):
        raise ChannelNotEnabled(_("付款通道“{channel}”未开通；可用通道：{enabled}").format(
            channel=channel or _("未选择"), enabled="、".join(enabled_channels(config))), extra={"field": "channel"})
    return channel


def account_for(member, channel: str, account_number: str | None = None) -> PayoutAccount | None:
    """The worker's active payout account for ``channel``: the one with this number, else the default, else any."""
    from core.pii import blind_index

    rows = PayoutAccount.objects.filter(member=member, kind=channel, status=PayoutAccount.Status.ACTIVE)
    if account_number:
        return rows.filter(account_index=blind_index(account_number, purpose="payout_account")).order_by("id").first()
    return rows.order_by("-is_default", "id").first()


# --- single order --------------------------------------------------------------------------------------------


@transaction.atomic
def payout_order_create(*, merchant, actor, payable_id: int, amount_fen: int | None, merchant_order_no: str = "",
                        channel: str, account_number: str | None = None, remark: str = "",
                        source: str = PayoutOrder.Source.PORTAL, now) -> PayoutOrder:
    """A payout order for one piece of accepted work (待确认, priced). The work is held for it until it is paid,
    failed or cancelled. ``amount_fen`` defaults to the accepted amount and may not exceed it.

    Raises PayableNotFound, OrderInvalid, ChannelNotEnabled, RiskRejected, MerchantOrderNoTaken, TaxAmountInvalid.
    """
    config = merchant_configuration(merchant=merchant)
    channel = check_channel(config, channel)
    payable = payable_work_get(merchant=merchant, payable_id=payable_id)
    if payable.status != PayableWork.Status.READY:
        raise OrderInvalid(_("该工作当前为“{status}”，不能再次付款").format(status=payable.get_status_display()),
                           extra={"field": "payable_id"})
    amount_fen = payable.amount_fen if amount_fen is None else amount_fen
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise OrderInvalid(_("付款金额必须大于 0"), extra={"field": "amount"})
    if amount_fen > payable.amount_fen:
        raise OrderInvalid(_("付款金额不能超过验收金额 {amount} 元").format(amount=f"{payable.amount_fen / 100:.2f}"),
                           extra={"field": "amount"})
    member = payable.member
    eligibility = worker_eligibility(member=member, merchant=merchant)
    if not eligibility.ok:
        raise OrderInvalid(_("该灵工人员不能收款：{reasons}").format(
            reasons="；".join(str(m["message"]) for m in eligibility.missing)),
                           extra={"field": "member", "missing": eligibility.missing})
    account = account_for(member, channel, account_number)
    if account is None:
        message = (_("该灵工人员没有可用的{channel}收款账户，或账号不属于本人") if account_number
                   else _("该灵工人员没有可用的{channel}收款账户，请提醒其在“收款账户”中添加"))
        raise OrderInvalid(message.format(channel=CHANNEL_LABEL[channel]), extra={"field": "account"})
    priced = pricing.price_lines(config=config, lines=[(member, amount_fen)], liability_date=timezone.localdate(now),
                                 now=now, month_volume_before=pricing.month_volume_before_fen(merchant=merchant,
                                                                                               now=now))[0]
    if not isinstance(priced, pricing.Priced):
        raise OrderInvalid(str(priced), extra={"field": "amount"})
    decision = check_payments(
        config=config,
        payments=[PaymentToCheck(key=0, member_id=member.pk, id_number_index=member.id_number_index or "",
                                 amount_fen=priced.gross_fen)],
        month_paid_by_member=pricing.worker_month_paid(merchant=merchant, member_ids=[member.pk], now=now),
        day_paid_fen=pricing.day_paid_fen(merchant=merchant, now=now))[0]
    if decision.rejected:
        raise RiskRejected(decision.summary(), extra={"reasons": decision.reasons_as_dicts()})
    order_no = new_single_order_no(now)
    order = PayoutOrder(merchant=merchant, source=source, merchant_order_no=(merchant_order_no or order_no).strip(),
                        order_no=order_no, idempotency_key=new_key(), member=member, payout_account=account,
                        payable=payable, channel=channel, payee_name_masked=mask_name(member.name),
                        account_masked=account.account_masked, remark=remark[:100], **priced.order_fields())
    if len(order.merchant_order_no) > 64:
        raise OrderInvalid(_("企业订单号最长 64 个字符"), extra={"field": "merchant_order_no"})
    try:
        with transaction.atomic():
            order.save(force_insert=True)
    except IntegrityError:
        raise MerchantOrderNoTaken(_("企业订单号 {merchant_order_no} 已使用；每笔付款请使用新的订单号").format(
            merchant_order_no=order.merchant_order_no),
                                   extra={"merchant_order_no": order.merchant_order_no}) from None
    payable_work_reserve_many(merchant=merchant, payable_ids=[payable.pk], ref=order.order_no, now=now)
    audit.record(event="payouts.order.created", now=now, actor=actor, subject=order,
                 after={"order_no": order.order_no, "amount_fen": amount_fen, "gross_fen": order.gross_fen,
                        "fee_fen": order.fee_fen, "channel": channel})
    return order


def _order_for_update(*, merchant, order_id: int) -> PayoutOrder:
    try:
        return PayoutOrder.objects.for_tenant(merchant).select_for_update().get(pk=order_id)
    except (PayoutOrder.DoesNotExist, ValueError, TypeError):
        raise OrderNotFound(_("未找到该付款订单")) from None


def apply_withholding(order: PayoutOrder, row) -> None:
    """Take the withheld figures as the order's (the quote was an estimate if the worker was paid in between)."""
    if row.gross_fen == order.gross_fen and row.net_fen == order.net_fen:
        return
    surcharge = row.urban_fen + row.education_fen + row.local_education_fen
    fee_by_worker = order.fee_fen if order.fee_bearer == "WORKER" else 0
    order.gross_fen, order.iit_fen, order.vat_fen, order.surcharge_fen = row.gross_fen, row.iit_fen, row.vat_fen, surcharge
    order.tax_fen = row.iit_fen + row.vat_fen + surcharge
    order.net_fen = row.net_fen
    order.payee_fen = row.net_fen - fee_by_worker
    order.freeze_fen = row.gross_fen + (order.fee_fen if order.fee_bearer == "MERCHANT" and order.fee_timing == "BEFORE"
                                        else 0)
    order.tax_lines = pricing.split_tax_lines(row.lines)
    if order.payee_fen <= 0:
        raise OrderInvalid(str(pricing.NOTHING_LEFT), extra={"order_no": order.order_no})


@transaction.atomic(durable=True)
def payout_order_confirm(*, merchant, order_id: int, actor, now) -> PayoutOrder:
    """Confirm a single order: withhold its tax and freeze ``freeze_fen`` on the balance, then dispatch on commit.

    The caller has already checked the SMS code (``payout_order_confirm_with_sms``) or the partner signature (API).
    Raises OrderNotFound, OrderStateInvalid, InsufficientBalance (nothing written), PeriodLocked.
    """
    order = _order_for_update(merchant=merchant, order_id=order_id)
    if order.status != PayoutOrder.Status.DRAFT:
        raise OrderStateInvalid(_("订单状态为“{status}”，不能确认").format(status=order.get_status_display()))
    if order.batch_id:
        raise OrderStateInvalid(_("批次中的订单请在批次页面整体确认"))
    available = merchant_account(merchant=merchant, kind=AccountKind.MERCHANT_AVAILABLE)
    frozen = merchant_account(merchant=merchant, kind=AccountKind.MERCHANT_FROZEN)
    # Ledger accounts before anything that audits: the audit log's lock is held to the end of the transaction,
    # and settlement takes ledger accounts first too, so both orders agree (no deadlock).
    accounts_for_update([available.pk, frozen.pk])
    liability_date = timezone.localdate(now)
    bearer = order.tax_bearer
    row = tax_withhold_many(merchant=merchant, items=[PaymentItem(
        member=order.member, payment_ref=order.order_no, gross_fen=order.amount_fen if bearer == "WORKER" else None,
        net_fen=order.amount_fen if bearer == "MERCHANT" else None)], bearer=bearer, liability_date=liability_date,
        now=now, actor=actor)[0]
    apply_withholding(order, row)
    entries_post(entries=[EntrySpec(kind=FREEZE_KIND, ref=order, merchant=merchant, memo=f"付款冻结 {order.order_no}",
                                    lines=[(available, order.freeze_fen), (frozen, -order.freeze_fen)])], now=now)
    order.confirm(at=now)
    order.withheld_at = now
    order.save()
    audit.record(event="payouts.order.confirmed", now=now, actor=actor, subject=order,
                 after={"order_no": order.order_no, "freeze_fen": order.freeze_fen, "tax_fen": order.tax_fen})
    from payouts.jobs_orders import payout_orders_dispatch_job

    enqueue_on_commit(payout_orders_dispatch_job, order_ids=[order.pk])
    return order


def payout_order_confirm_with_sms(*, merchant, order_id: int, actor, sms_code: str, now) -> PayoutOrder:
    """Portal confirmation: an authorised user's SMS code (purpose PAYMENT), then ``payout_order_confirm``."""
    verify_payment_sms(actor=actor, sms_code=sms_code, now=now)
    return payout_order_confirm(merchant=merchant, order_id=order_id, actor=actor, now=now)


def verify_payment_sms(*, actor, sms_code: str, now) -> None:
    from accounts.models import SmsCode
    from accounts.permissions import require_capability
    from accounts.services import sms_code_verify

    require_capability(actor, "confirm_payments")
    if not actor.phone:
        raise OrderInvalid(_("您的账号未绑定手机号，不能接收付款验证码；请管理员为您绑定后再确认"), extra={"field": "sms_code"})
    sms_code_verify(phone=actor.phone, purpose=SmsCode.Purpose.PAYMENT, code=sms_code, now=now)


def payment_sms_send(*, actor, now, ip: str = ""):
    from accounts.models import SmsCode
    from accounts.permissions import require_capability
    from accounts.services import sms_code_send

    require_capability(actor, "confirm_payments")
    if not actor.phone:
        raise OrderInvalid(_("您的账号未绑定手机号，不能接收付款验证码"), extra={"field": "sms_code"})
    return sms_code_send(phone=actor.phone, purpose=SmsCode.Purpose.PAYMENT, now=now, ip=ip)


@transaction.atomic
def payout_order_cancel(*, merchant, order_id: int, actor, now) -> PayoutOrder:
    """Cancel an order not yet confirmed; its work is free to be paid again. Raises OrderNotFound, OrderStateInvalid."""
    order = _order_for_update(merchant=merchant, order_id=order_id)
    if order.status != PayoutOrder.Status.DRAFT or order.batch_id:
        message = (_("订单状态为“{status}”，不能取消；批次中的订单请取消整个批次") if order.batch_id
                   else _("订单状态为“{status}”，不能取消"))
        raise OrderStateInvalid(message.format(status=order.get_status_display()))
    order.cancel(at=now)
    order.save()
    if order.payable_id:
        payable_work_release_many(merchant=merchant, payable_ids=[order.payable_id], ref=order.order_no, now=now)
    audit.record(event="payouts.order.cancelled", now=now, actor=actor, subject=order, after={"status": order.status})
    return order
